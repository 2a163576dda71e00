/* alarm-judge: pairwise judging of systems' responses by an LLM through any
 * OpenAI-compatible chat-completions endpoint (both orders, concurrent,
 * cached), and by rewards; prints win-rate tables (alarm-formats(5) section 6).
 * The API key is read from the environment only and goes nowhere but the
 * Authorization header. */
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "judging.h"
#include "opt.h"
#include "out.h"

static int parse_reward(void *p, const char *v, alarm_err *e)
{
    if (!v[0] || (v[0] == '-' && !v[1]))
        return err_set(e, "--by-reward: empty reward name");
    return opt_list_add(&((judge_args *)p)->rewards, v) < 0 ? err_set(e, "out of memory") : 0;
}

static int parse_format(void *p, const char *v, alarm_err *e)
{
    if (strcmp(v, "json") && strcmp(v, "markdown"))
        return err_set(e, "--format: '%s' is not markdown or json", v);
    ((judge_args *)p)->json = strcmp(v, "json") == 0;
    return 0;
}

static int parse_ties(void *p, const char *v, alarm_err *e)
{
    static const char *const names[] = {"exclude", "half", "loss"}; /* judge_ties order */
    for (int k = 0; k < 3; k++)
        if (!strcmp(v, names[k]))
            return ((judge_args *)p)->ties = k, 0;
    return err_set(e, "--ties: '%s' is not exclude, half or loss", v);
}

static int parse_shard(void *p, const char *v, alarm_err *e)
{
    judge_args *a = p;
    return opt_parse_shard(v, &a->shard_i, &a->shard_n, e);
}

static int parse_run(void *p, const char *v, alarm_err *e)
{
    judge_args *a = p;
    long id;
    if (opt_parse_long("--run", v, 1, LONG_MAX, &id, e) < 0)
        return -1;
    int64_t *r = realloc(a->runs, (a->nruns + 1) * sizeof *r);
    if (!r)
        return err_set(e, "out of memory");
    a->runs = r;
    a->runs[a->nruns++] = id;
    return 0;
}

#define AT(f) offsetof(judge_args, f)
static const opt_def opts[] = {
    {"model", 0, "NAME", "LLM judge (OpenAI-compatible chat completions)", .type = OPT_STR,
     .off = AT(model)},
    {"base-url", 0, "URL", "endpoint base", DEFAULT_BASE_URL, .type = OPT_STR, .off = AT(base_url)},
    {"api-key-env", 0, "VAR", "environment variable holding the key", "OPENAI_API_KEY",
     .type = OPT_STR, .off = AT(key_env)},
    {"template", 0, "FILE", "system and user message, separated by a line '---'",
     .type = OPT_STR, .off = AT(template_path)},
    {"tool-call", 0, NULL, "ask the judge to answer through a function call", .type = OPT_FLAG,
     .off = AT(use_tool)},
    {"concurrency", 0, "N", "requests in flight", "8", .type = OPT_INT,
     .off = AT(http.concurrency), .min = 1, .max = 1024},
    {"rpm", 0, "N", "requests per minute (0: unlimited)", "0", .type = OPT_DOUBLE,
     .off = AT(http.rpm), .fmin = 0, .fmax = 1e12},
    {"tpm", 0, "N", "tokens per minute (0: unlimited)", "0", .type = OPT_DOUBLE,
     .off = AT(http.tpm), .fmin = 0, .fmax = 1e12},
    {"timeout", 0, "S", "seconds per attempt", "60", .type = OPT_DOUBLE,
     .off = AT(http.timeout_s), .fmin = 0.001, .fmax = 1e12},
    {"retries", 0, "N", "retries on timeouts, connection errors, 429, 5xx", "5",
     .type = OPT_INT, .off = AT(http.retries), .min = 0, .max = 100},
    {"backoff", 0, "S", "first retry delay, doubled per retry", "1", .type = OPT_DOUBLE,
     .off = AT(http.backoff_s), .fmin = 0, .fmax = 1e12},
    {"max-compare", 0, "N", "judge a seeded random subset of N prompts", .type = OPT_LONG,
     .off = AT(max_compare), .min = 1, .max = LONG_MAX},
    {"by-reward", 0, "[-]NAME", "add judge reward:NAME (higher wins; '-': lower wins);\n"
     "repeatable", .type = OPT_CALL, .call = parse_reward},
    {"holistic", 0, "NAME", "holistic reward for inconsistency", "holistic", .type = OPT_STR,
     .off = AT(holistic)},
    {"out", 0, "FILE", "judgments as JSONL", .type = OPT_STR, .off = AT(out_path)},
    {"format", 0, "F", "summary as markdown or json", "markdown", .type = OPT_CALL,
     .call = parse_format},
    {"ties", 0, "exclude|half|loss", "how ties count in win rates and averages", "exclude",
     .type = OPT_CALL, .call = parse_ties},
    {"bootstrap", 0, "N", "resamplings of the prompts for the averages' 95% intervals", "1000",
     .type = OPT_LONG, .off = AT(bootstrap), .min = 0, .max = 1000000},
    {"dry-run", 0, NULL, "count the requests needed after the cache; send none", .type = OPT_FLAG,
     .off = AT(dry_run)},
    {"max-requests", 0, "N", "send at most N requests, then stop (exit 3)", .type = OPT_LONG,
     .off = AT(max_requests), .min = 1, .max = 1L << 40},
    {"max-tokens-total", 0, "N", "stop sending once the answers' usage reaches N tokens (exit 3)",
     .type = OPT_DOUBLE, .off = AT(max_tokens_total), .fmin = 1, .fmax = 1e15},
    {"tokenizer", 0, "FILE", "count --dry-run's prompt tokens with this tokenizer.json",
     .type = OPT_STR, .off = AT(tokenizer)},
    {"group", 0, "NAME=SYS,SYS...", "pool these systems into one row NAME of the table;\n"
     "repeatable", .type = OPT_LIST, .off = AT(groups)},
    {"shard", 0, "I/N", "judge only shard I of N of the prompts (by prompt id, as\n"
     "alarm-rollout's --shard)", .type = OPT_CALL, .call = parse_shard},
    {"summary-only", 0, NULL, "the summary of the judgments in --db; judge nothing",
     .type = OPT_FLAG, .off = AT(summary_only)},
    {"run", 0, "ID", "with --summary-only: only the judgments of this run;\nrepeatable",
     .type = OPT_CALL, .call = parse_run},
    {0},
};

static const tool_spec spec = {
    .name = "alarm-judge",
    .id = TOOL_JUDGE,
    .usage = "alarm-judge [--model NAME] [--by-reward NAME]... [OPTION]... NAME=FILE NAME=FILE...\n"
             "       alarm-judge --summary-only --db FILE [--run ID]... [OPTION]...",
    .about = "Judges every pair of systems on every prompt, in both orders, and prints win rates.\n",
    .opts = opts,
    .page = "alarm-judge(1)",
};

/* The systems are NAME=FILE, each name once: anything else is a usage error. */
static int check_systems(const tool *t)
{
    if (t->nargs < 2)
        return tool_usage(t, "need at least two systems NAME=FILE");
    for (int i = 0; i < t->nargs; i++) {
        const char *s = t->args[i], *eq = strchr(s, '=');
        if (!eq || eq == s || !eq[1])
            return tool_usage(t, "'%s': a system is NAME=FILE", s);
        for (int j = 0; j < i; j++)
            if (!strncmp(t->args[j], s, (size_t)(eq - s) + 1))
                return tool_usage(t, "system name \"%.*s\" is given twice", (int)(eq - s), s);
    }
    return -1;
}

/* --summary-only reads the store and nothing else: options that judge or
 * choose what to judge would be silently ignored, so they are refused. */
static int check_summary_only(const tool *t, const judge_args *a)
{
    if (!a->summary_only)
        return a->nruns ? tool_usage(t, "--run needs --summary-only") : -1;
    if (!t->db)
        return tool_usage(t, "--summary-only needs --db FILE (or ALARM_DB)");
    const char *bad = t->nargs ? t->args[0] : a->model ? "--model" : a->rewards.n ? "--by-reward"
                    : a->dry_run ? "--dry-run" : a->out_path ? "--out"
                    : a->shard_n ? "--shard" : a->max_compare ? "--max-compare" : NULL;
    if (bad)
        return tool_usage(t, "--summary-only judges nothing: '%s' does not go with it", bad);
    return TOOL_OK;
}

int main(int argc, char **argv)
{
    tool t;
    judge_args a = {.bootstrap = 1000, .base_url = DEFAULT_BASE_URL, .key_env = "OPENAI_API_KEY", .holistic = "holistic",
              .http = {.concurrency = 8, .timeout_s = 60, .retries = 5, .backoff_s = 1}};
    tool_init();
    int status = opt_parse(&t, &spec, &a, argc, argv);
    if (status < 0 && (status = check_summary_only(&t, &a)) == TOOL_OK)
        status = summary_only_main(&t, &a);
    else if (status < 0 && !a.model && a.rewards.n == 0)
        status = tool_usage(&t, "no judge: give --model and/or --by-reward");
    if (status < 0)
        status = check_systems(&t);
    if (status < 0)
        status = judging_main(&t, &a);
    opt_list_free(&a.rewards);
    opt_list_free(&a.groups);
    free(a.runs);
    return tool_finish(&t, status);
}
