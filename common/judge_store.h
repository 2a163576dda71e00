/* judge_store: alarm-judge's response cache in the store (judge_cache,
 * shared by every run): lookups through a prepared statement on the
 * caller's connection, grouped in read transactions; new answers queued to
 * a db_writer, which commits them on its own thread as they arrive. */
#ifndef ALARM_JUDGE_STORE_H
#define ALARM_JUDGE_STORE_H

#include <stdint.h>

#include "db.h"
#include "db_writer.h"

typedef struct {
    db_store *db;
    sqlite3_stmt *get;
} judge_store;

int judge_store_open(judge_store *s, db_store *db, alarm_err *e);
/* Ends a read transaction left open and finalizes the statement. */
int judge_store_close(judge_store *s, alarm_err *e);

/* Looks `key` up: returns 1 with *response (malloc'd) set, 0 when absent. */
int judge_store_get(judge_store *s, const char *key, char **response, alarm_err *e);

/* Queues a cache row to `w`. */
int judge_store_put(db_writer *w, const char *key, const char *endpoint, const char *model,
                    const char *request, const char *response, double latency_ms,
                    alarm_err *e);

/* Opens a read transaction (for a burst of lookups; it never blocks a
 * writer on another connection), if none is open. judge_store_flush ends it. */
int judge_store_read_begin(judge_store *s, alarm_err *e);

/* Ends the open read transaction, if any. */
int judge_store_flush(judge_store *s, alarm_err *e);

#endif
