/* db_merge: stores merged into one (alarm-db(1) merge, alarm-formats(5)
 * section 8, "Merging"): the runs of every input that the output lacks are
 * added under new ids, and every row of every table follows its run. A run
 * is the same run when tool, version, argv and started_at agree, so merging
 * a store twice adds nothing; a row already there (its table's primary key,
 * under the run's id in the output) is not added again; judge_cache rows are
 * kept once per key. */
#ifndef ALARM_DB_MERGE_H
#define ALARM_DB_MERGE_H

#include <stddef.h>

#include "db.h"

typedef struct {
    long long runs_added; /* runs new to the output */
    long long runs_known; /* runs of the inputs it already held */
    long long rows_added; /* rows of the other tables */
} db_merge_stats;

/* Merges the stores in[0..n) into out (opened by db_open) in one write
 * transaction: on failure out is as it was. An input of another schema
 * version, not an alarm store, or with rows of runs it does not hold, is
 * refused naming its file. */
int db_merge(db_store *out, const char *const *in, size_t n, db_merge_stats *st, alarm_err *e);

#endif
