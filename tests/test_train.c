/* The training loop (common/train): the epoch order is a seeded permutation
 * any process rebuilds, K accumulated micro-batches make the step one batch
 * of K rows makes, a NaN loss leaves weights, moments and position as they
 * were, the evaluation weighs batches by their target tokens, and the saved
 * state comes back exactly and refuses other settings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckpt.h"
#include "lib/check.h"
#include "lib/tmpdir.h"
#include "train.h"

enum { NEX = 6, LEN = 7, V = 40 };

static const char cfg_json[] =
    "{\"model_type\": \"gpt2\", \"vocab_size\": 40, \"n_positions\": 16, \"n_embd\": 16,"
    " \"n_layer\": 1, \"n_head\": 2, \"activation_function\": \"gelu_new\","
    " \"layer_norm_epsilon\": 1e-5, \"tie_word_embeddings\": true}";

typedef struct {
    tfm_model m;
    seq ex[NEX];
    const seq *ptr[NEX];
    train_data d;
    train_cfg c;
} world;

/* NEX examples of 3 prompt and LEN - 3 response tokens (equal lengths, so a
 * batch's mean is the mean of its rows' means). */
static void world_make(world *w, int batch)
{
    alarm_err e;
    tfm_config cfg;
    memset(w, 0, sizeof *w);
    if (tfm_config_parse(&cfg, cfg_json, &e) || tfm_build(&w->m, &cfg, batch, LEN, &e) ||
        tfm_train_alloc(&w->m, &e))
        fail_msg("%s", e.msg);
    tfm_set_threads(&w->m, 1);
    tfm_init_random(&w->m, 3);
    for (int i = 0; i < NEX; i++) {
        seq *s = &w->ex[i];
        s->ids = malloc(LEN * sizeof *s->ids);
        s->offs = calloc(2 * LEN, sizeof *s->offs);
        s->cap = LEN;
        s->np = 3;
        s->nr = LEN - 3;
        for (int t = 0; t < LEN; t++)
            s->ids[t] = (int32_t)((i * 7 + t * 3) % V);
        w->ptr[i] = s;
    }
    if (train_data_init(&w->d, w->ptr, NEX, batch, LEN, &e))
        fail_msg("%s", e.msg);
    w->c = (train_cfg){.batch = batch, .grad_accum = 1, .seed = 11, .examples = NEX,
                       .data_hash = train_data_hash(w->ptr, NEX)};
    tfm_adamw_defaults(&w->c.opt);
    w->c.opt.lr = 1e-2f;
    w->c.opt.total = 10;
}

static void world_free(world *w)
{
    train_data_free(&w->d);
    for (int i = 0; i < NEX; i++)
        seq_free(&w->ex[i]);
    tfm_free(&w->m);
}

static void step_ok(world *w, train_state *st, float *loss)
{
    alarm_err e;
    float gnorm;
    if (train_step(&w->m, &w->c, st, &w->d, loss, &gnorm, &e))
        fail_msg("%s", e.msg);
    assert_true(isfinite(gnorm) && gnorm > 0);
}

static void order_is_a_seeded_permutation(void **state)
{
    (void)state;
    world w;
    world_make(&w, 2);
    train_state st = {.best_val = -1};
    float loss;
    size_t seen[3][NEX];
    for (int ep = 0; ep < 2; ep++)
        for (int k = 0; k < 3; k++) { /* 3 steps of 2 = one epoch */
            step_ok(&w, &st, &loss);
            if (ep == 0)
                memcpy(seen[0], w.d.order, sizeof seen[0]);
            else
                memcpy(seen[1], w.d.order, sizeof seen[1]);
        }
    assert_int_equal(st.step, 6);
    assert_int_equal(st.epoch, 1);
    int hit[NEX] = {0};
    for (int i = 0; i < NEX; i++)
        hit[seen[0][i]]++;
    for (int i = 0; i < NEX; i++)
        assert_int_equal(hit[i], 1);
    assert_memory_not_equal(seen[0], seen[1], sizeof seen[0]); /* a new order each epoch */
    /* another process (another world) rebuilds epoch 1's order from the seed */
    world w2;
    world_make(&w2, 2);
    train_state st2 = {.epoch = 1, .cursor = 0, .best_val = -1};
    step_ok(&w2, &st2, &loss);
    memcpy(seen[2], w2.d.order, sizeof seen[2]);
    assert_memory_equal(seen[1], seen[2], sizeof seen[1]);
    /* the fingerprint sees the order of the examples */
    const seq *swapped[NEX];
    memcpy(swapped, w.ptr, sizeof swapped);
    swapped[0] = w.ptr[1];
    swapped[1] = w.ptr[0];
    assert_true(train_data_hash(swapped, NEX) != train_data_hash(w.ptr, NEX));
    world_free(&w);
    world_free(&w2);
}

static void accumulation_equals_one_batch(void **state)
{
    (void)state;
    world a, b;
    world_make(&a, 2); /* 2 rows x 1 micro-batch */
    world_make(&b, 1); /* 1 row x 2 micro-batches */
    b.c.grad_accum = 2;
    b.c.batch = 1;
    a.c.seed = b.c.seed = 5;
    train_state sa = {.best_val = -1}, sb = {.best_val = -1};
    float la, lb;
    for (int k = 0; k < 3; k++) {
        step_ok(&a, &sa, &la);
        step_ok(&b, &sb, &lb);
        assert_true(fabsf(la - lb) < 1e-4f * la);
        /* the first step's gradient (later ones start from weights Adam moved
           apart where a gradient is near zero and its sign is rounding) */
        if (k == 0)
            check_close("grads", b.m.grads, a.m.grads, a.m.nparams, 1e-6, 1e-4);
    }
    assert_int_equal(sa.step, sb.step);
    assert_int_equal(sa.cursor, sb.cursor);
    world_free(&a);
    world_free(&b);
}

static void nan_loss_changes_nothing(void **state)
{
    (void)state;
    world w;
    world_make(&w, 2);
    train_state st = {.best_val = -1};
    float loss, gnorm;
    step_ok(&w, &st, &loss);
    size_t n = w.m.nparams;
    float *p = malloc(n * sizeof *p), *mom = malloc(n * sizeof *mom);
    w.m.params[0] = NAN; /* wte row 0, column 0: every row's loss sees it */
    memcpy(p, w.m.params, n * sizeof *p);
    memcpy(mom, w.m.m, n * sizeof *mom);
    train_state before = st;
    alarm_err e;
    assert_int_equal(train_step(&w.m, &w.c, &st, &w.d, &loss, &gnorm, &e), -1);
    assert_non_null(strstr(e.msg, "step 2: the loss is NaN"));
    assert_memory_equal(&before, &st, sizeof st);
    assert_memory_equal(mom, w.m.m, n * sizeof *mom);
    assert_true(isnan(w.m.params[0]));
    assert_memory_equal(p + 1, w.m.params + 1, (n - 1) * sizeof *p);
    free(p);
    free(mom);
    world_free(&w);
}

static void eval_weighs_by_tokens(void **state)
{
    (void)state;
    world w;
    world_make(&w, 4);
    w.ex[5].nr = 1; /* one short response among long ones */
    alarm_err e;
    double one, all;
    if (train_eval(&w.m, &w.d, w.ptr, NEX, 1, &one, &e) || train_eval(&w.m, &w.d, w.ptr, NEX, 4, &all, &e))
        fail_msg("%s", e.msg);
    assert_true(one > 0 && fabs(one - all) < 1e-5 * one);
    world_free(&w);
}

static void state_round_trip(void **state)
{
    (void)state;
    world w;
    world_make(&w, 2);
    train_state st = {.best_val = -1};
    float loss;
    for (int k = 0; k < 4; k++)
        step_ok(&w, &st, &loss);
    st.best_val = 0.25;
    st.best_step = 3;
    char dir[4096], out[4200];
    tmpdir_make(dir, sizeof dir);
    snprintf(out, sizeof out, "%s/ck", dir);
    alarm_err e;
    ckpt_writer cw;
    if (ckpt_begin(&cw, out, &e) || ckpt_write_file(&cw, "config.json", "{}", 2, &e) ||
        train_state_save(&cw, &st, &w.c, &w.m, TRAIN_SAVE_OPTIMIZER | TRAIN_SAVE_MASTER, &e) ||
        ckpt_commit(&cw, &e))
        fail_msg("%s", e.msg);
    world r;
    world_make(&r, 2);
    train_state got;
    if (train_state_load(out, &r.c, &got, &r.m, &e))
        fail_msg("%s", e.msg);
    assert_int_equal(got.step, 4);
    assert_int_equal(got.epoch, st.epoch);
    assert_int_equal(got.cursor, st.cursor);
    assert_true(got.tokens == st.tokens && got.tokens == 4 * 2 * (LEN - 3));
    assert_true(got.best_val == 0.25 && got.best_step == 3);
    size_t n = w.m.nparams * sizeof(float);
    assert_memory_equal(r.m.m, w.m.m, n);
    assert_memory_equal(r.m.v, w.m.v, n);
    assert_memory_equal(r.m.params, w.m.params, n); /* the master copy */
    /* another learning rate: refused, naming it */
    r.c.opt.lr = 2e-2f;
    assert_int_equal(train_state_load(out, &r.c, &got, &r.m, &e), -1);
    assert_non_null(strstr(e.msg, "saved with lr 0.0099999"));
    tmpdir_remove(dir);
    world_free(&w);
    world_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(order_is_a_seeded_permutation),
        cmocka_unit_test(accumulation_equals_one_batch),
        cmocka_unit_test(nan_loss_changes_nothing),
        cmocka_unit_test(eval_weighs_by_tokens),
        cmocka_unit_test(state_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
