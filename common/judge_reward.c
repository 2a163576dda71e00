/* judge_reward: reward verdicts (see judge_reward.h).
 * Comparisons are exact on purpose: equal values are a tie, as the format
 * says, and no tolerance is invented here. */
#include "judge_reward.h"

#include "judge.h"

int judge_reward_verdict(double value_a, double value_b, int lower_better)
{
    if (value_a == value_b)
        return JV_TIE;
    int a_higher = value_a > value_b;
    return a_higher != (lower_better != 0) ? JV_A : JV_B;
}
