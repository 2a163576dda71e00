/* What alarm-score's files share (alarm-score(1)): the scorers named by
 * --scorer with their --normalize and --lower-better settings. main.c
 * parses and runs the record loop; scorers.c opens and checks the set. */
#ifndef ALARM_SCORE_CLI_H
#define ALARM_SCORE_CLI_H

#include "opt.h"
#include "score_batch.h"

typedef struct {
    scorer *sc;
    score_aspect *asp;
    size_t n;
    int all; /* one batch: --normalize auto */
} scorers;

/* Opens every --scorer (specs) and applies norms and lower (their option
 * values); an error names the option. Whatever opened is in s for
 * scorers_close, also on failure. */
int scorers_open(scorers *s, const opt_list *specs, const opt_list *norms,
                 const opt_list *lower, const score_env *env, alarm_err *e);
void scorers_close(scorers *s);

#endif
