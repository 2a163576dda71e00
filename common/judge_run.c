/* judge_run: the judging loops (see judge_run.h). An LLM run builds its
 * requests as the http pool asks for more, settling on the way what needs no
 * request (identical responses, cached answers, a question already asked);
 * every answer goes to the store's writer thread as it arrives, so a killed
 * run loses at most the requests in flight and the answers of the commit
 * under way. Verdicts are combined per pair only at the end. */
#include "judge_run.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "jsonl.h"
#include "judge_cost.h"

typedef struct {
    size_t i, j, p; /* systems i < j, prompt p */
    int ord;        /* 0: i shown as Output (a); 1: j shown as Output (a) */
    char *body;
    char key[65];
    int verdict;
    int asked;      /* its request went out and is done */
    int settled;    /* it has its verdict (recorded) */
    int pos;        /* then: the Output the judge named (JV_A, JV_B, ...) */
    long next_same; /* the next task asking exactly the same, or -1 */
} llm_task;

typedef struct {
    const judge_set *set;
    const judge_llm_cfg *cfg;
    judge_tally *t;
    judge_progress *st;
    llm_task *tasks;
    http_pool *pool;
    size_t *keys;   /* open-addressing table of asked tasks by key (index + 1) */
    size_t nkeys;   /* its size, a power of two */
    size_t next, n; /* the next task to prepare, and how many there are */
    double t0;
    double last_report;
} llm_run;

static const char judgment_sql[] =
    "INSERT OR REPLACE INTO judgments (run_id, judge, prompt_id, a, b, ord, verdict, cached, "
    "latency_ms, cache_key, value_a, value_b, error) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

/* Queues the judgments row of r (alarm-formats(5) section 8). */
static int put_judgment(db_writer *w, int64_t run_id, const judge_rec *r, alarm_err *e)
{
    int id;
    if (db_writer_stmt(w, judgment_sql, &id, e) < 0)
        return -1;
    db_value v[13] = {
        db_int(run_id), db_text(r->judge), db_text(r->prompt_id), db_text(r->a),
        db_text(r->b), db_text(r->order), db_text(judge_verdict_name(r->verdict)),
        db_int(r->cached),
        r->latency_ms >= 0 ? db_int((int64_t)(r->latency_ms + 0.5)) : db_null(),
        db_text(r->cache_key),
        r->has_values ? db_real(r->value_a) : db_null(),
        r->has_values ? db_real(r->value_b) : db_null(),
        db_text(r->error),
    };
    return db_writer_put(w, id, v, 13, e);
}

static int emit(FILE *out, db_writer *writer, int64_t run_id, const judge_rec *r, alarm_err *e)
{
    if (out) {
        cJSON *o = judge_rec_json(r);
        if (!o)
            return err_set(e, "out of memory");
        int rc = jsonl_write(out, o, e);
        cJSON_Delete(o);
        if (rc < 0)
            return -1;
    }
    return writer ? put_judgment(writer, run_id, r, e) : 0;
}

/* A position verdict (which Output the judge named) as a system verdict. */
static int system_verdict(int pos, int ord)
{
    if (ord == 0 || (pos != JV_A && pos != JV_B))
        return pos;
    return pos == JV_A ? JV_B : JV_A;
}

static int record(llm_run *run, llm_task *k, int cached, double latency_ms, const char *error,
                  alarm_err *e)
{
    const judge_set *set = run->set;
    k->settled = 1;
    if (run->cfg->dry_run)
        return 0;
    judge_rec r = {0};
    r.prompt_id = judge_set_get(set, 0, k->p)->prompt_id;
    r.a = set->sys[k->i].name;
    r.b = set->sys[k->j].name;
    r.order = k->ord ? "ba" : "ab";
    r.judge = run->cfg->model;
    r.verdict = k->verdict;
    r.cached = cached;
    r.latency_ms = latency_ms;
    r.error = error;
    r.cache_key = k->key[0] && k->verdict != JV_FAILED ? k->key : NULL;
    if (k->verdict == JV_FAILED)
        run->st->failed++;
    else if (k->verdict == JV_UNPARSEABLE)
        run->st->unparseable++;
    run->st->done++;
    return emit(run->cfg->out, run->cfg->writer, run->cfg->run_id, &r, e);
}

static int on_done(void *user, size_t tag, const http_result *res, alarm_err *e)
{
    llm_run *run = user;
    llm_task *k = &run->tasks[tag];
    const judge_llm_cfg *cfg = run->cfg;
    char why[1200];
    const char *error = NULL;
    int pos = JV_UNPARSEABLE;
    if (!res->ok) {
        snprintf(why, sizeof why, "%s after %d attempt%s", res->error, res->attempts,
                 res->attempts == 1 ? "" : "s");
        error = why;
        k->verdict = JV_FAILED;
        if (judge_causes_add(&run->st->causes, res, cfg->shown_url ? cfg->shown_url : cfg->endpoint,
                             cfg->secret)) {
            run->st->stopped = 1; /* every other request would fail alike */
            http_pool_stop(run->pool);
        }
    } else if (judge_parse_response(res->body, &pos, e) < 0) {
        snprintf(why, sizeof why, "malformed answer: %s", e->msg);
        error = why;
        k->verdict = JV_FAILED;
        judge_causes_add_malformed(&run->st->causes, e->msg);
    } else {
        judge_usage(res->body, &run->st->prompt_tokens, &run->st->completion_tokens);
        if (cfg->max_tokens > 0 && judge_capped(cfg, run->st)) {
            run->st->capped = 1; /* requests queued but not started stay unmade */
            http_pool_stop(run->pool);
        }
        k->pos = pos;
        k->verdict = system_verdict(pos, k->ord);
        if (cfg->cache && http_cache_put(cfg->cache, k->key, cfg->endpoint, cfg->model, k->body,
                                         res->body, res->latency_ms, e) < 0)
            return -1;
    }
    k->asked = 1;
    int rc = record(run, k, 0, res->latency_ms, error, e);
    /* Tasks that asked the very same question share this answer. */
    for (long f = k->next_same; rc == 0 && f >= 0; f = run->tasks[f].next_same) {
        llm_task *same = &run->tasks[f];
        same->verdict = error ? JV_FAILED : system_verdict(pos, same->ord);
        run->st->shared++;
        rc = record(run, same, 0, -1, error, e);
    }
    free(k->body); /* the pool is done with it */
    k->body = NULL;
    return rc;
}

/* The slot of `key` in the table of asked tasks: empty, or holding the task
 * that asked the same question. */
static size_t *key_slot(llm_run *run, const char *key)
{
    size_t h = strtoull(key + 48, NULL, 16) & (run->nkeys - 1);
    while (run->keys[h] && strcmp(run->tasks[run->keys[h] - 1].key, key) != 0)
        h = (h + 1) & (run->nkeys - 1);
    return &run->keys[h];
}

static void report(llm_run *run)
{
    judge_progress *st = run->st;
    if (run->pool) {
        const http_stats *h = http_pool_stats(run->pool);
        st->sent = h->sent;
        st->retries = h->retries;
        st->failed_requests = h->failed;
    }
    st->elapsed_s = clock_mono() - run->t0;
    if (run->cfg->progress)
        run->cfg->progress(run->cfg->progress_user, st);
}

static int on_tick(void *user, alarm_err *e)
{
    llm_run *run = user;
    if (run->cfg->out && fflush(run->cfg->out) != 0)
        return err_set(e, "error writing judgments: %m");
    /* Ticks come with every burst of answers; a person needs far fewer lines. */
    double now = clock_mono();
    if (now - run->last_report >= 0.1) {
        run->last_report = now;
        report(run);
    }
    return 0;
}

/* Settles task k without a request when it can: identical responses, an
 * answer in the cache, or the same question asked for another pair.
 * Otherwise queues it. Returns 1 when queued, 0 when settled, -1 on error. */
static int prepare(llm_run *run, llm_task *k, alarm_err *e)
{
    const judge_set *set = run->set;
    const judge_resp *ri = judge_set_get(set, k->i, k->p), *rj = judge_set_get(set, k->j, k->p);
    if (strcmp(ri->response, rj->response) == 0) {
        k->verdict = JV_TIE;
        run->st->identical++;
        return record(run, k, 0, -1, NULL, e);
    }
    const judge_resp *first = k->ord ? rj : ri, *second = k->ord ? ri : rj;
    const char *instruction = judge_set_get(set, 0, k->p)->prompt;
    k->body = judge_request_body(run->cfg->model, run->cfg->tmpl, run->cfg->use_tool,
                                 instruction, first->response, second->response, e);
    if (!k->body)
        return -1;
    http_cache_key(run->cfg->endpoint, k->body, k->key);
    char *cached = NULL;
    int pos, hit = 0;
    if (run->cfg->cache) {
        hit = http_cache_get(run->cfg->cache, k->key, &cached, e);
        if (hit < 0)
            return -1;
        /* A cached body that no longer parses is asked again, not trusted. */
        if (hit && judge_parse_response(cached, &pos, e) < 0)
            hit = 0;
        free(cached);
    }
    if (hit) {
        k->verdict = system_verdict(pos, k->ord);
        run->st->cached++;
        int rc = record(run, k, 1, -1, NULL, e);
        free(k->body);
        k->body = NULL;
        return rc;
    }
    /* The same question from another pair (two systems that answered alike):
     * wait for that request, or take its answer; ask again only if it failed. */
    size_t *slot = key_slot(run, k->key);
    llm_task *same = *slot ? &run->tasks[*slot - 1] : NULL;
    if (same && (!same->asked || same->verdict != JV_FAILED)) {
        free(k->body);
        k->body = NULL;
        if (!same->asked) {
            k->next_same = same->next_same;
            same->next_same = k - run->tasks;
            return 0;
        }
        k->verdict = system_verdict(same->pos, k->ord);
        run->st->shared++;
        return record(run, k, 0, -1, NULL, e);
    }
    if (judge_capped(run->cfg, run->st)) {
        run->st->capped = 1; /* left unjudged: a rerun with a higher cap asks it */
        free(k->body);
        k->body = NULL;
        return 0;
    }
    *slot = (size_t)(k - run->tasks) + 1;
    run->st->queued++;
    if (run->cfg->dry_run) {
        run->st->dry_tokens += judge_prompt_tokens(k->body, run->cfg->tok);
        k->asked = 1; /* questions alike are shared, not counted again */
        free(k->body);
        k->body = NULL;
        return 0;
    }
    /* About four bytes a token, plus a short answer. */
    double tokens = (double)strlen(k->body) / 4.0 + 16.0;
    if (http_pool_add(run->pool, (size_t)(k - run->tasks), k->body, strlen(k->body), tokens, e) < 0)
        return -1;
    return 1;
}

/* Prepares tasks until a batch of requests is queued (http_feed_fn). */
static int on_feed(void *user, alarm_err *e)
{
    llm_run *run = user;
    /* One read transaction for a batch of lookups. */
    if (run->cfg->cache && http_cache_read_begin(run->cfg->cache, e) < 0)
        return -1;
    int queued = 0;
    while (run->next < run->n && queued < 64) {
        int rc = prepare(run, &run->tasks[run->next++], e);
        if (rc < 0)
            return -1;
        queued += rc;
    }
    if (run->cfg->cache && http_cache_read_end(run->cfg->cache, e) < 0)
        return -1;
    return run->next < run->n;
}

int judge_run_llm(const judge_set *set, const judge_llm_cfg *cfg, judge_tally *t,
                  judge_progress *st, alarm_err *e)
{
    memset(st, 0, sizeof *st);
    llm_run run = {.set = set, .cfg = cfg, .t = t, .st = st, .t0 = clock_mono()};
    size_t npairs = set->nsys * (set->nsys - 1) / 2, n = npairs * set->nprompts * 2;
    run.tasks = calloc(n ? n : 1, sizeof *run.tasks);
    for (run.nkeys = 16; run.nkeys < 2 * n; run.nkeys *= 2)
        ;
    run.keys = calloc(run.nkeys, sizeof *run.keys);
    if (!run.tasks || !run.keys) {
        free(run.tasks);
        free(run.keys);
        return err_set(e, "out of memory");
    }
    http_opts ho = cfg->http;
    ho.tick_s = 0.1;
    int rc = http_pool_new(&run.pool, &ho, e);
    st->total = (long)n;
    size_t k = 0;
    for (size_t i = 0; i < set->nsys; i++)
        for (size_t j = i + 1; j < set->nsys; j++)
            for (size_t p = 0; p < set->nprompts; p++)
                for (int ord = 0; ord < 2; ord++) {
                    llm_task *tk = &run.tasks[k++];
                    tk->i = i, tk->j = j, tk->p = p, tk->ord = ord;
                    tk->next_same = -1;
                }
    run.n = n;
    http_callbacks cb = {on_done, on_tick, on_feed, &run};
    if (rc == 0 && cfg->dry_run) {
        int more;
        while ((more = on_feed(&run, e)) > 0)
            ;
        rc = more < 0 ? -1 : 0;
    } else if (rc == 0)
        rc = http_pool_run(run.pool, &cb, e);
    if (cfg->cache)
        http_cache_read_end(cfg->cache, NULL); /* a read transaction left by a failure */
    if (rc == 0) {
        report(&run);
        for (size_t x = 0; x < n && !st->stopped && !cfg->dry_run; x += 2) {
            llm_task *ab = &run.tasks[x], *ba = &run.tasks[x + 1];
            if (!ab->settled || !ba->settled) { /* held back by a cap */
                st->not_made += !ab->settled + !ba->settled;
                continue;
            }
            judge_tally_add(t, ab->p, ab->i, ab->j, judge_combine(ab->verdict, ba->verdict));
            judge_tally_orders(t, ab->verdict, ba->verdict);
        }
        t->not_made = st->not_made;
        t->prompt_tokens = st->prompt_tokens;
        t->completion_tokens = st->completion_tokens;
        t->failed = st->failed;
        t->unparseable = st->unparseable;
    }
    for (size_t x = 0; x < n; x++)
        free(run.tasks[x].body);
    free(run.tasks);
    free(run.keys);
    http_pool_free(run.pool);
    return rc;
}

int judge_run_reward(const judge_set *set, const char *spec, FILE *out, db_writer *writer,
                     int64_t run_id, judge_tally *t, alarm_err *e)
{
    int lower = spec[0] == '-';
    int k = judge_set_reward(set, spec + lower);
    if (k < 0)
        return err_set(e, "reward \"%s\" was not loaded", spec + lower);
    int h = (int)set->nrewards - 1;
    for (size_t i = 0; i < set->nsys; i++)
        for (size_t j = i + 1; j < set->nsys; j++)
            for (size_t p = 0; p < set->nprompts; p++) {
                const judge_resp *ri = judge_set_get(set, i, p), *rj = judge_set_get(set, j, p);
                double va = ri->values[k], vb = rj->values[k];
                judge_rec r = {.prompt_id = ri->prompt_id, .a = set->sys[i].name,
                               .b = set->sys[j].name, .order = "ab", .judge = t->name,
                               .verdict = judge_reward_verdict(va, vb, lower), .cached = 0,
                               .latency_ms = -1, .has_values = 1, .value_a = va, .value_b = vb};
                judge_tally_add(t, p, i, j, r.verdict);
                double hi = ri->values[h], hj = rj->values[h];
                if (isnan(hi) || isnan(hj))
                    t->no_holistic[i * set->nsys + j] = 1;
                else
                    consist_count_pair(&t->consist[i * set->nsys + j], hi, hj, va, vb, lower);
                if (emit(out, writer, run_id, &r, e) < 0)
                    return -1;
            }
    return 0;
}
