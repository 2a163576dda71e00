/* Tests for http against a real HTTP server on 127.0.0.1 (the scripted
 * chat server): keep-alive POSTs, 429 with Retry-After, 5xx, timeouts,
 * connection refused and the rate limits, each with the number of requests
 * the server saw; and the pure helpers (backoff, Retry-After, retryability). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "lib/chat_server.h"
#include "http.h"

typedef struct {
    int calls;
    int ok[64];
    long status[64];
    int attempts[64];
    int fail[64], retryable[64];
    char error[64][128];
    char body[64][512];
} results;

static int on_done(void *user, size_t tag, const http_result *r, alarm_err *e)
{
    (void)e;
    results *res = user;
    res->calls++;
    res->ok[tag] = r->ok;
    res->status[tag] = r->status;
    res->attempts[tag] = r->attempts;
    res->fail[tag] = r->fail;
    res->retryable[tag] = r->retryable;
    snprintf(res->error[tag], sizeof res->error[tag], "%s", r->error ? r->error : "");
    snprintf(res->body[tag], sizeof res->body[tag], "%s", r->body);
    return 0;
}

/* A chat request whose user message is `user`. */
static char *chat_body(const char *user)
{
    char *b = malloc(512);
    snprintf(b, 512, "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"%s\"}]}", user);
    return b;
}

/* Sends one request per user message in `users` and returns the wall time. */
static double run_bodies(const http_opts *o, const char *const *users, int n, results *res)
{
    http_pool *p;
    alarm_err e;
    char *bodies[64];
    memset(res, 0, sizeof *res);
    assert_int_equal(http_pool_new(&p, o, &e), 0);
    for (int i = 0; i < n; i++) {
        bodies[i] = chat_body(users[i]);
        assert_int_equal(http_pool_add(p, (size_t)i, bodies[i], strlen(bodies[i]), 10, &e), 0);
    }
    double t0 = clock_mono();
    http_callbacks cb = {.done = on_done, .user = res};
    assert_int_equal(http_pool_run(p, &cb, &e), 0);
    double dt = clock_mono() - t0;
    http_pool_free(p);
    for (int i = 0; i < n; i++)
        free(bodies[i]);
    assert_int_equal(res->calls, n);
    return dt;
}

static http_opts opts(const chat_server *s)
{
    return (http_opts){.url = s->url, .concurrency = 4, .timeout_s = 5, .retries = 3,
                       .backoff_s = 0.01, .seed = 1};
}

static void answers_every_request_once(void **state)
{
    (void)state;
    chat_server s;
    assert_int_equal(chat_server_start(&s, NULL), 0);
    const char *users[20];
    char buf[20][32];
    for (int i = 0; i < 20; i++) {
        snprintf(buf[i], sizeof buf[i], "q=%d q=%d", i, 10);
        users[i] = buf[i];
    }
    http_opts o = opts(&s);
    results res;
    run_bodies(&o, users, 20, &res);
    for (int i = 0; i < 20; i++) {
        assert_true(res.ok[i]);
        assert_int_equal(res.status[i], 200);
        assert_int_equal(res.attempts[i], 1);
        assert_non_null(strstr(res.body[i], i < 10 ? "Output (b)" : "Output (a)"));
    }
    assert_int_equal(chat_server_requests(&s), 20);
    chat_server_stop(&s);
}

static void honours_retry_after_and_retries_5xx(void **state)
{
    (void)state;
    chat_server s;
    assert_int_equal(chat_server_start(&s, NULL), 0);
    const char *users[3] = {"FLAKY429 q=1 q=2", "FLAKY500 q=1 q=2", "q=1 q=2"};
    http_opts o = opts(&s);
    results res;
    double dt = run_bodies(&o, users, 3, &res);
    for (int i = 0; i < 3; i++)
        assert_true(res.ok[i]);
    assert_int_equal(res.attempts[0], 2);
    assert_int_equal(res.attempts[1], 2);
    assert_int_equal(res.attempts[2], 1);
    assert_true(dt >= 1.0); /* Retry-After: 1 was honoured */
    assert_int_equal(chat_server_requests(&s), 5);
    chat_server_stop(&s);
}

static void honours_retry_after_ms(void **state)
{
    (void)state;
    chat_server s;
    assert_int_equal(chat_server_start(&s, NULL), 0);
    const char *users[1] = {"FLAKYMS429 q=1 q=2"};
    http_opts o = opts(&s);
    o.backoff_s = 5; /* the header, not the backoff, must decide the wait */
    results res;
    double dt = run_bodies(&o, users, 1, &res);
    assert_true(res.ok[0]);
    assert_int_equal(res.attempts[0], 2);
    assert_true(dt >= 0.6 && dt < 2.5);
    assert_int_equal(chat_server_requests(&s), 2);
    chat_server_stop(&s);
}

static void gives_up_after_the_retries(void **state)
{
    (void)state;
    chat_server s;
    assert_int_equal(chat_server_start(&s, NULL), 0);
    const char *users[2] = {"FAIL500 q=1 q=2", "q=1 q=2"};
    http_opts o = opts(&s);
    o.retries = 2;
    results res;
    run_bodies(&o, users, 2, &res);
    assert_false(res.ok[0]);
    assert_int_equal(res.status[0], 500);
    assert_int_equal(res.attempts[0], 3);
    assert_string_equal(res.error[0], "HTTP 500 Internal Server Error");
    assert_true(res.retryable[0]);
    assert_true(res.ok[1]);
    assert_int_equal(chat_server_requests(&s), 4);
    chat_server_stop(&s);
}

static void retries_a_timeout(void **state)
{
    (void)state;
    chat_server s;
    const char *args[] = {"--slow-ms", "3000", NULL};
    assert_int_equal(chat_server_start(&s, args), 0);
    const char *users[2] = {"SLOWONCE q=1 q=2", "q=2 q=1"};
    http_opts o = opts(&s);
    o.timeout_s = 0.4;
    results res;
    double dt = run_bodies(&o, users, 2, &res);
    assert_true(res.ok[0]);
    assert_int_equal(res.attempts[0], 2);
    assert_int_equal(res.attempts[1], 1);
    assert_true(dt >= 0.4 && dt < 2.9); /* the slow answer (3 s) was not awaited */
    assert_int_equal(chat_server_requests(&s), 3);
    chat_server_stop(&s);
}

static void refused_connections_fail_after_retries(void **state)
{
    (void)state;
    int port = chat_server_closed_port();
    assert_true(port > 0);
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/chat/completions", port);
    http_opts o = {.url = url, .concurrency = 2, .timeout_s = 2, .retries = 2, .backoff_s = 0.01};
    const char *users[2] = {"q=1 q=2", "q=2 q=1"};
    results res;
    run_bodies(&o, users, 2, &res);
    for (int i = 0; i < 2; i++) {
        assert_false(res.ok[i]);
        assert_int_equal(res.status[i], 0);
        assert_int_equal(res.attempts[i], 3);
        assert_int_equal(res.fail[i], HTTP_FAIL_CONNECT);
        assert_true(res.retryable[i]);
        assert_string_equal(res.error[i], "connection refused");
    }
}

static void client_errors_are_not_retried(void **state)
{
    (void)state;
    chat_server s;
    const char *args[] = {"--key", "right-key", NULL};
    assert_int_equal(chat_server_start(&s, args), 0);
    http_opts o = opts(&s);
    o.auth_header = "Authorization: Bearer wrong-key";
    const char *users[1] = {"q=1 q=2"};
    results res;
    run_bodies(&o, users, 1, &res);
    assert_false(res.ok[0]);
    assert_int_equal(res.status[0], 401);
    assert_int_equal(res.attempts[0], 1);
    assert_int_equal(res.fail[0], HTTP_FAIL_STATUS);
    assert_false(res.retryable[0]);
    assert_string_equal(res.error[0], "HTTP 401 Unauthorized");
    o.auth_header = "Authorization: Bearer right-key";
    run_bodies(&o, users, 1, &res);
    assert_true(res.ok[0]);
    assert_int_equal(chat_server_requests(&s), 2);
    chat_server_stop(&s);
}

static void requests_per_minute_are_limited(void **state)
{
    (void)state;
    chat_server s;
    assert_int_equal(chat_server_start(&s, NULL), 0);
    const char *users[40];
    for (int i = 0; i < 40; i++)
        users[i] = "q=1 q=2";
    http_opts o = opts(&s);
    o.concurrency = 8;
    o.rpm = 2400; /* 40/s with a burst of 40: the first 40 pass at once */
    results res;
    double fast = run_bodies(&o, users, 40, &res);
    o.rpm = 1200; /* 20/s, burst 20: 20 more take about a second */
    double slow = run_bodies(&o, users, 40, &res);
    assert_true(slow >= 0.9);
    assert_true(fast < slow);
    o.rpm = 0;
    o.tpm = 12000; /* 200 tokens/s, each request costs 10: 20/s, burst 20 */
    double tok = run_bodies(&o, users, 40, &res);
    assert_true(tok >= 0.9);
    assert_int_equal(chat_server_requests(&s), 120);
    chat_server_stop(&s);
}

static void long_bodies_go_without_waiting_for_100_continue(void **state)
{
    (void)state;
    chat_server s;
    assert_int_equal(chat_server_start(&s, NULL), 0);
    char *users[4];
    for (int i = 0; i < 4; i++) {
        users[i] = malloc(400);
        memset(users[i], 'x', 399);
        users[i][399] = '\0';
        memcpy(users[i], "q=1 q=2 ", 8);
    }
    /* chat_body keeps 512 bytes: build 8 KB bodies here instead (libcurl asks
     * for 100-continue above a size that depends on its version). */
    http_opts o = opts(&s);
    http_pool *p;
    alarm_err e;
    char *bodies[4];
    results res;
    memset(&res, 0, sizeof res);
    assert_int_equal(http_pool_new(&p, &o, &e), 0);
    for (int i = 0; i < 4; i++) {
        bodies[i] = malloc(9000);
        int n = snprintf(bodies[i], 9000, "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"%s", users[i]);
        while (n < 8000)
            n += snprintf(bodies[i] + n, 9000 - (size_t)n, "%s", "yyyyyyyyyyyyyyyyyyyy");
        snprintf(bodies[i] + n, 9000 - (size_t)n, "\"}]}");
        assert_int_equal(http_pool_add(p, (size_t)i, bodies[i], strlen(bodies[i]), 10, &e), 0);
    }
    double t0 = clock_mono();
    http_callbacks cb = {.done = on_done, .user = &res};
    assert_int_equal(http_pool_run(p, &cb, &e), 0);
    assert_true(clock_mono() - t0 < 0.9); /* a 100-continue wait costs 1 s per request */
    for (int i = 0; i < 4; i++) {
        assert_true(res.ok[i]);
        free(bodies[i]);
        free(users[i]);
    }
    http_pool_free(p);
    chat_server_stop(&s);
}

static void helpers(void **state)
{
    (void)state;
    assert_true(fabs(http_retry_after("7", 0) - 7) < 1e-9);
    assert_true(fabs(http_retry_after(" 1.5\r\n", 0) - 1.5) < 1e-9);
    assert_true(http_retry_after("soon", 0) < 0);
    /* An HTTP date 30 s after "now". */
    double now = 1700000000;
    time_t t = (time_t)now + 30;
    char date[64];
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", gmtime(&t));
    assert_true(fabs(http_retry_after(date, now) - 30) < 1e-9);
    assert_true(fabs(http_backoff(1, 1, 0.0) - 0.5) < 1e-9);
    assert_true(fabs(http_backoff(1, 3, 0.999999) - 4) < 1e-4);
    assert_true(http_backoff(1, 20, 0.99) <= 60);
    assert_true(http_retryable(CURLE_OK, 429));
    assert_true(http_retryable(CURLE_OK, 503));
    assert_false(http_retryable(CURLE_OK, 400));
    assert_false(http_retryable(CURLE_OK, 200));
    assert_true(http_retryable(CURLE_OPERATION_TIMEDOUT, 0));
    assert_true(http_retryable(CURLE_COULDNT_CONNECT, 0));
    assert_false(http_retryable(CURLE_UNSUPPORTED_PROTOCOL, 0));
}

static int count_ok(void *user, size_t tag, const http_result *r, alarm_err *e)
{
    (void)tag, (void)e;
    int *n = user;
    n[0] += r->ok && r->attempts == 2;
    n[1]++;
    return 0;
}

/* More jobs than the first allocation, more than that waiting to be retried
 * at once: the job and retry lists grow (grow_array) and keep every job. */
static void many_jobs_many_retries(void **state)
{
    (void)state;
    enum { N = 150 };
    chat_server s;
    assert_int_equal(chat_server_start(&s, NULL), 0);
    http_opts o = opts(&s);
    o.concurrency = N;
    o.backoff_s = 0.2;
    http_pool *p;
    alarm_err e;
    char *bodies[N];
    assert_int_equal(http_pool_new(&p, &o, &e), 0);
    for (int i = 0; i < N; i++) {
        char user[64];
        snprintf(user, sizeof user, "FLAKY500 q=%d q=1", i);
        bodies[i] = chat_body(user);
        assert_int_equal(http_pool_add(p, (size_t)i, bodies[i], strlen(bodies[i]), 1, &e), 0);
    }
    int n[2] = {0, 0};
    http_callbacks cb = {.done = count_ok, .user = n};
    assert_int_equal(http_pool_run(p, &cb, &e), 0);
    assert_int_equal(n[1], N);
    assert_int_equal(n[0], N);
    assert_int_equal(http_pool_stats(p)->retries, N);
    http_pool_free(p);
    for (int i = 0; i < N; i++)
        free(bodies[i]);
    assert_int_equal(chat_server_requests(&s), 2 * N);
    chat_server_stop(&s);
}

typedef struct {
    http_pool *p;
    int done;
    long sent_at_stop; /* attempts started when the pool was stopped */
} stopper;

static int stop_at_first(void *user, size_t tag, const http_result *r, alarm_err *e)
{
    (void)tag, (void)r, (void)e;
    stopper *st = user;
    if (!st->done++)
        st->sent_at_stop = http_pool_stats(st->p)->sent;
    http_pool_stop(st->p);
    return 0;
}

static int feed_never(void *user, alarm_err *e)
{
    (void)user, (void)e;
    fail_msg("a stopped pool asked for more requests");
    return -1;
}

/* http_pool_stop from the first answer: the requests in flight finish, none
 * other starts (fresh or retry), the feed is not asked, and the run ends. */
static void a_stopped_pool_starts_nothing_more(void **state)
{
    (void)state;
    enum { N = 40 };
    chat_server s;
    const char *args[] = {"--delay-ms", "50", NULL};
    assert_int_equal(chat_server_start(&s, args), 0);
    http_opts o = opts(&s);
    o.concurrency = 2;
    alarm_err e;
    stopper st = {0};
    assert_int_equal(http_pool_new(&st.p, &o, &e), 0);
    char *bodies[N];
    for (int i = 0; i < N; i++) {
        bodies[i] = chat_body(i % 2 ? "q=1 q=2" : "FAIL500 q=1 q=2");
        assert_int_equal(http_pool_add(st.p, (size_t)i, bodies[i], strlen(bodies[i]), 1, &e), 0);
    }
    http_callbacks cb = {.done = stop_at_first, .feed = feed_never, .user = &st};
    assert_int_equal(http_pool_run(st.p, &cb, &e), 0);
    assert_true(st.done >= 1 && st.done <= 2);
    /* nothing started after the stop: the two first requests, and at most a
       retry of the failing one if it came back before the other finished
       (a loaded machine, a sanitizer build) */
    long sent = http_pool_stats(st.p)->sent;
    assert_int_equal(sent, st.sent_at_stop);
    assert_true(sent <= 3);
    http_pool_free(st.p);
    for (int i = 0; i < N; i++)
        free(bodies[i]);
    assert_true(chat_server_requests(&s) <= sent);
    chat_server_stop(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(helpers),
        cmocka_unit_test(answers_every_request_once),
        cmocka_unit_test(honours_retry_after_and_retries_5xx),
        cmocka_unit_test(honours_retry_after_ms),
        cmocka_unit_test(gives_up_after_the_retries),
        cmocka_unit_test(retries_a_timeout),
        cmocka_unit_test(refused_connections_fail_after_retries),
        cmocka_unit_test(client_errors_are_not_retried),
        cmocka_unit_test(requests_per_minute_are_limited),
        cmocka_unit_test(long_bodies_go_without_waiting_for_100_continue),
        cmocka_unit_test(many_jobs_many_retries),
        cmocka_unit_test(a_stopped_pool_starts_nothing_more),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
