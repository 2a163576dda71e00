/* sample: seeded determinism, greedy, temperature, top-k and top-p masks
 * (top-p over the top-k survivors, as transformers chains them), and that
 * draws follow the distribution they report. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <omp.h>
#include <string.h>

#include "sample.h"

static void rng_is_seeded(void **state)
{
    (void)state;
    sample_rng a, b, c;
    sample_seed(&a, 42);
    sample_seed(&b, 42);
    sample_seed(&c, 43);
    int differ = 0;
    double mean = 0;
    for (int i = 0; i < 10000; i++) {
        uint64_t x = sample_next(&a);
        assert_true(x == sample_next(&b));
        differ += x != sample_next(&c);
        double u = sample_uniform(&a);
        sample_next(&b);
        assert_true(u >= 0 && u < 1);
        mean += u;
    }
    assert_true(differ > 9990);
    assert_true(fabs(mean / 10000 - 0.5) < 0.02);
}

static void setup_ctx(sample_ctx *s, int V)
{
    alarm_err e;
    assert_int_equal(sample_ctx_init(s, V, &e), 0);
}

static void greedy_and_temperature(void **state)
{
    (void)state;
    sample_ctx s;
    setup_ctx(&s, 5);
    float logits[5] = {0.1f, 2.0f, -1.0f, 1.5f, 0.0f};
    sample_params p = {0.0f, 0, 1.0f};
    sample_rng r;
    sample_seed(&r, 1);
    float lp;
    for (int i = 0; i < 10; i++)
        assert_int_equal(sample_token(&s, logits, &p, &r, &lp), 1);
    assert_true(lp == 0.0f);
    p.temperature = 0.5f;
    sample_probs(&s, logits, &p);
    double ratio = s.probs[1] / s.probs[3];
    assert_true(fabs(ratio - exp((2.0 - 1.5) / 0.5)) < 1e-4);
    double sum = 0;
    for (int i = 0; i < 5; i++)
        sum += s.probs[i];
    assert_true(fabs(sum - 1) < 1e-6);
    p.temperature = 1.0f;
    p.top_k = 1; /* top-1 is greedy at any temperature */
    assert_int_equal(sample_token(&s, logits, &p, &r, NULL), 1);
    sample_ctx_free(&s);
}

static void top_k_and_top_p_masks(void **state)
{
    (void)state;
    sample_ctx s;
    setup_ctx(&s, 6);
    /* probabilities 0.4 0.25 0.15 0.1 0.06 0.04 shuffled */
    const double pr[6] = {0.1, 0.4, 0.04, 0.25, 0.06, 0.15};
    float logits[6];
    for (int i = 0; i < 6; i++)
        logits[i] = (float)log(pr[i]);
    sample_params p = {1.0f, 3, 1.0f};
    sample_probs(&s, logits, &p);
    assert_true(s.probs[0] == 0 && s.probs[2] == 0 && s.probs[4] == 0);
    assert_true(fabs(s.probs[1] - 0.4 / 0.8) < 1e-6 && fabs(s.probs[5] - 0.15 / 0.8) < 1e-6);
    p.top_k = 0;
    p.top_p = 0.6f; /* 0.4 < 0.6, 0.65 >= 0.6: two tokens */
    sample_probs(&s, logits, &p);
    int kept = 0;
    for (int i = 0; i < 6; i++)
        kept += s.probs[i] > 0;
    assert_int_equal(kept, 2);
    assert_true(s.probs[1] > 0 && s.probs[3] > 0);
    p.top_p = 0.3f; /* the most likely token alone already reaches it */
    sample_probs(&s, logits, &p);
    assert_true(s.probs[1] == 1.0f);
    /* top-k 3 renormalises to .5 .3125 .1875; top-p 0.7 then keeps two */
    p.top_k = 3;
    p.top_p = 0.7f;
    sample_probs(&s, logits, &p);
    assert_true(s.probs[5] == 0 && s.probs[1] > 0 && s.probs[3] > 0);
    sample_ctx_free(&s);
}

static void draws_follow_distribution(void **state)
{
    (void)state;
    sample_ctx s;
    setup_ctx(&s, 4);
    float logits[4] = {1.0f, 0.0f, 2.0f, -3.0f};
    sample_params p = {1.0f, 2, 1.0f};
    sample_rng r;
    sample_seed(&r, 7);
    int count[4] = {0};
    const int n = 20000;
    for (int i = 0; i < n; i++) {
        float lp;
        int t = sample_token(&s, logits, &p, &r, &lp);
        assert_true(fabsf(lp - logf(s.probs[t])) < 1e-6f);
        count[t]++;
    }
    double want2 = exp(2.0) / (exp(2.0) + exp(1.0));
    assert_int_equal(count[1] + count[3], 0);
    assert_true(fabs((double)count[2] / n - want2) < 0.015);
    /* the same seed replays the same tokens */
    sample_rng r1, r2;
    sample_seed(&r1, 99);
    sample_seed(&r2, 99);
    p.top_k = 0;
    for (int i = 0; i < 100; i++)
        assert_int_equal(sample_token(&s, logits, &p, &r1, NULL),
                         sample_token(&s, logits, &p, &r2, NULL));
    sample_ctx_free(&s);
}

/* A batch draw equals drawing each row alone with its own generator, on
 * one thread or two, so a row's tokens do not depend on its batch. */
static void rows_draw_independently(void **state)
{
    (void)state;
    enum { N = 5, V = 300 };
    float logits[N * V];
    sample_rng seedr;
    sample_seed(&seedr, 11);
    for (int i = 0; i < N * V; i++)
        logits[i] = (float)(sample_uniform(&seedr) * 6.0 - 3.0);
    sample_params p = {0.9f, 40, 0.95f};
    sample_ctx ctx[N];
    for (int b = 0; b < N; b++)
        setup_ctx(&ctx[b], V);
    for (int threads = 1; threads <= 2; threads++) {
        omp_set_num_threads(threads);
        sample_rng batch[N], alone[N];
        for (int b = 0; b < N; b++) {
            sample_seed(&batch[b], 100 + (uint64_t)b);
            sample_seed(&alone[b], 100 + (uint64_t)b);
        }
        for (int step = 0; step < 50; step++) {
            int tok[N];
            float lp[N];
            sample_rows(ctx, logits, N, &p, batch, tok, lp);
            for (int b = 0; b < N; b++) {
                float want_lp;
                assert_int_equal(tok[b],
                                 sample_token(&ctx[b], logits + b * V, &p, &alone[b], &want_lp));
                assert_true(lp[b] == want_lp);
            }
        }
    }
    for (int b = 0; b < N; b++)
        sample_ctx_free(&ctx[b]);
}

static void bad_parameters(void **state)
{
    (void)state;
    alarm_err e;
    sample_params ok = {0.7f, 50, 0.9f}, t = {-1.0f, 0, 1.0f}, k = {1.0f, -1, 1.0f},
                  p0 = {1.0f, 0, 0.0f}, p2 = {1.0f, 0, 1.5f}, tn = {NAN, 0, 1.0f};
    assert_int_equal(sample_check(&ok, &e), 0);
    assert_int_equal(sample_check(&t, &e), -1);
    assert_non_null(strstr(e.msg, "temperature"));
    assert_int_equal(sample_check(&k, &e), -1);
    assert_int_equal(sample_check(&p0, &e), -1);
    assert_int_equal(sample_check(&p2, &e), -1);
    assert_int_equal(sample_check(&tn, &e), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rng_is_seeded),
        cmocka_unit_test(greedy_and_temperature),
        cmocka_unit_test(top_k_and_top_p_masks),
        cmocka_unit_test(draws_follow_distribution),
        cmocka_unit_test(rows_draw_independently),
        cmocka_unit_test(bad_parameters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
