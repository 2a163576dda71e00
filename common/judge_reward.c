/* judge_reward: reward verdicts and consistency counts (see judge_reward.h).
 * Comparisons are exact on purpose: equal values are a tie, as the format
 * says, and no tolerance is invented here. */
#include "judge_reward.h"

#include "judge.h"

void judge_consist_add(judge_consist *c, double h_i, double h_j, double a_i, double a_j,
                       int lower_better)
{
    double dh = h_i - h_j, da = a_i - a_j;
    if (lower_better)
        da = -da;
    if (dh == 0)
        return;
    c->holistic_nontie++;
    if (da == 0)
        c->aspect_ties++;
    else if ((dh > 0) == (da > 0))
        c->agree++;
    else
        c->disagree++;
}

double judge_consist_inconsistency(const judge_consist *c)
{
    return c->holistic_nontie ? (double)c->disagree / (double)c->holistic_nontie : 0.0;
}

double judge_consist_consistency(const judge_consist *c)
{
    long n = c->agree + c->disagree;
    return n ? (double)c->agree / (double)n : 0.0;
}

int judge_reward_verdict(double value_a, double value_b, int lower_better)
{
    if (value_a == value_b)
        return JV_TIE;
    int a_higher = value_a > value_b;
    return a_higher != (lower_better != 0) ? JV_A : JV_B;
}
