/* alarm-ppo's statistics (trl 0.5's names, alarm-ppo(1)), its invariants
 * and its health stops. */
#ifndef ALARM_PPO_STATS_H
#define ALARM_PPO_STATS_H

#include "ppo_cli.h"

typedef struct {
    /* the batch, before the epochs */
    double kl, entropy, non_score_mean, scores_mean, scores_std;
    double qlen_mean, qlen_std, rlen_mean, rlen_std, eos_rate;
    double reward_sum, total_sum; /* the dense rewards trained on; reward.total read */
    /* the minibatches, summed */
    ppo_mb_stats sum;
    long minibatches, skipped, updates, epochs;
    int early_stopped;
    double grad_norm_sum;
} ppo_stats_acc;

void ppo_stats_add(ppo_stats_acc *acc, const ppo_mb_stats *s);
/* Under mpirun: the minibatch sums of every rank's minibatches, on every rank. */
void ppo_stats_reduce(ppo_stats_acc *acc);

/* The invariants of the batch (alarm-ppo(1)): every dense reward on a token
 * of its own response, and the reward trained on summing to reward.total. */
int ppo_check_batch(ppo_run *R, ppo_stats_acc *acc, alarm_err *e);

/* The batch statistics, and --stop-on: a crossed limit is an error. */
int ppo_health(ppo_run *R, ppo_stats_acc *acc, alarm_err *e);

/* R->stats: every statistic as one JSON object, and the next KL coefficient. */
int ppo_stats_make(ppo_run *R, const ppo_stats_acc *acc, alarm_err *e);

#endif
