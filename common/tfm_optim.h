/* tfm_optim: AdamW with decoupled weight decay and bias correction (as
 * torch.optim.AdamW), gradient-norm clipping (as clip_grad_norm_), and the
 * learning-rate schedules of transformers' get_*_schedule_with_warmup. */
#ifndef ALARM_TFM_OPTIM_H
#define ALARM_TFM_OPTIM_H

#include "tfm.h"

typedef enum { TFM_SCHED_CONSTANT, TFM_SCHED_LINEAR, TFM_SCHED_COSINE } tfm_sched;

typedef struct {
    float lr;           /* peak learning rate */
    float beta1, beta2, eps;
    float weight_decay; /* applied to tensors the table marks `decay` */
    float grad_clip;    /* max global L2 norm; <= 0 disables */
    tfm_sched sched;
    int warmup;         /* steps of linear warmup from 0 */
    int total;          /* steps of the whole run (linear/cosine decay to 0) */
} tfm_adamw;

/* Defaults: lr 1e-5, betas (0.9, 0.999), eps 1e-8, decay 0, clip 1, constant. */
void tfm_adamw_defaults(tfm_adamw *o);

/* Learning rate for the update after `step` previous updates. */
float tfm_lr_at(const tfm_adamw *o, int step);

/* Global L2 norm of the gradients. */
float tfm_grad_norm(const tfm_model *m);

/* Scales gradients so their norm is at most max_norm (factor
 * max_norm / (norm + 1e-6) when below one). Returns the norm before. */
float tfm_clip_grad(tfm_model *m, float max_norm);

/* One AdamW update with learning rate lr; `step` counts updates from 1. */
void tfm_adamw_update(tfm_model *m, const tfm_adamw *o, float lr, int step);

/* Clip, schedule and update: the whole optimizer step after backward.
 * `step` is the number of updates done before this one. Returns the norm;
 * when it is not finite nothing is updated (weights and moments as they were). */
float tfm_optim_step(tfm_model *m, const tfm_adamw *o, int step);

#endif
