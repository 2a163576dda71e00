/* bpe_encode: text -> ids with byte offsets, in the order Hugging Face
 * applies the steps: added tokens are cut out first, each stretch between
 * them is normalized, split by the pre-tokenizer regexes, and each piece is
 * merged by rank (a heap of candidate pairs, lowest rank then leftmost first).
 * All positions are bytes of a working buffer with a map back to the input,
 * so offsets stay exact through NFC and an added prefix space. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem, even where CFLAGS are replaced (sanitizer build) */
#endif
#include "grow.h"
#include "bpe_impl.h"
#include "utf8.h"

#include <stdlib.h>
#include <string.h>
#include <unicode/uchar.h>

typedef struct {
    size_t start, end;
} span;

typedef struct {
    span *v;
    size_t n, cap;
} spans;

typedef struct {
    int32_t id;
    int32_t prev, next; /* symbol indices, -1 at the ends */
    uint32_t start, len;
} symbol;

typedef struct {
    int32_t rank;
    uint32_t pos; /* index of the left symbol */
    int32_t a, b; /* the pair as it was when queued */
} cand;

/* A direct-mapped cache of short pieces: words repeat, merging is the cost. */
#define CACHE_SLOTS 4096
#define CACHE_MAX 16
typedef struct {
    uint8_t len, n; /* len 0 = empty */
    char bytes[CACHE_MAX];
    int32_t ids[CACHE_MAX];
} cache_slot;

/* Scratch kept in a bpe_out between calls. */
typedef struct {
    spans cur, next;
    symbol *sym;
    size_t sym_cap;
    cand *heap;
    size_t heap_n, heap_cap;
    pcre2_match_data *md;
    char *pbuf;        /* a piece with a prefix space put in front */
    size_t *pmap;
    size_t pcap;
    uint64_t serial;   /* the tokenizer the cache belongs to */
    cache_slot *cache; /* (CACHE_SLOTS,) */
} encoder;

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap : 16;
    while (c < need)
        c *= 2;
    void *q = realloc(*p, c * elem);
    if (!q)
        return -1;
    *p = q;
    *cap = c;
    return 0;
}

static int spans_push(spans *s, size_t start, size_t end)
{
    if (grow((void **)&s->v, &s->cap, s->n + 1, sizeof *s->v) < 0)
        return -1;
    s->v[s->n++] = (span){start, end};
    return 0;
}

static int out_push(bpe_out *o, int32_t id, size_t start, size_t end)
{
    size_t ci = o->cap, co = o->cap; /* ids and offset pairs share one capacity */
    if (grow_array(&o->ids, &ci, o->n + 1, sizeof *o->ids, 64, NULL) < 0 ||
        grow_array(&o->offsets, &co, o->n + 1, 2 * sizeof *o->offsets, 64, NULL) < 0)
        return -1;
    o->cap = co;
    o->ids[o->n] = id;
    o->offsets[2 * o->n] = start;
    o->offsets[2 * o->n + 1] = end;
    o->n++;
    return 0;
}

static int cand_less(const cand *x, const cand *y)
{
    return x->rank < y->rank || (x->rank == y->rank && x->pos < y->pos);
}

static int heap_push(encoder *en, cand c)
{
    if (grow((void **)&en->heap, &en->heap_cap, en->heap_n + 1, sizeof c) < 0)
        return -1;
    size_t i = en->heap_n++;
    while (i > 0 && cand_less(&c, &en->heap[(i - 1) / 2])) {
        en->heap[i] = en->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    en->heap[i] = c;
    return 0;
}

static cand heap_pop(encoder *en)
{
    cand top = en->heap[0], last = en->heap[--en->heap_n];
    size_t i = 0, n = en->heap_n;
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        const cand *best = &last;
        if (l < n && cand_less(&en->heap[l], best))
            m = l, best = &en->heap[l];
        if (l + 1 < n && cand_less(&en->heap[l + 1], best))
            m = l + 1;
        if (m == i)
            break;
        en->heap[i] = en->heap[m];
        i = m;
    }
    if (n)
        en->heap[i] = last;
    return top;
}

static int queue_pair(encoder *en, const bpe *t, int32_t left)
{
    const symbol *s = &en->sym[left];
    if (s->next < 0 || s->id < 0 || en->sym[s->next].id < 0)
        return 0;
    int32_t rank, merged;
    if (bpe_pairmap_get(&t->merges, s->id, en->sym[s->next].id, &rank, &merged) < 0)
        return 0;
    return heap_push(en, (cand){rank, (uint32_t)left, s->id, en->sym[s->next].id});
}

/* Merges the bytes w[0, n) into symbols; the live ones are reached from 0. */
static int merge_piece(encoder *en, const bpe *t, const char *w, size_t n)
{
    if (grow((void **)&en->sym, &en->sym_cap, n, sizeof *en->sym) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int32_t id = t->byte_id[(uint8_t)w[i]];
        /* A byte with no token (id -1) blocks merges across it. */
        en->sym[i] = (symbol){id, (int32_t)i - 1, i + 1 < n ? (int32_t)i + 1 : -1,
                              (uint32_t)i, 1};
    }
    en->heap_n = 0;
    for (size_t i = 0; i + 1 < n; i++)
        if (queue_pair(en, t, (int32_t)i) < 0)
            return -1;
    while (en->heap_n) {
        cand c = heap_pop(en);
        symbol *l = &en->sym[c.pos];
        if (l->len == 0 || l->id != c.a || l->next < 0 || en->sym[l->next].id != c.b)
            continue; /* stale: one side changed since it was queued */
        int32_t rank, merged;
        bpe_pairmap_get(&t->merges, c.a, c.b, &rank, &merged);
        symbol *r = &en->sym[l->next];
        l->id = merged;
        l->len += r->len;
        r->len = 0;
        l->next = r->next;
        if (r->next >= 0)
            en->sym[r->next].prev = (int32_t)c.pos;
        if ((l->prev >= 0 && queue_pair(en, t, l->prev) < 0) || queue_pair(en, t, (int32_t)c.pos) < 0)
            return -1;
    }
    return 0;
}

/* Emits the tokens of a cached piece; 1 when it was cached. */
static int from_cache(bpe_out *o, const encoder *en, const bpe *t, const char *w, size_t start,
                      size_t n, const size_t *map, size_t base, cache_slot **slot)
{
    *slot = NULL;
    if (n > CACHE_MAX || !en->cache)
        return 0;
    cache_slot *c = &en->cache[bpe_hash(w + start, n) & (CACHE_SLOTS - 1)];
    *slot = c;
    if (c->len != n || memcmp(c->bytes, w + start, n))
        return 0;
    size_t a = start;
    for (size_t i = 0; i < c->n; i++) {
        size_t b = a + t->tok_len[c->ids[i]];
        if (out_push(o, c->ids[i], map ? map[a] : base + a, map ? map[b] : base + b) < 0)
            return -1;
        a = b;
    }
    return 1;
}

/* Emits the tokens of one piece w[start, end) of the working buffer. */
static int encode_piece(bpe_out *o, encoder *en, const bpe *t, const char *w, size_t start,
                        size_t end, const size_t *map, size_t base)
{
#define ORIG(p) (map ? map[p] : base + (p))
    size_t n = end - start;
    if (t->ignore_merges || n == 1) {
        int32_t id = bpe_strmap_get(t, &t->vocab, w + start, n);
        if (id >= 0)
            return out_push(o, id, ORIG(start), ORIG(end));
    }
    cache_slot *slot;
    int hit = from_cache(o, en, t, w, start, n, map, base, &slot);
    if (hit)
        return hit < 0 ? -1 : 0;
    if (merge_piece(en, t, w + start, n) < 0)
        return -1;
    size_t first = o->n, k = 0;
    for (int32_t i = 0; i >= 0; i = en->sym[i].next) {
        const symbol *s = &en->sym[i];
        int32_t id = s->id >= 0 ? s->id : t->unk_id;
        size_t a = start + s->start, b = a + s->len;
        if (id >= 0 && out_push(o, id, ORIG(a), ORIG(b)) < 0)
            return -1;
        k += s->id >= 0; /* a missing byte (no id) keeps the piece out of the cache */
    }
    if (slot && k == o->n - first) {
        slot->len = (uint8_t)n;
        slot->n = (uint8_t)k;
        memcpy(slot->bytes, w + start, n);
        memcpy(slot->ids, o->ids + first, k * sizeof *o->ids);
    }
    return 0;
#undef ORIG
}

/* Encodes " " + piece: the space has an empty span at the piece's start. */
static int encode_prefixed(bpe_out *o, encoder *en, const bpe *t, const char *w, span p,
                           const size_t *map, size_t base)
{
    size_t n = p.end - p.start + 1;
    if (n + 1 > en->pcap) {
        size_t cap = 2 * n + 16;
        char *b = realloc(en->pbuf, cap);
        if (b)
            en->pbuf = b;
        size_t *m = realloc(en->pmap, cap * sizeof *m);
        if (m)
            en->pmap = m;
        if (!b || !m)
            return -1;
        en->pcap = cap;
    }
    en->pbuf[0] = ' ';
    memcpy(en->pbuf + 1, w + p.start, n - 1);
    en->pmap[0] = map ? map[p.start] : base + p.start;
    for (size_t i = 1; i <= n; i++)
        en->pmap[i] = map ? map[p.start + i - 1] : base + p.start + i - 1;
    return encode_piece(o, en, t, en->pbuf, 0, n, en->pmap, 0);
}

static size_t utf8_len(uint8_t c)
{
    return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
}

/* Splits every span of en->cur by one step into en->next (HF's behaviors). */
static int split_step(encoder *en, const bpe_split *sp, const char *w)
{
    en->next.n = 0;
    for (size_t k = 0; k < en->cur.n; k++) {
        size_t s0 = en->cur.v[k].start, s1 = en->cur.v[k].end, at = s0;
        int prev_match = 0;
        size_t first = en->next.n;
        while (at <= s1) {
            size_t ms, me;
            if (sp->re) {
                int rc = pcre2_match(sp->re, (PCRE2_SPTR)(w + s0), s1 - s0, at - s0,
                                     PCRE2_NO_UTF_CHECK, en->md, NULL);
                if (rc == PCRE2_ERROR_NOMATCH)
                    ms = me = s1 + 1;
                else if (rc < 0)
                    return -1;
                else {
                    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(en->md);
                    ms = s0 + ov[0], me = s0 + ov[1];
                }
            } else {
                const char *hit = memmem(w + at, s1 - at, sp->literal, sp->literal_len);
                ms = hit ? (size_t)(hit - w) : s1 + 1;
                me = hit ? ms + sp->literal_len : s1 + 1;
            }
            /* Pieces in order: the gap before the match, then the match. */
            for (int part = 0; part < 2; part++) {
                size_t a = part ? ms : at, b = part ? me : (ms <= s1 ? ms : s1);
                if (part && ms > s1)
                    break;
                if (a >= b)
                    continue;
                int is_match = part ^ sp->invert;
                span *last = en->next.n > first ? &en->next.v[en->next.n - 1] : NULL;
                switch (sp->behavior) {
                case BPE_SPLIT_REMOVED:
                    if (!is_match && spans_push(&en->next, a, b) < 0)
                        return -1;
                    break;
                case BPE_SPLIT_MERGED_PREV:
                    if (is_match && !prev_match && last)
                        last->end = b;
                    else if (spans_push(&en->next, a, b) < 0)
                        return -1;
                    break;
                case BPE_SPLIT_MERGED_NEXT:
                    if (last && prev_match && !is_match && last->end == a)
                        last->end = b; /* the match before opens this piece */
                    else if (spans_push(&en->next, a, b) < 0)
                        return -1;
                    break;
                case BPE_SPLIT_CONTIGUOUS:
                    if (last && is_match == prev_match)
                        last->end = b;
                    else if (spans_push(&en->next, a, b) < 0)
                        return -1;
                    break;
                default:
                    if (spans_push(&en->next, a, b) < 0)
                        return -1;
                }
                prev_match = is_match;
            }
            if (ms > s1)
                break;
            at = me > ms ? me : me + (me < s1 ? utf8_len((uint8_t)w[me]) : 1);
        }
    }
    spans tmp = en->cur;
    en->cur = en->next;
    en->next = tmp;
    return 0;
}

/* One stretch of text between added tokens: text[a, b) of the input. */
static int encode_stretch(bpe_out *o, encoder *en, const bpe *t, const char *text, size_t a,
                          size_t b, alarm_err *e)
{
    char *norm = NULL, *w;
    size_t *map = NULL, n;
    if (t->nfc && bpe_nfc(&norm, &n, &map, text + a, b - a, e) < 0)
        return -1;
    /* A ByteLevel step that runs first prefixes the whole stretch; one after
     * Split steps prefixes each piece (encode_prefixed). */
    int prefix = t->add_prefix_space && t->byte_level_at == 0 && text[a] != ' ' &&
                 (!norm || norm[0] != ' ');
    if (!norm && !prefix) {
        w = (char *)text + a;
        n = b - a;
    } else {
        const char *src = norm ? norm : text + a;
        size_t sn = norm ? n : b - a;
        w = malloc(sn + 1);
        size_t *m = malloc((sn + 2) * sizeof *m);
        if (!w || !m) {
            free(w), free(m), free(norm), free(map);
            return err_set(e, "out of memory");
        }
        w[0] = ' ';
        m[0] = a;
        memcpy(w + prefix, src, sn);
        for (size_t i = 0; i <= sn; i++)
            m[i + prefix] = a + (map ? map[i] : i);
        free(norm), free(map);
        norm = w;
        map = m;
        n = sn + prefix;
    }
    int rc = 0;
    en->cur.n = 0;
    if (spans_push(&en->cur, 0, n) < 0)
        rc = err_set(e, "out of memory");
    for (size_t i = 0; rc == 0 && i < t->n_splits; i++)
        if (split_step(en, &t->splits[i], w) < 0)
            rc = err_set(e, "pre-tokenizer regex failed (match limit?)");
    int per_piece = t->add_prefix_space && t->byte_level_at > 0;
    for (size_t k = 0; rc == 0 && k < en->cur.n; k++) {
        span p = en->cur.v[k];
        if ((per_piece && w[p.start] != ' ' ? encode_prefixed(o, en, t, w, p, map, a)
                                             : encode_piece(o, en, t, w, p.start, p.end, map, a)) < 0)
            rc = err_set(e, "out of memory");
    }
    free(norm);
    free(map);
    return rc;
}

/* The length of the White_Space character ending at s[i] (i > lo), or 0. */
static size_t space_before(const char *s, size_t lo, size_t i)
{
    size_t k = i - 1;
    while (k > lo && ((uint8_t)s[k] & 0xC0) == 0x80)
        k--;
    size_t j = k;
    uint32_t cp = bpe_utf8_next(s, &j);
    return j == i && u_isUWhiteSpace((UChar32)cp) ? i - k : 0;
}

/* The length of the White_Space character starting at s[i] (i < len), or 0. */
static size_t space_at(const char *s, size_t len, size_t i)
{
    size_t j = i;
    uint32_t cp = bpe_utf8_next(s, &j);
    return j <= len && u_isUWhiteSpace((UChar32)cp) ? j - i : 0;
}

static int is_word(uint8_t c)
{
    return c >= 0x80 || c == '_' || (c >= '0' && c <= '9') || ((c | 32) >= 'a' && (c | 32) <= 'z');
}

/* The longest added token at text[i] (lstrip/rstrip widen its span over
 * spaces; single_word needs word boundaries). Returns its index or -1. */
static long added_at(const bpe *t, const char *text, size_t len, size_t i, size_t lo,
                     size_t *ms, size_t *me)
{
    long best = -1;
    size_t best_len = 0;
    for (size_t k = 0; k < t->n_added; k++) {
        const bpe_added *ad = &t->added[k];
        if (ad->len <= best_len || ad->len > len - i || memcmp(text + i, ad->content, ad->len))
            continue;
        if (ad->single_word && ((i > 0 && is_word((uint8_t)text[i - 1])) ||
                                (i + ad->len < len && is_word((uint8_t)text[i + ad->len]))))
            continue;
        best = (long)k;
        best_len = ad->len;
    }
    if (best < 0)
        return -1;
    const bpe_added *ad = &t->added[best];
    *ms = i;
    *me = i + ad->len;
    /* Unicode White_Space, as Rust's char::is_whitespace that HF uses. */
    for (size_t k; ad->lstrip && *ms > lo && (k = space_before(text, lo, *ms));)
        *ms -= k;
    for (size_t k; ad->rstrip && *me < len && (k = space_at(text, len, *me));)
        *me += k;
    return best;
}

static int encode_text(bpe_out *o, encoder *en, const bpe *t, const char *text, size_t len,
                       alarm_err *e)
{
    size_t from = 0;
    for (size_t i = 0; i < len; i++) {
        size_t ms, me;
        long k;
        if (!t->added_first[(uint8_t)text[i]] || (k = added_at(t, text, len, i, from, &ms, &me)) < 0)
            continue;
        if (ms > from && encode_stretch(o, en, t, text, from, ms, e) < 0)
            return -1;
        if (out_push(o, t->added[k].id, ms, me) < 0)
            return err_set(e, "out of memory");
        from = me;
        i = me - 1;
    }
    if (len > from)
        return encode_stretch(o, en, t, text, from, len, e);
    return 0;
}

int bpe_encode(bpe_out *out, const bpe *t, const char *text, size_t len, int flags, alarm_err *e)
{
    out->n = 0;
    size_t bad;
    if (!utf8_valid(text, len, &bad))
        return err_set(e, "invalid UTF-8 at byte %zu", (size_t)bad);
    for (size_t i = 0; flags & BPE_ADD_SPECIAL && i < t->n_prefix; i++)
        if (out_push(out, t->prefix[i], 0, 0) < 0)
            return err_set(e, "out of memory");
    encoder *en = out->scratch;
    if (!en && !(en = out->scratch = calloc(1, sizeof *en)))
        return err_set(e, "out of memory");
    if (!en->md && !(en->md = pcre2_match_data_create(1, NULL)))
        return err_set(e, "out of memory");
    if (!en->cache)
        en->cache = malloc(CACHE_SLOTS * sizeof *en->cache); /* optional: NULL runs uncached */
    if (en->cache && en->serial != t->serial) {
        for (size_t i = 0; i < CACHE_SLOTS; i++)
            en->cache[i].len = 0;
        en->serial = t->serial;
    }
    int rc = encode_text(out, en, t, text, len, e);
    for (size_t i = 0; rc == 0 && flags & BPE_ADD_SPECIAL && i < t->n_suffix; i++)
        if (out_push(out, t->suffix[i], len, len) < 0)
            rc = err_set(e, "out of memory");
    return rc;
}

void bpe_out_free(bpe_out *out)
{
    encoder *en = out->scratch;
    if (en) {
        pcre2_match_data_free(en->md);
        free(en->cur.v), free(en->next.v), free(en->sym), free(en->heap), free(en->cache);
        free(en->pbuf), free(en->pmap);
        free(en);
    }
    free(out->ids);
    free(out->offsets);
    memset(out, 0, sizeof *out);
}
