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
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "err.h"

struct db_batch;

typedef struct {
    sqlite3 *h;
    const char *path;
    int in_tx;
    struct db_batch *batch; /* the open batch's rows (db_batch_begin), or NULL */
} db_store;

/* A value to bind: db_null(), db_int(), db_real(), db_text() (a NULL string
 * binds NULL) or db_textn() (n bytes). Copied by db_put and db_writer_put. */
typedef struct {
    enum { DB_VALUE_NULL, DB_VALUE_INT, DB_VALUE_REAL, DB_VALUE_TEXT } type;
    int64_t i;
    double d;
    const char *s;
    size_t n;   /* the text's bytes when has_n */
    int has_n;
} db_value;

static inline db_value db_null(void) { return (db_value){.type = DB_VALUE_NULL}; }
static inline db_value db_int(int64_t i) { return (db_value){.type = DB_VALUE_INT, .i = i}; }
static inline db_value db_real(double d) { return (db_value){.type = DB_VALUE_REAL, .d = d}; }
static inline db_value db_text(const char *s)
{
    return (db_value){.type = s ? DB_VALUE_TEXT : DB_VALUE_NULL, .s = s};
}
static inline db_value db_textn(const char *s, size_t n)
{
    return (db_value){.type = s ? DB_VALUE_TEXT : DB_VALUE_NULL, .s = s, .n = n, .has_n = 1};
}
static inline size_t db_value_len(const db_value *v) { return v->has_n ? v->n : strlen(v->s); }

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

/* A batch (db_batch.c): the rows a tool puts between db_batch_begin and
 * db_batch_commit are kept in memory and written by db_batch_commit in one
 * transaction, so the store's write lock is held only while a finished
 * batch is written, never while the tool computes or reads or writes a
 * pipe. Tools of one pipeline sharing a store then never wait on each other
 * (with the lock held across a read, the writer upstream would wait for the
 * lock while its reader waited for its output). db_batch_drop forgets the
 * rows (a failed run). Outside a batch, db_put writes at once. A row keeps
 * its statement's SQL, not the statement: the tool may finalize it. */
int db_batch_begin(db_store *db, alarm_err *e);
int db_put(db_store *db, sqlite3_stmt *st, const db_value *v, int n, alarm_err *e);
int db_batch_commit(db_store *db, alarm_err *e);
void db_batch_drop(db_store *db);
/* One allocation of `head` bytes followed by a copy of v[0..n) and their
 * texts; *copy points at the copied values. free() it. */
void *db_values_pack(size_t head, const db_value *v, int n, db_value **copy);
/* Binds v[0..n) to parameters 1..n of st (SQLITE_STATIC: v outlives the step). */
int db_bind_values(db_store *db, sqlite3_stmt *st, const db_value *v, int n, alarm_err *e);

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
