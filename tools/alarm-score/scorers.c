/* alarm-score's scorer set: --scorer specs opened through the kind table
 * (common/score.h), then --normalize and --lower-better applied by name. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "score_cli.h"

static long find(const scorers *s, const char *name, size_t len)
{
    for (size_t k = 0; k < s->n; k++)
        if (strlen(s->sc[k].spec.name) == len && !strncmp(s->sc[k].spec.name, name, len))
            return (long)k;
    return -1;
}

/* --normalize NAME=MEAN,STD or NAME=auto */
static int set_norm(scorers *s, const char *v, alarm_err *e)
{
    const char *eq = strchr(v, '=');
    long k = eq ? find(s, v, (size_t)(eq - v)) : -1;
    if (k < 0)
        return err_set(e, "--normalize '%s': expected NAME=MEAN,STD or NAME=auto for a --scorer",
                       v);
    score_aspect *a = &s->asp[k];
    if (a->norm)
        return err_set(e, "--normalize: %s given twice", s->sc[k].spec.name);
    if (!strcmp(eq + 1, "auto"))
        return a->norm = SCORE_NORM_AUTO, s->all = 1, 0;
    const char *comma = strchr(eq + 1, ',');
    char mean[64];
    if (!comma || (size_t)(comma - eq - 1) >= sizeof mean)
        return err_set(e, "--normalize '%s': expected NAME=MEAN,STD or NAME=auto", v);
    snprintf(mean, sizeof mean, "%.*s", (int)(comma - eq - 1), eq + 1);
    a->norm = SCORE_NORM_GIVEN;
    if (opt_parse_double("--normalize MEAN", mean, -1e300, 1e300, &a->mean, e) < 0 ||
        opt_parse_double("--normalize STD", comma + 1, 1e-300, 1e300, &a->std, e) < 0)
        return -1;
    return 0;
}

int scorers_open(scorers *s, const opt_list *specs, const opt_list *norms,
                 const opt_list *lower, const score_env *env, alarm_err *e)
{
    if (specs->n == 0)
        return err_set(e, "no --scorer given");
    s->sc = calloc(specs->n, sizeof *s->sc);
    s->asp = calloc(specs->n, sizeof *s->asp);
    if (!s->sc || !s->asp)
        return err_set(e, "out of memory");
    for (size_t k = 0; k < specs->n; k++, s->n++) {
        if (scorer_open(&s->sc[k], specs->v[k], env, e) < 0)
            return s->n++, -1;
        const char *name = s->sc[k].spec.name;
        if (find(s, name, strlen(name)) >= 0)
            return s->n++, err_set(e, "--scorer: two scorers are named %s", name);
    }
    for (size_t k = 0; k < norms->n; k++)
        if (set_norm(s, norms->v[k], e) < 0)
            return -1;
    for (size_t k = 0; k < lower->n; k++) {
        long i = find(s, lower->v[k], strlen(lower->v[k]));
        if (i < 0)
            return err_set(e, "--lower-better %s: no --scorer is named so", lower->v[k]);
        s->asp[i].lower_better = 1;
    }
    return 0;
}

void scorers_close(scorers *s)
{
    for (size_t k = 0; k < s->n; k++)
        scorer_close(&s->sc[k]);
    free(s->sc);
    free(s->asp);
    *s = (scorers){0};
}
