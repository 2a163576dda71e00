/* db_merge: stores merged into one (see db_merge.h). SQLite attaches at
 * most 10 databases and never inside a transaction, so each input in turn
 * is attached and its tables copied into temporary stage tables (one read
 * transaction per input, tagged with the input's number); then one write
 * transaction moves the stage into the output with INSERT ... SELECT, new
 * run ids coming from a map of (input, old id) to the output's id. The
 * tables and columns are read from the output's own schema, so a table a
 * later migration adds is merged too; a column is renumbered when it is a
 * foreign key to runs. */
#include "db_merge.h"

#include <stdlib.h>
#include <string.h>

#include "db_check.h"

typedef struct {
    char *name;
    char *cols;   /* every column, quoted, comma-separated */
    char *insert; /* the stage into the output */
} mtable;

typedef struct {
    mtable *t;
    size_t n;
} mschema;

/* What makes two runs one run (db_merge.h), between output r and stage s. */
#define SAME_RUN                                                                \
    "r.tool = s.tool AND r.version = s.version AND r.argv = s.argv AND "       \
    "r.started_at = s.started_at"

static void schema_free(mschema *m)
{
    for (size_t k = 0; k < m->n; k++) {
        sqlite3_free(m->t[k].name);
        sqlite3_free(m->t[k].cols);
        sqlite3_free(m->t[k].insert);
    }
    free(m->t);
}

/* runs: the stage's runs the output lacks, one per run (a finished copy
 * before a running one), in the order they started. */
static char *runs_insert(const char *cols_no_id)
{
    return sqlite3_mprintf(
        "INSERT INTO main.runs (%s) SELECT %s FROM (SELECT *, row_number() OVER "
        "(PARTITION BY tool, version, argv, started_at ORDER BY status = 'running', src, id) AS k "
        "FROM temp.s_runs) s WHERE k = 1 AND NOT EXISTS (SELECT 1 FROM main.runs r WHERE "
        SAME_RUN ") ORDER BY started_at, src, id",
        cols_no_id, cols_no_id);
}

/* One table's column lists and its statement into the output. */
static int describe(db_store *db, mtable *t, alarm_err *e)
{
    sqlite3_stmt *st;
    if (db_prepare(db, &st,
                   "SELECT c.name, EXISTS (SELECT 1 FROM pragma_foreign_key_list(?1, 'main') f "
                   "WHERE f.\"from\" = c.name AND f.\"table\" = 'runs') "
                   "FROM pragma_table_info(?1, 'main') c ORDER BY c.cid", e) < 0)
        return -1;
    sqlite3_bind_text(st, 1, t->name, -1, SQLITE_STATIC);
    sqlite3_str *all = sqlite3_str_new(db->h), *sel = sqlite3_str_new(db->h);
    sqlite3_str *no_id = sqlite3_str_new(db->h);
    int runs = !strcmp(t->name, "runs"), rc;
    for (int k = 0; (rc = sqlite3_step(st)) == SQLITE_ROW; k++) {
        const char *c = (const char *)sqlite3_column_text(st, 0);
        const char *sep = k ? ", " : "";
        sqlite3_str_appendf(all, "%s\"%w\"", sep, c);
        if (sqlite3_column_int(st, 1))
            sqlite3_str_appendf(sel, "%s(SELECT m.new_id FROM temp.run_map m "
                                     "WHERE m.src = s.src AND m.old_id = s.\"%w\")", sep, c);
        else
            sqlite3_str_appendf(sel, "%ss.\"%w\"", sep, c);
        if (strcmp(c, "id"))
            sqlite3_str_appendf(no_id, "%s\"%w\"", sqlite3_str_length(no_id) ? ", " : "", c);
    }
    sqlite3_finalize(st);
    t->cols = sqlite3_str_finish(all);
    char *s = sqlite3_str_finish(sel), *n = sqlite3_str_finish(no_id);
    if (rc == SQLITE_DONE && t->cols && s && n)
        t->insert = runs ? runs_insert(n)
                         : sqlite3_mprintf("INSERT INTO main.\"%w\" (%s) SELECT %s FROM "
                                           "temp.\"s_%w\" s WHERE true ORDER BY s.rowid "
                                           "ON CONFLICT DO NOTHING",
                                           t->name, t->cols, s, t->name);
    sqlite3_free(s);
    sqlite3_free(n);
    if (rc != SQLITE_DONE)
        return err_set(e, "%s: reading table %s: %s", db->path, t->name, sqlite3_errmsg(db->h));
    return t->insert ? 0 : err_set(e, "out of memory");
}

/* The output's tables, runs first (the others' rows need its new ids), and
 * an empty stage table for each. */
static int read_schema(db_store *db, mschema *m, alarm_err *e)
{
    sqlite3_stmt *st;
    if (db_prepare(db, &st,
                   "SELECT name FROM main.sqlite_master WHERE type = 'table' AND "
                   "name NOT LIKE 'sqlite_%' ORDER BY name != 'runs', rowid", e) < 0)
        return -1;
    int rc = 0;
    while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
        mtable *t = realloc(m->t, (m->n + 1) * sizeof *t);
        if (!t) {
            rc = err_set(e, "out of memory");
            break;
        }
        m->t = t;
        t = &m->t[m->n++];
        *t = (mtable){.name = sqlite3_mprintf("%s", sqlite3_column_text(st, 0))};
        char *sql = NULL;
        rc = !t->name || describe(db, t, e) < 0 ? -1 : 0;
        if (rc == 0 && !(sql = sqlite3_mprintf("CREATE TEMP TABLE \"s_%w\" AS SELECT 0 AS src, %s "
                                               "FROM main.\"%w\" WHERE 0", t->name, t->cols,
                                               t->name)))
            rc = err_set(e, "out of memory");
        if (rc == 0)
            rc = db_exec(db, sql, e);
        sqlite3_free(sql);
    }
    sqlite3_finalize(st);
    if (rc == 0)
        rc = db_exec(db, "CREATE TEMP TABLE run_map (src INTEGER, old_id INTEGER, "
                         "new_id INTEGER, PRIMARY KEY (src, old_id))", e);
    return rc;
}

/* Input number `src`'s tables into the stage, read in one transaction. */
static int stage(db_store *db, const mschema *m, const char *path, int src, alarm_err *e)
{
    if (db_attach_store(db->h, path, e) < 0)
        return -1;
    int rc = db_exec(db, "BEGIN", e), bad = 0;
    for (size_t k = 0; rc == 0 && k < m->n; k++) {
        char *sql = sqlite3_mprintf("INSERT INTO temp.\"s_%w\" SELECT %d, %s FROM src.\"%w\" "
                                    "ORDER BY rowid", m->t[k].name, src, m->t[k].cols,
                                    m->t[k].name);
        rc = sql ? db_exec(db, sql, e) : err_set(e, "out of memory");
        sqlite3_free(sql);
    }
    /* a row of a run the input lacks could not be given a new run id */
    if (rc == 0 && db_query_int(db->h, "SELECT count(*) FROM pragma_foreign_key_check(NULL, 'src')",
                                &bad) < 0)
        rc = err_set(e, "%s", sqlite3_errmsg(db->h));
    if (rc == 0)
        rc = db_exec(db, "COMMIT", e);
    else
        sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
    db_detach_store(db->h);
    if (rc < 0)
        return err_prefix(e, "merging %s", path);
    if (bad)
        return err_set(e, "%s: %d rows refer to runs the store does not hold "
                          "(alarm-db check %s lists them)", path, bad, path);
    return 0;
}

/* The stage into the output: runs, the map of their ids, their finished
 * status where the output had them running, then every other table. */
static int move(db_store *db, const mschema *m, db_merge_stats *st, alarm_err *e)
{
    if (db_exec(db, m->t[0].insert, e) < 0)
        return -1;
    st->runs_added = sqlite3_changes(db->h);
    if (db_exec(db, "INSERT INTO temp.run_map SELECT s.src, s.id, (SELECT min(r.id) FROM "
                    "main.runs r WHERE " SAME_RUN ") FROM temp.s_runs s", e) < 0 ||
        db_exec(db, "UPDATE main.runs AS r SET status = s.status, ended_at = s.ended_at, "
                    "message = s.message FROM temp.s_runs s WHERE " SAME_RUN
                    " AND r.status = 'running' AND s.status != 'running'", e) < 0)
        return -1;
    sqlite3_stmt *q;
    if (db_prepare(db, &q, "SELECT count(DISTINCT new_id) FROM temp.run_map", e) < 0)
        return -1;
    st->runs_known = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int64(q, 0) - st->runs_added : 0;
    sqlite3_finalize(q);
    for (size_t k = 1; k < m->n; k++) {
        if (db_exec(db, m->t[k].insert, e) < 0)
            return -1;
        st->rows_added += sqlite3_changes(db->h);
    }
    return 0;
}

int db_merge(db_store *out, const char *const *in, size_t n, db_merge_stats *st, alarm_err *e)
{
    mschema m = {0};
    *st = (db_merge_stats){0};
    int rc = read_schema(out, &m, e);
    if (rc == 0 && (m.n == 0 || strcmp(m.t[0].name, "runs")))
        rc = err_set(e, "%s: the store has no runs table", out->path);
    for (size_t k = 0; rc == 0 && k < n; k++)
        rc = stage(out, &m, in[k], (int)k, e);
    if (rc == 0 && db_begin(out, e) == 0) {
        rc = move(out, &m, st, e);
        if (rc == 0)
            rc = db_commit(out, e);
        if (rc < 0)
            db_rollback(out);
    } else if (rc == 0) {
        rc = -1;
    }
    /* a later merge on this connection starts from an empty stage */
    for (size_t k = 0; k < m.n; k++) {
        char *sql = sqlite3_mprintf("DROP TABLE IF EXISTS temp.\"s_%w\"", m.t[k].name);
        if (sql)
            sqlite3_exec(out->h, sql, NULL, NULL, NULL);
        sqlite3_free(sql);
    }
    sqlite3_exec(out->h, "DROP TABLE IF EXISTS temp.run_map", NULL, NULL, NULL);
    schema_free(&m);
    return rc;
}
