/* alarm-select: consistency of each aspect reward with the holistic reward,
 * selection of the aspects to trust, and the combined (hierarchical) dense
 * reward of every scored record. See alarm-select(1) and FORMATS.md section 4.
 * Options into a struct, validate, loop over files, one cleanup label. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "db.h"
#include "jsonl.h"
#include "select.h"

static const char usage[] =
    "alarm-select [--mode hierarchical|holistic|aspect|sum] [--holistic NAME] "
    "[--holistic-weight W] [--threshold TAU] [--aspect NAME[=WEIGHT]]... [--select auto[:K]] "
    "[--max-inconsistency X] [--lower-better NAME]... [--sigmoid-shaping] [--min-tokens N] "
    "[--too-short-penalty P] [--report FILE] [--db FILE] [FILE...]";

static const char help[] =
    "Reads scored records (FILE..., or standard input), writes each with a combined\n"
    "\"reward\" field to standard output, and reports how consistent each aspect reward\n"
    "is with the holistic one over pairs of responses to the same prompt.\n\n"
    "  --mode M                 hierarchical (default), holistic, aspect or sum\n"
    "  --holistic NAME          the holistic reward's name in \"rewards\" (holistic)\n"
    "  --holistic-weight W      weight of the holistic reward (5)\n"
    "  --threshold TAU          hierarchical: aspects count only when h >= TAU (0.6)\n"
    "  --aspect NAME[=WEIGHT]   combine this aspect (weight 1); repeatable\n"
    "  --select auto[:K]        pick the K (1) aspects with the lowest inconsistency;\n"
    "                           with --aspect, only among those\n"
    "  --max-inconsistency X    with --select: pick only aspects at most X\n"
    "  --lower-better NAME      for consistency, lower values of NAME are better\n"
    "  --sigmoid-shaping        pass aspect and span values through 1/(1+exp(-x))\n"
    "  --min-tokens N           responses of at most N tokens are too short (2)\n"
    "  --too-short-penalty P    their reward: W*P on the last token (-10)\n"
    "  --report FILE            write the consistency report there as JSON\n"
    "  --db FILE                record the run into this store (or $ALARM_DB)\n"
    "  -q, --quiet              no table on standard error\n"
    "  -h, --help, --version\n\nSee alarm-select(1).\n";

enum {
    OPT_MODE = CLI_OPT_FIRST_TOOL_OPT, OPT_HOLISTIC, OPT_HWEIGHT, OPT_THRESHOLD, OPT_ASPECT,
    OPT_SELECT, OPT_MAXINC, OPT_LOWER, OPT_SHAPING, OPT_MINTOK, OPT_PENALTY, OPT_REPORT
};

static const struct option longopts[] = {
    CLI_COMMON_LONGOPTS,
    {"mode", required_argument, 0, OPT_MODE},
    {"holistic", required_argument, 0, OPT_HOLISTIC},
    {"holistic-weight", required_argument, 0, OPT_HWEIGHT},
    {"threshold", required_argument, 0, OPT_THRESHOLD},
    {"aspect", required_argument, 0, OPT_ASPECT},
    {"select", required_argument, 0, OPT_SELECT},
    {"max-inconsistency", required_argument, 0, OPT_MAXINC},
    {"lower-better", required_argument, 0, OPT_LOWER},
    {"sigmoid-shaping", no_argument, 0, OPT_SHAPING},
    {"min-tokens", required_argument, 0, OPT_MINTOK},
    {"too-short-penalty", required_argument, 0, OPT_PENALTY},
    {"report", required_argument, 0, OPT_REPORT},
    {0, 0, 0, 0},
};

typedef struct {
    select_opts sel;
    const char *report;
    int max_given;
    char **names; /* --aspect names split off their weights (owned) */
} options;

/* --aspect NAME[=WEIGHT] */
static int add_aspect(options *o, const char *arg, int argc, alarm_err *e)
{
    size_t k = o->sel.n_aspects;
    if (k == 0 && (!(o->names = calloc((size_t)argc, sizeof *o->names)) ||
                   !(o->sel.weights = calloc((size_t)argc, sizeof *o->sel.weights))))
        return err_set(e, "out of memory");
    const char *eq = strrchr(arg, '=');
    size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
    if (len == 0)
        return err_set(e, "--aspect: '%s' has no name", arg);
    if (!(o->names[k] = strndup(arg, len)))
        return err_set(e, "out of memory");
    o->sel.weights[k] = 1.0;
    o->sel.n_aspects = k + 1;
    o->sel.aspects = (const char **)o->names;
    return eq ? cli_parse_double("--aspect weight", eq + 1, -1e9, 1e9, &o->sel.weights[k], e) : 0;
}

static int parse_select(options *o, const char *arg, alarm_err *e)
{
    long k = 1;
    if (strncmp(arg, "auto", 4) || (arg[4] && arg[4] != ':'))
        return err_set(e, "--select: expected auto or auto:K, not '%s'", arg);
    if (arg[4] == ':' && cli_parse_long("--select auto:K", arg + 5, 1, 1000000, &k, e) < 0)
        return -1;
    o->sel.auto_k = (size_t)k;
    return 0;
}

/* Returns -1 to go on, else the exit status. */
static int parse_args(options *o, cli_common *cli, int argc, char **argv)
{
    alarm_err e = {{0}};
    long n = 0;
    int opt, rc = 0;
    reward_cfg_default(&o->sel.rc);
    o->sel.holistic = "holistic";
    o->sel.max_incons = -1;
    if (!(o->sel.lower_better = calloc((size_t)argc, sizeof *o->sel.lower_better)))
        return cli_usage_error(cli, "out of memory");
    while (rc == 0 && (opt = cli_next_option(cli, argc, argv, longopts)) != -1) {
        switch (opt) {
        case CLI_BAD_SHARED: rc = -2; break;
        case OPT_MODE:
            if (reward_mode_parse(optarg, &o->sel.rc.mode) < 0)
                rc = err_set(&e, "--mode: expected hierarchical, holistic, aspect or sum, "
                             "not '%s'", optarg);
            break;
        case OPT_HOLISTIC: o->sel.holistic = optarg; break;
        case OPT_HWEIGHT:
            rc = cli_parse_double("--holistic-weight", optarg, -1e9, 1e9, &o->sel.rc.W, &e);
            break;
        case OPT_THRESHOLD:
            rc = cli_parse_double("--threshold", optarg, -1e300, 1e300, &o->sel.rc.tau, &e);
            break;
        case OPT_ASPECT: rc = add_aspect(o, optarg, argc, &e); break;
        case OPT_SELECT: rc = parse_select(o, optarg, &e); break;
        case OPT_MAXINC:
            o->max_given = 1;
            rc = cli_parse_double("--max-inconsistency", optarg, 0, 1, &o->sel.max_incons, &e);
            break;
        case OPT_LOWER: o->sel.lower_better[o->sel.n_lower++] = optarg; break;
        case OPT_SHAPING: o->sel.rc.shaping = 1; break;
        case OPT_MINTOK:
            rc = cli_parse_long("--min-tokens", optarg, 0, 1000000000, &n, &e);
            o->sel.rc.min_tokens = n;
            break;
        case OPT_PENALTY:
            rc = cli_parse_double("--too-short-penalty", optarg, -1e9, 1e9, &o->sel.rc.penalty,
                                  &e);
            break;
        case OPT_REPORT: o->report = optarg; break;
        default: return cli_usage_error(cli, "unknown option");
        }
    }
    if (rc == -2)
        return CLI_USAGE;
    if (rc < 0)
        return cli_usage_error(cli, "%s", e.msg);
    if ((rc = cli_help_or_version(cli, help)) >= 0)
        return rc;
    if (o->max_given && !o->sel.auto_k)
        return cli_usage_error(cli, "--max-inconsistency needs --select auto");
    return -1;
}

static void free_options(options *o)
{
    for (size_t k = 0; k < o->sel.n_aspects; k++)
        free(o->names[k]);
    free(o->names);
    free(o->sel.weights);
    free(o->sel.lower_better);
}

static int read_file(select_ctx *sc, const cli_common *cli, const char *path, alarm_err *e)
{
    jsonl_reader r;
    int rc;
    if (jsonl_open(&r, path, e) < 0)
        return -1;
    while ((rc = jsonl_next_line(&r, e)) == 1) {
        if ((rc = select_feed_line(sc, &r, e)) < 0)
            break;
        if ((sc->records & 4095) == 0)
            cli_progress(cli, "%llu records", (unsigned long long)sc->records);
    }
    jsonl_close(&r);
    return rc < 0 ? -1 : 0;
}

static int write_report(const select_ctx *sc, const char *path, alarm_err *e)
{
    cJSON *rep = select_report_json(sc);
    char *text = rep ? cJSON_Print(rep) : NULL;
    cJSON_Delete(rep);
    if (!text)
        return err_set(e, "out of memory printing the report");
    FILE *f = fopen(path, "w");
    int ok = f && fputs(text, f) != EOF && putc('\n', f) != EOF;
    ok = (f && fclose(f) == 0) && ok;
    free(text);
    return ok ? 0 : err_set(e, "%s: cannot write the report: %s", path, strerror(errno));
}

/* Reads everything, writes the records, the report and the store rows. */
static int run(select_ctx *sc, const options *o, const cli_common *cli, int nfiles,
               char **files, alarm_err *e)
{
    for (int i = 0; i < (nfiles ? nfiles : 1); i++)
        if (read_file(sc, cli, nfiles ? files[i] : "-", e) < 0)
            return -1;
    cli_progress_done(cli);
    if (select_finish(sc, e) < 0)
        return -1;
    if (o->report && write_report(sc, o->report, e) < 0)
        return -1;
    if (!cli->quiet)
        select_report_table(sc, stderr);
    if (sc->nsel == 0 && o->sel.rc.mode != REWARD_HOLISTIC && !cli->quiet)
        cli_error(cli, "warning: no aspect was selected, so mode %s gives holistic rewards only",
                  reward_mode_name(o->sel.rc.mode));
    if (fflush(stdout) != 0)
        return err_set(e, "error writing standard output: %s", strerror(errno));
    return 0;
}

int main(int argc, char **argv)
{
    cli_common cli;
    options o = {0};
    select_ctx sc = {0};
    db_store db = {0};
    alarm_err e = {{0}};
    int64_t run_id = 0;
    int status = CLI_FAIL, have_run = 0;
    cli_init(&cli, "alarm-select", usage);
    signal(SIGPIPE, SIG_IGN); /* a closed pipe is a write error we can end on cleanly */
    int rc = parse_args(&o, &cli, argc, argv);
    if (rc >= 0) {
        free_options(&o);
        return rc;
    }
    if (select_init(&sc, &o.sel, stdout, &e) < 0) {
        status = cli_usage_error(&cli, "%s", e.msg);
        goto cleanup;
    }
    if (cli.db_path) {
        char *aj = cli_argv_json(argc, argv);
        rc = db_open(&db, cli.db_path, &e) < 0 ? -1 : db_run_start(&db, "alarm-select", aj, &run_id, &e);
        free(aj);
        if (rc < 0)
            goto fail;
        have_run = 1;
        if (db_begin(&db, &e) < 0 || select_store_into(&sc, &db, run_id, &e) < 0)
            goto fail;
    }
    if (run(&sc, &o, &cli, argc - optind, argv + optind, &e) < 0)
        goto fail;
    if (cli.db_path && (db_commit(&db, &e) < 0 || db_run_finish(&db, run_id, "ok", NULL, &e) < 0))
        goto fail;
    status = cli_finish_stdout(&cli, CLI_OK);
    goto cleanup;
fail:
    if (errno != EPIPE || !strstr(e.msg, "standard output"))
        cli_error(&cli, "%s", e.msg);
    if (cli.db_path && db.h) {
        alarm_err e2;
        db_rollback(&db);
        if (have_run && db_run_finish(&db, run_id, "failed", e.msg, &e2) < 0)
            cli_error(&cli, "%s", e2.msg);
    }
cleanup:
    select_free(&sc);
    db_close(&db);
    free_options(&o);
    return status;
}
