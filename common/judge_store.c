/* judge_store: prepared statements over judge_cache and judgments (see
 * judge_store.h). A transaction opens on the first write and stays open
 * until judge_store_flush, so a burst of answers costs one commit. */
#include "judge_store.h"

#include <stdlib.h>
#include <string.h>

static int fail(judge_store *s, alarm_err *e, const char *what)
{
    return err_set(e, "%s: %s: %s", s->db->path, what, sqlite3_errmsg(s->db->h));
}

int judge_store_open(judge_store *s, db_store *db, int64_t run_id, alarm_err *e)
{
    memset(s, 0, sizeof *s);
    s->db = db;
    s->run_id = run_id;
    if (db_prepare(db, &s->get, "SELECT response FROM judge_cache WHERE key = ?", e) < 0 ||
        db_prepare(db, &s->put,
                   "INSERT OR REPLACE INTO judge_cache (key, endpoint, model, request, response, "
                   "latency_ms, created_at) VALUES (?, ?, ?, ?, ?, ?, "
                   "strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
                   e) < 0 ||
        db_prepare(db, &s->judgment,
                   "INSERT OR REPLACE INTO judgments (run_id, judge, prompt_id, a, b, ord, "
                   "verdict, cached, latency_ms, cache_key, value_a, value_b, error) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   e) < 0) {
        judge_store_close(s, NULL);
        return -1;
    }
    return 0;
}

int judge_store_flush(judge_store *s, alarm_err *e)
{
    if (!s->db->in_tx)
        return 0;
    s->pending = 0;
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
    sqlite3_finalize(s->put);
    sqlite3_finalize(s->judgment);
    s->get = s->put = s->judgment = NULL;
    return rc;
}

static int begin(judge_store *s, alarm_err *e)
{
    if (!s->db->in_tx && db_begin(s->db, e) < 0)
        return -1;
    s->pending++;
    return 0;
}

int judge_store_get(judge_store *s, const char *key, char **response, alarm_err *e)
{
    *response = NULL;
    sqlite3_bind_text(s->get, 1, key, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(s->get);
    if (rc == SQLITE_ROW) {
        const char *txt = (const char *)sqlite3_column_text(s->get, 0);
        size_t n = txt ? strlen(txt) + 1 : 1;
        if ((*response = malloc(n)))
            memcpy(*response, txt ? txt : "", n);
    }
    sqlite3_reset(s->get);
    if (rc == SQLITE_ROW)
        return *response ? 1 : err_set(e, "out of memory");
    return rc == SQLITE_DONE ? 0 : fail(s, e, "reading the judge cache");
}

int judge_store_put(judge_store *s, const char *key, const char *endpoint, const char *model,
                    const char *request, const char *response, double latency_ms,
                    alarm_err *e)
{
    if (begin(s, e) < 0)
        return -1;
    db_bind_text(s->put, 1, key);
    db_bind_text(s->put, 2, endpoint);
    db_bind_text(s->put, 3, model);
    db_bind_text(s->put, 4, request);
    db_bind_text(s->put, 5, response);
    sqlite3_bind_int64(s->put, 6, (sqlite3_int64)(latency_ms + 0.5));
    return db_step_done(s->db, s->put, e);
}

int judge_store_judgment(judge_store *s, const judge_rec *r, alarm_err *e)
{
    if (begin(s, e) < 0)
        return -1;
    sqlite3_stmt *st = s->judgment;
    sqlite3_bind_int64(st, 1, s->run_id);
    db_bind_text(st, 2, r->judge);
    db_bind_text(st, 3, r->prompt_id);
    db_bind_text(st, 4, r->a);
    db_bind_text(st, 5, r->b);
    db_bind_text(st, 6, r->order);
    db_bind_text(st, 7, judge_verdict_name(r->verdict));
    sqlite3_bind_int(st, 8, r->cached);
    if (r->latency_ms >= 0)
        sqlite3_bind_int64(st, 9, (sqlite3_int64)(r->latency_ms + 0.5));
    else
        sqlite3_bind_null(st, 9);
    db_bind_text(st, 10, r->cache_key);
    if (r->has_values) {
        sqlite3_bind_double(st, 11, r->value_a);
        sqlite3_bind_double(st, 12, r->value_b);
    } else {
        sqlite3_bind_null(st, 11);
        sqlite3_bind_null(st, 12);
    }
    db_bind_text(st, 13, r->error);
    return db_step_done(s->db, st, e);
}
