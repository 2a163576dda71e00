/* PyTorch parity of the transformer runtime: each fixture under
 * tests/fixtures/tfm/ (written by gen_tfm_fixtures.py) is a tiny random
 * checkpoint in Hugging Face layout plus the head outputs, loss and every
 * parameter gradient PyTorch computed for a fixed, partly padded batch. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/check.h"
#include "tfm.h"
#include "lib/tst_reader.h"

/* Element-wise fp32 tolerance: the two sides sum in different orders. */
#define ATOL 2e-5
#define RTOL 2e-4

static int *ints(tst_file *f, const char *name)
{
    int nd;
    int64_t shape[8];
    const float *p = tst_get(f, name, &nd, shape);
    assert_non_null(p);
    size_t n = tst_numel(f, name);
    int *v = malloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = (int)p[i];
    return v;
}

static const float *want(tst_file *f, const char *name, size_t n)
{
    int nd;
    int64_t shape[8];
    const float *p = tst_get(f, name, &nd, shape);
    if (!p)
        fail_msg("fixture lacks %s", name);
    assert_int_equal(tst_numel(f, name), n);
    return p;
}

static void parity(void **state)
{
    const char *name = *state;
    char dir[4096], path[4200];
    snprintf(dir, sizeof dir, "%s", test_path("fixtures/tfm/"));
    strncat(dir, name, sizeof dir - strlen(dir) - 1);
    snprintf(path, sizeof path, "%s/expected.safetensors", dir);
    tst_file *ex = tst_open(path);
    assert_non_null(ex);
    int nd;
    int64_t shape[8];
    assert_non_null(tst_get(ex, "tokens", &nd, shape));
    int B = (int)shape[0], T = (int)shape[1];

    tfm_model m;
    alarm_err e;
    if (tst_load_model(&m, dir, B, T, &e))
        fail_msg("%s: %s", name, e.msg);
    assert_int_equal(tfm_train_alloc(&m, &e), 0);
    int *tokens = ints(ex, "tokens"), *lens = ints(ex, "lens"), *targets = ints(ex, "targets");
    if (tfm_forward(&m, tokens, lens, B, T, &e))
        fail_msg("%s", e.msg);
    tfm_zero_grad(&m);
    const tfm_config *c = &m.cfg;
    size_t N = (size_t)B * T;
    double loss = 0;
    if (c->lm_head) {
        check_close("logits", m.logits, want(ex, "logits", N * c->V), N * c->V, ATOL, RTOL);
        float lm;
        if (tfm_loss_lm(&m, targets, 1.0f, &lm, &e) < 0)
            fail_msg("%s", e.msg);
        check_close("lm_loss", &lm, want(ex, "lm_loss", 1), 1, ATOL, RTOL);
        loss += lm;
    }
    if (c->value_head) {
        check_close("values", m.values, want(ex, "values", N), N, ATOL, RTOL);
        const float *w = want(ex, "values_w", N);
        for (size_t i = 0; i < N; i++) {
            m.dvalues[i] = w[i];
            loss += (double)w[i] * m.values[i];
        }
    }
    if (c->cls) {
        size_t n = (c->cls == TFM_CLS_SCORE ? (size_t)B : N) * c->n_labels;
        check_close("cls", m.cls, want(ex, "cls", n), n, ATOL, RTOL);
        const float *w = want(ex, "cls_w", n);
        for (size_t i = 0; i < n; i++) {
            m.dcls[i] = w[i];
            loss += (double)w[i] * m.cls[i];
        }
    }
    float fl = (float)loss;
    check_close("loss", &fl, want(ex, "loss", 1), 1, ATOL, RTOL);
    tfm_backward(&m);
    for (int i = 0; i < m.ntab; i++) {
        const tfm_tensor *t = &m.tab[i];
        char gname[128];
        snprintf(gname, sizeof gname, "grad.%s", t->name);
        check_close(gname, m.grads + t->offset, want(ex, gname, t->numel), t->numel, ATOL, RTOL);
    }
    free(tokens);
    free(lens);
    free(targets);
    tfm_free(&m);
    tst_close(ex);
}

#define PARITY(n) {"parity_" n, parity, NULL, NULL, n}

int main(void)
{
    const struct CMUnitTest tests[] = {
        PARITY("gpt2_value"),
        PARITY("gpt2_score"),
        PARITY("llama_gqa_untied"),
        PARITY("llama_mqa_tied"),
        PARITY("qwen2_bias"),
        PARITY("llama3_rope"),
        PARITY("llama_tokcls"),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
