/* judge_summary: a run's summary as JSON (judge_table.h, alarm-judge(1)
 * OUTPUT and STATISTICS); judge_summary_md.c renders it as Markdown. Rates
 * are rounded for display only: averages are taken over unrounded rates. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "judge_table.h"

static double round_to(double x, double scale) { return round(x * scale) / scale; }

static double cell_rate(const judge_wlt *c, judge_ties ties)
{
    return judge_rate_ties(c->win, c->lose, c->tie, ties);
}

static double average(const judge_tally *t, size_t i, judge_ties ties)
{
    if (t->nsys < 2)
        return 50.0;
    double sum = 0;
    for (size_t j = 0; j < t->nsys; j++)
        if (j != i)
            sum += cell_rate(&t->cells[i * t->nsys + j], ties);
    return sum / (double)(t->nsys - 1);
}

/* A reward judge's inconsistency for the pair, or -1 when it is not defined. */
static double cell_inconsistency(const judge_tally *t, size_t i, size_t j)
{
    size_t k = i < j ? i * t->nsys + j : j * t->nsys + i;
    if (!t->is_reward || t->no_holistic[k])
        return -1;
    return consist_inconsistency(&t->consist[k]);
}

/* The decisive verdicts of i against j with the length differences, into
 * d and won (when not NULL) from *n on; a pooled tally's come from every
 * pair of members, each with its own difference. */
static void lc_collect(const judge_tally *t, size_t i, size_t j, const double *words, double *d,
                       int *won, size_t *n)
{
    size_t ns = t->nsys;
    if (t->src) {
        for (size_t a = 0; a < t->src->nsys; a++)
            for (size_t b = 0; b < t->src->nsys; b++)
                if (t->row_of[a] == i && t->row_of[b] == j)
                    lc_collect(t->src, a, b, t->src_words, d, won, n);
        return;
    }
    for (size_t p = 0; p < t->nprompts; p++) {
        const judge_counts *x = &t->pc[(p * ns + i) * ns + j];
        double diff = d ? words[p * ns + i] - words[p * ns + j] : 0;
        for (int k = 0; k < x->win + x->lose; k++, (*n)++)
            if (d) {
                d[*n] = diff;
                won[*n] = k < x->win;
            }
    }
}

/* The length-controlled rate of i against j from the decisive prompts, or NAN. */
static double cell_lc(const judge_tally *t, size_t i, size_t j, const double *words)
{
    if (t->src)
        words = t->src_words;
    if (!words)
        return NAN;
    size_t cap = 0, n = 0;
    lc_collect(t, i, j, words, NULL, NULL, &cap);
    double *d = malloc((cap ? cap : 1) * sizeof *d);
    int *won = malloc((cap ? cap : 1) * sizeof *won);
    double lc = NAN;
    if (d && won) {
        lc_collect(t, i, j, words, d, won, &n);
        lc = judge_lc_rate(d, won, n);
    }
    free(d);
    free(won);
    return lc;
}

static void add_pair(cJSON *o, const char *name, double a, double b)
{
    double v[2] = {round_to(a, 100), round_to(b, 100)};
    cJSON_AddItemToObject(o, name, cJSON_CreateDoubleArray(v, 2));
}

static cJSON *cell_json(const judge_tally *t, size_t i, size_t j, const judge_summary_opts *o)
{
    const judge_wlt *c = &t->cells[i * t->nsys + j];
    cJSON *cell = cJSON_CreateObject();
    cJSON_AddNumberToObject(cell, "win", (double)c->win);
    cJSON_AddNumberToObject(cell, "lose", (double)c->lose);
    cJSON_AddNumberToObject(cell, "tie", (double)c->tie);
    cJSON_AddNumberToObject(cell, "win_rate", round_to(cell_rate(c, o->ties), 100));
    static const char *const names[] = {"win_rate_exclude", "win_rate_half", "win_rate_loss"};
    for (int k = 0; k < 3; k++)
        cJSON_AddNumberToObject(cell, names[k], round_to(cell_rate(c, (judge_ties)k), 100));
    double lo, hi;
    judge_wilson(c->win, c->win + c->lose, &lo, &hi);
    add_pair(cell, "wilson_95", lo, hi);
    double lc = cell_lc(t, i, j, o->words);
    if (!isnan(lc))
        cJSON_AddNumberToObject(cell, "lc_win_rate", round_to(lc, 100));
    double inc = cell_inconsistency(t, i, j);
    if (inc >= 0)
        cJSON_AddNumberToObject(cell, "inconsistency", round_to(inc, 10000));
    return cell;
}

static void position_json(cJSON *o, const judge_position *q)
{
    cJSON *p = cJSON_AddObjectToObject(o, "position");
    long dec = q->first + q->second;
    cJSON_AddNumberToObject(p, "first_shown_wins", (double)q->first);
    cJSON_AddNumberToObject(p, "second_shown_wins", (double)q->second);
    cJSON_AddNumberToObject(p, "neither", (double)q->neither);
    cJSON_AddNumberToObject(p, "first_shown_rate", round_to(dec ? 100.0 * q->first / dec : 50, 100));
    cJSON_AddNumberToObject(p, "pairs", (double)q->pairs);
    cJSON_AddNumberToObject(p, "agreement", round_to(q->pairs ? 100.0 * q->agree / q->pairs : 100, 100));
}

cJSON *judge_tally_summary(const char *const *systems, const judge_tally *t,
                          const judge_summary_opts *o)
{
    cJSON *obj = cJSON_CreateObject(), *matrix = cJSON_AddObjectToObject(obj, "matrix");
    cJSON *avg = cJSON_AddObjectToObject(obj, "average");
    cJSON *ci = cJSON_AddObjectToObject(obj, "average_ci");
    cJSON *words = o->words ? cJSON_AddObjectToObject(obj, "mean_words") : NULL;
    size_t ns = t->nsys;
    double *lo = malloc(ns * sizeof *lo), *hi = malloc(ns * sizeof *hi);
    alarm_err e;
    int have_ci = lo && hi && o->bootstrap > 0 && t->nprompts > 0 &&
                  judge_bootstrap(t->pc, t->nprompts, ns, o->ties, o->bootstrap, o->seed, lo, hi, &e) == 0;
    for (size_t i = 0; i < ns; i++) {
        cJSON *row = cJSON_AddObjectToObject(matrix, systems[i]);
        for (size_t j = 0; j < ns; j++)
            if (i != j)
                cJSON_AddItemToObject(row, systems[j], cell_json(t, i, j, o));
        cJSON_AddNumberToObject(avg, systems[i], round_to(average(t, i, o->ties), 100));
        if (have_ci)
            add_pair(ci, systems[i], lo[i], hi[i]);
        if (words) {
            double sum = 0;
            for (size_t p = 0; p < t->nprompts; p++)
                sum += o->words[p * ns + i];
            cJSON_AddNumberToObject(words, systems[i], round_to(t->nprompts ? sum / t->nprompts : 0, 10));
        }
    }
    free(lo);
    free(hi);
    if (!t->is_reward) {
        cJSON_AddNumberToObject(obj, "unparseable", (double)t->unparseable);
        cJSON_AddNumberToObject(obj, "failed", (double)t->failed);
        cJSON_AddNumberToObject(obj, "not_made", (double)t->not_made);
        cJSON *u = cJSON_AddObjectToObject(obj, "usage");
        cJSON_AddNumberToObject(u, "prompt_tokens", (double)t->prompt_tokens);
        cJSON_AddNumberToObject(u, "completion_tokens", (double)t->completion_tokens);
        position_json(obj, &t->pos);
    }
    return obj;
}

/* Judgments of the LLM judges that failed for good, and how many they made. */
long judge_failed_of(const judge_tally *t, size_t ntallies, long *total)
{
    long failed = 0;
    *total = 0;
    for (size_t k = 0; k < ntallies; k++)
        if (!t[k].is_reward) {
            failed += t[k].failed;
            *total += t[k].judgments;
        }
    return failed;
}

long judge_not_made(const judge_tally *t, size_t ntallies)
{
    long n = 0;
    for (size_t k = 0; k < ntallies; k++)
        n += t[k].not_made;
    return n;
}

cJSON *judge_summary_json(const char *const *systems, size_t nsys, size_t nprompts,
                          const judge_tally *t, size_t ntallies, const judge_summary_opts *o)
{
    cJSON *obj = cJSON_CreateObject();
    if (!obj)
        return NULL;
    long total, failed = judge_failed_of(t, ntallies, &total);
    long not_made = judge_not_made(t, ntallies);
    if (failed > 0 || not_made > 0) {
        cJSON *p = cJSON_AddObjectToObject(obj, "partial");
        cJSON_AddNumberToObject(p, "failed", (double)failed);
        if (not_made)
            cJSON_AddNumberToObject(p, "not_made", (double)not_made);
        cJSON_AddNumberToObject(p, "judgments", (double)total);
    }
    static const char *const ties[] = {"exclude", "half", "loss"};
    cJSON_AddItemToObject(obj, "systems", cJSON_CreateStringArray(systems, (int)nsys));
    cJSON_AddNumberToObject(obj, "prompts", (double)nprompts);
    cJSON_AddStringToObject(obj, "ties", ties[o->ties]);
    cJSON *judges = cJSON_AddObjectToObject(obj, "judges");
    for (size_t k = 0; k < ntallies; k++)
        cJSON_AddItemToObject(judges, t[k].name, judge_tally_summary(systems, &t[k], o));
    return obj;
}
