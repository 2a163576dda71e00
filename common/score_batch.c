/* score_batch: batches of records through every scorer (see score_batch.h).
 * A scorer's failure on one record fails the run naming the record and the
 * scorer, or with skip_failed drops that aspect from the record (an older
 * aspect of the same name too, so no stale value stays) and counts it. */
#include "score_batch.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"

int score_batch_add(score_batch *b, const jsonl_reader *r, cJSON *rec, alarm_err *e)
{
    const char *resp, *id = NULL, *pid = NULL;
    const cJSON *rw;
    if (jsonl_req_string(r, rec, NULL, "response", &resp, e) < 0 ||
        jsonl_opt_object(r, rec, NULL, "rewards", &rw, e) < 0 ||
        (b->db ? jsonl_req_string(r, rec, NULL, "id", &id, e)
               : jsonl_opt_string(r, rec, NULL, "id", &id, e)) < 0 ||
        jsonl_opt_string(r, rec, NULL, "prompt_id", &pid, e) < 0 ||
        grow_array(&b->items, &b->cap, b->n + 1, sizeof *b->items, 64, e) < 0) {
        cJSON_Delete(rec);
        return -1;
    }
    char *line = malloc(r->len + 1);
    if (!line) {
        cJSON_Delete(rec);
        return err_set(e, "out of memory");
    }
    memcpy(line, r->line, r->len + 1);
    b->items[b->n++] = (score_item){line, r->len, rec, r->name, r->lineno, id, pid};
    return 0;
}

static int run_scorers(score_batch *b, alarm_err *e)
{
    if (grow_array(&b->in, &b->in_cap, b->n, sizeof *b->in, 64, e) < 0)
        return -1;
    if (b->n * b->nsc > b->out_cap) {
        size_t old = b->out_cap;
        if (grow_array(&b->outs, &b->out_cap, b->n * b->nsc, sizeof *b->outs, 64, e) < 0)
            return -1;
        memset(b->outs + old, 0, (b->out_cap - old) * sizeof *b->outs);
    }
    for (size_t i = 0; i < b->n; i++) {
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(b->items[i].rec, "response");
        b->in[i] = (score_in){b->items[i].rec, r->valuestring, strlen(r->valuestring)};
    }
    for (size_t s = 0; s < b->nsc; s++) {
        score_out *o = b->outs + s * b->n;
        for (size_t i = 0; i < b->n; i++)
            score_out_reset(&o[i]);
        if (b->sc[s].kind->score(b->sc[s].state, b->in, b->n, o, e) < 0)
            return err_prefix(e, "scorer %s", b->sc[s].spec.name);
        for (size_t i = 0; i < b->n; i++) {
            if (!o[i].failed && !isfinite(o[i].value))
                score_out_fail(&o[i], "value is not finite");
            if (o[i].failed && (!b->skip_failed || o[i].fatal))
                return err_set(e, "%s:%ld: scorer %s (%s) failed: %s", b->items[i].file,
                               b->items[i].lineno, b->sc[s].spec.name, b->sc[s].kind->name,
                               o[i].why);
        }
    }
    return 0;
}

/* What normalisation starts from: the raw measurement when there is one. */
static double measured(const score_out *o) { return o->has_raw ? o->raw : o->value; }

/* auto: mean and population std of the raw values scored in this batch. */
static void normalise(score_batch *b)
{
    for (size_t s = 0; s < b->nsc; s++) {
        score_aspect *a = &b->asp[s];
        score_out *o = b->outs + s * b->n;
        if (a->norm == SCORE_NORM_AUTO) {
            double sum = 0, ss = 0;
            size_t k = 0;
            for (size_t i = 0; i < b->n; i++)
                if (!o[i].failed)
                    sum += measured(&o[i]), k++;
            a->mean = k ? sum / (double)k : 0;
            for (size_t i = 0; i < b->n; i++)
                if (!o[i].failed)
                    ss += (measured(&o[i]) - a->mean) * (measured(&o[i]) - a->mean);
            a->std = k ? sqrt(ss / (double)k) : 0;
        }
        for (size_t i = 0; i < b->n; i++) {
            if (o[i].failed) {
                a->failed++;
                continue;
            }
            a->scored++;
            if (a->norm == SCORE_NORM_NONE)
                continue;
            o[i].raw = measured(&o[i]);
            o[i].has_raw = 1;
            /* a constant aspect (std 0) is only centred */
            o[i].value = (o[i].raw - a->mean) / (a->std > 0 ? a->std : 1);
        }
    }
}

/* A scorer's answer as the record reader's view (no copy of its spans). */
static record_reward as_reward(const score_out *o)
{
    return (record_reward){o->value, o->raw, o->has_raw, o->has_spans, o->spans, o->nspans,
                           o->cap};
}

/* A record scored before is re-printed with its rewards replaced, as
 * alarm-score always did (tests/test_score.c batch_merges). */
static int reprint(score_batch *b, score_item *it, const char *const *names,
                   const record_reward *const *rw, alarm_err *e)
{
    const char *old;
    size_t oldn, n = 0;
    char *text = NULL;
    FILE *m = open_memstream(&text, &n);
    if (!m)
        return err_set(e, "out of memory");
    int rc = record_find(it->line, it->len, "rewards", &old, &oldn) == 1
                 ? record_rewards_set(m, old, oldn, names, rw, b->nsc, e)
                 : err_set(e, "internal: no rewards in the record text");
    if (fclose(m) != 0 && rc == 0)
        rc = err_set(e, "out of memory");
    cJSON *v = rc == 0 ? cJSON_ParseWithLength(text, n) : NULL;
    if (rc == 0 && v && cJSON_ReplaceItemInObjectCaseSensitive(it->rec, "rewards", v))
        rc = jsonl_write(b->out, it->rec, e);
    else if (rc == 0)
        rc = (cJSON_Delete(v), err_set(e, "out of memory"));
    free(text);
    return rc;
}

/* The record with every scorer's aspect set in its rewards (an old one of
 * the same name replaced, moved last; a failed scorer's removed), and its
 * rows. */
static int write_one(score_batch *b, size_t i, alarm_err *e)
{
    score_item *it = &b->items[i];
    const char **names = calloc(b->nsc + 1, sizeof *names);
    record_reward *v = calloc(b->nsc + 1, sizeof *v);
    const record_reward **rw = calloc(b->nsc + 1, sizeof *rw);
    int rc = names && v && rw ? 0 : err_set(e, "out of memory");
    for (size_t s = 0; rc == 0 && s < b->nsc; s++) {
        const score_out *o = b->outs + s * b->n + i;
        names[s] = b->sc[s].spec.name;
        v[s] = as_reward(o);
        rw[s] = o->failed ? NULL : &v[s];
        if (b->db && rw[s] &&
            record_reward_row(b->db, &b->ins, b->run_id, it->id, it->pid, names[s], rw[s], e) < 0)
            rc = err_prefix(e, "%s:%ld: rewards row", it->file, it->lineno);
    }
    if (rc == 0)
        rc = cJSON_GetObjectItemCaseSensitive(it->rec, "rewards")
                 ? reprint(b, it, names, rw, e)
                 : record_write_rewards(b->out, it->line, it->len, names, rw, b->nsc, e);
    free(names);
    free(v);
    free(rw);
    return rc;
}

static void clear(score_batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        free(b->items[i].line);
        cJSON_Delete(b->items[i].rec);
    }
    b->n = 0;
}

int score_batch_flush(score_batch *b, alarm_err *e)
{
    if (b->n == 0)
        return 0;
    /* Scoring runs outside the store's write transaction, so a remote kind's
     * answers commit (db_writer) while the batch is still being scored. */
    int rc = run_scorers(b, e);
    if (rc == 0)
        normalise(b);
    if (rc == 0 && b->db)
        rc = db_begin(b->db, e);
    for (size_t i = 0; rc == 0 && i < b->n; i++)
        rc = write_one(b, i, e);
    if (rc == 0 && b->db)
        rc = db_commit(b->db, e);
    clear(b);
    return rc;
}

int score_batch_store_scorers(score_batch *b, alarm_err *e)
{
    if (!b->db)
        return 0;
    static const char *const norm[] = {NULL, "given", "auto"};
    sqlite3_stmt *st;
    if (db_prepare(b->db, &st, "INSERT INTO scorers (run_id, name, spec, kind, lower_better, "
                   "normalize, mean, std, scored, failed) VALUES (?,?,?,?,?,?,?,?,?,?)", e) < 0)
        return -1;
    int rc = 0;
    for (size_t s = 0; rc == 0 && s < b->nsc; s++) {
        const score_aspect *a = &b->asp[s];
        db_value v[] = {db_int(b->run_id), db_text(b->sc[s].spec.name), db_text(b->sc[s].text),
                        db_text(b->sc[s].kind->name), db_int(a->lower_better),
                        db_text(norm[a->norm]), a->norm ? db_real(a->mean) : db_null(),
                        a->norm ? db_real(a->std) : db_null(), db_int((int64_t)a->scored),
                        db_int((int64_t)a->failed)};
        rc = db_put(b->db, st, v, 10, e);
    }
    sqlite3_finalize(st);
    return rc;
}

void score_batch_free(score_batch *b)
{
    clear(b);
    free(b->items);
    free(b->in);
    for (size_t k = 0; k < b->out_cap; k++)
        score_out_free(&b->outs[k]);
    free(b->outs);
    if (b->ins)
        sqlite3_finalize(b->ins);
    memset(b, 0, sizeof *b);
}
