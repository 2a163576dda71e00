/* judge_fail: why an LLM judge's requests failed for good, as a short list
 * of distinct causes, each with the first occurrence's message and a count
 * ("HTTP 401 Unauthorized: Incorrect API key (36 requests)"), and whether a
 * cause stops the run (nothing a retry or a rerun does can fix it: 400, 401,
 * 403, 404, a bad URL) or is transient (retries ran out; a rerun may do). */
#ifndef ALARM_JUDGE_FAIL_H
#define ALARM_JUDGE_FAIL_H

#include <stddef.h>

#include "http.h"

/* Beyond http's HTTP_FAIL_* kinds: a 2xx answer that is no chat completion. */
enum { JUDGE_FAIL_MALFORMED = 100 };

typedef struct {
    int fail;        /* HTTP_FAIL_* or JUDGE_FAIL_MALFORMED */
    long status;     /* HTTP_FAIL_STATUS: the status */
    int fatal;       /* no retry can fix it: the run stops at it */
    int transient;   /* retries ran out: a rerun may succeed */
    long requests;   /* requests that failed so */
    char what[400];  /* the first one's message, without the count */
} judge_cause;

enum { JUDGE_CAUSES = 8 };

typedef struct {
    judge_cause c[JUDGE_CAUSES]; /* in the order first seen */
    size_t n;
    long other;      /* requests whose cause found no room in c */
} judge_causes;

/* Counts failed request r under its cause. `url` names the endpoint in
 * messages about connections; `secret` (the API key, or NULL) is replaced by
 * "***" wherever a server's message repeats it. Returns 1 when the cause is
 * fatal, else 0. */
int judge_causes_add(judge_causes *cs, const http_result *r, const char *url,
                     const char *secret);

/* Counts an answer that is not a chat completion (`why`: the parser's word). */
void judge_causes_add_malformed(judge_causes *cs, const char *why);

/* Whether any cause counted is fatal / transient. */
int judge_causes_fatal(const judge_causes *cs);
int judge_causes_transient(const judge_causes *cs);

/* The message a server put in an error body (OpenAI's error.message, or
 * "message", "detail", "error" as a string, or short plain text) into out
 * (n bytes), one line, at most ~200 bytes, `secret` masked; "" when none. */
void judge_error_message(const char *body, char *out, size_t n, const char *secret);

#endif
