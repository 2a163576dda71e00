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
#include <stdlib.h>
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

/* The reference the partial sorts must match bit for bit: sort all V
 * tokens (likelier first, ties to the lower id), keep the first k, then
 * the smallest prefix whose share of those k reaches top_p. */
static int ref_by_prob_desc(const void *a, const void *b, void *key)
{
    const float *pr = key;
    int i = *(const int *)a, j = *(const int *)b;
    if (pr[i] != pr[j])
        return pr[i] > pr[j] ? -1 : 1;
    return (i > j) - (i < j);
}

/* out (V) = top-k then top-p of the tempered probabilities pr (V), whose
 * ids idx (V) are sorted by ref_by_prob_desc. */
static void ref_filter(float *out, const float *pr, const int *idx, int V, int top_k,
                       float top_p)
{
    int k = top_k > 0 && top_k < V ? top_k : V, keep = 0;
    double topk = 0, cum = 0, kept = 0;
    if (k == V && top_p >= 1.0f) { /* no cut, no renormalising */
        memcpy(out, pr, (size_t)V * sizeof *out);
        return;
    }
    for (int i = 0; i < k; i++)
        topk += pr[idx[i]];
    while (keep < k) {
        cum += pr[idx[keep]] / topk;
        keep++;
        if (top_p < 1.0f && cum >= top_p)
            break;
    }
    for (int i = 0; i < keep; i++)
        kept += pr[idx[i]];
    memset(out, 0, (size_t)V * sizeof *out);
    for (int i = 0; i < keep; i++)
        out[idx[i]] = (float)(pr[idx[i]] / kept);
}

/* The inverse-CDF draw over the ids in order, as sample_token makes it. */
static int ref_draw(const float *probs, int V, sample_rng *r)
{
    double u = sample_uniform(r), cum = 0;
    int last = 0;
    for (int i = 0; i < V; i++) {
        if (probs[i] <= 0)
            continue;
        last = i;
        cum += probs[i];
        if (u < cum)
            return i;
    }
    return last;
}

enum { GEN_UNIFORM, GEN_TIES, GEN_EQUAL, GEN_WIDE, GEN_POW2_HEAD, GEN_HALVES, NGEN };

/* Logits of a kind that stresses one part of the selection: ties among
 * repeated values, all equal, probabilities down to the denormals, and
 * shares that are exact at T = 1 so that top_p = 0.25, 0.5, 0.75 sits
 * right on a boundary: a head of 2^j equal tokens over a negligible tail,
 * or tokens of share 1/2, 1/4, 1/4 (exp(-ln 2) is exactly 1/2), where
 * the likeliest alone holds exactly top_p = 0.5. */
static void fill_logits(float *l, int V, int gen, sample_rng *r)
{
    int head = 1, chosen = 0, at = (int)(sample_uniform(r) * V);
    while (head * 2 <= V)
        head *= 2;
    float same = (float)(sample_uniform(r) * 10 - 5);
    for (int i = 0; i < V; i++) {
        double u = sample_uniform(r);
        switch (gen) {
        case GEN_UNIFORM: l[i] = (float)(u * 6 - 3); break;
        case GEN_TIES: l[i] = (float)floor(u * 7) / 2; break;
        case GEN_EQUAL: l[i] = same; break;
        case GEN_WIDE: l[i] = (float)(u * 120 - 60); break;
        case GEN_POW2_HEAD: /* choose `head` of the V ids uniformly (selection sampling) */
            l[i] = u * (V - i) < head - chosen ? 0.0f : -60.0f;
            chosen += l[i] == 0.0f;
            break;
        default: l[i] = -60.0f;
        }
    }
    for (int j = 0; gen == GEN_HALVES && j < 3 && j < V; j++)
        l[(at + j) % V] = j ? (float)-M_LN2 : 0.0f;
}

/* Reports the first element where the library and the reference differ. */
static void check_same_probs(const float *got, const float *want, int V, int gen, float T,
                             int top_k, float top_p)
{
    for (int i = 0; i < V; i++)
        if (memcmp(&got[i], &want[i], sizeof got[i]) != 0)
            fail_msg("V=%d gen=%d T=%g top_k=%d top_p=%.9g: probs[%d] = %.9g, want %.9g", V,
                     gen, T, top_k, top_p, i, got[i], want[i]);
}

/* The partial sorts (the histogram buckets that hold the top k or the
 * top_p mass, and for top-p alone the bounds on the sum it renormalises
 * by) against the full sort: the same probabilities
 * to the bit and the same tokens for the same seeds, over vocabulary
 * sizes from 1 to GPT-2's, every logit kind, temperatures, top_k from 2 to
 * past V and top_p from "one token" to off. */
static void partial_sorts_match_full_sort(void **state)
{
    (void)state;
    const int Vs[] = {1, 2, 7, 1000, 50257};
    const float Ts[] = {0.25f, 0.7f, 1.0f, 1.6f};
    const float Ps[] = {1e-7f, 0.25f, 0.5f, 0.75f, 0.9f, 0.95f, 0.99999994f, 1.0f};
    sample_rng r;
    sample_seed(&r, 5);
    uint64_t draw_seed = 0;
    for (size_t v = 0; v < sizeof Vs / sizeof *Vs; v++) {
        int V = Vs[v], nvec = V <= 7 ? 40 : V <= 1000 ? 4 : 1;
        const int Ks[] = {0, 2, 3, 50, V - 1, V, V + 5};
        float *logits = malloc((size_t)V * sizeof *logits);
        float *base = malloc((size_t)V * sizeof *base), *want = malloc((size_t)V * sizeof *want);
        int *idx = malloc((size_t)V * sizeof *idx);
        assert_true(logits && base && want && idx);
        sample_ctx s;
        setup_ctx(&s, V);
        for (int gen = 0; gen < NGEN; gen++)
            for (int vec = 0; vec < nvec; vec++) {
                fill_logits(logits, V, gen, &r);
                for (size_t t = 0; t < sizeof Ts / sizeof *Ts; t++) {
                    sample_params p = {Ts[t], 0, 1.0f};
                    sample_probs(&s, logits, &p); /* tempered, nothing cut */
                    memcpy(base, s.probs, (size_t)V * sizeof *base);
                    for (int i = 0; i < V; i++)
                        idx[i] = i;
                    qsort_r(idx, (size_t)V, sizeof *idx, ref_by_prob_desc, base);
                    for (size_t ki = 0; ki < sizeof Ks / sizeof *Ks; ki++)
                        for (size_t pi = 0; pi < sizeof Ps / sizeof *Ps; pi++) {
                            p.top_k = Ks[ki];
                            p.top_p = Ps[pi];
                            if (p.top_k == 1)
                                continue; /* greedy over the logits, not a cut */
                            ref_filter(want, base, idx, V, p.top_k, p.top_p);
                            sample_rng mine, ref;
                            sample_seed(&mine, draw_seed);
                            sample_seed(&ref, draw_seed++);
                            float lp;
                            int tok = sample_token(&s, logits, &p, &mine, &lp);
                            check_same_probs(s.probs, want, V, gen, p.temperature, p.top_k,
                                             p.top_p);
                            assert_int_equal(tok, ref_draw(want, V, &ref));
                            assert_true(lp == logf(want[tok]));
                            if (p.top_p == 1e-7f)
                                assert_true(want[idx[0]] == 1.0f);
                        }
                }
            }
        sample_ctx_free(&s);
        free(logits);
        free(base);
        free(want);
        free(idx);
    }
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
        cmocka_unit_test(partial_sorts_match_full_sort),
        cmocka_unit_test(bad_parameters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
