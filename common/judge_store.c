/* judge_store: the rows alarm-judge writes beside its judgments (see
 * judge_store.h); judge_store_load.c reads them back. */
#include "judge_store.h"

#include <math.h>
#include <stdlib.h>

static const char response_sql[] =
    "INSERT OR REPLACE INTO judge_responses (run_id, system, prompt_id, position, prompt_index, "
    "words, holistic) VALUES (?, ?, ?, ?, ?, ?, ?)";

int judge_store_responses(db_writer *w, int64_t run_id, const judge_set *set,
                          const double *words, alarm_err *e)
{
    int id;
    if (db_writer_stmt(w, response_sql, &id, e) < 0)
        return -1;
    int h = (int)set->nrewards - 1; /* the holistic reward is the set's last */
    for (size_t p = 0; p < set->nprompts; p++)
        for (size_t s = 0; s < set->nsys; s++) {
            const judge_resp *r = judge_set_get(set, s, p);
            double hv = h >= 0 ? r->values[h] : NAN;
            /* prompt_index orders the prompts as the run did, also when the
             * judgments of shards are read back together */
            db_value v[7] = {db_int(run_id), db_text(set->sys[s].name), db_text(r->prompt_id),
                             db_int((int64_t)s), db_int((int64_t)set->idx[p]),
                             db_int((int64_t)words[p * set->nsys + s]),
                             isnan(hv) ? db_null() : db_real(hv)};
            if (db_writer_put(w, id, v, 7, e) < 0)
                return -1;
        }
    return 0;
}

int judge_store_summary(db_store *db, int64_t run_id, const char *json, alarm_err *e)
{
    sqlite3_stmt *st;
    if (db_prepare(db, &st, "INSERT OR REPLACE INTO judge_summaries (run_id, summary) "
                            "VALUES (?, ?)", e) < 0)
        return -1;
    db_value v[2] = {db_int(run_id), db_text(json)};
    int rc = db_put(db, st, v, 2, e);
    sqlite3_finalize(st);
    return rc;
}

void judge_stored_free(judge_stored *s)
{
    for (size_t k = 0; k < s->nsys; k++)
        free(s->systems[k]);
    for (size_t k = 0; k < s->nprompts; k++)
        free(s->prompts[k]);
    for (size_t k = 0; k < s->nt; k++)
        judge_tally_free(&s->tallies[k]);
    free(s->systems);
    free(s->prompts);
    free(s->words);
    free(s->tallies);
    *s = (judge_stored){0};
}
