/* db_check: another store attached beside one's own (merging, checking),
 * and the check of a store: SQLite's own checks, then alarm's invariants
 * (alarm-formats(5) section 8). The store checked is attached to an
 * in-memory database holding this alarm's schema, the reference its tables
 * are compared with; nothing is ever written to it. */
#include "db_check.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "db.h"

extern const char *const db_migrations[];
extern const size_t db_migration_count;

int db_schema_create(sqlite3 *h, alarm_err *e)
{
    for (size_t k = 0; k < db_migration_count; k++)
        if (sqlite3_exec(h, db_migrations[k], NULL, NULL, NULL) != SQLITE_OK)
            return err_set(e, "creating the schema: %s", sqlite3_errmsg(h));
    return 0;
}

int db_query_int(sqlite3 *h, const char *sql, int *out)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    int rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : -1;
}

/* A table or column of this alarm's schema that src lacks. */
static const char missing_sql[] =
    "SELECT m.name, c.name FROM main.sqlite_master m, pragma_table_info(m.name, 'main') c "
    "WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' EXCEPT "
    "SELECT m.name, c.name FROM src.sqlite_master m, pragma_table_info(m.name, 'src') c "
    "WHERE m.type = 'table' LIMIT 1";

static int verify(sqlite3 *h, const char *path, alarm_err *e)
{
    int v, ntables;
    if (db_query_int(h, "PRAGMA src.user_version", &v) < 0 ||
        db_query_int(h, "SELECT count(*) FROM src.sqlite_master", &ntables) < 0)
        return err_set(e, "%s: not an alarm store: %s", path, sqlite3_errmsg(h));
    if (v == 0)
        return err_set(e, "%s: not an alarm store: user_version 0 and %s", path,
                       ntables ? "tables of another program" : "no tables");
    if (v != db_schema_version())
        return err_set(e, "%s: store has schema version %d, not this alarm's %d", path, v,
                       db_schema_version());
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(h, missing_sql, -1, &st, NULL) != SQLITE_OK)
        return err_set(e, "%s: reading the schema: %s", path, sqlite3_errmsg(h));
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        err_set(e, "%s: not an alarm store of schema version %d: no column %s.%s", path, v,
                (const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1));
    else if (rc != SQLITE_DONE)
        err_set(e, "%s: reading the schema: %s", path, sqlite3_errmsg(h));
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int db_attach_store(sqlite3 *h, const char *path, alarm_err *e)
{
    struct stat sb;
    /* ATTACH would create a missing file */
    if (stat(path, &sb) != 0)
        return err_set(e, "%s: %s", path, strerror(errno));
    if (!S_ISREG(sb.st_mode))
        return err_set(e, "%s: not a regular file", path);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(h, "ATTACH ? AS src", -1, &st, NULL) != SQLITE_OK)
        return err_set(e, "%s: %s", path, sqlite3_errmsg(h));
    sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return err_set(e, "%s: cannot open: %s", path, sqlite3_errmsg(h));
    if (verify(h, path, e) < 0) {
        db_detach_store(h);
        return -1;
    }
    return 0;
}

void db_detach_store(sqlite3 *h) { sqlite3_exec(h, "DETACH src", NULL, NULL, NULL); }

typedef struct {
    db_problem_fn fn;
    void *user;
    size_t n;
    const char *skip;   /* a row that means "no problem" */
    const char *prefix; /* in front of each line */
} problems;

static void say(problems *p, const char *line)
{
    p->fn(p->user, line);
    p->n++;
}

/* A row may hold several lines (integrity_check's does): a problem each,
 * without the line that names the attached schema. */
static int one(void *u, int ncol, char **val, char **name)
{
    problems *p = u;
    (void)name;
    if (ncol < 1 || !val[0] || (p->skip && !strcmp(val[0], p->skip)))
        return 0;
    for (const char *l = val[0]; *l;) {
        size_t n = strcspn(l, "\n");
        char line[768];
        snprintf(line, sizeof line, "%s%.*s", p->prefix, (int)n, l);
        if (strncmp(l, "*** in database", 15))
            say(p, line);
        l += n + (l[n] == '\n');
    }
    return 0;
}

/* Every row of sql is a problem; a query that fails (a corrupt page) is one. */
static void ask(sqlite3 *h, problems *p, const char *what, const char *sql, const char *skip)
{
    p->skip = skip;
    p->prefix = skip ? "integrity: " : "";
    if (!sql || sqlite3_exec(h, sql, one, p, NULL) != SQLITE_OK) {
        char line[512];
        snprintf(line, sizeof line, "%s: %s", what, sql ? sqlite3_errmsg(h) : "out of memory");
        say(p, line);
    }
}

/* Rows naming a run that runs lacks, for every column that refers to runs:
 * section 8's "every table of a run's records carries run_id", said in
 * alarm's terms (foreign_key_check finds them too, by rowid). */
static void check_orphans(sqlite3 *h, problems *p)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(h,
                           "SELECT m.name, f.\"from\" FROM src.sqlite_master m, "
                           "pragma_foreign_key_list(m.name, 'src') f "
                           "WHERE m.type = 'table' AND f.\"table\" = 'runs'",
                           -1, &st, NULL) != SQLITE_OK) {
        ask(h, p, "references to runs", NULL, NULL);
        return;
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        const char *c = (const char *)sqlite3_column_text(st, 1);
        char *sql = sqlite3_mprintf(
            "SELECT format('%%s: %%d %%s whose %%s names no run (%%s)', %Q, count(*), "
            "iif(count(*) = 1, 'row', 'rows'), %Q, "
            "iif(min(\"%w\") = max(\"%w\"), min(\"%w\"), min(\"%w\") || ' to ' || max(\"%w\"))) "
            "FROM src.\"%w\" WHERE \"%w\" NOT IN (SELECT id FROM src.runs) HAVING count(*) > 0",
            t, c, c, c, c, c, c, t, c);
        ask(h, p, "references to runs", sql, NULL);
        sqlite3_free(sql);
    }
    sqlite3_finalize(st);
}

int db_check(const char *path, db_problem_fn fn, void *user, size_t *nproblems, alarm_err *e)
{
    sqlite3 *h;
    *nproblems = 0;
    if (sqlite3_open_v2(":memory:", &h, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        sqlite3_close(h);
        return err_set(e, "%s: cannot open an in-memory database", path);
    }
    if (db_schema_create(h, e) < 0 || db_attach_store(h, path, e) < 0) {
        sqlite3_close(h);
        return -1;
    }
    problems p = {.fn = fn, .user = user};
    ask(h, &p, "integrity_check", "PRAGMA src.integrity_check", "ok");
    ask(h, &p, "foreign_key_check",
        "SELECT format('%s: %d rows refer to %s rows that do not exist (rowid %d first)', "
        "\"table\", count(*), parent, min(rowid)) FROM pragma_foreign_key_check(NULL, 'src') "
        "WHERE parent != 'runs' GROUP BY \"table\", parent", NULL);
    check_orphans(h, &p);
    ask(h, &p, "runs",
        "SELECT format('runs: run %d has status %Q, not running, ok or failed', id, status) "
        "FROM src.runs WHERE status IS NULL OR status NOT IN ('running', 'ok', 'failed')", NULL);
    ask(h, &p, "runs",
        "SELECT format('runs: run %d is %s but has %s', id, status, "
        "iif(ended_at IS NULL, 'no ended_at', 'an ended_at')) FROM src.runs "
        "WHERE (status IN ('ok', 'failed') AND ended_at IS NULL) "
        "OR (status = 'running' AND ended_at IS NOT NULL)", NULL);
    *nproblems = p.n;
    db_detach_store(h);
    sqlite3_close(h);
    return 0;
}
