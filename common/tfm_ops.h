/* tfm_ops: the transformer's kernels over plain float arrays.
 * Argument order (the same in every kernel): outputs first, then saved statistics,
 * then const inputs and weights, then dimensions. Forward kernels overwrite
 * their outputs; every backward twin ACCUMULATES (+=) into its d-buffers, so
 * callers zero them first. N is a number of rows (B*T). */
#ifndef ALARM_TFM_OPS_H
#define ALARM_TFM_OPS_H

#include <stddef.h>
#include <stdint.h>

/* Inverted dropout of one site (alarm-formats(5) section 7): element i is
 * zeroed when the i-th draw of key's stream (rng_at) falls below p, and
 * kept elements scale by 1/(1-p). The mask is a function of (key, i), so a
 * backward pass regenerates it and any number of threads draws the same. */
typedef struct {
    uint64_t key;
    uint64_t below;  /* draws whose top 53 bits are below this are dropped */
    float scale;     /* 1/(1-p); 0 when p is 1 */
    float *buf;      /* attention: att-shaped scratch for the kept probabilities */
} tfm_drop;

void tfm_drop_init(tfm_drop *d, uint64_t key, double p);
/* 0 or d->scale: what element i is multiplied by. */
float tfm_drop_mul(const tfm_drop *d, size_t i);
/* out[i] = inp[i] * mask(i) (out may equal inp). */
void tfm_drop_mask(float *out, const float *inp, size_t n, const tfm_drop *d);
/* out[i] = res[i] + inp[i] * mask(i) (out may equal res or inp). */
void tfm_drop_add(float *out, const float *res, const float *inp, size_t n, const tfm_drop *d);
/* A TFM_DROP_* site's dropout in the model's last forward (layer -1: the
 * embeddings, the value head), filled into *d; NULL when that forward did
 * not drop there (dropout off, or p = 0), so the pass is the plain one. */
struct tfm_model;
const tfm_drop *tfm_drop_site(const struct tfm_model *m, int layer, int site, tfm_drop *d);
/* The same for the mask with stream index `index` of the pass at
 * probability p: sites beyond the TFM_DROP_* ones (LoRA's inputs). */
const tfm_drop *tfm_drop_at(const struct tfm_model *m, uint64_t index, double p, tfm_drop *d);

/* C (M, N) = alpha op(A) op(B) + beta C (row-major; op transposes when ta/tb),
 * the M rows split over the OpenMP threads, each calling OpenBLAS. */
void tfm_sgemm(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
               const float *B, int ldb, float beta, float *C, int ldc);

/* out (N, OC) = inp (N, IC) @ W + bias; W is (OC, IC) when wt (nn.Linear)
 * or (IC, OC) when not (GPT-2 Conv1D). bias may be NULL. */
void tfm_matmul_forward(float *out, const float *inp, const float *w, const float *bias,
                        size_t N, int IC, int OC, int wt);
/* out = res + inp @ W + bias: a projection added onto the residual stream in
 * one pass (res may equal out). */
void tfm_matmul_forward_res(float *out, const float *res, const float *inp, const float *w,
                            const float *bias, size_t N, int IC, int OC, int wt);
/* dinp, dw, dbias may each be NULL (not wanted). */
void tfm_matmul_backward(float *dinp, float *dw, float *dbias, const float *dout,
                         const float *inp, const float *w, size_t N, int IC, int OC, int wt);

void tfm_layernorm_forward(float *out, float *mean, float *rstd, const float *inp,
                           const float *w, const float *b, size_t N, int C, float eps);
void tfm_layernorm_backward(float *dinp, float *dw, float *db, const float *dout,
                            const float *inp, const float *w, const float *mean,
                            const float *rstd, size_t N, int C);

void tfm_rmsnorm_forward(float *out, float *rstd, const float *inp, const float *w, size_t N,
                         int C, float eps);
void tfm_rmsnorm_backward(float *dinp, float *dw, const float *dout, const float *inp,
                          const float *w, const float *rstd, size_t N, int C);

/* log sum exp(z) over V values, shifted by their maximum, the sum in double. */
double tfm_logsumexp(const float *z, int V);

/* GELU with the tanh approximation (GPT-2's gelu_new). tanh_out (may be
 * NULL) keeps the inner tanh for the backward pass, which recomputes it when
 * given NULL. */
void tfm_gelu_forward(float *out, float *tanh_out, const float *inp, size_t n);
void tfm_gelu_backward(float *dinp, const float *dout, const float *inp, const float *tanh_in,
                       size_t n);

/* out (N, FF) = silu(gate) * up, where fc (N, 2 FF) holds gate | up. */
void tfm_swiglu_forward(float *out, const float *fc, size_t N, int FF);
void tfm_swiglu_backward(float *dfc, const float *dout, const float *fc, size_t N, int FF);

/* Rotates, in place, the first `nheads` heads of each row of x (N rows of
 * `stride` floats) as transformers' rotate_half RoPE does. The position of
 * row n is pos[n], or n % T when pos is NULL. cos/sin are (P, HS/2).
 * `inverse` applies the transpose rotation (the backward pass). */
void tfm_rope(float *x, const float *cosv, const float *sinv, const int *pos, size_t N, int T,
              int stride, int nheads, int HS, int inverse);
/* cos/sin tables for positions [0, P), with Llama-3 / linear scaling folded
 * into the frequencies (scaling: 0 none, 1 linear, 2 llama3). */
void tfm_rope_table(float *cosv, float *sinv, int P, int HS, double theta, int scaling,
                    double factor, double low, double high, int orig_max);

/* Causal attention. qkv (B, T, QKV) holds NH query heads, then NKV key heads,
 * then NKV value heads of HS each; query head h reads kv head h / (NH/NKV).
 * att (B, NH, T, T) keeps the probabilities; out (B, T, NH*HS). drop (NULL:
 * none) drops probabilities before they weigh the values, element
 * ((b NH + h) T + t) T + j of the mask for row t, column j; the kept ones go
 * to drop->buf, and att keeps them undropped for the softmax's backward. */
void tfm_attention_forward(float *out, float *att, const float *qkv, int B, int T, int NH,
                           int NKV, int HS, const tfm_drop *drop);
/* datt is scratch of att's shape (overwritten, not accumulated); drop the
 * forward's (its masks regenerated, drop->buf unused). */
void tfm_attention_backward(float *dqkv, float *datt, const float *dout, const float *qkv,
                            const float *att, int B, int T, int NH, int NKV, int HS,
                            const tfm_drop *drop);

/* out (B, T, C) = wte[tokens] (+ wpe[t] when wpe is not NULL). */
void tfm_embed_forward(float *out, const int *tokens, const float *wte, const float *wpe,
                       int B, int T, int C);
void tfm_embed_backward(float *dwte, float *dwpe, const float *dout, const int *tokens,
                        int B, int T, int C);

/* out = a + b (n) */
void tfm_add(float *out, const float *a, const float *b, size_t n);

#endif
