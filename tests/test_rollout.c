/* rollout: continuous batching gives, for every sample, what decoding it
 * alone with the full forward gives: greedy tokens equal the argmax of the
 * full forward over the growing sequence, sampled tokens' log-probabilities
 * equal the full forward's log-softmax at temperature 1, results come back in
 * queue order, and the tokens do not depend on the batch size. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/check.h"
#include "lib/tst_reader.h"
#include "rollout.h"

enum { MAXT = 16, NJOBS = 7, MAXNEW = 5 }; /* the Llama fixture has 16 positions */

typedef struct {
    int n, order[NJOBS], len[NJOBS], fin[NJOBS];
    int32_t tok[NJOBS][MAXNEW];
    float lp[NJOBS][MAXNEW];
} got_t;

static int collect(void *user, const rollout_out *o, alarm_err *e)
{
    (void)e;
    got_t *g = user;
    int j = (int)(intptr_t)o->tag;
    g->order[g->n++] = j;
    g->len[j] = o->n;
    g->fin[j] = o->finish;
    memcpy(g->tok[j], o->tokens, (size_t)o->n * sizeof *o->tokens);
    memcpy(g->lp[j], o->logprobs, (size_t)o->n * sizeof *o->logprobs);
    return 0;
}

static int plen(int j) { return 1 + (j * 5) % 11; }
static int32_t ptok(int j, int t, int V) { return (int32_t)((j * 31 + t * 17 + 3) % V); }

static void run(tfm_model *m, int B, float temperature, const gen_cfg *stop, got_t *g)
{
    alarm_err e;
    memset(g, 0, sizeof *g);
    rollout r = {.m = m, .B = B, .maxT = MAXT, .max_new = MAXNEW, .stop = stop,
                 .sp = {temperature, 0, 1.0f}, .emit = collect, .user = g};
    if (rollout_init(&r, &e) < 0)
        fail_msg("%s", e.msg);
    for (int j = 0; j < NJOBS; j++) {
        int32_t p[MAXT];
        for (int t = 0; t < plen(j); t++)
            p[t] = ptok(j, t, m->cfg.V);
        if (rollout_push(&r, p, plen(j), j % 3, 1000 + (uint64_t)j, (void *)(intptr_t)j, &e) < 0)
            fail_msg("%s", e.msg);
        if (j == 3 && rollout_run(&r, 1, &e) < 0) /* part of the queue, as the tool does */
            fail_msg("%s", e.msg);
    }
    if (rollout_run(&r, 0, &e) < 0)
        fail_msg("%s", e.msg);
    assert_int_equal(rollout_pending(&r), 0);
    rollout_free(&r);
    assert_int_equal(g->n, NJOBS);
    for (int j = 0; j < NJOBS; j++)
        assert_int_equal(g->order[j], j);
}

/* Full forward over job j's prompt and response tokens; the check of each
 * response token against the logits before it. */
static void check_job(tfm_model *m, const got_t *g, int j, int greedy)
{
    alarm_err e;
    int V = m->cfg.V, seqv[MAXT], n = plen(j) + g->len[j];
    for (int t = 0; t < plen(j); t++)
        seqv[t] = ptok(j, t, V);
    for (int t = 0; t < g->len[j]; t++)
        seqv[plen(j) + t] = g->tok[j][t];
    assert_int_equal(tfm_forward(m, seqv, &n, 1, n, &e), 0);
    for (int t = 0; t < g->len[j]; t++) {
        const float *z = m->logits + (size_t)(plen(j) - 1 + t) * V;
        int best = 0;
        double mx = z[0], s = 0;
        for (int k = 1; k < V; k++)
            if (z[k] > z[best])
                best = k, mx = z[k];
        for (int k = 0; k < V; k++)
            s += exp(z[k] - mx);
        if (greedy) {
            assert_int_equal(g->tok[j][t], best);
        } else {
            double want = z[g->tok[j][t]] - mx - log(s);
            if (fabs(g->lp[j][t] - want) > 1e-4)
                fail_msg("job %d token %d: logprob %g, full forward %g", j, t, g->lp[j][t], want);
        }
    }
}

static void rollout_matches_forward(void **state)
{
    char dir[4096];
    alarm_err e;
    tfm_model m;
    snprintf(dir, sizeof dir, "%s%s", test_path("fixtures/tfm/"), (const char *)*state);
    if (tst_load_model(&m, dir, 1, MAXT, &e))
        fail_msg("%s", e.msg);
    gen_cfg stop = {.eos = {5, 7}, .neos = 2};
    got_t g1, g3, s1, s3;
    run(&m, 1, 0.0f, &stop, &g1);
    run(&m, 3, 0.0f, &stop, &g3);
    run(&m, 1, 1.0f, NULL, &s1);
    run(&m, 3, 1.0f, NULL, &s3);
    for (int j = 0; j < NJOBS; j++) {
        check_job(&m, &g1, j, 1);
        check_job(&m, &s3, j, 0);
        assert_int_equal(g1.len[j], g3.len[j]);
        assert_memory_equal(g1.tok[j], g3.tok[j], (size_t)g1.len[j] * sizeof(int32_t));
        assert_int_equal(s1.len[j], MAXNEW); /* no EOS given: always to the limit */
        assert_int_equal(s1.fin[j], ROLLOUT_LENGTH);
        assert_memory_equal(s1.tok[j], s3.tok[j], MAXNEW * sizeof(int32_t));
        assert_memory_equal(s1.lp[j], s3.lp[j], MAXNEW * sizeof(float));
        /* greedy: EOS ends a response, as its last token */
        int last = g1.tok[j][g1.len[j] - 1];
        if (g1.fin[j] == ROLLOUT_EOS)
            assert_true(last == 5 || last == 7);
        else
            assert_int_equal(g1.len[j], MAXNEW);
    }
    tfm_free(&m);
}

/* The stream of a sample depends on (seed, id, sample) and nothing else. */
static void seeds_are_distinct(void **state)
{
    (void)state;
    uint64_t a = rollout_seed(42, "q1", 2, 0);
    assert_true(a == rollout_seed(42, "q1", 2, 0));
    assert_true(a != rollout_seed(42, "q1", 2, 1));
    assert_true(a != rollout_seed(43, "q1", 2, 0));
    assert_true(a != rollout_seed(42, "q2", 2, 0));
    assert_true(rollout_seed(42, "q1", 2, 1) != rollout_seed(42, "q2", 2, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        {"rollout_gpt2", rollout_matches_forward, NULL, NULL, "lm_gpt2_tok"},
        {"rollout_llama", rollout_matches_forward, NULL, NULL, "llama_gqa_untied"},
        cmocka_unit_test(seeds_are_distinct),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
