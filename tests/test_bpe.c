/* Unit tests for bpe on small tokenizers built here: merges in both forms,
 * ignore_merges, added tokens, the BOS/EOS template, offsets inside
 * multi-byte characters, decoding, NFC, and clear errors on bad files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpe.h"
#include "bpe_impl.h"

/* A tokenizer.json with the 256 byte tokens (ids 0..255 in byte order),
 * then `extra` tokens, merges, and the given JSON pieces spliced in. */
static char *make_json(const char *const *extra, const char *const *merges, int pairs,
                       const char *model_extra, const char *rest)
{
    cJSON *vocab = cJSON_CreateObject(), *m = cJSON_CreateArray();
    char name[64];
    int id = 0;
    for (int b = 0; b < 256; b++, id++) {
        char c = (char)b;
        name[bpe_bytes_to_name(name, &c, 1)] = 0;
        cJSON_AddNumberToObject(vocab, name, id);
    }
    for (; extra && *extra; extra++, id++)
        cJSON_AddNumberToObject(vocab, *extra, id);
    for (; merges && *merges; merges++) {
        if (pairs) {
            char a[64];
            const char *sp = strchr(*merges, ' ');
            snprintf(a, sizeof a, "%.*s", (int)(sp - *merges), *merges);
            cJSON *p = cJSON_CreateArray();
            cJSON_AddItemToArray(p, cJSON_CreateString(a));
            cJSON_AddItemToArray(p, cJSON_CreateString(sp + 1));
            cJSON_AddItemToArray(m, p);
        } else {
            cJSON_AddItemToArray(m, cJSON_CreateString(*merges));
        }
    }
    char *v = cJSON_PrintUnformatted(vocab), *ms = cJSON_PrintUnformatted(m);
    size_t n = strlen(v) + strlen(ms) + strlen(rest) + strlen(model_extra) + 256;
    char *out = malloc(n);
    snprintf(out, n, "{%s%s\"model\": {\"type\": \"BPE\"%s, \"vocab\": %s, \"merges\": %s}}",
             rest, *rest ? ", " : "", model_extra, v, ms);
    free(v), free(ms);
    cJSON_Delete(vocab), cJSON_Delete(m);
    return out;
}

static const char *const hello_extra[] = {"he", "ll", "hell", "hello", "Ġw", "Ġwo", NULL};
static const char *const hello_merges[] = {"h e", "l l", "he ll", "Ġ w", "Ġw o", NULL};
static const char gpt2_pre[] =
    "\"pre_tokenizer\": {\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"use_regex\": true}";

static bpe *load(const char *json)
{
    bpe *t;
    alarm_err e;
    if (bpe_load_json(&t, json, strlen(json), &e) < 0)
        fail_msg("load: %s", e.msg);
    return t;
}

static void expect(const bpe *t, const char *text, int flags, const int32_t *ids,
                   const size_t *offs, size_t n)
{
    bpe_out o = {0};
    alarm_err e;
    if (bpe_encode(&o, t, text, strlen(text), flags, &e) < 0)
        fail_msg("encode: %s", e.msg);
    if (o.n != n) {
        for (size_t i = 0; i < o.n; i++)
            fprintf(stderr, "got %d [%zu,%zu)\n", o.ids[i], o.offsets[2 * i], o.offsets[2 * i + 1]);
    }
    assert_int_equal(o.n, n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(o.ids[i], ids[i]);
        assert_int_equal(o.offsets[2 * i], offs[2 * i]);
        assert_int_equal(o.offsets[2 * i + 1], offs[2 * i + 1]);
    }
    bpe_out_free(&o);
}

static void merges_in_both_forms(void **state)
{
    (void)state;
    for (int pairs = 0; pairs < 2; pairs++) {
        char *j = make_json(hello_extra, hello_merges, pairs, "", gpt2_pre);
        bpe *t = load(j);
        /* "hello" = hell + o (no merge makes "hello"); " wo" merges; "rld" stays bytes. */
        const int32_t ids[] = {258, 'o', 261, 'r', 'l', 'd'};
        const size_t offs[] = {0, 4, 4, 5, 5, 8, 8, 9, 9, 10, 10, 11};
        expect(t, "hello world", 0, ids, offs, 6);
        assert_int_equal(bpe_token_to_id(t, "Ġwo"), 261);
        assert_int_equal(bpe_vocab_size(t), 262);
        bpe_free(t);
        free(j);
    }
}

static void ignore_merges_takes_whole_words(void **state)
{
    (void)state;
    char *j = make_json(hello_extra, hello_merges, 0, ", \"ignore_merges\": true", gpt2_pre);
    bpe *t = load(j);
    const int32_t ids[] = {259, 'x'};
    const size_t offs[] = {0, 5, 5, 6};
    expect(t, "hellox", 0, (const int32_t[]){258, 'o', 'x'}, (const size_t[]){0, 4, 4, 5, 5, 6}, 3);
    expect(t, "hello", 0, ids, offs, 1);
    bpe_free(t);
    free(j);
}

static void added_tokens_and_template(void **state)
{
    (void)state;
    char rest[1024];
    snprintf(rest, sizeof rest,
             "\"added_tokens\": [{\"id\": 262, \"content\": \"<s>\", \"special\": true},"
             " {\"id\": 263, \"content\": \"</s>\", \"special\": true},"
             " {\"id\": 264, \"content\": \"[X]\", \"special\": false, \"lstrip\": true}], %s,"
             " \"post_processor\": {\"type\": \"TemplateProcessing\", \"single\": ["
             "{\"SpecialToken\": {\"id\": \"<s>\", \"type_id\": 0}}, {\"Sequence\": {\"id\": \"A\"}},"
             "{\"SpecialToken\": {\"id\": \"</s>\", \"type_id\": 0}}], \"special_tokens\": {"
             "\"<s>\": {\"id\": \"<s>\", \"ids\": [262], \"tokens\": [\"<s>\"]},"
             "\"</s>\": {\"id\": \"</s>\", \"ids\": [263], \"tokens\": [\"</s>\"]}}}", gpt2_pre);
    char *j = make_json(hello_extra, hello_merges, 0, "", rest);
    bpe *t = load(j);
    /* Special tokens split a word; lstrip takes the spaces before [X]. */
    const int32_t ids[] = {262, 'h', 263, 'o', 264, 'a'};
    const size_t offs[] = {0, 3, 3, 4, 4, 8, 8, 9, 9, 14, 14, 15};
    expect(t, "<s>h</s>o  [X]a", 0, ids, offs, 6);
    const int32_t ids2[] = {262, 256, 263};
    const size_t offs2[] = {0, 0, 0, 2, 2, 2};
    expect(t, "he", BPE_ADD_SPECIAL, ids2, offs2, 3);
    assert_int_equal(bpe_bos_id(t), 262);
    assert_int_equal(bpe_eos_id(t), 263);
    assert_true(bpe_is_special(t, 262));
    assert_false(bpe_is_special(t, 264));
    char *bytes;
    size_t n;
    alarm_err e;
    assert_int_equal(bpe_decode(&bytes, &n, t, ids, 6, 0, &e), 0);
    assert_string_equal(bytes, "<s>h</s>o[X]a"); /* lstrip's spaces belong to [X] */
    free(bytes);
    assert_int_equal(bpe_decode(&bytes, &n, t, ids, 6, BPE_SKIP_SPECIAL, &e), 0);
    assert_string_equal(bytes, "ho[X]a");
    free(bytes);
    assert_int_equal(bpe_decode(&bytes, &n, t, (const int32_t[]){1, 99999}, 2, 0, &e), -1);
    assert_non_null(strstr(e.msg, "99999"));
    bpe_free(t);
    free(j);
}

static void offsets_inside_characters(void **state)
{
    (void)state;
    char *j = make_json(NULL, NULL, 0, "", gpt2_pre);
    bpe *t = load(j);
    /* "é€" with no merges: one token per byte, each spanning its byte. */
    const int32_t ids[] = {0xC3, 0xA9, 0xE2, 0x82, 0xAC};
    const size_t offs[] = {0, 1, 1, 2, 2, 3, 3, 4, 4, 5};
    expect(t, "é€", 0, ids, offs, 5);
    bpe_out o = {0};
    alarm_err e;
    assert_int_equal(bpe_encode(&o, t, "ab\xC3(", 4, 0, &e), -1);
    assert_non_null(strstr(e.msg, "UTF-8"));
    assert_int_equal(bpe_encode(&o, t, "\xED\xA0\x80", 3, 0, &e), -1); /* a surrogate */
    assert_int_equal(bpe_encode(&o, t, "", 0, 0, &e), 0);
    assert_int_equal(o.n, 0);
    bpe_out_free(&o);
    bpe_free(t);
    free(j);
}

static void nfc_offsets_map_to_input(void **state)
{
    (void)state;
    char rest[512];
    snprintf(rest, sizeof rest, "\"normalizer\": {\"type\": \"NFC\"}, %s", gpt2_pre);
    char *j = make_json(NULL, NULL, 0, "", rest);
    bpe *t = load(j);
    /* "xe\u0301y" -> "xéy": é's two bytes map back to the three of e+U+0301. */
    const int32_t ids[] = {'x', 0xC3, 0xA9, 'y'};
    const size_t offs[] = {0, 1, 1, 1, 1, 4, 4, 5};
    expect(t, "xe\xCC\x81y", 0, ids, offs, 4);
    bpe_free(t);
    free(j);
}

static void rejects_bad_files(void **state)
{
    (void)state;
    static const struct {
        const char *json, *want;
    } cases[] = {
        {"{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [", "malformed JSON"},
        {"[1, 2]", "JSON object"},
        {"{}", "no \"model\""},
        {"{\"model\": {\"type\": \"WordPiece\", \"vocab\": {}}}", "WordPiece"},
        {"{\"model\": {\"type\": \"BPE\", \"vocab\": [1], \"merges\": []}}", "model.vocab"},
        {"{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": \"x\"}, \"merges\": []}}", "integer id"},
        {"{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": -1}, \"merges\": []}}", "integer id"},
        {"{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 0}, \"merges\": []}}", "twice"},
        {"{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [\"a q\"]}}",
         "\"q\" is not in the vocabulary"},
        {"{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [\"a a\"]}}",
         "\"aa\" is not in the vocabulary"},
        {"{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [7]}}", "merges[0]"},
        {"{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}}", "ByteLevel"},
        {"{\"pre_tokenizer\": {\"type\": \"Whitespace\"}, \"model\": {\"type\": \"BPE\", "
         "\"vocab\": {\"a\": 0}, \"merges\": []}}", "Whitespace"},
        {"{\"pre_tokenizer\": {\"type\": \"Split\", \"pattern\": {\"Regex\": \"(\"}, \"behavior\": "
         "\"Isolated\"}, \"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}}", "regex"},
        {"{\"normalizer\": {\"type\": \"Lowercase\"}, \"pre_tokenizer\": {\"type\": \"ByteLevel\"}, "
         "\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}}", "Lowercase"},
        {"{\"added_tokens\": [{\"id\": 1}], \"pre_tokenizer\": {\"type\": \"ByteLevel\"}, "
         "\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}}", "content"},
        {"{\"pre_tokenizer\": {\"type\": \"ByteLevel\"}, \"post_processor\": {\"type\": "
         "\"TemplateProcessing\", \"single\": [{\"SpecialToken\": {\"id\": \"<s>\"}}]}, "
         "\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}}", "<s>"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        bpe *t = (bpe *)1;
        alarm_err e = {{0}};
        int rc = bpe_load_json(&t, cases[i].json, strlen(cases[i].json), &e);
        if (rc != -1 || t != NULL || !strstr(e.msg, cases[i].want))
            fail_msg("case %zu: rc %d, message \"%s\", wanted \"%s\"", i, rc, e.msg, cases[i].want);
    }
    bpe *t;
    alarm_err e;
    assert_int_equal(bpe_load(&t, "/nonexistent/tokenizer.json", &e), -1);
    assert_non_null(strstr(e.msg, "/nonexistent"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(merges_in_both_forms),
        cmocka_unit_test(ignore_merges_takes_whole_words),
        cmocka_unit_test(added_tokens_and_template),
        cmocka_unit_test(offsets_inside_characters),
        cmocka_unit_test(nfc_offsets_map_to_input),
        cmocka_unit_test(rejects_bad_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
