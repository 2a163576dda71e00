/* alarm-score: runs scorers (rules now; models and remote scorers plug into
 * the same kind table, common/score.h) over records and writes each with
 * "rewards" added or merged (alarm-formats(5) section 3). See alarm-score(1).
 * Options from the table, the record driver, the store run, score_batch. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_writer.h"
#include "drive.h"
#include "opt.h"
#include "out.h"
#include "run.h"
#include "score_cli.h"
#include "shard.h"

typedef struct {
    opt_list specs, norms, lower;
    long batch;
    int skip_failed;
    int concurrency;
    long shard_i, shard_n;
} args;

static int parse_shard(void *p, const char *v, alarm_err *e)
{
    args *a = p;
    return opt_parse_shard(v, &a->shard_i, &a->shard_n, e);
}

#define AT(f) offsetof(args, f)
static const opt_def opts[] = {
    {"scorer", 0, "NAME=KIND[:ARG][,key=value...]", "score aspect NAME with KIND\n"
     "(kinds: length, repetition, readability, overlap, language, rm:DIR,\n"
     "spans:DIR, cmd:PROGRAM, http:URL, languagetool:URL)", .type = OPT_LIST,
     .off = AT(specs)},
    {"normalize", 0, "NAME=MEAN,STD|NAME=auto", "value = (raw - MEAN) / STD; auto estimates\n"
     "both over the whole input (read before any output)", .type = OPT_LIST, .off = AT(norms)},
    {"lower-better", 0, "NAME", "record in the store that lower values of NAME are better",
     .type = OPT_LIST, .off = AT(lower)},
    {"batch", 0, "B", "records scored (and committed to the store) at a time", "64",
     .type = OPT_LONG, .off = AT(batch), .min = 1, .max = 1000000},
    {"skip-failed", 0, NULL, "a record a scorer fails for goes out without that aspect",
     .type = OPT_FLAG, .off = AT(skip_failed)},
    {"concurrency", 0, "N", "requests in flight per remote scorer", "8", .type = OPT_INT,
     .off = AT(concurrency), .min = 1, .max = 1024},
    {"shard", 0, "I/N", "only the records of shard I of N's prompts (0-based; by\n"
     "prompt_id, or id without one: alarm-rollout's rule)", .type = OPT_CALL,
     .call = parse_shard},
    {0},
};

static const tool_spec spec = {
    .name = "alarm-score",
    .id = TOOL_SCORE,
    .usage = "alarm-score --scorer NAME=KIND[:ARG][,key=value...]... "
             "[--normalize NAME=MEAN,STD|NAME=auto]... [--lower-better NAME]... [--batch B] "
             "[--skip-failed] [--concurrency N] [--shard I/N] [--db FILE] [FILE...]",
    .about = "Reads records (FILE..., or standard input), scores each record's \"response\"\n"
             "with every --scorer and writes it to standard output with \"rewards\" added or\n"
             "merged: {\"value\", \"raw\", \"spans\"} per aspect.\n",
    .opts = opts,
    .page = "alarm-score(1)",
};

typedef struct {
    score_batch b;
    tool_run *run;
    db_writer **writer;
    size_t per_batch; /* 0: everything in one batch */
    long shard_i, shard_n;
} loop;

/* Whether this shard scores the record: by its prompt, so every sample of a
 * prompt goes to the shard alarm-rollout --shard put the prompt in. */
static int in_shard(const loop *l, jsonl_reader *r, const cJSON *rec, int *takes, alarm_err *e)
{
    const char *id;
    *takes = 1;
    if (l->shard_n <= 1)
        return 0;
    if (jsonl_opt_string(r, rec, NULL, "prompt_id", &id, e) < 0 ||
        (!id && jsonl_req_string(r, rec, NULL, "id", &id, e) < 0))
        return -1;
    *takes = shard_takes(id, l->shard_i, l->shard_n);
    return 0;
}

static int add(void *u, jsonl_reader *r, cJSON **rec, alarm_err *e)
{
    loop *l = u;
    int takes;
    if (in_shard(l, r, *rec, &takes, e) < 0)
        return -1;
    if (!takes)
        return 0;
    cJSON *x = *rec;
    *rec = NULL;
    if (score_batch_add(&l->b, r, x, e) < 0)
        return -1;
    if (!l->per_batch || l->b.n < l->per_batch)
        return 0;
    return score_batch_flush(&l->b, e);
}

static int score_all(loop *l, const tool *t, alarm_err *e)
{
    drive d = {.t = t, .fn = add, .user = l, .unique_ids = 1};
    if (drive_files(&d, e) < 0 || score_batch_flush(&l->b, e) < 0)
        return -1;
    for (size_t k = 0; k < l->b.nsc; k++)
        if (scorer_finish(&l->b.sc[k], e) < 0)
            return -1;
    /* the answers the remote scorers cached, before the run is marked ok */
    int rc = db_writer_finish(*l->writer, e);
    *l->writer = NULL;
    if (rc < 0 || score_batch_store_scorers(&l->b, e) < 0)
        return -1;
    for (size_t k = 0; k < l->b.nsc && !t->quiet; k++)
        if (l->b.asp[k].failed)
            tool_error(t, "scorer %s failed for %zu of %zu records (written without it)",
                       l->b.sc[k].spec.name, l->b.asp[k].failed,
                       l->b.asp[k].failed + l->b.asp[k].scored);
    return 0;
}

/* The remote scorers' keys (key-env=VAR) come from the environment only. */
static const char *secret(const char *name) { return getenv(name); }

int main(int argc, char **argv)
{
    tool t;
    args a = {.batch = 64, .concurrency = 8, .shard_n = 1};
    scorers s = {0};
    tool_run run = {0};
    loop l = {.run = &run};
    alarm_err e = {{0}};
    tool_init();
    int status = opt_parse(&t, &spec, &a, argc, argv);
    score_env env = {.concurrency = a.concurrency, .threads = t.threads, .secret = secret};
    l.writer = &env.writer;
    if (status < 0 && scorers_open(&s, &a.specs, &a.norms, &a.lower, &env, &e) < 0)
        status = tool_usage(&t, "%s", e.msg);
    /* a shard's mean and std would not be the whole input's (alarm-score(1)) */
    if (status < 0 && s.all && a.shard_n > 1)
        status = tool_usage(&t, "--normalize NAME=auto with --shard: each shard would estimate "
                                "its own; give NAME=MEAN,STD");
    if (status >= 0)
        goto done;
    l.b = (score_batch){.sc = s.sc, .asp = s.asp, .nsc = s.n, .skip_failed = a.skip_failed,
                        .out = stdout};
    l.per_batch = s.all ? 0 : (size_t)a.batch;
    l.shard_i = a.shard_i, l.shard_n = a.shard_n;
    if (run_start(&run, &t, &e) < 0 || (env.db = l.b.db = run.db.h ? &run.db : NULL, 0) ||
        (run.db.h && db_writer_start(&env.writer, t.db, &e) < 0) ||
        (l.b.run_id = run.id, score_all(&l, &t, &e)) < 0) {
        status = tool_fail(&t, e.msg);
        db_writer_finish(env.writer, NULL); /* what was answered stays for a rerun */
        env.writer = NULL;
        if (run_end(&run, &t, e.msg) < 0)
            status = TOOL_FAIL;
        goto done;
    }
    status = run_end(&run, &t, NULL) < 0 ? TOOL_FAIL : tool_finish(&t, TOOL_OK);
done:
    score_batch_free(&l.b);
    scorers_close(&s);
    opt_list_free(&a.specs);
    opt_list_free(&a.norms);
    opt_list_free(&a.lower);
    return status;
}
