/* Tokenizer parity: our encoder on the real GPT-2 and Qwen3 tokenizer.json
 * files must give the ids Hugging Face's tokenizers.js gave (fixtures from
 * tests/tokenizer/gen-parity.mjs) and the offsets derived there from each
 * token's bytes, over the whole tricky-string corpus. */
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

#define FIX "tests/fixtures/tokenizer/"

static char *slurp_cmd(const char *cmd, size_t *len)
{
    FILE *f = popen(cmd, "r");
    if (!f)
        return NULL;
    size_t cap = 1 << 20, n = 0;
    char *b = malloc(cap);
    *len = 0;
    while (b && (n += fread(b + n, 1, cap - n, f)) == cap)
        b = realloc(b, cap *= 2);
    pclose(f);
    *len = n;
    return b;
}

/* Checks every fixture line; returns the number of strings compared. */
static int check_parity(const bpe *t, const char *fixture, int offsets_required)
{
    FILE *f = fopen(fixture, "r");
    assert_non_null(f);
    char *line = NULL;
    size_t cap = 0;
    int lineno = 0, bad = 0, with_offsets = 0;
    bpe_out out = {0};
    alarm_err e;
    while (getline(&line, &cap, f) > 0) {
        lineno++;
        cJSON *r = cJSON_Parse(line);
        assert_non_null(r);
        const char *text = cJSON_GetObjectItem(r, "text")->valuestring;
        const cJSON *ids = cJSON_GetObjectItem(r, "ids"), *offs = cJSON_GetObjectItem(r, "offsets");
        size_t len = strlen(text);
        if (bpe_encode(&out, t, text, len, 0, &e) < 0)
            fail_msg("%s:%d: %s", fixture, lineno, e.msg);
        int ok = out.n == (size_t)cJSON_GetArraySize(ids);
        for (size_t i = 0; ok && i < out.n; i++)
            ok = out.ids[i] == cJSON_GetArrayItem(ids, (int)i)->valueint;
        if (ok && cJSON_IsArray(offs)) {
            with_offsets++;
            for (size_t i = 0; ok && i < out.n; i++) {
                const cJSON *p = cJSON_GetArrayItem(offs, (int)i);
                ok = out.offsets[2 * i] == (size_t)cJSON_GetArrayItem(p, 0)->valueint &&
                     out.offsets[2 * i + 1] == (size_t)cJSON_GetArrayItem(p, 1)->valueint;
            }
        }
        /* Offsets are contiguous and cover the text, whatever NFC did. */
        for (size_t i = 0; ok && i < out.n; i++)
            ok = out.offsets[2 * i] == (i ? out.offsets[2 * i - 1] : 0) &&
                 out.offsets[2 * i + 1] >= out.offsets[2 * i];
        ok = ok && (out.n ? out.offsets[2 * out.n - 1] : 0) == len;
        if (!ok && bad++ < 5) {
            fprintf(stderr, "%s:%d: mismatch on %s got", fixture, lineno, line);
            for (size_t i = 0; i < out.n; i++)
                fprintf(stderr, " %d[%zu,%zu)", out.ids[i], out.offsets[2 * i],
                        out.offsets[2 * i + 1]);
            fprintf(stderr, "\n");
        }
        cJSON_Delete(r);
    }
    free(line);
    fclose(f);
    bpe_out_free(&out);
    assert_int_equal(bad, 0);
    if (offsets_required)
        assert_int_equal(with_offsets, lineno);
    assert_true(lineno >= 300);
    return lineno;
}

static void gpt2_matches_tokenizers_js(void **state)
{
    (void)state;
    bpe *t;
    alarm_err e;
    if (bpe_load(&t, FIX "gpt2", &e) < 0)
        fail_msg("%s", e.msg);
    assert_int_equal(bpe_vocab_size(t), 50257);
    assert_int_equal(bpe_eos_id(t), 50256);
    assert_int_equal(bpe_bos_id(t), 50256);
    check_parity(t, FIX "parity-gpt2.jsonl", 1);
    bpe_free(t);
}

static void qwen3_matches_tokenizers_js(void **state)
{
    (void)state;
    size_t len = 0;
    char *json = slurp_cmd("gzip -dc " FIX "qwen3/tokenizer.json.gz", &len);
    assert_non_null(json);
    assert_true(len > 1000000);
    bpe *t;
    alarm_err e;
    if (bpe_load_json(&t, json, len, &e) < 0)
        fail_msg("%s", e.msg);
    free(json);
    assert_int_equal(bpe_eos_id(t), bpe_token_to_id(t, "<|endoftext|>"));
    const char cfg[] = "{\"eos_token\": \"<|im_end|>\", \"pad_token\": \"<|endoftext|>\"}";
    assert_int_equal(bpe_apply_config_json(t, cfg, sizeof cfg - 1, &e), 0);
    assert_int_equal(bpe_eos_id(t), bpe_token_to_id(t, "<|im_end|>"));
    assert_int_equal(bpe_pad_id(t), 151643);
    check_parity(t, FIX "parity-qwen3.jsonl", 0);
    bpe_free(t);
}

/* Our trainer on the corpus reproduces the committed tokenizer.json byte for
 * byte, and tokenizers.js, reading that file, encodes as we do. */
static void trained_tokenizer_matches_tokenizers_js(void **state)
{
    (void)state;
    FILE *f = fopen(FIX "corpus.jsonl", "r");
    assert_non_null(f);
    char *line = NULL, *texts[1024];
    size_t cap = 0, lens[1024], n = 0;
    while (getline(&line, &cap, f) > 0 && n < 1024) {
        cJSON *r = cJSON_Parse(line);
        texts[n] = strdup(cJSON_GetObjectItem(r, "text")->valuestring);
        lens[n] = strlen(texts[n]);
        n++;
        cJSON_Delete(r);
    }
    free(line);
    fclose(f);
    const char *special[] = {"<|endoftext|>"};
    bpe_train_opts o = {.vocab_size = 600, .special = special, .n_special = 1, .min_frequency = 1};
    bpe *t;
    alarm_err e;
    if (bpe_train(&t, (const char *const *)texts, lens, n, &o, &e) < 0)
        fail_msg("%s", e.msg);
    char *json;
    assert_int_equal(bpe_to_json(&json, t, &e), 0);
    size_t flen = 0;
    char *want = slurp_cmd("cat " FIX "trained/tokenizer.json", &flen);
    assert_int_equal(strlen(json), flen);
    assert_memory_equal(json, want, flen);
    free(want);
    free(json);
    bpe_free(t);
    for (size_t i = 0; i < n; i++)
        free(texts[i]);
    if (bpe_load(&t, FIX "trained/tokenizer.json", &e) < 0)
        fail_msg("%s", e.msg);
    assert_int_equal(bpe_vocab_size(t), 600);
    check_parity(t, FIX "parity-trained.jsonl", 1);
    bpe_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gpt2_matches_tokenizers_js),
        cmocka_unit_test(qwen3_matches_tokenizers_js),
        cmocka_unit_test(trained_tokenizer_matches_tokenizers_js),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
