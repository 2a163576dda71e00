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
} judge_args;

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
} judging;

/* Runs the judging; returns the exit status (messages printed). */
int judging_main(const tool *t, const judge_args *a);

/* report.c: the summary on stdout and a line of counts on stderr (0 or -1);
 * after judgments failed for good, their causes and the advice, with the
 * run row's message in e. */
int judging_summarise(const tool *t, const judge_args *a, const judging *j);
void judging_report_failures(const tool *t, const judging *j, alarm_err *e);

/* spend.c: the report of a dry run (on standard output, as the summary
 * would be), and the message when a cap held judgments back. */
int spend_dry_report(const tool *t, const judge_args *a, const judge_progress *p);
void spend_cap_message(const tool *t, const judge_args *a, const judge_progress *p,
                       int has_store);

#endif
