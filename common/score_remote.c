/* score_remote: a batch of records through the http pool and the cache (see
 * score_remote.h), as alarm-judge's requests go: a cached answer the kind
 * can still read is used without a request, every new answer is queued to
 * the store's writer as it arrives. The pool is made at the first batch
 * and kept, so connections stay open across batches. */
#include "score_remote.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_cache.h"

struct score_remote {
    score_remote_cfg cfg;
    const score_env *env;
    http_opts http;
    http_pool *pool;
    http_cache cache;
    int cached;       /* the cache is open */
    char **bodies;    /* (n,) of the batch */
    char (*keys)[65]; /* (n,) */
    char *auth;       /* "Authorization: Bearer KEY", or NULL */
    size_t keylen;    /* KEY's bytes, at auth + 22 */
    size_t cap;
    const score_in *in;
    score_out *out;
};

int score_remote_new(score_remote **rp, const score_remote_cfg *cfg, const score_spec *spec,
                     const score_env *env, alarm_err *e)
{
    double timeout, backoff;
    long retries;
    if (score_opt_double(spec, "timeout", 60, 0.001, 1e9, &timeout, e) < 0 ||
        score_opt_long(spec, "retries", 5, 0, 100, &retries, e) < 0 ||
        score_opt_double(spec, "backoff", 1, 0, 1e9, &backoff, e) < 0)
        return -1;
    const char *var = score_spec_get(spec, "key-env");
    const char *key = var && env->secret ? env->secret(var) : NULL;
    if (var && (!key || !*key))
        return err_set(e, "scorer %s: key-env=%s: the variable is not set", spec->name, var);
    score_remote *r = calloc(1, sizeof *r);
    if (!r)
        return err_set(e, "out of memory");
    if (key) {
        r->keylen = strlen(key);
        if (!(r->auth = malloc(r->keylen + sizeof "Authorization: Bearer ")))
            return free(r), err_set(e, "out of memory");
        snprintf(r->auth, r->keylen + sizeof "Authorization: Bearer ", "Authorization: Bearer %s",
                 key);
    }
    r->cfg = *cfg;
    r->env = env;
    r->http = (http_opts){.url = cfg->url, .content_type = cfg->content_type,
                          .concurrency = env->concurrency > 0 ? (int)env->concurrency : 1,
                          .timeout_s = timeout, .retries = (int)retries, .backoff_s = backoff,
                          .seed = 42, .auth_header = r->auth};
    *rp = r;
    return 0;
}

/* Replaces each copy of the key in s by "***" (a key shorter than that
 * is too short to hide). */
static void mask(const score_remote *r, char *s)
{
    const char *key = r->auth ? r->auth + sizeof "Authorization: Bearer " - 1 : NULL;
    if (!key || r->keylen < 3)
        return;
    for (char *p = s; (p = strstr(p, key)); p += 3) {
        memmove(p + 3, p + r->keylen, strlen(p + r->keylen) + 1);
        memcpy(p, "***", 3);
    }
}

static int on_done(void *user, size_t i, const http_result *res, alarm_err *e)
{
    score_remote *r = user;
    score_out *o = &r->out[i];
    if (!res->ok) {
        char said[96] = "";
        if (res->status && res->body_len) { /* what the server said, as LanguageTool's errors */
            char *body = strdup(res->body);   /* the key masked before it is cut */
            if (!body)
                return err_set(e, "out of memory");
            mask(r, body);
            score_quote(said, sizeof said, body, strlen(body));
            free(body);
        }
        return score_out_fail(o, "%s: %s after %d attempt%s%s%s%s", r->cfg.url, res->error,
                              res->attempts, res->attempts == 1 ? "" : "s", *said ? " ('" : "",
                              said, *said ? "')" : "");
    }
    if (r->cfg.answer(r->cfg.user, &r->in[i], res->body, res->body_len, o, e) < 0)
        return -1;
    if (o->failed || !r->cached)
        return 0;
    return http_cache_put(&r->cache, r->keys[i], r->cfg.url, r->cfg.kind, r->bodies[i], res->body,
                          res->latency_ms, e);
}

/* Fills out[i] from the cache when an answer is there and still reads;
 * returns 1 then, 0 when the record must be asked. */
static int from_cache(score_remote *r, size_t i, alarm_err *e)
{
    char *hit = NULL;
    int rc = http_cache_get(&r->cache, r->keys[i], &hit, e);
    if (rc <= 0)
        return rc;
    rc = r->cfg.answer(r->cfg.user, &r->in[i], hit, strlen(hit), &r->out[i], e);
    free(hit);
    if (rc < 0)
        return -1;
    if (!r->out[i].failed)
        return 1;
    score_out_reset(&r->out[i]); /* an answer that no longer reads is asked again */
    return 0;
}

static int open_once(score_remote *r, alarm_err *e)
{
    if (!r->pool && http_pool_new(&r->pool, &r->http, e) < 0)
        return -1;
    if (!r->cached && r->env->db && r->env->writer) {
        if (http_cache_open(&r->cache, r->env->db, r->env->writer, e) < 0)
            return -1;
        r->cached = 1;
    }
    return 0;
}

static int ask(score_remote *r, size_t n, alarm_err *e)
{
    size_t queued = 0;
    if (r->cached && http_cache_read_begin(&r->cache, e) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (!(r->bodies[i] = r->cfg.body(r->cfg.user, &r->in[i], e)))
            return -1;
        http_cache_key(r->cfg.url, r->bodies[i], r->keys[i]);
        int hit = r->cached ? from_cache(r, i, e) : 0;
        if (hit < 0)
            return -1;
        if (!hit && http_pool_add(r->pool, i, r->bodies[i], strlen(r->bodies[i]), 0, e) < 0)
            return -1;
        queued += !hit;
    }
    if (r->cached && http_cache_read_end(&r->cache, e) < 0)
        return -1;
    http_callbacks cb = {.done = on_done, .user = r};
    return queued ? http_pool_run(r->pool, &cb, e) : 0;
}

int score_remote_score(score_remote *r, const score_in *in, size_t n, score_out *out,
                       alarm_err *e)
{
    if (open_once(r, e) < 0)
        return -1;
    if (n > r->cap) {
        free(r->bodies);
        free(r->keys);
        r->bodies = calloc(n, sizeof *r->bodies);
        r->keys = calloc(n, sizeof *r->keys);
        r->cap = r->bodies && r->keys ? n : 0;
        if (!r->cap)
            return err_set(e, "out of memory");
    }
    r->in = in;
    r->out = out;
    int rc = ask(r, n, e);
    if (r->cached)
        http_cache_read_end(&r->cache, NULL); /* a read transaction left by a failure */
    for (size_t i = 0; i < n; i++) {
        free(r->bodies[i]);
        r->bodies[i] = NULL;
    }
    return rc;
}

int score_remote_finish(score_remote *r, alarm_err *e)
{
    if (!r->cached)
        return 0;
    r->cached = 0;
    return http_cache_close(&r->cache, e);
}

void score_remote_free(score_remote *r)
{
    if (!r)
        return;
    if (r->cached)
        sqlite3_finalize(r->cache.get); /* the store may be closed: no transaction to end */
    http_pool_free(r->pool);
    if (r->auth) {
        memset(r->auth, 0, r->keylen + 22); /* keep the key out of later heap reuse */
        free(r->auth);
    }
    free(r->bodies);
    free(r->keys);
    free(r);
}
