/* tfm_kv: batched KV-cache decoding for sequences of different lengths.
 * Prefill runs the full forward over right-padded prompts and keeps each
 * row's keys and values; every step then appends one token per row at that
 * row's own position, so rows of different lengths decode together.
 * The cache and the step buffers are allocated once, in tfm_kv_build. */
#ifndef ALARM_TFM_KV_H
#define ALARM_TFM_KV_H

#include "tfm.h"

typedef struct {
    int B, maxT;      /* rows and positions the cache holds */
    int L, NKV, HS;
    float *mem;
    float *k, *v;     /* (L, B, NKV, maxT, HS) */
    int *pos;         /* (B) positions cached per row */
    int *rope_pos;    /* (B) this step's positions, kept in range for idle rows */
    /* one step's buffers, B rows each */
    float *x, *ln, *qkv, *atty, *res, *fc, *act, *mean, *rstd;
    float *att;       /* (B, NH, maxT) */
    float *logits;    /* (B, V): next-token logits after prefill or step */
    /* GPT-2 family: each layer's four matrices transposed to (out, in), the
     * layout the decode kernel reads in order; NULL for Llama, whose
     * nn.Linear weights are already so. Copied from the model by
     * tfm_kv_build, tfm_kv_prefill and tfm_kv_sync (GPT-2 124M: 340 MB,
     * 47 ms on two cores here, against seconds of decoding per batch). */
    float *wt;
    size_t wt_layer;  /* floats per layer in wt */
} tfm_kv;

int tfm_kv_build(tfm_kv *kv, const tfm_model *m, int B, int maxT, alarm_err *e);
void tfm_kv_free(tfm_kv *kv);

/* Copies the model's current weights into the cache's decode layout: call
 * it after changing m's parameters if the next step is not a prefill. */
void tfm_kv_sync(tfm_kv *kv, const tfm_model *m);

/* Runs the prompts (B, T) with lens through m (built for at least B x T),
 * fills the cache and kv->logits with each row's next-token logits, and
 * takes the model's weights as they are now (tfm_kv_sync). */
int tfm_kv_prefill(tfm_kv *kv, tfm_model *m, const int *tokens, const int *lens, int B, int T,
                   alarm_err *e);

/* Continuous batching: runs n new prompts (n, T) with lens through m and puts
 * prompt b into cache row slots[b] (its position reset, its next-token logits
 * in kv->logits row slots[b]); other rows keep their state. Decodes with the
 * weights as last synced (tfm_kv_build, tfm_kv_prefill, tfm_kv_sync). */
int tfm_kv_prefill_slots(tfm_kv *kv, tfm_model *m, const int *tokens, const int *lens, int n,
                         int T, const int *slots, alarm_err *e);

/* Appends tokens[b] to every row b with active[b] (all when active is NULL)
 * and leaves the next-token logits in kv->logits. Inactive rows keep their
 * cache and position; their logits are meaningless. */
int tfm_kv_step(tfm_kv *kv, const tfm_model *m, const int *tokens, const int *active, int B,
                alarm_err *e);

#endif
