/* train: the loop of train.h, over any task's loss; the LM loss on seq
 * sequences (alarm-sft's) is the built-in task. Under mpirun each rank
 * takes its share of every micro-batch (common/dist). */
#include "train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dist.h"
#include "rng.h"

static int lm_loss(void *ctx, tfm_model *m, const void *const *ex, int k, float scale,
                   float *loss, double *weight, void *tally, alarm_err *e)
{
    (void)tally;
    seq_batch *sb = ctx;
    if (seq_batch_fill(sb, (const seq *const *)ex, k, 0, e) < 0 ||
        tfm_forward(m, sb->tokens, sb->lens, sb->B, sb->T, e) < 0 ||
        tfm_loss_lm(m, sb->lm_targets, scale, loss, e) < 0)
        return -1;
    *weight = (double)sb->n; /* the positions with a target */
    return 0;
}

int train_data_init_task(train_data *d, const void *const *ex, size_t n, int batch,
                         train_loss_fn loss, void *ctx, alarm_err *e)
{
    memset(d, 0, sizeof *d);
    d->ex = ex;
    d->n = n;
    d->order_epoch = -1;
    d->loss = loss;
    d->ctx = ctx;
    d->order = malloc((n ? n : 1) * sizeof *d->order);
    d->rows = malloc((size_t)batch * sizeof *d->rows);
    if (!d->order || !d->rows)
        return err_set(e, "out of memory");
    return 0;
}

int train_data_init(train_data *d, const seq *const *ex, size_t n, int batch, int max_len,
                    alarm_err *e)
{
    if (train_data_init_task(d, (const void *const *)ex, n, batch, lm_loss, &d->sb, e) < 0)
        return -1;
    return seq_batch_init(&d->sb, batch, max_len, e);
}

void train_data_free(train_data *d)
{
    free(d->order);
    free(d->rows);
    seq_batch_free(&d->sb);
    memset(d, 0, sizeof *d);
}

void train_order(size_t *order, size_t n, uint64_t seed, long epoch)
{
    /* Fisher-Yates from a stream of (seed, epoch): any process rebuilds it */
    uint64_t s = seed ^ (0x9e3779b97f4a7c15ull * (uint64_t)(epoch + 1));
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(rng_next(&s) % i);
        size_t t = order[i - 1];
        order[i - 1] = order[j];
        order[j] = t;
    }
}

static void shuffle(train_data *d, uint64_t seed, int epoch)
{
    train_order(d->order, d->n, seed, epoch);
    d->order_epoch = epoch;
}

uint64_t train_hash_bytes(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t j = 0; j < n; j++)
        h = (h ^ b[j]) * 0x100000001b3ull;
    return h;
}

uint64_t train_hash_seq(uint64_t h, const seq *s)
{
    int32_t head[2] = {s->np, s->nr};
    h = train_hash_bytes(h, head, sizeof head);
    return train_hash_bytes(h, s->ids, (size_t)(s->np + s->nr) * sizeof(int32_t));
}

uint64_t train_data_hash(const seq *const *ex, size_t n)
{
    uint64_t h = TRAIN_HASH_START; /* FNV-1a over (np, nr, ids) of each example */
    for (size_t i = 0; i < n; i++)
        h = train_hash_seq(h, ex[i]);
    return h;
}

long train_steps_per_epoch(const train_cfg *c, size_t n)
{
    size_t per = (size_t)c->batch * (size_t)c->grad_accum;
    return (long)((n + per - 1) / per);
}

/* The next micro-batch: up to batch examples of the epoch; an epoch's last
 * one may be smaller, and the next starts the next epoch. */
static int next_rows(train_data *d, const train_cfg *c, train_state *st)
{
    if (st->cursor >= d->n) {
        st->epoch++;
        st->cursor = 0;
    }
    if (d->order_epoch != st->epoch)
        shuffle(d, c->seed, st->epoch);
    int k = 0;
    while (k < c->batch && st->cursor < d->n)
        d->rows[k++] = d->ex[d->order[st->cursor++]];
    return k;
}

/* This rank's share of a micro-batch of k rows, through the task's loss:
 * lw = {its mean loss x its weight, its weight}, summed over the ranks, and
 * its head gradients weighed by its part of the total weight, so the
 * ranks' gradients add up to the whole micro-batch's mean (HF's average). */
static int share(tfm_model *m, const train_cfg *c, train_data *d, int k, double lw[2],
                 alarm_err *e)
{
    size_t lo, hi;
    float l = 0;
    double w = 0;
    dist_share((size_t)k, &lo, &hi);
    int rc = hi > lo ? d->loss(d->ctx, m, d->rows + lo, (int)(hi - lo),
                               1.0f / (float)c->grad_accum, &l, &w, NULL, e) : 0;
    if (dist_agree(rc, e) < 0)
        return -1;
    lw[0] = (double)l * w;
    lw[1] = w;
    dist_sum_doubles(lw, 2);
    if (lw[1] > 0 && w != lw[1])
        tfm_scale_head_grads(m, (float)(w / lw[1]));
    if (hi > lo && isfinite(lw[0]))
        tfm_backward(m);
    return 0;
}

int train_step(tfm_model *m, const train_cfg *c, train_state *st, train_data *d, float *loss,
               float *gnorm, alarm_err *e)
{
    if (d->n == 0)
        return err_set(e, "no training examples");
    /* the position before the step, restored if it fails */
    train_state before = *st;
    double sum = 0;
    tfm_zero_grad(m);
    for (int a = 0; a < c->grad_accum; a++) {
        int k = next_rows(d, c, st);
        double lw[2];
        tfm_zero_head_grads(m);
        /* a micro-batch's dropout masks from its place in the run, so a resume draws them again */
        tfm_dropout_seek(m, (uint64_t)st->step * (uint64_t)c->grad_accum + (uint64_t)a);
        if (share(m, c, d, k, lw, e) < 0) {
            *st = before;
            return -1;
        }
        /* every rank sees the same sums, so all stop together */
        double l = lw[1] > 0 ? lw[0] / lw[1] : lw[0];
        if (!isfinite(l)) {
            *st = before;
            return err_set(e, "step %ld: the loss is %s; the weights are left as they were",
                           st->step + 1, isnan(l) ? "NaN" : "infinite");
        }
        sum += (float)l;
        st->tokens += lw[1];
    }
    size_t n;
    float *g = tfm_trainable_grads(m, &n);
    dist_sum_floats(g, n);
    *gnorm = tfm_optim_step(m, &c->opt, (int)st->step);
    if (!isfinite(*gnorm)) {
        *st = before;
        return err_set(e, "step %ld: the gradient norm is %s; the weights are left as they were",
                       st->step + 1, isnan(*gnorm) ? "NaN" : "infinite");
    }
    st->step++;
    *loss = (float)(sum / c->grad_accum);
    return 0;
}

int train_eval_task(tfm_model *m, train_data *d, const void *const *ex, size_t n, int batch,
                    double *loss, void *tally, alarm_err *e)
{
    double sum = 0, count = 0;
    int drop = tfm_dropout_hold(m, 0); /* transformers evaluates in eval mode */
    int rc = 0;
    for (size_t i = 0; !rc && i < n; i += (size_t)batch) {
        int k = n - i < (size_t)batch ? (int)(n - i) : batch;
        for (int r = 0; r < k; r++)
            d->rows[r] = ex[i + (size_t)r];
        float l;
        double w; /* the batch's mean loss weighs by what it is over */
        if (d->loss(d->ctx, m, d->rows, k, 0.0f, &l, &w, tally, e) < 0) {
            rc = -1;
            break;
        }
        sum += (double)l * w;
        count += w;
    }
    tfm_dropout_hold(m, drop);
    *loss = count > 0 ? sum / count : 0;
    return rc;
}

int train_eval(tfm_model *m, train_data *d, const seq *const *ex, size_t n, int batch,
               double *loss, alarm_err *e)
{
    return train_eval_task(m, d, (const void *const *)ex, n, batch, loss, NULL, e);
}
