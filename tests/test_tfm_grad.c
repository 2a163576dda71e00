/* Whole-model gradient checks: for tiny models of both families with every
 * head (the parity fixtures' checkpoints), the backward pass against central
 * finite differences of the full loss on sampled parameters of every tensor;
 * and right padding: a padded row computes what it computes alone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/check.h"
#include "lib/fdcheck.h"
#include "lib/tst_reader.h"
#include "tfm.h"

enum { B = 2, T = 8 };
static const int lens[B] = {8, 5};

typedef struct {
    tfm_model m;
    int tokens[B * T], targets[B * T];
    float *vw, *cw; /* weights of the value and classification outputs in the loss */
} gctx;

/* LM cross-entropy + sum(values * vw) + sum(cls * cw), in double. */
static double loss_of(void *p)
{
    gctx *g = p;
    tfm_model *m = &g->m;
    alarm_err e;
    if (tfm_forward(m, g->tokens, lens, B, T, &e))
        fail_msg("%s", e.msg);
    float lm = 0.0f;
    if (m->cfg.lm_head && tfm_loss_lm(m, g->targets, 0.0f, &lm, &e) < 0)
        fail_msg("%s", e.msg);
    double loss = lm;
    size_t N = (size_t)B * T;
    if (m->cfg.value_head)
        for (size_t i = 0; i < N; i++)
            loss += (double)m->values[i] * g->vw[i];
    size_t nc = m->cfg.cls == TFM_CLS_SCORE ? (size_t)B * m->cfg.n_labels : N * m->cfg.n_labels;
    for (size_t i = 0; m->cfg.cls && i < nc; i++)
        loss += (double)m->cls[i] * g->cw[i];
    return loss;
}

static void load(gctx *g, const char *name)
{
    char dir[4096];
    alarm_err e;
    snprintf(dir, sizeof dir, "%s%s", test_path("fixtures/tfm/"), name);
    if (tst_load_model(&g->m, dir, B, T, &e) || tfm_train_alloc(&g->m, &e))
        fail_msg("%s: %s", name, e.msg);
    uint64_t rng = 77;
    float tmp[B * T];
    fd_fill(tmp, B * T, 0, g->m.cfg.V, &rng);
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            g->tokens[b * T + t] = t < lens[b] ? (int)tmp[b * T + t] : 0;
            g->targets[b * T + t] = t + 1 < lens[b] ? (int)tmp[b * T + t + 1] : -1;
        }
    size_t N = (size_t)B * T, nl = g->m.cfg.n_labels ? g->m.cfg.n_labels : 1;
    g->vw = calloc(N, sizeof(float));
    g->cw = calloc(N * nl, sizeof(float));
    fd_fill(g->vw, N, -1, 1, &rng);
    fd_fill(g->cw, N * nl, -1, 1, &rng);
}

static void model_grad(void **state)
{
    const char *name = *state;
    gctx *g = calloc(1, sizeof *g);
    load(g, name);
    tfm_model *m = &g->m;
    loss_of(g);
    tfm_zero_grad(m);
    size_t N = (size_t)B * T;
    float lm;
    alarm_err e;
    if (m->cfg.lm_head && tfm_loss_lm(m, g->targets, 1.0f, &lm, &e) < 0)
        fail_msg("%s", e.msg);
    if (m->cfg.value_head)
        memcpy(m->dvalues, g->vw, N * sizeof(float));
    if (m->cfg.cls)
        memcpy(m->dcls, g->cw, N * m->cfg.n_labels * sizeof(float));
    tfm_backward(m);
    uint64_t rng = 99;
    for (int i = 0; i < m->ntab; i++) {
        const tfm_tensor *t = &m->tab[i];
        fd_check(t->name, m->params + t->offset, t->numel, m->grads + t->offset, loss_of, g, 3,
                 &rng, 1e-2, 2e-3, 2e-2);
    }
    free(g->vw);
    free(g->cw);
    tfm_free(m);
    free(g);
}

/* A right-padded row's outputs at its real positions equal the row run alone. */
static void padding_is_invisible(void **state)
{
    const char *name = *state;
    gctx *g = calloc(1, sizeof *g);
    load(g, name);
    tfm_model *m = &g->m;
    alarm_err e;
    int V = m->cfg.V;
    assert_int_equal(tfm_forward(m, g->tokens, lens, B, T, &e), 0);
    float *want = malloc((size_t)lens[1] * V * sizeof(float));
    memcpy(want, m->logits + (size_t)T * V, (size_t)lens[1] * V * sizeof(float));
    for (int t = lens[1]; t < T; t++) /* other padding must not matter either */
        g->tokens[T + t] = (t * 7) % V;
    assert_int_equal(tfm_forward(m, g->tokens, lens, B, T, &e), 0);
    check_close("padded row", m->logits + (size_t)T * V, want, (size_t)lens[1] * V, 1e-6, 1e-5);
    int alone[T];
    memcpy(alone, g->tokens + T, sizeof alone);
    int n = lens[1];
    assert_int_equal(tfm_forward(m, alone, &n, 1, n, &e), 0);
    check_close("row alone", m->logits, want, (size_t)n * V, 1e-5, 1e-4);
    free(want);
    free(g->vw);
    free(g->cw);
    tfm_free(m);
    free(g);
}

#define GRAD(n) {"grad_" n, model_grad, NULL, NULL, n}

int main(void)
{
    const struct CMUnitTest tests[] = {
        GRAD("gpt2_value"),  GRAD("gpt2_score"), GRAD("llama_gqa_untied"),
        GRAD("llama_mqa_tied"), GRAD("qwen2_bias"), GRAD("llama3_rope"),
        GRAD("llama_tokcls"),
        {"padding_gpt2", padding_is_invisible, NULL, NULL, "gpt2_value"},
        {"padding_llama", padding_is_invisible, NULL, NULL, "llama_gqa_untied"},
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
