/* The reward models' losses (common/rm): the Bradley-Terry loss through the
 * score head and the span cross-entropy through the token head, each
 * against its formula and its gradient against central finite differences
 * through the whole model; the span tallies' accuracy, F1 and baseline. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/fdcheck.h"
#include "rm.h"

enum { K = 3, T = 9, V = 23 };

typedef struct {
    tfm_model m;
    rm_task task;
    rm_pair pairs[K];
    rm_spans spans[K];
    const void *ex[K];
    int spans_mode;
} world;

static void set_seq(seq *s, int np, int nr, uint64_t *rng)
{
    s->ids = malloc((size_t)(np + nr) * sizeof *s->ids);
    s->offs = calloc((size_t)nr * 2 + 2, sizeof *s->offs);
    s->np = np;
    s->nr = nr;
    float tmp[T];
    fd_fill(tmp, (size_t)(np + nr), 0, V, rng);
    for (int i = 0; i < np + nr; i++)
        s->ids[i] = (int32_t)tmp[i];
}

static void build(world *w, tfm_arch arch, tfm_cls_kind cls, int nl, int rows)
{
    tfm_config c;
    alarm_err e;
    tfm_config_init(&c, arch, V, 16, 2, 2, arch == TFM_LLAMA ? 1 : 2, 0, 16);
    c.lm_head = 0;
    c.cls = cls;
    c.n_labels = nl;
    if (tfm_build(&w->m, &c, rows, T, &e) || tfm_train_alloc(&w->m, &e) ||
        rm_task_init(&w->task, rows, T, nl, &e))
        fail_msg("%s", e.msg);
    tfm_init_random(&w->m, 5);
    /* a score head at zero would hide the rest of the model's gradient */
    for (int i = 0; i < w->m.ntab; i++)
        if (strstr(w->m.tab[i].name, "score") || strstr(w->m.tab[i].name, "classifier")) {
            uint64_t r = 8;
            fd_fill(w->m.params + w->m.tab[i].offset, w->m.tab[i].numel, -0.5, 0.5, &r);
        }
}

static double loss_of(void *p)
{
    world *w = p;
    float l;
    double wt;
    alarm_err e;
    int rc = w->spans_mode ? rm_span_loss(&w->task, &w->m, w->ex, K, 0, &l, &wt, NULL, &e)
                           : rm_pair_loss(&w->task, &w->m, w->ex, K, 0, &l, &wt, NULL, &e);
    if (rc)
        fail_msg("%s", e.msg);
    return l;
}

static void check_grads(world *w)
{
    float l;
    double wt;
    alarm_err e;
    tfm_zero_grad(&w->m);
    int rc = w->spans_mode ? rm_span_loss(&w->task, &w->m, w->ex, K, 1, &l, &wt, NULL, &e)
                           : rm_pair_loss(&w->task, &w->m, w->ex, K, 1, &l, &wt, NULL, &e);
    assert_int_equal(rc, 0);
    tfm_backward(&w->m);
    uint64_t rng = 31;
    for (int i = 0; i < w->m.ntab; i++) {
        const tfm_tensor *t = &w->m.tab[i];
        fd_check(t->name, w->m.params + t->offset, t->numel, w->m.grads + t->offset, loss_of, w,
                 4, &rng, 1e-2, 2e-3, 2e-2);
    }
}

static void teardown(world *w)
{
    for (int i = 0; i < K; i++) {
        seq_free(&w->pairs[i].chosen);
        seq_free(&w->pairs[i].rejected);
        seq_free(&w->spans[i].s);
        free(w->spans[i].at);
        free(w->spans[i].label);
    }
    rm_task_free(&w->task);
    tfm_free(&w->m);
    free(w);
}

static void pair_loss(void **state)
{
    (void)state;
    world *w = calloc(1, sizeof *w);
    build(w, TFM_GPT2, TFM_CLS_SCORE, 1, 2 * K);
    uint64_t rng = 3;
    for (int i = 0; i < K; i++) {
        set_seq(&w->pairs[i].chosen, 2 + i, 3 + 2 * i % 4, &rng);
        set_seq(&w->pairs[i].rejected, 2 + i, 1 + i, &rng);
        w->ex[i] = &w->pairs[i];
    }
    /* the loss is the formula on the scores each sequence gets alone */
    double want = 0;
    for (int i = 0; i < K; i++) {
        float r[2];
        const seq *two[2] = {&w->pairs[i].chosen, &w->pairs[i].rejected};
        alarm_err e;
        assert_int_equal(rm_score(&w->task, &w->m, two, 2, r, &e), 0);
        want += -log(1 / (1 + exp(-((double)r[0] - r[1])))) / K;
    }
    assert_true(fabs(loss_of(w) - want) < 1e-5);
    rm_pair_tally tl = {0};
    float l;
    double wt;
    alarm_err e;
    assert_int_equal(rm_pair_loss(&w->task, &w->m, w->ex, K, 0, &l, &wt, &tl, &e), 0);
    assert_true(wt == K && tl.pairs == K && tl.correct >= 0 && tl.correct <= K);
    check_grads(w);
    teardown(w);
}

static void span_loss(void **state)
{
    (void)state;
    world *w = calloc(1, sizeof *w);
    build(w, TFM_LLAMA, TFM_CLS_TOKEN, 3, K);
    w->spans_mode = 1;
    uint64_t rng = 4;
    for (int i = 0; i < K; i++) {
        rm_spans *x = &w->spans[i];
        set_seq(&x->s, 2, 4 + i, &rng);
        x->n = 2;
        x->at = malloc(2 * sizeof *x->at);
        x->label = malloc(2 * sizeof *x->label);
        x->at[0] = 1;
        x->at[1] = 3 + i;
        x->label[0] = i % 3;
        x->label[1] = (i + 1) % 3;
        w->ex[i] = x;
    }
    float l;
    double wt;
    alarm_err e;
    rm_span_tally tl = {0};
    assert_int_equal(rm_span_loss(&w->task, &w->m, w->ex, K, 0, &l, &wt, &tl, &e), 0);
    assert_true(wt == 2 * K);
    /* the formula at the spans' rows of the forward just run */
    double want = 0, counted = 0;
    for (int i = 0; i < K; i++)
        for (int j = 0; j < 2; j++) {
            const float *z =
                w->m.cls + ((size_t)i * w->task.sb.T + 2 + w->spans[i].at[j]) * 3;
            double den = exp(z[0]) + exp(z[1]) + exp(z[2]);
            want += -log(exp(z[w->spans[i].label[j]]) / den) / (2 * K);
        }
    for (int y = 0; y < 3; y++)
        for (int c = 0; c < 3; c++)
            counted += tl.conf[y][c];
    assert_true(fabs(l - want) < 1e-5);
    assert_true(counted == 2 * K);
    check_grads(w);
    teardown(w);
}

/* rm_span_predict labels each span with the argmax rm_span_loss tallies,
 * in chunks of the task's rows (2 here, for 3 records). */
static void span_predict(void **state)
{
    (void)state;
    world *w = calloc(1, sizeof *w);
    build(w, TFM_GPT2, TFM_CLS_TOKEN, 3, K);
    uint64_t rng = 6;
    rm_spans *rows[K];
    int truth[K][2];
    for (int i = 0; i < K; i++) {
        rm_spans *x = &w->spans[i];
        set_seq(&x->s, 2, 3 + i, &rng);
        x->n = 2;
        x->at = malloc(2 * sizeof *x->at);
        x->label = malloc(2 * sizeof *x->label);
        x->at[0] = 0;
        x->at[1] = 2 + i;
        truth[i][0] = x->label[0] = i % 3;
        truth[i][1] = x->label[1] = (i + 2) % 3;
        w->ex[i] = rows[i] = x;
    }
    float l;
    double wt;
    alarm_err e;
    rm_span_tally tl = {0}, got = {0};
    assert_int_equal(rm_span_loss(&w->task, &w->m, w->ex, K, 0, &l, &wt, &tl, &e), 0);
    rm_task two;
    assert_int_equal(rm_task_init(&two, 2, T, 3, &e), 0);
    assert_int_equal(rm_span_predict(&two, &w->m, rows, K, &e), 0);
    for (int i = 0; i < K; i++)
        for (int j = 0; j < 2; j++) {
            assert_true(w->spans[i].label[j] >= 0 && w->spans[i].label[j] < 3);
            got.conf[truth[i][j]][w->spans[i].label[j]] += 1;
        }
    assert_memory_equal(&got, &tl, sizeof got);
    rm_task_free(&two);
    /* a score head has no labels to predict */
    teardown(w);
    w = calloc(1, sizeof *w);
    build(w, TFM_GPT2, TFM_CLS_SCORE, 1, K);
    assert_int_equal(rm_task_init(&two, 2, T, 3, &e), 0);
    assert_int_equal(rm_span_predict(&two, &w->m, rows, 0, &e), -1);
    assert_non_null(strstr(e.msg, "token head"));
    rm_task_free(&two);
    teardown(w);
}

static void span_summary(void **state)
{
    (void)state;
    rm_span_tally t = {0};
    t.conf[0][0] = 6; /* good: 6 right, 2 called bad */
    t.conf[0][1] = 2;
    t.conf[1][1] = 1; /* bad: 1 right, 1 called good */
    t.conf[1][0] = 1;
    rm_span_report r;
    rm_span_summarise(&t, 2, &r);
    assert_true(r.total == 10 && r.majority_label == 0 && fabs(r.majority - 0.8) < 1e-12);
    assert_true(fabs(r.accuracy[0] - 0.75) < 1e-12 && fabs(r.accuracy[1] - 0.5) < 1e-12);
    assert_true(fabs(r.accuracy_all - 0.7) < 1e-12);
    /* good: tp 6, fp 1, fn 2 -> 12/15; bad: tp 1, fp 2, fn 1 -> 2/5 */
    assert_true(fabs(r.f1[0] - 0.8) < 1e-12 && fabs(r.f1[1] - 0.4) < 1e-12);
}

static void token_at(void **state)
{
    (void)state;
    seq s = {0};
    size_t offs[] = {0, 3, 3, 4, 4, 4, 4, 7};
    s.nr = 4;
    s.offs = offs;
    assert_int_equal(rm_token_at(&s, 0), 0);
    assert_int_equal(rm_token_at(&s, 2), 0);
    assert_int_equal(rm_token_at(&s, 3), 1);
    assert_int_equal(rm_token_at(&s, 4), 3); /* the empty span holds nothing */
    assert_int_equal(rm_token_at(&s, 7), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pair_loss),
        cmocka_unit_test(span_loss),
        cmocka_unit_test(span_predict),
        cmocka_unit_test(span_summary),
        cmocka_unit_test(token_at),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
