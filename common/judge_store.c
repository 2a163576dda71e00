/* judge_store: the judge_cache table (see judge_store.h). A read
 * transaction opens on judge_store_read_begin and stays open until
 * judge_store_flush, so a burst of lookups sees one snapshot. */
#include "judge_store.h"

#include <stdlib.h>
#include <string.h>

static const char put_sql[] =
    "INSERT OR REPLACE INTO judge_cache (key, endpoint, model, request, response, "
    "latency_ms, created_at) VALUES (?, ?, ?, ?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))";

int judge_store_open(judge_store *s, db_store *db, alarm_err *e)
{
    memset(s, 0, sizeof *s);
    s->db = db;
    return db_prepare(db, &s->get, "SELECT response FROM judge_cache WHERE key = ?", e);
}

int judge_store_flush(judge_store *s, alarm_err *e)
{
    if (!s->db || !s->db->in_tx)
        return 0;
    return db_commit(s->db, e);
}

int judge_store_close(judge_store *s, alarm_err *e)
{
    int rc = 0;
    if (s->db && s->db->in_tx && judge_store_flush(s, e) < 0) {
        db_rollback(s->db);
        rc = -1;
    }
    sqlite3_finalize(s->get);
    s->get = NULL;
    return rc;
}

int judge_store_read_begin(judge_store *s, alarm_err *e)
{
    if (s->db->in_tx)
        return 0;
    if (db_exec(s->db, "BEGIN", e) < 0)
        return -1;
    s->db->in_tx = 1;
    return 0;
}

int judge_store_get(judge_store *s, const char *key, char **response, alarm_err *e)
{
    *response = NULL;
    if (db_bind_text(s->get, 1, key) != SQLITE_OK)
        return err_set(e, "%s: reading the judge cache: %s", s->db->path, sqlite3_errmsg(s->db->h));
    int rc = sqlite3_step(s->get);
    if (rc == SQLITE_ROW) {
        const char *txt = (const char *)sqlite3_column_text(s->get, 0);
        size_t n = txt ? strlen(txt) + 1 : 1;
        if ((*response = malloc(n)))
            memcpy(*response, txt ? txt : "", n);
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        err_set(e, "%s: reading the judge cache: %s", s->db->path, sqlite3_errmsg(s->db->h));
        sqlite3_reset(s->get);
        return -1;
    }
    sqlite3_reset(s->get);
    if (rc == SQLITE_ROW)
        return *response ? 1 : err_set(e, "out of memory");
    return 0;
}

int judge_store_put(db_writer *w, const char *key, const char *endpoint, const char *model,
                    const char *request, const char *response, double latency_ms,
                    alarm_err *e)
{
    int id;
    if (db_writer_stmt(w, put_sql, &id, e) < 0)
        return -1;
    db_value v[6] = {db_text(key), db_text(endpoint), db_text(model),
                     db_text(request), db_text(response), db_int((int64_t)(latency_ms + 0.5))};
    return db_writer_put(w, id, v, 6, e);
}
