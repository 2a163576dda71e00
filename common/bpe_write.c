/* bpe_write: a bpe back to tokenizer.json text in the layout Hugging Face
 * writes (model BPE with vocab and "a b" merges, ByteLevel pre-tokenizer and
 * decoder, added tokens), so both loaders read it to the same tokenizer. */
#include "bpe_impl.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int32_t rank, a, b;
} merge_rec;

static int by_rank(const void *x, const void *y)
{
    const merge_rec *p = x, *q = y;
    return (p->rank > q->rank) - (p->rank < q->rank);
}

static cJSON *byte_level(int add_prefix_space, int use_regex)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", "ByteLevel");
    cJSON_AddBoolToObject(o, "add_prefix_space", add_prefix_space);
    cJSON_AddBoolToObject(o, "trim_offsets", 1);
    cJSON_AddBoolToObject(o, "use_regex", use_regex);
    return o;
}

/* The name of token id in tokenizer.json (malloc'd): an added token's
 * content, else the byte-level form of its bytes. */
static char *token_name(const bpe *t, int32_t id)
{
    size_t n;
    const char *b = bpe_id_to_bytes(t, id, &n);
    char *s = b ? malloc(2 * n + 1) : NULL;
    if (!s)
        return NULL;
    if (t->tok_flags[id] & BPE_TOK_ADDED) {
        memcpy(s, b, n);
        s[n] = 0;
    } else {
        s[bpe_bytes_to_name(s, b, n)] = 0;
    }
    return s;
}

static cJSON *model_json(const bpe *t)
{
    cJSON *m = cJSON_CreateObject(), *vocab = cJSON_CreateObject(), *merges = cJSON_CreateArray();
    cJSON_AddStringToObject(m, "type", "BPE");
    cJSON_AddNullToObject(m, "dropout");
    char *unk = t->unk_id >= 0 ? token_name(t, t->unk_id) : NULL;
    if (unk)
        cJSON_AddStringToObject(m, "unk_token", unk);
    else
        cJSON_AddNullToObject(m, "unk_token");
    free(unk);
    cJSON_AddStringToObject(m, "continuing_subword_prefix", "");
    cJSON_AddStringToObject(m, "end_of_word_suffix", "");
    cJSON_AddBoolToObject(m, "fuse_unk", 0);
    cJSON_AddBoolToObject(m, "byte_fallback", 0);
    cJSON_AddBoolToObject(m, "ignore_merges", t->ignore_merges);
    for (size_t id = 0; id < t->n_ids; id++) {
        if (!(t->tok_flags[id] & BPE_TOK_MODEL))
            continue;
        char *name = token_name(t, (int32_t)id);
        if (name)
            cJSON_AddItemToObject(vocab, name, cJSON_CreateNumber((double)id));
        free(name);
    }
    cJSON_AddItemToObject(m, "vocab", vocab);
    merge_rec *r = malloc((t->merges.n + 1) * sizeof *r);
    size_t n = 0;
    for (size_t i = 0; r && i < t->merges.cap; i++)
        if (t->merges.keys[i] && n < t->merges.n + 1) {
            uint64_t k = t->merges.keys[i] - 1;
            r[n++] = (merge_rec){t->merges.rank[i], (int32_t)(k >> 32), (int32_t)(uint32_t)k};
        }
    if (r)
        qsort(r, n, sizeof *r, by_rank);
    for (size_t i = 0; r && i < n; i++) {
        char *a = token_name(t, r[i].a), *b = token_name(t, r[i].b);
        char *s = a && b ? malloc(strlen(a) + strlen(b) + 2) : NULL;
        if (s) {
            strcpy(s, a);
            strcat(s, " ");
            strcat(s, b);
            cJSON_AddItemToArray(merges, cJSON_CreateString(s));
        }
        free(a), free(b), free(s);
    }
    free(r);
    cJSON_AddItemToObject(m, "merges", merges);
    return m;
}

static cJSON *pretok_json(const bpe *t)
{
    cJSON *seq = cJSON_CreateArray();
    int bl_regex = 0;
    for (size_t i = 0; i <= t->n_splits; i++) {
        if ((int)i == t->byte_level_at) {
            bl_regex = i < t->n_splits && t->splits[i].byte_level;
            cJSON_AddItemToArray(seq, byte_level(t->add_prefix_space, bl_regex));
            if (bl_regex)
                continue;
        }
        if (i == t->n_splits)
            break;
        static const char *const beh[] = {"Isolated", "Removed", "MergedWithPrevious",
                                          "MergedWithNext", "Contiguous"};
        const bpe_split *sp = &t->splits[i];
        cJSON *o = cJSON_CreateObject(), *pat = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "type", "Split");
        cJSON_AddStringToObject(pat, sp->re ? "Regex" : "String", sp->literal);
        cJSON_AddItemToObject(o, "pattern", pat);
        cJSON_AddStringToObject(o, "behavior", beh[sp->behavior]);
        cJSON_AddBoolToObject(o, "invert", sp->invert);
        cJSON_AddItemToArray(seq, o);
    }
    if (cJSON_GetArraySize(seq) == 1) {
        cJSON *only = cJSON_DetachItemFromArray(seq, 0);
        cJSON_Delete(seq);
        return only;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", "Sequence");
    cJSON_AddItemToObject(o, "pretokenizers", seq);
    return o;
}

static void add_template_piece(const bpe *t, cJSON *single, cJSON *specials, int32_t id)
{
    char *name = token_name(t, id);
    if (!name)
        return;
    cJSON *piece = cJSON_CreateObject(), *st = cJSON_CreateObject();
    cJSON_AddStringToObject(st, "id", name);
    cJSON_AddNumberToObject(st, "type_id", 0);
    cJSON_AddItemToObject(piece, "SpecialToken", st);
    cJSON_AddItemToArray(single, piece);
    if (!cJSON_GetObjectItemCaseSensitive(specials, name)) {
        cJSON *sp = cJSON_CreateObject(), *ids = cJSON_CreateArray(), *toks = cJSON_CreateArray();
        cJSON_AddStringToObject(sp, "id", name);
        cJSON_AddItemToArray(ids, cJSON_CreateNumber(id));
        cJSON_AddItemToArray(toks, cJSON_CreateString(name));
        cJSON_AddItemToObject(sp, "ids", ids);
        cJSON_AddItemToObject(sp, "tokens", toks);
        cJSON_AddItemToObject(specials, name, sp);
    }
    free(name);
}

static cJSON *post_json(const bpe *t)
{
    if (!t->n_prefix && !t->n_suffix)
        return byte_level(0, 0);
    cJSON *o = cJSON_CreateObject(), *single = cJSON_CreateArray(), *pair = cJSON_CreateArray();
    cJSON *specials = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", "TemplateProcessing");
    for (size_t i = 0; i < t->n_prefix; i++)
        add_template_piece(t, single, specials, t->prefix[i]);
    cJSON *seq = cJSON_CreateObject(), *a = cJSON_CreateObject();
    cJSON_AddStringToObject(a, "id", "A");
    cJSON_AddNumberToObject(a, "type_id", 0);
    cJSON_AddItemToObject(seq, "Sequence", a);
    cJSON_AddItemToArray(single, seq);
    for (size_t i = 0; i < t->n_suffix; i++)
        add_template_piece(t, single, specials, t->suffix[i]);
    cJSON_AddItemToArray(pair, cJSON_Duplicate(single, 1));
    cJSON_AddItemToObject(o, "single", single);
    cJSON_AddItemToObject(o, "pair", cJSON_DetachItemFromArray(pair, 0));
    cJSON_Delete(pair);
    cJSON_AddItemToObject(o, "special_tokens", specials);
    return o;
}

int bpe_to_json(char **json, const bpe *t, alarm_err *e)
{
    cJSON *root = cJSON_CreateObject(), *added = cJSON_CreateArray();
    cJSON_AddStringToObject(root, "version", "1.0");
    cJSON_AddNullToObject(root, "truncation");
    cJSON_AddNullToObject(root, "padding");
    for (size_t i = 0; i < t->n_added; i++) {
        const bpe_added *ad = &t->added[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "id", ad->id);
        cJSON_AddStringToObject(o, "content", ad->content);
        cJSON_AddBoolToObject(o, "single_word", ad->single_word);
        cJSON_AddBoolToObject(o, "lstrip", ad->lstrip);
        cJSON_AddBoolToObject(o, "rstrip", ad->rstrip);
        cJSON_AddBoolToObject(o, "normalized", 0);
        cJSON_AddBoolToObject(o, "special", ad->special);
        cJSON_AddItemToArray(added, o);
    }
    cJSON_AddItemToObject(root, "added_tokens", added);
    if (t->nfc) {
        cJSON *nz = cJSON_CreateObject();
        cJSON_AddStringToObject(nz, "type", "NFC");
        cJSON_AddItemToObject(root, "normalizer", nz);
    } else {
        cJSON_AddNullToObject(root, "normalizer");
    }
    cJSON_AddItemToObject(root, "pre_tokenizer", pretok_json(t));
    cJSON_AddItemToObject(root, "post_processor", post_json(t));
    cJSON_AddItemToObject(root, "decoder", byte_level(1, 1));
    cJSON_AddItemToObject(root, "model", model_json(t));
    *json = cJSON_Print(root);
    cJSON_Delete(root);
    if (!*json)
        return err_set(e, "out of memory writing tokenizer.json");
    return 0;
}
