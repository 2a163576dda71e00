/* common/ppo against trl 0.5 in PyTorch (tests/gen_ppo_fixtures.py,
 * tests/fixtures/ppo/CASE.json): from the old pass's per-token
 * log-probabilities, reference log-probabilities, values and dense rewards
 * of each case, the KL penalty, the rewards, the whitened GAE advantages and
 * the returns; from one minibatch's inputs, its statistics and the loss's
 * gradients with respect to the new log-probabilities and values (zero for
 * the minibatch the ratio threshold skips); and
 * train_order's permutations, rebuilt in Python. The whole step through the
 * model is tests/ppo-parity.bats. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsio.h"
#include "lib/check.h"
#include "ppo.h"
#include "train.h"

/* Both sides compute in fp32 from the same fp32 inputs; common/ppo sums in
 * double where torch sums in fp32 (trl's masked_mean), so they differ by
 * rounding alone: at most 2e-7 absolute (a whitened advantage near 0, after
 * the mean's cancellation) and 2e-6 relative over these batches of at most
 * 48 tokens. Five times that; a wrong formula moves values by 1e-3 or more. */
#define ATOL 1e-6
#define RTOL 1e-5

static const char *const CASES[] = {"one_minibatch", "epochs_minibatches", "early_stop",
                                    "penalty_kl", "penalty_abs", "penalty_mse", "penalty_full",
                                    "ratio_skip", "chain", "lora"};

static cJSON *load_case(const char *name)
{
    char rel[128];
    snprintf(rel, sizeof rel, "fixtures/ppo/%s.json", name);
    alarm_err e;
    size_t len;
    char *text = fsio_read_file(test_path(rel), (size_t)1 << 22, &len, &e);
    if (!text)
        fail_msg("%s", e.msg);
    cJSON *c = cJSON_ParseWithLength(text, len);
    free(text);
    assert_non_null(c);
    return c;
}

/* A list of per-record lists, flattened; first (n + 1) when given. */
static float *flat(const cJSON *rows, size_t *first, size_t *n)
{
    size_t k = 0, i = 0, cap = 0;
    for (const cJSON *r = rows->child; r; r = r->next)
        cap += (size_t)cJSON_GetArraySize(r);
    float *x = malloc((cap + 1) * sizeof *x);
    assert_non_null(x);
    for (const cJSON *r = rows->child; r; r = r->next, i++) {
        if (first)
            first[i] = k;
        for (const cJSON *v = r->child; v; v = v->next)
            x[k++] = (float)v->valuedouble;
    }
    if (first)
        first[i] = k;
    if (n)
        *n = k;
    return x;
}

static const cJSON *get(const cJSON *o, const char *k)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!x)
        fail_msg("the fixture has no \"%s\"", k);
    return x;
}

/* The case's ppo_cfg from its alarm-ppo arguments (alarm-ppo(1) OPTIONS)
 * and the KL coefficient its step ran with (a chain's is the controller's). */
static void cfg_of(const cJSON *fx, ppo_cfg *c, uint64_t *seed, long *epochs)
{
    ppo_cfg_defaults(c);
    *seed = 42;
    *epochs = 4;
    for (const cJSON *a = get(fx, "args")->child; a; a = a->next) {
        const char *k = a->valuestring, *v = a->next ? a->next->valuestring : "";
        double x = atof(v);
        if (!strcmp(k, "--fixed-kl"))
            c->adaptive = 0;
        else if (!strcmp(k, "--kl-coef"))
            c->kl_coef = x;
        else if (!strcmp(k, "--adaptive-kl"))
            assert_int_equal(sscanf(v, "%lf,%lf", &c->kl_target, &c->kl_horizon), 2);
        else if (!strcmp(k, "--kl-penalty"))
            c->penalty = !strcmp(v, "abs") ? PPO_ABS : !strcmp(v, "mse") ? PPO_MSE
                         : !strcmp(v, "full") ? PPO_FULL : PPO_KL;
        else if (!strcmp(k, "--gamma"))
            c->gamma = x;
        else if (!strcmp(k, "--lam"))
            c->lam = x;
        else if (!strcmp(k, "--cliprange"))
            c->cliprange = x;
        else if (!strcmp(k, "--cliprange-value"))
            c->cliprange_value = x;
        else if (!strcmp(k, "--vf-coef"))
            c->vf_coef = x;
        else if (!strcmp(k, "--ratio-threshold"))
            c->ratio_threshold = x;
        else if (!strcmp(k, "--seed"))
            *seed = strtoull(v, NULL, 10);
        else if (!strcmp(k, "--ppo-epochs"))
            *epochs = atol(v);
    }
    c->kl_coef = get(get(fx, "stats"), "objective/kl_coef")->valuedouble;
}

static void batch_case(const char *name)
{
    cJSON *c = load_case(name);
    ppo_cfg cfg;
    uint64_t seed;
    long epochs;
    cfg_of(c, &cfg, &seed, &epochs);
    const cJSON *tok = get(c, "tokens");
    size_t nrec = (size_t)cJSON_GetArraySize(get(tok, "logprobs")), n;
    size_t *first = malloc((nrec + 1) * sizeof *first);
    float *lp = flat(get(tok, "logprobs"), first, &n), *ref = flat(get(tok, "ref_logprobs"), NULL, NULL);
    float *values = flat(get(tok, "values"), NULL, NULL), *dense = flat(get(tok, "dense"), NULL, NULL);
    float *want[5] = {flat(get(tok, "kl"), NULL, NULL), flat(get(tok, "non_score"), NULL, NULL),
                      flat(get(tok, "rewards"), NULL, NULL), flat(get(tok, "advantages"), NULL, NULL),
                      flat(get(tok, "returns"), NULL, NULL)};
    float *got = malloc(5 * n * sizeof *got);
    ppo_batch b = {.n = nrec, .first = first, .lp = lp, .ref = ref, .kl_full = want[0],
                   .values = values, .dense = dense, .kl = got, .non_score = got + n,
                   .rewards = got + 2 * n, .adv = got + 3 * n, .ret = got + 4 * n};
    ppo_rewards(&cfg, &b);
    alarm_err e;
    assert_int_equal(ppo_advantages(&cfg, &b, &e), 0);
    static const char *const what[] = {"kl", "non_score", "rewards", "advantages", "returns"};
    for (int k = 0; k < 5; k++)
        check_close(what[k], got + (size_t)k * n, want[k], n, ATOL, RTOL);
    /* the epochs' orders: the Python rebuild of train_order is train_order */
    size_t order[64];
    long k = 0;
    for (const cJSON *p = get(c, "permutations")->child; p; p = p->next, k++) {
        train_order(order, nrec, seed, (long)get(p, "epoch")->valuedouble);
        size_t i = 0;
        for (const cJSON *x = get(p, "order")->child; x; x = x->next, i++)
            assert_int_equal(order[i], (size_t)x->valueint);
        assert_int_equal(i, nrec);
    }
    assert_true(k >= 1 && k <= epochs);
    for (int k = 0; k < 5; k++)
        free(want[k]);
    free(got);
    free(lp);
    free(ref);
    free(values);
    free(dense);
    free(first);
    cJSON_Delete(c);
}

static void minibatch_case(const char *name)
{
    cJSON *c = load_case(name);
    ppo_cfg cfg;
    uint64_t seed;
    long epochs;
    cfg_of(c, &cfg, &seed, &epochs);
    const cJSON *mb = get(c, "minibatch");
    static const char *const in[] = {"old_logprobs", "old_values", "advantages", "returns",
                                     "logprobs", "values", "entropy", "dlogprobs", "dvalues"};
    float *x[9];
    size_t n;
    for (int k = 0; k < 9; k++)
        x[k] = flat(get(mb, in[k]), NULL, &n);
    float *dlp = malloc(n * sizeof *dlp), *dv = malloc(n * sizeof *dv);
    ppo_mb_stats s;
    ppo_minibatch(&cfg, n, x[0], x[1], x[2], x[3], x[4], x[5], x[6],
                  (float)get(mb, "scale")->valuedouble, dlp, dv, &s);
    check_close("d loss / d logprobs", dlp, x[7], n, ATOL, RTOL);
    check_close("d loss / d values", dv, x[8], n, ATOL, RTOL);
    const cJSON *st = get(mb, "stats");
    struct { const char *k; double v; } f[] = {
        {"loss/policy", s.pg_loss}, {"loss/value", s.vf_loss}, {"loss/total", s.total},
        {"policy/entropy", s.entropy}, {"policy/approxkl", s.approxkl},
        {"policy/policykl", s.policykl}, {"policy/clipfrac", s.clipfrac},
        {"policy/advantages_mean", s.adv_mean}, {"returns/mean", s.ret_mean},
        {"returns/var", s.ret_var}, {"val/vpred", s.vpred}, {"val/error", s.verror},
        {"val/clipfrac", s.vclipfrac}, {"val/mean", s.val_mean}, {"val/var", s.val_var},
        {"ratio", s.ratio_mean}};
    for (size_t i = 0; i < sizeof f / sizeof *f; i++) {
        double want = get(st, f[i].k)->valuedouble;
        check_close_d(f[i].k, &f[i].v, &want, 1, ATOL, RTOL);
    }
    assert_int_equal(s.skipped, cJSON_IsTrue(get(st, "skipped")));
    for (int k = 0; k < 9; k++)
        free(x[k]);
    free(dlp);
    free(dv);
    cJSON_Delete(c);
}

static void rewards_advantages_returns(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof CASES / sizeof *CASES; i++)
        batch_case(CASES[i]);
}

static void minibatch_losses_and_gradients(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof CASES / sizeof *CASES; i++)
        minibatch_case(CASES[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rewards_advantages_returns),
        cmocka_unit_test(minibatch_losses_and_gradients),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
