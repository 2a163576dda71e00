/* rm: the reward models' losses of rm.h. Pairs run as one batch, the k
 * chosen rows then the k rejected rows, so both sides of a pair see the
 * same weights; the arithmetic of each loss is in double. */
#include "rm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int rm_task_init(rm_task *t, int rows, int max_len, int n_labels, alarm_err *e)
{
    memset(t, 0, sizeof *t);
    t->n_labels = n_labels;
    if (n_labels < 1 || n_labels > RM_MAX_LABELS)
        return err_set(e, "%d labels (1 to %d)", n_labels, RM_MAX_LABELS);
    t->rows = malloc((size_t)rows * sizeof *t->rows);
    if (!t->rows)
        return err_set(e, "out of memory");
    return seq_batch_init(&t->sb, rows, max_len, e);
}

void rm_task_free(rm_task *t)
{
    free(t->rows);
    seq_batch_free(&t->sb);
    memset(t, 0, sizeof *t);
}

static int forward(rm_task *t, tfm_model *m, int rows, alarm_err *e)
{
    seq_batch *sb = &t->sb;
    return seq_batch_fill(sb, t->rows, rows, 0, e) < 0 ||
                   tfm_forward(m, sb->tokens, sb->lens, sb->B, sb->T, e) < 0
               ? -1
               : 0;
}

/* log(1 + exp(x)) without overflow */
static double softplus(double x)
{
    return (x > 0 ? x : 0) + log1p(exp(-fabs(x)));
}

int rm_pair_loss(void *ctx, tfm_model *m, const void *const *ex, int k, float scale,
                 float *loss, double *weight, void *tally, alarm_err *e)
{
    rm_task *t = ctx;
    if (m->cfg.cls != TFM_CLS_SCORE || m->cfg.n_labels != 1)
        return err_set(e, "a preference loss needs a score head with one label");
    for (int i = 0; i < k; i++) {
        const rm_pair *p = ex[i];
        t->rows[i] = &p->chosen;
        t->rows[k + i] = &p->rejected;
    }
    if (forward(t, m, 2 * k, e) < 0)
        return -1;
    rm_pair_tally *tl = tally;
    double sum = 0;
    for (int i = 0; i < k; i++) {
        double d = (double)m->cls[i] - (double)m->cls[k + i];
        sum += softplus(-d); /* -log sigmoid(d) */
        if (scale != 0) {
            /* d/dd -log sigmoid(d) = -sigmoid(-d) */
            float g = (float)(-scale / (1 + exp(d)) / k);
            m->dcls[i] += g;
            m->dcls[k + i] -= g;
        }
        if (tl) {
            tl->pairs += 1;
            tl->correct += d > 0;
        }
    }
    *loss = (float)(sum / k);
    *weight = k;
    return 0;
}

/* The first of the largest of z[0..n): the label a token head predicts. */
static int argmax(const float *z, int n)
{
    int best = 0;
    for (int c = 1; c < n; c++)
        if (z[c] > z[best])
            best = c;
    return best;
}

int rm_span_loss(void *ctx, tfm_model *m, const void *const *ex, int k, float scale,
                 float *loss, double *weight, void *tally, alarm_err *e)
{
    rm_task *t = ctx;
    int NL = t->n_labels;
    if (m->cfg.cls != TFM_CLS_TOKEN || m->cfg.n_labels != NL)
        return err_set(e, "a span loss needs a token head with %d labels", NL);
    size_t spans = 0;
    for (int i = 0; i < k; i++) {
        t->rows[i] = &((const rm_spans *)ex[i])->s;
        spans += (size_t)((const rm_spans *)ex[i])->n;
    }
    if (forward(t, m, k, e) < 0)
        return -1;
    rm_span_tally *tl = tally;
    double sum = 0;
    for (int i = 0; i < k; i++) {
        const rm_spans *x = ex[i];
        for (int j = 0; j < x->n; j++) {
            size_t row = (size_t)i * t->sb.T + (size_t)(x->s.np + x->at[j]);
            const float *z = m->cls + row * NL;
            int y = x->label[j], best = argmax(z, NL);
            double mx = z[best], den = 0;
            for (int c = 0; c < NL; c++)
                den += exp((double)z[c] - mx);
            sum += mx + log(den) - z[y];
            for (int c = 0; scale != 0 && c < NL; c++) {
                double p = exp((double)z[c] - mx) / den;
                m->dcls[row * NL + c] += (float)(scale * (p - (c == y)) / (double)spans);
            }
            if (tl)
                tl->conf[y][best] += 1;
        }
    }
    *loss = spans ? (float)(sum / (double)spans) : 0;
    *weight = (double)spans;
    return 0;
}

int rm_token_at(const seq *s, size_t byte)
{
    for (int i = 0; i < s->nr; i++)
        if (s->offs[2 * i] <= byte && byte < s->offs[2 * i + 1])
            return i;
    return -1;
}

int rm_score(rm_task *t, tfm_model *m, const seq *const *s, size_t n, float *out,
             alarm_err *e)
{
    if (m->cfg.cls != TFM_CLS_SCORE)
        return err_set(e, "scoring needs a score head");
    size_t per = (size_t)t->sb.maxB;
    for (size_t i = 0; i < n; i += per) {
        int k = n - i < per ? (int)(n - i) : (int)per;
        for (int r = 0; r < k; r++)
            t->rows[r] = s[i + (size_t)r];
        if (forward(t, m, k, e) < 0)
            return -1;
        for (int r = 0; r < k; r++)
            out[i + (size_t)r] = m->cls[(size_t)r * m->cfg.n_labels];
    }
    return 0;
}

int rm_span_predict(rm_task *t, tfm_model *m, rm_spans *const *x, size_t n, alarm_err *e)
{
    int NL = t->n_labels;
    if (m->cfg.cls != TFM_CLS_TOKEN || m->cfg.n_labels != NL)
        return err_set(e, "span labels need a token head with %d labels", NL);
    size_t per = (size_t)t->sb.maxB;
    for (size_t i = 0; i < n; i += per) {
        int k = n - i < per ? (int)(n - i) : (int)per;
        for (int r = 0; r < k; r++)
            t->rows[r] = &x[i + (size_t)r]->s;
        if (forward(t, m, k, e) < 0)
            return -1;
        /* the same rows rm_span_loss reads: the span's last token */
        for (int r = 0; r < k; r++) {
            rm_spans *q = x[i + (size_t)r];
            for (int j = 0; j < q->n; j++) {
                size_t row = (size_t)r * t->sb.T + (size_t)(q->s.np + q->at[j]);
                q->label[j] = argmax(m->cls + row * NL, NL);
            }
        }
    }
    return 0;
}

void rm_span_summarise(const rm_span_tally *t, int NL, rm_span_report *r)
{
    memset(r, 0, sizeof *r);
    double predicted[RM_MAX_LABELS] = {0}, right = 0;
    for (int y = 0; y < NL; y++)
        for (int c = 0; c < NL; c++) {
            r->n[y] += t->conf[y][c];
            predicted[c] += t->conf[y][c];
        }
    for (int y = 0; y < NL; y++) {
        double tp = t->conf[y][y];
        right += tp;
        r->total += r->n[y];
        r->accuracy[y] = r->n[y] > 0 ? tp / r->n[y] : -1;
        double den = r->n[y] + predicted[y]; /* 2 tp + fp + fn */
        r->f1[y] = den > 0 ? 2 * tp / den : 0;
        if (r->n[y] > r->n[r->majority_label])
            r->majority_label = y;
    }
    r->accuracy_all = r->total > 0 ? right / r->total : 0;
    r->majority = r->total > 0 ? r->n[r->majority_label] / r->total : 0;
}
