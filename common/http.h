/* http: many JSON POSTs to one endpoint through libcurl's multi interface,
 * with a bound on requests in flight, requests-per-minute and tokens-per-minute
 * limits, and retries with exponential backoff and jitter on timeouts,
 * connection errors, 429 and 5xx (honouring Retry-After). Single-threaded:
 * the caller's callbacks run inside http_pool_run, between transfers.
 * Ownership: the pool copies nothing it is given; request bodies and the
 * header strings must stay valid until http_pool_run returns. Response bodies
 * passed to callbacks belong to the pool and are valid during the call only. */
#ifndef ALARM_HTTP_H
#define ALARM_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

typedef struct {
    const char *url;          /* full URL of every request */
    const char *auth_header;  /* e.g. "Authorization: Bearer ...", or NULL; never logged */
    int concurrency;          /* requests in flight at most (>= 1) */
    double rpm;               /* requests per minute, 0 = unlimited */
    double tpm;               /* estimated tokens per minute, 0 = unlimited */
    double timeout_s;         /* whole-transfer timeout of one attempt */
    int retries;              /* attempts after the first */
    double backoff_s;         /* first backoff; doubles per retry, capped at 60 s */
    uint64_t seed;            /* for the jitter */
} http_opts;

/* Outcome of one request, after its last attempt. */
typedef struct {
    int ok;                  /* 1: a 2xx answer arrived; 0: failed for good */
    long status;             /* last HTTP status, 0 when none arrived */
    const char *body;        /* last response body ('\0'-terminated), may be "" */
    size_t body_len;
    int attempts;            /* 1 + retries used */
    double latency_ms;       /* duration of the last attempt */
    const char *error;       /* why it failed, when !ok */
} http_result;

/* Called once per request when it is done (answered or failed for good);
 * `tag` is the caller's. Returning -1 (after filling e) stops the run. */
typedef int (*http_done_fn)(void *user, size_t tag, const http_result *res, alarm_err *e);
/* Called after each batch of completions and about every 200 ms (progress,
 * commits); may be NULL. Returning -1 stops the run. */
typedef int (*http_tick_fn)(void *user, alarm_err *e);

typedef struct {
    long sent;        /* attempts started */
    long retries;     /* attempts that were retries */
    long ok, failed;  /* requests finished either way */
} http_stats;

typedef struct http_pool http_pool;

int http_pool_new(http_pool **p, const http_opts *o, alarm_err *e);
void http_pool_free(http_pool *p);

/* Queues one POST of `body` (JSON, length len); `tokens` is its estimated
 * token cost for the tokens-per-minute limit. */
int http_pool_add(http_pool *p, size_t tag, const char *body, size_t len, double tokens,
                  alarm_err *e);

/* Runs until every queued request is done. */
int http_pool_run(http_pool *p, http_done_fn done, http_tick_fn tick, void *user, alarm_err *e);

const http_stats *http_pool_stats(const http_pool *p);

/* Parses a Retry-After value (seconds or an HTTP date); -1 when unusable. */
double http_retry_after(const char *value, double now_epoch);

/* The backoff before retry number `attempt` (1-based): base * 2^(attempt-1),
 * capped at 60 s, scaled by a jitter factor u in [0, 1) to [0.5, 1.0) of it. */
double http_backoff(double base, int attempt, double u);

/* Whether an attempt that ended with curl code `curl_rc` and HTTP status
 * `status` is worth retrying. */
int http_retryable(int curl_rc, long status);

#endif
