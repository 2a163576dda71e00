/* jsonl_check: the one-pass line check (see jsonl_check.h). Outside strings
 * only brackets, commas and non-ASCII bytes matter; inside, escapes and
 * UTF-8 sequences. Keys of the objects open at a point are kept with a hash
 * of their decoded bytes, so "a" and "\u0061" are the same key; a closing
 * brace drops its object's keys. Brackets that do not match stop the key
 * check (the parser will refuse the line anyway). */
#include "jsonl_check.h"

#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "utf8.h"

enum { FNV_BASIS = 2166136261u, FNV_PRIME = 16777619u, SHOWN_MAX = 60 };

void jsonl_check_free(jsonl_check_buf *b)
{
    free(b->keys);
    free(b->frames);
    memset(b, 0, sizeof *b);
}

static uint32_t hash_byte(uint32_t h, unsigned char c) { return (h ^ c) * FNV_PRIME; }

/* Bytes needing no look inside a string (not '"', '\\' or non-ASCII) and
 * outside one (none of the structure: quotes, brackets, commas). */
enum { IN_STRING = 1, OUTSIDE = 2 };
static const unsigned char special[128] = {
    ['"'] = IN_STRING | OUTSIDE, ['\\'] = IN_STRING,
    ['{'] = OUTSIDE, ['}'] = OUTSIDE, ['['] = OUTSIDE, [']'] = OUTSIDE, [','] = OUTSIDE,
};

static int plain_in_string(unsigned char c) { return c < 0x80 && !(special[c] & IN_STRING); }

/* The first byte at or after i that is not plain_in_string, eight at a
 * time: a word with no byte >= 0x80, '"' or '\\' is skipped whole. */
static size_t skip_plain(const unsigned char *p, size_t n, size_t i)
{
    const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
    while (i + 8 <= n) {
        uint64_t x, q, b;
        memcpy(&x, p + i, 8);
        q = x ^ (ones * '"');
        b = x ^ (ones * '\\');
        if ((x | ((q - ones) & ~q) | ((b - ones) & ~b)) & high)
            break;
        i += 8;
    }
    while (i < n && plain_in_string(p[i]))
        i++;
    return i;
}

static int plain_outside(unsigned char c) { return c < 0x80 && !(special[c] & OUTSIDE); }

/* The byte an escape \x stands for (the parser refuses unknown ones). */
static unsigned char unescape(unsigned char x)
{
    switch (x) {
    case 'b': return '\b';
    case 'f': return '\f';
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    default: return x; /* " \ / */
    }
}

/* The UTF-8 bytes of code point cp into out; returns how many. */
static size_t encode(uint32_t cp, unsigned char *out)
{
    if (cp < 0x80)
        return out[0] = (unsigned char)cp, 1;
    if (cp < 0x800)
        return out[0] = 0xC0 | cp >> 6, out[1] = 0x80 | (cp & 0x3F), 2;
    if (cp < 0x10000)
        return out[0] = 0xE0 | cp >> 12, out[1] = 0x80 | (cp >> 6 & 0x3F),
               out[2] = 0x80 | (cp & 0x3F), 3;
    return out[0] = 0xF0 | cp >> 18, out[1] = 0x80 | (cp >> 12 & 0x3F),
           out[2] = 0x80 | (cp >> 6 & 0x3F), out[3] = 0x80 | (cp & 0x3F), 4;
}

/* Four hex digits at p (n bytes available), or -1. */
static long hex4(const unsigned char *p, size_t n)
{
    if (n < 4)
        return -1;
    long v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = p[i] | 32u;
        int d = p[i] >= '0' && p[i] <= '9' ? p[i] - '0' : c >= 'a' && c <= 'f' ? (int)c - 'a' + 10 : -1;
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

/* The escape \u.... at p[i] (p[i+1] == 'u'): its code point in *cp and its
 * length in *adv; -1 with the message for \u0000 and a lone surrogate;
 * 1 when it is no valid escape (the parser's to report). */
static int u_escape(const unsigned char *p, size_t n, size_t i, uint32_t *cp, size_t *adv,
                    alarm_err *e)
{
    long u = hex4(p + i + 2, n - (i + 2));
    if (u < 0)
        return 1;
    if (u == 0)
        return err_set(e, "U+0000 in a string is not supported at byte %zu", i);
    *cp = (uint32_t)u;
    *adv = 6;
    if (u >= 0xDC00 && u <= 0xDFFF)
        return err_set(e, "lone surrogate \\u%.4s at byte %zu", (const char *)p + i + 2, i);
    if (u >= 0xD800 && u <= 0xDBFF) {
        long lo = i + 7 < n && p[i + 6] == '\\' && p[i + 7] == 'u' ? hex4(p + i + 8, n - (i + 8)) : -1;
        if (lo < 0xDC00 || lo > 0xDFFF)
            return err_set(e, "lone surrogate \\u%.4s at byte %zu", (const char *)p + i + 2, i);
        *cp = 0x10000 + ((uint32_t)(u - 0xD800) << 10) + (uint32_t)(lo - 0xDC00);
        *adv = 12;
    }
    return 0;
}

/* Decodes a key's bytes one at a time (the key passed the check). */
typedef struct {
    const unsigned char *s;
    size_t n, i;
    unsigned char buf[4];
    size_t nb, at;
} key_reader;

static int key_byte(key_reader *k)
{
    if (k->at < k->nb)
        return k->buf[k->at++];
    if (k->i >= k->n)
        return -1;
    unsigned char c = k->s[k->i];
    k->at = 0;
    if (c != '\\') {
        k->i++;
        return c;
    }
    if (k->s[k->i + 1] != 'u') {
        k->i += 2;
        return unescape(k->s[k->i - 1]);
    }
    uint32_t cp = 0;
    size_t adv = 6;
    if (u_escape(k->s, k->n, k->i, &cp, &adv, NULL) != 0) /* cannot happen: checked */
        return -1;
    k->i += adv;
    k->nb = encode(cp, k->buf);
    k->at = 1;
    return k->buf[0];
}

static int same_key(const unsigned char *p, const jsonl_key *a, const jsonl_key *b)
{
    if (a->hash != b->hash)
        return 0;
    if (!a->escaped && !b->escaped)
        return a->len == b->len && memcmp(p + a->start, p + b->start, a->len) == 0;
    key_reader x = {.s = p + a->start, .n = a->len}, y = {.s = p + b->start, .n = b->len};
    for (;;) {
        int c = key_byte(&x), d = key_byte(&y);
        if (c != d)
            return 0;
        if (c < 0)
            return 1;
    }
}

/* Adds key k to the innermost object, failing when it holds it already. */
static int add_key(jsonl_check_buf *b, const unsigned char *p, const jsonl_key *k, alarm_err *e)
{
    for (size_t j = b->frames[b->nframes - 1].base; j < b->nkeys; j++)
        if (same_key(p, &b->keys[j], k)) {
            size_t m = k->len < SHOWN_MAX ? k->len : SHOWN_MAX;
            while (m < k->len && m > 0 && (p[k->start + m] & 0xC0) == 0x80)
                m--; /* not inside a character */
            return err_set(e, "duplicate key \"%.*s%s\" at byte %zu", (int)m,
                           (const char *)p + k->start, m < k->len ? "..." : "", k->start - 1);
        }
    if (b->nkeys == b->capkeys &&
        grow_array(&b->keys, &b->capkeys, b->nkeys + 1, sizeof *b->keys, 16, e) < 0)
        return -1;
    b->keys[b->nkeys++] = *k;
    return 0;
}

/* The string opening at p[*pi]; *pi ends past its closing quote. A key of
 * an object is checked against the object's others when `track`. */
static int check_string(jsonl_check_buf *b, const unsigned char *p, size_t n, size_t *pi,
                        int track, alarm_err *e)
{
    jsonl_frame *top = track && b->nframes ? &b->frames[b->nframes - 1] : NULL;
    int is_key = top && top->obj && top->expect_key;
    jsonl_key k = {.start = *pi + 1, .hash = FNV_BASIS};
    size_t i = k.start;
    while (i < n && p[i] != '"') {
        if (!is_key && plain_in_string(p[i])) {
            i = skip_plain(p, n, i + 1); /* most bytes: nothing to decode or hash */
            continue;
        }
        unsigned char c = p[i], buf[4];
        size_t adv = 1, nb = 1;
        buf[0] = c;
        if (c == '\\') {
            k.escaped = 1;
            if (i + 1 >= n)
                break;
            adv = 2;
            buf[0] = unescape(p[i + 1]);
            if (p[i + 1] == 'u') {
                uint32_t cp;
                int rc = u_escape(p, n, i, &cp, &adv, e);
                if (rc < 0)
                    return -1;
                nb = rc == 0 ? encode(cp, buf) : 0; /* else no escape: the parser's to say */
            }
        } else if (c >= 0x80) {
            if (!(adv = utf8_seq(p + i, n - i)))
                return err_set(e, "invalid UTF-8 at byte %zu", i);
            memcpy(buf, p + i, adv);
            nb = adv;
        }
        if (is_key)
            for (size_t j = 0; j < nb; j++)
                k.hash = hash_byte(k.hash, buf[j]);
        i += adv;
    }
    *pi = i < n ? i + 1 : n;
    if (!is_key || i >= n)
        return 0;
    top->expect_key = 0;
    k.len = i - k.start;
    return add_key(b, p, &k, e);
}

int jsonl_check(jsonl_check_buf *b, const char *line, size_t n, alarm_err *e)
{
    const unsigned char *p = (const unsigned char *)line;
    int track = 1;
    size_t i = 0;
    b->nkeys = b->nframes = 0;
    while (i < n) {
        unsigned char c = p[i];
        if (plain_outside(c)) {
            i++;
            continue;
        }
        if (c == '"') {
            if (check_string(b, p, n, &i, track, e) < 0)
                return -1;
            continue;
        }
        if (c >= 0x80) {
            size_t k = utf8_seq(p + i, n - i);
            if (!k)
                return err_set(e, "invalid UTF-8 at byte %zu", i);
            i += k;
            continue;
        }
        jsonl_frame *top = b->nframes ? &b->frames[b->nframes - 1] : NULL;
        if (track && (c == '{' || c == '[')) {
            if (b->nframes == b->capframes &&
                grow_array(&b->frames, &b->capframes, b->nframes + 1, sizeof *b->frames, 16, e) < 0)
                return -1;
            b->frames[b->nframes++] = (jsonl_frame){b->nkeys, c == '{', c == '{'};
        } else if (track && (c == '}' || c == ']')) {
            if (top && top->obj == (c == '}')) {
                b->nkeys = top->base;
                b->nframes--;
            } else
                track = 0;
        } else if (c == ',' && top && top->obj)
            top->expect_key = 1;
        i++;
    }
    return 0;
}
