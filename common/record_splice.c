/* record_splice: setting fields in a record's raw text (see record.h). A
 * tool keeps every field it does not own unchanged (alarm-formats(5)), so
 * records are never re-printed: the top-level members are located once
 * (the text was validated by a parse before, so skipping a value only has
 * to track strings and brackets) and written back piece by piece. */
#include "record.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"

typedef struct {
    size_t ks, kn; /* key bytes between the quotes */
    size_t vs, ve; /* value [vs, ve) */
} member;

static size_t skip_ws(const char *s, size_t n, size_t i)
{
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
        i++;
    return i;
}

/* The index after the string whose opening quote is at i. */
static size_t skip_string(const char *s, size_t n, size_t i)
{
    for (i++; i < n; i++) {
        const char *q = memchr(s + i, '"', n - i);
        if (!q)
            return n;
        i = (size_t)(q - s);
        size_t bs = 0;
        while (bs < i && s[i - 1 - bs] == '\\')
            bs++;
        if (bs % 2 == 0)
            return i + 1;
    }
    return n;
}

static size_t skip_value(const char *s, size_t n, size_t i)
{
    if (i < n && s[i] == '"')
        return skip_string(s, n, i);
    if (i < n && (s[i] == '{' || s[i] == '[')) {
        size_t depth = 0;
        while (i < n) {
            char c = s[i];
            if (c == '"') {
                i = skip_string(s, n, i);
                continue;
            }
            if (c == '{' || c == '[')
                depth++;
            else if ((c == '}' || c == ']') && --depth == 0)
                return i + 1;
            i++;
        }
        return n;
    }
    while (i < n && !strchr(",}] \t\r\n", s[i]))
        i++;
    return i;
}

/* The members of the object text s[0, n) and the index of its closing brace. */
static int members(const char *s, size_t n, member **m, size_t *nm, size_t *cap, size_t *close)
{
    size_t i = skip_ws(s, n, 0);
    *nm = 0;
    if (i >= n || s[i] != '{')
        return -1;
    i = skip_ws(s, n, i + 1);
    while (i < n && s[i] != '}') {
        if (s[i] != '"' || grow_array(m, cap, *nm + 1, sizeof **m, 16, NULL) < 0)
            return -1;
        member *x = &(*m)[(*nm)++];
        x->ks = i + 1;
        i = skip_string(s, n, i);
        x->kn = i - 1 - x->ks;
        i = skip_ws(s, n, i);
        if (i >= n || s[i] != ':')
            return -1;
        x->vs = skip_ws(s, n, i + 1);
        x->ve = skip_value(s, n, x->vs);
        i = skip_ws(s, n, x->ve);
        if (i < n && s[i] == ',')
            i = skip_ws(s, n, i + 1);
    }
    if (i >= n)
        return -1;
    *close = i;
    return 0;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : (c | 32) >= 'a' && (c | 32) <= 'f' ? (c | 32) - 'a' + 10 : -1;
}

/* Whether the raw key k[0, kn) decodes to name (escapes decoded; a \u escape
 * is compared as the UTF-8 it stands for, surrogate pairs included). */
static int key_is(const char *k, size_t kn, const char *name)
{
    size_t j = 0, nl = strlen(name);
    for (size_t i = 0; i < kn;) {
        unsigned char out[4];
        size_t no = 1;
        if (k[i] != '\\') {
            out[0] = (unsigned char)k[i++];
        } else if (i + 1 < kn && k[i + 1] != 'u') {
            static const char from[] = "bfnrt", to[] = "\b\f\n\r\t";
            const char *p = strchr(from, k[i + 1]);
            out[0] = p ? (unsigned char)to[p - from] : (unsigned char)k[i + 1];
            i += 2;
        } else {
            unsigned cp = 0;
            for (int d = 0; d < 4; d++)
                cp = cp * 16 + (unsigned)hexval(i + 2 + (size_t)d < kn ? k[i + 2 + d] : 'x');
            i += 6;
            if (cp >= 0xD800 && cp < 0xDC00 && i + 5 < kn) {
                unsigned lo = 0;
                for (int d = 0; d < 4; d++)
                    lo = lo * 16 + (unsigned)hexval(k[i + 2 + d]);
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                i += 6;
            }
            if (cp < 0x80)
                out[0] = (unsigned char)cp;
            else if (cp < 0x800)
                out[0] = (unsigned char)(0xC0 | cp >> 6), out[1] = (unsigned char)(0x80 | (cp & 0x3F)), no = 2;
            else if (cp < 0x10000)
                out[0] = (unsigned char)(0xE0 | cp >> 12), out[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F)),
                out[2] = (unsigned char)(0x80 | (cp & 0x3F)), no = 3;
            else
                out[0] = (unsigned char)(0xF0 | cp >> 18), out[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F)),
                out[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F)), out[3] = (unsigned char)(0x80 | (cp & 0x3F)), no = 4;
        }
        if (j + no > nl || memcmp(name + j, out, no))
            return 0;
        j += no;
    }
    return j == nl;
}

int record_find(const char *obj, size_t n, const char *key, const char **v, size_t *vn)
{
    member *m = NULL;
    size_t nm, cap = 0, close;
    int rc = members(obj, n, &m, &nm, &cap, &close) < 0 ? -1 : 0;
    for (size_t i = 0; rc == 0 && i < nm; i++)
        if (key_is(obj + m[i].ks, m[i].kn, key)) {
            *v = obj + m[i].vs;
            *vn = m[i].ve - m[i].vs;
            rc = 1;
        }
    free(m);
    return rc;
}

/* Which field of f names member x, or -1. */
static long field_of(const char *obj, const member *x, const record_field *f, size_t nf)
{
    for (size_t k = 0; k < nf; k++)
        if (key_is(obj + x->ks, x->kn, f[k].key))
            return (long)k;
    return -1;
}

static int put_key(FILE *out, const char *key)
{
    return jsonl_put_string(out, key) < 0 || putc(':', out) == EOF ? -1 : 0;
}

static int splice(FILE *out, const char *s, const member *m, size_t nm, size_t close,
                  const record_field *f, size_t nf, char *done)
{
    size_t first = nm ? m[0].ks - 1 : close; /* '{' and the blanks after it */
    int any = 0;
    if (fwrite(s, 1, first, out) != first)
        return -1;
    for (size_t i = 0; i < nm; i++) {
        long k = field_of(s, &m[i], f, nf);
        if (k >= 0 && (f[k].at_end || !f[k].json))
            continue; /* removed here (and written at the end when it has a value) */
        /* from the previous member's end: the comma and blanks before this one */
        size_t from = i > 0 ? m[i - 1].ve : 0, to = k >= 0 ? m[i].vs : m[i].ve;
        if (any && fwrite(s + from, 1, m[i].ks - 1 - from, out) != m[i].ks - 1 - from)
            return -1;
        if (fwrite(s + m[i].ks - 1, 1, to - (m[i].ks - 1), out) != to - (m[i].ks - 1))
            return -1;
        if (k >= 0) {
            if (fwrite(f[k].json, 1, f[k].len, out) != f[k].len)
                return -1;
            done[k] = 1;
        }
        any = 1;
    }
    size_t tail = nm ? m[nm - 1].ve : close; /* blanks before the closing brace */
    if (nm && fwrite(s + tail, 1, close - tail, out) != close - tail)
        return -1;
    for (size_t k = 0; k < nf; k++) {
        if (done[k] || !f[k].json)
            continue;
        if ((any && putc(',', out) == EOF) || put_key(out, f[k].key) < 0 ||
            fwrite(f[k].json, 1, f[k].len, out) != f[k].len)
            return -1;
        any = 1;
    }
    return putc('}', out) == EOF ? -1 : 0;
}

int record_splice(FILE *out, const char *obj, size_t n, const record_field *f, size_t nf,
                  alarm_err *e)
{
    member *m = NULL;
    size_t nm, cap = 0, close;
    char *done = calloc(nf ? nf : 1, 1);
    if (!done)
        return err_set(e, "out of memory");
    int rc = members(obj, n, &m, &nm, &cap, &close);
    if (rc < 0)
        err_set(e, "internal: record text is not a JSON object");
    else if ((rc = splice(out, obj, m, nm, close, f, nf, done)) < 0)
        err_set(e, "write error: %s", strerror(errno ? errno : EIO));
    free(m);
    free(done);
    return rc;
}
