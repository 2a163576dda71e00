/* summary: alarm-judge's summary, from a run's tallies or from a store's
 * judgments (--summary-only), with systems pooled into rows (--group), on
 * standard output and into the store's judge_summaries (alarm-formats(5)
 * section 8). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "judge_store.h"
#include "jsonl.h"
#include "judging.h"
#include "out.h"

void rows_free(judge_rows *r)
{
    for (size_t k = 0; k < r->nrows; k++)
        free(r->names[k]);
    free(r->names);
    free(r->row_of);
    *r = (judge_rows){0};
}

/* The row named name (n bytes) of `by` (the --group text, or NULL for a
 * system's own row), made when first met; a name that is both a group and
 * another row is a usage error in *status. */
static size_t row_named(const tool *t, judge_rows *r, const char **by, const char *name,
                        size_t n, const char *group, int *status)
{
    for (size_t k = 0; k < r->nrows; k++)
        if (strlen(r->names[k]) == n && !strncmp(r->names[k], name, n)) {
            if (by[k] != group || !group)
                *status = tool_usage(t, "--group: \"%.*s\" names a group and a system or "
                                        "another group", (int)n, name);
            return k;
        }
    by[r->nrows] = group;
    if (!(r->names[r->nrows] = strndup(name, n)))
        *status = tool_fail(t, "out of memory");
    return r->nrows++;
}

/* The --group whose members name system `s`, or NULL; a usage error (in
 * *status) when a group is malformed or two groups name it. */
static const char *group_of(const tool *t, const opt_list *groups, const char *s, int *status)
{
    const char *found = NULL;
    size_t ns = strlen(s);
    for (size_t g = 0; g < groups->n && *status < 0; g++) {
        const char *v = groups->v[g], *eq = strchr(v, '=');
        if (!eq || eq == v || !eq[1]) {
            *status = tool_usage(t, "--group '%s': expected NAME=SYSTEM,SYSTEM...", v);
            break;
        }
        for (const char *m = eq + 1; *m;) {
            size_t n = strcspn(m, ",");
            if (n == ns && !strncmp(m, s, n)) {
                if (found && found != v)
                    *status = tool_usage(t, "--group: system \"%s\" is in two groups", s);
                found = v;
            }
            m += n + (m[n] == ',');
        }
    }
    return found;
}

/* Every member must be a system judged: a misspelt one would drop out silently. */
static int members_known(const tool *t, const opt_list *groups, char *const *systems,
                         size_t nsys)
{
    for (size_t g = 0; g < groups->n; g++)
        for (const char *m = strchr(groups->v[g], '=') + 1; *m;) {
            size_t n = strcspn(m, ","), s = 0;
            while (s < nsys && (strlen(systems[s]) != n || strncmp(systems[s], m, n)))
                s++;
            if (s == nsys)
                return tool_usage(t, "--group: no system \"%.*s\" was judged", (int)n, m);
            m += n + (m[n] == ',');
        }
    return -1;
}

int rows_resolve(const tool *t, const opt_list *groups, char *const *systems, size_t nsys,
                 judge_rows *r)
{
    size_t cap = nsys ? nsys : 1;
    const char **by = calloc(cap, sizeof *by);
    *r = (judge_rows){.names = calloc(cap, sizeof *r->names),
                      .row_of = calloc(cap, sizeof *r->row_of), .pooled = groups->n > 0};
    int status = by && r->names && r->row_of ? -1 : tool_fail(t, "out of memory");
    for (size_t s = 0; s < nsys && status < 0; s++) {
        const char *g = group_of(t, groups, systems[s], &status);
        if (status < 0)
            r->row_of[s] = g ? row_named(t, r, by, g, (size_t)(strchr(g, '=') - g), g, &status)
                             : row_named(t, r, by, systems[s], strlen(systems[s]), NULL, &status);
    }
    if (status < 0)
        status = members_known(t, groups, systems, nsys);
    free(by);
    if (status >= 0)
        rows_free(r);
    return status;
}

int summary_write(const tool *t, const judge_args *a, const summary_in *in, tool_run *run,
                  alarm_err *e)
{
    const judge_rows *r = in->rows;
    judge_tally *pooled = r->pooled ? calloc(in->nt ? in->nt : 1, sizeof *pooled) : NULL;
    double *words = r->pooled ? judge_words_pool(in->words, in->nprompts, in->nsys, r->row_of,
                                                 r->nrows) : NULL;
    size_t np = 0;
    int rc = r->pooled && (!pooled || (in->words && !words)) ? err_set(e, "out of memory") : 0;
    for (; rc == 0 && r->pooled && np < in->nt; np++)
        rc = judge_tally_pool(&pooled[np], &in->tallies[np], r->row_of, r->nrows, in->words, e);
    const judge_tally *tallies = r->pooled ? pooled : in->tallies;
    judge_summary_opts so = {.ties = (judge_ties)a->ties, .bootstrap = (int)a->bootstrap,
                             .seed = t->seed, .words = r->pooled ? words : in->words};
    const char *const *names = (const char *const *)r->names;
    cJSON *sum = NULL;
    if (rc == 0 && (a->json || run->db.h) &&
        !(sum = judge_summary_json(names, r->nrows, in->nprompts, tallies, in->nt, &so)))
        rc = err_set(e, "out of memory");
    if (rc == 0 && a->json && jsonl_write(stdout, sum, e) < 0)
        rc = err_set(e, "error writing the summary");
    if (rc == 0 && !a->json &&
        judge_summary_markdown(stdout, names, r->nrows, in->nprompts, tallies, in->nt, &so) < 0)
        rc = err_set(e, "error writing the summary");
    /* the JSON whatever --format says: it is the one a query can read */
    char *text = rc == 0 && run->db.h ? cJSON_PrintUnformatted(sum) : NULL;
    if (rc == 0 && run->db.h && (!text || judge_store_summary(&run->db, run->id, text, e) < 0))
        rc = text ? -1 : err_set(e, "out of memory");
    free(text);
    cJSON_Delete(sum);
    for (size_t k = 0; pooled && k < np; k++)
        judge_tally_free(&pooled[k]);
    free(pooled);
    free(words);
    return rc;
}

int summary_only_main(const tool *t, const judge_args *a)
{
    /* db_open would create a missing store: an empty one has nothing to sum */
    if (access(t->db, F_OK) != 0) {
        tool_error(t, "%s: no such store", t->db);
        return TOOL_FAIL;
    }
    tool_run run = {0};
    judge_stored st = {0};
    judge_rows rows = {0};
    alarm_err e;
    int status = TOOL_OK;
    if (run_start(&run, t, &e) < 0 ||
        judge_store_load(&run.db, a->nruns ? a->runs : NULL, a->nruns, &st, &e) < 0) {
        status = tool_fail(t, e.msg);
    } else if ((status = rows_resolve(t, &a->groups, st.systems, st.nsys, &rows)) >= 0) {
        err_set(&e, "usage error");
    } else {
        summary_in in = {.tallies = st.tallies, .nt = st.nt, .nsys = st.nsys,
                         .nprompts = st.nprompts, .words = st.words, .rows = &rows};
        status = summary_write(t, a, &in, &run, &e) < 0 ? tool_fail(t, e.msg) : TOOL_OK;
    }
    if (run_end(&run, t, status == TOOL_OK ? NULL : e.msg) < 0)
        status = TOOL_FAIL;
    rows_free(&rows);
    judge_stored_free(&st);
    return status;
}
