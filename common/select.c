/* select: alarm-select's record loop (see select.h): reading each record
 * once (reward_scan's fast path, else cJSON), its aspect columns and the
 * checks, then the parts: select_group.c (consistency), select_out.c
 * (output), select_store.c (the store). */
#include "select_impl.h"

#include <stdlib.h>
#include <string.h>

int select_oom(alarm_err *e) { return err_set(e, "out of memory"); }

/* Grows *p (elements of `size`) to hold at least n, zeroing the new part. */
int select_grow0(void *p, size_t *cap, size_t n, size_t size)
{
    if (n <= *cap)
        return 0;
    size_t c = *cap ? *cap : 16;
    while (c < n)
        c *= 2;
    char *q = realloc(*(void **)p, c * size);
    if (!q)
        return -1;
    memset(q + *cap * size, 0, (c - *cap) * size);
    *(void **)p = q;
    *cap = c;
    return 0;
}

/* Makes room for aspect column `n-1` in every per-aspect array. */
static int ensure_columns(select_ctx *c, size_t n, alarm_err *e)
{
    if (n <= c->stat_cap)
        return 0;
    size_t caps[6];
    for (int i = 0; i < 6; i++)
        caps[i] = c->stat_cap;
    if (select_grow0(&c->counts, &caps[0], n, sizeof *c->counts) < 0 ||
        select_grow0(&c->missing, &caps[1], n, sizeof *c->missing) < 0 ||
        select_grow0(&c->lower, &caps[2], n, sizeof *c->lower) < 0 ||
        select_grow0(&c->selected, &caps[3], n, sizeof *c->selected) < 0 ||
        select_grow0(&c->rank, &caps[4], n, sizeof *c->rank) < 0 ||
        select_grow0(&c->col_w, &caps[5], n, sizeof *c->col_w) < 0)
        return select_oom(e);
    c->stat_cap = caps[0];
    return 0;
}

/* New columns learn their flags from the options. Columns are never removed. */
static void init_column(select_ctx *c, size_t i)
{
    const char *name = c->names.names[i];
    c->col_w[i] = 1.0;
    for (size_t k = 0; k < c->o.n_aspects; k++)
        if (!strcmp(c->o.aspects[k], name))
            c->col_w[i] = c->o.weights[k];
    for (size_t k = 0; k < c->o.n_lower; k++)
        if (!strcmp(c->o.lower_better[k], name))
            c->lower[i] = 1;
    /* Records before this one had no such aspect. */
    c->missing[i] = c->records;
}

/* Initializes the columns of aspect names met since the last call. */
static int sync_columns(select_ctx *c, alarm_err *e)
{
    if (ensure_columns(c, c->names.n, e) < 0)
        return -1;
    for (; c->ncols < c->names.n; c->ncols++)
        init_column(c, c->ncols);
    return 0;
}

int select_init(select_ctx *c, const select_opts *o, FILE *out, alarm_err *e)
{
    memset(c, 0, sizeof *c);
    c->o = *o;
    c->out = out;
    if (o->auto_k == 0 && o->n_aspects == 0 && o->rc.mode != REWARD_HOLISTIC)
        return err_set(e, "mode %s combines aspects: give --aspect NAME or --select auto",
                       reward_mode_name(o->rc.mode));
    for (size_t k = 0; k < o->n_aspects; k++) {
        size_t idx;
        if (!strcmp(o->aspects[k], o->holistic))
            return err_set(e, "--aspect %s: that is the holistic reward", o->aspects[k]);
        if (reward_names_find(&c->names, o->aspects[k]) >= 0)
            return err_set(e, "--aspect %s: given twice", o->aspects[k]);
        if (reward_names_add(&c->names, o->aspects[k], &idx, e) < 0)
            return -1;
    }
    if (sync_columns(c, e) < 0)
        return -1;
    if (o->auto_k == 0) {
        /* Given aspects are columns 0..n-1, combined in the order given. */
        c->nsel = o->n_aspects;
        if (o->n_aspects && (!(c->sel = malloc(o->n_aspects * sizeof *c->sel)) ||
                             !(c->sel_w = malloc(o->n_aspects * sizeof *c->sel_w))))
            return select_oom(e);
        for (size_t k = 0; k < o->n_aspects; k++) {
            c->sel[k] = k;
            c->sel_w[k] = o->weights[k];
            c->selected[k] = 1;
        }
        if (select_aspects_json(c, e) < 0)
            return -1;
    }
    return 0;
}

static int check_given_present(select_ctx *c, const jsonl_reader *r, alarm_err *e)
{
    if (c->o.auto_k)
        return 0;
    for (size_t k = 0; k < c->nsel; k++)
        if (c->sel[k] >= c->cur.nasp || !c->cur.asp[c->sel[k]].present)
            return jsonl_fail(r, e, "field \"rewards.%s\": missing (an aspect given with --aspect)",
                              c->names.names[c->sel[k]]);
    return 0;
}

/* Everything after reading: columns, counts, the group, then out or kept. */
static int feed_parsed(select_ctx *c, const jsonl_reader *r, const char *id, const char *pid,
                       const cJSON *rewards, alarm_err *e)
{
    /* Records are keyed by id (the store's rows, alarm-ppo): one of each. */
    if (record_ids_add(&c->ids, "id", id, strlen(id), r->name, r->lineno, e) < 0 ||
        sync_columns(c, e) < 0 || check_given_present(c, r, e) < 0 ||
        (c->db && select_store_rewards(c, r, rewards, id, pid, e) < 0))
        return -1;
    for (size_t a = 0; a < c->names.n; a++)
        if (a >= c->cur.nasp || !c->cur.asp[a].present)
            c->missing[a]++;
    c->records++;
    if (select_group_add(c, r, pid, e) < 0)
        return -1;
    return c->o.auto_k ? select_keep(c, r, id, pid, e)
                       : select_emit(c, r->line, r->len, &c->cur, r->name, r->lineno, id, pid, e);
}

int select_feed(select_ctx *c, const jsonl_reader *r, cJSON *rec, alarm_err *e)
{
    const char *id, *pid;
    if (jsonl_req_string(r, rec, "", "id", &id, e) < 0 ||
        jsonl_req_string(r, rec, "", "prompt_id", &pid, e) < 0 ||
        reward_parse(&c->cur, &c->names, c->o.holistic, r, rec, e) < 0)
        return -1;
    return feed_parsed(c, r, id, pid, cJSON_GetObjectItemCaseSensitive(rec, "rewards"), e);
}

/* NUL-terminated copy of [s, s+n) into *buf. */
static int copy_str(char **buf, size_t *cap, const char *s, size_t n)
{
    if (select_grow0(buf, cap, n + 1, 1) < 0)
        return -1;
    memcpy(*buf, s, n);
    (*buf)[n] = '\0';
    return 0;
}

int select_feed_line(select_ctx *c, const jsonl_reader *r, alarm_err *e)
{
    const char *id, *pid;
    size_t id_n, pid_n;
    cJSON *rw;
    if (reward_scan_rw(&c->cur, &c->names, c->o.holistic, r->line, r->len, &id, &id_n, &pid,
                       &pid_n, &rw) == 1) {
        int rc = copy_str(&c->id_buf, &c->id_cap, id, id_n) < 0 ||
                         copy_str(&c->pid_buf, &c->pid_cap, pid, pid_n) < 0
                     ? select_oom(e)
                     : feed_parsed(c, r, c->id_buf, c->pid_buf, rw, e);
        cJSON_Delete(rw);
        return rc;
    }
    cJSON *rec;
    if (jsonl_parse_line(r, &rec, e) < 0)
        return -1;
    int rc = select_feed(c, r, rec, e);
    cJSON_Delete(rec);
    return rc;
}

int select_finish(select_ctx *c, alarm_err *e)
{
    select_group_flush(c);
    if (c->o.auto_k && (select_pick(c, e) < 0 || select_aspects_json(c, e) < 0))
        return -1;
    if (c->o.auto_k && select_emit_kept(c, e) < 0)
        return -1;
    return c->db ? select_report_store(c, e) : 0;
}

void select_free(select_ctx *c)
{
    if (c->st_comb)
        sqlite3_finalize(c->st_comb);
    if (c->st_rew)
        sqlite3_finalize(c->st_rew);
    for (size_t i = 0; i < c->nkept; i++) {
        reward_rec_free(&c->kept[i].rec);
        free(c->kept[i].id);
        free(c->kept[i].prompt_id);
    }
    free(c->kept);
    if (c->spool)
        fclose(c->spool);
    reward_names_free(&c->names);
    record_ids_free(&c->ids);
    reward_rec_free(&c->cur);
    free(c->counts); free(c->missing); free(c->lower); free(c->selected); free(c->rank);
    free(c->col_w); free(c->col); free(c->gid); free(c->gh); free(c->goff); free(c->glen);
    free(c->gval); free(c->seen); free(c->sel); free(c->sel_w); free(c->aspects_json);
    free(c->dense); free(c->buf); free(c->spool_line); free(c->id_buf); free(c->pid_buf);
    memset(c, 0, sizeof *c);
}
