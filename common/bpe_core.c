/* bpe_core: the token table, the byte-level alphabet and the two hash maps
 * (token bytes -> id, id pair -> merge) every other bpe_*.c builds on.
 * Maps are open-addressing with linear probing, kept at most half full. */
#include "bpe_impl.h"

#include <stdlib.h>
#include <string.h>

const char bpe_gpt2_pattern[] =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

/* GPT-2's byte-level alphabet: printable Latin-1 bytes stand for themselves,
 * the other 68 bytes take code points 256, 257, ... in byte order. */
static int printable(unsigned b)
{
    return (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174);
}

uint32_t bpe_byte_to_cp(uint8_t b)
{
    if (printable(b))
        return b;
    uint32_t n = 0;
    for (unsigned i = 0; i < b; i++)
        n += !printable(i);
    return 256 + n;
}

int bpe_cp_to_byte(uint32_t cp)
{
    if (cp < 256)
        return printable(cp) ? (int)cp : -1;
    if (cp >= 256 + 68)
        return -1;
    uint32_t n = cp - 256;
    for (unsigned b = 0; b < 256; b++)
        if (!printable(b) && n-- == 0)
            return (int)b;
    return -1;
}

size_t bpe_bytes_to_name(char *dst, const char *src, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t cp = bpe_byte_to_cp((uint8_t)src[i]);
        if (cp < 0x80) {
            dst[k++] = (char)cp;
        } else {
            dst[k++] = (char)(0xC0 | (cp >> 6));
            dst[k++] = (char)(0x80 | (cp & 0x3F));
        }
    }
    return k;
}

long bpe_name_to_bytes(char *dst, const char *name, size_t n)
{
    long k = 0;
    for (size_t i = 0; i < n;) {
        uint8_t c = (uint8_t)name[i];
        uint32_t cp;
        if (c < 0x80) {
            cp = c;
            i += 1;
        } else if ((c & 0xE0) == 0xC0 && i + 1 < n && ((uint8_t)name[i + 1] & 0xC0) == 0x80) {
            cp = ((uint32_t)(c & 0x1F) << 6) | ((uint8_t)name[i + 1] & 0x3F);
            i += 2;
        } else {
            return -1; /* three- and four-byte characters are outside the alphabet */
        }
        int b = bpe_cp_to_byte(cp);
        if (b < 0)
            return -1;
        dst[k++] = (char)b;
    }
    return k;
}

uint64_t bpe_hash(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a, then a final mix */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 1099511628211ull;
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    return h ^ (h >> 32);
}

static size_t pow2_for(size_t expect)
{
    size_t cap = 16;
    while (cap < 2 * expect + 2)
        cap *= 2;
    return cap;
}

int bpe_strmap_init(bpe_strmap *m, size_t expect)
{
    m->cap = pow2_for(expect);
    m->n = 0;
    m->slots = calloc(m->cap, sizeof *m->slots);
    return m->slots ? 0 : -1;
}

void bpe_strmap_free(bpe_strmap *m)
{
    free(m->slots);
    memset(m, 0, sizeof *m);
}

static int same_bytes(const bpe *t, int32_t id, const char *s, size_t n)
{
    return t->tok_len[id] == n && memcmp(t->bytes + t->tok_off[id], s, n) == 0;
}

int32_t bpe_strmap_get(const bpe *t, const bpe_strmap *m, const char *s, size_t n)
{
    if (!m->cap)
        return -1;
    size_t mask = m->cap - 1;
    for (size_t i = bpe_hash(s, n) & mask;; i = (i + 1) & mask) {
        uint32_t v = m->slots[i];
        if (!v)
            return -1;
        if (same_bytes(t, (int32_t)(v - 1), s, n))
            return (int32_t)(v - 1);
    }
}

static int strmap_grow(const bpe *t, bpe_strmap *m)
{
    bpe_strmap g;
    if (bpe_strmap_init(&g, m->cap) < 0)
        return -1;
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i])
            bpe_strmap_put(t, &g, (int32_t)(m->slots[i] - 1));
    free(m->slots);
    *m = g;
    return 0;
}

int32_t bpe_strmap_put(const bpe *t, bpe_strmap *m, int32_t id)
{
    if (2 * (m->n + 1) > m->cap && strmap_grow(t, m) < 0)
        return -2;
    const char *s = t->bytes + t->tok_off[id];
    size_t n = t->tok_len[id], mask = m->cap - 1;
    for (size_t i = bpe_hash(s, n) & mask;; i = (i + 1) & mask) {
        uint32_t v = m->slots[i];
        if (!v) {
            m->slots[i] = (uint32_t)id + 1;
            m->n++;
            return -1;
        }
        if (same_bytes(t, (int32_t)(v - 1), s, n))
            return (int32_t)(v - 1);
    }
}

int bpe_pairmap_init(bpe_pairmap *m, size_t expect)
{
    m->cap = pow2_for(expect);
    m->n = 0;
    m->keys = calloc(m->cap, sizeof *m->keys);
    m->rank = malloc(m->cap * sizeof *m->rank);
    m->merged = malloc(m->cap * sizeof *m->merged);
    if (!m->keys || !m->rank || !m->merged) {
        bpe_pairmap_free(m);
        return -1;
    }
    return 0;
}

void bpe_pairmap_free(bpe_pairmap *m)
{
    free(m->keys);
    free(m->rank);
    free(m->merged);
    memset(m, 0, sizeof *m);
}

static size_t pair_slot(uint64_t key, size_t mask)
{
    key ^= key >> 31;
    key *= 0x9e3779b97f4a7c15ull;
    return (size_t)(key ^ (key >> 29)) & mask;
}

int bpe_pairmap_get(const bpe_pairmap *m, int32_t a, int32_t b, int32_t *rank, int32_t *merged)
{
    if (!m->cap)
        return -1;
    uint64_t key = (((uint64_t)(uint32_t)a << 32) | (uint32_t)b) + 1;
    size_t mask = m->cap - 1;
    for (size_t i = pair_slot(key, mask);; i = (i + 1) & mask) {
        if (!m->keys[i])
            return -1;
        if (m->keys[i] == key) {
            *rank = m->rank[i];
            *merged = m->merged[i];
            return 0;
        }
    }
}

int bpe_pairmap_put(bpe_pairmap *m, int32_t a, int32_t b, int32_t rank, int32_t merged)
{
    if (2 * (m->n + 1) > m->cap) {
        bpe_pairmap g;
        if (bpe_pairmap_init(&g, m->cap) < 0)
            return -1;
        for (size_t i = 0; i < m->cap; i++)
            if (m->keys[i]) {
                uint64_t k = m->keys[i] - 1;
                bpe_pairmap_put(&g, (int32_t)(k >> 32), (int32_t)(uint32_t)k, m->rank[i],
                                m->merged[i]);
            }
        bpe_pairmap_free(m);
        *m = g;
    }
    uint64_t key = (((uint64_t)(uint32_t)a << 32) | (uint32_t)b) + 1;
    size_t mask = m->cap - 1;
    for (size_t i = pair_slot(key, mask);; i = (i + 1) & mask) {
        if (m->keys[i] == key)
            return 1;
        if (!m->keys[i]) {
            m->keys[i] = key;
            m->rank[i] = rank;
            m->merged[i] = merged;
            m->n++;
            return 0;
        }
    }
}

bpe *bpe_new(void)
{
    bpe *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->unk_id = t->bos = t->eos = t->pad = -1;
    for (int i = 0; i < 256; i++)
        t->byte_id[i] = -1;
    return t;
}

int bpe_reserve_ids(bpe *t, size_t n_ids, alarm_err *e)
{
    if (n_ids <= t->n_ids)
        return 0;
    if (n_ids > BPE_MAX_IDS)
        return err_set(e, "token id %zu out of range (ids stop below %d)", n_ids - 1, BPE_MAX_IDS);
    if (n_ids > t->ids_cap) {
        /* Geometric growth: vocabularies arrive one id at a time. */
        size_t cap = t->ids_cap ? t->ids_cap : 1024;
        while (cap < n_ids)
            cap *= 2;
        size_t *off = realloc(t->tok_off, cap * sizeof *off);
        if (off)
            t->tok_off = off;
        uint32_t *len = realloc(t->tok_len, cap * sizeof *len);
        if (len)
            t->tok_len = len;
        uint8_t *fl = realloc(t->tok_flags, cap);
        if (fl)
            t->tok_flags = fl;
        if (!off || !len || !fl)
            return err_set(e, "out of memory for %zu tokens", n_ids);
        t->ids_cap = cap;
    }
    for (size_t i = t->n_ids; i < n_ids; i++) {
        t->tok_off[i] = 0;
        t->tok_len[i] = 0;
        t->tok_flags[i] = 0;
    }
    t->n_ids = n_ids;
    return 0;
}

int bpe_set_token(bpe *t, int32_t id, const char *raw, size_t n, int flags, alarm_err *e)
{
    if (id < 0)
        return err_set(e, "negative token id %d", (int)id);
    if (bpe_reserve_ids(t, (size_t)id + 1, e) < 0)
        return -1;
    if (t->tok_flags[id])
        return err_set(e, "token id %d given twice", (int)id);
    if (n > UINT32_MAX)
        return err_set(e, "token %d too long", (int)id);
    if (t->bytes_len + n > t->bytes_cap) {
        size_t cap = t->bytes_cap ? t->bytes_cap : 4096;
        while (cap < t->bytes_len + n)
            cap *= 2;
        char *b = realloc(t->bytes, cap);
        if (!b)
            return err_set(e, "out of memory for token bytes");
        t->bytes = b;
        t->bytes_cap = cap;
    }
    if (n)
        memcpy(t->bytes + t->bytes_len, raw, n);
    t->tok_off[id] = t->bytes_len;
    t->tok_len[id] = (uint32_t)n;
    t->tok_flags[id] = (uint8_t)flags;
    t->bytes_len += n;
    return 0;
}

int bpe_add_split_regex(bpe *t, const char *pattern, size_t len, int behavior, int invert,
                        alarm_err *e)
{
    int code;
    PCRE2_SIZE at;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, len, PCRE2_UTF | PCRE2_UCP,
                                   &code, &at, NULL);
    if (!re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(code, msg, sizeof msg);
        return err_set(e, "pre-tokenizer regex: %s at offset %zu", (char *)msg, (size_t)at);
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

static int added_by_id(const void *a, const void *b)
{
    const bpe_added *x = a, *y = b;
    return (x->id > y->id) - (x->id < y->id);
}

void bpe_finish(bpe *t)
{
    for (int b = 0; b < 256; b++) {
        char c = (char)b;
        t->byte_id[b] = bpe_strmap_get(t, &t->vocab, &c, 1);
    }
    if (t->n_added)
        qsort(t->added, t->n_added, sizeof *t->added, added_by_id);
    memset(t->added_first, 0, sizeof t->added_first);
    for (size_t i = 0; i < t->n_added; i++)
        t->added_first[(uint8_t)t->added[i].content[0]] = 1;
}

void bpe_free(bpe *t)
{
    if (!t)
        return;
    free(t->bytes);
    free(t->tok_off);
    free(t->tok_len);
    free(t->tok_flags);
    bpe_strmap_free(&t->vocab);
    bpe_pairmap_free(&t->merges);
    for (size_t i = 0; i < t->n_added; i++)
        free(t->added[i].content);
    free(t->added);
    for (size_t i = 0; i < t->n_splits; i++) {
        pcre2_code_free(t->splits[i].re);
        free(t->splits[i].literal);
    }
    free(t->splits);
    free(t->prefix);
    free(t->suffix);
    free(t);
}
