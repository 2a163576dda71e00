/* tfm_lora_ckpt: LoRA adapter directories in PEFT's layout (see
 * tfm_lora_ckpt.c and alarm-checkpoints(7)). tfm_load and tfm_save_as use
 * them, so every tool that loads or saves a model takes adapters. */
#ifndef ALARM_TFM_LORA_CKPT_H
#define ALARM_TFM_LORA_CKPT_H

#include "ckpt.h"
#include "tfm_ckpt.h"

/* True when DIR holds adapter_config.json. */
int tfm_lora_is_adapter_dir(const char *dir);

/* Reads DIR/adapter_config.json into o, with the trained heads found in
 * DIR/model.safetensors, and the base's directory into bdir (n bytes); a
 * base that is an adapter directory is an error. */
int tfm_lora_read_dir(const char *dir, tfm_lora_opts *o, char *bdir, size_t n, alarm_err *e);

/* Loads adapter directory DIR: its base (base_model_name_or_path) built with
 * the adapters adapter_config.json describes, the adapters from
 * adapter_model.safetensors and trained heads from model.safetensors when
 * present (a v_head there gives the model a value head). Errors name the
 * file and the field or tensor. */
int tfm_lora_load_dir(tfm_model *m, const char *dir, int B, int T, int flags, alarm_err *e);

/* Writes adapter_config.json, adapter_model.safetensors and (when heads
 * train) model.safetensors into the checkpoint being written. */
int tfm_lora_write(const tfm_model *m, const ckpt_writer *w, alarm_err *e);

/* Records the base checkpoint's directory (made absolute) for
 * base_model_name_or_path. */
void tfm_lora_set_base(tfm_model *m, const char *dir);

#endif
