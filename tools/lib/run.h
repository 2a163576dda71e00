/* run: the store run lifecycle every recording tool goes through. With a
 * store (--db or ALARM_DB): open it, record a runs row (tool, argv as JSON,
 * status running), write the tool's rows in batches (transactions), and end
 * with status ok, or failed with the message; a failed run's open batch is
 * rolled back, so it leaves only its runs row. Without a store each call
 * does nothing. */
#ifndef ALARM_RUN_H
#define ALARM_RUN_H

#include <stdint.h>

#include "db.h"
#include "opt.h"

typedef struct {
    db_store db; /* db.h is NULL without a store */
    int64_t id;  /* the runs row */
    int started;
} tool_run;

/* Opens t->db and records the run. 0 (also without a store) or -1. */
int run_start(tool_run *r, const tool *t, alarm_err *e);

/* BEGIN IMMEDIATE / COMMIT of one batch of the tool's rows. */
int run_batch_begin(tool_run *r, alarm_err *e);
int run_batch_commit(tool_run *r, alarm_err *e);

/* Ends the run and closes the store. failure == NULL: the open batch is
 * committed and the run marked ok; else the batch is rolled back and the run
 * marked failed with that message (also when the commit fails). Returns 0,
 * or -1 after a message on stderr when the store could not be finished. */
int run_end(tool_run *r, const tool *t, const char *failure);

/* The argv of this invocation as a JSON array text (malloc'd). */
char *run_argv_json(int argc, char *const *argv);

#endif
