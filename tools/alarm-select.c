/* alarm-select: consistency of each aspect reward with the holistic reward,
 * selection of the aspects to trust, and the combined (hierarchical) dense
 * reward of every scored record. See alarm-select(1) and alarm-formats(5)
 * section 4. Options from the table, the record driver, the store run. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drive.h"
#include "opt.h"
#include "out.h"
#include "run.h"
#include "select.h"

typedef struct {
    select_opts sel;
    const char *report;
    char **names;     /* --aspect names split off their weights (owned) */
    opt_list lower;   /* --lower-better */
} args;

static int parse_mode(void *p, const char *v, alarm_err *e)
{
    if (reward_mode_parse(v, &((args *)p)->sel.rc.mode) < 0)
        return err_set(e, "--mode: expected hierarchical, holistic, aspect or sum, not '%s'", v);
    return 0;
}

/* --aspect NAME[=WEIGHT] */
static int parse_aspect(void *p, const char *v, alarm_err *e)
{
    args *a = p;
    size_t k = a->sel.n_aspects;
    char **names = realloc(a->names, (k + 1) * sizeof *names);
    if (names)
        a->names = names;
    double *w = realloc(a->sel.weights, (k + 1) * sizeof *w);
    if (w)
        a->sel.weights = w;
    if (!names || !w)
        return err_set(e, "out of memory");
    const char *eq = strrchr(v, '=');
    size_t len = eq ? (size_t)(eq - v) : strlen(v);
    if (len == 0)
        return err_set(e, "--aspect: '%s' has no name", v);
    if (!(a->names[k] = strndup(v, len)))
        return err_set(e, "out of memory");
    a->sel.n_aspects = k + 1;
    a->sel.aspects = (const char **)a->names;
    w[k] = 1.0;
    return eq ? opt_parse_double("--aspect weight", eq + 1, -1e9, 1e9, &w[k], e) : 0;
}

/* --select auto[:K] */
static int parse_select(void *p, const char *v, alarm_err *e)
{
    long k = 1;
    if (strncmp(v, "auto", 4) || (v[4] && v[4] != ':'))
        return err_set(e, "--select: expected auto or auto:K, not '%s'", v);
    if (v[4] == ':' && opt_parse_long("--select auto:K", v + 5, 1, 1000000, &k, e) < 0)
        return -1;
    ((args *)p)->sel.auto_k = (size_t)k;
    return 0;
}

#define AT(f) offsetof(args, f)
static const opt_def opts[] = {
    {"mode", 0, "M", "hierarchical, holistic, aspect or sum", "hierarchical",
     .type = OPT_CALL, .call = parse_mode},
    {"holistic", 0, "NAME", "the holistic reward's name in \"rewards\"", "holistic",
     .type = OPT_STR, .off = AT(sel.holistic)},
    {"holistic-weight", 0, "W", "weight of the holistic reward", "5", .type = OPT_DOUBLE,
     .off = AT(sel.rc.W), .fmin = -1e9, .fmax = 1e9},
    {"threshold", 0, "TAU", "hierarchical: aspects count only when h >= TAU", "0.6",
     .type = OPT_DOUBLE, .off = AT(sel.rc.tau), .fmin = -1e300, .fmax = 1e300},
    {"aspect", 0, "NAME[=WEIGHT]", "combine this aspect (weight 1); repeatable", .type = OPT_CALL,
     .call = parse_aspect},
    {"select", 0, "auto[:K]", "pick the K (1) aspects with the lowest inconsistency;\n"
     "with --aspect, only among those", .type = OPT_CALL, .call = parse_select},
    {"max-inconsistency", 0, "X", "with --select: pick only aspects at most X (0..1)",
     .type = OPT_DOUBLE, .off = AT(sel.max_incons), .fmin = 0, .fmax = 1},
    {"lower-better", 0, "NAME", "for consistency, lower values of NAME are better",
     .type = OPT_LIST, .off = AT(lower)},
    {"sigmoid-shaping", 0, NULL, "pass aspect and span values through 1/(1+exp(-x))",
     .type = OPT_FLAG, .off = AT(sel.rc.shaping)},
    {"min-tokens", 0, "N", "responses of at most N tokens are too short", "2",
     .type = OPT_LONG, .off = AT(sel.rc.min_tokens), .min = 0, .max = 1000000000},
    {"too-short-penalty", 0, "P", "their reward: W*P on the last token", "-10",
     .type = OPT_DOUBLE, .off = AT(sel.rc.penalty), .fmin = -1e9, .fmax = 1e9},
    {"report", 0, "FILE", "write the consistency report there as JSON", .type = OPT_STR,
     .off = AT(report)},
    {0},
};

static const tool_spec spec = {
    .name = "alarm-select",
    .id = TOOL_SELECT,
    .usage = "alarm-select [--mode hierarchical|holistic|aspect|sum] [--holistic NAME] "
             "[--holistic-weight W] [--threshold TAU] [--aspect NAME[=WEIGHT]]... "
             "[--select auto[:K]] [--max-inconsistency X] [--lower-better NAME]... "
             "[--sigmoid-shaping] [--min-tokens N] [--too-short-penalty P] [--report FILE] "
             "[--db FILE] [FILE...]",
    .about = "Reads scored records (FILE..., or standard input), writes each with a combined\n"
             "\"reward\" field to standard output, and reports how consistent each aspect\n"
             "reward is with the holistic one over pairs of responses to the same prompt.\n",
    .opts = opts,
    .page = "alarm-select(1)",
};

static void args_free(args *a)
{
    for (size_t k = 0; k < a->sel.n_aspects; k++)
        free(a->names[k]);
    free(a->names);
    free(a->sel.weights);
    opt_list_free(&a->lower);
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

static int feed(void *sc, jsonl_reader *r, cJSON **rec, alarm_err *e)
{
    (void)rec;
    return select_feed_line(sc, r, e);
}

/* Reads everything, then writes the report, the table and the store rows. */
static int select_all(select_ctx *sc, const args *a, const tool *t, alarm_err *e)
{
    drive d = {.t = t, .fn = feed, .user = sc, .raw = 1};
    if (drive_files(&d, e) < 0 || select_finish(sc, e) < 0)
        return -1;
    if (a->report && write_report(sc, a->report, e) < 0)
        return -1;
    if (!t->quiet)
        select_report_table(sc, stderr);
    if (sc->nsel == 0 && a->sel.rc.mode != REWARD_HOLISTIC && !t->quiet)
        tool_error(t, "warning: no aspect was selected, so mode %s gives holistic rewards only",
                   reward_mode_name(a->sel.rc.mode));
    if (fflush(stdout) != 0)
        return err_set(e, "error writing standard output: %s", strerror(errno));
    return 0;
}

int main(int argc, char **argv)
{
    tool t;
    args a = {.sel = {.holistic = "holistic", .max_incons = -1}};
    select_ctx sc = {0};
    tool_run run = {0};
    alarm_err e = {{0}};
    tool_init();
    reward_cfg_default(&a.sel.rc);
    int status = opt_parse(&t, &spec, &a, argc, argv);
    a.sel.lower_better = a.lower.v;
    a.sel.n_lower = a.lower.n;
    a.sel.tmpdir = getenv("TMPDIR"); /* where --select auto spills the records */
    if (status < 0 && a.sel.max_incons >= 0 && !a.sel.auto_k)
        status = tool_usage(&t, "--max-inconsistency needs --select auto");
    if (status < 0 && select_init(&sc, &a.sel, stdout, &e) < 0)
        status = tool_usage(&t, "%s", e.msg);
    if (status >= 0)
        goto done;
    if (run_start(&run, &t, &e) < 0 || run_batch_begin(&run, &e) < 0 ||
        (run.db.h && select_store_into(&sc, &run.db, run.id, &e) < 0) ||
        select_all(&sc, &a, &t, &e) < 0) {
        status = tool_fail(&t, e.msg);
        if (run_end(&run, &t, e.msg) < 0)
            status = TOOL_FAIL;
        goto done;
    }
    status = run_end(&run, &t, NULL) < 0 ? TOOL_FAIL : tool_finish(&t, TOOL_OK);
done:
    select_free(&sc);
    args_free(&a);
    return status;
}
