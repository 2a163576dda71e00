/* alarm-rollout's output: one rollout record per sample (alarm-formats(5)
 * section 2), the prompt record's fields first with its id made
 * "PROMPT_ID#SAMPLE", then the fields rollout adds; the same columns go to
 * the store's rollouts table. */
#include <stdlib.h>
#include <string.h>

#include "rollout_cli.h"

/* A JSON string of n bytes of UTF-8, NUL bytes included (a model can emit
 * the byte token 0x00, which a C string would end at). */
static void put_json_bytes(FILE *f, const char *s, size_t n)
{
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", f);
        else if (c == '\t')
            fputs("\\t", f);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

/* The JSON arrays of one rollout, each a string of its own. */
typedef struct {
    char *text[4];
    size_t len[4];
} arrays;

static int make_arrays(arrays *A, const prompt_rec *p, const rollout_out *o,
                       const rollout_text *rt)
{
    FILE *f[4];
    for (int k = 0; k < 4; k++)
        if (!(f[k] = open_memstream(&A->text[k], &A->len[k])))
            return -1;
    fputc('[', f[0]);
    for (int i = 0; i < p->np; i++)
        fprintf(f[0], i ? ",%d" : "%d", (int)p->ptok[i]);
    fputc('[', f[1]);
    for (int i = 0; i < o->n; i++)
        fprintf(f[1], i ? ",%d" : "%d", (int)o->tokens[i]);
    fputc('[', f[2]);
    for (int i = 0; i < o->n; i++)
        fprintf(f[2], i ? ",[%zu,%zu]" : "[%zu,%zu]", rt->offs[2 * i], rt->offs[2 * i + 1]);
    fputc('[', f[3]);
    for (int i = 0; i < o->n; i++)
        fprintf(f[3], i ? ",%.9g" : "%.9g", o->logprobs[i]);
    int ok = 1;
    for (int k = 0; k < 4; k++) {
        fputc(']', f[k]);
        ok &= fclose(f[k]) == 0;
    }
    return ok ? 0 : -1;
}

static char *json_string(const char *s)
{
    cJSON *j = cJSON_CreateString(s);
    char *t = j ? cJSON_PrintUnformatted(j) : NULL;
    cJSON_Delete(j);
    return t;
}

static void put_record(FILE *f, const char *head, const sampling *R, const prompt_rec *p,
                       const rollout_out *o, const arrays *A)
{
    char *pid = json_string(p->id), *policy = json_string(R->a->model);
    fputs(head, f);
    fprintf(f, ",\"prompt_id\":%s,\"sample\":%d,\"response\":", pid ? pid : "\"\"", o->sample);
    put_json_bytes(f, R->rt.text, R->rt.len);
    fprintf(f, ",\"prompt_tokens\":%s,\"response_tokens\":%s,\"offsets\":%s,\"logprobs\":%s",
            A->text[0], A->text[1], A->text[2], A->text[3]);
    fprintf(f, ",\"finish\":\"%s\",\"policy\":%s,\"seed\":%llu}\n",
            o->finish == ROLLOUT_EOS ? "eos" : "length", policy ? policy : "\"\"",
            (unsigned long long)R->t->seed);
    free(pid);
    free(policy);
}

static int write_record(sampling *R, prompt_rec *p, const rollout_out *o, alarm_err *e)
{
    if (rollout_text_make(&R->rt, R->tok, o->tokens, o->n, o->finish == ROLLOUT_EOS, e) < 0)
        return err_prefix(e, "prompt \"%s\" sample %d", p->id, o->sample);
    char id[4096];
    snprintf(id, sizeof id, "%s#%d", p->id, o->sample);
    cJSON_ReplaceItemInObjectCaseSensitive(p->rec, "id", cJSON_CreateString(id));
    arrays A;
    memset(&A, 0, sizeof A);
    char *head = cJSON_PrintUnformatted(p->rec);
    int rc = head && make_arrays(&A, p, o, &R->rt) == 0 ? 0 : err_set(e, "out of memory");
    if (rc == 0) {
        head[strlen(head) - 1] = 0; /* the record's closing brace; it has "id" and "prompt" */
        put_record(stdout, head, R, p, o, &A);
        rollout_cols c = {R->rt.text, R->rt.len, A.text[0], A.text[1], A.text[2], A.text[3],
                          R->a->model, (unsigned long long)R->t->seed};
        rc = rstore_rollout(&R->store, p, id, o, &c, e);
    }
    for (int k = 0; k < 4; k++)
        free(A.text[k]);
    free(head);
    if (rc == 0 && ferror(stdout))
        rc = err_set(e, "error writing standard output");
    return rc;
}

void rollout_drop(void *run, void *tag)
{
    (void)run;
    prompt_rec *p = tag;
    if (--p->left == 0) {
        cJSON_Delete(p->rec);
        free(p->id);
        free(p->ptok);
        free(p);
    }
}

int rollout_write(void *run, const rollout_out *o, alarm_err *e)
{
    int rc = write_record(run, o->tag, o, e);
    rollout_drop(run, o->tag);
    return rc;
}
