/* What alarm-ppo's files share: its options and the state of one step
 * (alarm-ppo(1)). main.c parses, data.c reads the combined records,
 * step.c runs the PPO step, save.c writes the checkpoint and statistics. */
#ifndef ALARM_PPO_CLI_H
#define ALARM_PPO_CLI_H

#include <cjson/cJSON.h>

#include "opt.h"
#include "ppo.h"
#include "run.h"
#include "seq.h"
#include "tfm.h"
#include "train.h"

typedef struct {
    const char *policy, *ref, *out, *stats;
    double lr, kl_coef, cliprange, cliprange_value, vf_coef, gamma, lam, target_kl;
    double max_grad_norm, ratio_threshold, kl_target, kl_horizon;
    long ppo_epochs, mini_batch, grad_accum;
    int fixed_kl, penalty, early_stop;
    double stop_kl, stop_entropy; /* NAN: no such stop */
} ppo_args;

/* One combined record: its tokens and its dense reward. */
typedef struct {
    char *id;
    seq s;
    float *dense; /* (s.nr) */
    double total;
    int eos;      /* its last response token is an EOS */
} ppo_rec;

/* The per-token arrays of the batch, record i at [first[i], first[i+1]). */
typedef struct {
    size_t ntok, *first;
    size_t *rows;   /* the token's row in its record's forward chunk */
    int *ids;
    float *lp, *ref, *kl_full, *values, *dense, *kl, *non_score, *rewards, *adv, *ret;
    float *new_lp, *new_v, *ent, *dlp, *dv; /* one minibatch's */
} ppo_tokens;

/* Where the chain is: read from and written to the checkpoint (ppo_state.json). */
typedef struct {
    long step;      /* PPO steps done before this one */
    double kl_coef; /* the controller's coefficient for this step */
} ppo_chain;

typedef struct {
    const tool *t;
    const ppo_args *a;
    tfm_model pol, ref;
    ppo_rec *recs;
    size_t n, cap;
    int maxT;        /* longest record, prompt + response */
    int eos;         /* the policy's EOS id, or -1 */
    ppo_cfg cfg;
    ppo_chain chain;
    train_cfg tc;    /* the optimizer (constant lr) and its state's settings */
    train_state ts;  /* ts.step: optimizer updates done over the chain */
    ppo_tokens tok;
    seq_batch sb;
    cJSON *stats;    /* the step's statistics */
    tool_run run;
} ppo_run;

int ppo_read(ppo_run *R, alarm_err *e);
/* A fingerprint of the records read (tokens, dense rewards), in order. */
uint64_t ppo_records_hash(const ppo_run *R);
void ppo_run_free(ppo_run *R);

/* Loads policy (with a value head) and reference; the chain's state when
 * the policy carries one. */
int ppo_load(ppo_run *R, alarm_err *e);

/* The whole step: old pass, rewards, advantages, epochs, statistics. */
int ppo_step(ppo_run *R, alarm_err *e);

/* The checkpoint (--out), the statistics on stdout, --stats and the store. */
int ppo_save(ppo_run *R, alarm_err *e);

#endif
