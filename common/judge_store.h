/* judge_store: alarm-judge's rows beside the judgments (alarm-formats(5)
 * section 8): the length and holistic reward of every response judged
 * (judge_responses), the summary of a run (judge_summaries), and the
 * reading back of stored judgments into tallies, so a summary can be
 * recomputed without a request (alarm-judge --summary-only). */
#ifndef ALARM_JUDGE_STORE_H
#define ALARM_JUDGE_STORE_H

#include <stdint.h>

#include "db.h"
#include "db_writer.h"
#include "judge_sys.h"
#include "judge_table.h"

/* Queues one judge_responses row per system and prompt of `set`; words is
 * judge_set_words(set). */
int judge_store_responses(db_writer *w, int64_t run_id, const judge_set *set,
                          const double *words, alarm_err *e);

/* Writes the run's summary (JSON text) at once. */
int judge_store_summary(db_store *db, int64_t run_id, const char *json, alarm_err *e);

/* Stored judgments, as the run that made them tallied them. */
typedef struct {
    char **systems;       /* by their position among NAME=FILE */
    size_t nsys;
    char **prompts;       /* by their record in the first system's file */
    size_t nprompts;
    double *words;        /* (nprompts, nsys); NULL when a response's length is not stored */
    judge_tally *tallies; /* LLM judges first, then reward judges, as a run orders them */
    size_t nt;
} judge_stored;

/* Reads the judgments of runs[0..nruns) (runs NULL: of every run), a
 * judgment made by several runs taken from the latest (highest run id),
 * and tallies them as judge_run does: an LLM pair counts once both its
 * orders are stored, the orders missing are not_made, and the usage is
 * that of the answers the chosen rows received (not from the cache). A
 * store with no such judgment is an error naming the file. */
int judge_store_load(db_store *db, const int64_t *runs, size_t nruns, judge_stored *s,
                     alarm_err *e);
void judge_stored_free(judge_stored *s);

#endif
