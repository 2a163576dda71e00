/* http_cache: answers of HTTP requests kept in the store, so a rerun (or
 * another tool asking the same) sends nothing twice. An answer is keyed by
 * http_cache_key: the SHA-256 of the endpoint and the request body, which
 * holds the model, the messages and every parameter, never the API key.
 * Lookups run on the caller's connection, grouped in read transactions that
 * never block the writer; new answers are queued to a db_writer, which
 * commits them on its own thread as they arrive. The table is judge_cache
 * (alarm-formats(5) section 8; it kept the name of its first user). */
#ifndef ALARM_HTTP_CACHE_H
#define ALARM_HTTP_CACHE_H

#include "db.h"
#include "db_writer.h"

typedef struct {
    db_store *db;      /* lookups */
    db_writer *writer; /* new answers; NULL: lookups only */
    sqlite3_stmt *get;
    int put_id;        /* the writer's INSERT */
} http_cache;

/* Lower-case hex SHA-256 of (endpoint, body). */
void http_cache_key(const char *endpoint, const char *body, char out[65]);

int http_cache_open(http_cache *c, db_store *db, db_writer *writer, alarm_err *e);
/* Ends a read transaction left open and finalizes the statement. */
int http_cache_close(http_cache *c, alarm_err *e);

/* Looks `key` up: returns 1 with *response (malloc'd) set, 0 when absent. */
int http_cache_get(http_cache *c, const char *key, char **response, alarm_err *e);

/* Queues an answer: `request` is the body sent, `response` the body
 * answered, `model` what the request asked for. */
int http_cache_put(http_cache *c, const char *key, const char *endpoint, const char *model,
                   const char *request, const char *response, double latency_ms, alarm_err *e);

/* Opens a read transaction for a burst of lookups, if none is open;
 * http_cache_read_end ends it. */
int http_cache_read_begin(http_cache *c, alarm_err *e);
int http_cache_read_end(http_cache *c, alarm_err *e);

#endif
