/* judging: what alarm-judge does once its options are parsed: load the
 * systems, open the output and the store run, run the LLM judge and the
 * reward judges, print the summary. */
#ifndef ALARM_JUDGING_H
#define ALARM_JUDGING_H

#include <stdio.h>

#include "bpe.h"
#include "db_writer.h"
#include "http.h"
#include "http_cache.h"
#include "judge_run.h"
#include "opt.h"
#include "run.h"

#define DEFAULT_BASE_URL "https://api.openai.com/v1"

typedef struct {
    const char *base_url, *model, *key_env, *template_path, *out_path, *holistic;
    int use_tool, json;
    http_opts http;
    long max_compare;
    int ties;         /* judge_ties */
    long bootstrap;   /* resamplings for the averages' intervals */
    int dry_run;      /* count the requests after the cache; send none */
    long max_requests;
    double max_tokens_total;
    const char *tokenizer; /* counts --dry-run's prompt tokens */
    opt_list rewards; /* --by-reward specs, as given */
    opt_list groups;  /* --group NAME=SYSTEM,SYSTEM... */
    long shard_i, shard_n; /* --shard I/N; shard_n 0: none */
    int summary_only; /* the summary of the judgments in the store; no judging */
    int64_t *runs;    /* --run: the runs whose judgments --summary-only reads */
    size_t nruns;
} judge_args;

/* Runs the judging; returns the exit status (messages printed). */
int judging_main(const tool *t, const judge_args *a);

/* spend.c: the report of a dry run (on standard output, as the summary
 * would be), and the message when a cap held judgments back. */
int spend_dry_report(const tool *t, const judge_args *a, const judge_progress *p);
void spend_cap_message(const tool *t, const judge_args *a, const judge_progress *p,
                       int has_store);

/* summary.c: the rows of the table, each system's own or its --group's
 * (in the order of their first system). */
typedef struct {
    char **names;
    size_t nrows;
    size_t *row_of;  /* each system's row */
    int pooled;      /* some --group was given */
} judge_rows;

/* -1 to go on, or TOOL_USAGE after the message (a group malformed, naming
 * a system not judged, a system twice, or a name another row has). */
int rows_resolve(const tool *t, const opt_list *groups, char *const *systems, size_t nsys,
                 judge_rows *r);
void rows_free(judge_rows *r);

/* What a summary is made of: a run's tallies, or a store's. */
typedef struct {
    const judge_tally *tallies;
    size_t nt, nsys, nprompts;
    const double *words;    /* (nprompts, nsys), or NULL */
    const judge_rows *rows;
} summary_in;

/* Prints the summary (--format) and, with a store, writes its JSON into the
 * run's judge_summaries row. 0, or -1 with e filled. */
int summary_write(const tool *t, const judge_args *a, const summary_in *in, tool_run *run,
                  alarm_err *e);

/* alarm-judge --summary-only: the summary of the judgments in t->db. */
int summary_only_main(const tool *t, const judge_args *a);

/* Everything one run holds, freed by judging_free. */
typedef struct {
    judge_set set;
    judge_tmpl tmpl;
    judge_tally *tallies;
    size_t nt;
    judge_progress prog;
    tool_run run;
    http_cache cache;     /* lookups on the run's connection, rows through the writer */
    db_writer *writer;    /* cache rows and judgments */
    char *auth, *url;
    FILE *out;
    bpe *tok;             /* --tokenizer */
    double *words;        /* judge_set_words */
    judge_rows rows;      /* the table's rows (--group) */
} judging;

/* report.c: the summary on stdout (and the store) and a line of counts on
 * stderr (0, or -1 with e filled); after judgments failed for good, their
 * causes and the advice, with the run row's message in e. */
int judging_summarise(const tool *t, const judge_args *a, judging *j, alarm_err *e);
void judging_report_failures(const tool *t, const judging *j, alarm_err *e);

#endif
