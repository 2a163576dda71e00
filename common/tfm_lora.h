/* tfm_lora: LoRA adapters on a model's matrix products, as PEFT computes
 * them: h = W x + (alpha / r) B A dropout(x), A (r, in), B (out, r), A
 * initialised kaiming-uniform (a = sqrt 5, i.e. U(+-1/sqrt(in))) and B
 * zero. Each adapter sits on a slot: a product (a TW_* weight role) and a
 * range of its output columns, so Llama's q_proj and v_proj add into their
 * part of the fused q|k|v product. Adapters are tensors of the model's one
 * parameter table, after the heads, so heads and adapters are one
 * contiguous trainable span (tfm_trainable_grads). */
#ifndef ALARM_TFM_LORA_H
#define ALARM_TFM_LORA_H

#include <stddef.h>

#include "err.h"
#include "tfm.h"

/* One place an adapter can go: PEFT's module name within a layer. */
typedef struct {
    const char *name;   /* the target name PEFT matches ("c_attn", "q_proj") */
    const char *path;   /* module path with %d for the layer */
    int role;           /* the TW_* weight of the product */
    int col0, out, in;  /* output columns [col0, col0 + out) of the product; input width */
} tfm_lora_slot;

/* The slots of an architecture (GPT-2: c_attn, attn.c_proj, c_fc,
 * mlp.c_proj; Llama: q, k, v, o, gate, up, down) for config c; returns how
 * many (at most TFM_LORA_SLOTS). */
int tfm_lora_slots(const tfm_config *c, tfm_lora_slot out[TFM_LORA_SLOTS]);

/* Parses a comma-separated list of target names ("q_proj,v_proj") into
 * slot bits for c; a name matching no slot is an error naming it. NULL or
 * "" gives the architecture's default (c_attn; q_proj,v_proj). */
int tfm_lora_targets(const tfm_config *c, const char *names, unsigned *bits, alarm_err *e);

/* The target names of bits, comma-separated, as PEFT lists them (GPT-2's
 * two c_proj slots are one name). */
void tfm_lora_target_names(const tfm_config *c, unsigned bits, char *buf, size_t n);

/* Called by tfm_build once the table holds the adapters (their offsets in
 * m->lora.ad): the trainable span, the adapters' activations, A and B. */
int tfm_lora_build(tfm_model *m, alarm_err *e);

/* Adds the adapters on product `role` of layer l into y (N rows, the
 * product's full width), from its input x (N, in). No-op without adapters
 * or when they are switched off. */
void tfm_lora_forward(tfm_model *m, int l, int role, float *y, const float *x, size_t N);

/* Backward of tfm_lora_forward: from dy (the product's output gradient)
 * accumulates dA, dB and dx (the input's gradient). */
void tfm_lora_backward(tfm_model *m, int l, int role, float *dx, const float *dy,
                       const float *x, size_t N);

/* Switches the adapters off (the base model: PPO's reference) or back on;
 * returns what it was. */
int tfm_lora_enable(tfm_model *m, int on);

/* W += scale B A for every adapter (W^T for GPT-2's Conv1D), into the
 * base weights of m itself: m becomes the merged plain model (cfg.lora.r
 * 0, adapters off, so it computes what it did; tfm_save writes a full
 * checkpoint). Not for training afterwards. */
void tfm_lora_merge(tfm_model *m);

/* Fresh adapters: A kaiming-uniform from cfg.lora.seed, B zero. */
void tfm_lora_init(tfm_model *m);

/* LoRA as a tool asks for it (--lora): targets by PEFT name ("" = the
 * architecture's default), resolved against the base's architecture. */
typedef struct {
    int r;
    double alpha, dropout;
    char targets[256];
    unsigned long long seed;
    int cls, n_labels; /* a trained classification head beside the adapters (tfm_cls_kind) */
    int value_head;    /* and trl's v_head (an adapter directory's model.safetensors) */
} tfm_lora_opts;

/* Fills c->lora from o for c's architecture (a target matching nothing is
 * an error naming it). */
int tfm_lora_configure(tfm_config *c, const tfm_lora_opts *o, alarm_err *e);

/* True for an adapter tensor of the table. */
int tfm_lora_is_adapter(const tfm_tensor *t);

#endif
