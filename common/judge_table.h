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

typedef struct {
    long win, lose, tie;
} judge_wlt;

typedef struct {
    char *name;             /* the judge: model name or "reward:NAME" */
    int is_reward;
    size_t nsys;
    judge_wlt *cells;       /* (nsys, nsys): cells[i*nsys+j] is i against j */
    consist_counts *consist; /* (nsys, nsys), reward judges: the pair's counts */
    int *no_holistic;       /* (nsys, nsys): some response lacked the holistic reward */
    long unparseable, failed; /* single-order answers of those kinds */
} judge_tally;

int judge_tally_init(judge_tally *t, const char *name, size_t nsys, int is_reward, alarm_err *e);
void judge_tally_free(judge_tally *t);

/* Counts the combined result of one prompt for systems i and j: JV_A means
 * i won, JV_B that j won, anything else a tie. */
void judge_tally_add(judge_tally *t, size_t i, size_t j, int verdict);

double judge_win_rate(const judge_wlt *c);

/* The summary: {"systems", "prompts", "judges": {NAME: {"matrix", "average"}}},
 * and first "partial": {"failed", "judgments"} when judgments of an LLM
 * judge failed for good (they count as ties: the rates are not final). */
cJSON *judge_summary_json(const char *const *systems, size_t nsys, size_t nprompts,
                          const judge_tally *t, size_t ntallies);

/* The same as Markdown tables, one per judge, after a line "partial: F of N
 * judgments failed for good ..." when some did. Returns -1 on a write error. */
int judge_summary_markdown(FILE *out, const char *const *systems, size_t nsys,
                           size_t nprompts, const judge_tally *t, size_t ntallies);

#endif
