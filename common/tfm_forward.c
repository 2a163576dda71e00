/* tfm_forward: the forward pass of both families with every head, the LM
 * loss, and the backward pass, which is the forward's list of calls reversed.
 * GPT-2 stores Conv1D weights (in, out), Llama nn.Linear weights (out, in):
 * `wt` below says which, so checkpoints are used in place without copies. */
#include "tfm.h"
#include "tfm_lora.h"

#include <math.h>
#include <string.h>

#include "tfm_ops.h"
#include "omp_sizes.h"
#include "tfm_math.h"

static void norm_forward(const tfm_model *m, float *out, float *mean, float *rstd,
                         const float *inp, int l, int wrole, size_t N)
{
    const tfm_config *c = &m->cfg;
    const float *w = tfm_w(m, m->params, l, wrole);
    if (c->arch == TFM_GPT2)
        tfm_layernorm_forward(out, mean, rstd, inp, w, tfm_w(m, m->params, l, wrole + 1), N,
                              c->C, (float)c->eps);
    else
        tfm_rmsnorm_forward(out, rstd, inp, w, N, c->C, (float)c->eps);
}


static const float *lm_weight(const tfm_model *m, float *base)
{
    return m->cfg.tied ? tfm_w(m, base, -1, TG_WTE) : tfm_w(m, base, -1, TG_LM);
}

/* Generation needs the logits of each row's last real token only: those
 * rows of lnf move up to rows 0..B-1 (row b's source is at or after b, so
 * going up in b never overwrites a source still to come) and only they go
 * through the LM head, a B x V product instead of B T x V. */
static void lm_head_last(tfm_model *m, int B, int T)
{
    int C = m->cfg.C;
    for (int b = 0; b < B; b++)
        memmove(m->lnf + (size_t)b * C, m->lnf + ((size_t)b * T + m->lens[b] - 1) * C,
                (size_t)C * sizeof *m->lnf);
    tfm_matmul_forward(m->logits, m->lnf, lm_weight(m, m->params), NULL, (size_t)B, C,
                       m->cfg.V, 1);
}

static void heads_forward(tfm_model *m, int B, int T, int last_only)
{
    const tfm_config *c = &m->cfg;
    size_t N = (size_t)B * T;
    int C = c->C;
    if (c->lm_head == TFM_LM_ALL && !last_only)
        tfm_matmul_forward(m->logits, m->lnf, lm_weight(m, m->params), NULL, N, C, c->V, 1);
    if (c->value_head) {
        const float *w = tfm_w(m, m->params, -1, TG_VH_W);
        float bias = *tfm_w(m, m->params, -1, TG_VH_B);
        tfm_drop dd; /* trl's ValueHead drops the hidden state before v_head.summary */
        const tfm_drop *d = tfm_drop_site(m, -1, TFM_DROP_SUMMARY, &dd);
        for (size_t n = 0; n < N; n++) {
            float s = bias;
            if (!d)
                for (int i = 0; i < C; i++)
                    s += m->lnf[n * C + i] * w[i];
            else
                for (int i = 0; i < C; i++)
                    s += m->lnf[n * C + i] * tfm_drop_mul(d, n * C + i) * w[i];
            m->values[n] = s;
        }
    }
    const float *cw = tfm_w(m, m->params, -1, TG_CLS_W);
    if (c->cls == TFM_CLS_TOKEN)
        tfm_matmul_forward(m->cls, m->lnf, cw, tfm_w(m, m->params, -1, TG_CLS_B), N, C,
                           c->n_labels, 1);
    if (c->cls == TFM_CLS_SCORE)
        for (int b = 0; b < B; b++)
            tfm_matmul_forward(m->cls + (size_t)b * c->n_labels,
                               m->lnf + ((size_t)b * T + m->lens[b] - 1) * C, cw, NULL, 1, C,
                               c->n_labels, 1);
    if (c->lm_head && last_only) /* last: it moves rows of lnf */
        lm_head_last(m, B, T);
}

/* out = res + proj(inp), the projection (weight role wrole, its bias next)
 * dropped first when the site drops (GPT-2's resid_pdrop). */
static void proj_res(tfm_model *m, int l, int site, float *out, const float *res,
                     const float *inp, int wrole, size_t N, int IC)
{
    const tfm_config *c = &m->cfg;
    int wt = c->arch == TFM_LLAMA;
    const float *w = tfm_w(m, m->params, l, wrole), *b = tfm_w(m, m->params, l, wrole + 1);
    tfm_drop dd;
    const tfm_drop *d = tfm_drop_site(m, l, site, &dd);
    if (!d) {
        tfm_matmul_forward_res(out, res, inp, w, b, N, IC, c->C, wt);
        tfm_lora_forward(m, l, wrole, out, inp, N);
        return;
    }
    tfm_matmul_forward(out, inp, w, b, N, IC, c->C, wt);
    tfm_lora_forward(m, l, wrole, out, inp, N); /* the adapter is part of the dropped output */
    tfm_drop_add(out, res, out, N * c->C, d);
}

static void layer_forward(tfm_model *m, int l, const float *x, int B, int T)
{
    const tfm_config *c = &m->cfg;
    tfm_layer_acts *a = &m->la[l];
    size_t N = (size_t)B * T;
    int wt = c->arch == TFM_LLAMA, AD = c->NH * c->HS;
    float *P = m->params;
    norm_forward(m, a->ln1, a->ln1_mean, a->ln1_rstd, x, l, TW_LN1_W, N);
    tfm_matmul_forward(a->qkv, a->ln1, tfm_w(m, P, l, TW_QKV_W), tfm_w(m, P, l, TW_QKV_B), N,
                       c->C, m->QKV, wt);
    tfm_lora_forward(m, l, TW_QKV_W, a->qkv, a->ln1, N);
    if (c->arch == TFM_LLAMA)
        tfm_rope(a->qkv, m->rope_cos, m->rope_sin, NULL, N, T, m->QKV, c->NH + c->NKV, c->HS, 0);
    tfm_drop da;
    tfm_attention_forward(a->atty, a->att, a->qkv, B, T, c->NH, c->NKV, c->HS,
                          tfm_drop_site(m, l, TFM_DROP_ATTN, &da));
    proj_res(m, l, TFM_DROP_RESID_ATTN, a->res2, x, a->atty, TW_O_W, N, AD);
    norm_forward(m, a->ln2, a->ln2_mean, a->ln2_rstd, a->res2, l, TW_LN2_W, N);
    tfm_matmul_forward(a->fc, a->ln2, tfm_w(m, P, l, TW_FC_W), tfm_w(m, P, l, TW_FC_B), N,
                       c->C, m->FC, wt);
    tfm_lora_forward(m, l, TW_FC_W, a->fc, a->ln2, N);
    if (c->arch == TFM_GPT2)
        tfm_gelu_forward(a->act, a->gelu_t, a->fc, N * c->FF);
    else
        tfm_swiglu_forward(a->act, a->fc, N, c->FF);
    proj_res(m, l, TFM_DROP_RESID_MLP, a->res3, a->res2, a->act, TW_PROJ_W, N, c->FF);
}

static int forward(tfm_model *m, const int *tokens, const int *lens, int B, int T, int last_only,
                   alarm_err *e)
{
    const tfm_config *c = &m->cfg;
    if (B < 1 || B > m->B || T < 1 || T > m->T)
        return err_set(e, "batch %d x %d exceeds the model's %d x %d", B, T, m->B, m->T);
    for (size_t i = 0; i < (size_t)B * T; i++)
        if (tokens[i] < 0 || tokens[i] >= c->V)
            return err_set(e, "token id %d out of range [0, %d)", tokens[i], c->V);
    for (int b = 0; b < B; b++) {
        int n = lens ? lens[b] : T;
        if (n < 1 || n > T)
            return err_set(e, "sequence %d: length %d not in [1, %d]", b, n, T);
        m->lens[b] = n;
    }
    memcpy(m->tokens, tokens, (size_t)B * T * sizeof *tokens);
    m->fB = B;
    m->fT = T;
    m->drop.fon = m->drop.on && !last_only; /* sampling never drops */
    if (m->drop.fon)
        m->drop.fdraw = m->drop.draw++;
    size_t N = (size_t)B * T;
    tfm_embed_forward(m->encoded, m->tokens, tfm_w(m, m->params, -1, TG_WTE),
                      tfm_w(m, m->params, -1, TG_WPE), B, T, c->C);
    tfm_drop de;
    const tfm_drop *d = tfm_drop_site(m, -1, TFM_DROP_EMBD, &de);
    if (d)
        tfm_drop_mask(m->encoded, m->encoded, N * (size_t)c->C, d);
    const float *x = m->encoded;
    for (int l = 0; l < c->L; l++) {
        layer_forward(m, l, x, B, T);
        x = m->la[l].res3;
    }
    norm_forward(m, m->lnf, m->lnf_mean, m->lnf_rstd, x, -1, TG_LNF_W, N);
    heads_forward(m, B, T, last_only);
    return 0;
}

int tfm_forward(tfm_model *m, const int *tokens, const int *lens, int B, int T, alarm_err *e)
{
    return forward(m, tokens, lens, B, T, 0, e);
}

int tfm_forward_last(tfm_model *m, const int *tokens, const int *lens, int B, int T,
                     alarm_err *e)
{
    return forward(m, tokens, lens, B, T, 1, e);
}

void tfm_zero_grad(tfm_model *m)
{
    if (!m->grads)
        return;
    memset(m->grads, 0, m->ntrain * sizeof *m->grads);
    tfm_zero_head_grads(m);
}

void tfm_zero_head_grads(tfm_model *m)
{
    size_t BT = (size_t)m->B * m->T;
    if (m->dlogits)
        memset(m->dlogits, 0, BT * m->cfg.V * sizeof(float));
    if (m->dvalues)
        memset(m->dvalues, 0, BT * sizeof(float));
    if (m->dcls)
        memset(m->dcls, 0, BT * m->cfg.n_labels * sizeof(float));
}

void tfm_scale_head_grads(tfm_model *m, float k)
{
    size_t BT = (size_t)m->fB * m->fT;
    float *g[3] = {m->dlogits, m->dvalues, m->dcls};
    size_t n[3] = {BT * m->cfg.V, BT, BT * m->cfg.n_labels};
    for (int h = 0; h < 3; h++)
        if (g[h]) {
#pragma omp parallel for if (n[h] > OMP_MIN_ELEMS)
            for (size_t i = 0; i < n[h]; i++)
                g[h][i] *= k;
        }
}

TFM_AVX2_CLONE int tfm_loss_lm(tfm_model *m, const int *targets, float scale, float *out,
                               alarm_err *e)
{
    int V = m->cfg.V;
    size_t N = (size_t)m->fB * m->fT, count = 0;
    *out = 0.0f;
    if (m->cfg.lm_head != TFM_LM_ALL)
        return err_set(e, "an LM loss needs a model built with every row's logits (%s)",
                       m->cfg.lm_head ? "it keeps only chosen rows' logits" : "it has no LM head");
    for (size_t n = 0; n < N; n++)
        count += targets[n] >= 0 && targets[n] < V;
    if (!count)
        return 0;
    double loss = 0.0;
    float k = scale / (float)count;
#pragma omp parallel for reduction(+ : loss) if (N * (size_t)V > OMP_MIN_MACS)
    for (size_t n = 0; n < N; n++) {
        int y = targets[n];
        if (y < 0 || y >= V)
            continue;
        const float *z = m->logits + n * V;
        double lse_d = tfm_logsumexp(z, V);
        float lse = (float)lse_d;
        loss += lse_d - z[y];
        if (m->dlogits) {
            float *d = m->dlogits + n * V;
#pragma omp simd
            for (int i = 0; i < V; i++)
                d[i] += k * tfm_expf(z[i] - lse);
            d[y] -= k;
        }
    }
    *out = (float)(loss / count);
    return 0;
}
