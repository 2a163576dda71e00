/* judge_run: judging every pair of systems on every prompt, by an LLM (both
 * orders, through http and the cache) or by a reward. Judgment records go to
 * `out` (JSONL, as they are decided) and to the store; counts go to a tally.
 * Identical responses are a tie without a request, and a question asked
 * twice in one run (two systems with the same response) is sent once. */
#ifndef ALARM_JUDGE_RUN_H
#define ALARM_JUDGE_RUN_H

#include <stdio.h>

#include "db_writer.h"
#include "bpe.h"
#include "http.h"
#include "http_cache.h"
#include "judge_fail.h"
#include "judge_sys.h"
#include "judge_table.h"
#include "judge_tmpl.h"

typedef struct {
    long total;        /* single-order judgments of the run */
    long done;
    long cached;       /* answered from the cache */
    long identical;    /* ties without a request */
    long shared;       /* answered by a request another pair asked too */
    long sent, retries;/* HTTP attempts, and how many of them were retries */
    long failed;       /* judgments whose request failed for good */
    long failed_requests; /* HTTP requests that failed for good */
    long unparseable;
    double elapsed_s;
    judge_causes causes; /* why requests failed for good */
    int stopped;       /* a fatal cause stopped the run: judgments are missing */
    /* spend (alarm-judge(1), COST) */
    long queued;       /* requests given to the pool (a retry is the same request) */
    long prompt_tokens, completion_tokens; /* from each answer's "usage" */
    int capped;        /* a cap held requests back: judgments are missing */
    long not_made;     /* single-order judgments held back by a cap */
    double dry_tokens; /* --dry-run: prompt tokens the requests carry */
} judge_progress;

typedef struct {
    const char *endpoint;   /* the full chat-completions URL */
    const char *shown_url;  /* the endpoint in messages (the base URL given), or NULL */
    const char *secret;     /* the API key, masked in messages; or NULL */
    const char *model;
    const judge_tmpl *tmpl;
    int use_tool;
    http_opts http;         /* url and auth_header set by the caller */
    FILE *out;              /* judgments as JSONL, or NULL */
    http_cache *cache;      /* answers asked before, and new ones, or NULL */
    db_writer *writer;      /* judgments into the store, or NULL */
    int64_t run_id;         /* the run the judgments belong to */
    long max_requests;      /* send at most this many requests (0: no cap) */
    double max_tokens;      /* stop sending once the answers' usage reaches it (0: no cap) */
    int dry_run;            /* count the requests needed after the cache; send and record none */
    const bpe *tok;         /* counts --dry-run's prompt tokens; NULL: estimated (4 bytes a token) */
    /* Called about every 200 ms and at the end; may be NULL. */
    void (*progress)(void *user, const judge_progress *p);
    void *progress_user;
} judge_llm_cfg;

/* `t` must have been initialised for set->nsys systems. A dry run prepares
 * every request (settling identical pairs, cached answers and shared
 * questions) and counts in stats->queued and stats->dry_tokens what a real
 * run would send, sending and recording nothing. Under a cap, requests
 * beyond it are not sent (stats->capped, stats->not_made); the pairs they
 * leave incomplete are not tallied. A request failed
 * for good is a failed judgment, its cause counted in stats->causes; at a
 * fatal cause (judge_fail.h) no new request starts, the ones in flight
 * finish, stats->stopped is set and 0 is returned with `t` left empty
 * (the judgments not made are in neither the output nor the store). */
int judge_run_llm(const judge_set *set, const judge_llm_cfg *cfg, judge_tally *t,
                  judge_progress *stats, alarm_err *e);

/* Judges by reward `spec` ("NAME", or "-NAME" when lower is better), which
 * must be one of set->rewards; the holistic reward is set's last one. */
int judge_run_reward(const judge_set *set, const char *spec, FILE *out, db_writer *writer,
                     int64_t run_id, judge_tally *t, alarm_err *e);

#endif
