/* select_group: the consistency part of alarm-select's loop (see select.h).
 * A group is a run of consecutive records of one prompt_id; its pairs are
 * counted per aspect column when it ends (alarm-formats(5) section 4), and
 * the prompt_ids of ended groups are remembered so one coming back is an
 * error. The automatic pick ranks the columns by inconsistency. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "select_impl.h"

static uint64_t hash_id(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h ? h : 1;
}

static int seen_has(const select_ctx *c, uint64_t h)
{
    if (!c->seen_cap)
        return 0;
    for (size_t j = h & (c->seen_cap - 1); c->seen[j]; j = (j + 1) & (c->seen_cap - 1))
        if (c->seen[j] == h)
            return 1;
    return 0;
}

/* Open-addressing set of 64-bit hashes (8 bytes per prompt, not its text:
 * a collision, odds ~n^2/2^64, would only cause a false "comes back"). */
static int seen_add(select_ctx *c, uint64_t h, alarm_err *e)
{
    if (2 * (c->seen_n + 1) > c->seen_cap) {
        size_t cap = c->seen_cap ? 2 * c->seen_cap : 1024;
        uint64_t *t = calloc(cap, sizeof *t);
        if (!t)
            return select_oom(e);
        for (size_t i = 0; i < c->seen_cap; i++)
            if (c->seen[i]) {
                size_t j = c->seen[i] & (cap - 1);
                while (t[j])
                    j = (j + 1) & (cap - 1);
                t[j] = c->seen[i];
            }
        free(c->seen);
        c->seen = t;
        c->seen_cap = cap;
    }
    if (seen_has(c, h))
        return 0;
    size_t j = h & (c->seen_cap - 1);
    while (c->seen[j])
        j = (j + 1) & (c->seen_cap - 1);
    c->seen[j] = h;
    c->seen_n++;
    return 0;
}

/* Counts the pairs of the current group for every aspect column. */
void select_group_flush(select_ctx *c)
{
    if (c->gn == 0)
        return;
    c->groups++;
    c->pairs += (uint64_t)c->gn * (c->gn - 1) / 2;
    for (size_t a = 0; a < c->names.n; a++) {
        for (size_t i = 0; i < c->gn; i++)
            c->col[i] = a < c->glen[i] ? c->gval[c->goff[i] + a] : NAN;
        consist_count_group(&c->counts[a], c->gh, c->col, c->gn, c->lower[a]);
    }
    c->gn = 0;
    c->gval_n = 0;
}

/* Adds the current record to its group, ending the previous group when the
 * prompt_id changes. */
int select_group_add(select_ctx *c, const jsonl_reader *r, const char *pid, alarm_err *e)
{
    if (c->gn == 0 || strcmp(c->gid, pid)) {
        select_group_flush(c);
        if (c->gid && seen_add(c, hash_id(c->gid), e) < 0)
            return -1;
        if (c->gid_cap <= strlen(pid) && select_grow0(&c->gid, &c->gid_cap, strlen(pid) + 1, 1) < 0)
            return select_oom(e);
        strcpy(c->gid, pid);
        if (seen_has(c, hash_id(pid)))
            return jsonl_fail(r, e, "prompt_id \"%s\" comes back after its group ended: "
                              "records of one prompt must be consecutive", pid);
    }
    size_t n = c->names.n;
    if (select_grow0(&c->gh, &c->gcap, c->gn + 1, sizeof *c->gh) < 0)
        return select_oom(e);
    /* goff/glen follow gh's capacity. */
    size_t *go = realloc(c->goff, c->gcap * sizeof *go);
    if (go)
        c->goff = go;
    size_t *gl = go ? realloc(c->glen, c->gcap * sizeof *gl) : NULL;
    if (gl)
        c->glen = gl;
    if (!go || !gl ||
        select_grow0(&c->gval, &c->gval_cap, c->gval_n + n, sizeof *c->gval) < 0 ||
        select_grow0(&c->col, &c->col_cap, c->gn + 1, sizeof *c->col) < 0)
        return select_oom(e);
    c->gh[c->gn] = c->cur.h;
    c->goff[c->gn] = c->gval_n;
    c->glen[c->gn] = n;
    for (size_t a = 0; a < n; a++)
        c->gval[c->gval_n + a] = a < c->cur.nasp && c->cur.asp[a].present ? c->cur.asp[a].value : NAN;
    c->gval_n += n;
    c->gn++;
    return 0;
}

static int given(const select_ctx *c, const char *name)
{
    for (size_t k = 0; k < c->o.n_aspects; k++)
        if (!strcmp(c->o.aspects[k], name))
            return 1;
    return 0;
}

/* Eligible for automatic selection: present in every record, a candidate
 * (all aspects, or those given with --aspect), and judged on at least one
 * pair (with no holistic difference anywhere there is nothing to rank by). */
int select_eligible(const select_ctx *c, size_t a)
{
    return c->missing[a] == 0 && (c->o.n_aspects == 0 || given(c, c->names.names[a])) &&
           c->counts[a].holistic_nontie > 0;
}

int select_pick(select_ctx *c, alarm_err *e)
{
    size_t n = c->names.n;
    int *elig = calloc(n ? n : 1, sizeof *elig);
    if (!elig)
        return select_oom(e);
    for (size_t a = 0; a < n; a++)
        elig[a] = select_eligible(c, a);
    c->nsel = consist_select(c->selected, c->rank, c->counts, elig, n, c->o.auto_k,
                             c->o.max_incons);
    free(elig);
    if (!(c->sel = malloc((c->nsel ? c->nsel : 1) * sizeof *c->sel)) ||
        !(c->sel_w = malloc((c->nsel ? c->nsel : 1) * sizeof *c->sel_w)))
        return select_oom(e);
    /* Combined (and listed) in rank order. */
    size_t k = 0;
    for (size_t r = 1; r <= n; r++)
        for (size_t a = 0; a < n; a++)
            if (c->selected[a] && c->rank[a] == r) {
                c->sel[k] = a;
                c->sel_w[k++] = c->col_w[a];
            }
    return 0;
}
