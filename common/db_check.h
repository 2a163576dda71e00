/* db_check: reading another store beside one's own, and checking a store
 * (alarm-db(1), alarm-formats(5) section 8). A store read here is never
 * migrated: one of another schema version, or not an alarm store, is
 * refused naming its file. */
#ifndef ALARM_DB_CHECK_H
#define ALARM_DB_CHECK_H

#include <sqlite3.h>
#include <stddef.h>

#include "err.h"

/* ATTACHes the store at `path` to h as schema "src" (h's main holding this
 * alarm's schema) after checking it is a file, and keeps it attached only
 * when its user_version is this alarm's and it has every table and column
 * of h's main. 0, or -1 with a message naming `path`. */
int db_attach_store(sqlite3 *h, const char *path, alarm_err *e);
void db_detach_store(sqlite3 *h);

/* The first column of a query's first row as an integer; -1 on failure
 * (sqlite3_errmsg says why). */
int db_query_int(sqlite3 *h, const char *sql, int *out);

/* Creates this alarm's schema in an empty database (every migration). */
int db_schema_create(sqlite3 *h, alarm_err *e);

/* Called once per problem found (a line, without the file name). */
typedef void (*db_problem_fn)(void *user, const char *problem);

/* Checks the store at `path`: SQLite's integrity_check and foreign_key_check,
 * every row of a run's table naming a run in runs, and every runs row's
 * status and ended_at agreeing. Reports each problem through fn, counting
 * them in *nproblems. -1 (with e naming the file) when the file cannot be
 * read as a store of this schema at all. */
int db_check(const char *path, db_problem_fn fn, void *user, size_t *nproblems, alarm_err *e);

#endif
