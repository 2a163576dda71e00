/* judge_stats: the statistics a win-rate table needs (alarm-judge(1),
 * STATISTICS): Wilson intervals on a cell's decisive pairs, the three tie
 * conventions, a seeded bootstrap over prompts of each system's average,
 * paired across systems, and the length-controlled win rate (a logistic
 * regression of decisive verdicts on the standardised length difference,
 * read at zero difference, as AlpacaEval 2 controls for length). */
#ifndef ALARM_JUDGE_STATS_H
#define ALARM_JUDGE_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* How ties count in a win rate (percent): exclude: W / (W + L) (ALaRM's,
 * the default); half: (W + T/2) / (W + L + T); loss: W / (W + L + T). */
typedef enum { JT_EXCLUDE, JT_HALF, JT_LOSS } judge_ties;

/* 100 * the rate; 50 when the denominator is 0. */
double judge_rate_ties(long win, long lose, long tie, judge_ties ties);

/* The 95% Wilson score interval of k successes in n trials, in percent
 * (0 and 100 when n is 0). */
void judge_wilson(long k, long n, double *lo, double *hi);

/* Outcomes by prompt: c[(p * nsys + i) * nsys + j] counts i's wins,
 * losses and ties against j on prompt p (several when systems are pooled,
 * none when the pair was not judged there). */
typedef struct {
    unsigned short win, lose, tie;
} judge_counts;

/* Each system's average win rate (mean over the other systems of its rate
 * against each) on the prompts given (weights w[p] = how often prompt p
 * is drawn; NULL: once each). avg has nsys entries. */
void judge_averages(const judge_counts *c, size_t nprompts, size_t nsys, judge_ties ties,
                    const unsigned *w, double *avg);

/* The 2.5th and 97.5th percentiles of each system's average over `draws`
 * resamplings of the prompts with replacement (the same draw for every
 * system: paired), seeded. lo, hi have nsys entries. */
int judge_bootstrap(const judge_counts *c, size_t nprompts, size_t nsys, judge_ties ties,
                    int draws, uint64_t seed, double *lo, double *hi, alarm_err *e);

/* The length-controlled win rate (percent) of n decisive verdicts: won[k]
 * 1 when the first system won, d[k] its length minus the other's. Fits
 * P(win) = sigmoid(b0 + b1 * d / sd(d)) by Newton's method and returns
 * 100 * sigmoid(b0). Fewer than 2 verdicts, or no spread in d: the raw
 * rate. A small ridge (1e-3) on both coefficients keeps a separable case
 * (every longer answer wins) finite, near the widest-margin boundary. */
double judge_lc_rate(const double *d, const int *won, size_t n);

#endif
