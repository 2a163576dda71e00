/* tfm_ckpt: models from and to Hugging Face checkpoint directories.
 * Loading takes tensors from any tfm_source; tfm_load wires the safetensors
 * module (st_) in, tfm_save writes config.json + model.safetensors through the
 * atomic checkpoint writer (ckpt_). */
#ifndef ALARM_TFM_CKPT_H
#define ALARM_TFM_CKPT_H

#include <stdint.h>

#include "tfm.h"

/* A set of named tensors convertible to fp32. */
typedef struct {
    void *ctx;
    /* 1 and the shape when `name` is present, 0 when absent. */
    int (*find)(void *ctx, const char *name, int *ndim, int64_t shape[8]);
    /* Converts tensor `name` to fp32 into dst. */
    int (*read)(void *ctx, const char *name, float *dst, alarm_err *e);
} tfm_source;

/* Options for loading. */
enum {
    TFM_LOAD_VALUE_HEAD = 1 /* give the model a value head: loaded when the checkpoint
                               has v_head.summary.*, else zero-initialised */
};

/* Fills m's parameters from src, by Hugging Face name (with or without the
 * base-class prefix). A missing or mis-shaped tensor is an error; tensors the
 * model does not use (buffers such as attn.bias) are ignored. */
int tfm_load_from(tfm_model *m, const tfm_source *src, alarm_err *e);

/* True when src holds a trl value head. */
int tfm_source_has_value_head(const tfm_source *src);

/* Loads DIR (config.json + safetensors) into a model built for (B, T);
 * T = 0 means the checkpoint's maximum length. */
int tfm_load(tfm_model *m, const char *dir, int B, int T, int flags, alarm_err *e);

/* Writes DIR atomically: config.json, model.safetensors (F32, the names of
 * the table; a tied LM head is not written, as transformers does), and
 * tokenizer files copied from `tokenizer_dir` when it is not NULL. */
int tfm_save(const tfm_model *m, const char *dir, const char *tokenizer_dir, alarm_err *e);

#endif
