/* judge_pool: several systems as one row of the table (judge_table.h,
 * alarm-judge --group), e.g. the seeds of one reward mode: counts are
 * summed over the member pairs, prompt by prompt, so the statistics of
 * judge_stats need nothing new (a prompt may hold several outcomes). */
#include <stdlib.h>
#include <string.h>

#include "judge_table.h"

int judge_tally_pool(judge_tally *dst, const judge_tally *src, const size_t *row_of,
                     size_t nrows, const double *words, alarm_err *e)
{
    if (judge_tally_init(dst, src->name, nrows, src->nprompts, src->is_reward, e) < 0)
        return -1;
    size_t n = src->nsys, m = nrows;
    for (size_t a = 0; a < n; a++)
        for (size_t b = 0; b < n; b++) {
            size_t i = row_of[a], j = row_of[b];
            if (i == j)
                continue;
            judge_wlt *c = &dst->cells[i * m + j];
            const judge_wlt *x = &src->cells[a * n + b];
            c->win += x->win, c->lose += x->lose, c->tie += x->tie;
            for (size_t p = 0; p < src->nprompts; p++) {
                judge_counts *q = &dst->pc[(p * m + i) * m + j];
                const judge_counts *y = &src->pc[(p * n + a) * n + b];
                q->win += y->win, q->lose += y->lose, q->tie += y->tie;
            }
            if (a < b && i < j) { /* each unordered pair once; the counts are symmetric */
                consist_add(&dst->consist[i * m + j], &src->consist[a * n + b]);
                dst->no_holistic[i * m + j] |= src->no_holistic[a * n + b];
            } else if (a < b) {
                consist_add(&dst->consist[j * m + i], &src->consist[a * n + b]);
                dst->no_holistic[j * m + i] |= src->no_holistic[a * n + b];
            }
        }
    dst->unparseable = src->unparseable;
    dst->failed = src->failed;
    dst->pos = src->pos;
    dst->not_made = src->not_made;
    dst->prompt_tokens = src->prompt_tokens;
    dst->completion_tokens = src->completion_tokens;
    dst->judgments = src->judgments;
    dst->src = src;
    dst->row_of = row_of;
    dst->src_words = words;
    return 0;
}

double *judge_words_pool(const double *words, size_t nprompts, size_t nsys,
                         const size_t *row_of, size_t nrows)
{
    double *w = words ? calloc((nprompts ? nprompts : 1) * nrows, sizeof *w) : NULL;
    size_t *members = w ? calloc(nrows, sizeof *members) : NULL;
    if (!members) {
        free(w);
        return NULL;
    }
    for (size_t s = 0; s < nsys; s++)
        members[row_of[s]]++;
    for (size_t p = 0; p < nprompts; p++)
        for (size_t s = 0; s < nsys; s++)
            w[p * nrows + row_of[s]] += words[p * nsys + s] / (double)members[row_of[s]];
    free(members);
    return w;
}
