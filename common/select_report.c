/* select_report: alarm-select's consistency report (alarm-formats(5) section 4) as
 * JSON, as a table on stderr, and as rows of the store. Every aspect met in
 * the input is reported, with why it was or was not combined. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "select.h"

/* Why aspect column a is (not) combined, in a few words. */
static void reason(const select_ctx *c, size_t a, char *buf, size_t n)
{
    size_t cands = 0;
    for (size_t i = 0; i < c->names.n; i++)
        cands += c->rank[i] != 0;
    if (!c->o.auto_k) {
        snprintf(buf, n, c->selected[a] ? "given with --aspect" : "not given with --aspect");
    } else if (c->selected[a]) {
        snprintf(buf, n, "picked: rank %zu of %zu by inconsistency", c->rank[a], cands);
    } else if (c->missing[a]) {
        snprintf(buf, n, "not a candidate: absent from %llu records",
                 (unsigned long long)c->missing[a]);
    } else if (c->o.n_aspects && c->rank[a] == 0 && c->counts[a].holistic_nontie > 0) {
        snprintf(buf, n, "not a candidate: not given with --aspect");
    } else if (c->rank[a] == 0) {
        snprintf(buf, n, "not a candidate: no pair with a holistic difference");
    } else if (c->o.max_incons >= 0 && consist_inconsistency(&c->counts[a]) > c->o.max_incons) {
        snprintf(buf, n, "inconsistency above --max-inconsistency %g (rank %zu of %zu)",
                 c->o.max_incons, c->rank[a], cands);
    } else {
        snprintf(buf, n, "rank %zu of %zu: only %zu picked", c->rank[a], cands, c->o.auto_k);
    }
}

static cJSON *aspect_json(const select_ctx *c, size_t a)
{
    const consist_counts *k = &c->counts[a];
    double cons = consist_consistency(k);
    char why[160];
    reason(c, a, why, sizeof why);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "holistic_nontie", (double)k->holistic_nontie);
    cJSON_AddNumberToObject(o, "agree", (double)k->agree);
    cJSON_AddNumberToObject(o, "disagree", (double)k->disagree);
    cJSON_AddNumberToObject(o, "aspect_ties", (double)k->aspect_ties);
    cJSON_AddNumberToObject(o, "inconsistency", consist_inconsistency(k));
    if (isnan(cons))
        cJSON_AddNullToObject(o, "consistency");
    else
        cJSON_AddNumberToObject(o, "consistency", cons);
    cJSON_AddBoolToObject(o, "selected", c->selected[a]);
    cJSON_AddBoolToObject(o, "lower_better", c->lower[a]);
    cJSON_AddNumberToObject(o, "weight", c->col_w[a]);
    cJSON_AddNumberToObject(o, "missing", (double)c->missing[a]);
    cJSON_AddStringToObject(o, "reason", why);
    return o;
}

cJSON *select_report_json(const select_ctx *c)
{
    cJSON *rep = cJSON_CreateObject();
    cJSON_AddStringToObject(rep, "holistic", c->o.holistic);
    cJSON_AddNumberToObject(rep, "records", (double)c->records);
    cJSON_AddNumberToObject(rep, "groups", (double)c->groups);
    cJSON_AddNumberToObject(rep, "pairs", (double)c->pairs);
    cJSON_AddStringToObject(rep, "mode", reward_mode_name(c->o.rc.mode));
    if (c->o.auto_k) {
        char sel[48];
        snprintf(sel, sizeof sel, "auto:%zu", c->o.auto_k);
        cJSON_AddStringToObject(rep, "select", sel);
        if (c->o.max_incons >= 0)
            cJSON_AddNumberToObject(rep, "max_inconsistency", c->o.max_incons);
    } else {
        cJSON_AddStringToObject(rep, "select", "given");
    }
    cJSON *asp = cJSON_AddObjectToObject(rep, "aspects");
    for (size_t a = 0; asp && a < c->names.n; a++)
        cJSON_AddItemToObject(asp, c->names.names[a], aspect_json(c, a));
    return rep;
}

void select_report_table(const select_ctx *c, FILE *f)
{
    fprintf(f, "consistency with \"%s\": %llu records, %llu groups, %llu pairs\n", c->o.holistic,
            (unsigned long long)c->records, (unsigned long long)c->groups,
            (unsigned long long)c->pairs);
    fprintf(f, "%-16s %8s %8s %8s %8s %8s %8s  %s\n", "aspect", "nontie", "agree", "disagree",
            "ties", "incons", "cons", "selected");
    for (size_t a = 0; a < c->names.n; a++) {
        const consist_counts *k = &c->counts[a];
        double cons = consist_consistency(k);
        char why[160], cs[16];
        reason(c, a, why, sizeof why);
        if (isnan(cons))
            snprintf(cs, sizeof cs, "-");
        else
            snprintf(cs, sizeof cs, "%.4f", cons);
        fprintf(f, "%-16s %8llu %8llu %8llu %8llu %8.4f %8s  %s (%s)%s\n", c->names.names[a],
                (unsigned long long)k->holistic_nontie, (unsigned long long)k->agree,
                (unsigned long long)k->disagree, (unsigned long long)k->aspect_ties,
                consist_inconsistency(k), cs, c->selected[a] ? "yes" : "no", why,
                c->lower[a] ? " [lower is better]" : "");
    }
}

static int store_aspects(const select_ctx *c, alarm_err *e)
{
    sqlite3_stmt *st;
    if (db_prepare(c->db, &st,
                   "INSERT INTO selection_aspects (run_id, aspect, holistic_nontie, agree, "
                   "disagree, aspect_ties, inconsistency, consistency, selected, lower_better, "
                   "weight, missing, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   e) < 0)
        return -1;
    int rc = 0;
    for (size_t a = 0; rc == 0 && a < c->names.n; a++) {
        const consist_counts *k = &c->counts[a];
        double cons = consist_consistency(k);
        char why[160];
        reason(c, a, why, sizeof why);
        db_value v[] = {db_int(c->run_id), db_text(c->names.names[a]),
                        db_int((int64_t)k->holistic_nontie), db_int((int64_t)k->agree),
                        db_int((int64_t)k->disagree), db_int((int64_t)k->aspect_ties),
                        db_real(consist_inconsistency(k)), isnan(cons) ? db_null() : db_real(cons),
                        db_int(c->selected[a]), db_int(c->lower[a]), db_real(c->col_w[a]),
                        db_int((int64_t)c->missing[a]), db_text(why)};
        rc = db_put(c->db, st, v, 13, e);
    }
    sqlite3_finalize(st);
    return rc;
}

int select_report_store(const select_ctx *c, alarm_err *e)
{
    cJSON *rep = select_report_json(c);
    char *text = rep ? cJSON_PrintUnformatted(rep) : NULL;
    cJSON_Delete(rep);
    if (!text)
        return err_set(e, "out of memory printing the report");
    sqlite3_stmt *st;
    int rc = db_prepare(c->db, &st,
                        "INSERT INTO selection_reports (run_id, holistic, records, groups, pairs, "
                        "report) VALUES (?, ?, ?, ?, ?, ?)", e);
    if (rc == 0) {
        db_value v[] = {db_int(c->run_id), db_text(c->o.holistic), db_int((int64_t)c->records),
                        db_int((int64_t)c->groups), db_int((int64_t)c->pairs), db_text(text)};
        rc = db_put(c->db, st, v, 6, e);
        sqlite3_finalize(st);
    }
    free(text);
    return rc < 0 ? -1 : store_aspects(c, e);
}
