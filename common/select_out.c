/* select_out: the output part of alarm-select's loop (see select.h): each
 * record's text with "reward" (alarm-formats(5) section 4) spliced in, every
 * other byte as it came, written straight from the input line (no copy of
 * a record, which may be hundreds of MB). With automatic selection the
 * lines wait in a temporary file until the selection is known. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "select_impl.h"

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
    return put(c, num, (size_t)record_fmt_num(num, v));
}

/* {"mode":...,"total":T} into c->buf; the dense array at [*d0, *d1). */
static int reward_text(select_ctx *c, const reward_summary *s, size_t T, size_t *d0, size_t *d1)
{
    c->buf_len = 0;
    int ok = put_s(c, "{\"mode\":\"") == 0 && put_s(c, reward_mode_name(c->o.rc.mode)) == 0 &&
             put_s(c, "\",\"holistic\":") == 0 && put_num(c, s->holistic) == 0;
    if (ok && s->gate >= 0)
        ok = put_s(c, s->gate ? ",\"gate\":true" : ",\"gate\":false") == 0;
    ok = ok && put_s(c, ",\"aspects\":") == 0 && put_s(c, c->aspects_json) == 0 &&
         put_s(c, ",\"dense\":") == 0;
    *d0 = c->buf_len;
    for (size_t i = 0; ok && i < T; i++)
        ok = put(c, i ? "," : "[", 1) == 0 && put_num(c, c->dense[i]) == 0;
    ok = ok && put(c, "]", 1) == 0;
    *d1 = c->buf_len;
    ok = ok && put_s(c, ",\"total\":") == 0 && put_num(c, s->total) == 0 && put_s(c, "}") == 0;
    return ok ? 0 : -1;
}

int select_emit(select_ctx *c, const char *line, size_t len, const reward_rec *rec,
                const char *file, long lineno, const char *id, const char *pid, alarm_err *e)
{
    reward_summary s;
    if (select_grow0(&c->dense, &c->dense_cap, rec->T, sizeof *c->dense) < 0)
        return select_oom(e);
    if (reward_combine(c->dense, &s, &c->o.rc, c->sel, c->sel_w, c->nsel, rec) < 0)
        return err_set(e, "%s:%ld: the combined reward overflows (a reward value is too large)",
                       file, lineno);
    size_t d0, d1;
    if (reward_text(c, &s, rec->T, &d0, &d1) < 0)
        return select_oom(e);
    /* An old "reward" (a record run through alarm-select twice) is replaced. */
    record_field f = {"reward", c->buf, c->buf_len, 1};
    if (record_splice(c->out, line, len, &f, 1, e) < 0 || putc('\n', c->out) == EOF)
        return err_set(e, "error writing standard output");
    if (c->db && select_store_combined(c, id, pid, &s, c->buf + d0, d1 - d0, e) < 0)
        return err_prefix(e, "%s:%ld", file, lineno);
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
        return select_oom(e);
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


int select_keep(select_ctx *c, const jsonl_reader *r, const char *id, const char *pid,
                alarm_err *e)
{
    if (!c->spool && open_spool(c, e) < 0)
        return -1;
    if (fwrite(r->line, 1, r->len, c->spool) != r->len || putc('\n', c->spool) == EOF)
        return err_set(e, "writing the temporary file of records failed");
    if (select_grow0(&c->kept, &c->kept_cap, c->nkept + 1, sizeof *c->kept) < 0)
        return select_oom(e);
    select_kept *k = &c->kept[c->nkept];
    k->file = r->name;
    k->lineno = r->lineno;
    if (reward_rec_copy(&k->rec, &c->cur, e) < 0)
        return -1;
    c->nkept++;
    if (c->db && (!(k->id = strdup(id)) || !(k->prompt_id = strdup(pid))))
        return select_oom(e);
    return 0;
}

int select_aspects_json(select_ctx *c, alarm_err *e)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t k = 0; arr && c->o.rc.mode != REWARD_HOLISTIC && k < c->nsel; k++)
        if (!cJSON_AddItemToArray(arr, cJSON_CreateString(c->names.names[c->sel[k]]))) {
            cJSON_Delete(arr);
            arr = NULL;
        }
    c->aspects_json = arr ? cJSON_PrintUnformatted(arr) : NULL;
    cJSON_Delete(arr);
    return c->aspects_json ? 0 : select_oom(e);
}

/* Second pass of automatic selection: the kept records, in input order. */
int select_emit_kept(select_ctx *c, alarm_err *e)
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
        if (select_emit(c, c->spool_line, (size_t)n - 1, &k->rec, k->file, k->lineno, k->id,
                 k->prompt_id, e) < 0)
            return -1;
        reward_rec_free(&k->rec); /* memory goes back as the output goes out */
    }
    return 0;
}
