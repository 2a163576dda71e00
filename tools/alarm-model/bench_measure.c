/* bench_measure: alarm-model bench's measurements (see bench_measure.h).
 * Random weights: speed does not depend on their values. */
#include "bench_measure.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "sample.h"
#include "tfm.h"
#include "tfm_kv.h"
#include "tfm_ops.h"
#include "tfm_optim.h"

const bench_shape bench_shapes[BENCH_NSHAPES] = {
    {"tiny", 512, 4, 4, 128, 128, 8, 10},
    {"small", 8192, 6, 8, 256, 256, 4, 5},
    {"gpt2", 50257, 12, 12, 768, 64, 4, 4},
};

enum { PROMPT = 16, NEW_TOKENS = 128 };

/* Resets the kernel's peak-RSS mark, so each configuration reports its own. */
static void reset_peak_rss(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (f) {
        fputs("5", f);
        fclose(f);
    }
}

static double peak_rss_mb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    double kb = 0;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmHWM:", 6))
            kb = atof(line + 6);
    if (f)
        fclose(f);
    return kb / 1024.0;
}

/* sgemm GFLOP/s over the forward and backward products of one layer and the LM head. */
static double sgemm_rate(const bench_shape *s)
{
    int N = s->B * s->T, C = s->C;
    int dims[][3] = {{N, 3 * C, C}, {N, C, C},     {N, 4 * C, C}, {N, C, 4 * C},
                     {N, s->V, C},  {C, 4 * C, N}, {N, C, s->V}};
    size_t maxa = 0, maxb = 0, maxc = 0;
    for (size_t i = 0; i < sizeof dims / sizeof *dims; i++) {
        size_t a = (size_t)dims[i][0] * dims[i][2], b = (size_t)dims[i][2] * dims[i][1],
               c = (size_t)dims[i][0] * dims[i][1];
        maxa = a > maxa ? a : maxa;
        maxb = b > maxb ? b : maxb;
        maxc = c > maxc ? c : maxc;
    }
    float *A = calloc(maxa, sizeof(float)), *Bm = calloc(maxb, sizeof(float)),
          *Cm = calloc(maxc, sizeof(float));
    if (!A || !Bm || !Cm) {
        free(A), free(Bm), free(Cm);
        return 0;
    }
    /* Each shape's best of five (the first pages the buffers in): the rate
     * the machine gives when nothing else runs, so that a busy moment in the
     * other core does not shrink the denominator of the MFU. */
    double flops = 0, t = 0;
    for (size_t i = 0; i < sizeof dims / sizeof *dims; i++) {
        int M = dims[i][0], Nn = dims[i][1], K = dims[i][2];
        double best = 1e30;
        for (int rep = 0; rep < 5; rep++) {
            double t0 = clock_mono();
            tfm_sgemm(0, 0, M, Nn, K, 1.0f, A, K, Bm, Nn, 0.0f, Cm, Nn);
            double dt = clock_mono() - t0;
            best = rep > 0 && dt < best ? dt : best;
        }
        t += best;
        flops += 2.0 * M * Nn * K;
    }
    free(A), free(Bm), free(Cm);
    return flops / t / 1e9;
}

static int bench_train(tfm_model *m, const bench_shape *s, bench_result *r, alarm_err *e)
{
    int BT = s->B * s->T, *tok = malloc(BT * sizeof(int)), *tg = malloc(BT * sizeof(int));
    if (!tok || !tg) {
        free(tok), free(tg);
        return err_set(e, "out of memory");
    }
    sample_rng rng;
    sample_seed(&rng, 1);
    for (int i = 0; i < BT; i++)
        tok[i] = (int)(sample_next(&rng) % (uint64_t)s->V);
    for (int i = 0; i < BT; i++)
        tg[i] = (i + 1) % s->T ? tok[i + 1] : -1;
    tfm_adamw o;
    tfm_adamw_defaults(&o);
    o.lr = 1e-4f;
    o.weight_decay = 0.01f;
    double t0 = 0;
    int rc = 0;
    for (int step = 0; step < s->train_steps + 2 && !rc; step++) {
        if (step == 2)
            t0 = clock_mono();
        float loss;
        rc = tfm_forward(m, tok, NULL, s->B, s->T, e);
        if (rc)
            break;
        tfm_zero_grad(m);
        if ((rc = tfm_loss_lm(m, tg, 1.0f, &loss, e)) < 0)
            break;
        tfm_backward(m);
        tfm_optim_step(m, &o, step);
    }
    r->train_tps = (double)BT * s->train_steps / (clock_mono() - t0);
    free(tok), free(tg);
    return rc;
}

enum { MAX_ROWS = 8 };

/* Tokens/s of decoding NEW_TOKENS per row after a PROMPT-token prefill,
 * sampling each row from its own generator as rollout does. */
static int bench_sample(tfm_model *m, int B, double *tps, alarm_err *e)
{
    tfm_kv kv;
    sample_ctx sc[MAX_ROWS];
    sample_rng rng[MAX_ROWS];
    int prompt[MAX_ROWS * PROMPT], tok[MAX_ROWS], nctx = 0, rc = 0;
    if (tfm_kv_build(&kv, m, B, PROMPT + NEW_TOKENS, e))
        return -1;
    for (; nctx < B && !rc; nctx++)
        rc = sample_ctx_init(&sc[nctx], m->cfg.V, e);
    for (int b = 0; b < B; b++)
        sample_seed(&rng[b], 2 + (uint64_t)b);
    for (int i = 0; i < B * PROMPT; i++)
        prompt[i] = (int)(sample_next(&rng[0]) % (uint64_t)m->cfg.V);
    sample_params sp = {1.0f, 0, 1.0f};
    /* The prompt goes in token by token: the model's activations are sized
     * for training, not for a batch of 8. Not timed. */
    for (int t = 0; t < PROMPT && !rc; t++) {
        for (int b = 0; b < B; b++)
            tok[b] = prompt[b * PROMPT + t];
        rc = tfm_kv_step(&kv, m, tok, NULL, B, e);
    }
    double t0 = clock_mono();
    for (int s = 0; s < NEW_TOKENS && !rc; s++) {
        sample_rows(sc, kv.logits, B, &sp, rng, tok, NULL);
        rc = tfm_kv_step(&kv, m, tok, NULL, B, e);
    }
    *tps = (double)B * NEW_TOKENS / (clock_mono() - t0);
    while (nctx > 0)
        sample_ctx_free(&sc[--nctx]);
    tfm_kv_free(&kv);
    return rc;
}

int bench_one(const bench_shape *s, int threads, bench_result *r, alarm_err *e)
{
    tfm_config cfg;
    tfm_model m;
    int maxT = s->T > PROMPT + NEW_TOKENS ? s->T : PROMPT + NEW_TOKENS;
    if (!strcmp(s->name, "gpt2"))
        maxT = 1024;
    memset(r, 0, sizeof *r);
    reset_peak_rss();
    tfm_config_init(&cfg, TFM_GPT2, s->V, s->C, s->L, s->NH, s->NH, 0, maxT);
    if (tfm_build(&m, &cfg, s->B, s->T, e))
        return -1;
    tfm_set_threads(&m, threads);
    tfm_init_random(&m, 1);
    int rc = tfm_train_alloc(&m, e);
    if (!rc)
        rc = bench_train(&m, s, r, e);
    r->peak_rss_mb = peak_rss_mb();
    r->params = (double)m.nparams;
    r->flops_per_token = 6.0 * (double)tfm_matmul_params(&m) + 6.0 * s->L * s->C * s->T;
    if (!rc)
        rc = bench_sample(&m, 1, &r->sample_b1_tps, e);
    if (!rc)
        rc = bench_sample(&m, MAX_ROWS, &r->sample_b8_tps, e);
    r->sgemm_gflops = sgemm_rate(s); /* with the model's thread setting */
    tfm_free(&m);
    r->mfu = r->train_tps * r->flops_per_token / (r->sgemm_gflops * 1e9);
    return rc;
}

