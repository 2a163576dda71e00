/* alarm-rollout's output: one rollout record per sample (alarm-formats(5)
 * section 2), the prompt record's fields first with its id made
 * "PROMPT_ID#SAMPLE", then the fields rollout adds. */
#include <stdlib.h>
#include <string.h>

#include "rollout_cli.h"

static void put_json_string(FILE *f, const char *s)
{
    cJSON *j = cJSON_CreateString(s);
    char *t = j ? cJSON_PrintUnformatted(j) : NULL;
    fputs(t ? t : "\"\"", f);
    free(t);
    cJSON_Delete(j);
}

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

static void put_ints(FILE *f, const int32_t *v, int n)
{
    fputc('[', f);
    for (int i = 0; i < n; i++)
        fprintf(f, i ? ",%d" : "%d", (int)v[i]);
    fputc(']', f);
}

static void put_fields(FILE *f, const sampling *R, const prompt_rec *p, const rollout_out *o)
{
    fputs("\"prompt_id\":", f);
    put_json_string(f, p->id);
    fprintf(f, ",\"sample\":%d,\"response\":", o->sample);
    put_json_bytes(f, R->rt.text, R->rt.len);
    fputs(",\"prompt_tokens\":", f);
    put_ints(f, p->ptok, p->np);
    fputs(",\"response_tokens\":", f);
    put_ints(f, o->tokens, o->n);
    fputs(",\"offsets\":[", f);
    for (int i = 0; i < o->n; i++)
        fprintf(f, i ? ",[%zu,%zu]" : "[%zu,%zu]", R->rt.offs[2 * i], R->rt.offs[2 * i + 1]);
    fputs("],\"logprobs\":[", f);
    for (int i = 0; i < o->n; i++)
        fprintf(f, i ? ",%.9g" : "%.9g", o->logprobs[i]);
    fprintf(f, "],\"finish\":\"%s\",\"policy\":", o->finish == ROLLOUT_EOS ? "eos" : "length");
    put_json_string(f, R->a->model);
    fprintf(f, ",\"seed\":%llu", (unsigned long long)R->t->seed);
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

static int write_record(sampling *R, prompt_rec *p, const rollout_out *o, alarm_err *e)
{
    if (rollout_text_make(&R->rt, R->tok, o->tokens, o->n, o->finish == ROLLOUT_EOS, e) < 0)
        return err_prefix(e, "prompt \"%s\" sample %d", p->id, o->sample);
    size_t idlen = strlen(p->id) + 24;
    char *id = malloc(idlen);
    if (!id)
        return err_set(e, "out of memory");
    snprintf(id, idlen, "%s#%d", p->id, o->sample);
    cJSON_ReplaceItemInObjectCaseSensitive(p->rec, "id", cJSON_CreateString(id));
    free(id);
    char *text = cJSON_PrintUnformatted(p->rec);
    if (!text)
        return err_set(e, "out of memory");
    size_t end = strlen(text);
    while (end > 0 && text[end - 1] != '}')
        end--;
    fwrite(text, 1, end - 1, stdout);
    fputc(',', stdout); /* the record has at least "id" and "prompt" */
    put_fields(stdout, R, p, o);
    fputs("}\n", stdout);
    free(text);
    return ferror(stdout) ? err_set(e, "error writing standard output") : 0;
}

int rollout_write(void *run, const rollout_out *o, alarm_err *e)
{
    int rc = write_record(run, o->tag, o, e);
    rollout_drop(run, o->tag);
    return rc;
}
