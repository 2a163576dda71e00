/* judge_writer: writes judgments and cache rows to the store on a thread of
 * its own, with its own connection, committing as fast as the disk allows:
 * each commit takes everything queued meanwhile (group commit). The event
 * loop that talks to the judge then never waits on the disk, and a kill -9
 * loses only what was queued since the last commit (a few milliseconds).
 * Ownership: every call copies what it is given. Not for the reads: the
 * caller looks the cache up on its own connection (WAL allows both). */
#ifndef ALARM_JUDGE_WRITER_H
#define ALARM_JUDGE_WRITER_H

#include <stdint.h>

#include "err.h"
#include "judge.h"

typedef struct judge_writer judge_writer;

/* Opens `db_path` a second time and starts the thread; rows go to run_id. */
int judge_writer_start(judge_writer **w, const char *db_path, int64_t run_id, alarm_err *e);

/* Queue a cache row / a judgment. Fail (with the writer's message) once the
 * writer has failed. */
int judge_writer_put(judge_writer *w, const char *key, const char *endpoint, const char *model,
                     const char *request, const char *response, double latency_ms,
                     alarm_err *e);
int judge_writer_judgment(judge_writer *w, const judge_rec *r, alarm_err *e);

/* Writes what is queued, commits, stops the thread and frees the writer.
 * Returns -1 when any write failed. NULL is a no-op. */
int judge_writer_finish(judge_writer *w, alarm_err *e);

#endif
