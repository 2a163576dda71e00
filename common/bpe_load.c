/* bpe_load: reads a Hugging Face tokenizer.json (and tokenizer_config.json)
 * into a bpe. Only byte-level BPE is accepted; every other model,
 * pre-tokenizer or normalizer is refused with a message naming it, so a
 * tokenizer we would silently get wrong never loads. */
#include "bpe_impl.h"
#include "fsio.h"
#include "tfm_lora_ckpt.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *type_of(const cJSON *o)
{
    const cJSON *ty = cJSON_GetObjectItemCaseSensitive(o, "type");
    return cJSON_IsString(ty) ? ty->valuestring : NULL;
}

static int flag(const cJSON *o, const char *name, int dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsBool(v) ? cJSON_IsTrue(v) : dflt;
}

/* One vocab entry "name": id. */
static int load_vocab_entry(bpe *t, const cJSON *it, char *buf, alarm_err *e)
{
    if (!cJSON_IsNumber(it) || it->valuedouble < 0 || it->valuedouble > INT32_MAX - 1 ||
        it->valuedouble != (double)(int32_t)it->valuedouble)
        return err_set(e, "model.vocab: \"%.60s\": expected a non-negative integer id",
                       it->string);
    size_t n = strlen(it->string);
    long raw = bpe_name_to_bytes(buf, it->string, n);
    int32_t id = (int32_t)it->valuedouble;
    if (raw < 0) {
        /* Outside the byte-level alphabet: the model can never produce it
         * from bytes; keep its text for decoding. */
        memcpy(buf, it->string, n);
        raw = (long)n;
    }
    if (bpe_set_token(t, id, buf, (size_t)raw, BPE_TOK_MODEL, e) < 0)
        return err_prefix(e, "model.vocab");
    int32_t dup = bpe_strmap_put(t, &t->vocab, id);
    if (dup == -2)
        return err_set(e, "out of memory");
    if (dup >= 0)
        return err_set(e, "model.vocab: tokens %d and %d are the same bytes", (int)dup, (int)id);
    return 0;
}

static int load_vocab(bpe *t, const cJSON *vocab, alarm_err *e)
{
    if (!cJSON_IsObject(vocab))
        return err_set(e, "model.vocab: expected an object");
    size_t n = (size_t)cJSON_GetArraySize(vocab), maxlen = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, vocab) {
        size_t l = strlen(it->string);
        if (l > maxlen)
            maxlen = l;
    }
    if (bpe_strmap_init(&t->vocab, n) < 0)
        return err_set(e, "out of memory");
    char *buf = malloc(maxlen + 1);
    if (!buf)
        return err_set(e, "out of memory");
    int rc = 0;
    cJSON_ArrayForEach(it, vocab) {
        if ((rc = load_vocab_entry(t, it, buf, e)) < 0)
            break;
    }
    free(buf);
    return rc;
}

/* A merge is "a b" (older files) or ["a", "b"] (newer ones). */
static int merge_parts(const cJSON *m, const char **a, size_t *na, const char **b, size_t *nb)
{
    if (cJSON_IsString(m)) {
        const char *s = m->valuestring, *sp = strchr(s, ' ');
        if (!sp || strchr(sp + 1, ' '))
            return -1;
        *a = s, *na = (size_t)(sp - s), *b = sp + 1, *nb = strlen(sp + 1);
        return 0;
    }
    if (cJSON_IsArray(m) && cJSON_GetArraySize(m) == 2) {
        const cJSON *x = cJSON_GetArrayItem(m, 0), *y = cJSON_GetArrayItem(m, 1);
        if (!cJSON_IsString(x) || !cJSON_IsString(y))
            return -1;
        *a = x->valuestring, *na = strlen(*a), *b = y->valuestring, *nb = strlen(*b);
        return 0;
    }
    return -1;
}

static int32_t name_id(const bpe *t, const char *name, size_t n, char *buf)
{
    long raw = bpe_name_to_bytes(buf, name, n);
    if (raw < 0)
        return -1;
    return bpe_strmap_get(t, &t->vocab, buf, (size_t)raw);
}

static int load_merges(bpe *t, const cJSON *merges, alarm_err *e)
{
    if (!cJSON_IsArray(merges))
        return err_set(e, "model.merges: expected an array");
    int n = cJSON_GetArraySize(merges), rank = 0;
    if (bpe_pairmap_init(&t->merges, (size_t)n) < 0)
        return err_set(e, "out of memory");
    char *buf = NULL, *cat = NULL;
    size_t cap = 0;
    int rc = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, merges) {
        const char *a, *b;
        size_t na, nb;
        if (merge_parts(m, &a, &na, &b, &nb) < 0) {
            rc = err_set(e, "model.merges[%d]: expected \"a b\" or [\"a\", \"b\"]", rank);
            break;
        }
        if (na + nb + 1 > cap) {
            cap = 2 * (na + nb + 1);
            free(buf), free(cat);
            buf = malloc(cap), cat = malloc(cap);
            if (!buf || !cat) {
                rc = err_set(e, "out of memory");
                break;
            }
        }
        int32_t ia = name_id(t, a, na, buf), ib = name_id(t, b, nb, buf);
        memcpy(cat, a, na);
        memcpy(cat + na, b, nb);
        int32_t im = name_id(t, cat, na + nb, buf);
        if (ia < 0 || ib < 0 || im < 0) {
            rc = err_set(e, "model.merges[%d]: \"%.*s\" is not in the vocabulary", rank,
                         ia < 0 ? (int)na : ib < 0 ? (int)nb : (int)(na + nb),
                         ia < 0 ? a : ib < 0 ? b : cat);
            break;
        }
        if (bpe_pairmap_put(&t->merges, ia, ib, rank, im) < 0) {
            rc = err_set(e, "out of memory");
            break;
        }
        rank++; /* a repeated pair keeps its first (best) rank */
    }
    free(buf);
    free(cat);
    return rc;
}

static int load_model(bpe *t, const cJSON *model, alarm_err *e)
{
    const char *ty = type_of(model);
    if (!cJSON_IsObject(model))
        return err_set(e, "model: expected an object");
    if (ty && strcmp(ty, "BPE"))
        return err_set(e, "model.type \"%.40s\" is not supported (only BPE)", ty);
    const cJSON *pfx = cJSON_GetObjectItemCaseSensitive(model, "continuing_subword_prefix");
    const cJSON *sfx = cJSON_GetObjectItemCaseSensitive(model, "end_of_word_suffix");
    if ((cJSON_IsString(pfx) && *pfx->valuestring) || (cJSON_IsString(sfx) && *sfx->valuestring))
        return err_set(e, "model: subword prefixes/suffixes are not supported (byte-level BPE only)");
    if (flag(model, "byte_fallback", 0))
        return err_set(e, "model: byte_fallback is not supported (byte-level BPE only)");
    t->ignore_merges = flag(model, "ignore_merges", 0);
    if (load_vocab(t, cJSON_GetObjectItemCaseSensitive(model, "vocab"), e) < 0 ||
        load_merges(t, cJSON_GetObjectItemCaseSensitive(model, "merges"), e) < 0)
        return -1;
    const cJSON *unk = cJSON_GetObjectItemCaseSensitive(model, "unk_token");
    if (cJSON_IsString(unk))
        t->unk_id = bpe_token_to_id(t, unk->valuestring);
    return 0;
}

static int load_added(bpe *t, const cJSON *arr, alarm_err *e)
{
    if (!arr || cJSON_IsNull(arr))
        return 0;
    if (!cJSON_IsArray(arr))
        return err_set(e, "added_tokens: expected an array");
    int n = cJSON_GetArraySize(arr), i = 0;
    t->added = calloc((size_t)n + 1, sizeof *t->added);
    if (!t->added)
        return err_set(e, "out of memory");
    const cJSON *a;
    cJSON_ArrayForEach(a, arr) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(a, "id");
        const cJSON *content = cJSON_GetObjectItemCaseSensitive(a, "content");
        if (!cJSON_IsNumber(id) || id->valuedouble < 0 || id->valuedouble > INT32_MAX - 1 ||
            id->valuedouble != (double)(int32_t)id->valuedouble)
            return err_set(e, "added_tokens[%d].id: expected a non-negative integer", i);
        if (!cJSON_IsString(content) || !*content->valuestring)
            return err_set(e, "added_tokens[%d].content: expected a non-empty string", i);
        bpe_added *ad = &t->added[t->n_added];
        ad->id = (int32_t)id->valuedouble;
        ad->len = strlen(content->valuestring);
        ad->special = (uint8_t)flag(a, "special", 0);
        ad->lstrip = (uint8_t)flag(a, "lstrip", 0);
        ad->rstrip = (uint8_t)flag(a, "rstrip", 0);
        ad->single_word = (uint8_t)flag(a, "single_word", 0);
        if (!(ad->content = strdup(content->valuestring)))
            return err_set(e, "out of memory");
        t->n_added++;
        int fl = BPE_TOK_ADDED | (ad->special ? BPE_TOK_SPECIAL : 0);
        if ((size_t)ad->id < t->n_ids && t->tok_flags[ad->id]) {
            if (t->tok_flags[ad->id] & BPE_TOK_ADDED)
                return err_set(e, "added_tokens[%d]: id %d given twice", i, (int)ad->id);
            t->tok_flags[ad->id] |= (uint8_t)fl; /* also a model token (GPT-2's <|endoftext|>) */
        } else if (bpe_set_token(t, ad->id, ad->content, ad->len, fl, e) < 0) {
            return err_prefix(e, "added_tokens[%d]", i);
        }
        i++;
    }
    return 0;
}

int bpe_load_pretok(bpe *t, const cJSON *pt, alarm_err *e);
int bpe_load_normalizer(bpe *t, const cJSON *nz, alarm_err *e);
int bpe_load_post(bpe *t, const cJSON *pp, alarm_err *e);
int bpe_load_decoder(const cJSON *dec, alarm_err *e);

/* Names BOS/EOS/PAD when tokenizer_config.json does not: the template's
 * leading special token, then the usual names. */
static void guess_specials(bpe *t)
{
    static const char *const eos_names[] = {"<|endoftext|>", "<|end_of_text|>", "</s>", "<eos>"};
    static const char *const bos_names[] = {"<|begin_of_text|>", "<s>", "<bos>"};
    if (t->bos < 0 && t->n_prefix)
        t->bos = t->prefix[0];
    for (size_t i = 0; t->bos < 0 && i < sizeof bos_names / sizeof *bos_names; i++)
        t->bos = bpe_token_to_id(t, bos_names[i]);
    for (size_t i = 0; t->eos < 0 && i < sizeof eos_names / sizeof *eos_names; i++)
        t->eos = bpe_token_to_id(t, eos_names[i]);
}

static int load_root(bpe *t, const cJSON *root, alarm_err *e)
{
    if (!cJSON_IsObject(root))
        return err_set(e, "expected a JSON object at the top");
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    if (!model)
        return err_set(e, "no \"model\"");
    if (load_model(t, model, e) < 0 ||
        load_added(t, cJSON_GetObjectItemCaseSensitive(root, "added_tokens"), e) < 0 ||
        bpe_load_normalizer(t, cJSON_GetObjectItemCaseSensitive(root, "normalizer"), e) < 0 ||
        bpe_load_pretok(t, cJSON_GetObjectItemCaseSensitive(root, "pre_tokenizer"), e) < 0 ||
        bpe_load_post(t, cJSON_GetObjectItemCaseSensitive(root, "post_processor"), e) < 0 ||
        bpe_load_decoder(cJSON_GetObjectItemCaseSensitive(root, "decoder"), e) < 0)
        return -1;
    bpe_finish(t);
    guess_specials(t);
    return 0;
}

int bpe_load_json(bpe **out, const char *json, size_t len, alarm_err *e)
{
    *out = NULL;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
    if (!root) {
        size_t at = end && end >= json ? (size_t)(end - json) : 0;
        return err_set(e, "malformed JSON near byte %zu", at);
    }
    bpe *t = bpe_new();
    if (!t) {
        cJSON_Delete(root);
        return err_set(e, "out of memory");
    }
    int rc = load_root(t, root, e);
    cJSON_Delete(root);
    if (rc < 0) {
        bpe_free(t);
        return -1;
    }
    *out = t;
    return 0;
}

/* The id named by a tokenizer_config.json entry: a string or {"content": s}. */
static int32_t config_token(const bpe *t, const cJSON *v)
{
    if (cJSON_IsObject(v))
        v = cJSON_GetObjectItemCaseSensitive(v, "content");
    return cJSON_IsString(v) ? bpe_token_to_id(t, v->valuestring) : -1;
}

int bpe_apply_config_json(bpe *t, const char *json, size_t len, alarm_err *e)
{
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return err_set(e, "tokenizer_config.json: malformed JSON");
    }
    static const char *const keys[] = {"bos_token", "eos_token", "pad_token"};
    int32_t *dst[] = {&t->bos, &t->eos, &t->pad};
    for (int i = 0; i < 3; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, keys[i]);
        if (!v || cJSON_IsNull(v))
            continue;
        int32_t id = config_token(t, v);
        if (id < 0) {
            cJSON_Delete(root);
            return err_set(e, "tokenizer_config.json: %s names no token of the vocabulary", keys[i]);
        }
        *dst[i] = id;
    }
    cJSON_Delete(root);
    return 0;
}

int bpe_load(bpe **out, const char *path, alarm_err *e)
{
    *out = NULL;
    struct stat st;
    if (stat(path, &st) < 0)
        return err_set(e, "%s: %s", path, strerror(errno));
    int is_dir = S_ISDIR(st.st_mode);
    char base[8192], probe[4200];
    snprintf(probe, sizeof probe, "%s/tokenizer.json", path);
    if (is_dir && access(probe, F_OK) != 0 && tfm_lora_is_adapter_dir(path)) {
        tfm_lora_opts o; /* an adapter without its own tokenizer: its base's */
        return tfm_lora_read_dir(path, &o, base, sizeof base, e) ? -1 : bpe_load(out, base, e);
    }
    size_t pl = strlen(path) + 32;
    char *file = malloc(pl), *buf = NULL;
    if (!file)
        return err_set(e, "out of memory");
    snprintf(file, pl, is_dir ? "%s/tokenizer.json" : "%s", path);
    size_t len;
    int rc = (buf = fsio_read_file(file, SIZE_MAX, &len, e)) ? 0 : -1;
    if (rc == 0 && (rc = bpe_load_json(out, buf, len, e)) < 0)
        err_prefix(e, "%s", file);
    free(buf);
    if (rc == 0 && is_dir) {
        snprintf(file, pl, "%s/tokenizer_config.json", path);
        if (stat(file, &st) == 0) {
            if ((rc = (buf = fsio_read_file(file, SIZE_MAX, &len, e)) ? 0 : -1) == 0) {
                rc = bpe_apply_config_json(*out, buf, len, e);
                free(buf);
            }
            if (rc < 0) {
                if (!strstr(e ? e->msg : "", file))
                    err_prefix(e, "%s", path);
                bpe_free(*out);
                *out = NULL;
            }
        }
    }
    free(file);
    return rc;
}
