/* judge_summary_md: the summary as Markdown, rendered from the JSON of
 * judge_summary.c so the two never disagree: per judge the win-rate matrix
 * as before, then its statistics (alarm-judge(1), STATISTICS). */
#include <string.h>

#include "judge_table.h"

static double num(const cJSON *o, const char *key)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(x) ? x->valuedouble : 0;
}

static const cJSON *at(const cJSON *o, const char *a, const char *b)
{
    return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, a), b);
}

static void matrix(FILE *out, const char *const *systems, size_t nsys, const cJSON *j, int reward)
{
    fputs("|  |", out);
    for (size_t c = 0; c < nsys; c++)
        fprintf(out, " %s |", systems[c]);
    fputs(" average |\n|---|", out);
    for (size_t c = 0; c <= nsys; c++)
        fputs("---:|", out);
    fputc('\n', out);
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "matrix");
    for (size_t r = 0; r < nsys; r++) {
        fprintf(out, "| %s |", systems[r]);
        for (size_t c = 0; c < nsys; c++) {
            const cJSON *cell = r == c ? NULL : at(m, systems[r], systems[c]);
            if (!cell) {
                fputs(" - |", out);
                continue;
            }
            fprintf(out, " %.2f (%.0f-%.0f-%.0f", num(cell, "win_rate"), num(cell, "win"),
                    num(cell, "lose"), num(cell, "tie"));
            if (reward && cJSON_GetObjectItemCaseSensitive(cell, "inconsistency"))
                fprintf(out, "; %.4f", num(cell, "inconsistency"));
            fputs(") |", out);
        }
        fprintf(out, " %.2f |\n", num(cJSON_GetObjectItemCaseSensitive(j, "average"), systems[r]));
    }
}

static void pair(FILE *out, const cJSON *a)
{
    if (cJSON_GetArraySize(a) == 2)
        fprintf(out, " %.2f-%.2f |", cJSON_GetArrayItem(a, 0)->valuedouble,
                cJSON_GetArrayItem(a, 1)->valuedouble);
    else
        fputs(" - |", out);
}

static void stats(FILE *out, const char *const *systems, size_t nsys, const cJSON *j,
                  const judge_summary_opts *o)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "matrix");
    fputs("\n| row vs column | win rate | Wilson 95% | length-controlled |\n|---|---:|---:|---:|\n", out);
    for (size_t r = 0; r < nsys; r++)
        for (size_t c = r + 1; c < nsys; c++) {
            const cJSON *cell = at(m, systems[r], systems[c]);
            fprintf(out, "| %s vs %s | %.2f |", systems[r], systems[c], num(cell, "win_rate"));
            pair(out, cJSON_GetObjectItemCaseSensitive(cell, "wilson_95"));
            if (cJSON_GetObjectItemCaseSensitive(cell, "lc_win_rate"))
                fprintf(out, " %.2f |\n", num(cell, "lc_win_rate"));
            else
                fputs(" - |\n", out);
        }
    fprintf(out, "\n| system | average | bootstrap 95%% (%d draws) | mean words |\n|---|---:|---:|---:|\n",
            o->bootstrap);
    for (size_t r = 0; r < nsys; r++) {
        fprintf(out, "| %s | %.2f |", systems[r], num(cJSON_GetObjectItemCaseSensitive(j, "average"), systems[r]));
        pair(out, at(j, "average_ci", systems[r]));
        const cJSON *w = at(j, "mean_words", systems[r]);
        fprintf(out, cJSON_IsNumber(w) ? " %.1f |\n" : " - |\n", cJSON_IsNumber(w) ? w->valuedouble : 0);
    }
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(j, "position");
    if (p) {
        double dec = num(p, "first_shown_wins") + num(p, "second_shown_wins");
        fprintf(out, "\nPosition: the output shown first won %.2f%% of %.0f decisive verdicts; "
                     "both orders agreed on %.2f%% of %.0f pairs.\n",
                num(p, "first_shown_rate"), dec, num(p, "agreement"), num(p, "pairs"));
        if (num(p, "pairs") > 0 && num(p, "agreement") < 50)
            fputs("warning: the two orders disagree on most pairs, so most end as ties: the judge "
                  "mostly follows the position, not the content\n", out);
    }
}

int judge_summary_markdown(FILE *out, const char *const *systems, size_t nsys,
                           size_t nprompts, const judge_tally *t, size_t ntallies,
                           const judge_summary_opts *o)
{
    long total, failed = judge_failed_of(t, ntallies, &total);
    if (failed > 0)
        fprintf(out, "partial: %ld of %ld judgments failed for good and count as ties\n\n",
                failed, total);
    long not_made = judge_not_made(t, ntallies);
    if (not_made > 0)
        fprintf(out, "partial: %ld of %ld judgments were not made (a cap on the spend); the "
                     "pairs they leave incomplete are not counted\n\n", not_made, total);
    for (size_t k = 0; k < ntallies; k++) {
        cJSON *j = judge_tally_summary(systems, &t[k], o);
        if (!j)
            return -1;
        fprintf(out, "%s## %s\n\n", k ? "\n" : "", t[k].name);
        fprintf(out, "Win rate of the row against the column, in %% (win-lose-tie%s), "
                     "over %zu prompts.\n\n",
                t[k].is_reward ? "; inconsistency with the holistic reward" : "", nprompts);
        matrix(out, systems, nsys, j, t[k].is_reward);
        if (!t[k].is_reward && (t[k].unparseable || t[k].failed))
            fprintf(out, "\n%ld unparseable answers and %ld failed judgments counted as ties.\n",
                    t[k].unparseable, t[k].failed);
        stats(out, systems, nsys, j, o);
        cJSON_Delete(j);
    }
    return ferror(out) ? -1 : 0;
}
