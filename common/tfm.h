/* tfm: the transformer runtime (GPT-2 and Llama families) in fp32.
 * A model is built once for a maximum batch B and length T: parameters,
 * gradients, AdamW moments and activations each live in one allocation with
 * a table of tensors into it, and nothing is allocated during a step.
 * Sequences are right-padded; lens[b] (or T when lens is NULL) is the number
 * of real tokens of row b. Causal attention means real tokens never see the
 * padding, so padding needs no mask; heads that pool (score) use lens.
 * Ownership: everything hangs off the tfm_model and dies in tfm_free. */
#ifndef ALARM_TFM_H
#define ALARM_TFM_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "tfm_config.h"

enum { TFM_LOGIT_CHUNK = 128 }; /* rows of logits a TFM_LM_ROWS model computes at once */

/* One named tensor of the parameter table (Hugging Face name and shape). */
typedef struct {
    char name[96];
    size_t offset; /* in floats, into params / grads / moments */
    size_t numel;
    int ndim;
    int64_t shape[2];
    int decay; /* AdamW weight decay applies: matrices and embeddings, not norms or biases */
} tfm_tensor;

/* Roles of tensors in the forward pass. Llama's q/k/v (and gate/up) are
 * consecutive in memory, so each group is one matrix product. */
enum {
    TW_LN1_W, TW_LN1_B, TW_QKV_W, TW_QKV_B, TW_O_W, TW_O_B,
    TW_LN2_W, TW_LN2_B, TW_FC_W, TW_FC_B, TW_PROJ_W, TW_PROJ_B,
    TW_NLAYER_ROLES
};
enum { TG_WTE, TG_WPE, TG_LNF_W, TG_LNF_B, TG_LM, TG_VH_W, TG_VH_B, TG_CLS_W, TG_CLS_B,
       TG_NROLES };

/* Activations of one layer, pointers into the activation arena. */
typedef struct {
    float *ln1;       /* (B, T, C) */
    float *ln1_mean;  /* (B, T) GPT-2 only */
    float *ln1_rstd;  /* (B, T) */
    float *qkv;       /* (B, T, QKV) q and k after RoPE */
    float *att;       /* (B, NH, T, T) attention probabilities */
    float *atty;      /* (B, T, NH*HS) */
    float *res2;      /* (B, T, C) residual after attention */
    float *ln2;       /* (B, T, C) */
    float *ln2_mean;  /* (B, T) */
    float *ln2_rstd;  /* (B, T) */
    float *fc;        /* (B, T, FC) GPT-2: 4C pre-GELU; Llama: gate | up (2 FF) */
    float *act;       /* (B, T, FF) */
    float *gelu_t;    /* (B, T, FF) GPT-2: the tanh inside GELU, for backward */
    float *res3;      /* (B, T, C) residual after the MLP = next layer's input */
} tfm_layer_acts;

/* Dropout's switch and stream (tfm_set_dropout). */
typedef struct {
    int on;         /* the next forwards (not tfm_forward_last) drop */
    uint64_t seed;  /* the masks' stream */
    uint64_t draw;  /* the next forward's draw; each forward that drops takes one */
    int fon;        /* the last forward dropped: the backward masks as it did */
    uint64_t fdraw; /* and with draw */
} tfm_dropout;

/* The places transformers drops in training mode (alarm-formats(5) section 7). */
enum { TFM_DROP_EMBD, TFM_DROP_ATTN, TFM_DROP_RESID_ATTN, TFM_DROP_RESID_MLP,
       TFM_DROP_SUMMARY, TFM_DROP_NSITES };

/* One adapter of a layer's slot (tfm_lora.h): offsets of A (r, in) and
 * B (out, r) in the parameter table, and its saved product u = x A^T. */
typedef struct {
    size_t a, b;  /* SIZE_MAX when the slot has no adapter */
    float *u;     /* (B, T, r) */
} tfm_lora_ad;

typedef struct {
    float scale;      /* alpha / r */
    int on;           /* adapters computed (tfm_lora_enable) */
    tfm_lora_ad *ad;  /* (L, TFM_LORA_SLOTS) */
    float *mem;       /* the adapters' activations: every u, then du, then xd */
    float *du;        /* (B, T, r) backward scratch */
    float *xd;        /* (B, T, max in) the dropped input; NULL without dropout */
    char base[4096];  /* the base checkpoint (adapter_config.json's base_model_name_or_path) */
} tfm_lora_state;

typedef struct tfm_model {
    tfm_config cfg;
    int B, T;         /* maxima the activations are sized for */
    int QKV;          /* (NH + 2 NKV) HS */
    int FC;           /* width of the first MLP product */
    /* parameter table */
    tfm_tensor *tab;
    int ntab;
    size_t nparams;
    size_t *role;     /* (L + 1) x roles, offsets; SIZE_MAX when absent */
    float *params;    /* (nparams) */
    int shared_params; /* params belong to another model (tfm_build_base_view) */
    /* the trainable span: parameters [toff, nparams), every one without LoRA
       (toff 0); with LoRA the trained heads and the adapters, at the table's end */
    size_t toff, ntrain;
    float *grads, *m, *v; /* (ntrain) each, for params + toff; NULL until tfm_train_alloc */
    tfm_lora_state lora;  /* cfg.lora.r > 0 */
    /* activations */
    float *acts_mem;
    size_t nacts;
    float *encoded;   /* (B, T, C) embeddings = residual into layer 0 */
    tfm_layer_acts *la; /* (L) */
    float *lnf, *lnf_mean, *lnf_rstd; /* (B,T,C), (B,T), (B,T) */
    float *logits;    /* (B, T, V) when cfg.lm_head is TFM_LM_ALL; when TFM_LM_ROWS,
                         max(B, TFM_LOGIT_CHUNK) rows (at most B T) */
    float *values;    /* (B, T) when cfg.value_head */
    float *cls;       /* (B, NL) score head or (B, T, NL) token head */
    float *rope_cos, *rope_sin; /* (maxT', HS/2) Llama */
    int rope_T;
    /* gradients of activations (tfm_train_alloc) */
    float *dacts_mem;
    size_t ndacts;
    float *dres, *dln, *dqkv, *datt, *datty, *dfc, *dact; /* one layer's worth, reused */
    float *dlogits, *dvalues, *dcls; /* gradients of the head outputs, set by losses */
    /* the last forward */
    int fB, fT;
    int *lens;        /* (B) */
    int *tokens;      /* (B, T) */
    int threads;
    tfm_dropout drop; /* off unless tfm_set_dropout */
} tfm_model;

/* Builds a model with zeroed parameters and activations for (B, T) maxima.
 * T must not exceed cfg->maxT. */
int tfm_build(tfm_model *m, const tfm_config *cfg, int B, int T, alarm_err *e);
void tfm_free(tfm_model *m);

/* v: the base model under m's adapters, without its value and
 * classification heads, computing with m's own parameters (no copy; m
 * must outlive v), lm_head as TFM_LM_ALL or TFM_LM_ROWS. With LoRA this
 * is PPO's reference: the policy with its adapters off, in no extra
 * parameter memory. Not for training. */
int tfm_build_base_view(tfm_model *v, const tfm_model *m, int B, int T, int lm_head,
                        alarm_err *e);

/* 0 when B rows of T tokens fit the model: T at most tfm_config_max_len. */
int tfm_check_len(const tfm_config *c, int B, int T, alarm_err *e);

/* n zeroed floats, 64-byte aligned; large ones start on a 2 MB boundary
 * with transparent huge pages requested. Freed with free(). */
float *tfm_alloc_floats(size_t n);

/* Allocates gradients and AdamW moments for the trainable span, and
 * activation gradients (zeroed). */
int tfm_train_alloc(tfm_model *m, alarm_err *e);

/* Pointer to a tensor by role: layer -1 for the global roles (TG_*). NULL when absent. */
float *tfm_w(const tfm_model *m, float *base, int layer, int role);

/* The gradient of a role's tensor, NULL when absent or frozen (not in the
 * trainable span) or before tfm_train_alloc. */
float *tfm_g(const tfm_model *m, int layer, int role);

/* Tensor t's slice of a trainable-span buffer (grads, m or v); NULL when t
 * is frozen. */
float *tfm_span_at(const tfm_model *m, float *span, const tfm_tensor *t);

/* The one contiguous span of gradients the optimizer updates (and data
 * parallelism reduces): m->grads, *n = m->ntrain; all parameters without
 * LoRA, the adapters and trained heads with it. NULL before tfm_train_alloc. */
float *tfm_trainable_grads(const tfm_model *m, size_t *n);

/* The table entry with Hugging Face name `name` (with or without the
 * "transformer."/"model." prefix), or NULL. */
const tfm_tensor *tfm_find(const tfm_model *m, const char *name);

/* Matrix-product parameters (the N in 6N flops per token) and all parameters. */
size_t tfm_matmul_params(const tfm_model *m);

/* Fills parameters with the initialisation transformers uses (normal(0, 0.02)
 * matrices, unit norms, zero biases), seeded. */
void tfm_init_random(tfm_model *m, uint64_t seed);

/* Forward over tokens (B, T) (row-major, row stride T) with right padding.
 * Fills the head outputs selected in cfg. Tokens outside [0, V) are errors. */
int tfm_forward(tfm_model *m, const int *tokens, const int *lens, int B, int T, alarm_err *e);

/* tfm_forward for generation: the LM head runs only at each row's last real
 * token, and m->logits holds those B rows (b * V). Other heads as above.
 * It reuses lnf as scratch, so tfm_backward must not follow it. */
int tfm_forward_last(tfm_model *m, const int *tokens, const int *lens, int B, int T,
                     alarm_err *e);

/* Zeroes parameter gradients and head-output gradients. */
void tfm_zero_grad(tfm_model *m);
/* Zeroes only the head-output gradients a loss adds into: between the
 * micro-batches of one accumulated step. */
void tfm_zero_head_grads(tfm_model *m);
/* Multiplies the head-output gradients of the last forward's rows by k: a
 * data-parallel rank weighs its share of a micro-batch (backward is linear). */
void tfm_scale_head_grads(tfm_model *m, float k);

/* lp[i] = log p(ids[i] | the positions up to row rows[i]) for n (b * T + t)
 * rows of the last forward: the log-softmax of the LM head at those rows,
 * computed TFM_LOGIT_CHUNK rows at a time from the final norm's output,
 * so TFM_LM_ROWS models score whole batches without a (B,T,V) buffer. */
int tfm_token_logprobs(tfm_model *m, const size_t *rows, const int *ids, size_t n, float *lp,
                       alarm_err *e);

/* For a model keeping every row's logits (TFM_LM_ALL), after tfm_forward:
 * ent[i] = the entropy of the next-token distribution at row rows[i]. */
int tfm_token_entropy(const tfm_model *m, const size_t *rows, size_t n, float *ent, alarm_err *e);

/* Adds dlp[i] * d log p(ids[i] | row rows[i]) / d logits into m->dlogits
 * (distinct rows): how a loss on chosen tokens' log-probabilities (PPO's)
 * reaches the model. Needs tfm_train_alloc and TFM_LM_ALL. */
int tfm_token_logprob_grad(tfm_model *m, const size_t *rows, const int *ids, size_t n,
                           const float *dlp, alarm_err *e);

/* Mean cross-entropy of logits at (b,t) against targets (B, T) (-1 = ignored),
 * as transformers averages it, into *loss (0 when no target counts); adds
 * scale * d(loss)/d(logits) into dlogits. A model without (B,T,V) logits (no
 * LM head, or TFM_LM_ROWS, which keeps none to train on) is an error. Needs
 * the last forward (tfm_forward). */
int tfm_loss_lm(tfm_model *m, const int *targets, float scale, float *loss, alarm_err *e);

/* Backward from whatever head-output gradients were set: accumulates into
 * m->grads. Needs the activations of the last forward. */
void tfm_backward(tfm_model *m);

/* Dropout as transformers (and trl's value head) train with it, at the
 * config's probabilities: GPT-2's embd_pdrop after the embeddings,
 * attn_pdrop on the attention probabilities, resid_pdrop on both
 * projections into the residual stream; Llama's attention_dropout; trl's
 * summary_dropout_prob before the value head. Off (the default) the passes
 * are exactly those without dropout. On, each tfm_forward draws masks from
 * (seed, draw), regenerated by tfm_backward; tfm_forward_last (sampling)
 * never drops. Turning it on needs tfm_train_alloc (the attention's
 * scratch) and starts the draws at 0. */
int tfm_set_dropout(tfm_model *m, int on, uint64_t seed, alarm_err *e);
/* The next forward's draw: a training step's masks from its place in the
 * run, so a resumed run draws what the uninterrupted one did. */
void tfm_dropout_seek(tfm_model *m, uint64_t draw);
/* Sets whether the next forwards drop and returns what it was: an
 * evaluation holds it off and gives back what this returned. */
int tfm_dropout_hold(tfm_model *m, int on);

/* Threads for everything (0 = all cores): OpenMP threads split the matrix
 * products between them and call OpenBLAS single-threaded, so the two
 * never both run a pool of threads. Process-wide. */
void tfm_set_threads(tfm_model *m, int n);

#endif
