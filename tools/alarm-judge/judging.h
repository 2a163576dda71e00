/* judging: what alarm-judge does once its options are parsed: load the
 * systems, open the output and the store run, run the LLM judge and the
 * reward judges, print the summary. */
#ifndef ALARM_JUDGING_H
#define ALARM_JUDGING_H

#include "http.h"
#include "opt.h"

#define DEFAULT_BASE_URL "https://api.openai.com/v1"

typedef struct {
    const char *base_url, *model, *key_env, *template_path, *out_path, *holistic;
    int use_tool, json;
    http_opts http;
    long max_compare;
    int ties;         /* judge_ties */
    long bootstrap;   /* resamplings for the averages' intervals */
    opt_list rewards; /* --by-reward specs, as given */
} judge_args;

/* Runs the judging; returns the exit status (messages printed). */
int judging_main(const tool *t, const judge_args *a);

#endif
