/* tok_records: JSONL lines in, one cJSON object per non-blank line, with the
 * file name and line number in every error (see tok_records.h). */
#include "tok_records.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int tok_reader_open(tok_reader *r, const char *path, alarm_err *e)
{
    memset(r, 0, sizeof *r);
    if (!strcmp(path, "-")) {
        r->fp = stdin;
        r->name = "<stdin>";
        return 0;
    }
    if (!(r->fp = fopen(path, "r")))
        return err_set(e, "%s: %s", path, strerror(errno));
    r->name = path;
    r->own_fp = 1;
    return 0;
}

int tok_reader_next(tok_reader *r, cJSON **rec, alarm_err *e)
{
    *rec = NULL;
    for (;;) {
        ssize_t n = getline(&r->line, &r->cap, r->fp);
        if (n < 0) {
            if (ferror(r->fp))
                return err_set(e, "%s: read error: %s", r->name, strerror(errno));
            return 0;
        }
        r->lineno++;
        while (n > 0 && (r->line[n - 1] == '\n' || r->line[n - 1] == '\r'))
            r->line[--n] = 0;
        r->len = (size_t)n;
        size_t i = 0;
        while (i < r->len && strchr(" \t", r->line[i]))
            i++;
        if (i == r->len)
            continue;
        cJSON *o = cJSON_ParseWithLength(r->line, r->len);
        if (!cJSON_IsObject(o)) {
            cJSON_Delete(o);
            return err_set(e, "%s:%ld: expected a JSON object", r->name, r->lineno);
        }
        *rec = o;
        return 1;
    }
}

void tok_reader_close(tok_reader *r)
{
    if (r->own_fp && r->fp)
        fclose(r->fp);
    free(r->line);
    memset(r, 0, sizeof *r);
}

int tok_string_field(const tok_reader *r, const cJSON *rec, const char *key, int optional,
                     const char **out, alarm_err *e)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(rec, key);
    *out = NULL;
    if (!v && optional)
        return 0;
    if (!v)
        return err_set(e, "%s:%ld: field \"%s\": missing", r->name, r->lineno, key);
    if (!cJSON_IsString(v))
        return err_set(e, "%s:%ld: field \"%s\": expected a string", r->name, r->lineno, key);
    *out = v->valuestring;
    return 1;
}
