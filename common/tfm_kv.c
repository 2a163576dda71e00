/* tfm_kv: see tfm_kv.h. A decode step is the forward pass for one position
 * per row: the matrix products run over the B rows at once, attention reads
 * each row's cache up to its own position. */
#include "tfm_kv.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tfm_gemm_small.h"
#include "tfm_math.h"
#include "omp_sizes.h"
#include "tfm_ops.h"

static float *carve(float *base, size_t *off, size_t n)
{
    float *p = base ? base + *off : NULL;
    *off += (n + 15) & ~(size_t)15;
    return p;
}

/* The four matrices of a layer: role, input and output widths. */
enum { NMAT = 4 };
static const int mat_role[NMAT] = {TW_QKV_W, TW_O_W, TW_FC_W, TW_PROJ_W};

static void mat_dims(const tfm_model *m, int i, int *in, int *out)
{
    const tfm_config *c = &m->cfg;
    int dims[NMAT][2] = {{c->C, m->QKV}, {c->NH * c->HS, c->C}, {c->C, m->FC}, {c->FF, c->C}};
    *in = dims[i][0];
    *out = dims[i][1];
}

/* Matrix i of layer l in the decode layout: (out, in) rows. */
static const float *decode_w(const tfm_kv *kv, const tfm_model *m, int l, int i)
{
    if (!kv->wt)
        return tfm_w(m, m->params, l, mat_role[i]);
    const float *p = kv->wt + (size_t)l * kv->wt_layer;
    for (int j = 0; j < i; j++) {
        int in, out;
        mat_dims(m, j, &in, &out);
        p += ((size_t)in * out + 15) & ~(size_t)15;
    }
    return p;
}

static size_t layout(tfm_kv *kv, const tfm_model *m, float *base)
{
    const tfm_config *c = &m->cfg;
    size_t off = 0, B = (size_t)kv->B, cache = (size_t)c->L * B * c->NKV * kv->maxT * c->HS;
    kv->k = carve(base, &off, cache);
    kv->v = carve(base, &off, cache);
    kv->x = carve(base, &off, B * c->C);
    kv->ln = carve(base, &off, B * c->C);
    kv->qkv = carve(base, &off, B * m->QKV);
    kv->atty = carve(base, &off, B * c->NH * c->HS);
    kv->res = carve(base, &off, B * c->C);
    kv->fc = carve(base, &off, B * m->FC);
    kv->act = carve(base, &off, B * c->FF);
    kv->mean = carve(base, &off, B);
    kv->rstd = carve(base, &off, B);
    kv->att = carve(base, &off, B * c->NH * kv->maxT);
    kv->logits = carve(base, &off, B * c->V);
    kv->wt_layer = 0;
    for (int i = 0; i < NMAT && c->arch == TFM_GPT2; i++) {
        int in, out;
        mat_dims(m, i, &in, &out);
        kv->wt_layer += ((size_t)in * out + 15) & ~(size_t)15;
    }
    kv->wt = kv->wt_layer ? carve(base, &off, kv->wt_layer * c->L) : NULL;
    return off;
}

int tfm_kv_build(tfm_kv *kv, const tfm_model *m, int B, int maxT, alarm_err *e)
{
    const tfm_config *c = &m->cfg;
    memset(kv, 0, sizeof *kv);
    if (tfm_check_len(c, B, maxT, e))
        return err_prefix(e, "KV cache");
    if (!c->lm_head)
        return err_set(e, "decoding needs a model with an LM head");
    kv->B = B;
    kv->maxT = maxT;
    kv->L = c->L;
    kv->NKV = c->NKV;
    kv->HS = c->HS;
    size_t n = layout(kv, m, NULL);
    float *p = tfm_alloc_floats(n);
    if (!p || !(kv->pos = calloc(2 * (size_t)B, sizeof(int)))) {
        free(p);
        return err_set(e, "out of memory for a KV cache of %zu floats", n);
    }
    kv->mem = p;
    kv->rope_pos = kv->pos + B;
    layout(kv, m, kv->mem);
    tfm_kv_sync(kv, m);
    return 0;
}

/* dst (out, in) = src (in, out) transposed, in tiles that stay in cache. */
static void transpose(float *dst, const float *src, int in, int out)
{
    enum { TILE = 32 };
#pragma omp parallel for collapse(2) if ((size_t)in * out > OMP_MIN_ELEMS)
    for (int o0 = 0; o0 < out; o0 += TILE)
        for (int i0 = 0; i0 < in; i0 += TILE)
            for (int o = o0; o < o0 + TILE && o < out; o++)
                for (int i = i0; i < i0 + TILE && i < in; i++)
                    dst[(size_t)o * in + i] = src[(size_t)i * out + o];
}

void tfm_kv_sync(tfm_kv *kv, const tfm_model *m)
{
    for (int l = 0; kv->wt && l < m->cfg.L; l++)
        for (int i = 0; i < NMAT; i++) {
            int in, out;
            mat_dims(m, i, &in, &out);
            transpose((float *)decode_w(kv, m, l, i), tfm_w(m, m->params, l, mat_role[i]), in,
                      out);
        }
}

void tfm_kv_free(tfm_kv *kv)
{
    if (!kv)
        return;
    free(kv->mem);
    free(kv->pos);
    memset(kv, 0, sizeof *kv);
}

/* Start of the cached head vector (layer l, row b, kv head h, position t). */
static size_t at(const tfm_kv *kv, int l, int b, int h, int t)
{
    return ((((size_t)l * kv->B + b) * kv->NKV + h) * kv->maxT + t) * kv->HS;
}

int tfm_kv_prefill_slots(tfm_kv *kv, tfm_model *m, const int *tokens, const int *lens, int n,
                         int T, const int *slots, alarm_err *e)
{
    const tfm_config *c = &m->cfg;
    if (n > kv->B || T > kv->maxT)
        return err_set(e, "prompts of %d x %d exceed the KV cache's %d x %d", n, T, kv->B,
                       kv->maxT);
    for (int b = 0; b < n; b++)
        if (slots[b] < 0 || slots[b] >= kv->B)
            return err_set(e, "slot %d out of the KV cache's %d rows", slots[b], kv->B);
    if (tfm_forward_last(m, tokens, lens, n, T, e))
        return -1;
    for (int l = 0; l < c->L; l++)
        for (int b = 0; b < n; b++)
            for (int t = 0; t < m->lens[b]; t++) {
                const float *row = m->la[l].qkv + ((size_t)b * T + t) * m->QKV;
                for (int h = 0; h < c->NKV; h++) {
                    memcpy(kv->k + at(kv, l, slots[b], h, t), row + (size_t)(c->NH + h) * c->HS,
                           (size_t)c->HS * sizeof(float));
                    memcpy(kv->v + at(kv, l, slots[b], h, t),
                           row + (size_t)(c->NH + c->NKV + h) * c->HS,
                           (size_t)c->HS * sizeof(float));
                }
            }
    for (int b = 0; b < n; b++) {
        kv->pos[slots[b]] = m->lens[b];
        memcpy(kv->logits + (size_t)slots[b] * c->V, m->logits + (size_t)b * c->V,
               (size_t)c->V * sizeof(float));
    }
    return 0;
}

int tfm_kv_prefill(tfm_kv *kv, tfm_model *m, const int *tokens, const int *lens, int B, int T,
                   alarm_err *e)
{
    int *slots = malloc((size_t)(B > 0 ? B : 1) * sizeof *slots);
    if (!slots)
        return err_set(e, "out of memory");
    for (int b = 0; b < B; b++)
        slots[b] = b;
    tfm_kv_sync(kv, m);
    int rc = tfm_kv_prefill_slots(kv, m, tokens, lens, B, T, slots, e);
    free(slots);
    return rc;
}

/* Attention of one new query per row against the row's cache (incl. itself). */
TFM_AVX2_CLONE static void step_attention(tfm_kv *kv, const tfm_model *m, int l,
                                          const int *active, int B)
{
    const tfm_config *c = &m->cfg;
    int NH = c->NH, HS = c->HS, group = NH / c->NKV;
    float scale = 1.0f / sqrtf((float)HS);
    size_t work = 0; /* multiply-adds, to keep small steps on one thread */
    for (int b = 0; b < B; b++)
        work += (size_t)NH * (kv->pos[b] + 1) * HS;
#pragma omp parallel for collapse(2) if (work > OMP_MIN_MACS)
    for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++) {
            float *y = kv->atty + ((size_t)b * NH + h) * HS;
            memset(y, 0, (size_t)HS * sizeof *y);
            if (active && !active[b])
                continue;
            int kh = h / group, n = kv->pos[b] + 1;
            const float *q = kv->qkv + (size_t)b * m->QKV + (size_t)h * HS;
            float *p = kv->att + ((size_t)b * NH + h) * kv->maxT, mx = -INFINITY, sum = 0.0f;
            for (int t = 0; t < n; t++) {
                const float *k = kv->k + at(kv, l, b, kh, t);
                float s = 0.0f;
#pragma omp simd reduction(+ : s)
                for (int i = 0; i < HS; i++)
                    s += q[i] * k[i];
                p[t] = s * scale;
                mx = p[t] > mx ? p[t] : mx;
            }
#pragma omp simd reduction(+ : sum)
            for (int t = 0; t < n; t++) {
                p[t] = tfm_expf(p[t] - mx);
                sum += p[t];
            }
            float inv = 1.0f / sum;
            for (int t = 0; t < n; t++) {
                const float *v = kv->v + at(kv, l, b, kh, t);
                float w = p[t] * inv;
#pragma omp simd
                for (int i = 0; i < HS; i++)
                    y[i] += w * v[i];
            }
        }
}

/* out (B, OC) = [res +] inp (B, IC) W^T + bias, W in (out, in) layout, a
 * few rows at a time: the few-row kernel computes each row the same way
 * whatever the rows beside it, so a sample's numbers do not depend on the
 * batch it decodes in (OpenBLAS, for more rows, may round differently). */
static void rows_matmul(float *out, const float *res, const float *inp, const float *w,
                        const float *bias, int B, int IC, int OC)
{
    int step = tfm_sgemm_small_ok(0, 2) ? TFM_SMALL_M : 1;
    for (int b0 = 0; b0 < B; b0 += step) {
        int n = B - b0 < step ? B - b0 : step;
        size_t o = (size_t)b0 * OC, i = (size_t)b0 * IC;
        if (res)
            tfm_matmul_forward_res(out + o, res + o, inp + i, w, bias, (size_t)n, IC, OC, 1);
        else
            tfm_matmul_forward(out + o, inp + i, w, bias, (size_t)n, IC, OC, 1);
    }
}

static void norm(const tfm_model *m, tfm_kv *kv, float *out, const float *inp, int l, int role,
                 int B)
{
    const float *w = tfm_w(m, m->params, l, role);
    if (m->cfg.arch == TFM_GPT2)
        tfm_layernorm_forward(out, kv->mean, kv->rstd, inp, w, tfm_w(m, m->params, l, role + 1),
                              (size_t)B, m->cfg.C, (float)m->cfg.eps);
    else
        tfm_rmsnorm_forward(out, kv->rstd, inp, w, (size_t)B, m->cfg.C, (float)m->cfg.eps);
}

static void step_layer(tfm_kv *kv, const tfm_model *m, int l, const int *active, int B)
{
    const tfm_config *c = &m->cfg;
    float *P = m->params;
    int C = c->C;
    norm(m, kv, kv->ln, kv->x, l, TW_LN1_W, B);
    /* every matrix in (out, in) layout here: see decode_w */
    rows_matmul(kv->qkv, NULL, kv->ln, decode_w(kv, m, l, 0), tfm_w(m, P, l, TW_QKV_B), B, C,
                m->QKV);
    if (c->arch == TFM_LLAMA)
        tfm_rope(kv->qkv, m->rope_cos, m->rope_sin, kv->rope_pos, (size_t)B, 1, m->QKV,
                 c->NH + c->NKV, c->HS, 0);
    for (int b = 0; b < B; b++) {
        if (active && !active[b])
            continue;
        const float *row = kv->qkv + (size_t)b * m->QKV;
        for (int h = 0; h < c->NKV; h++) {
            memcpy(kv->k + at(kv, l, b, h, kv->pos[b]), row + (size_t)(c->NH + h) * c->HS,
                   (size_t)c->HS * sizeof(float));
            memcpy(kv->v + at(kv, l, b, h, kv->pos[b]), row + (size_t)(c->NH + c->NKV + h) * c->HS,
                   (size_t)c->HS * sizeof(float));
        }
    }
    step_attention(kv, m, l, active, B);
    rows_matmul(kv->res, kv->x, kv->atty, decode_w(kv, m, l, 1), tfm_w(m, P, l, TW_O_B), B,
                c->NH * c->HS, C);
    norm(m, kv, kv->ln, kv->res, l, TW_LN2_W, B);
    rows_matmul(kv->fc, NULL, kv->ln, decode_w(kv, m, l, 2), tfm_w(m, P, l, TW_FC_B), B, C,
                m->FC);
    if (c->arch == TFM_LLAMA)
        tfm_swiglu_forward(kv->act, kv->fc, (size_t)B, c->FF);
    else
        tfm_gelu_forward(kv->act, NULL, kv->fc, (size_t)B * c->FF);
    rows_matmul(kv->x, kv->res, kv->act, decode_w(kv, m, l, 3), tfm_w(m, P, l, TW_PROJ_B), B,
                c->FF, C);
}

int tfm_kv_step(tfm_kv *kv, const tfm_model *m, const int *tokens, const int *active, int B,
                alarm_err *e)
{
    const tfm_config *c = &m->cfg;
    if (B > kv->B)
        return err_set(e, "batch %d exceeds the KV cache's %d rows", B, kv->B);
    for (int b = 0; b < B; b++) {
        if (active && !active[b])
            continue;
        if (tokens[b] < 0 || tokens[b] >= c->V)
            return err_set(e, "token id %d out of range [0, %d)", tokens[b], c->V);
        if (kv->pos[b] >= kv->maxT)
            return err_set(e, "sequence %d reached the cache length %d", b, kv->maxT);
    }
    const float *wte = tfm_w(m, m->params, -1, TG_WTE), *wpe = tfm_w(m, m->params, -1, TG_WPE);
    for (int b = 0; b < B; b++) {
        float *x = kv->x + (size_t)b * c->C;
        int tok = active && !active[b] ? 0 : tokens[b];
        int p = kv->pos[b] < kv->maxT ? kv->pos[b] : kv->maxT - 1;
        kv->rope_pos[b] = p;
        for (int i = 0; i < c->C; i++)
            x[i] = wte[(size_t)tok * c->C + i] + (wpe ? wpe[(size_t)p * c->C + i] : 0.0f);
    }
    for (int l = 0; l < c->L; l++)
        step_layer(kv, m, l, active, B);
    norm(m, kv, kv->ln, kv->x, -1, TG_LNF_W, B);
    const float *lm = c->tied ? wte : tfm_w(m, m->params, -1, TG_LM);
    rows_matmul(kv->logits, NULL, kv->ln, lm, NULL, B, c->C, c->V);
    for (int b = 0; b < B; b++)
        if (!active || active[b])
            kv->pos[b]++;
    return 0;
}
