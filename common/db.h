/* db: the SQLite store every tool can record into (alarm-formats(5) section 8).
 * WAL mode and a busy timeout, so one tool reads while another writes; the
 * schema version lives in PRAGMA user_version and migrations run forward on
 * open; statements are prepared once with bound parameters. A run is recorded
 * in `runs` (committed at once, status 'running'); its records are written in
 * transactions that the tool commits per batch; db_run_finish marks the run
 * 'ok' or 'failed'. The tables are described in db_schema.c and alarm(7). */
#ifndef ALARM_DB_H
#define ALARM_DB_H

#include <sqlite3.h>
#include <stdint.h>

#include "err.h"

typedef struct {
    sqlite3 *h;
    const char *path;
    int in_tx;
} db_store;

/* The schema version this build writes. */
int db_schema_version(void);

/* Opens (creating if needed) and migrates the store. A store written by a
 * newer schema is refused. */
int db_open(db_store *db, const char *path, alarm_err *e);
void db_close(db_store *db);

int db_exec(db_store *db, const char *sql, alarm_err *e);
int db_prepare(db_store *db, sqlite3_stmt **st, const char *sql, alarm_err *e);

/* Steps a bound statement to completion and resets it (for INSERT/UPDATE). */
int db_step_done(db_store *db, sqlite3_stmt *st, alarm_err *e);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. Rollback is safe without a transaction. */
int db_begin(db_store *db, alarm_err *e);
int db_commit(db_store *db, alarm_err *e);
void db_rollback(db_store *db);

/* Records the start of a run (its own committed transaction) and returns its id. */
int db_run_start(db_store *db, const char *tool, const char *argv_json, int64_t *run_id,
                 alarm_err *e);
/* Marks the run finished: status "ok" or "failed" (message may be NULL). */
int db_run_finish(db_store *db, int64_t run_id, const char *status, const char *message,
                  alarm_err *e);

/* Binds a string or NULL. */
int db_bind_text(sqlite3_stmt *st, int i, const char *s);

#endif
