/* tfm_logprobs: log-probabilities of chosen tokens at chosen positions,
 * the LM head applied to a few rows at a time (see tfm.h). */
#include "tfm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tfm_math.h"
#include "tfm_ops.h"

TFM_AVX2_CLONE double tfm_logsumexp(const float *z, int V)
{
    float mx = z[0];
#pragma omp simd reduction(max : mx)
    for (int k = 1; k < V; k++)
        mx = z[k] > mx ? z[k] : mx;
    double s = 0;
#pragma omp simd reduction(+ : s)
    for (int k = 0; k < V; k++)
        s += tfm_expf(z[k] - mx);
    return mx + log(s);
}

/* log softmax(z)[id] */
static float log_softmax_at(const float *z, int V, int id)
{
    return (float)((double)z[id] - tfm_logsumexp(z, V));
}

int tfm_token_logprobs(tfm_model *m, const size_t *rows, const int *ids, size_t n, float *lp,
                       alarm_err *e)
{
    const tfm_config *c = &m->cfg;
    int V = c->V, C = c->C;
    size_t N = (size_t)m->fB * m->fT;
    if (!c->lm_head)
        return err_set(e, "log-probabilities need a model with an LM head");
    for (size_t i = 0; i < n; i++)
        if (rows[i] >= N || ids[i] < 0 || ids[i] >= V)
            return err_set(e, "row %zu or token %d outside the last forward (%zu rows, %d tokens)",
                           rows[i], ids[i], N, V);
    if (c->lm_head == TFM_LM_ALL) { /* the forward kept every row's logits */
#pragma omp parallel for if (n > 1)
        for (size_t i = 0; i < n; i++)
            lp[i] = log_softmax_at(m->logits + rows[i] * V, V, ids[i]);
        return 0;
    }
    size_t chunk = (size_t)m->B > TFM_LOGIT_CHUNK ? (size_t)m->B : TFM_LOGIT_CHUNK;
    chunk = chunk < N ? chunk : N; /* what tfm_build gave m->logits */
    float *x = malloc(chunk * C * sizeof *x);
    if (!x)
        return err_set(e, "out of memory");
    const float *w = c->tied ? tfm_w(m, m->params, -1, TG_WTE) : tfm_w(m, m->params, -1, TG_LM);
    for (size_t i0 = 0; i0 < n; i0 += chunk) {
        size_t k = n - i0 < chunk ? n - i0 : chunk;
        for (size_t i = 0; i < k; i++)
            memcpy(x + i * C, m->lnf + rows[i0 + i] * C, (size_t)C * sizeof *x);
        tfm_matmul_forward(m->logits, x, w, NULL, k, C, V, 1);
#pragma omp parallel for if (k > 1)
        for (size_t i = 0; i < k; i++)
            lp[i0 + i] = log_softmax_at(m->logits + i * V, V, ids[i0 + i]);
    }
    free(x);
    return 0;
}

int tfm_token_entropy(const tfm_model *m, const size_t *rows, size_t n, float *ent, alarm_err *e)
{
    int V = m->cfg.V;
    if (m->cfg.lm_head != TFM_LM_ALL)
        return err_set(e, "entropies need a model that keeps every row's logits");
#pragma omp parallel for if (n > 1)
    for (size_t i = 0; i < n; i++) {
        const float *z = m->logits + rows[i] * V;
        double lse = tfm_logsumexp(z, V), s = 0;
        for (int k = 0; k < V; k++)
            s += exp(z[k] - lse) * z[k];
        ent[i] = (float)(lse - s); /* trl's entropy_from_logits */
    }
    return 0;
}

int tfm_token_logprob_grad(tfm_model *m, const size_t *rows, const int *ids, size_t n,
                           const float *dlp, alarm_err *e)
{
    int V = m->cfg.V;
    if (m->cfg.lm_head != TFM_LM_ALL || !m->dlogits)
        return err_set(e, "gradients of log-probabilities need a trainable model that keeps "
                          "every row's logits");
    /* rows are distinct positions, so no two iterations write the same row */
#pragma omp parallel for if (n > 1)
    for (size_t i = 0; i < n; i++) {
        const float *z = m->logits + rows[i] * V;
        float *d = m->dlogits + rows[i] * V;
        float lse = (float)tfm_logsumexp(z, V), g = dlp[i];
        for (int k = 0; k < V; k++)
            d[k] -= g * tfm_expf(z[k] - lse);
        d[ids[i]] += g;
    }
    return 0;
}
