/* judge_reward: judging by a reward instead of a model, and the reward's
 * consistency with the holistic reward over the same pairs (FORMATS.md
 * sections 4 and 6). judge_consist_* is the pairwise count of section 4;
 * alarm-select's consist_ module computes the same measure over records that
 * share a prompt, and the two are meant to become one function. */
#ifndef ALARM_JUDGE_REWARD_H
#define ALARM_JUDGE_REWARD_H

typedef struct {
    long holistic_nontie; /* pairs with dh != 0 */
    long agree;           /* ... and da != 0 with the same sign */
    long disagree;        /* ... and da != 0 with the opposite sign */
    long aspect_ties;     /* ... and da == 0 */
} judge_consist;

/* Counts one pair (i, j): holistic values h_i, h_j and aspect values a_i,
 * a_j; lower_better negates da. */
void judge_consist_add(judge_consist *c, double h_i, double h_j, double a_i, double a_j,
                       int lower_better);

/* disagree / holistic_nontie, 0 when there is no non-tied pair. */
double judge_consist_inconsistency(const judge_consist *c);
/* agree / (agree + disagree), 0 when both are 0. */
double judge_consist_consistency(const judge_consist *c);

/* JV_A when value_a is better, JV_B when value_b is, JV_TIE when equal. */
int judge_reward_verdict(double value_a, double value_b, int lower_better);

#endif
