/* jsonl: JSON Lines reading and writing (see jsonl.h).
 * Lines are read with getline, so a record may be of any length; each line
 * is checked once as it is read (jsonl_check: UTF-8, surrogates, duplicate
 * keys), so the raw-line readers get the same check; parsing is cJSON's,
 * with a check that nothing but whitespace follows the object. */
#include "jsonl.h"
#include "record.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

int jsonl_open(jsonl_reader *r, const char *path, alarm_err *e)
{
    memset(r, 0, sizeof *r);
    if (!strcmp(path, "-")) {
        r->fp = stdin;
        r->name = "<stdin>";
        return 0;
    }
    r->fp = fopen(path, "r");
    if (!r->fp)
        return err_set(e, "%s: %s", path, strerror(errno));
    r->name = path;
    r->own_fp = 1;
    return 0;
}

void jsonl_close(jsonl_reader *r)
{
    if (r->own_fp && r->fp)
        fclose(r->fp);
    free(r->line);
    jsonl_check_free(&r->chk);
    memset(r, 0, sizeof *r);
}

int jsonl_fail(const jsonl_reader *r, alarm_err *e, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return err_set(e, "%s:%ld: %s", r->name, r->lineno, msg);
}

static int is_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
            return 0;
    return 1;
}

int jsonl_next_line(jsonl_reader *r, alarm_err *e)
{
    for (;;) {
        errno = 0;
        ssize_t n = getline(&r->line, &r->cap, r->fp);
        if (n < 0) {
            if (ferror(r->fp))
                return err_set(e, "%s: read error: %s", r->name, strerror(errno));
            return 0;
        }
        r->lineno++;
        if (n > 0 && r->line[n - 1] == '\n')
            r->line[--n] = '\0';
        r->len = (size_t)n;
        if (is_blank(r->line, r->len))
            continue;
        if (memchr(r->line, '\0', r->len))
            return jsonl_fail(r, e, "NUL byte in line");
        if (jsonl_check(&r->chk, r->line, r->len, e) < 0)
            return err_prefix(e, "%s:%ld", r->name, r->lineno);
        return 1;
    }
}

int jsonl_parse_line(const jsonl_reader *r, cJSON **out, alarm_err *e)
{
    *out = NULL;
    const char *end = NULL;
    cJSON *rec = cJSON_ParseWithLengthOpts(r->line, r->len, &end, 0);
    if (!rec) {
        const char *at = cJSON_GetErrorPtr();
        long col = at && at >= r->line && at <= r->line + r->len ? (long)(at - r->line) + 1 : 0;
        return jsonl_fail(r, e, "malformed JSON near column %ld", col);
    }
    if (!is_blank(end, r->len - (size_t)(end - r->line))) {
        cJSON_Delete(rec);
        return jsonl_fail(r, e, "malformed JSON: text after the record at column %ld",
                          (long)(end - r->line) + 1);
    }
    if (!cJSON_IsObject(rec)) {
        cJSON_Delete(rec);
        return jsonl_fail(r, e, "expected a JSON object");
    }
    *out = rec;
    return 0;
}

int jsonl_next(jsonl_reader *r, cJSON **out, alarm_err *e)
{
    *out = NULL;
    int rc = jsonl_next_line(r, e);
    if (rc <= 0)
        return rc;
    return jsonl_parse_line(r, out, e) < 0 ? -1 : 1;
}

/* Looks up `key`; on a type mismatch reports `field "path.key": expected WHAT`. */
static int field(const jsonl_reader *r, const cJSON *obj, const char *path, const char *key,
                 int required, cJSON_bool (*is)(const cJSON *), const char *what,
                 const cJSON **out, alarm_err *e)
{
    const char *dot = path && *path ? "." : "";
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = NULL;
    if (!v) {
        if (!required)
            return 0;
        return jsonl_fail(r, e, "field \"%s%s%s\": missing", path ? path : "", dot, key);
    }
    if (!is(v) || (is == cJSON_IsNumber && !isfinite(v->valuedouble)))
        return jsonl_fail(r, e, "field \"%s%s%s\": expected %s", path ? path : "", dot, key,
                          what);
    *out = v;
    return 1;
}

int jsonl_req_string(const jsonl_reader *r, const cJSON *obj, const char *path,
                     const char *key, const char **out, alarm_err *e)
{
    const cJSON *v;
    if (field(r, obj, path, key, 1, cJSON_IsString, "a string", &v, e) < 0)
        return -1;
    *out = v->valuestring;
    return 0;
}

int jsonl_opt_string(const jsonl_reader *r, const cJSON *obj, const char *path,
                     const char *key, const char **out, alarm_err *e)
{
    const cJSON *v;
    if (field(r, obj, path, key, 0, cJSON_IsString, "a string", &v, e) < 0)
        return -1;
    *out = v ? v->valuestring : NULL;
    return 0;
}

int jsonl_req_number(const jsonl_reader *r, const cJSON *obj, const char *path,
                     const char *key, double *out, alarm_err *e)
{
    const cJSON *v;
    if (field(r, obj, path, key, 1, cJSON_IsNumber, "a finite number", &v, e) < 0)
        return -1;
    *out = v->valuedouble;
    return 0;
}

int jsonl_opt_number(const jsonl_reader *r, const cJSON *obj, const char *path,
                     const char *key, double *out, alarm_err *e)
{
    const cJSON *v;
    int found = field(r, obj, path, key, 0, cJSON_IsNumber, "a finite number", &v, e);
    if (found == 1)
        *out = v->valuedouble;
    return found;
}

#define TYPED_FIELD(fn, req, test, what)                                                    \
    int fn(const jsonl_reader *r, const cJSON *obj, const char *path, const char *key,      \
           const cJSON **out, alarm_err *e)                                                 \
    {                                                                                       \
        return field(r, obj, path, key, req, test, what, out, e) < 0 ? -1 : 0;              \
    }
TYPED_FIELD(jsonl_req_array, 1, cJSON_IsArray, "an array")
TYPED_FIELD(jsonl_opt_array, 0, cJSON_IsArray, "an array")
TYPED_FIELD(jsonl_req_object, 1, cJSON_IsObject, "an object")
TYPED_FIELD(jsonl_opt_object, 0, cJSON_IsObject, "an object")

static int write_text_line(FILE *out, const char *text, alarm_err *e)
{
    if (fputs(text, out) == EOF || putc('\n', out) == EOF)
        return err_set(e, "write error: %s", strerror(errno));
    return 0;
}

int jsonl_write(FILE *out, const cJSON *rec, alarm_err *e)
{
    char *text = cJSON_PrintUnformatted(rec);
    if (!text)
        return err_set(e, "out of memory printing a record");
    int rc = write_text_line(out, text, e);
    free(text);
    return rc;
}

int jsonl_write_with(FILE *out, const jsonl_reader *r, cJSON *rec, const char *key,
                     const cJSON *value, alarm_err *e)
{
    (void)rec; /* the raw line is what is written */
    char *text = cJSON_PrintUnformatted(value);
    if (!text)
        return err_set(e, "out of memory printing field \"%s\"", key);
    record_field f = {key, text, strlen(text), 0};
    int rc = record_splice(out, r->line, r->len, &f, 1, e);
    free(text);
    if (rc < 0)
        return jsonl_fail(r, e, "%s", e->msg);
    return putc('\n', out) == EOF ? err_set(e, "write error: %s", strerror(errno)) : 0;
}

int jsonl_put_string(FILE *out, const char *s)
{
    if (putc('"', out) == EOF)
        return -1;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        int rc;
        switch (*p) {
        case '"': rc = fputs("\\\"", out); break;
        case '\\': rc = fputs("\\\\", out); break;
        case '\n': rc = fputs("\\n", out); break;
        case '\r': rc = fputs("\\r", out); break;
        case '\t': rc = fputs("\\t", out); break;
        case '\b': rc = fputs("\\b", out); break;
        case '\f': rc = fputs("\\f", out); break;
        default:
            rc = *p < 0x20 ? fprintf(out, "\\u%04x", *p) : putc(*p, out);
        }
        if (rc == EOF || rc < 0)
            return -1;
    }
    return putc('"', out) == EOF ? -1 : 0;
}
