/* train: the loop of train.h. */
#include "train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

int train_data_init(train_data *d, const seq *const *ex, size_t n, int batch, int max_len,
                    alarm_err *e)
{
    memset(d, 0, sizeof *d);
    d->ex = ex;
    d->n = n;
    d->order_epoch = -1;
    d->order = malloc((n ? n : 1) * sizeof *d->order);
    d->rows = malloc((size_t)batch * sizeof *d->rows);
    if (!d->order || !d->rows)
        return err_set(e, "out of memory");
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

uint64_t train_data_hash(const seq *const *ex, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a over (np, nr, ids) of each example */
    for (size_t i = 0; i < n; i++) {
        int32_t head[2] = {ex[i]->np, ex[i]->nr};
        const unsigned char *parts[2] = {(const unsigned char *)head,
                                         (const unsigned char *)ex[i]->ids};
        size_t lens[2] = {sizeof head, (size_t)(ex[i]->np + ex[i]->nr) * sizeof(int32_t)};
        for (int k = 0; k < 2; k++)
            for (size_t j = 0; j < lens[k]; j++)
                h = (h ^ parts[k][j]) * 0x100000001b3ull;
    }
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

static int forward_loss(tfm_model *m, train_data *d, int k, float scale, float *loss,
                        alarm_err *e)
{
    seq_batch *sb = &d->sb;
    if (seq_batch_fill(sb, d->rows, k, 0, e) < 0 ||
        tfm_forward(m, sb->tokens, sb->lens, sb->B, sb->T, e) < 0)
        return -1;
    return tfm_loss_lm(m, sb->lm_targets, scale, loss, e);
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
        float l;
        tfm_zero_head_grads(m);
        if (forward_loss(m, d, k, 1.0f / (float)c->grad_accum, &l, e) < 0) {
            *st = before;
            return -1;
        }
        if (!isfinite(l)) {
            *st = before;
            return err_set(e, "step %ld: the loss is %s; the weights are left as they were",
                           st->step + 1, isnan(l) ? "NaN" : "infinite");
        }
        sum += l;
        st->tokens += (double)d->sb.n;
        tfm_backward(m);
    }
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

int train_eval(tfm_model *m, train_data *d, const seq *const *ex, size_t n, int batch,
               double *loss, alarm_err *e)
{
    double sum = 0;
    size_t count = 0;
    for (size_t i = 0; i < n; i += (size_t)batch) {
        int k = n - i < (size_t)batch ? (int)(n - i) : batch;
        for (int r = 0; r < k; r++)
            d->rows[r] = ex[i + (size_t)r];
        float l;
        if (forward_loss(m, d, k, 0.0f, &l, e) < 0)
            return -1;
        size_t t = 0; /* the batch's target tokens: its mean loss weighs by them */
        for (size_t j = 0; j < (size_t)d->sb.B * d->sb.T; j++)
            t += d->sb.lm_targets[j] >= 0;
        sum += (double)l * (double)t;
        count += t;
    }
    *loss = count ? sum / (double)count : 0;
    return 0;
}
