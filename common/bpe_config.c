/* bpe_config: the parts of tokenizer.json around the model: normalizer,
 * pre-tokenizer, post-processor and decoder. Each accepts the forms that
 * byte-level BPE tokenizers use and names anything else as unsupported. */
#include "bpe_impl.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

int bpe_load_pretok(bpe *t, const cJSON *pt, alarm_err *e);
int bpe_load_normalizer(bpe *t, const cJSON *nz, alarm_err *e);
int bpe_load_post(bpe *t, const cJSON *pp, alarm_err *e);
int bpe_load_decoder(const cJSON *dec, alarm_err *e);

static const char *type_of(const cJSON *o)
{
    const cJSON *ty = cJSON_GetObjectItemCaseSensitive(o, "type");
    return cJSON_IsString(ty) ? ty->valuestring : "";
}

static int flag(const cJSON *o, const char *name, int dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsBool(v) ? cJSON_IsTrue(v) : dflt;
}

static int split_behavior(const char *s)
{
    static const char *const names[] = {"Isolated", "Removed", "MergedWithPrevious",
                                        "MergedWithNext", "Contiguous"};
    for (int i = 0; i < 5; i++)
        if (!strcmp(s, names[i]))
            return i;
    return -1;
}

static int load_split(bpe *t, const cJSON *sp, alarm_err *e)
{
    const cJSON *pat = cJSON_GetObjectItemCaseSensitive(sp, "pattern");
    const cJSON *beh = cJSON_GetObjectItemCaseSensitive(sp, "behavior");
    int b = cJSON_IsString(beh) ? split_behavior(beh->valuestring) : -1;
    if (b < 0)
        return err_set(e, "pre_tokenizer Split: unknown behavior");
    int invert = flag(sp, "invert", 0);
    const cJSON *re = cJSON_GetObjectItemCaseSensitive(pat, "Regex");
    const cJSON *lit = cJSON_GetObjectItemCaseSensitive(pat, "String");
    if (cJSON_IsString(re))
        return bpe_add_split_regex(t, re->valuestring, strlen(re->valuestring), b, invert, e);
    if (!cJSON_IsString(lit) || !*lit->valuestring)
        return err_set(e, "pre_tokenizer Split: pattern needs a \"Regex\" or a non-empty \"String\"");
    bpe_split *s = realloc(t->splits, (t->n_splits + 1) * sizeof *s);
    if (!s)
        return err_set(e, "out of memory");
    t->splits = s;
    char *copy = strdup(lit->valuestring);
    if (!copy)
        return err_set(e, "out of memory");
    t->splits[t->n_splits++] = (bpe_split){.literal = copy, .literal_len = strlen(copy),
                                           .behavior = b, .invert = invert};
    return 0;
}

/* Returns 1 when a ByteLevel step was seen, 0 when not, -1 on error. */
static int load_pretok_item(bpe *t, const cJSON *pt, int depth, alarm_err *e)
{
    const char *ty = type_of(pt);
    if (!strcmp(ty, "ByteLevel")) {
        t->add_prefix_space = flag(pt, "add_prefix_space", 1);
        t->byte_level_at = (int)t->n_splits;
        if (flag(pt, "use_regex", 1)) {
            if (bpe_add_split_regex(t, bpe_gpt2_pattern, strlen(bpe_gpt2_pattern),
                                    BPE_SPLIT_ISOLATED, 0, e) < 0)
                return -1;
            t->splits[t->n_splits - 1].byte_level = 1;
        }
        return 1;
    }
    if (!strcmp(ty, "Split"))
        return load_split(t, pt, e) < 0 ? -1 : 0;
    if (!strcmp(ty, "Sequence") && depth < 4) {
        const cJSON *items = cJSON_GetObjectItemCaseSensitive(pt, "pretokenizers"), *it;
        if (!cJSON_IsArray(items))
            return err_set(e, "pre_tokenizer Sequence: expected \"pretokenizers\": [...]");
        int seen = 0;
        cJSON_ArrayForEach(it, items) {
            int rc = load_pretok_item(t, it, depth + 1, e);
            if (rc < 0)
                return -1;
            seen |= rc;
        }
        return seen;
    }
    return err_set(e, "pre_tokenizer \"%.40s\" is not supported", ty);
}

int bpe_load_pretok(bpe *t, const cJSON *pt, alarm_err *e)
{
    int rc = pt && !cJSON_IsNull(pt) ? load_pretok_item(t, pt, 0, e) : 0;
    if (rc < 0)
        return -1;
    if (rc == 0)
        return err_set(e, "pre_tokenizer: no ByteLevel step (only byte-level BPE is supported)");
    return 0;
}

int bpe_load_normalizer(bpe *t, const cJSON *nz, alarm_err *e)
{
    if (!nz || cJSON_IsNull(nz))
        return 0;
    const char *ty = type_of(nz);
    if (!strcmp(ty, "NFC")) {
        t->nfc = 1;
        return 0;
    }
    if (!strcmp(ty, "Sequence")) {
        const cJSON *items = cJSON_GetObjectItemCaseSensitive(nz, "normalizers"), *it;
        if (!cJSON_IsArray(items))
            return err_set(e, "normalizer Sequence: expected \"normalizers\": [...]");
        cJSON_ArrayForEach(it, items) {
            if (strcmp(type_of(it), "NFC"))
                return err_set(e, "normalizer \"%.40s\" is not supported (only NFC)", type_of(it));
            t->nfc = 1;
        }
        return 0;
    }
    return err_set(e, "normalizer \"%.40s\" is not supported (only NFC)", ty);
}

static int push_id(int32_t **v, size_t *n, int32_t id, alarm_err *e)
{
    int32_t *p = realloc(*v, (*n + 1) * sizeof *p);
    if (!p)
        return err_set(e, "out of memory");
    *v = p;
    p[(*n)++] = id;
    return 0;
}

/* The ids of one SpecialToken piece of a template. */
static int template_special(bpe *t, const cJSON *specials, const char *name, int32_t **v,
                            size_t *n, alarm_err *e)
{
    const cJSON *sp = cJSON_GetObjectItemCaseSensitive(specials, name);
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(sp, "ids"), *id;
    if (!cJSON_IsArray(ids)) {
        int32_t one = bpe_token_to_id(t, name);
        if (one < 0)
            return err_set(e, "post_processor: special token \"%.60s\" is unknown", name);
        return push_id(v, n, one, e);
    }
    cJSON_ArrayForEach(id, ids) {
        if (!cJSON_IsNumber(id) || id->valuedouble < 0 || id->valuedouble >= (double)t->n_ids ||
            !t->tok_flags[(int32_t)id->valuedouble])
            return err_set(e, "post_processor: special token \"%.60s\" has an unknown id", name);
        if (push_id(v, n, (int32_t)id->valuedouble, e) < 0)
            return -1;
    }
    return 0;
}

static int load_template(bpe *t, const cJSON *pp, alarm_err *e)
{
    const cJSON *single = cJSON_GetObjectItemCaseSensitive(pp, "single"), *it;
    const cJSON *specials = cJSON_GetObjectItemCaseSensitive(pp, "special_tokens");
    if (!cJSON_IsArray(single))
        return err_set(e, "post_processor TemplateProcessing: expected \"single\": [...]");
    int seen_seq = 0;
    cJSON_ArrayForEach(it, single) {
        const cJSON *sp = cJSON_GetObjectItemCaseSensitive(it, "SpecialToken");
        if (cJSON_GetObjectItemCaseSensitive(it, "Sequence")) {
            seen_seq = 1;
            continue;
        }
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(sp, "id");
        if (!cJSON_IsString(id))
            return err_set(e, "post_processor TemplateProcessing: bad template piece");
        if (template_special(t, specials, id->valuestring, seen_seq ? &t->suffix : &t->prefix,
                             seen_seq ? &t->n_suffix : &t->n_prefix, e) < 0)
            return -1;
    }
    return 0;
}

/* RobertaProcessing / BertProcessing: {"cls": [name, id], "sep": [name, id]}. */
static int load_cls_sep(bpe *t, const cJSON *pp, alarm_err *e)
{
    const char *keys[2] = {"cls", "sep"};
    for (int i = 0; i < 2; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(pp, keys[i]);
        const cJSON *id = cJSON_GetArrayItem(v, 1);
        if (!cJSON_IsNumber(id) || id->valuedouble < 0 || id->valuedouble >= (double)t->n_ids)
            return err_set(e, "post_processor: \"%s\" needs [token, id]", keys[i]);
        if (push_id(i ? &t->suffix : &t->prefix, i ? &t->n_suffix : &t->n_prefix,
                    (int32_t)id->valuedouble, e) < 0)
            return -1;
    }
    return 0;
}

static int load_post_item(bpe *t, const cJSON *pp, int depth, alarm_err *e)
{
    const char *ty = type_of(pp);
    if (!strcmp(ty, "ByteLevel"))
        return 0; /* only trims offsets, which ours never need */
    if (!strcmp(ty, "TemplateProcessing"))
        return load_template(t, pp, e);
    if (!strcmp(ty, "RobertaProcessing") || !strcmp(ty, "BertProcessing"))
        return load_cls_sep(t, pp, e);
    if (!strcmp(ty, "Sequence") && depth < 4) {
        const cJSON *items = cJSON_GetObjectItemCaseSensitive(pp, "processors"), *it;
        if (!cJSON_IsArray(items))
            return err_set(e, "post_processor Sequence: expected \"processors\": [...]");
        cJSON_ArrayForEach(it, items) {
            if (load_post_item(t, it, depth + 1, e) < 0)
                return -1;
        }
        return 0;
    }
    return err_set(e, "post_processor \"%.40s\" is not supported", ty);
}

int bpe_load_post(bpe *t, const cJSON *pp, alarm_err *e)
{
    if (!pp || cJSON_IsNull(pp))
        return 0;
    return load_post_item(t, pp, 0, e);
}

int bpe_load_decoder(const cJSON *dec, alarm_err *e)
{
    if (!dec || cJSON_IsNull(dec) || !strcmp(type_of(dec), "ByteLevel"))
        return 0;
    if (!strcmp(type_of(dec), "Sequence")) {
        const cJSON *items = cJSON_GetObjectItemCaseSensitive(dec, "decoders"), *it;
        cJSON_ArrayForEach(it, items) {
            if (strcmp(type_of(it), "ByteLevel"))
                return err_set(e, "decoder \"%.40s\" is not supported (only ByteLevel)",
                               type_of(it));
        }
        return 0;
    }
    return err_set(e, "decoder \"%.40s\" is not supported (only ByteLevel)", type_of(dec));
}
