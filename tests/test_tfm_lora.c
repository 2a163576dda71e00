/* LoRA: the adapter directories of tests/gen_lora_fixtures.py (a GPT-2 with
 * c_attn/c_proj/c_fc, a Llama with all seven targets) loaded through
 * tfm_load, against PyTorch's logits, loss, gradients of A and B and merged
 * weights; A and B against finite differences; base weights frozen (no
 * gradients, unchanged by a step); adapters off equal the base; a save
 * reloads the same; bad targets and configs are errors naming them. */
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
#include "lib/tmpdir.h"
#include "lib/tst_reader.h"
#include "tfm.h"
#include "tfm_ckpt.h"
#include "tfm_lora.h"
#include "tfm_optim.h"

enum { B = 2, T = 8 };

typedef struct {
    tfm_model m;
    tst_file *exp;
    int tokens[B * T], targets[B * T], lens[B];
} lctx;

static const char *fixture(const char *name, const char *what)
{
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s%s/%s", test_path("fixtures/lora/"), name, what);
    return buf;
}

static void ints(tst_file *f, const char *name, int *out, size_t n)
{
    int nd;
    int64_t sh[8];
    const float *x = tst_get(f, name, &nd, sh);
    assert_non_null(x);
    for (size_t i = 0; i < n; i++)
        out[i] = (int)x[i];
}

static void load(lctx *g, const char *name)
{
    alarm_err e;
    if (tfm_load(&g->m, fixture(name, "adapter"), B, T, 0, &e) || tfm_train_alloc(&g->m, &e))
        fail_msg("%s: %s", name, e.msg);
    g->exp = tst_open(fixture(name, "expected.safetensors"));
    assert_non_null(g->exp);
    ints(g->exp, "tokens", g->tokens, B * T);
    ints(g->exp, "targets", g->targets, B * T);
    ints(g->exp, "lens", g->lens, B);
}

static void unload(lctx *g)
{
    tst_close(g->exp);
    tfm_free(&g->m);
}

static double loss_of(void *p)
{
    lctx *g = p;
    alarm_err e;
    float loss;
    if (tfm_forward(&g->m, g->tokens, g->lens, B, T, &e) ||
        tfm_loss_lm(&g->m, g->targets, 0.0f, &loss, &e))
        fail_msg("%s", e.msg);
    return loss;
}

static void backward(lctx *g, float *loss)
{
    alarm_err e;
    tfm_zero_grad(&g->m);
    assert_int_equal(tfm_forward(&g->m, g->tokens, g->lens, B, T, &e), 0);
    assert_int_equal(tfm_loss_lm(&g->m, g->targets, 1.0f, loss, &e), 0);
    tfm_backward(&g->m);
}

static void parity(void **state)
{
    const char *name = *state;
    lctx g = {0};
    load(&g, name);
    tfm_model *m = &g.m;
    float loss;
    backward(&g, &loss);
    int nd;
    int64_t sh[8];
    size_t V = (size_t)m->cfg.V;
    check_close("logits", m->logits, tst_get(g.exp, "logits", &nd, sh), B * T * V, 1e-5, 1e-4);
    check_close("loss", &loss, tst_get(g.exp, "loss", &nd, sh), 1, 1e-5, 1e-5);
    int nad = 0;
    for (int i = 0; i < m->ntab; i++) {
        const tfm_tensor *t = &m->tab[i];
        char key[160];
        snprintf(key, sizeof key, "grad.%s", t->name);
        if (!tfm_lora_is_adapter(t)) {
            assert_null(tfm_span_at(m, m->grads, t)); /* frozen: no gradient at all */
            continue;
        }
        nad++;
        const float *want = tst_get(g.exp, key, &nd, sh);
        assert_non_null(want);
        check_close(t->name, tfm_span_at(m, m->grads, t), want, t->numel, 1e-5, 1e-3);
    }
    assert_int_equal(nad, 2 * m->cfg.L * (m->cfg.arch == TFM_GPT2 ? 4 : 7));
    /* merged: the base weights plus scale B A, computing the same logits */
    float *before = malloc(B * T * V * sizeof(float));
    memcpy(before, m->logits, B * T * V * sizeof(float));
    tfm_lora_merge(m);
    int merged = 0;
    for (int i = 0; i < m->ntab; i++) {
        char key[160];
        snprintf(key, sizeof key, "merged.%s", m->tab[i].name);
        const float *want = tst_get(g.exp, key, &nd, sh);
        if (!want)
            continue;
        merged++;
        check_close(key, m->params + m->tab[i].offset, want, m->tab[i].numel, 1e-6, 1e-5);
    }
    assert_int_equal(merged, m->cfg.L * (m->cfg.arch == TFM_GPT2 ? 4 : 7));
    loss_of(&g);
    check_close("merged logits", m->logits, before, B * T * V, 1e-5, 1e-4);
    free(before);
    unload(&g);
}

/* A and B of every adapter against central differences of the loss. */
static void fd_adapters(void **state)
{
    lctx g = {0};
    load(&g, *state);
    tfm_model *m = &g.m;
    float loss;
    backward(&g, &loss);
    uint64_t rng = 5;
    for (int i = 0; i < m->ntab; i++) {
        const tfm_tensor *t = &m->tab[i];
        if (tfm_lora_is_adapter(t))
            fd_check(t->name, m->params + t->offset, t->numel, tfm_span_at(m, m->grads, t),
                     loss_of, &g, 4, &rng, 1e-2, 2e-3, 2e-2);
    }
    unload(&g);
}

/* With dropout on (GPT-2's own sites and the adapters' inputs, every
 * forward the same masks): A and B against central differences. The
 * adapters on c_proj sit inside the residual dropout of their output. */
static double loss_same_masks(void *p)
{
    tfm_dropout_seek(&((lctx *)p)->m, 7);
    return loss_of(p);
}

static void fd_dropout(void **state)
{
    (void)state;
    lctx g = {0};
    alarm_err e;
    tfm_lora_opts o = {.r = 3, .alpha = 6, .dropout = 0.3, .targets = "c_attn,c_proj,c_fc",
                       .seed = 1};
    load(&g, "gpt2"); /* the batch */
    tfm_free(&g.m);
    if (tfm_load_lora(&g.m, fixture("gpt2", "base"), &o, B, T, 0, &e) ||
        tfm_train_alloc(&g.m, &e) || tfm_set_dropout(&g.m, 1, 3, &e))
        fail_msg("%s", e.msg);
    tfm_model *m = &g.m;
    uint64_t rng = 11;
    for (int i = 0; i < m->ntab; i++) /* B random, so A has a gradient */
        if (strstr(m->tab[i].name, "lora_B"))
            fd_fill(m->params + m->tab[i].offset, m->tab[i].numel, -0.3, 0.3, &rng);
    float loss;
    tfm_zero_grad(m);
    tfm_dropout_seek(m, 7);
    assert_int_equal(tfm_forward(m, g.tokens, g.lens, B, T, &e), 0);
    assert_int_equal(tfm_loss_lm(m, g.targets, 1.0f, &loss, &e), 0);
    tfm_backward(m);
    double on = loss, off;
    tfm_dropout_hold(m, 0);
    off = loss_of(&g);
    tfm_dropout_hold(m, 1);
    assert_true(fabs(on - off) > 1e-4); /* the masks matter */
    for (int i = 0; i < m->ntab; i++) {
        const tfm_tensor *t = &m->tab[i];
        if (tfm_lora_is_adapter(t))
            fd_check(t->name, m->params + t->offset, t->numel, tfm_span_at(m, m->grads, t),
                     loss_same_masks, &g, 4, &rng, 1e-2, 2e-3, 2e-2);
    }
    unload(&g);
}

/* Adapters off compute the base; a step moves only adapters. */
static void frozen_and_off(void **state)
{
    const char *name = *state;
    lctx g = {0};
    tfm_model base;
    alarm_err e;
    load(&g, name);
    tfm_model *m = &g.m;
    assert_int_equal(tfm_load(&base, fixture(name, "base"), B, T, 0, &e), 0);
    assert_int_equal(tfm_forward(&base, g.tokens, g.lens, B, T, &e), 0);
    size_t n, nlog = (size_t)B * T * m->cfg.V;
    assert_int_equal(tfm_lora_enable(m, 0), 1);
    loss_of(&g);
    check_close("adapters off", m->logits, base.logits, nlog, 0, 0);
    tfm_lora_enable(m, 1);
    loss_of(&g);
    float diff = 0; /* on: the adapters (B nonzero) change the logits */
    for (size_t i = 0; i < nlog; i++)
        diff = fabsf(m->logits[i] - base.logits[i]) > diff ? fabsf(m->logits[i] - base.logits[i]) : diff;
    assert_true(diff > 1e-3);
    /* the span is the adapters only (an LM head does not train) */
    assert_non_null(tfm_trainable_grads(m, &n));
    assert_int_equal(n, m->ntrain);
    assert_int_equal(m->toff + m->ntrain, m->nparams);
    float loss;
    backward(&g, &loss);
    tfm_adamw o;
    tfm_adamw_defaults(&o);
    o.lr = 1e-2f;
    float *p0 = malloc(m->nparams * sizeof(float));
    memcpy(p0, m->params, m->nparams * sizeof(float));
    tfm_optim_step(m, &o, 0);
    assert_memory_equal(p0, m->params, m->toff * sizeof(float));
    assert_memory_not_equal(p0 + m->toff, m->params + m->toff, m->ntrain * sizeof(float));
    free(p0);
    tfm_free(&base);
    unload(&g);
}

/* tfm_save writes an adapter directory that loads back to the same model. */
static void save_reload(void **state)
{
    lctx g = {0};
    load(&g, *state);
    char dir[4096], out[4200];
    tmpdir_make(dir, sizeof dir);
    snprintf(out, sizeof out, "%s/adapter", dir);
    alarm_err e;
    if (tfm_save(&g.m, out, NULL, &e))
        fail_msg("%s", e.msg);
    tfm_model r;
    if (tfm_load(&r, out, B, T, 0, &e))
        fail_msg("%s", e.msg);
    assert_int_equal(r.nparams, g.m.nparams);
    assert_memory_equal(r.params, g.m.params, r.nparams * sizeof(float));
    assert_true(r.cfg.lora.r == g.m.cfg.lora.r && r.cfg.lora.targets == g.m.cfg.lora.targets);
    char p[4300];
    snprintf(p, sizeof p, "%s/model.safetensors", out);
    char *none = tmpdir_read(p, NULL);
    assert_null(none); /* no heads train: nothing beside the adapters */
    tfm_free(&r);
    tmpdir_remove(dir);
    unload(&g);
}

static void bad_targets(void **state)
{
    (void)state;
    tfm_config c;
    unsigned bits;
    alarm_err e;
    tfm_config_init(&c, TFM_GPT2, 64, 32, 2, 4, 4, 128, 16);
    assert_int_equal(tfm_lora_targets(&c, "c_attn,q_proj", &bits, &e), -1);
    assert_non_null(strstr(e.msg, "\"q_proj\""));
    assert_int_equal(tfm_lora_targets(&c, "c_proj", &bits, &e), 0);
    assert_int_equal(bits, 0xau); /* both of GPT-2's c_proj */
    assert_int_equal(tfm_lora_targets(&c, NULL, &bits, &e), 0);
    assert_int_equal(bits, 1u);
    tfm_config_init(&c, TFM_LLAMA, 64, 32, 2, 4, 2, 48, 16);
    assert_int_equal(tfm_lora_targets(&c, "", &bits, &e), 0);
    assert_int_equal(bits, 0x5u); /* q_proj, v_proj */
    assert_int_equal(tfm_lora_targets(&c, "c_attn", &bits, &e), -1);
}

/* A broken adapter_config.json names the file and the field. */
static void bad_config(void **state)
{
    (void)state;
    char dir[4096], p[4200];
    tmpdir_make(dir, sizeof dir);
    snprintf(p, sizeof p, "%s/adapter_config.json", dir);
    const char *cfg = "{\"peft_type\": \"LORA\", \"r\": 0, \"lora_alpha\": 8}";
    tmpdir_write(p, cfg, strlen(cfg));
    tfm_model m;
    alarm_err e;
    assert_int_equal(tfm_load(&m, dir, B, T, 0, &e), -1);
    assert_non_null(strstr(e.msg, "adapter_config.json: field \"r\""));
    cfg = "{\"peft_type\": \"LORA\", \"r\": 4, \"lora_alpha\": 8, \"target_modules\": [\"c_attn\"],"
          " \"base_model_name_or_path\": \"no-such-base\"}";
    tmpdir_write(p, cfg, strlen(cfg));
    assert_int_equal(tfm_load(&m, dir, B, T, 0, &e), -1);
    assert_non_null(strstr(e.msg, "no-such-base"));
    tmpdir_remove(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        {"parity_gpt2", parity, NULL, NULL, "gpt2"},
        {"parity_llama", parity, NULL, NULL, "llama"},
        {"fd_gpt2", fd_adapters, NULL, NULL, "gpt2"},
        {"fd_llama", fd_adapters, NULL, NULL, "llama"},
        cmocka_unit_test(fd_dropout),
        {"frozen_gpt2", frozen_and_off, NULL, NULL, "gpt2"},
        {"frozen_llama", frozen_and_off, NULL, NULL, "llama"},
        {"save_reload_llama", save_reload, NULL, NULL, "llama"},
        cmocka_unit_test(bad_targets),
        cmocka_unit_test(bad_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
