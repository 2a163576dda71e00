/* judge_table: tallies and the run summary (see judge_table.h), and the
 * judgment record shared by every judge (judge.h). Rates are rounded for
 * display only: averages are taken over unrounded rates. */
#include "judge_table.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "judge.h"

const char *judge_verdict_name(int v)
{
    switch (v) {
    case JV_A: return "a";
    case JV_B: return "b";
    case JV_TIE: return "tie";
    case JV_UNPARSEABLE: return "unparseable";
    default: return "failed";
    }
}

int judge_combine(int v_ab, int v_ba)
{
    if (v_ab == v_ba && (v_ab == JV_A || v_ab == JV_B))
        return v_ab;
    return JV_TIE;
}

cJSON *judge_rec_json(const judge_rec *r)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "prompt_id", r->prompt_id);
    cJSON_AddStringToObject(o, "a", r->a);
    cJSON_AddStringToObject(o, "b", r->b);
    cJSON_AddStringToObject(o, "order", r->order);
    cJSON_AddStringToObject(o, "verdict", judge_verdict_name(r->verdict));
    cJSON_AddStringToObject(o, "judge", r->judge);
    cJSON_AddBoolToObject(o, "cached", r->cached);
    if (r->latency_ms >= 0)
        cJSON_AddNumberToObject(o, "latency_ms", round(r->latency_ms));
    else
        cJSON_AddNullToObject(o, "latency_ms");
    if (r->has_values) {
        cJSON_AddNumberToObject(o, "value_a", r->value_a);
        cJSON_AddNumberToObject(o, "value_b", r->value_b);
    }
    if (r->error)
        cJSON_AddStringToObject(o, "error", r->error);
    return o;
}

int judge_tally_init(judge_tally *t, const char *name, size_t nsys, int is_reward, alarm_err *e)
{
    memset(t, 0, sizeof *t);
    size_t n = strlen(name) + 1;
    t->name = malloc(n);
    t->nsys = nsys;
    t->is_reward = is_reward;
    t->cells = calloc(nsys * nsys, sizeof *t->cells);
    t->consist = calloc(nsys * nsys, sizeof *t->consist);
    t->no_holistic = calloc(nsys * nsys, sizeof *t->no_holistic);
    if (!t->name || !t->cells || !t->consist || !t->no_holistic) {
        judge_tally_free(t);
        return err_set(e, "out of memory");
    }
    memcpy(t->name, name, n);
    return 0;
}

void judge_tally_free(judge_tally *t)
{
    free(t->name);
    free(t->cells);
    free(t->consist);
    free(t->no_holistic);
    memset(t, 0, sizeof *t);
}

void judge_tally_add(judge_tally *t, size_t i, size_t j, int verdict)
{
    judge_wlt *ij = &t->cells[i * t->nsys + j], *ji = &t->cells[j * t->nsys + i];
    if (verdict == JV_A) {
        ij->win++;
        ji->lose++;
    } else if (verdict == JV_B) {
        ij->lose++;
        ji->win++;
    } else {
        ij->tie++;
        ji->tie++;
    }
}

double judge_win_rate(const judge_wlt *c)
{
    long n = c->win + c->lose;
    return n ? 100.0 * (double)c->win / (double)n : 50.0;
}

static double round_to(double x, double scale) { return round(x * scale) / scale; }

static double average(const judge_tally *t, size_t i)
{
    if (t->nsys < 2)
        return 50.0;
    double sum = 0;
    for (size_t j = 0; j < t->nsys; j++)
        if (j != i)
            sum += judge_win_rate(&t->cells[i * t->nsys + j]);
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

static cJSON *tally_json(const char *const *systems, const judge_tally *t)
{
    cJSON *o = cJSON_CreateObject(), *matrix = cJSON_AddObjectToObject(o, "matrix");
    cJSON *avg = cJSON_AddObjectToObject(o, "average");
    for (size_t i = 0; i < t->nsys; i++) {
        cJSON *row = cJSON_AddObjectToObject(matrix, systems[i]);
        for (size_t j = 0; j < t->nsys; j++) {
            if (i == j)
                continue;
            const judge_wlt *c = &t->cells[i * t->nsys + j];
            cJSON *cell = cJSON_AddObjectToObject(row, systems[j]);
            cJSON_AddNumberToObject(cell, "win", (double)c->win);
            cJSON_AddNumberToObject(cell, "lose", (double)c->lose);
            cJSON_AddNumberToObject(cell, "tie", (double)c->tie);
            cJSON_AddNumberToObject(cell, "win_rate", round_to(judge_win_rate(c), 100));
            double inc = cell_inconsistency(t, i, j);
            if (inc >= 0)
                cJSON_AddNumberToObject(cell, "inconsistency", round_to(inc, 10000));
        }
        cJSON_AddNumberToObject(avg, systems[i], round_to(average(t, i), 100));
    }
    if (!t->is_reward) {
        cJSON_AddNumberToObject(o, "unparseable", (double)t->unparseable);
        cJSON_AddNumberToObject(o, "failed", (double)t->failed);
    }
    return o;
}

/* Judgments of the LLM judges that failed for good, and how many they made. */
static long failed_of(const judge_tally *t, size_t ntallies, size_t nsys, size_t nprompts,
                      long *total)
{
    long failed = 0;
    *total = 0;
    for (size_t k = 0; k < ntallies; k++)
        if (!t[k].is_reward) {
            failed += t[k].failed;
            *total += (long)(nsys * (nsys - 1) * nprompts); /* both orders of every pair */
        }
    return failed;
}

cJSON *judge_summary_json(const char *const *systems, size_t nsys, size_t nprompts,
                          const judge_tally *t, size_t ntallies)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    long total, failed = failed_of(t, ntallies, nsys, nprompts, &total);
    if (failed > 0) {
        cJSON *p = cJSON_AddObjectToObject(o, "partial");
        cJSON_AddNumberToObject(p, "failed", (double)failed);
        cJSON_AddNumberToObject(p, "judgments", (double)total);
    }
    cJSON_AddItemToObject(o, "systems", cJSON_CreateStringArray(systems, (int)nsys));
    cJSON_AddNumberToObject(o, "prompts", (double)nprompts);
    cJSON *judges = cJSON_AddObjectToObject(o, "judges");
    for (size_t k = 0; k < ntallies; k++)
        cJSON_AddItemToObject(judges, t[k].name, tally_json(systems, &t[k]));
    return o;
}

int judge_summary_markdown(FILE *out, const char *const *systems, size_t nsys,
                           size_t nprompts, const judge_tally *t, size_t ntallies)
{
    long total, failed = failed_of(t, ntallies, nsys, nprompts, &total);
    if (failed > 0)
        fprintf(out, "partial: %ld of %ld judgments failed for good and count as ties\n\n",
                failed, total);
    for (size_t k = 0; k < ntallies; k++) {
        fprintf(out, "%s## %s\n\n", k ? "\n" : "", t[k].name);
        fprintf(out, "Win rate of the row against the column, in %% (win-lose-tie%s), "
                     "over %zu prompts.\n\n|  |",
                t[k].is_reward ? "; inconsistency with the holistic reward" : "", nprompts);
        for (size_t j = 0; j < nsys; j++)
            fprintf(out, " %s |", systems[j]);
        fputs(" average |\n|---|", out);
        for (size_t j = 0; j <= nsys; j++)
            fputs("---:|", out);
        fputc('\n', out);
        for (size_t i = 0; i < nsys; i++) {
            fprintf(out, "| %s |", systems[i]);
            for (size_t j = 0; j < nsys; j++) {
                const judge_wlt *c = &t[k].cells[i * nsys + j];
                if (i == j) {
                    fputs(" - |", out);
                    continue;
                }
                fprintf(out, " %.2f (%ld-%ld-%ld", judge_win_rate(c), c->win, c->lose, c->tie);
                double inc = cell_inconsistency(&t[k], i, j);
                if (inc >= 0)
                    fprintf(out, "; %.4f", inc);
                fputs(") |", out);
            }
            fprintf(out, " %.2f |\n", average(&t[k], i));
        }
        if (!t[k].is_reward && (t[k].unparseable || t[k].failed))
            fprintf(out, "\n%ld unparseable answers and %ld failed judgments counted as ties.\n",
                    t[k].unparseable, t[k].failed);
    }
    return ferror(out) ? -1 : 0;
}
