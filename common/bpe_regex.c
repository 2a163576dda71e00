/* bpe_regex: compiles the pre-tokenizer regexes with PCRE2 (UTF + UCP).
 * Hugging Face compiles them with Oniguruma, whose \s is exactly
 * [\t-\r\x{85}] plus the Zs, Zl and Zp categories; PCRE2's also takes
 * U+180E (an old Zs, a format character since Unicode 6.3), which splits
 * text differently. So \s and \S are rewritten to Oniguruma's definition,
 * in Unicode properties, before compiling. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem, even where CFLAGS are replaced (sanitizer build) */
#endif
#include "bpe_impl.h"

#include <stdlib.h>
#include <string.h>

#define ONIG_SPACE "\\t-\\r\\x{85}\\p{Zs}\\p{Zl}\\p{Zp}"

/* The pattern with \s and \S spelled out (malloc'd, NUL-terminated). A \S
 * inside a character class stays as it is (no class intersection here). */
static char *onig_spaces(const char *p, size_t n, size_t *out_len)
{
    size_t cap = n * (sizeof ONIG_SPACE + 3) + 1, k = 0;
    char *o = malloc(cap);
    if (!o)
        return NULL;
    int in_class = 0, class_start = 0;
    for (size_t i = 0; i < n;) {
        if (p[i] == '\\' && i + 1 < n) {
            const char *rep = NULL;
            if (p[i + 1] == 's')
                rep = in_class ? ONIG_SPACE : "[" ONIG_SPACE "]";
            else if (p[i + 1] == 'S' && !in_class)
                rep = "[^" ONIG_SPACE "]";
            if (rep) {
                memcpy(o + k, rep, strlen(rep));
                k += strlen(rep);
            } else {
                o[k++] = p[i], o[k++] = p[i + 1];
            }
            i += 2;
            class_start = 0;
            continue;
        }
        if (!in_class && p[i] == '[') {
            in_class = class_start = 1;
            o[k++] = p[i++];
            if (i < n && p[i] == '^')
                o[k++] = p[i++];
            continue;
        }
        if (in_class && p[i] == '[' && i + 1 < n && p[i + 1] == ':') {
            const char *end = memmem(p + i, n - i, ":]", 2); /* a POSIX class */
            size_t m = end ? (size_t)(end - (p + i)) + 2 : n - i;
            memcpy(o + k, p + i, m);
            k += m, i += m;
            class_start = 0;
            continue;
        }
        if (in_class && p[i] == ']' && !class_start)
            in_class = 0;
        class_start = 0;
        o[k++] = p[i++];
    }
    o[k] = 0;
    *out_len = k;
    return o;
}

int bpe_add_split_regex(bpe *t, const char *pattern, size_t len, int behavior, int invert,
                        alarm_err *e)
{
    int code;
    PCRE2_SIZE at;
    size_t tlen;
    char *onig = onig_spaces(pattern, len, &tlen);
    if (!onig)
        return err_set(e, "out of memory");
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)onig, tlen, PCRE2_UTF | PCRE2_UCP, &code, &at, NULL);
    free(onig);
    if (!re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(code, msg, sizeof msg);
        return err_set(e, "pre-tokenizer regex: %s", (char *)msg);
    }
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* an interpreter fallback if JIT fails */
    bpe_split *s = realloc(t->splits, (t->n_splits + 1) * sizeof *s);
    char *src = malloc(len + 1);
    if (s)
        t->splits = s;
    if (!s || !src) {
        free(src);
        pcre2_code_free(re);
        return err_set(e, "out of memory");
    }
    memcpy(src, pattern, len);
    src[len] = 0;
    t->splits[t->n_splits++] = (bpe_split){.re = re, .literal = src, .literal_len = len,
                                           .behavior = behavior, .invert = invert};
    return 0;
}

