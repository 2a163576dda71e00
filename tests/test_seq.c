/* seq: the BOS prefix from the post-processor, prompt + response tokens,
 * right padding, the row map from response tokens to model rows, truncation
 * (left and error) and an empty response. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/check.h"
#include "seq.h"

static bpe *load_tok(const char *name)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s%s", test_path("fixtures/tfm/"), name);
    bpe *t = NULL;
    alarm_err e;
    if (bpe_load(&t, dir, &e) < 0)
        fail_msg("%s", e.msg);
    return t;
}

/* The ids seq_encode must produce: prefix, then each part encoded alone. */
static int plain(const bpe *t, const char *text, int32_t *ids)
{
    bpe_out o = {0};
    alarm_err e;
    assert_int_equal(bpe_encode(&o, t, text, strlen(text), 0, &e), 0);
    memcpy(ids, o.ids, o.n * sizeof *ids);
    int n = (int)o.n;
    bpe_out_free(&o);
    return n;
}

static void bos_and_tokens(void **state)
{
    (void)state;
    const char *names[] = {"lm_gpt2_tok", "lm_llama_bos"};
    for (int k = 0; k < 2; k++) {
        bpe *t = load_tok(names[k]);
        seq_enc se = {.tok = t, .max_tokens = 64};
        alarm_err e;
        assert_int_equal(seq_enc_init(&se, &e), 0);
        assert_int_equal(se.nprefix, k); /* only the Llama template adds a BOS */
        seq s = {0};
        assert_int_equal(seq_encode(&s, &se, "Hello there", 11, " world", 6, &e), 0);
        int32_t p[64], r[64];
        int np = plain(t, "Hello there", p), nr = plain(t, " world", r);
        assert_int_equal(s.np, k + np);
        assert_int_equal(s.nr, nr);
        if (k)
            assert_int_equal(s.ids[0], bpe_bos_id(t));
        assert_memory_equal(s.ids + k, p, (size_t)np * sizeof *p);
        assert_memory_equal(s.ids + s.np, r, (size_t)nr * sizeof *r);
        assert_int_equal(s.offs[0], 0);
        assert_int_equal(s.offs[2 * nr - 1], 6);
        /* empty prompt: fine after a BOS, an error without one */
        int rc = seq_encode(&s, &se, "", 0, "b", 1, &e);
        assert_int_equal(rc, k ? 0 : -1);
        if (!k)
            assert_non_null(strstr(e.msg, "field \"prompt\": empty"));
        seq_free(&s);
        seq_enc_free(&se);
        bpe_free(t);
    }
}

static void padding_and_row_map(void **state)
{
    (void)state;
    seq a = {0}, b = {0}, c = {0};
    int32_t pa[] = {5, 6, 7}, ra[] = {8, 9};
    int32_t pb[] = {1}, rb[] = {2, 3, 4, 10};
    int32_t pc[] = {11, 12};
    seq_enc se = {.max_tokens = 8, .vocab = 16};
    alarm_err e;
    assert_int_equal(seq_set_tokens(&a, &se, pa, 3, ra, 2, &e), 0);
    assert_int_equal(seq_set_tokens(&b, &se, pb, 1, rb, 4, &e), 0);
    assert_int_equal(seq_set_tokens(&c, &se, pc, 2, NULL, 0, &e), 0); /* empty response */
    seq_batch sb;
    assert_int_equal(seq_batch_init(&sb, 4, 8, &e), 0);
    const seq *rows[] = {&a, &b, &c};
    assert_int_equal(seq_batch_fill(&sb, rows, 3, 15, &e), 0);
    assert_int_equal(sb.B, 3);
    assert_int_equal(sb.T, 5);
    const int tokens[] = {5, 6, 7, 8, 9, 1, 2, 3, 4, 10, 11, 12, 15, 15, 15};
    assert_memory_equal(sb.tokens, tokens, sizeof tokens);
    assert_int_equal(sb.lens[0], 5);
    assert_int_equal(sb.lens[1], 5);
    assert_int_equal(sb.lens[2], 2);
    assert_int_equal(sb.n, 6);
    const size_t want_rows[] = {2, 3, 5, 6, 7, 8};
    const int want_tgt[] = {8, 9, 2, 3, 4, 10}, want_row_of[] = {0, 0, 1, 1, 1, 1};
    for (size_t k = 0; k < sb.n; k++) {
        assert_int_equal(sb.rows[k], want_rows[k]);
        assert_int_equal(sb.targets[k], want_tgt[k]);
        assert_int_equal(sb.row_of[k], want_row_of[k]);
        assert_int_equal(sb.lm_targets[sb.rows[k]], sb.targets[k]);
    }
    const size_t first[] = {0, 2, 6, 6};
    assert_memory_equal(sb.first, first, sizeof first);
    int loss_rows = 0;
    for (int i = 0; i < sb.B * sb.T; i++)
        loss_rows += sb.lm_targets[i] >= 0;
    assert_int_equal(loss_rows, 6);
    /* an id outside the vocabulary, a row longer than the batch */
    int32_t bad[] = {16};
    assert_int_equal(seq_set_tokens(&c, &se, pc, 2, bad, 1, &e), -1);
    assert_non_null(strstr(e.msg, "vocabulary of 16"));
    seq_batch_free(&sb);
    assert_int_equal(seq_batch_init(&sb, 2, 4, &e), 0);
    assert_int_equal(seq_batch_fill(&sb, rows, 1, 0, &e), -1);
    assert_int_equal(seq_batch_fill(&sb, rows, 3, 0, &e), -1);
    seq_batch_free(&sb);
    seq_free(&a);
    seq_free(&b);
    seq_free(&c);
}

static void truncation(void **state)
{
    (void)state;
    bpe *t = load_tok("lm_llama_bos");
    seq_enc se = {.tok = t, .max_tokens = 6, .limit_name = "--max-tokens"};
    alarm_err e;
    assert_int_equal(seq_enc_init(&se, &e), 0);
    seq s = {0};
    const char *prompt = "one two three four five six seven";
    int32_t p[64];
    int np = plain(t, prompt, p);
    assert_true(np > 6);
    assert_int_equal(seq_encode(&s, &se, prompt, strlen(prompt), " end", 4, &e), -1);
    assert_non_null(strstr(e.msg, "exceed --max-tokens 6"));
    se.trunc = SEQ_TRUNC_LEFT;
    assert_int_equal(seq_encode(&s, &se, prompt, strlen(prompt), " end", 4, &e), 0);
    int nr = s.nr;
    assert_int_equal(s.np + s.nr, 6);
    assert_int_equal(s.cut, 1 + np - s.np);
    assert_int_equal(s.ids[0], bpe_bos_id(t)); /* the BOS stays, the oldest tokens go */
    assert_memory_equal(s.ids + 1, p + np - (s.np - 1), (size_t)(s.np - 1) * sizeof *p);
    int32_t r[64];
    assert_int_equal(plain(t, " end", r), nr);
    assert_memory_equal(s.ids + s.np, r, (size_t)nr * sizeof *r);
    /* a response that leaves no room for the BOS is never cut */
    const char *longr = " a b c d e f g";
    assert_int_equal(seq_encode(&s, &se, "x", 1, longr, strlen(longr), &e), -1);
    assert_non_null(strstr(e.msg, "exceed"));
    seq_free(&s);
    seq_enc_free(&se);
    bpe_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bos_and_tokens),
        cmocka_unit_test(padding_and_row_map),
        cmocka_unit_test(truncation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
