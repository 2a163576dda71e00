/* judge_table: win/tie/lose counts per judge and pair of systems, and the
 * summary of a run (alarm-judge(1), OUTPUT) as JSON or Markdown.
 * Win rate = 100 * win / (win + lose), 50 when both are 0; average[s] is the
 * mean of s's win rates against every other system. */
#ifndef ALARM_JUDGE_TABLE_H
#define ALARM_JUDGE_TABLE_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdio.h>

#include "err.h"
#include "judge_reward.h"
#include "judge_stats.h"

typedef struct {
    long win, lose, tie;
} judge_wlt;

/* An LLM judge's position bias and agreement: its single-order verdicts by
 * which output it was shown first, and the pairs asked in both orders. */
typedef struct {
    long first, second, neither; /* the first-shown output won, the second, a tie or no answer */
    long pairs, agree;           /* pairs with a decisive verdict in some order; those whose
                                    two orders named the same system */
} judge_position;

typedef struct judge_tally {
    char *name;             /* the judge: model name or "reward:NAME" */
    int is_reward;
    size_t nsys;
    judge_wlt *cells;       /* (nsys, nsys): cells[i*nsys+j] is i against j */
    consist_counts *consist; /* (nsys, nsys), reward judges: the pair's counts */
    int *no_holistic;       /* (nsys, nsys): some response lacked the holistic reward */
    long unparseable, failed; /* single-order answers of those kinds */
    size_t nprompts;
    judge_counts *pc;       /* (nprompts, nsys, nsys) outcomes by prompt (judge_stats.h) */
    judge_position pos;     /* LLM judges */
    long not_made;          /* single-order judgments a cap held back */
    long prompt_tokens, completion_tokens; /* the answers' usage, requests sent this run */
    long judgments;         /* LLM judges: single-order judgments asked (both orders of
                               every pair and prompt) */
    /* A pooled tally (judge_tally_pool) borrows its members' tally, rows
     * and words for the length-controlled rate; NULL otherwise. */
    const struct judge_tally *src;
    const size_t *row_of;
    const double *src_words;
} judge_tally;

int judge_tally_init(judge_tally *t, const char *name, size_t nsys, size_t nprompts,
                     int is_reward, alarm_err *e);
void judge_tally_free(judge_tally *t);

/* Counts the combined result of prompt p for systems i and j: JV_A means
 * i won, JV_B that j won, anything else a tie. */
void judge_tally_add(judge_tally *t, size_t p, size_t i, size_t j, int verdict);

/* Counts one pair's two single-order verdicts (about the systems: JV_A, i
 * won) for position bias: in order ab, i was shown first; in ba, j. */
void judge_tally_orders(judge_tally *t, int v_ab, int v_ba);

double judge_win_rate(const judge_wlt *c);

/* Pools systems into the rows of a table (alarm-judge --group): row_of[s]
 * is system s's row, of nrows. A cell of two rows sums the counts of every
 * pair of their members, by prompt too (so the bootstrap still resamples
 * prompts); pairs within one row are left out. The judge's own counts
 * (position, failures, usage) stay those of every judgment. `dst` borrows
 * src, row_of and words ((nprompts, src->nsys), or NULL) for the
 * length-controlled rate, which regresses each member pair's verdicts on
 * that pair's own length difference. */
int judge_tally_pool(judge_tally *dst, const judge_tally *src, const size_t *row_of,
                     size_t nrows, const double *words, alarm_err *e);
/* Each row's mean words per prompt over its members, (nprompts, nrows),
 * malloc'd; NULL when out of memory or words is NULL. */
double *judge_words_pool(const double *words, size_t nprompts, size_t nsys,
                         const size_t *row_of, size_t nrows);

/* How the summary's statistics are made (alarm-judge(1), STATISTICS). */
typedef struct {
    judge_ties ties;     /* the convention of "win_rate" and "average" */
    int bootstrap;       /* resamplings of the prompts for the averages' intervals */
    uint64_t seed;
    const double *words; /* (nprompts, nsys) words of each response, for the
                            length-controlled rate and mean lengths; or NULL */
} judge_summary_opts;

/* The summary: {"systems", "prompts", "ties", "judges": {NAME: {"matrix",
 * "average", "average_ci", "mean_words", "position"}}}, and first "partial":
 * {"failed", "judgments"} when judgments of an LLM judge failed for good
 * (they count as ties: the rates are not final). */
cJSON *judge_summary_json(const char *const *systems, size_t nsys, size_t nprompts,
                          const judge_tally *t, size_t ntallies, const judge_summary_opts *o);

/* One judge's part of the summary, and the LLM judgments that failed for
 * good over `total` made (the parts judge_summary_markdown renders). */
cJSON *judge_tally_summary(const char *const *systems, const judge_tally *t,
                           const judge_summary_opts *o);
long judge_failed_of(const judge_tally *t, size_t ntallies, long *total);
/* Single-order judgments a cap held back, over every judge. */
long judge_not_made(const judge_tally *t, size_t ntallies);

/* The same as Markdown tables, one per judge, after a line "partial: F of N
 * judgments failed for good ..." when some did: the win-rate matrix, then
 * the statistics. Returns -1 on a write error. */
int judge_summary_markdown(FILE *out, const char *const *systems, size_t nsys,
                           size_t nprompts, const judge_tally *t, size_t ntallies,
                           const judge_summary_opts *o);

#endif
