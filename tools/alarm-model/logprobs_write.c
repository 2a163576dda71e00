/* alarm-model logprobs' output: each record as it came with the four
 * fields of a rollout record (alarm-formats(5) section 2) spliced in. */
#include <stdlib.h>

#include "logprobs.h"
#include "record.h"

static void put_fields(FILE *out, const item *it, long at[4])
{
    const seq *s = &it->s;
    at[0] = ftell(out);
    putc('[', out);
    for (int i = 0; i < s->np; i++)
        fprintf(out, i ? ",%d" : "%d", (int)s->ids[i]);
    fputs("]", out);
    at[1] = ftell(out);
    putc('[', out);
    for (int i = 0; i < s->nr; i++)
        fprintf(out, i ? ",%d" : "%d", (int)s->ids[s->np + i]);
    fputs("]", out);
    at[2] = ftell(out);
    putc('[', out);
    for (int i = 0; i < s->nr; i++)
        fprintf(out, i ? ",[%zu,%zu]" : "[%zu,%zu]", s->offs[2 * i], s->offs[2 * i + 1]);
    fputs("]", out);
    at[3] = ftell(out);
    putc('[', out);
    for (int i = 0; i < s->nr; i++)
        fprintf(out, i ? ",%.9g" : "%.9g", it->lp[i]);
    fputc(']', out);
}

int logprobs_write(FILE *out, const item *it, alarm_err *e)
{
    static const char *const keys[] = {"prompt_tokens", "response_tokens", "offsets", "logprobs"};
    char *text = NULL;
    size_t n = 0;
    long at[5];
    FILE *m = open_memstream(&text, &n);
    if (!m)
        return err_set(e, "out of memory");
    put_fields(m, it, at);
    if (fclose(m) != 0) {
        free(text);
        return err_set(e, "out of memory");
    }
    at[4] = (long)n;
    record_field f[4];
    for (int k = 0; k < 4; k++)
        f[k] = (record_field){keys[k], text + at[k], (size_t)(at[k + 1] - at[k]), 1};
    int rc = record_splice(out, it->line, it->len, f, 4, e);
    free(text);
    if (rc == 0 && putc('\n', out) == EOF)
        rc = err_set(e, "write error");
    return rc < 0 ? err_prefix(e, "%s:%ld", it->file, it->lineno) : 0;
}
