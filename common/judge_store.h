/* judge_store: alarm-judge's tables in the store: the response cache
 * (judge_cache, shared by every run) and the judgments of a run, through
 * prepared statements on one connection. The caller groups writes into
 * transactions (judge_store_flush commits); judge_writer does so on a thread
 * of its own so answers are stored as they arrive. */
#ifndef ALARM_JUDGE_STORE_H
#define ALARM_JUDGE_STORE_H

#include <stdint.h>

#include "db.h"
#include "judge.h"

typedef struct {
    db_store *db;
    int64_t run_id;
    sqlite3_stmt *get, *put, *judgment;
    int pending; /* writes in the open transaction */
} judge_store;

int judge_store_open(judge_store *s, db_store *db, int64_t run_id, alarm_err *e);
/* Commits what is pending and finalizes the statements. */
int judge_store_close(judge_store *s, alarm_err *e);

/* Looks `key` up: returns 1 with *response (malloc'd) set, 0 when absent. */
int judge_store_get(judge_store *s, const char *key, char **response, alarm_err *e);

int judge_store_put(judge_store *s, const char *key, const char *endpoint, const char *model,
                    const char *request, const char *response, double latency_ms,
                    alarm_err *e);

int judge_store_judgment(judge_store *s, const judge_rec *r, alarm_err *e);

/* Opens a write transaction now (for a burst of writes), if none is open. */
int judge_store_begin(judge_store *s, alarm_err *e);
/* Opens a read transaction (for a burst of lookups; it never blocks a
 * writer on another connection), if none is open. judge_store_flush ends it. */
int judge_store_read_begin(judge_store *s, alarm_err *e);

/* Commits the open transaction, if any. */
int judge_store_flush(judge_store *s, alarm_err *e);

#endif
