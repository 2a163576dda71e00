/* judge_reward: judging by a reward instead of a model (alarm-formats(5) section 6).
 * The reward's consistency with the holistic reward over the same pairs is
 * counted with consist_count_pair (consist.h), as alarm-select does. */
#ifndef ALARM_JUDGE_REWARD_H
#define ALARM_JUDGE_REWARD_H

#include "consist.h"

/* JV_A when value_a is better, JV_B when value_b is, JV_TIE when equal. */
int judge_reward_verdict(double value_a, double value_b, int lower_better);

#endif
