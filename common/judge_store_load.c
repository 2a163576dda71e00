/* judge_store_load: stored judgments back into tallies (judge_store.h).
 * SQLite does the choosing: of a judgment or response several runs made,
 * the row with max(run_id) (a bare column beside max() comes from that
 * row); systems in their NAME=FILE order, prompts in their file order.
 * Stores from before judge_responses (schema 5) still load: systems and
 * prompts by name, and no lengths or holistic rewards. */
#include "judge_store.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "judge.h"
#include "judge_cost.h"

#define RUNS "(?1 IS NULL OR run_id IN (SELECT value FROM json_each(?1)))"

static const char systems_sql[] =
    "SELECT name FROM (SELECT system AS name, position AS k FROM judge_responses WHERE " RUNS
    " UNION ALL SELECT a, NULL FROM judgments WHERE " RUNS
    " UNION ALL SELECT b, NULL FROM judgments WHERE " RUNS ")"
    " GROUP BY name ORDER BY min(k) IS NULL, min(k), name";
static const char prompts_sql[] =
    "SELECT prompt_id FROM (SELECT prompt_id, prompt_index AS k FROM judge_responses WHERE " RUNS
    " UNION ALL SELECT prompt_id, NULL FROM judgments WHERE " RUNS ")"
    " GROUP BY prompt_id ORDER BY min(k) IS NULL, min(k), prompt_id";
static const char responses_sql[] =
    "SELECT system, prompt_id, words, holistic, max(run_id) FROM judge_responses WHERE " RUNS
    " GROUP BY system, prompt_id";
static const char judges_sql[] =
    "SELECT judge FROM judgments WHERE " RUNS
    " GROUP BY judge ORDER BY substr(judge, 1, 7) = 'reward:', min(rowid)";
static const char judgments_sql[] =
    "SELECT j.judge, j.prompt_id, j.a, j.b, j.ord, j.verdict, j.value_a, j.value_b, c.response"
    " FROM (SELECT judge, prompt_id, a, b, ord, verdict, cached, latency_ms, cache_key, value_a,"
    " value_b, max(run_id) FROM judgments WHERE " RUNS " GROUP BY judge, prompt_id, a, b, ord) j"
    " LEFT JOIN judge_cache c ON j.cached = 0 AND j.latency_ms IS NOT NULL AND c.key = j.cache_key"
    " ORDER BY j.judge, j.prompt_id, j.a, j.b, j.ord";

typedef struct {
    db_store *db;
    const char *runs; /* JSON array of the run ids, or NULL */
    judge_stored *s;
    struct id_at { const char *id; size_t p; } *by_id; /* prompts sorted by id */
    double *holistic;   /* (nprompts, nsys), NAN when not stored */
} loader;

static int step_fail(loader *L, alarm_err *e)
{
    return err_set(e, "%s: reading the judgments: %s", L->db->path, sqlite3_errmsg(L->db->h));
}

/* Prepares sql with the runs bound; the caller steps and finalizes it. */
static int query(loader *L, sqlite3_stmt **st, const char *sql, alarm_err *e)
{
    if (db_prepare(L->db, st, sql, e) < 0)
        return -1;
    db_bind_text(*st, 1, L->runs);
    return 0;
}

/* The first column of every row, copied. */
static int names(loader *L, const char *sql, char ***out, size_t *n, alarm_err *e)
{
    sqlite3_stmt *st;
    size_t cap = 0;
    if (query(L, &st, sql, e) < 0)
        return -1;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(st, 0);
        char *copy = v ? strdup(v) : NULL;
        if (!copy || grow_array(out, &cap, *n + 1, sizeof **out, 16, e) < 0) {
            free(copy);
            sqlite3_finalize(st);
            return err_set(e, "out of memory");
        }
        (*out)[(*n)++] = copy;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : step_fail(L, e);
}

static int cmp_id(const void *a, const void *b)
{
    return strcmp(((const struct id_at *)a)->id, ((const struct id_at *)b)->id);
}

static long prompt_of(const loader *L, const char *id)
{
    struct id_at key = {id, 0}, *hit = NULL;
    if (id)
        hit = bsearch(&key, L->by_id, L->s->nprompts, sizeof *L->by_id, cmp_id);
    return hit ? (long)hit->p : -1;
}

static long system_of(const loader *L, const char *name)
{
    for (size_t k = 0; name && k < L->s->nsys; k++)
        if (!strcmp(L->s->systems[k], name))
            return (long)k;
    return -1;
}

/* Lengths and holistic rewards; words stay only when every response has one. */
static int responses(loader *L, alarm_err *e)
{
    judge_stored *s = L->s;
    size_t cells = s->nprompts * s->nsys, have = 0;
    s->words = malloc((cells ? cells : 1) * sizeof *s->words);
    L->holistic = malloc((cells ? cells : 1) * sizeof *L->holistic);
    if (!s->words || !L->holistic)
        return err_set(e, "out of memory");
    for (size_t k = 0; k < cells; k++)
        L->holistic[k] = NAN;
    sqlite3_stmt *st;
    if (query(L, &st, responses_sql, e) < 0)
        return -1;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        long sy = system_of(L, (const char *)sqlite3_column_text(st, 0));
        long p = prompt_of(L, (const char *)sqlite3_column_text(st, 1));
        if (sy < 0 || p < 0)
            continue; /* both lists were read from these rows */
        size_t at = (size_t)p * s->nsys + (size_t)sy;
        s->words[at] = (double)sqlite3_column_int64(st, 2);
        if (sqlite3_column_type(st, 3) != SQLITE_NULL)
            L->holistic[at] = sqlite3_column_double(st, 3);
        have++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return step_fail(L, e);
    if (have < cells) {
        free(s->words);
        s->words = NULL;
    }
    return 0;
}

/* One LLM judgment; a pair is tallied at its second order (ba follows ab). */
typedef struct {
    long k, p, a, b;
    int v;
} pending;

static void add_llm(judge_tally *t, pending *ab, const pending *r, int is_ba, const char *body)
{
    t->failed += r->v == JV_FAILED;
    t->unparseable += r->v == JV_UNPARSEABLE;
    if (body)
        judge_usage(body, &t->prompt_tokens, &t->completion_tokens);
    if (!is_ba) {
        *ab = *r;
        return;
    }
    if (ab->k == r->k && ab->p == r->p && ab->a == r->a && ab->b == r->b) {
        judge_tally_add(t, (size_t)r->p, (size_t)r->a, (size_t)r->b, judge_combine(ab->v, r->v));
        judge_tally_orders(t, ab->v, r->v);
    }
    ab->k = -1;
}

/* A reward judgment and its consistency with the holistic reward. */
static void add_reward(const loader *L, judge_tally *t, const pending *r, double va, double vb)
{
    size_t ns = L->s->nsys, i = (size_t)r->a, j = (size_t)r->b;
    judge_tally_add(t, (size_t)r->p, i, j, r->v);
    double hi = L->holistic[(size_t)r->p * ns + i], hj = L->holistic[(size_t)r->p * ns + j];
    size_t cell = i < j ? i * ns + j : j * ns + i; /* the counts are symmetric in the pair */
    if (isnan(hi) || isnan(hj) || isnan(va) || isnan(vb))
        t->no_holistic[cell] = 1;
    else
        consist_count_pair(&t->consist[cell], hi, hj, va, vb, t->name[7] == '-');
}

static int judgments(loader *L, alarm_err *e)
{
    judge_stored *s = L->s;
    sqlite3_stmt *st;
    if (query(L, &st, judgments_sql, e) < 0)
        return -1;
    long *rows = calloc(s->nt ? s->nt : 1, sizeof *rows);
    pending ab = {.k = -1};
    int rc = rows ? SQLITE_ROW : SQLITE_NOMEM;
    while (rows && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *judge = (const char *)sqlite3_column_text(st, 0);
        pending r = {-1, prompt_of(L, (const char *)sqlite3_column_text(st, 1)),
                     system_of(L, (const char *)sqlite3_column_text(st, 2)),
                     system_of(L, (const char *)sqlite3_column_text(st, 3)),
                     judge_verdict_parse((const char *)sqlite3_column_text(st, 5))};
        for (size_t k = 0; judge && k < s->nt; k++)
            if (!strcmp(s->tallies[k].name, judge))
                r.k = (long)k;
        if (r.k < 0 || r.p < 0 || r.a < 0 || r.b < 0 || r.a == r.b || r.v < 0)
            continue; /* the schema's CHECKs keep this from happening */
        judge_tally *t = &s->tallies[r.k];
        rows[r.k]++;
        const char *ord = (const char *)sqlite3_column_text(st, 4);
        if (t->is_reward)
            add_reward(L, t, &r, sqlite3_column_type(st, 6) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 6),
                       sqlite3_column_type(st, 7) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 7));
        else
            add_llm(t, &ab, &r, ord && !strcmp(ord, "ba"), (const char *)sqlite3_column_text(st, 8));
    }
    sqlite3_finalize(st);
    for (size_t k = 0; rows && k < s->nt; k++)
        if (!s->tallies[k].is_reward) /* both orders of every pair and prompt, less those stored */
            s->tallies[k].not_made = (long)(s->nsys * (s->nsys - 1) * s->nprompts) - rows[k];
    free(rows);
    if (rc == SQLITE_NOMEM)
        return err_set(e, "out of memory");
    return rc == SQLITE_DONE ? 0 : step_fail(L, e);
}

static int tallies(loader *L, alarm_err *e)
{
    judge_stored *s = L->s;
    char **judges = NULL;
    size_t nj = 0;
    int rc = names(L, judges_sql, &judges, &nj, e);
    if (rc == 0 && nj == 0)
        rc = err_set(e, "%s: no judgments%s", L->db->path, L->runs ? " in the runs given" : "");
    if (rc == 0 && !(s->tallies = calloc(nj, sizeof *s->tallies)))
        rc = err_set(e, "out of memory");
    for (size_t k = 0; rc == 0 && k < nj; k++) {
        int reward = !strncmp(judges[k], "reward:", 7);
        rc = judge_tally_init(&s->tallies[k], judges[k], s->nsys, s->nprompts, reward, e);
        s->nt += rc == 0;
    }
    for (size_t k = 0; k < nj; k++)
        free(judges[k]);
    free(judges);
    return rc;
}

/* A run given that has no judgments is an error: its id was mistyped. */
static int runs_known(loader *L, alarm_err *e)
{
    sqlite3_stmt *st;
    if (!L->runs || query(L, &st, "SELECT value FROM json_each(?1) WHERE value NOT IN "
                                  "(SELECT run_id FROM judgments) LIMIT 1", e) < 0)
        return L->runs ? -1 : 0;
    int rc = sqlite3_step(st);
    long long id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW)
        return err_set(e, "%s: run %lld has no judgments", L->db->path, id);
    return rc == SQLITE_DONE ? 0 : step_fail(L, e);
}

/* The runs as a JSON array for json_each, malloc'd; NULL when runs is NULL. */
static int runs_json(const int64_t *runs, size_t n, char **out, alarm_err *e)
{
    *out = NULL;
    if (!runs)
        return 0;
    if (!(*out = malloc(n * 22 + 3)))
        return err_set(e, "out of memory");
    size_t at = 0;
    (*out)[at++] = '[';
    for (size_t k = 0; k < n; k++)
        at += (size_t)sprintf(*out + at, "%s%lld", k ? "," : "", (long long)runs[k]);
    strcpy(*out + at, "]");
    return 0;
}

int judge_store_load(db_store *db, const int64_t *runs, size_t nruns, judge_stored *s,
                     alarm_err *e)
{
    *s = (judge_stored){0};
    char *rj;
    int rc = runs_json(runs, nruns, &rj, e);
    loader L = {.db = db, .runs = rj, .s = s};
    if (rc == 0)
        rc = runs_known(&L, e);
    if (rc == 0)
        rc = names(&L, systems_sql, &s->systems, &s->nsys, e);
    if (rc == 0)
        rc = names(&L, prompts_sql, &s->prompts, &s->nprompts, e);
    if (rc == 0 && !(L.by_id = malloc((s->nprompts ? s->nprompts : 1) * sizeof *L.by_id)))
        rc = err_set(e, "out of memory");
    for (size_t p = 0; rc == 0 && p < s->nprompts; p++)
        L.by_id[p] = (struct id_at){s->prompts[p], p};
    if (rc == 0)
        qsort(L.by_id, s->nprompts, sizeof *L.by_id, cmp_id);
    if (rc == 0)
        rc = tallies(&L, e);
    if (rc == 0)
        rc = responses(&L, e);
    if (rc == 0)
        rc = judgments(&L, e);
    free(rj);
    free(L.by_id);
    free(L.holistic);
    if (rc < 0)
        judge_stored_free(s);
    return rc;
}
