/* http: concurrent JSON POSTs with rate limits and retries (see http.h).
 * Assumes libcurl >= 7.66 (curl_multi_poll). One easy handle per slot is kept
 * for the whole run so connections are reused (keep-alive). Times are taken
 * from clock_mono, except Retry-After dates, which are wall-clock. */
#include "http.h"

#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "clock.h"
#include "grow.h"
#include "rng.h"

typedef struct {
    size_t tag;
    const char *body;
    size_t len;
    double tokens;
    int attempts;
    double ready_at; /* monotonic time before which a retry must not start */
} http_job;

typedef struct {
    CURL *easy;
    size_t job;
    int busy;
    char *buf;
    size_t len, cap;
    char retry_after[64];    /* Retry-After: seconds or an HTTP date */
    char retry_after_ms[32]; /* retry-after-ms (Azure OpenAI and others) */
    char errbuf[CURL_ERROR_SIZE];
    double started;
} http_slot;

/* A token bucket: `level` refills at `rate` per second up to `cap`. */
typedef struct {
    double rate, cap, level, last;
} http_bucket;

struct http_pool {
    http_opts o;
    CURLM *multi;
    struct curl_slist *headers;
    http_job *jobs;
    size_t njobs, capjobs, next_fresh, ndone;
    size_t *delayed; /* jobs waiting to be retried: room for every job */
    size_t ndelayed, capdelayed;
    http_slot *slots;
    http_bucket req, tok;
    double pause_until; /* after a Retry-After, nothing new starts before this */
    int stopping;       /* http_pool_stop: nothing new starts at all */
    uint64_t rng;
    http_stats stats;
};

double http_backoff(double base, int attempt, double u)
{
    double d = base * pow(2.0, attempt - 1);
    if (d > 60.0)
        d = 60.0;
    return d * (0.5 + 0.5 * u);
}

double http_retry_after(const char *value, double now_epoch)
{
    while (*value == ' ' || *value == '\t')
        value++;
    char *end;
    double s = strtod(value, &end);
    if (end != value) {
        while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
            end++;
        return *end == '\0' && s >= 0 && isfinite(s) ? s : -1;
    }
    time_t t = curl_getdate(value, NULL);
    if (t == (time_t)-1)
        return -1;
    double d = (double)t - now_epoch;
    return d > 0 ? d : 0;
}

const char *http_status_reason(long status)
{
    switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 402: return "Payment Required";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "";
    }
}

int http_retryable(int curl_rc, long status)
{
    switch (curl_rc) {
    case CURLE_OK:
        return status == 408 || status == 429 || (status >= 500 && status <= 599);
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
        return 1;
    default:
        return 0;
    }
}

static void bucket_init(http_bucket *b, double per_minute, double now)
{
    b->rate = per_minute / 60.0;
    /* One second's worth of burst: enough to keep a pipeline full without
     * front-loading a whole minute's quota into the first instant. */
    b->cap = b->rate > 1.0 ? b->rate : 1.0;
    b->level = b->cap;
    b->last = now;
}

/* Takes n from the bucket when it can; a cost above the capacity passes
 * when the bucket is full, so one large request never blocks forever. */
static int bucket_take(http_bucket *b, double n, double now)
{
    if (b->rate <= 0)
        return 1;
    b->level += (now - b->last) * b->rate;
    if (b->level > b->cap)
        b->level = b->cap;
    b->last = now;
    if (b->level >= n || (n > b->cap && b->level >= b->cap)) {
        b->level -= n;
        return 1;
    }
    return 0;
}

static size_t on_body(char *data, size_t size, size_t n, void *user)
{
    http_slot *s = user;
    size_t add = size * n;
    if (grow_array(&s->buf, &s->cap, s->len + add + 1, 1, 4096, NULL) < 0)
        return 0; /* makes curl fail the transfer with a write error */
    memcpy(s->buf + s->len, data, add);
    s->len += add;
    s->buf[s->len] = '\0';
    return add;
}

/* Copies the value of header `name` (lower case, with the colon) when the
 * line is that header. */
static void header_value(const char *line, size_t len, const char *name, char *out, size_t cap)
{
    size_t n = strlen(name);
    if (len <= n || strncasecmp(line, name, n) != 0)
        return;
    size_t v = len - n < cap ? len - n : cap - 1;
    memcpy(out, line + n, v);
    out[v] = '\0';
}

static size_t on_header(char *data, size_t size, size_t n, void *user)
{
    http_slot *s = user;
    size_t len = size * n;
    header_value(data, len, "retry-after:", s->retry_after, sizeof s->retry_after);
    header_value(data, len, "retry-after-ms:", s->retry_after_ms, sizeof s->retry_after_ms);
    return len;
}

int http_pool_new(http_pool **out, const http_opts *o, alarm_err *e)
{
    *out = NULL;
    if (o->concurrency < 1 || o->timeout_s <= 0 || o->retries < 0)
        return err_set(e, "http: bad options");
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
        return err_set(e, "http: cannot initialise libcurl");
    http_pool *p = calloc(1, sizeof *p);
    if (!p)
        return err_set(e, "http: out of memory");
    p->o = *o;
    p->rng = o->seed ^ 0x5DEECE66Dull;
    p->multi = curl_multi_init();
    p->slots = calloc((size_t)o->concurrency, sizeof *p->slots);
    char ctype[160];
    snprintf(ctype, sizeof ctype, "Content-Type: %s",
             o->content_type ? o->content_type : "application/json");
    p->headers = curl_slist_append(NULL, ctype);
    /* No "Expect: 100-continue" on long bodies: a server or proxy that never
     * answers it would cost every request libcurl's one-second wait. */
    struct curl_slist *nx = p->headers ? curl_slist_append(p->headers, "Expect:") : NULL;
    if (!nx) {
        curl_slist_free_all(p->headers);
        p->headers = NULL;
    } else
        p->headers = nx;
    if (p->headers && o->auth_header) {
        struct curl_slist *h = curl_slist_append(p->headers, o->auth_header);
        if (!h) {
            curl_slist_free_all(p->headers);
            p->headers = NULL;
        } else
            p->headers = h;
    }
    if (!p->multi || !p->slots || !p->headers)
        goto oom;
    /* One connection per slot; no pipelining, so slots never queue behind each other. */
    curl_multi_setopt(p->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)o->concurrency);
    curl_multi_setopt(p->multi, CURLMOPT_MAXCONNECTS, (long)o->concurrency);
    curl_multi_setopt(p->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_NOTHING);
    long timeout_ms = (long)(o->timeout_s * 1000.0);
    for (int i = 0; i < o->concurrency; i++) {
        http_slot *s = &p->slots[i];
        if (!(s->easy = curl_easy_init()))
            goto oom;
        curl_easy_setopt(s->easy, CURLOPT_URL, o->url);
        curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, p->headers);
        curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(s->easy, CURLOPT_WRITEDATA, s);
        curl_easy_setopt(s->easy, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(s->easy, CURLOPT_HEADERDATA, s);
        curl_easy_setopt(s->easy, CURLOPT_ERRORBUFFER, s->errbuf);
        curl_easy_setopt(s->easy, CURLOPT_TIMEOUT_MS, timeout_ms);
        curl_easy_setopt(s->easy, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms < 10000 ? timeout_ms : 10000L);
        curl_easy_setopt(s->easy, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(s->easy, CURLOPT_USERAGENT, "alarm-judge/" ALARM_VERSION);
        curl_easy_setopt(s->easy, CURLOPT_PRIVATE, s);
    }
    double now = clock_mono();
    bucket_init(&p->req, o->rpm, now);
    bucket_init(&p->tok, o->tpm, now);
    *out = p;
    return 0;
oom:
    http_pool_free(p);
    return err_set(e, "http: out of memory");
}

void http_pool_free(http_pool *p)
{
    if (!p)
        return;
    for (int i = 0; p->slots && i < p->o.concurrency; i++) {
        http_slot *s = &p->slots[i];
        if (s->easy) {
            if (s->busy)
                curl_multi_remove_handle(p->multi, s->easy);
            curl_easy_cleanup(s->easy);
        }
        free(s->buf);
    }
    if (p->multi)
        curl_multi_cleanup(p->multi);
    curl_slist_free_all(p->headers);
    free(p->slots);
    free(p->jobs);
    free(p->delayed);
    free(p);
    curl_global_cleanup();
}

int http_pool_add(http_pool *p, size_t tag, const char *body, size_t len, double tokens,
                  alarm_err *e)
{
    if (grow_array(&p->jobs, &p->capjobs, p->njobs + 1, sizeof *p->jobs, 64, e) < 0 ||
        grow_array(&p->delayed, &p->capdelayed, p->njobs + 1, sizeof *p->delayed, 64, e) < 0)
        return err_set(e, "http: out of memory");
    p->jobs[p->njobs++] = (http_job){tag, body, len, tokens, 0, 0};
    return 0;
}

const http_stats *http_pool_stats(const http_pool *p) { return &p->stats; }

void http_pool_stop(http_pool *p) { p->stopping = 1; }

static int any_busy(const http_pool *p)
{
    for (int i = 0; i < p->o.concurrency; i++)
        if (p->slots[i].busy)
            return 1;
    return 0;
}

/* The next job allowed to start now: a due retry first, then a fresh one.
 * Returns the job index, or -1. The job is removed from its list only when
 * the rate limits let it start. */
static long next_job(http_pool *p, double now)
{
    if (p->stopping || now < p->pause_until)
        return -1;
    size_t k = p->ndelayed;
    for (size_t i = 0; i < p->ndelayed; i++)
        if (p->jobs[p->delayed[i]].ready_at <= now) {
            k = i;
            break;
        }
    size_t j;
    if (k < p->ndelayed)
        j = p->delayed[k];
    else if (p->next_fresh < p->njobs)
        j = p->next_fresh;
    else
        return -1;
    if (!bucket_take(&p->req, 1, now))
        return -1;
    if (!bucket_take(&p->tok, p->jobs[j].tokens, now)) {
        p->req.level += 1; /* give the request back: nothing started */
        return -1;
    }
    if (k < p->ndelayed)
        p->delayed[k] = p->delayed[--p->ndelayed];
    else
        p->next_fresh++;
    return (long)j;
}

static int start_ready(http_pool *p, double now, alarm_err *e)
{
    for (int i = 0; i < p->o.concurrency; i++) {
        http_slot *s = &p->slots[i];
        if (s->busy)
            continue;
        long j = next_job(p, now);
        if (j < 0)
            return 0;
        http_job *job = &p->jobs[j];
        s->job = (size_t)j;
        s->len = 0;
        if (s->buf)
            s->buf[0] = '\0';
        s->retry_after[0] = s->retry_after_ms[0] = '\0';
        s->errbuf[0] = '\0';
        s->started = now;
        curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, job->body);
        curl_easy_setopt(s->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)job->len);
        if (curl_multi_add_handle(p->multi, s->easy) != CURLM_OK)
            return err_set(e, "http: cannot start a transfer");
        s->busy = 1;
        job->attempts++;
        p->stats.sent++;
        if (job->attempts > 1)
            p->stats.retries++;
    }
    return 0;
}

/* Fills r's failure fields (what, whether retries were meant for it, a
 * message in why) for an attempt that ended with rc and r->status. */
static void describe_failure(http_result *r, http_slot *s, CURLcode rc, char *why, size_t n)
{
    r->retryable = http_retryable((int)rc, r->status);
    r->error = why;
    if (rc == CURLE_OK) {
        const char *reason = http_status_reason(r->status);
        r->fail = HTTP_FAIL_STATUS;
        snprintf(why, n, "HTTP %ld%s%s", r->status, *reason ? " " : "", reason);
        return;
    }
    const char *curl_msg = s->errbuf[0] ? s->errbuf : curl_easy_strerror(rc);
    long os = 0;
    curl_easy_getinfo(s->easy, CURLINFO_OS_ERRNO, &os);
    r->os_errno = (int)os;
    if (rc == CURLE_COULDNT_CONNECT) {
        r->fail = HTTP_FAIL_CONNECT;
        if (os == ECONNREFUSED)
            snprintf(why, n, "connection refused");
        else
            snprintf(why, n, "cannot connect: %s", os ? strerror((int)os) : curl_msg);
    } else if (rc == CURLE_COULDNT_RESOLVE_HOST) {
        r->fail = HTTP_FAIL_RESOLVE;
        snprintf(why, n, "cannot resolve the host name");
    } else if (rc == CURLE_OPERATION_TIMEDOUT) {
        r->fail = HTTP_FAIL_TIMEOUT;
        snprintf(why, n, "timed out: %s", curl_msg);
    } else {
        r->fail = HTTP_FAIL_TRANSPORT;
        snprintf(why, n, "%s", curl_msg);
    }
}

/* Handles a finished attempt: schedules a retry, or reports the request. */
static int finish(http_pool *p, http_slot *s, CURLcode rc, const http_callbacks *cb,
                  alarm_err *e)
{
    double now = clock_mono();
    long status = 0;
    curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_multi_remove_handle(p->multi, s->easy);
    s->busy = 0;
    http_job *job = &p->jobs[s->job];
    if (http_retryable((int)rc, status) && job->attempts <= p->o.retries) {
        double wait = http_backoff(p->o.backoff_s, job->attempts, rng_unit(&p->rng));
        double ra = -1;
        if (s->retry_after_ms[0] && (ra = http_retry_after(s->retry_after_ms, 0)) >= 0)
            ra /= 1000.0;
        else if (s->retry_after[0])
            ra = http_retry_after(s->retry_after, (double)time(NULL));
        if (ra >= 0) {
            /* The server said when: wait that long (plus a little jitter so
             * the slots do not all come back in the same instant). */
            wait = ra + 0.05 * rng_unit(&p->rng);
            if (now + ra > p->pause_until)
                p->pause_until = now + ra;
        }
        job->ready_at = now + wait;
        p->delayed[p->ndelayed++] = s->job;
        return 0;
    }
    char why[CURL_ERROR_SIZE + 64];
    http_result r = {0};
    r.status = status;
    r.body = s->buf ? s->buf : "";
    r.body_len = s->len;
    r.attempts = job->attempts;
    r.latency_ms = (now - s->started) * 1000.0;
    r.ok = rc == CURLE_OK && status >= 200 && status < 300;
    if (!r.ok) {
        describe_failure(&r, s, rc, why, sizeof why);
        p->stats.failed++;
    } else
        p->stats.ok++;
    p->ndone++;
    return cb->done(cb->user, job->tag, &r, e);
}

/* Asks the feed for more when fewer than a pool's worth of fresh requests
 * wait, so the slots never run dry while requests are still being built. */
static int top_up(http_pool *p, const http_callbacks *cb, int *fed_all, alarm_err *e)
{
    while (!*fed_all && !p->stopping && p->njobs - p->next_fresh < (size_t)p->o.concurrency) {
        int r = cb->feed(cb->user, e);
        if (r < 0)
            return -1;
        *fed_all = r == 0;
    }
    return 0;
}

int http_pool_run(http_pool *p, const http_callbacks *cb, alarm_err *e)
{
    double last_tick = clock_mono();
    double tick_s = p->o.tick_s > 0 ? p->o.tick_s : 0.2;
    int idle_ms = (int)(tick_s * 1000.0) > 0 ? (int)(tick_s * 1000.0) : 1;
    int fed_all = cb->feed == NULL;
    for (;;) {
        if (top_up(p, cb, &fed_all, e) < 0)
            return -1;
        if ((fed_all && p->ndone == p->njobs) || (p->stopping && !any_busy(p)))
            break;
        if (start_ready(p, clock_mono(), e) < 0)
            return -1;
        int running;
        if (curl_multi_perform(p->multi, &running) != CURLM_OK)
            return err_set(e, "http: transfer loop failed");
        CURLMsg *m;
        int left, finished = 0;
        while ((m = curl_multi_info_read(p->multi, &left))) {
            if (m->msg != CURLMSG_DONE)
                continue;
            http_slot *s;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&s);
            if (finish(p, s, m->data.result, cb, e) < 0)
                return -1;
            finished++;
        }
        if (finished) {
            /* Refill the freed slots before the tick, whose work (commits)
             * then overlaps with requests in flight instead of delaying them. */
            if (top_up(p, cb, &fed_all, e) < 0 || start_ready(p, clock_mono(), e) < 0)
                return -1;
            if (curl_multi_perform(p->multi, &running) != CURLM_OK)
                return err_set(e, "http: transfer loop failed");
        }
        double now = clock_mono();
        if (cb->tick && (finished || now - last_tick >= tick_s)) {
            if (cb->tick(cb->user, e) < 0)
                return -1;
            last_tick = now;
        }
        if (finished)
            continue; /* free slots: start more before waiting */
        /* Wake up soon when something waits on the clock (a retry, a rate
         * limit); otherwise socket activity wakes us. */
        int waiting = p->ndelayed > 0 || (p->next_fresh < p->njobs && running < p->o.concurrency);
        if (curl_multi_poll(p->multi, NULL, 0, waiting && idle_ms > 5 ? 5 : idle_ms, NULL) !=
            CURLM_OK)
            return err_set(e, "http: waiting for transfers failed");
    }
    return cb->tick ? cb->tick(cb->user, e) : 0;
}
