/* Unit tests for the BPE trainer and the tokenizer.json writer: a trained
 * vocabulary round-trips text, is deterministic, learns frequent words,
 * and survives writing and reloading (ours and the real GPT-2 file). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpe.h"

static const char *const texts[] = {
    "The cat sat on the mat. The dog sat on the log.",
    "the the the then there their theory",
    "Numbers 123 4567 and 89, emoji 😀😀 and CJK 中文中文.",
    "  spaces   and\n\nnewlines\ttabs  ",
    "It's what they'll say: the cat's hat isn't the dog's.",
    "<|endoftext|>",
};
#define N_TEXTS (sizeof texts / sizeof *texts)

static bpe *train(size_t vocab)
{
    size_t lens[N_TEXTS];
    for (size_t i = 0; i < N_TEXTS; i++)
        lens[i] = strlen(texts[i]);
    const char *special[] = {"<|endoftext|>", "<pad>"};
    bpe_train_opts o = {.vocab_size = vocab, .special = special, .n_special = 2, .min_frequency = 1};
    bpe *t;
    alarm_err e;
    if (bpe_train(&t, texts, lens, N_TEXTS, &o, &e) < 0)
        fail_msg("train: %s", e.msg);
    return t;
}

static void encode_all(const bpe *t, bpe_out *outs)
{
    alarm_err e;
    for (size_t i = 0; i < N_TEXTS; i++)
        if (bpe_encode(&outs[i], t, texts[i], strlen(texts[i]), 0, &e) < 0)
            fail_msg("encode: %s", e.msg);
}

static void trained_vocab_round_trips(void **state)
{
    (void)state;
    bpe *t = train(330);
    assert_int_equal(bpe_vocab_size(t), 330);
    assert_int_equal(bpe_token_to_id(t, "<|endoftext|>"), 0);
    assert_int_equal(bpe_eos_id(t), 0);
    assert_true(bpe_is_special(t, 1));
    assert_true(bpe_token_to_id(t, "Ġthe") >= 258); /* a frequent word became a token */
    bpe_out outs[N_TEXTS] = {{0}};
    encode_all(t, outs);
    size_t total = 0;
    for (size_t i = 0; i < N_TEXTS; i++) {
        char *s;
        size_t n;
        alarm_err e;
        assert_int_equal(bpe_decode(&s, &n, t, outs[i].ids, outs[i].n, 0, &e), 0);
        assert_int_equal(n, strlen(texts[i]));
        assert_memory_equal(s, texts[i], n);
        free(s);
        total += outs[i].n;
        bpe_out_free(&outs[i]);
    }
    /* Merges compress: far fewer tokens than bytes. */
    size_t bytes = 0;
    for (size_t i = 0; i < N_TEXTS; i++)
        bytes += strlen(texts[i]);
    assert_true(total * 2 < bytes);
    bpe_free(t);
}

static void training_is_deterministic_and_reloads(void **state)
{
    (void)state;
    bpe *a = train(300), *b = train(300);
    char *ja, *jb;
    alarm_err e;
    assert_int_equal(bpe_to_json(&ja, a, &e), 0);
    assert_int_equal(bpe_to_json(&jb, b, &e), 0);
    assert_string_equal(ja, jb);
    bpe *c;
    if (bpe_load_json(&c, ja, strlen(ja), &e) < 0)
        fail_msg("reload: %s", e.msg);
    bpe_out x[N_TEXTS] = {{0}}, y[N_TEXTS] = {{0}};
    encode_all(a, x);
    encode_all(c, y);
    for (size_t i = 0; i < N_TEXTS; i++) {
        assert_int_equal(x[i].n, y[i].n);
        assert_memory_equal(x[i].ids, y[i].ids, x[i].n * sizeof *x[i].ids);
        assert_memory_equal(x[i].offsets, y[i].offsets, 2 * x[i].n * sizeof *x[i].offsets);
        bpe_out_free(&x[i]);
        bpe_out_free(&y[i]);
    }
    assert_int_equal(bpe_eos_id(c), 0);
    free(ja), free(jb);
    bpe_free(a), bpe_free(b), bpe_free(c);
}

static void rejects_small_vocab(void **state)
{
    (void)state;
    const char *s = "abc";
    size_t len = 3;
    const char *special[] = {"<|endoftext|>"};
    bpe_train_opts o = {.vocab_size = 256, .special = special, .n_special = 1};
    bpe *t;
    alarm_err e;
    assert_int_equal(bpe_train(&t, &s, &len, 1, &o, &e), -1);
    assert_non_null(strstr(e.msg, "256"));
    const char *bad = "a\xff";
    len = 2;
    o.vocab_size = 300;
    assert_int_equal(bpe_train(&t, &bad, &len, 1, &o, &e), -1);
    assert_non_null(strstr(e.msg, "UTF-8"));
}

static void gpt2_survives_writing(void **state)
{
    (void)state;
    bpe *t, *u;
    alarm_err e;
    if (bpe_load(&t, "tests/fixtures/tokenizer/gpt2", &e) < 0)
        fail_msg("%s", e.msg);
    char *json;
    assert_int_equal(bpe_to_json(&json, t, &e), 0);
    if (bpe_load_json(&u, json, strlen(json), &e) < 0)
        fail_msg("reload: %s", e.msg);
    assert_int_equal(bpe_vocab_size(u), 50257);
    bpe_out x = {0}, y = {0};
    const char *s = "Hello world, it's 2024!\n\n  <|endoftext|> 中文 😀";
    assert_int_equal(bpe_encode(&x, t, s, strlen(s), 0, &e), 0);
    assert_int_equal(bpe_encode(&y, u, s, strlen(s), 0, &e), 0);
    assert_int_equal(x.n, y.n);
    assert_memory_equal(x.ids, y.ids, x.n * sizeof *x.ids);
    bpe_out_free(&x), bpe_out_free(&y);
    free(json);
    bpe_free(t), bpe_free(u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(trained_vocab_round_trips),
        cmocka_unit_test(training_is_deterministic_and_reloads),
        cmocka_unit_test(rejects_small_vocab),
        cmocka_unit_test(gpt2_survives_writing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
