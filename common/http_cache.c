/* http_cache: the judge_cache table as a response cache (see http_cache.h).
 * A read transaction opens on http_cache_read_begin and stays open until
 * http_cache_read_end, so a burst of lookups sees one snapshot. */
#include "http_cache.h"

#include <stdlib.h>
#include <string.h>

#include "sha256.h"

static const char put_sql[] =
    "INSERT OR REPLACE INTO judge_cache (key, endpoint, model, request, response, "
    "latency_ms, created_at) VALUES (?, ?, ?, ?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))";

void http_cache_key(const char *endpoint, const char *body, char out[65])
{
    sha256_ctx c;
    sha256_init(&c);
    sha256_update(&c, endpoint, strlen(endpoint) + 1); /* the NUL separates the parts */
    sha256_update(&c, body, strlen(body));
    sha256_hex(&c, out);
}

int http_cache_open(http_cache *c, db_store *db, db_writer *writer, alarm_err *e)
{
    memset(c, 0, sizeof *c);
    c->db = db;
    c->writer = writer;
    c->put_id = -1;
    if (db_prepare(db, &c->get, "SELECT response FROM judge_cache WHERE key = ?", e) < 0 ||
        (writer && db_writer_stmt(writer, put_sql, &c->put_id, e) < 0)) {
        http_cache_close(c, NULL);
        return -1;
    }
    return 0;
}

int http_cache_read_end(http_cache *c, alarm_err *e)
{
    if (!c->db || !c->db->in_tx)
        return 0;
    if (db_commit(c->db, e) < 0) {
        db_rollback(c->db);
        return -1;
    }
    return 0;
}

int http_cache_close(http_cache *c, alarm_err *e)
{
    int rc = http_cache_read_end(c, e);
    sqlite3_finalize(c->get);
    c->get = NULL;
    return rc;
}

int http_cache_read_begin(http_cache *c, alarm_err *e)
{
    if (c->db->in_tx)
        return 0;
    if (db_exec(c->db, "BEGIN", e) < 0)
        return -1;
    c->db->in_tx = 1;
    return 0;
}

static int read_fail(http_cache *c, alarm_err *e)
{
    err_set(e, "%s: reading the response cache: %s", c->db->path, sqlite3_errmsg(c->db->h));
    sqlite3_reset(c->get);
    return -1;
}

int http_cache_get(http_cache *c, const char *key, char **response, alarm_err *e)
{
    *response = NULL;
    if (db_bind_text(c->get, 1, key) != SQLITE_OK)
        return read_fail(c, e);
    int rc = sqlite3_step(c->get);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return read_fail(c, e);
    if (rc == SQLITE_ROW) {
        const char *txt = (const char *)sqlite3_column_text(c->get, 0);
        size_t n = txt ? strlen(txt) + 1 : 1;
        if ((*response = malloc(n)))
            memcpy(*response, txt ? txt : "", n);
    }
    sqlite3_reset(c->get);
    if (rc == SQLITE_ROW)
        return *response ? 1 : err_set(e, "out of memory");
    return 0;
}

int http_cache_put(http_cache *c, const char *key, const char *endpoint, const char *model,
                   const char *request, const char *response, double latency_ms, alarm_err *e)
{
    if (!c->writer)
        return 0;
    db_value v[6] = {db_text(key),     db_text(endpoint), db_text(model),
                     db_text(request), db_text(response), db_int((int64_t)(latency_ms + 0.5))};
    return db_writer_put(c->writer, c->put_id, v, 6, e);
}
