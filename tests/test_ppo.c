/* common/ppo against hand-worked numbers (GAE, returns, whitening, the
 * adaptive controller), finite differences (the minibatch loss's gradient,
 * and through a real model, tfm_token_logprob_grad), and trl's minibatch
 * skip. The trl-0.5 parity of a whole step is tests/ppo-parity.bats. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/check.h"
#include "ppo.h"
#include "tfm.h"
#include "tfm_config.h"

static void gae_returns_and_whitening(void **state)
{
    (void)state;
    ppo_cfg c;
    ppo_cfg_defaults(&c);
    c.kl_coef = 0.5;
    size_t first[] = {0, 3, 4};
    float lp[] = {-1, -2, -1, -3}, ref[] = {-1.5, -2, -0.5, -3};
    float dense[] = {1, 0, 2, 1}, values[] = {0.5f, 0.2f, 0.1f, 0.3f};
    float kl[4], ns[4], r[4], adv[4], ret[4];
    ppo_batch b = {.n = 2, .first = first, .lp = lp, .ref = ref, .values = values, .dense = dense,
                   .kl = kl, .non_score = ns, .rewards = r, .adv = adv, .ret = ret};
    ppo_rewards(&c, &b);
    const float want_r[] = {1 - 0.25f, 0, 2 + 0.25f, 1};
    check_close("rewards", r, want_r, 4, 1e-6, 0);
    /* by hand, gamma 1, lambda 0.95: record 0 from its last token back, then record 1 */
    double a2 = 2.25 - 0.1, a1 = (0 + 0.1 - 0.2) + 0.95 * a2, a0 = (0.75 + 0.2 - 0.5) + 0.95 * a1;
    double a3 = 1 - 0.3, raw[] = {a0, a1, a2, a3};
    const float want_ret[] = {(float)(a0 + 0.5), (float)(a1 + 0.2), (float)(a2 + 0.1), (float)(a3 + 0.3)};
    alarm_err e;
    assert_int_equal(ppo_advantages(&c, &b, &e), 0);
    check_close("returns", ret, want_ret, 4, 1e-6, 1e-6);
    double m = (a0 + a1 + a2 + a3) / 4, v = 0;
    for (int i = 0; i < 4; i++)
        v += (raw[i] - m) * (raw[i] - m) / 3;
    for (int i = 0; i < 4; i++)
        assert_true(fabs(adv[i] - (raw[i] - m) / sqrt(v + 1e-8)) < 1e-5);
    /* one token cannot be whitened */
    size_t one[] = {0, 1};
    b.n = 1;
    b.first = one;
    assert_int_equal(ppo_advantages(&c, &b, &e), -1);
    assert_non_null(strstr(e.msg, "1 response token"));
}

static double total_loss(const ppo_cfg *c, size_t n, const float *old_lp, const float *old_v,
                         const float *adv, const float *ret, const float *lp, const float *v)
{
    float dlp[8], dv[8];
    ppo_mb_stats s;
    ppo_minibatch(c, n, old_lp, old_v, adv, ret, lp, v, NULL, 1, dlp, dv, &s);
    return s.total;
}

static void minibatch_gradient_by_differences(void **state)
{
    (void)state;
    ppo_cfg c;
    ppo_cfg_defaults(&c);
    /* ratios inside and outside the clip range, values inside and outside theirs */
    enum { N = 6 };
    float old_lp[N] = {-1, -2, -0.5, -3, -1, -2}, lp[N] = {-0.9f, -2.5f, -0.45f, -2.6f, -1.3f, -2};
    float adv[N] = {1, -0.5f, 2, 0.7f, -1.5f, 0.3f}, ret[N] = {0.5f, -1, 2, 0, 1, -0.2f};
    float old_v[N] = {0.1f, -0.5f, 1.0f, 0.4f, 0.2f, 0}, v[N] = {0.15f, -0.9f, 1.5f, 0.3f, 0.25f, 0.1f};
    float dlp[N], dv[N];
    ppo_mb_stats s;
    ppo_minibatch(&c, N, old_lp, old_v, adv, ret, lp, v, NULL, 0.5f, dlp, dv, &s);
    assert_false(s.skipped);
    assert_true(s.clipfrac > 0 && s.clipfrac < 1 && s.vclipfrac > 0);
    for (int t = 0; t < N; t++) {
        const float h = 1e-3f;
        float p[N], q[N];
        memcpy(p, lp, sizeof p);
        memcpy(q, lp, sizeof q);
        p[t] += h;
        q[t] -= h;
        double g = (total_loss(&c, N, old_lp, old_v, adv, ret, p, v) -
                    total_loss(&c, N, old_lp, old_v, adv, ret, q, v)) / (2 * h);
        assert_true(fabs(0.5 * g - dlp[t]) < 1e-4 * (1 + fabs(g)));
        memcpy(p, v, sizeof p);
        memcpy(q, v, sizeof q);
        p[t] += h;
        q[t] -= h;
        g = (total_loss(&c, N, old_lp, old_v, adv, ret, lp, p) -
             total_loss(&c, N, old_lp, old_v, adv, ret, lp, q)) / (2 * h);
        assert_true(fabs(0.5 * g - dv[t]) < 1e-4 * (1 + fabs(g)));
    }
    /* a mean ratio above the threshold: trl zeroes the minibatch */
    float far[N];
    for (int t = 0; t < N; t++)
        far[t] = old_lp[t] + 3; /* ratio e^3 = 20 > 10 */
    ppo_minibatch(&c, N, old_lp, old_v, adv, ret, far, v, NULL, 1, dlp, dv, &s);
    assert_true(s.skipped && s.total == 0 && s.ratio_mean > 10);
    for (int t = 0; t < N; t++)
        assert_true(dlp[t] == 0 && dv[t] == 0);
}

static void adaptive_controller(void **state)
{
    (void)state;
    ppo_cfg c;
    ppo_cfg_defaults(&c);
    assert_true(fabs(ppo_kl_update(&c, 12, 256) - 0.2 * (1 + 0.2 * 256 / 10000.0)) < 1e-12);
    assert_true(fabs(ppo_kl_update(&c, 5.4, 100) - 0.2 * (1 - 0.1 * 100 / 10000.0)) < 1e-12);
    c.adaptive = 0;
    assert_true(ppo_kl_update(&c, 12, 256) == 0.2);
    float zp[] = {1, 2, 3}, zq[] = {1, 2, 3}, zr[] = {3, 2, 1};
    assert_true(fabsf(ppo_kl_full_row(zp, zq, 3)) < 1e-7f);
    double lse_p = log(exp(1) + exp(2) + exp(3)), kl = 0;
    for (int k = 0; k < 3; k++)
        kl += exp(zp[k] - lse_p) * ((zp[k] - lse_p) - (zr[k] - lse_p));
    assert_true(fabs(ppo_kl_full_row(zp, zr, 3) - kl) < 1e-6);
}

/* d(sum_i w_i lp_i)/d(params) by tfm_token_logprob_grad + backward, against
 * central differences of the same sum. */
static void logprob_gradient_through_a_model(void **state)
{
    (void)state;
    static const char cfg_json[] =
        "{\"model_type\": \"gpt2\", \"vocab_size\": 11, \"n_positions\": 8, \"n_embd\": 8,"
        " \"n_layer\": 1, \"n_head\": 2, \"activation_function\": \"gelu_new\","
        " \"layer_norm_epsilon\": 1e-5, \"tie_word_embeddings\": true}";
    tfm_config cfg;
    tfm_model m;
    alarm_err e;
    if (tfm_config_parse(&cfg, cfg_json, &e) || tfm_build(&m, &cfg, 2, 5, &e) || tfm_train_alloc(&m, &e))
        fail_msg("%s", e.msg);
    tfm_set_threads(&m, 1);
    tfm_init_random(&m, 9);
    int tokens[10] = {1, 4, 2, 7, 3, 5, 9, 0, 0, 0}, lens[2] = {5, 2};
    size_t rows[] = {1, 2, 3, 5};
    int ids[] = {2, 7, 3, 9};
    float w[] = {0.7f, -1.2f, 0.4f, 2.0f}, lp[4];
    if (tfm_forward(&m, tokens, lens, 2, 5, &e))
        fail_msg("%s", e.msg);
    tfm_zero_grad(&m);
    if (tfm_token_logprob_grad(&m, rows, ids, 4, w, &e))
        fail_msg("%s", e.msg);
    tfm_backward(&m);
    size_t probe[] = {0, 17, 90, m.nparams / 2, m.nparams - 3};
    for (size_t k = 0; k < sizeof probe / sizeof *probe; k++) {
        size_t i = probe[k];
        float keep = m.params[i], h = 2e-3f;
        double f[2];
        for (int sgn = 0; sgn < 2; sgn++) {
            m.params[i] = keep + (sgn ? -h : h);
            if (tfm_forward(&m, tokens, lens, 2, 5, &e) || tfm_token_logprobs(&m, rows, ids, 4, lp, &e))
                fail_msg("%s", e.msg);
            f[sgn] = 0;
            for (int j = 0; j < 4; j++)
                f[sgn] += w[j] * lp[j];
        }
        m.params[i] = keep;
        double num = (f[0] - f[1]) / (2 * h);
        assert_true(fabs(num - m.grads[i]) < 2e-3 * (1 + fabs(num)));
    }
    tfm_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gae_returns_and_whitening),
        cmocka_unit_test(minibatch_gradient_by_differences),
        cmocka_unit_test(adaptive_controller),
        cmocka_unit_test(logprob_gradient_through_a_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
