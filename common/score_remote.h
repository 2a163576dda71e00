/* score_remote: what the kinds that ask a server share (http:, languagetool:):
 * a batch's requests through the http pool (concurrency, retries with
 * backoff, Retry-After, timeouts), each answer kept in the store's cache
 * (http_cache) as it arrives, so a rerun of a killed run asks only what was
 * not answered. A kind gives the request body of a record and reads an
 * answer into a score_out; a request that failed for good, or an answer the
 * kind cannot read, fails its record only (never cached).
 * Ownership: the remote borrows env and the kind's user pointer. */
#ifndef ALARM_SCORE_REMOTE_H
#define ALARM_SCORE_REMOTE_H

#include "http.h"
#include "score.h"

typedef struct {
    const char *url;          /* the endpoint, also part of each cache key */
    const char *kind;         /* the kind's name: the cache rows' model */
    const char *content_type; /* of the bodies; NULL: application/json */
    /* The body of record `in` (malloc'd), or NULL after filling e. */
    char *(*body)(void *user, const score_in *in, alarm_err *e);
    /* Reads the answer body[0..n) into o (score_out_fail when it cannot);
     * -1 only when out of memory. */
    int (*answer)(void *user, const score_in *in, const char *body, size_t n, score_out *o,
                  alarm_err *e);
    void *user;
} score_remote_cfg;

typedef struct score_remote score_remote;

/* The options every remote kind takes, for its keys list. */
#define SCORE_REMOTE_KEYS "timeout", "retries", "backoff", "key-env"

/* Reads timeout=, retries=, backoff= and key-env=VAR of the spec: the
 * secret VAR (env->secret) sent as "Authorization: Bearer KEY", masked
 * wherever a server's answer repeats it in a message. */
int score_remote_new(score_remote **r, const score_remote_cfg *cfg, const score_spec *spec,
                     const score_env *env, alarm_err *e);
int score_remote_score(score_remote *r, const score_in *in, size_t n, score_out *out,
                       alarm_err *e);
/* Closes the cache (before the store closes). */
int score_remote_finish(score_remote *r, alarm_err *e);
void score_remote_free(score_remote *r);

#endif
