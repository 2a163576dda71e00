/* bpe_train: learns a byte-level BPE from texts. Words come from the GPT-2
 * pre-tokenizer regex and are counted once each; the most frequent adjacent
 * pair is merged until the vocabulary is full. Ties go to the smaller pair of
 * ids, as Hugging Face's trainer does, so a corpus always gives one result.
 * A merged word is re-counted whole: simple, and words are short. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem, even where CFLAGS are replaced (sanitizer build) */
#endif
#include "grow.h"
#include "bpe_impl.h"
#include "utf8.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    int32_t *sym; /* current symbols of this unique word */
    size_t n;
    uint64_t count;
} word;

typedef struct {
    int32_t a, b;
    uint64_t count;
    uint32_t *words; /* words that held the pair when it was counted (may be stale) */
    size_t n_words, cap_words;
} pair;

typedef struct {
    uint64_t count;
    int32_t a, b;
} entry;

typedef struct {
    bpe *t;
    word *w;
    size_t n_w;
    pair *p;
    size_t n_p, cap_p;
    bpe_pairmap index; /* (a, b) -> index into p, in the rank field */
    entry *heap;
    size_t n_heap, cap_heap;
} trainer;

static int entry_before(const entry *x, const entry *y)
{
    if (x->count != y->count)
        return x->count > y->count;
    return x->a < y->a || (x->a == y->a && x->b < y->b);
}

static int heap_push(trainer *tr, entry en)
{
    if (grow_array(&tr->heap, &tr->cap_heap, tr->n_heap + 1, sizeof *tr->heap, 1024, NULL) < 0)
        return -1;
    size_t i = tr->n_heap++;
    while (i && entry_before(&en, &tr->heap[(i - 1) / 2])) {
        tr->heap[i] = tr->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    tr->heap[i] = en;
    return 0;
}

static entry heap_pop(trainer *tr)
{
    entry top = tr->heap[0], last = tr->heap[--tr->n_heap];
    size_t i = 0, n = tr->n_heap;
    while (n) {
        size_t l = 2 * i + 1, m = i;
        const entry *best = &last;
        if (l < n && entry_before(&tr->heap[l], best))
            m = l, best = &tr->heap[l];
        if (l + 1 < n && entry_before(&tr->heap[l + 1], best))
            m = l + 1;
        if (m == i)
            break;
        tr->heap[i] = tr->heap[m];
        i = m;
    }
    if (n)
        tr->heap[i] = last;
    return top;
}

/* Adds delta (may be negative) to the count of (a, b); records word wi. */
static pair *count_pair(trainer *tr, int32_t a, int32_t b, int64_t delta, uint32_t wi)
{
    int32_t idx, unused;
    if (bpe_pairmap_get(&tr->index, a, b, &idx, &unused) < 0) {
        if (grow_array(&tr->p, &tr->cap_p, tr->n_p + 1, sizeof *tr->p, 1024, NULL) < 0)
            return NULL;
        idx = (int32_t)tr->n_p++;
        tr->p[idx] = (pair){.a = a, .b = b};
        if (bpe_pairmap_put(&tr->index, a, b, idx, 0) < 0)
            return NULL;
    }
    pair *p = &tr->p[idx];
    p->count = (uint64_t)((int64_t)p->count + delta);
    if (delta > 0) {
        if (grow_array(&p->words, &p->cap_words, p->n_words + 1, sizeof *p->words, 4, NULL) < 0)
            return NULL;
        if (!p->n_words || p->words[p->n_words - 1] != wi)
            p->words[p->n_words++] = wi;
    }
    return p;
}

/* Merges (a, b) -> m inside word wi and updates the pair counts. */
static int merge_word(trainer *tr, uint32_t wi, int32_t a, int32_t b, int32_t m)
{
    word *w = &tr->w[wi];
    int64_t c = (int64_t)w->count;
    int found = 0;
    for (size_t i = 0; i + 1 < w->n && !found; i++)
        found = w->sym[i] == a && w->sym[i + 1] == b;
    if (!found)
        return 0; /* stale entry of the pair's word list */
    for (size_t i = 0; i + 1 < w->n; i++)
        if (!count_pair(tr, w->sym[i], w->sym[i + 1], -c, wi))
            return -1;
    size_t k = 0;
    for (size_t i = 0; i < w->n; i++) {
        if (i + 1 < w->n && w->sym[i] == a && w->sym[i + 1] == b) {
            w->sym[k++] = m;
            i++;
        } else {
            w->sym[k++] = w->sym[i];
        }
    }
    w->n = k;
    for (size_t i = 0; i + 1 < w->n; i++) {
        pair *p = count_pair(tr, w->sym[i], w->sym[i + 1], c, wi);
        if (!p)
            return -1;
        if ((w->sym[i] == m || w->sym[i + 1] == m) &&
            heap_push(tr, (entry){p->count, p->a, p->b}) < 0)
            return -1;
    }
    return 0;
}

/* The id of the bytes of a followed by b: an existing token or a new one. */
static int32_t merged_token(bpe *t, int32_t a, int32_t b, alarm_err *e)
{
    size_t la = t->tok_len[a], lb = t->tok_len[b];
    char *buf = malloc(la + lb);
    if (!buf)
        return err_set(e, "out of memory");
    memcpy(buf, t->bytes + t->tok_off[a], la);
    memcpy(buf + la, t->bytes + t->tok_off[b], lb);
    int32_t id = bpe_strmap_get(t, &t->vocab, buf, la + lb);
    if (id < 0) {
        id = (int32_t)t->n_ids;
        if (bpe_set_token(t, id, buf, la + lb, BPE_TOK_MODEL, e) < 0 ||
            bpe_strmap_put(t, &t->vocab, id) == -2)
            id = err_set(e, "out of memory");
    }
    free(buf);
    return id;
}

static int learn(trainer *tr, const bpe_train_opts *o, alarm_err *e)
{
    bpe *t = tr->t;
    for (uint32_t wi = 0; wi < tr->n_w; wi++)
        for (size_t i = 0; i + 1 < tr->w[wi].n; i++)
            if (!count_pair(tr, tr->w[wi].sym[i], tr->w[wi].sym[i + 1],
                            (int64_t)tr->w[wi].count, wi))
                return err_set(e, "out of memory");
    for (size_t i = 0; i < tr->n_p; i++)
        if (heap_push(tr, (entry){tr->p[i].count, tr->p[i].a, tr->p[i].b}) < 0)
            return err_set(e, "out of memory");
    int32_t rank = 0;
    while (t->n_ids < o->vocab_size && tr->n_heap) {
        entry top = heap_pop(tr);
        int32_t idx, unused;
        bpe_pairmap_get(&tr->index, top.a, top.b, &idx, &unused);
        pair *p = &tr->p[idx];
        if (p->count != top.count) { /* counts fell since it was queued */
            if (p->count && heap_push(tr, (entry){p->count, p->a, p->b}) < 0)
                return err_set(e, "out of memory");
            continue;
        }
        if (p->count < (o->min_frequency ? o->min_frequency : 1))
            break;
        int32_t m = merged_token(t, top.a, top.b, e);
        if (m < 0 || bpe_pairmap_put(&t->merges, top.a, top.b, rank++, m) < 0)
            return m < 0 ? -1 : err_set(e, "out of memory");
        /* Take the word list: merging may grow p's array under us. */
        uint32_t *words = p->words;
        size_t n_words = p->n_words;
        p->words = NULL, p->n_words = p->cap_words = 0;
        for (size_t k = 0; k < n_words; k++)
            if (merge_word(tr, words[k], top.a, top.b, m) < 0) {
                free(words);
                return err_set(e, "out of memory");
            }
        free(words);
    }
    return 0;
}

/* Unique words of the texts (bytes of each GPT-2 regex match) with counts. */
typedef struct {
    uint32_t *slots; /* word index + 1 */
    size_t cap;
    char **bytes;    /* (n_w,) */
} word_table;

static long find_word(trainer *tr, word_table *wt, const char *s, size_t n, int add)
{
    if (2 * (tr->n_w + 1) > wt->cap) {
        size_t cap = wt->cap ? 2 * wt->cap : 4096;
        uint32_t *sl = calloc(cap, sizeof *sl);
        char **by = realloc(wt->bytes, cap / 2 * sizeof *by);
        word *w = realloc(tr->w, cap / 2 * sizeof *w);
        if (by)
            wt->bytes = by;
        if (w)
            tr->w = w;
        if (!sl || !by || !w) {
            free(sl);
            return -2;
        }
        for (size_t i = 0; i < tr->n_w; i++) {
            size_t j = bpe_hash(wt->bytes[i], tr->w[i].n) & (cap - 1);
            while (sl[j])
                j = (j + 1) & (cap - 1);
            sl[j] = (uint32_t)i + 1;
        }
        free(wt->slots);
        wt->slots = sl, wt->cap = cap;
    }
    size_t j = bpe_hash(s, n) & (wt->cap - 1);
    for (; wt->slots[j]; j = (j + 1) & (wt->cap - 1)) {
        uint32_t i = wt->slots[j] - 1;
        if (tr->w[i].n == n && !memcmp(wt->bytes[i], s, n))
            return i;
    }
    if (!add)
        return -1;
    size_t i = tr->n_w;
    wt->bytes[i] = malloc(n);
    tr->w[i] = (word){.sym = malloc(n * sizeof(int32_t)), .n = n, .count = 0};
    if (!wt->bytes[i] || !tr->w[i].sym) {
        free(wt->bytes[i]);
        free(tr->w[i].sym);
        return -2;
    }
    memcpy(wt->bytes[i], s, n);
    for (size_t k = 0; k < n; k++)
        tr->w[i].sym[k] = tr->t->byte_id[(uint8_t)s[k]];
    tr->n_w++;
    wt->slots[j] = (uint32_t)i + 1;
    return (long)i;
}

/* Counts the words of s[0, n), a stretch with no special token in it. */
static int count_stretch(trainer *tr, word_table *wt, pcre2_match_data *md, const char *s,
                         size_t n)
{
    const pcre2_code *re = tr->t->splits[0].re;
    for (size_t at = 0; at < n;) {
        int m = pcre2_match(re, (PCRE2_SPTR)s, n, at, PCRE2_NO_UTF_CHECK, md, NULL);
        if (m < 0)
            break; /* the GPT-2 regex matches every character, so only at the end */
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        if (ov[1] <= at) { /* cannot happen: no alternative matches empty */
            at++;
            continue;
        }
        long wi = find_word(tr, wt, s + ov[0], ov[1] - ov[0], 1);
        if (wi < 0)
            return -1;
        tr->w[wi].count++;
        at = ov[1];
    }
    return 0;
}

/* The first special token in s[0, n): its start, or n; *len its length. */
static size_t next_special(const bpe *t, const char *s, size_t n, size_t *len)
{
    size_t best = n;
    *len = 0;
    for (size_t k = 0; k < t->n_added; k++) {
        size_t l = t->added[k].len, lim = best + l < n ? best + l : n; /* may start at best */
        const char *hit = memmem(s, lim, t->added[k].content, l);
        if (hit && ((size_t)(hit - s) < best || ((size_t)(hit - s) == best && l > *len))) {
            best = (size_t)(hit - s);
            *len = l;
        }
    }
    return best;
}

/* Words of every text, special tokens left out (they are never merged). */
static int collect_words(trainer *tr, const char *const *texts, const size_t *lens, size_t n,
                         alarm_err *e)
{
    word_table wt = {0};
    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    int rc = md ? 0 : err_set(e, "out of memory");
    for (size_t k = 0; rc == 0 && k < n; k++) {
        size_t bad;
        if (!utf8_valid(texts[k], lens[k], &bad)) {
            rc = err_set(e, "text %zu: invalid UTF-8 at byte %zu", k, bad);
            break;
        }
        for (size_t at = 0; rc == 0 && at < lens[k];) {
            size_t len, sp = at + next_special(tr->t, texts[k] + at, lens[k] - at, &len);
            if (sp > at && count_stretch(tr, &wt, md, texts[k] + at, sp - at) < 0)
                rc = err_set(e, "out of memory");
            at = sp + len;
        }
    }
    for (size_t i = 0; i < tr->n_w; i++)
        free(wt.bytes[i]);
    free(wt.bytes);
    free(wt.slots);
    pcre2_match_data_free(md);
    return rc;
}

/* Special tokens first, then the 256 bytes in the order of their byte-level
 * characters (as Hugging Face lays out a trained ByteLevel alphabet). */
static int base_vocab(bpe *t, const bpe_train_opts *o, alarm_err *e)
{
    t->added = calloc(o->n_special + 1, sizeof *t->added);
    if (!t->added || bpe_strmap_init(&t->vocab, o->vocab_size) < 0 ||
        bpe_pairmap_init(&t->merges, o->vocab_size) < 0)
        return err_set(e, "out of memory");
    for (size_t i = 0; i < o->n_special; i++) {
        const char *s = o->special[i];
        if (!*s || bpe_token_to_id(t, s) >= 0)
            return err_set(e, "special token \"%.60s\" is empty or given twice", s);
        bpe_added *ad = &t->added[t->n_added];
        *ad = (bpe_added){.content = strdup(s), .len = strlen(s), .id = (int32_t)i, .special = 1};
        if (!ad->content)
            return err_set(e, "out of memory");
        t->n_added++;
        if (bpe_set_token(t, (int32_t)i, s, ad->len, BPE_TOK_ADDED | BPE_TOK_SPECIAL, e) < 0)
            return -1;
    }
    for (uint32_t cp = 0; cp < 256 + 68; cp++) {
        int b = bpe_cp_to_byte(cp);
        char c = (char)b;
        if (b < 0)
            continue;
        int32_t id = (int32_t)t->n_ids;
        if (bpe_set_token(t, id, &c, 1, BPE_TOK_MODEL, e) < 0)
            return -1;
        bpe_strmap_put(t, &t->vocab, id);
    }
    return 0;
}

int bpe_train(bpe **out, const char *const *texts, const size_t *lens, size_t n,
              const bpe_train_opts *o, alarm_err *e)
{
    *out = NULL;
    if (o->vocab_size < 256 + o->n_special)
        return err_set(e, "vocabulary size %zu is below the 256 bytes plus %zu special tokens",
                       o->vocab_size, o->n_special);
    if (o->vocab_size > INT32_MAX)
        return err_set(e, "vocabulary size %zu is too large", o->vocab_size);
    trainer tr = {.t = bpe_new()};
    int rc = -1;
    if (!tr.t || bpe_pairmap_init(&tr.index, 1024) < 0) {
        err_set(e, "out of memory");
        goto done;
    }
    tr.t->byte_level_at = 0;
    if (base_vocab(tr.t, o, e) < 0 ||
        bpe_add_split_regex(tr.t, bpe_gpt2_pattern, strlen(bpe_gpt2_pattern),
                            BPE_SPLIT_ISOLATED, 0, e) < 0)
        goto done;
    tr.t->splits[0].byte_level = 1;
    bpe_finish(tr.t); /* byte ids, for the words */
    if (collect_words(&tr, texts, lens, n, e) < 0 || learn(&tr, o, e) < 0)
        goto done;
    bpe_finish(tr.t);
    tr.t->eos = bpe_token_to_id(tr.t, "<|endoftext|>");
    *out = tr.t;
    tr.t = NULL;
    rc = 0;
done:
    for (size_t i = 0; i < tr.n_w; i++)
        free(tr.w[i].sym);
    free(tr.w);
    for (size_t i = 0; i < tr.n_p; i++)
        free(tr.p[i].words);
    free(tr.p);
    free(tr.heap);
    bpe_pairmap_free(&tr.index);
    bpe_free(tr.t);
    return rc;
}
