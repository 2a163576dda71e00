/* select: alarm-select's record loop (see select.h). Each record is parsed
 * once; the output line is the input line byte for byte with ,"reward":{...}
 * spliced before its closing brace, built in one buffer and written once. */
#include "select.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int oom(alarm_err *e) { return err_set(e, "out of memory"); }

/* Grows *p (elements of `size`) to hold at least n, zeroing the new part. */
static int grow0(void *p, size_t *cap, size_t n, size_t size)
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
    if (grow0(&c->counts, &caps[0], n, sizeof *c->counts) < 0 ||
        grow0(&c->missing, &caps[1], n, sizeof *c->missing) < 0 ||
        grow0(&c->lower, &caps[2], n, sizeof *c->lower) < 0 ||
        grow0(&c->selected, &caps[3], n, sizeof *c->selected) < 0 ||
        grow0(&c->rank, &caps[4], n, sizeof *c->rank) < 0 ||
        grow0(&c->col_w, &caps[5], n, sizeof *c->col_w) < 0)
        return oom(e);
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

static int prepare_store(select_ctx *c, alarm_err *e)
{
    if (db_prepare(c->db, &c->st_comb,
                   "INSERT INTO combined_rewards (run_id, rollout_id, prompt_id, mode, holistic, "
                   "gate, aspects, dense, total) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", e) < 0 ||
        db_prepare(c->db, &c->st_rew,
                   "INSERT INTO rewards (run_id, rollout_id, prompt_id, aspect, value, raw, spans) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?)", e) < 0)
        return -1;
    return 0;
}

static int build_aspects_json(select_ctx *c, alarm_err *e);

int select_store_into(select_ctx *c, db_store *db, int64_t run_id, alarm_err *e)
{
    c->db = db;
    c->run_id = run_id;
    return prepare_store(c, e);
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
            return oom(e);
        for (size_t k = 0; k < o->n_aspects; k++) {
            c->sel[k] = k;
            c->sel_w[k] = o->weights[k];
            c->selected[k] = 1;
        }
        if (build_aspects_json(c, e) < 0)
            return -1;
    }
    return 0;
}

/* The spill file of automatic selection, in o.tmpdir, made on the first
 * record (so a bad directory is a failure of the run, not a usage error)
 * and unlinked at once so nothing is left behind. */
static int open_spool(select_ctx *c, alarm_err *e)
{
    const char *dir = c->o.tmpdir && *c->o.tmpdir ? c->o.tmpdir : "/tmp";
    size_t n = strlen(dir) + sizeof "/alarm-select-XXXXXX";
    char *path = malloc(n);
    if (!path)
        return oom(e);
    snprintf(path, n, "%s/alarm-select-XXXXXX", dir);
    int fd = mkstemp(path);
    int err = errno;
    if (fd >= 0) {
        unlink(path);
        if (!(c->spool = fdopen(fd, "w+")))
            err = errno, close(fd);
    }
    free(path);
    if (!c->spool)
        return err_set(e, "cannot create a temporary file for the records in %s: %s", dir,
                       strerror(err));
    return 0;
}


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
            return oom(e);
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
static void flush_group(select_ctx *c)
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
static int group_add(select_ctx *c, const jsonl_reader *r, const char *pid, alarm_err *e)
{
    if (c->gn == 0 || strcmp(c->gid, pid)) {
        flush_group(c);
        if (c->gid && seen_add(c, hash_id(c->gid), e) < 0)
            return -1;
        if (c->gid_cap <= strlen(pid) && grow0(&c->gid, &c->gid_cap, strlen(pid) + 1, 1) < 0)
            return oom(e);
        strcpy(c->gid, pid);
        if (seen_has(c, hash_id(pid)))
            return jsonl_fail(r, e, "prompt_id \"%s\" comes back after its group ended: "
                              "records of one prompt must be consecutive", pid);
    }
    size_t n = c->names.n;
    if (grow0(&c->gh, &c->gcap, c->gn + 1, sizeof *c->gh) < 0)
        return oom(e);
    /* goff/glen follow gh's capacity. */
    size_t *go = realloc(c->goff, c->gcap * sizeof *go);
    if (go)
        c->goff = go;
    size_t *gl = go ? realloc(c->glen, c->gcap * sizeof *gl) : NULL;
    if (gl)
        c->glen = gl;
    if (!go || !gl ||
        grow0(&c->gval, &c->gval_cap, c->gval_n + n, sizeof *c->gval) < 0 ||
        grow0(&c->col, &c->col_cap, c->gn + 1, sizeof *c->col) < 0)
        return oom(e);
    c->gh[c->gn] = c->cur.h;
    c->goff[c->gn] = c->gval_n;
    c->glen[c->gn] = n;
    for (size_t a = 0; a < n; a++)
        c->gval[c->gval_n + a] = a < c->cur.nasp && c->cur.asp[a].present ? c->cur.asp[a].value : NAN;
    c->gval_n += n;
    c->gn++;
    return 0;
}

static int put(select_ctx *c, const char *s, size_t n)
{
    if (c->buf_len + n + 1 > c->buf_cap) {
        size_t cap = c->buf_cap ? c->buf_cap : 4096;
        while (cap < c->buf_len + n + 1)
            cap *= 2;
        char *b = realloc(c->buf, cap);
        if (!b)
            return -1;
        c->buf = b;
        c->buf_cap = cap;
    }
    memcpy(c->buf + c->buf_len, s, n);
    c->buf_len += n;
    return 0;
}

static int put_s(select_ctx *c, const char *s) { return put(c, s, strlen(s)); }

static int put_num(select_ctx *c, double v)
{
    char num[32];
    return put(c, num, (size_t)reward_fmt_num(num, v));
}

/* The position of a record text's closing brace (after trailing blanks). */
static size_t body_end(const char *line, size_t len)
{
    while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t' || line[len - 1] == '\r'))
        len--;
    return len > 0 && line[len - 1] == '}' ? len - 1 : (size_t)-1;
}

static int store_combined(select_ctx *c, const char *id, const char *pid,
                          const reward_summary *s, size_t dense0, size_t dense1, alarm_err *e)
{
    db_value v[] = {db_int(c->run_id), db_text(id), db_text(pid),
                    db_text(reward_mode_name(c->o.rc.mode)), db_real(s->holistic),
                    s->gate < 0 ? db_null() : db_int(s->gate), db_text(c->aspects_json),
                    db_textn(c->buf + dense0, dense1 - dense0), db_real(s->total)};
    return db_put(c->db, c->st_comb, v, 9, e);
}

/* Writes `line` (a record's text without any "reward" field) with its
 * combined reward spliced in, and records the row. */
static int emit(select_ctx *c, const char *line, size_t len, const reward_rec *rec,
                const char *file, long lineno, const char *id, const char *pid, alarm_err *e)
{
    reward_summary s;
    size_t body = body_end(line, len);
    if (body == (size_t)-1)
        return err_set(e, "%s:%ld: internal: record text does not end with '}'", file, lineno);
    if (grow0(&c->dense, &c->dense_cap, rec->T, sizeof *c->dense) < 0)
        return oom(e);
    if (reward_combine(c->dense, &s, &c->o.rc, c->sel, c->sel_w, c->nsel, rec) < 0)
        return err_set(e, "%s:%ld: the combined reward overflows (a reward value is too large)",
                       file, lineno);
    c->buf_len = 0;
    int ok = put(c, line, body) == 0 && put_s(c, ",\"reward\":{\"mode\":\"") == 0 &&
             put_s(c, reward_mode_name(c->o.rc.mode)) == 0 && put_s(c, "\",\"holistic\":") == 0 &&
             put_num(c, s.holistic) == 0;
    if (ok && s.gate >= 0)
        ok = put_s(c, s.gate ? ",\"gate\":true" : ",\"gate\":false") == 0;
    ok = ok && put_s(c, ",\"aspects\":") == 0 && put_s(c, c->aspects_json) == 0 &&
         put_s(c, ",\"dense\":") == 0;
    size_t dense0 = c->buf_len;
    for (size_t i = 0; ok && i < rec->T; i++)
        ok = put(c, i ? "," : "[", 1) == 0 && put_num(c, c->dense[i]) == 0;
    ok = ok && put(c, "]", 1) == 0;
    size_t dense1 = c->buf_len;
    ok = ok && put_s(c, ",\"total\":") == 0 && put_num(c, s.total) == 0 && put_s(c, "}}\n") == 0;
    if (!ok)
        return oom(e);
    if (fwrite(c->buf, 1, c->buf_len, c->out) != c->buf_len)
        return err_set(e, "error writing standard output");
    if (c->db && store_combined(c, id, pid, &s, dense0, dense1, e) < 0)
        return err_prefix(e, "%s:%ld", file, lineno);
    return 0;
}

/* One `rewards` row per (record, aspect), holistic included. */
static int store_rewards(select_ctx *c, const jsonl_reader *r, const cJSON *rec, const char *id,
                         const char *pid, alarm_err *e)
{
    const cJSON *rw = cJSON_GetObjectItemCaseSensitive(rec, "rewards");
    for (const cJSON *it = rw->child; it; it = it->next) {
        const cJSON *raw = cJSON_GetObjectItemCaseSensitive(it, "raw");
        const cJSON *spans = cJSON_GetObjectItemCaseSensitive(it, "spans");
        char *stext = spans ? cJSON_PrintUnformatted(spans) : NULL;
        if (spans && !stext)
            return oom(e);
        db_value v[] = {db_int(c->run_id), db_text(id), db_text(pid), db_text(it->string),
                        db_real(cJSON_GetObjectItemCaseSensitive(it, "value")->valuedouble),
                        raw ? db_real(raw->valuedouble) : db_null(), db_text(stext)};
        int rc = db_put(c->db, c->st_rew, v, 7, e);
        free(stext);
        if (rc < 0)
            return jsonl_fail(r, e, "record \"%s\": %s", id, e->msg);
    }
    return 0;
}

static int keep(select_ctx *c, const jsonl_reader *r, const char *text, const char *id,
                const char *pid, alarm_err *e)
{
    if (!c->spool && open_spool(c, e) < 0)
        return -1;
    if (fputs(text, c->spool) == EOF || putc('\n', c->spool) == EOF)
        return err_set(e, "writing the temporary file of records failed");
    if (grow0(&c->kept, &c->kept_cap, c->nkept + 1, sizeof *c->kept) < 0)
        return oom(e);
    select_kept *k = &c->kept[c->nkept];
    k->file = r->name;
    k->lineno = r->lineno;
    if (reward_rec_copy(&k->rec, &c->cur, e) < 0)
        return -1;
    c->nkept++;
    if (c->db && (!(k->id = strdup(id)) || !(k->prompt_id = strdup(pid))))
        return oom(e);
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
                       const char *line, size_t len, alarm_err *e)
{
    if (sync_columns(c, e) < 0 || check_given_present(c, r, e) < 0)
        return -1;
    for (size_t a = 0; a < c->names.n; a++)
        if (a >= c->cur.nasp || !c->cur.asp[a].present)
            c->missing[a]++;
    c->records++;
    if (group_add(c, r, pid, e) < 0)
        return -1;
    return c->o.auto_k ? keep(c, r, line, id, pid, e)
                       : emit(c, line, len, &c->cur, r->name, r->lineno, id, pid, e);
}

int select_feed(select_ctx *c, const jsonl_reader *r, cJSON *rec, alarm_err *e)
{
    const char *id, *pid;
    if (jsonl_req_string(r, rec, "", "id", &id, e) < 0 ||
        jsonl_req_string(r, rec, "", "prompt_id", &pid, e) < 0 ||
        reward_parse(&c->cur, &c->names, c->o.holistic, r, rec, e) < 0 ||
        (c->db && store_rewards(c, r, rec, id, pid, e) < 0))
        return -1;
    /* An old "reward" (a record run through alarm-select twice) is replaced:
     * the record is re-printed without it, losing byte-exactness only then. */
    char *text = NULL;
    const char *line = r->line;
    size_t len = r->len;
    if (cJSON_GetObjectItemCaseSensitive(rec, "reward")) {
        while (cJSON_GetObjectItemCaseSensitive(rec, "reward"))
            cJSON_DeleteItemFromObjectCaseSensitive(rec, "reward");
        if (!(text = cJSON_PrintUnformatted(rec)))
            return oom(e);
        line = text;
        len = strlen(text);
    }
    int rc = feed_parsed(c, r, id, pid, line, len, e);
    free(text);
    return rc;
}

/* NUL-terminated copy of [s, s+n) into *buf. */
static int copy_str(char **buf, size_t *cap, const char *s, size_t n)
{
    if (grow0(buf, cap, n + 1, 1) < 0)
        return -1;
    memcpy(*buf, s, n);
    (*buf)[n] = '\0';
    return 0;
}

int select_feed_line(select_ctx *c, const jsonl_reader *r, alarm_err *e)
{
    const char *id, *pid;
    size_t id_n, pid_n;
    /* The store's rewards rows want the parsed spans: no fast path there. */
    if (!c->db && reward_scan(&c->cur, &c->names, c->o.holistic, r->line, r->len, &id, &id_n,
                              &pid, &pid_n) == 1) {
        if (copy_str(&c->id_buf, &c->id_cap, id, id_n) < 0 ||
            copy_str(&c->pid_buf, &c->pid_cap, pid, pid_n) < 0)
            return oom(e);
        return feed_parsed(c, r, c->id_buf, c->pid_buf, r->line, r->len, e);
    }
    cJSON *rec;
    if (jsonl_parse_line(r, &rec, e) < 0)
        return -1;
    int rc = select_feed(c, r, rec, e);
    cJSON_Delete(rec);
    return rc;
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

static int pick(select_ctx *c, alarm_err *e)
{
    size_t n = c->names.n;
    int *elig = calloc(n ? n : 1, sizeof *elig);
    if (!elig)
        return oom(e);
    for (size_t a = 0; a < n; a++)
        elig[a] = select_eligible(c, a);
    c->nsel = consist_select(c->selected, c->rank, c->counts, elig, n, c->o.auto_k,
                             c->o.max_incons);
    free(elig);
    if (!(c->sel = malloc((c->nsel ? c->nsel : 1) * sizeof *c->sel)) ||
        !(c->sel_w = malloc((c->nsel ? c->nsel : 1) * sizeof *c->sel_w)))
        return oom(e);
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

/* ["a","b"]: the names of the aspects that combine ([] in holistic mode). */
static int build_aspects_json(select_ctx *c, alarm_err *e)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t k = 0; arr && c->o.rc.mode != REWARD_HOLISTIC && k < c->nsel; k++)
        if (!cJSON_AddItemToArray(arr, cJSON_CreateString(c->names.names[c->sel[k]]))) {
            cJSON_Delete(arr);
            arr = NULL;
        }
    c->aspects_json = arr ? cJSON_PrintUnformatted(arr) : NULL;
    cJSON_Delete(arr);
    return c->aspects_json ? 0 : oom(e);
}

/* Second pass of automatic selection: the kept records, in input order. */
static int emit_kept(select_ctx *c, alarm_err *e)
{
    if (!c->spool)
        return 0;
    if (fflush(c->spool) != 0 || fseek(c->spool, 0, SEEK_SET) != 0)
        return err_set(e, "reading back the temporary file of records failed");
    for (size_t i = 0; i < c->nkept; i++) {
        select_kept *k = &c->kept[i];
        ssize_t n = getline(&c->spool_line, &c->spool_cap, c->spool);
        if (n <= 0)
            return err_set(e, "reading back the temporary file of records failed");
        if (emit(c, c->spool_line, (size_t)n - 1, &k->rec, k->file, k->lineno, k->id,
                 k->prompt_id, e) < 0)
            return -1;
        reward_rec_free(&k->rec); /* memory goes back as the output goes out */
    }
    return 0;
}

int select_finish(select_ctx *c, alarm_err *e)
{
    flush_group(c);
    if (c->o.auto_k && (pick(c, e) < 0 || build_aspects_json(c, e) < 0))
        return -1;
    if (c->o.auto_k && emit_kept(c, e) < 0)
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
    reward_rec_free(&c->cur);
    free(c->counts); free(c->missing); free(c->lower); free(c->selected); free(c->rank);
    free(c->col_w); free(c->col); free(c->gid); free(c->gh); free(c->goff); free(c->glen);
    free(c->gval); free(c->seen); free(c->sel); free(c->sel_w); free(c->aspects_json);
    free(c->dense); free(c->buf); free(c->spool_line); free(c->id_buf); free(c->pid_buf);
    memset(c, 0, sizeof *c);
}
