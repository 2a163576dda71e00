/* Dropout (common/tfm_drop.c, alarm-formats(5) section 7): switched on with
 * every probability 0 the passes are bit for bit the plain ones; at p > 0
 * the backward matches finite differences with the masks held fixed (the
 * draw sought back before each forward); masks drop a fraction p and scale
 * the rest by 1/(1-p); a seed and draw give the same masks, another seed or
 * draw other ones; sampling's forward never drops. */
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
#include "lib/fdcheck.h"
#include "lib/tst_reader.h"
#include "tfm.h"
#include "tfm_ops.h"

enum { B = 2, T = 8 };
static const int lens[B] = {8, 5};

typedef struct {
    tfm_model m;
    int tokens[B * T], targets[B * T];
    float vw[B * T];
} dctx;

static void load(dctx *g, const char *name, double p)
{
    char dir[4096];
    alarm_err e;
    snprintf(dir, sizeof dir, "%s%s", test_path("fixtures/tfm/"), name);
    if (tst_load_model(&g->m, dir, B, T, &e) || tfm_train_alloc(&g->m, &e))
        fail_msg("%s: %s", name, e.msg);
    tfm_config *c = &g->m.cfg;
    c->embd_pdrop = c->attn_pdrop = c->resid_pdrop = c->summary_pdrop = p;
    uint64_t rng = 77;
    float tmp[B * T];
    fd_fill(tmp, B * T, 0, c->V, &rng);
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            g->tokens[b * T + t] = t < lens[b] ? (int)tmp[b * T + t] : 0;
            g->targets[b * T + t] = t + 1 < lens[b] ? (int)tmp[b * T + t + 1] : -1;
        }
    fd_fill(g->vw, B * T, -1, 1, &rng);
}

/* LM cross-entropy + sum(values * vw), the masks of draw 0 each time. */
static double loss_of(void *p)
{
    dctx *g = p;
    tfm_model *m = &g->m;
    alarm_err e;
    tfm_dropout_seek(m, 0);
    float lm;
    if (tfm_forward(m, g->tokens, lens, B, T, &e) || tfm_loss_lm(m, g->targets, 0.0f, &lm, &e))
        fail_msg("%s", e.msg);
    double loss = lm;
    for (size_t i = 0; m->cfg.value_head && i < (size_t)B * T; i++)
        loss += (double)m->values[i] * g->vw[i];
    return loss;
}

/* The loss's gradient into m->grads by the backward pass. */
static double backward(dctx *g)
{
    tfm_model *m = &g->m;
    alarm_err e;
    double loss = loss_of(g);
    tfm_zero_grad(m);
    float lm;
    if (tfm_loss_lm(m, g->targets, 1.0f, &lm, &e) < 0)
        fail_msg("%s", e.msg);
    if (m->cfg.value_head)
        memcpy(m->dvalues, g->vw, sizeof g->vw);
    tfm_backward(m);
    return loss;
}

static void grad_with_dropout(void **state)
{
    const char *name = *state;
    dctx *g = calloc(1, sizeof *g);
    load(g, name, 0.3);
    tfm_model *m = &g->m;
    alarm_err e;
    double plain = loss_of(g);
    assert_int_equal(tfm_set_dropout(m, 1, 5, &e), 0);
    double dropped = backward(g);
    /* the masks change the loss: the check below is of a dropout pass */
    if (fabs(dropped - plain) < 1e-3)
        fail_msg("%s: the loss with dropout (%g) is the plain one (%g)", name, dropped, plain);
    uint64_t rng = 99;
    for (int i = 0; i < m->ntab; i++) {
        const tfm_tensor *t = &m->tab[i];
        fd_check(t->name, m->params + t->offset, t->numel, m->grads + t->offset, loss_of, g, 3,
                 &rng, 1e-2, 2e-3, 2e-2);
    }
    tfm_free(m);
    free(g);
}

/* Logits, values and every gradient of one forward and backward. */
static float *snapshot(dctx *g)
{
    tfm_model *m = &g->m;
    size_t BT = (size_t)B * T, nl = BT * m->cfg.V, nv = m->cfg.value_head ? BT : 0;
    backward(g);
    float *s = malloc((nl + nv + m->nparams) * sizeof *s);
    memcpy(s, m->logits, nl * sizeof *s);
    if (nv)
        memcpy(s + nl, m->values, nv * sizeof *s);
    memcpy(s + nl + nv, m->grads, m->nparams * sizeof *s);
    return s;
}

static size_t snapshot_len(const dctx *g)
{
    size_t BT = (size_t)B * T;
    return BT * g->m.cfg.V + (g->m.cfg.value_head ? BT : 0) + g->m.nparams;
}

/* On at p = 0 everywhere: bit for bit the pass with dropout off. */
static void zero_p_is_plain(void **state)
{
    const char *name = *state;
    dctx *g = calloc(1, sizeof *g);
    load(g, name, 0.0);
    alarm_err e;
    float *off = snapshot(g);
    assert_int_equal(tfm_set_dropout(&g->m, 1, 5, &e), 0);
    float *on = snapshot(g);
    assert_memory_equal(off, on, snapshot_len(g) * sizeof *off);
    free(off);
    free(on);
    tfm_free(&g->m);
    free(g);
}

/* The same seed and draw: the same pass; another seed or draw: another. */
static void masks_follow_seed_and_draw(void **state)
{
    (void)state;
    dctx *g = calloc(1, sizeof *g);
    load(g, "gpt2_value", 0.1);
    tfm_model *m = &g->m;
    alarm_err e;
    size_t n = snapshot_len(g) * sizeof(float);
    assert_int_equal(tfm_set_dropout(m, 1, 5, &e), 0);
    float *a = snapshot(g);
    assert_int_equal(tfm_set_dropout(m, 1, 5, &e), 0);
    float *b = snapshot(g);
    assert_memory_equal(a, b, n);
    assert_int_equal(tfm_set_dropout(m, 1, 6, &e), 0);
    float *c = snapshot(g);
    assert_memory_not_equal(a, c, n);
    /* each forward takes the next draw: a second forward without seeking differs */
    assert_int_equal(tfm_set_dropout(m, 1, 5, &e), 0);
    assert_int_equal(tfm_forward(m, g->tokens, lens, B, T, &e), 0);
    assert_int_equal(tfm_forward(m, g->tokens, lens, B, T, &e), 0);
    assert_memory_not_equal(a, m->logits, (size_t)B * T * m->cfg.V * sizeof(float));
    tfm_dropout_seek(m, 0);
    assert_int_equal(tfm_forward(m, g->tokens, lens, B, T, &e), 0);
    assert_memory_equal(a, m->logits, (size_t)B * T * m->cfg.V * sizeof(float));
    /* held off, as for an evaluation: the plain pass */
    int was = tfm_dropout_hold(m, 0);
    assert_int_equal(was, 1);
    assert_int_equal(tfm_forward(m, g->tokens, lens, B, T, &e), 0);
    float *plain = malloc((size_t)B * T * m->cfg.V * sizeof(float));
    memcpy(plain, m->logits, (size_t)B * T * m->cfg.V * sizeof(float));
    tfm_dropout_hold(m, was);
    /* sampling's forward never drops: its last rows are the plain pass's
     * (to rounding: one row's product instead of all rows') */
    assert_int_equal(tfm_forward_last(m, g->tokens, lens, B, T, &e), 0);
    for (int r = 0; r < B; r++)
        check_close("last row", m->logits + (size_t)r * m->cfg.V,
                    plain + ((size_t)r * T + lens[r] - 1) * m->cfg.V, m->cfg.V, 1e-5, 1e-5);
    free(plain);
    free(a);
    free(b);
    free(c);
    tfm_free(m);
    free(g);
}

/* Over a million elements the dropped fraction is p within 5 standard
 * deviations, kept ones scale by exactly 1/(1-p); the mask is the same in
 * any order of asking (what the backward regenerates). */
static void mask_fraction_and_scale(void **state)
{
    (void)state;
    enum { N = 1 << 20 };
    float *ones = malloc(N * sizeof *ones), *out = malloc(N * sizeof *out);
    for (size_t i = 0; i < N; i++)
        ones[i] = 1.0f;
    const double ps[] = {0.1, 0.5, 0.9};
    for (int k = 0; k < 3; k++) {
        double p = ps[k];
        tfm_drop d;
        tfm_drop_init(&d, 1234 + (uint64_t)k, p);
        tfm_drop_mask(out, ones, N, &d);
        size_t zeros = 0;
        for (size_t i = 0; i < N; i++) {
            if (out[i] == 0.0f)
                zeros++;
            else if (out[i] != (float)(1.0 / (1.0 - p)))
                fail_msg("p %g: element %zu kept as %g", p, i, out[i]);
        }
        double frac = (double)zeros / N, sd = sqrt(p * (1 - p) / N);
        if (fabs(frac - p) > 5 * sd)
            fail_msg("p %g: dropped fraction %g", p, frac);
        for (size_t i = N; i-- > N - 1000;)
            assert_true(tfm_drop_mul(&d, i) == out[i]);
    }
    tfm_drop d;
    tfm_drop_init(&d, 1, 0.0);
    tfm_drop_mask(out, ones, N, &d);
    for (size_t i = 0; i < N; i++)
        assert_true(out[i] == 1.0f);
    tfm_drop_init(&d, 1, 1.0);
    assert_true(tfm_drop_mul(&d, 0) == 0.0f && tfm_drop_mul(&d, 1) == 0.0f);
    free(ones);
    free(out);
}

/* Dropout needs the training buffers; a model for inference refuses it. */
static void needs_training_buffers(void **state)
{
    (void)state;
    tfm_config c;
    tfm_model m;
    alarm_err e;
    tfm_config_init(&c, TFM_GPT2, 16, 8, 1, 2, 2, 0, 8);
    assert_int_equal(tfm_build(&m, &c, 1, 8, &e), 0);
    assert_int_equal(tfm_set_dropout(&m, 1, 1, &e), -1);
    assert_non_null(strstr(e.msg, "training buffers"));
    assert_int_equal(tfm_set_dropout(&m, 0, 1, &e), 0);
    assert_int_equal(tfm_dropout_hold(&m, 1), 0);
    assert_int_equal(m.drop.on, 0);
    tfm_free(&m);
}

#define CASE(f, n) {#f "_" n, f, NULL, NULL, n}

int main(void)
{
    const struct CMUnitTest tests[] = {
        CASE(grad_with_dropout, "gpt2_value"),
        CASE(grad_with_dropout, "llama_gqa_untied"),
        CASE(zero_p_is_plain, "gpt2_value"),
        CASE(zero_p_is_plain, "llama_gqa_untied"),
        cmocka_unit_test(masks_follow_seed_and_draw),
        cmocka_unit_test(mask_fraction_and_scale),
        cmocka_unit_test(needs_training_buffers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
