/* alarm-judge: pairwise judging of systems' responses by an LLM through any
 * OpenAI-compatible chat-completions endpoint (both orders, concurrent,
 * cached), and by rewards; prints win-rate tables (FORMATS.md section 6).
 * The API key is read from the environment only and goes nowhere but the
 * Authorization header. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "db.h"
#include "jsonl.h"
#include "judge_run.h"

#define USAGE "alarm-judge [--model NAME] [--by-reward NAME]... [OPTION]... NAME=FILE NAME=FILE..."
#define DEFAULT_BASE_URL "https://api.openai.com/v1"

typedef struct {
    cli_common c;
    const char *base_url, *model, *key_env, *template_path, *out_path, *holistic;
    int use_tool, json;
    http_opts http;
    long max_compare;
    const char **rewards; /* --by-reward specs, as given */
    size_t nrewards;
} judge_opts;

enum {
    OPT_BASE_URL = CLI_OPT_FIRST_TOOL_OPT, OPT_MODEL, OPT_KEY_ENV, OPT_TEMPLATE, OPT_CONC,
    OPT_RPM, OPT_TPM, OPT_TIMEOUT, OPT_RETRIES, OPT_BACKOFF, OPT_MAX_COMPARE, OPT_BY_REWARD,
    OPT_HOLISTIC, OPT_TOOL_CALL, OPT_OUT, OPT_FORMAT
};

static const struct option longopts[] = {
    CLI_COMMON_LONGOPTS,
    {"base-url", required_argument, 0, OPT_BASE_URL},
    {"model", required_argument, 0, OPT_MODEL},
    {"api-key-env", required_argument, 0, OPT_KEY_ENV},
    {"template", required_argument, 0, OPT_TEMPLATE},
    {"concurrency", required_argument, 0, OPT_CONC},
    {"rpm", required_argument, 0, OPT_RPM},
    {"tpm", required_argument, 0, OPT_TPM},
    {"timeout", required_argument, 0, OPT_TIMEOUT},
    {"retries", required_argument, 0, OPT_RETRIES},
    {"backoff", required_argument, 0, OPT_BACKOFF},
    {"max-compare", required_argument, 0, OPT_MAX_COMPARE},
    {"by-reward", required_argument, 0, OPT_BY_REWARD},
    {"holistic", required_argument, 0, OPT_HOLISTIC},
    {"tool-call", no_argument, 0, OPT_TOOL_CALL},
    {"out", required_argument, 0, OPT_OUT},
    {"format", required_argument, 0, OPT_FORMAT},
    {0, 0, 0, 0},
};

static const char help_text[] =
    "Judges every pair of systems on every prompt, in both orders, and prints win rates.\n"
    "  --model NAME          LLM judge (OpenAI-compatible chat completions)\n"
    "  --base-url URL        endpoint base (default " DEFAULT_BASE_URL ")\n"
    "  --api-key-env VAR     environment variable holding the key (default OPENAI_API_KEY)\n"
    "  --template FILE       system and user message, separated by a line '---'\n"
    "  --tool-call           ask the judge to answer through a function call\n"
    "  --concurrency N       requests in flight (default 8)\n"
    "  --rpm N, --tpm N      requests / tokens per minute (default unlimited)\n"
    "  --timeout S           seconds per attempt (default 60)\n"
    "  --retries N           retries on timeouts, connection errors, 429, 5xx (default 5)\n"
    "  --backoff S           first retry delay, doubled per retry (default 1)\n"
    "  --max-compare N       judge a seeded random subset of N prompts\n"
    "  --by-reward [-]NAME   add judge reward:NAME (higher wins; '-': lower wins)\n"
    "  --holistic NAME       holistic reward for inconsistency (default holistic)\n"
    "  --out FILE            judgments as JSONL\n"
    "  --format F            summary as markdown (default) or json\n"
    "  --db FILE, --seed S, -q, --help, --version\n";

/* Range-checked numbers; a bad one is a usage error (message printed). */
static int num_long(judge_opts *o, const char *name, const char *s, long lo, long hi, long *out)
{
    alarm_err e;
    if (cli_parse_long(name, s, lo, hi, out, &e) < 0)
        return cli_usage_error(&o->c, "%s", e.msg);
    return 0;
}

static int num_double(judge_opts *o, const char *name, const char *s, double lo, double *out)
{
    alarm_err e;
    if (cli_parse_double(name, s, lo, 1e12, out, &e) < 0)
        return cli_usage_error(&o->c, "%s", e.msg);
    return 0;
}

static int parse_args(judge_opts *o, int argc, char **argv)
{
    int opt, bad = 0;
    long n;
    while (!bad && (opt = cli_next_option(&o->c, argc, argv, longopts)) != -1) {
        switch (opt) {
        case CLI_BAD_SHARED: bad = 1; break;
        case OPT_BASE_URL: o->base_url = optarg; break;
        case OPT_MODEL: o->model = optarg; break;
        case OPT_KEY_ENV: o->key_env = optarg; break;
        case OPT_TEMPLATE: o->template_path = optarg; break;
        case OPT_TOOL_CALL: o->use_tool = 1; break;
        case OPT_OUT: o->out_path = optarg; break;
        case OPT_HOLISTIC: o->holistic = optarg; break;
        case OPT_BY_REWARD:
            if (!optarg[0] || (optarg[0] == '-' && !optarg[1]))
                return cli_usage_error(&o->c, "--by-reward: empty reward name");
            o->rewards[o->nrewards++] = optarg;
            break;
        case OPT_FORMAT:
            if (strcmp(optarg, "json") && strcmp(optarg, "markdown"))
                return cli_usage_error(&o->c, "--format: '%s' is not markdown or json", optarg);
            o->json = strcmp(optarg, "json") == 0;
            break;
        case OPT_CONC:
            bad = num_long(o, "--concurrency", optarg, 1, 1024, &n);
            o->http.concurrency = (int)n;
            break;
        case OPT_RETRIES:
            bad = num_long(o, "--retries", optarg, 0, 100, &n);
            o->http.retries = (int)n;
            break;
        case OPT_MAX_COMPARE: bad = num_long(o, "--max-compare", optarg, 1, LONG_MAX, &o->max_compare); break;
        case OPT_RPM: bad = num_double(o, "--rpm", optarg, 0, &o->http.rpm); break;
        case OPT_TPM: bad = num_double(o, "--tpm", optarg, 0, &o->http.tpm); break;
        case OPT_TIMEOUT: bad = num_double(o, "--timeout", optarg, 0.001, &o->http.timeout_s); break;
        case OPT_BACKOFF: bad = num_double(o, "--backoff", optarg, 0, &o->http.backoff_s); break;
        default: return cli_usage_error(&o->c, "unknown option");
        }
    }
    return bad ? CLI_USAGE : CLI_OK;
}

static void show_progress(void *user, const judge_progress *p)
{
    const cli_common *c = user;
    double rate = p->elapsed_s > 0 ? (double)(p->sent - p->retries) / p->elapsed_s : 0;
    cli_progress(c, "%ld/%ld judged, %.0f requests/s, %ld retries, %ld cache hits", p->done,
                 p->total, rate, p->retries, p->cached);
}

/* "Authorization: Bearer KEY" (malloc'd), NULL when no key is set. The
 * default endpoint needs one; a local server may not. */
static int auth_header(judge_opts *o, char **out)
{
    *out = NULL;
    const char *key = getenv(o->key_env);
    if (!key || !*key) {
        if (strcmp(o->base_url, DEFAULT_BASE_URL) == 0) {
            cli_error(&o->c, "the API key variable %s is not set", o->key_env);
            return CLI_USAGE;
        }
        return CLI_OK;
    }
    size_t n = strlen(key) + sizeof "Authorization: Bearer ";
    if (!(*out = malloc(n)))
        return CLI_FAIL;
    snprintf(*out, n, "Authorization: Bearer %s", key);
    return CLI_OK;
}

static void free_secret(char *s)
{
    if (s) {
        memset(s, 0, strlen(s)); /* keep the key out of later heap reuse */
        free(s);
    }
}

/* Writes the summary on stdout and a line of counts on stderr. */
static int summarise(judge_opts *o, const judge_set *set, const judge_tally *t, size_t nt,
                     const judge_progress *p)
{
    const char **names = malloc(set->nsys * sizeof *names);
    if (!names)
        return -1;
    for (size_t s = 0; s < set->nsys; s++)
        names[s] = set->sys[s].name;
    int rc = 0;
    if (o->json) {
        cJSON *sum = judge_summary_json(names, set->nsys, set->nprompts, t, nt);
        alarm_err e;
        rc = sum ? jsonl_write(stdout, sum, &e) : -1;
        cJSON_Delete(sum);
    } else
        rc = judge_summary_markdown(stdout, names, set->nsys, set->nprompts, t, nt);
    free(names);
    if (o->model && !o->c.quiet)
        fprintf(stderr, "%s: %ld judgments: %ld requests answered, %ld from the cache, "
                        "%ld shared, %ld identical, %ld retries, %ld unparseable, "
                        "%ld failed for good\n",
                o->c.tool, p->total, p->sent - p->retries - p->failed_requests, p->cached,
                p->shared, p->identical, p->retries, p->unparseable, p->failed);
    return rc;
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

int main(int argc, char **argv)
{
    judge_opts o = {.base_url = DEFAULT_BASE_URL, .key_env = "OPENAI_API_KEY",
                    .holistic = "holistic",
                    .http = {.concurrency = 8, .timeout_s = 60, .retries = 5, .backoff_s = 1}};
    cli_init(&o.c, "alarm-judge", USAGE);
    const char *rewards[argc];
    o.rewards = rewards;
    int status = parse_args(&o, argc, argv);
    if (status != CLI_OK)
        return status;
    status = cli_help_or_version(&o.c, help_text);
    if (status >= 0)
        return status;
    if (!o.model && o.nrewards == 0)
        return cli_usage_error(&o.c, "no judge: give --model and/or --by-reward");
    if (argc - optind < 2)
        return cli_usage_error(&o.c, "need at least two systems NAME=FILE");

    judge_set set = {0};
    judge_tmpl tmpl = {0};
    judge_tally *tallies = calloc(o.nrewards + 1, sizeof *tallies);
    size_t nt = 0;
    judge_progress prog = {0};
    db_store db = {0};
    judge_store store = {0};   /* cache lookups */
    judge_writer *writer = NULL; /* cache rows and judgments */
    int64_t run_id = 0;
    char *auth = NULL, *url = chat_url(o.base_url), *argv_json = NULL;
    FILE *out = NULL;
    alarm_err e;
    const char *why = NULL; /* the failure, for the store's runs row */
    const char *names[argc];
    for (size_t k = 0; k < o.nrewards; k++)
        names[k] = rewards[k] + (rewards[k][0] == '-');
    if (!tallies || !url)
        goto fail_oom;
    if (o.model) {
        if ((status = auth_header(&o, &auth)) != CLI_OK)
            goto done; /* the message is out */
        if (judge_tmpl_load(&tmpl, o.template_path, &e) < 0)
            goto fail;
    }
    if (judge_set_load(&set, argv + optind, (size_t)(argc - optind), names, o.nrewards,
                       o.holistic, &e) < 0)
        goto fail;
    if (o.max_compare > 0)
        judge_set_subset(&set, (size_t)o.max_compare, o.c.seed);
    if (o.out_path && !(out = fopen(o.out_path, "w"))) {
        err_set(&e, "%s: cannot open: %m", o.out_path);
        goto fail;
    }
    if (o.c.db_path) {
        if (!(argv_json = cli_argv_json(argc, argv)))
            goto fail_oom;
        if (db_open(&db, o.c.db_path, &e) < 0 ||
            db_run_start(&db, o.c.tool, argv_json, &run_id, &e) < 0 ||
            judge_store_open(&store, &db, run_id, &e) < 0 ||
            judge_writer_start(&writer, o.c.db_path, run_id, &e) < 0)
            goto fail;
    }
    if (o.model) {
        judge_llm_cfg cfg = {.endpoint = url, .model = o.model, .tmpl = &tmpl,
                             .use_tool = o.use_tool, .http = o.http, .out = out,
                             .store = o.c.db_path ? &store : NULL, .writer = writer,
                             .progress = show_progress, .progress_user = &o.c};
        cfg.http.url = url;
        cfg.http.auth_header = auth;
        cfg.http.seed = o.c.seed;
        if (judge_tally_init(&tallies[nt], o.model, set.nsys, 0, &e) < 0)
            goto fail;
        nt++;
        int rc = judge_run_llm(&set, &cfg, &tallies[nt - 1], &prog, &e);
        cli_progress_done(&o.c);
        if (rc < 0)
            goto fail;
    }
    for (size_t k = 0; k < o.nrewards; k++) {
        char jname[512];
        snprintf(jname, sizeof jname, "reward:%s", rewards[k]);
        if (judge_tally_init(&tallies[nt], jname, set.nsys, 1, &e) < 0)
            goto fail;
        nt++;
        if (judge_run_reward(&set, rewards[k], out, writer, &tallies[nt - 1], &e) < 0)
            goto fail;
    }
    int wrc = judge_writer_finish(writer, &e);
    writer = NULL;
    if (wrc < 0 || (o.c.db_path && judge_store_close(&store, &e) < 0))
        goto fail;
    FILE *f = out;
    out = NULL;
    if (f && fclose(f) != 0) {
        err_set(&e, "%s: write error: %m", o.out_path);
        goto fail;
    }
    if (summarise(&o, &set, tallies, nt, &prog) < 0) {
        err_set(&e, "error writing the summary");
        goto fail;
    }
    status = CLI_OK;
    if (prog.failed > 0) {
        cli_error(&o.c, "%ld judgments failed for good and were counted as ties; "
                        "rerun with the same --db to retry only them", prog.failed);
        why = "some requests failed for good";
        status = CLI_FAIL;
    }
    goto done;
fail_oom:
    err_set(&e, "out of memory");
fail:
    cli_error(&o.c, "%s", e.msg);
    why = e.msg;
    status = CLI_FAIL;
done:
    judge_writer_finish(writer, NULL);
    if (db.h) {
        judge_store_close(&store, NULL);
        db_run_finish(&db, run_id, status == CLI_OK ? "ok" : "failed", why, NULL);
        db_close(&db);
    }
    if (out)
        fclose(out);
    for (size_t k = 0; k < nt; k++)
        judge_tally_free(&tallies[k]);
    free(tallies);
    judge_set_free(&set);
    judge_tmpl_free(&tmpl);
    free_secret(auth);
    free(url);
    free(argv_json);
    return cli_finish_stdout(&o.c, status);
}
