/* alarm-rollout's output: one rollout record per sample (alarm-formats(5)
 * section 2), the prompt record's fields first with its id made
 * "PROMPT_ID#SAMPLE", then the fields rollout adds; the same columns go to
 * the store's rollouts table. */
#include <stdlib.h>
#include <string.h>

#include "record.h"
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

static void put_json_string(FILE *f, const char *s) { put_json_bytes(f, s, strlen(s)); }

/* The prompt record's raw line with "id" replaced where it stands and the
 * rollout's fields last (alarm-formats(5) section 2); every other field of
 * the prompt record as it came. */
static int put_record(FILE *f, const char *id, const sampling *R, const prompt_rec *p,
                      const rollout_out *o, const arrays *A, alarm_err *e)
{
    static const char *const keys[] = {"id", "prompt_id", "sample", "response", "prompt_tokens",
                                       "response_tokens", "offsets", "logprobs", "finish",
                                       "policy", "seed"};
    enum { NF = sizeof keys / sizeof *keys };
    char *text = NULL;
    size_t n = 0;
    long at[NF + 1];
    FILE *m = open_memstream(&text, &n);
    if (!m)
        return err_set(e, "out of memory");
    at[0] = ftell(m), put_json_string(m, id);
    at[1] = ftell(m), put_json_string(m, p->id);
    at[2] = ftell(m), fprintf(m, "%d", o->sample);
    at[3] = ftell(m), put_json_bytes(m, R->rt.text, R->rt.len);
    for (int k = 0; k < 4; k++)
        at[4 + k] = ftell(m), fputs(A->text[k], m);
    at[8] = ftell(m), fputs(o->finish == ROLLOUT_EOS ? "\"eos\"" : "\"length\"", m);
    at[9] = ftell(m), put_json_string(m, R->a->model);
    at[10] = ftell(m), fprintf(m, "%llu", (unsigned long long)R->t->seed);
    if (fclose(m) != 0) {
        free(text);
        return err_set(e, "out of memory");
    }
    at[NF] = (long)n;
    record_field fl[NF];
    for (int k = 0; k < NF; k++)
        fl[k] = (record_field){keys[k], text + at[k], (size_t)(at[k + 1] - at[k]), k > 0};
    int rc = record_splice(f, p->line, p->len, fl, NF, e);
    free(text);
    return rc == 0 && putc('\n', f) == EOF ? err_set(e, "error writing standard output") : rc;
}

static int write_record(sampling *R, prompt_rec *p, const rollout_out *o, alarm_err *e)
{
    if (rollout_text_make(&R->rt, R->tok, o->tokens, o->n, o->finish == ROLLOUT_EOS, e) < 0)
        return err_prefix(e, "prompt \"%s\" sample %d", p->id, o->sample);
    char id[4096];
    snprintf(id, sizeof id, "%s#%d", p->id, o->sample);
    arrays A;
    memset(&A, 0, sizeof A);
    int rc = make_arrays(&A, p, o, &R->rt) == 0 ? 0 : err_set(e, "out of memory");
    if (rc == 0)
        rc = put_record(stdout, id, R, p, o, &A, e);
    if (rc == 0) {
        rollout_cols c = {R->rt.text, R->rt.len, A.text[0], A.text[1], A.text[2], A.text[3],
                          R->a->model, (unsigned long long)R->t->seed};
        rc = rstore_rollout(&R->store, p, id, o, &c, e);
    }
    for (int k = 0; k < 4; k++)
        free(A.text[k]);
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
        free(p->line);
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
