/* db_writer: rows written to the store on a thread of its own, with its own
 * connection, committing as fast as the disk allows: each commit takes
 * everything queued meanwhile (group commit). A producer (an event loop
 * talking to a server) then never waits on the disk, and a kill -9 loses
 * only what was queued since the last commit (a few milliseconds).
 * A row is a prepared statement (INSERT, UPDATE) and its values, copied when
 * queued, or a callback that binds them when the row is written. The first
 * SQLite error of any statement, BEGIN or COMMIT (SQLITE_CORRUPT included)
 * is kept, names the store's file, and from then on every call fails with it;
 * nothing more is written. Reads go through the caller's own connection
 * (WAL lets both run at once). Thread-safe: any thread may queue rows. */
#ifndef ALARM_DB_WRITER_H
#define ALARM_DB_WRITER_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "err.h"

typedef struct db_writer db_writer;

/* Binds a row's values to `st` when the writer writes it (on its thread);
 * returns -1 after filling e to fail the writer. */
typedef int (*db_bind_fn)(sqlite3_stmt *st, void *arg, alarm_err *e);

typedef struct {
    long rows;    /* rows written and committed */
    long commits; /* transactions committed */
} db_writer_stats;

/* Opens the store at `path` (db_open: created and migrated if needed) a
 * second time and starts the thread. */
int db_writer_start(db_writer **w, const char *path, alarm_err *e);

/* Prepares `sql` on the writer's connection and sets *id for db_writer_put.
 * The same text prepared again gives the same id. At most 32 statements. */
int db_writer_stmt(db_writer *w, const char *sql, int *id, alarm_err *e);

/* Queues a row of statement `id`: values v[0..n) bound to parameters 1..n. */
int db_writer_put(db_writer *w, int id, const db_value *v, int n, alarm_err *e);

/* Queues a row bound by bind(st, arg) on the writer's thread. The writer owns
 * arg from this call on, also when it fails: it calls free_arg(arg) (when not
 * NULL) once the row is written or dropped. */
int db_writer_put_fn(db_writer *w, int id, db_bind_fn bind, void *arg, void (*free_arg)(void *),
                     alarm_err *e);

/* Waits until every row queued so far is committed. */
int db_writer_flush(db_writer *w, alarm_err *e);

/* 0 while the writer is healthy; -1 with its first error once it failed. */
int db_writer_check(db_writer *w, alarm_err *e);

db_writer_stats db_writer_get_stats(db_writer *w);

/* Writes what is queued, commits, stops the thread, closes the connection
 * and frees the writer. Returns -1 (with the first error) when anything
 * failed. NULL is a no-op; e may be NULL. */
int db_writer_finish(db_writer *w, alarm_err *e);

#endif
