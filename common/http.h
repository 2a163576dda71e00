/* http: many POSTs (JSON unless told otherwise) to one endpoint through libcurl's multi interface,
 * with a bound on requests in flight, requests-per-minute and tokens-per-minute
 * limits, and retries with exponential backoff and jitter on timeouts,
 * connection errors, 429 and 5xx (honouring Retry-After and retry-after-ms). Single-threaded:
 * the caller's callbacks run inside http_pool_run, between transfers.
 * Ownership: the pool copies nothing it is given; a request body must stay
 * valid until its done callback, the header strings until http_pool_run
 * returns. Response bodies
 * passed to callbacks belong to the pool and are valid during the call only. */
#ifndef ALARM_HTTP_H
#define ALARM_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

typedef struct {
    const char *url;          /* full URL of every request */
    const char *auth_header;  /* e.g. "Authorization: Bearer ...", or NULL; never logged */
    const char *content_type; /* of the bodies; NULL: application/json */
    int concurrency;          /* requests in flight at most (>= 1) */
    double rpm;               /* requests per minute, 0 = unlimited */
    double tpm;               /* estimated tokens per minute, 0 = unlimited */
    double timeout_s;         /* whole-transfer timeout of one attempt */
    int retries;              /* attempts after the first */
    double backoff_s;         /* first backoff; doubles per retry, capped at 60 s */
    uint64_t seed;            /* for the jitter */
    double tick_s;            /* the tick callback's longest silence, 0 = 0.2 s */
} http_opts;

/* What ended a request that failed for good. */
enum {
    HTTP_FAIL_NONE,      /* it did not fail */
    HTTP_FAIL_STATUS,    /* an answer with a status other than 2xx */
    HTTP_FAIL_CONNECT,   /* no connection (refused, unreachable) */
    HTTP_FAIL_RESOLVE,   /* the host name did not resolve */
    HTTP_FAIL_TIMEOUT,   /* no full answer within the timeout */
    HTTP_FAIL_TRANSPORT, /* anything else below HTTP (TLS, a bad URL, a cut answer) */
};

/* Outcome of one request, after its last attempt. */
typedef struct {
    int ok;                  /* 1: a 2xx answer arrived; 0: failed for good */
    int fail;                /* HTTP_FAIL_*: what ended it, when !ok */
    int retryable;           /* !ok: the failure was one retries are for (they ran out) */
    long status;             /* last HTTP status, 0 when none arrived */
    const char *body;        /* last response body ('\0'-terminated), may be "" */
    size_t body_len;
    int attempts;            /* 1 + retries used */
    double latency_ms;       /* duration of the last attempt */
    const char *error;       /* why it failed, when !ok: "HTTP 401 Unauthorized",
                              * "connection refused", libcurl's message */
    int os_errno;            /* the system's error of a failed connection, or 0 */
} http_result;

/* Called once per request when it is done (answered or failed for good);
 * `tag` is the caller's. Returning -1 (after filling e) stops the run. */
typedef int (*http_done_fn)(void *user, size_t tag, const http_result *res, alarm_err *e);
/* Called after each batch of completions and at least every tick_s (progress,
 * commits); may be NULL. Returning -1 stops the run. */
typedef int (*http_tick_fn)(void *user, alarm_err *e);

/* Called when few queued requests are left to start, so the caller can
 * queue more (http_pool_add) while earlier ones are in flight: requests are
 * built as the pool needs them, not all before the first is sent. Returns 1
 * while more may come, 0 when there will be no more, -1 to stop the run. */
typedef int (*http_feed_fn)(void *user, alarm_err *e);

typedef struct {
    http_done_fn done;
    http_tick_fn tick; /* may be NULL */
    http_feed_fn feed; /* may be NULL: everything was queued before the run */
    void *user;
} http_callbacks;

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

/* Runs until every request is done and the feed (if any) has no more. */
int http_pool_run(http_pool *p, const http_callbacks *cb, alarm_err *e);

/* From a callback: start nothing more (no new request, no retry, no feed);
 * http_pool_run returns 0 once the requests in flight are done. Requests
 * never started get no done callback. */
void http_pool_stop(http_pool *p);

const http_stats *http_pool_stats(const http_pool *p);

/* Parses a Retry-After value (seconds or an HTTP date); -1 when unusable. */
double http_retry_after(const char *value, double now_epoch);

/* The backoff before retry number `attempt` (1-based): base * 2^(attempt-1),
 * capped at 60 s, scaled by a jitter factor u in [0, 1) to [0.5, 1.0) of it. */
double http_backoff(double base, int attempt, double u);

/* Whether an attempt that ended with curl code `curl_rc` and HTTP status
 * `status` is worth retrying. */
int http_retryable(int curl_rc, long status);

/* The reason phrase of an HTTP status ("Unauthorized"), "" when unknown. */
const char *http_status_reason(long status);

#endif
