/* bpe_decode: ids -> bytes (the byte-level decoder), and the lookups other
 * modules use: token names to ids, ids to bytes, sizes and special ids. */
#include "bpe_impl.h"

#include <stdlib.h>
#include <string.h>

static const bpe_added *find_added(const bpe *t, int32_t id)
{
    size_t lo = 0, hi = t->n_added;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (t->added[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < t->n_added && t->added[lo].id == id ? &t->added[lo] : NULL;
}

const char *bpe_id_to_bytes(const bpe *t, int32_t id, size_t *len)
{
    if (id < 0 || (size_t)id >= t->n_ids || !t->tok_flags[id])
        return NULL;
    if (t->tok_flags[id] & BPE_TOK_ADDED) {
        const bpe_added *ad = find_added(t, id);
        *len = ad->len;
        return ad->content;
    }
    *len = t->tok_len[id];
    return t->bytes + t->tok_off[id];
}

int bpe_decode(char **bytes, size_t *len, const bpe *t, const int32_t *ids, size_t n, int flags,
               alarm_err *e)
{
    size_t total = 0, l;
    for (size_t i = 0; i < n; i++) {
        if (!bpe_id_to_bytes(t, ids[i], &l))
            return err_set(e, "token id %d at position %zu is not in the vocabulary", (int)ids[i], i);
        total += l;
    }
    char *out = malloc(total + 1);
    if (!out)
        return err_set(e, "out of memory");
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (flags & BPE_SKIP_SPECIAL && bpe_is_special(t, ids[i]))
            continue;
        const char *b = bpe_id_to_bytes(t, ids[i], &l);
        memcpy(out + k, b, l);
        k += l;
    }
    out[k] = 0;
    *bytes = out;
    *len = k;
    return 0;
}

int32_t bpe_token_to_id(const bpe *t, const char *token)
{
    size_t n = strlen(token);
    for (size_t i = 0; i < t->n_added; i++)
        if (t->added[i].len == n && !memcmp(t->added[i].content, token, n))
            return t->added[i].id;
    char stack[256], *buf = n <= sizeof stack ? stack : malloc(n);
    if (!buf)
        return -1;
    long raw = bpe_name_to_bytes(buf, token, n);
    int32_t id = raw >= 0 ? bpe_strmap_get(t, &t->vocab, buf, (size_t)raw)
                          : bpe_strmap_get(t, &t->vocab, token, n);
    if (buf != stack)
        free(buf);
    return id;
}

int bpe_is_special(const bpe *t, int32_t id)
{
    return id >= 0 && (size_t)id < t->n_ids && (t->tok_flags[id] & BPE_TOK_SPECIAL);
}

size_t bpe_vocab_size(const bpe *t) { return t->n_ids; }
int32_t bpe_bos_id(const bpe *t) { return t->bos; }
int32_t bpe_eos_id(const bpe *t) { return t->eos; }
int32_t bpe_pad_id(const bpe *t) { return t->pad; }
