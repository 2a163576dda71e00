/* report: what alarm-judge prints after the judging (judging.h): the
 * summary with a line of counts, and after judgments failed for good, their
 * causes and whether a rerun can help. */
#include <stdio.h>

#include "judging.h"
#include "out.h"

/* Writes the summary on stdout (and the store) and a line of counts on stderr. */
int judging_summarise(const tool *t, const judge_args *a, judging *j, alarm_err *e)
{
    const judge_progress *p = &j->prog;
    summary_in in = {.tallies = j->tallies, .nt = j->nt, .nsys = j->set.nsys,
                     .nprompts = j->set.nprompts, .words = j->words, .rows = &j->rows};
    int rc = summary_write(t, a, &in, &j->run, e);
    if (a->model && !t->quiet)
        fprintf(stderr, "%s: %ld judgments: %ld requests answered, %ld from the cache, "
                        "%ld shared, %ld identical, %ld retries, %ld unparseable, "
                        "%ld failed for good\n",
                t->name, p->total, p->sent - p->retries - p->failed_requests, p->cached,
                p->shared, p->identical, p->retries, p->unparseable, p->failed);
    return rc;
}

/* Each distinct cause of the failed requests, first occurrence and count. */
static void report_causes(const tool *t, const judge_causes *cs)
{
    for (size_t i = 0; i < cs->n; i++)
        tool_error(t, "%s (%ld request%s)", cs->c[i].what, cs->c[i].requests,
                   cs->c[i].requests == 1 ? "" : "s");
    if (cs->other)
        tool_error(t, "and %ld more request%s that failed otherwise", cs->other,
                   cs->other == 1 ? "" : "s");
}

/* After judgments failed for good: their causes, what they mean for the
 * summary, and the rerun advice only when a rerun can help: a store keeps
 * the answers and some cause was transient (the retries ran out). Fills e
 * with the message for the run row. */
void judging_report_failures(const tool *t, const judging *j, alarm_err *e)
{
    const judge_progress *p = &j->prog;
    report_causes(t, &p->causes);
    const judge_cause *first = NULL; /* for the run row: the first fatal cause, or the first */
    for (size_t i = 0; i < p->causes.n; i++)
        if (!first || (p->causes.c[i].fatal && !first->fatal))
            first = &p->causes.c[i];
    err_set(e, "%ld judgments failed for good%s%s", p->failed, first ? ": " : "",
            first ? first->what : "");
    if (p->stopped) {
        tool_error(t, "stopped at an error no retry can fix: %ld of %ld judgments failed for "
                      "good, %ld not made; no summary", p->failed, p->total, p->total - p->done);
        return;
    }
    if (j->run.db.h && judge_causes_transient(&p->causes))
        tool_error(t, "%ld judgments failed for good and count as ties in a partial summary; "
                      "rerun with the same --db to retry only them", p->failed);
    else
        tool_error(t, "%ld judgments failed for good and count as ties in a partial summary",
                   p->failed);
}
