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

int judge_verdict_parse(const char *name)
{
    for (int v = JV_A; name && v <= JV_FAILED; v++)
        if (!strcmp(name, judge_verdict_name(v)))
            return v;
    return -1;
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

int judge_tally_init(judge_tally *t, const char *name, size_t nsys, size_t nprompts,
                     int is_reward, alarm_err *e)
{
    memset(t, 0, sizeof *t);
    size_t n = strlen(name) + 1;
    t->name = malloc(n);
    t->nsys = nsys;
    t->nprompts = nprompts;
    t->is_reward = is_reward;
    t->judgments = is_reward ? 0 : (long)(nsys * (nsys - 1) * nprompts);
    t->cells = calloc(nsys * nsys, sizeof *t->cells);
    t->consist = calloc(nsys * nsys, sizeof *t->consist);
    t->no_holistic = calloc(nsys * nsys, sizeof *t->no_holistic);
    t->pc = calloc((nprompts ? nprompts : 1) * nsys * nsys, sizeof *t->pc);
    if (!t->name || !t->cells || !t->consist || !t->no_holistic || !t->pc) {
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
    free(t->pc);
    memset(t, 0, sizeof *t);
}

void judge_tally_add(judge_tally *t, size_t p, size_t i, size_t j, int verdict)
{
    judge_wlt *ij = &t->cells[i * t->nsys + j], *ji = &t->cells[j * t->nsys + i];
    judge_counts *pij = &t->pc[(p * t->nsys + i) * t->nsys + j];
    judge_counts *pji = &t->pc[(p * t->nsys + j) * t->nsys + i];
    if (verdict == JV_A) {
        ij->win++, pij->win++;
        ji->lose++, pji->lose++;
    } else if (verdict == JV_B) {
        ij->lose++, pij->lose++;
        ji->win++, pji->win++;
    } else {
        ij->tie++, pij->tie++;
        ji->tie++, pji->tie++;
    }
}

void judge_tally_orders(judge_tally *t, int v_ab, int v_ba)
{
    judge_position *q = &t->pos;
    /* ab showed i first: JV_A is a first-shown win; ba showed j first: JV_B is */
    q->first += (v_ab == JV_A) + (v_ba == JV_B);
    q->second += (v_ab == JV_B) + (v_ba == JV_A);
    q->neither += (v_ab != JV_A && v_ab != JV_B) + (v_ba != JV_A && v_ba != JV_B);
    int dab = v_ab == JV_A || v_ab == JV_B, dba = v_ba == JV_A || v_ba == JV_B;
    q->pairs += dab || dba;
    q->agree += dab && v_ab == v_ba;
}

double judge_win_rate(const judge_wlt *c)
{
    long n = c->win + c->lose;
    return n ? 100.0 * (double)c->win / (double)n : 50.0;
}

