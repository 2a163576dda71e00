/* tfm_ckpt: models from and to Hugging Face checkpoint directories.
 * Loading takes tensors from any tfm_source; tfm_load wires the safetensors
 * module (st_) in, tfm_save/tfm_save_as write config.json + the weights (one
 * file or shards, F32/BF16/F16) through the atomic checkpoint writer (ckpt_). */
#ifndef ALARM_TFM_CKPT_H
#define ALARM_TFM_CKPT_H

#include <stdint.h>

#include "ckpt.h"
#include "tfm.h"
#include "tfm_lora.h"

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
    TFM_LOAD_LOGITS_ROWS = 2, /* the LM head as TFM_LM_ROWS: for scoring long batches
                                 over large vocabularies (tfm_token_logprobs) */
    TFM_LOAD_VALUE_HEAD = 1, /* give the model a value head: loaded when the checkpoint
                                has v_head.summary.*, else zero-initialised */
    TFM_LOAD_NO_CHECK = 4    /* skip the scan for NaN and infinities in the weights
                                (about 0.5 ns per parameter) */
};

/* A tensor holding a NaN or an infinity is an error naming it (unless
 * TFM_LOAD_NO_CHECK). */
/* Fills m's parameters from src, by Hugging Face name (with or without the
 * base-class prefix). A missing or mis-shaped tensor is an error; tensors the
 * model does not use (buffers such as attn.bias) are ignored. */
int tfm_load_from(tfm_model *m, const tfm_source *src, int check, alarm_err *e);

/* 0 when every parameter of m is finite, else an error naming the first
 * tensor and element that is not (the load-time scan, for weights a
 * trainer has just updated). */
int tfm_check_finite(const tfm_model *m, alarm_err *e);

/* True when src holds a trl value head. */
int tfm_source_has_value_head(const tfm_source *src);

/* Loads DIR (config.json + safetensors, one file or shards) into a model
 * built for (B, T); T = 0 means the checkpoint's maximum length. The weights
 * are fp32 in memory; m->cfg.dtype records the dtype they were stored in (the
 * one holding most elements), so a tool can save the model as it was loaded. */
int tfm_load(tfm_model *m, const char *dir, int B, int T, int flags, alarm_err *e);

/* tfm_load of a base checkpoint DIR with fresh LoRA adapters (o; NULL:
 * none) built on it. A DIR holding adapter_config.json is an adapter
 * directory (tfm_lora_ckpt.h): tfm_load loads it with its base, whatever
 * the tool, so every --model takes one. */
int tfm_load_lora(tfm_model *m, const char *dir, const tfm_lora_opts *o, int B, int T, int flags,
                  alarm_err *e);

/* How the weights are written. */
typedef struct {
    st_dtype dtype;         /* ST_F32, ST_BF16 or ST_F16 (m->cfg.dtype: as loaded);
                               16-bit values round to nearest even like torch's .to() */
    size_t max_shard_bytes; /* 0: one model.safetensors; else shards of at most this
                               many bytes as transformers makes them (st_write_dir) */
    /* more files for the same checkpoint (a trainer's state), written into
     * the temporary directory before it replaces DIR; or NULL */
    int (*extra)(const ckpt_writer *w, void *ctx, alarm_err *e);
    void *extra_ctx;
} tfm_save_opts;

/* A model with adapters (cfg.lora.r) is written as an adapter directory
 * instead (tfm_lora_write), with the tokenizer files and `extra` the same.
 * Writes DIR atomically: config.json (its "torch_dtype" names opts->dtype),
 * the weights (the names of the table; a tied LM head is not written, as
 * transformers does) with metadata {"format": "pt"}, and the tokenizer files
 * found in `tokenizer_dir` when it is not NULL. opts NULL means F32, one file.
 * Everything goes into a temporary directory that replaces DIR only when
 * complete: on any failure (a bad option, a full disk) DIR is as it was and no
 * partial directory is left. */
int tfm_save_as(const tfm_model *m, const char *dir, const char *tokenizer_dir,
                const tfm_save_opts *opts, alarm_err *e);

/* tfm_save_as in F32, one model.safetensors. */
int tfm_save(const tfm_model *m, const char *dir, const char *tokenizer_dir, alarm_err *e);

#endif
