/* db: opening, migrating and writing the SQLite store (see db.h). */
#include "db.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

extern const char *const db_migrations[];
extern const size_t db_migration_count;

enum { DB_BUSY_TIMEOUT_MS = 30000 };

int db_schema_version(void) { return (int)db_migration_count; }

static int fail(db_store *db, alarm_err *e, const char *what)
{
    return err_set(e, "%s: %s: %s", db->path, what, db->h ? sqlite3_errmsg(db->h) : "no handle");
}

int db_exec(db_store *db, const char *sql, alarm_err *e)
{
    char *msg = NULL;
    if (sqlite3_exec(db->h, sql, NULL, NULL, &msg) != SQLITE_OK) {
        err_set(e, "%s: %s", db->path, msg ? msg : sqlite3_errmsg(db->h));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

int db_prepare(db_store *db, sqlite3_stmt **st, const char *sql, alarm_err *e)
{
    if (sqlite3_prepare_v2(db->h, sql, -1, st, NULL) != SQLITE_OK)
        return fail(db, e, "preparing a statement");
    return 0;
}

int db_step_done(db_store *db, sqlite3_stmt *st, alarm_err *e)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        return fail(db, e, "writing");
    return 0;
}

static int user_version(db_store *db, int *v, alarm_err *e)
{
    sqlite3_stmt *st;
    if (db_prepare(db, &st, "PRAGMA user_version", e) < 0)
        return -1;
    int rc = sqlite3_step(st);
    *v = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : fail(db, e, "reading the schema version");
}

/* Whether the store holds tables of its own (a database of another program
 * has user_version 0 too, like a new file). */
static int has_tables(db_store *db, int *n, alarm_err *e)
{
    sqlite3_stmt *st;
    if (db_prepare(db, &st, "SELECT count(*) FROM sqlite_master", e) < 0)
        return -1;
    int rc = sqlite3_step(st);
    *n = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : fail(db, e, "reading the schema");
}

/* Runs every migration the store lacks, in one write transaction taken
 * before user_version is read: two tools creating a new store at once then
 * take turns (the second waits, then finds the schema made). */
static int migrate(db_store *db, alarm_err *e)
{
    int v, ntables;
    if (db_begin(db, e) < 0)
        return -1;
    if (user_version(db, &v, e) < 0 || has_tables(db, &ntables, e) < 0)
        goto fail;
    if (v == 0 && ntables > 0) {
        err_set(e, "%s: not an alarm store: it has tables and user_version 0", db->path);
        goto fail;
    }
    if (v > db_schema_version()) {
        err_set(e, "%s: store has schema version %d, newer than this alarm's %d", db->path, v,
                db_schema_version());
        goto fail;
    }
    for (; v < db_schema_version(); v++) {
        char pragma[64];
        snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", v + 1);
        if (db_exec(db, db_migrations[v], e) < 0 || db_exec(db, pragma, e) < 0)
            goto fail;
    }
    return db_commit(db, e);
fail:
    db_rollback(db);
    return -1;
}

/* Switches the store to WAL (a no-op once it is). The switch takes an
 * exclusive lock, and SQLite answers SQLITE_BUSY at once, without waiting,
 * when another connection is making the same switch: so wait here, as long
 * as the busy timeout, for the other to finish. */
static int use_wal(db_store *db, alarm_err *e)
{
    for (int waited_ms = 0;; waited_ms += 10) {
        sqlite3_stmt *st;
        if (db_prepare(db, &st, "PRAGMA journal_mode = WAL", e) < 0)
            return -1;
        int rc = sqlite3_step(st);
        const char *mode = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
        int wal = mode && strcmp(mode, "wal") == 0;
        sqlite3_finalize(st);
        if (wal)
            return 0;
        if (rc == SQLITE_ROW)
            return err_set(e, "%s: cannot use write-ahead logging (journal mode %s)", db->path,
                           mode ? mode : "unknown");
        if (rc != SQLITE_BUSY || waited_ms >= DB_BUSY_TIMEOUT_MS)
            return fail(db, e, "switching to write-ahead logging");
        sqlite3_sleep(10);
    }
}

/* A directory, or a file in a directory that does not exist, is named as
 * such rather than as SQLite's "unable to open database file". */
static int check_path(const char *path, alarm_err *e)
{
    struct stat sb;
    if (stat(path, &sb) == 0)
        return S_ISDIR(sb.st_mode) ? err_set(e, "%s: is a directory, not a store", path) : 0;
    const char *slash = strrchr(path, '/');
    if (!slash)
        return 0;
    char dir[4096];
    size_t n = slash == path ? 1 : (size_t)(slash - path);
    if (n >= sizeof dir)
        return 0;
    memcpy(dir, path, n);
    dir[n] = '\0';
    if (stat(dir, &sb) != 0)
        return err_set(e, "%s: cannot create the store: directory %s does not exist", path, dir);
    if (!S_ISDIR(sb.st_mode))
        return err_set(e, "%s: cannot create the store: %s is not a directory", path, dir);
    return 0;
}

int db_open(db_store *db, const char *path, alarm_err *e)
{
    memset(db, 0, sizeof *db);
    db->path = path;
    if (check_path(path, e) < 0)
        return -1;
    if (sqlite3_open_v2(path, &db->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        fail(db, e, "cannot open store");
        db_close(db);
        return -1;
    }
    sqlite3_busy_timeout(db->h, DB_BUSY_TIMEOUT_MS);
    /* cell_size_check: a page whose cells do not fit it is SQLITE_CORRUPT when
     * read, not written into (a store with corrupt pages failed nothing). */
    if (use_wal(db, e) < 0 ||
        db_exec(db, "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; "
                    "PRAGMA cell_size_check = ON;", e) < 0 ||
        migrate(db, e) < 0) {
        db_close(db);
        return -1;
    }
    return 0;
}

void db_close(db_store *db)
{
    db_batch_drop(db);
    /* close_v2: a tool may end its run before the statements it prepared on
     * this connection are finalized; the connection goes with the last one. */
    if (db->h)
        sqlite3_close_v2(db->h);
    db->h = NULL;
}

int db_begin(db_store *db, alarm_err *e)
{
    if (db_exec(db, "BEGIN IMMEDIATE", e) < 0)
        return -1;
    db->in_tx = 1;
    return 0;
}

int db_commit(db_store *db, alarm_err *e)
{
    if (db_exec(db, "COMMIT", e) < 0)
        return -1;
    db->in_tx = 0;
    return 0;
}

void db_rollback(db_store *db)
{
    if (db->h && !sqlite3_get_autocommit(db->h))
        sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
    db->in_tx = 0;
}

int db_bind_text(sqlite3_stmt *st, int i, const char *s)
{
    return s ? sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, i);
}

int db_run_start(db_store *db, const char *tool, const char *argv_json, int64_t *run_id,
                 alarm_err *e)
{
    sqlite3_stmt *st;
    if (db_prepare(db, &st,
                   "INSERT INTO runs (tool, version, argv, started_at, status) VALUES "
                   "(?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 'running')",
                   e) < 0)
        return -1;
    db_bind_text(st, 1, tool);
    db_bind_text(st, 2, ALARM_VERSION);
    db_bind_text(st, 3, argv_json ? argv_json : "[]");
    int rc = db_step_done(db, st, e);
    sqlite3_finalize(st);
    if (rc < 0)
        return -1;
    *run_id = sqlite3_last_insert_rowid(db->h);
    return 0;
}

int db_run_finish(db_store *db, int64_t run_id, const char *status, const char *message,
                  alarm_err *e)
{
    sqlite3_stmt *st;
    if (db_prepare(db, &st,
                   "UPDATE runs SET status = ?, message = ?, "
                   "ended_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?",
                   e) < 0)
        return -1;
    db_bind_text(st, 1, status);
    db_bind_text(st, 2, message);
    sqlite3_bind_int64(st, 3, run_id);
    int rc = db_step_done(db, st, e);
    sqlite3_finalize(st);
    return rc;
}
