/* tfm_backward: gradients of every parameter from the gradients the losses
 * left on the head outputs (dlogits, dvalues, dcls): the forward's calls in
 * reverse. One residual-gradient buffer runs down the layers; each layer's
 * scratch gradients are zeroed before use since the kernels accumulate. */
#include "tfm.h"
#include "tfm_lora.h"

#include <string.h>

#include "tfm_ops.h"

static void norm_backward(const tfm_model *m, float *dinp, const float *dout, const float *inp,
                          const float *mean, const float *rstd, int l, int wrole, size_t N)
{
    const tfm_config *c = &m->cfg;
    const float *w = tfm_w(m, m->params, l, wrole);
    float *dw = tfm_g(m, l, wrole);
    if (c->arch == TFM_GPT2)
        tfm_layernorm_backward(dinp, dw, tfm_g(m, l, wrole + 1), dout, inp, w, mean,
                               rstd, N, c->C);
    else
        tfm_rmsnorm_backward(dinp, dw, dout, inp, w, rstd, N, c->C);
}

/* Head gradients into dln (the gradient of the final norm's output). */
static void heads_backward(tfm_model *m, float *dln)
{
    const tfm_config *c = &m->cfg;
    int B = m->fB, T = m->fT, C = c->C;
    size_t N = (size_t)B * T;
    float *P = m->params;
    if (m->dlogits) {
        int g = c->tied ? TG_WTE : TG_LM;
        tfm_matmul_backward(dln, tfm_g(m, -1, g), NULL, m->dlogits, m->lnf,
                            tfm_w(m, P, -1, g), N, C, c->V, 1);
    }
    if (c->value_head) {
        const float *w = tfm_w(m, P, -1, TG_VH_W);
        float *dw = tfm_g(m, -1, TG_VH_W), *db = tfm_g(m, -1, TG_VH_B);
        tfm_drop dd;
        const tfm_drop *drop = tfm_drop_site(m, -1, TFM_DROP_SUMMARY, &dd);
        for (size_t n = 0; n < N; n++) {
            float d = m->dvalues[n];
            for (int i = 0; i < C; i++) {
                float k = drop ? d * tfm_drop_mul(drop, n * C + i) : d;
                dln[n * C + i] += k * w[i];
                dw[i] += k * m->lnf[n * C + i];
            }
            *db += d;
        }
    }
    const float *cw = tfm_w(m, P, -1, TG_CLS_W);
    float *dcw = tfm_g(m, -1, TG_CLS_W);
    if (c->cls == TFM_CLS_TOKEN)
        tfm_matmul_backward(dln, dcw, tfm_g(m, -1, TG_CLS_B), m->dcls, m->lnf, cw, N, C,
                            c->n_labels, 1);
    if (c->cls == TFM_CLS_SCORE)
        for (int b = 0; b < B; b++) {
            size_t row = (size_t)b * T + m->lens[b] - 1;
            tfm_matmul_backward(dln + row * C, dcw, NULL, m->dcls + (size_t)b * c->n_labels,
                                m->lnf + row * C, cw, 1, C, c->n_labels, 1);
        }
}

/* The gradient a projection into the residual stream receives: dres
 * itself, or a copy through the site's mask into the free buffer `scratch`
 * when the forward dropped it. */
static const float *proj_grad(const tfm_model *m, int l, int site, float *scratch, size_t N)
{
    tfm_drop dd;
    const tfm_drop *d = tfm_drop_site(m, l, site, &dd);
    if (!d)
        return m->dres;
    tfm_drop_mask(scratch, m->dres, N * m->cfg.C, d);
    return scratch;
}

static void layer_backward(tfm_model *m, int l, const float *x)
{
    const tfm_config *c = &m->cfg;
    const tfm_layer_acts *a = &m->la[l];
    int B = m->fB, T = m->fT, wt = c->arch == TFM_LLAMA, AD = c->NH * c->HS;
    size_t N = (size_t)B * T;
    float *P = m->params;
    memset(m->dact, 0, N * c->FF * sizeof(float));
    memset(m->dfc, 0, N * m->FC * sizeof(float));
    memset(m->dln, 0, N * c->C * sizeof(float));
    memset(m->datty, 0, N * AD * sizeof(float));
    memset(m->dqkv, 0, N * m->QKV * sizeof(float));
    /* MLP: dres holds d(res3) and becomes d(res2); dln is free until the norm's */
    const float *dproj = proj_grad(m, l, TFM_DROP_RESID_MLP, m->dln, N);
    tfm_matmul_backward(m->dact, tfm_g(m, l, TW_PROJ_W), tfm_g(m, l, TW_PROJ_B), dproj, a->act,
                        tfm_w(m, P, l, TW_PROJ_W), N, c->FF, c->C, wt);
    tfm_lora_backward(m, l, TW_PROJ_W, m->dact, dproj, a->act, N);
    if (m->drop.fon)
        memset(m->dln, 0, N * c->C * sizeof(float));
    if (c->arch == TFM_GPT2)
        tfm_gelu_backward(m->dfc, m->dact, a->fc, a->gelu_t, N * c->FF);
    else
        tfm_swiglu_backward(m->dfc, m->dact, a->fc, N, c->FF);
    tfm_matmul_backward(m->dln, tfm_g(m, l, TW_FC_W), tfm_g(m, l, TW_FC_B), m->dfc, a->ln2,
                        tfm_w(m, P, l, TW_FC_W), N, c->C, m->FC, wt);
    tfm_lora_backward(m, l, TW_FC_W, m->dln, m->dfc, a->ln2, N);
    norm_backward(m, m->dres, m->dln, a->res2, a->ln2_mean, a->ln2_rstd, l, TW_LN2_W, N);
    /* attention: dres becomes d(x) */
    const float *dout = proj_grad(m, l, TFM_DROP_RESID_ATTN, m->dln, N);
    tfm_matmul_backward(m->datty, tfm_g(m, l, TW_O_W), tfm_g(m, l, TW_O_B), dout, a->atty,
                        tfm_w(m, P, l, TW_O_W), N, AD, c->C, wt);
    tfm_lora_backward(m, l, TW_O_W, m->datty, dout, a->atty, N);
    tfm_drop da;
    tfm_attention_backward(m->dqkv, m->datt, m->datty, a->qkv, a->att, B, T, c->NH, c->NKV,
                           c->HS, tfm_drop_site(m, l, TFM_DROP_ATTN, &da));
    if (c->arch == TFM_LLAMA)
        tfm_rope(m->dqkv, m->rope_cos, m->rope_sin, NULL, N, T, m->QKV, c->NH + c->NKV, c->HS, 1);
    memset(m->dln, 0, N * c->C * sizeof(float));
    tfm_matmul_backward(m->dln, tfm_g(m, l, TW_QKV_W), tfm_g(m, l, TW_QKV_B), m->dqkv,
                        a->ln1, tfm_w(m, P, l, TW_QKV_W), N, c->C, m->QKV, wt);
    tfm_lora_backward(m, l, TW_QKV_W, m->dln, m->dqkv, a->ln1, N);
    norm_backward(m, m->dres, m->dln, x, a->ln1_mean, a->ln1_rstd, l, TW_LN1_W, N);
}

void tfm_backward(tfm_model *m)
{
    const tfm_config *c = &m->cfg;
    size_t N = (size_t)m->fB * m->fT;
    memset(m->dln, 0, N * c->C * sizeof(float));
    memset(m->dres, 0, N * c->C * sizeof(float));
    heads_backward(m, m->dln);
    const float *last = m->la[c->L - 1].res3;
    norm_backward(m, m->dres, m->dln, last, m->lnf_mean, m->lnf_rstd, -1, TG_LNF_W, N);
    for (int l = c->L - 1; l >= 0; l--)
        layer_backward(m, l, l ? m->la[l - 1].res3 : m->encoded);
    tfm_drop de;
    const tfm_drop *d = tfm_drop_site(m, -1, TFM_DROP_EMBD, &de);
    if (d)
        tfm_drop_mask(m->dres, m->dres, N * c->C, d);
    float *dwte = tfm_g(m, -1, TG_WTE);
    if (dwte) /* frozen under LoRA: nothing below the first layer to train */
        tfm_embed_backward(dwte, tfm_g(m, -1, TG_WPE), m->dres, m->tokens, m->fB, m->fT, c->C);
}
