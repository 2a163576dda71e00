/* ppo: the arithmetic of one PPO step on dense per-token rewards, as trl
 * 0.5's PPOTrainer does it (alarm-formats(5) section 5), with no model in
 * sight: the KL-penalised rewards, GAE advantages and returns, whitening,
 * one minibatch's clipped losses with their gradients with respect to the
 * new log-probabilities and values, the statistics trl reports, and the
 * adaptive KL controller. Per-token arrays are flat: record i's response
 * tokens are [first[i], first[i + 1]). */
#ifndef ALARM_PPO_H
#define ALARM_PPO_H

#include <stddef.h>

#include "err.h"

typedef enum { PPO_KL, PPO_ABS, PPO_MSE, PPO_FULL } ppo_penalty;

typedef struct {
    double kl_coef;        /* beta of this step (the controller's value) */
    int adaptive;          /* 1: the adaptive controller, 0: fixed */
    double kl_target, kl_horizon;
    ppo_penalty penalty;
    double gamma, lam;
    double cliprange, cliprange_value, vf_coef;
    double ratio_threshold; /* a minibatch whose mean ratio exceeds it is skipped */
} ppo_cfg;

/* trl 0.5's PPOConfig defaults. */
void ppo_cfg_defaults(ppo_cfg *c);

/* The batch before the epochs: everything per token is old (no gradient). */
typedef struct {
    size_t n;              /* records */
    const size_t *first;   /* (n + 1) */
    const float *lp, *ref; /* log-probabilities of the sampled tokens: policy, reference */
    const float *kl_full;  /* PPO_FULL: KL(policy || ref) over the vocabulary per token */
    const float *values;   /* the value head's V_t */
    const float *dense;    /* reward.dense */
    float *kl;             /* out: the penalty k_t */
    float *non_score;      /* out: -beta k_t */
    float *rewards;        /* out: -beta k_t + dense_t */
    float *adv, *ret;      /* out: whitened advantages, returns */
} ppo_batch;

/* k_t, the non-score rewards and the rewards. */
void ppo_rewards(const ppo_cfg *c, ppo_batch *b);

/* GAE backwards over each response (no value after its last token),
 * returns = adv + V, then the advantages whitened over every token of the
 * batch (mean 0, unbiased variance 1, as trl's masked_whiten). Fewer than
 * two tokens, or a non-finite advantage, is an error. */
int ppo_advantages(const ppo_cfg *c, ppo_batch *b, alarm_err *e);

/* One minibatch's statistics, named as trl names them (ppo/...). */
typedef struct {
    double pg_loss, vf_loss, total;  /* loss/policy, loss/value (before vf_coef), loss/total */
    double entropy, approxkl, policykl, clipfrac, adv_mean;
    double ret_mean, ret_var;
    double vpred, verror, vclipfrac, val_mean, val_var;
    double ratio_mean;
    int skipped;                     /* the mean ratio exceeded the threshold */
} ppo_mb_stats;

/* The minibatch's n tokens: old lp, old values, advantages and returns of
 * the batch, and the new lp, values and entropies of the current forward.
 * Writes d(loss)/d(lp) and d(loss)/d(value) times `scale` (1/grad_accum)
 * into dlp and dv, where loss = pg + vf_coef * vf; all zero when skipped. */
void ppo_minibatch(const ppo_cfg *c, size_t n, const float *old_lp, const float *old_v,
                   const float *adv, const float *ret, const float *lp, const float *v,
                   const float *entropy, float scale, float *dlp, float *dv, ppo_mb_stats *s);

/* The adaptive controller after a step whose objective/kl was `kl` over
 * n_records: beta *= 1 + clip(kl / target - 1, -0.2, 0.2) * n / horizon.
 * A fixed controller keeps beta. Returns the new beta. */
double ppo_kl_update(const ppo_cfg *c, double kl, size_t n_records);

/* KL(p || q) of two rows of logits over V tokens: sum p (log p - log q). */
float ppo_kl_full_row(const float *z_policy, const float *z_ref, int V);

/* Mean and unbiased variance of x[0, n) (trl's masked_mean, masked_var). */
void ppo_mean_var(const float *x, size_t n, double *mean, double *var);

#endif
