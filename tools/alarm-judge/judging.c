/* judging: alarm-judge's run (see judging.h): every library call in order,
 * one struct holding what must be freed, the store run ended ok or failed
 * with the message. */
#include "judging.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonl.h"
#include "db_writer.h"
#include "http_cache.h"
#include "judge_run.h"
#include "judge_store.h"
#include "out.h"
#include "run.h"

static void show_progress(void *user, const judge_progress *p)
{
    double rate = p->elapsed_s > 0 ? (double)(p->sent - p->retries) / p->elapsed_s : 0;
    tool_progress(user, "%ld/%ld judged, %.0f requests/s, %ld retries, %ld cache hits", p->done,
                  p->total, rate, p->retries, p->cached);
}

/* "Authorization: Bearer KEY" (malloc'd), NULL when no key is set. The
 * default endpoint needs one; a local server may not. */
static int auth_header(const tool *t, const judge_args *a, char **out)
{
    *out = NULL;
    const char *key = getenv(a->key_env);
    if (!key || !*key) {
        if (strcmp(a->base_url, DEFAULT_BASE_URL) == 0)
            return tool_usage(t, "the API key variable %s is not set", a->key_env);
        return TOOL_OK;
    }
    size_t n = strlen(key) + sizeof "Authorization: Bearer ";
    if (!(*out = malloc(n)))
        return TOOL_FAIL;
    snprintf(*out, n, "Authorization: Bearer %s", key);
    return TOOL_OK;
}

static void free_secret(char *s)
{
    if (s) {
        memset(s, 0, strlen(s)); /* keep the key out of later heap reuse */
        free(s);
    }
}

static char *chat_url(const char *base)
{
    size_t n = strlen(base);
    while (n > 0 && base[n - 1] == '/')
        n--;
    char *u = malloc(n + sizeof "/chat/completions");
    if (u)
        snprintf(u, n + sizeof "/chat/completions", "%.*s/chat/completions", (int)n, base);
    return u;
}

static void judging_free(judging *j)
{
    db_writer_finish(j->writer, NULL);
    if (j->run.db.h)
        http_cache_close(&j->cache, NULL);
    if (j->out)
        fclose(j->out);
    for (size_t k = 0; k < j->nt; k++)
        judge_tally_free(&j->tallies[k]);
    free(j->tallies);
    judge_set_free(&j->set);
    judge_tmpl_free(&j->tmpl);
    free_secret(j->auth);
    free(j->url);
    bpe_free(j->tok);
    free(j->words);
    rows_free(&j->rows);
}

/* Loads the systems, opens the output and the store. */
static int judging_open(judging *j, const tool *t, const judge_args *a, alarm_err *e)
{
    const char **names = malloc((a->rewards.n + 1) * sizeof *names);
    if (!names)
        return err_set(e, "out of memory");
    for (size_t k = 0; k < a->rewards.n; k++)
        names[k] = a->rewards.v[k] + (a->rewards.v[k][0] == '-');
    int rc = judge_set_load(&j->set, t->args, (size_t)t->nargs, names, a->rewards.n,
                            a->holistic, e);
    free(names);
    if (rc < 0 || (a->model && judge_tmpl_load(&j->tmpl, a->template_path, e) < 0))
        return -1;
    if (a->max_compare > 0)
        judge_set_subset(&j->set, (size_t)a->max_compare, t->seed);
    if (a->shard_n > 1 && judge_set_shard(&j->set, a->shard_i, a->shard_n, e) < 0)
        return -1;
    if (!(j->words = judge_set_words(&j->set)))
        return err_set(e, "out of memory");
    if (a->tokenizer && bpe_load(&j->tok, a->tokenizer, e) < 0)
        return -1;
    if (a->out_path && !(j->out = fopen(a->out_path, "w")))
        return err_set(e, "%s: cannot open: %m", a->out_path);
    if (run_start(&j->run, t, e) < 0)
        return -1;
    if (j->run.db.h && (db_writer_start(&j->writer, t->db, e) < 0 ||
                        http_cache_open(&j->cache, &j->run.db, j->writer, e) < 0))
        return -1;
    /* what --summary-only needs besides the judgments, before any of them */
    if (j->writer && !a->dry_run &&
        judge_store_responses(j->writer, j->run.id, &j->set, j->words, e) < 0)
        return -1;
    return 0;
}

/* The LLM judge, then one judge per --by-reward. */
static int judging_run(judging *j, const tool *t, const judge_args *a, alarm_err *e)
{
    if (a->model) {
        judge_llm_cfg cfg = {.endpoint = j->url, .model = a->model, .tmpl = &j->tmpl,
                             .use_tool = a->use_tool, .http = a->http, .out = j->out,
                             .cache = j->run.db.h ? &j->cache : NULL, .writer = j->writer,
                             .run_id = j->run.id,
                             .progress = show_progress, .progress_user = (void *)t};
        cfg.http.url = j->url;
        cfg.http.auth_header = j->auth;
        cfg.shown_url = a->base_url;
        cfg.secret = j->auth ? getenv(a->key_env) : NULL;
        cfg.http.seed = t->seed;
        cfg.dry_run = a->dry_run;
        cfg.max_requests = a->max_requests;
        cfg.max_tokens = a->max_tokens_total;
        cfg.tok = j->tok;
        if (judge_tally_init(&j->tallies[j->nt], a->model, j->set.nsys, j->set.nprompts, 0, e) < 0)
            return -1;
        int rc = judge_run_llm(&j->set, &cfg, &j->tallies[j->nt++], &j->prog, e);
        tool_progress_done(t);
        if (rc < 0)
            return -1;
    }
    for (size_t k = 0; k < a->rewards.n && !j->prog.stopped; k++) {
        char jname[512];
        snprintf(jname, sizeof jname, "reward:%s", a->rewards.v[k]);
        if (judge_tally_init(&j->tallies[j->nt], jname, j->set.nsys, j->set.nprompts, 1, e) < 0 ||
            judge_run_reward(&j->set, a->rewards.v[k], j->out, j->writer, j->run.id,
                             &j->tallies[j->nt++], e) < 0)
            return -1;
    }
    int rc = db_writer_finish(j->writer, e);
    j->writer = NULL;
    if (rc < 0 || (j->run.db.h && http_cache_close(&j->cache, e) < 0))
        return -1;
    FILE *f = j->out;
    j->out = NULL;
    if (f && fclose(f) != 0)
        return err_set(e, "%s: write error: %m", a->out_path);
    return 0;
}

/* The rows of the table, known before any request is sent. */
static int resolve_rows(const tool *t, const judge_args *a, judging *j)
{
    char **names = malloc((j->set.nsys ? j->set.nsys : 1) * sizeof *names);
    if (!names)
        return tool_fail(t, "out of memory");
    for (size_t s = 0; s < j->set.nsys; s++)
        names[s] = j->set.sys[s].name;
    int status = rows_resolve(t, &a->groups, names, j->set.nsys, &j->rows);
    free(names);
    return status;
}

int judging_main(const tool *t, const judge_args *a)
{
    judging j = {.tallies = calloc(a->rewards.n + 1, sizeof *j.tallies),
                 .url = chat_url(a->base_url)};
    alarm_err e;
    int status;
    if (!j.tallies || !j.url) {
        err_set(&e, "out of memory");
        goto fail;
    }
    if (a->model && (status = auth_header(t, a, &j.auth)) != TOOL_OK)
        goto done; /* the message is out; no store opened yet */
    if (judging_open(&j, t, a, &e) < 0)
        goto fail;
    if ((status = resolve_rows(t, a, &j)) >= 0) {
        run_end(&j.run, t, "usage error");
        goto done;
    }
    if (judging_run(&j, t, a, &e) < 0)
        goto fail;
    if (a->dry_run) {
        status = spend_dry_report(t, a, &j.prog);
        run_end(&j.run, t, status == TOOL_OK ? NULL : "error writing the report");
        goto done;
    }
    if (!j.prog.stopped && judging_summarise(t, a, &j, &e) < 0)
        goto fail;
    status = TOOL_OK;
    if (j.prog.capped) {
        spend_cap_message(t, a, &j.prog, j.run.db.h != NULL);
        err_set(&e, "a cap on the spend held back %ld judgments", j.prog.not_made);
        status = TOOL_CAPPED;
    }
    if (j.prog.failed > 0) {
        judging_report_failures(t, &j, &e);
        status = TOOL_FAIL;
    }
    if (run_end(&j.run, t, status == TOOL_OK ? NULL : e.msg) < 0)
        status = TOOL_FAIL;
    goto done;
fail:
    status = tool_fail(t, e.msg);
    run_end(&j.run, t, e.msg);
done:
    judging_free(&j);
    return status;
}
