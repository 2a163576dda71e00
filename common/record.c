/* record: the one reader and writer of rewards.NAME (see record.h), and
 * token ids. Numbers are written as cJSON prints them, so a reward written
 * here and one cJSON re-printed read the same in the store and on stdout. */
#include "record.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"

static int is_index(const cJSON *v, double hi)
{
    return cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble <= hi &&
           v->valuedouble == floor(v->valuedouble);
}

static int read_spans(record_reward *o, const char *name, const cJSON *spans, size_t resp_len,
                      const jsonl_reader *r, alarm_err *e)
{
    size_t k = 0;
    for (const cJSON *s = spans->child; s; s = s->next, k++) {
        if (!cJSON_IsObject(s))
            return jsonl_fail(r, e, "field \"rewards.%s.spans[%zu]\": expected an object", name, k);
        const cJSON *end = cJSON_GetObjectItemCaseSensitive(s, "end");
        const cJSON *val = cJSON_GetObjectItemCaseSensitive(s, "value");
        if (!end || !val)
            return jsonl_fail(r, e, "field \"rewards.%s.spans[%zu].%s\": missing", name, k,
                              end ? "value" : "end");
        if (!cJSON_IsNumber(val) || !isfinite(val->valuedouble))
            return jsonl_fail(r, e, "field \"rewards.%s.spans[%zu].value\": expected a finite "
                              "number", name, k);
        if (!is_index(end, (double)resp_len) || end->valuedouble < 1)
            return jsonl_fail(r, e, "field \"rewards.%s.spans[%zu].end\": expected a byte "
                              "offset in [1, %zu] (the response's length)", name, k, resp_len);
        if (grow_array(&o->spans, &o->cap, o->nspans + 1, sizeof *o->spans, 8, e) < 0)
            return -1;
        o->spans[o->nspans++] = (record_span){(size_t)end->valuedouble, val->valuedouble};
    }
    return 0;
}

int record_reward_read(record_reward *o, const cJSON *it, size_t resp_len,
                       const jsonl_reader *r, alarm_err *e)
{
    char path[300];
    snprintf(path, sizeof path, "rewards.%s", it->string);
    const cJSON *spans;
    o->nspans = 0;
    o->has_raw = o->has_spans = 0;
    if (!cJSON_IsObject(it))
        return jsonl_fail(r, e, "field \"%s\": expected an object", path);
    int raw = 0;
    if (jsonl_req_number(r, it, path, "value", &o->value, e) < 0 ||
        (raw = jsonl_opt_number(r, it, path, "raw", &o->raw, e)) < 0 ||
        jsonl_opt_array(r, it, path, "spans", &spans, e) < 0)
        return -1;
    o->has_raw = raw == 1;
    o->has_spans = spans != NULL;
    return spans ? read_spans(o, it->string, spans, resp_len, r, e) : 0;
}

void record_reward_free(record_reward *o)
{
    free(o->spans);
    memset(o, 0, sizeof *o);
}

int record_fmt_num(char *buf, double v)
{
    if (v == 0)
        return (int)(strcpy(buf, "0"), 1);
    int n = snprintf(buf, 32, "%.15g", v);
    if (strtod(buf, NULL) != v)
        n = snprintf(buf, 32, "%.17g", v);
    return n;
}

static int put_num(FILE *f, double v)
{
    char b[32];
    size_t n = (size_t)record_fmt_num(b, v);
    return fwrite(b, 1, n, f) == n ? 0 : -1;
}

int record_spans_put(FILE *f, const record_reward *o)
{
    if (putc('[', f) == EOF)
        return -1;
    for (size_t k = 0; k < o->nspans; k++)
        if (fputs(k ? ",{\"end\":" : "{\"end\":", f) == EOF || put_num(f, (double)o->spans[k].end) ||
            fputs(",\"value\":", f) == EOF || put_num(f, o->spans[k].value) || putc('}', f) == EOF)
            return -1;
    return putc(']', f) == EOF ? -1 : 0;
}

int record_reward_put(FILE *f, const record_reward *o)
{
    if (fputs("{\"value\":", f) == EOF || put_num(f, o->value) < 0)
        return -1;
    if (o->has_raw && (fputs(",\"raw\":", f) == EOF || put_num(f, o->raw) < 0))
        return -1;
    if (o->has_spans && (fputs(",\"spans\":", f) == EOF || record_spans_put(f, o) < 0))
        return -1;
    return putc('}', f) == EOF ? -1 : 0;
}

int record_rewards_set(FILE *out, const char *old, size_t n, const char *const *names,
                       const record_reward *const *rw, size_t k, alarm_err *e)
{
    char *vals = NULL;
    size_t nvals = 0, *off = calloc(k + 1, sizeof *off);
    record_field *f = calloc(k ? k : 1, sizeof *f);
    FILE *m = off && f ? open_memstream(&vals, &nvals) : NULL;
    int rc = m ? 0 : err_set(e, "out of memory");
    for (size_t i = 0; rc == 0 && i < k; i++) {
        off[i] = (size_t)ftell(m);
        if (rw[i] && record_reward_put(m, rw[i]) < 0)
            rc = err_set(e, "out of memory");
        off[i + 1] = (size_t)ftell(m);
    }
    if (m && fclose(m) != 0 && rc == 0)
        rc = err_set(e, "out of memory");
    for (size_t i = 0; rc == 0 && i < k; i++)
        f[i] = (record_field){names[i], rw[i] ? vals + off[i] : NULL, off[i + 1] - off[i], 1};
    if (rc == 0)
        rc = old ? record_splice(out, old, n, f, k, e) : record_splice(out, "{}", 2, f, k, e);
    free(vals);
    free(off);
    free(f);
    return rc;
}

int record_write_rewards(FILE *out, const char *line, size_t len, const char *const *keys,
                         const record_reward *const *set, size_t n, alarm_err *e)
{
    const char *old = NULL;
    size_t on = 0, tn = 0;
    char *text = NULL;
    FILE *m = open_memstream(&text, &tn);
    if (!m)
        return err_set(e, "out of memory");
    if (record_find(line, len, "rewards", &old, &on) < 0) {
        fclose(m);
        free(text);
        return err_set(e, "internal: record text is not a JSON object");
    }
    int rc = record_rewards_set(m, old, on, keys, set, n, e);
    if (fclose(m) != 0 && rc == 0)
        rc = err_set(e, "out of memory");
    record_field f = {"rewards", text, tn, 0};
    if (rc == 0)
        rc = record_splice(out, line, len, &f, 1, e);
    if (rc == 0 && putc('\n', out) == EOF)
        rc = err_set(e, "write error");
    free(text);
    return rc;
}

int record_reward_row(db_store *db, sqlite3_stmt **st, int64_t run_id, const char *id,
                      const char *pid, const char *name, const record_reward *o, alarm_err *e)
{
    if (!*st && db_prepare(db, st, "INSERT INTO rewards (run_id, rollout_id, prompt_id, aspect, "
                           "value, raw, spans) VALUES (?, ?, ?, ?, ?, ?, ?)", e) < 0)
        return -1;
    char *spans = NULL;
    size_t n = 0;
    if (o->has_spans) {
        FILE *m = open_memstream(&spans, &n);
        int bad = !m || record_spans_put(m, o) < 0;
        if ((m && fclose(m) != 0) || bad) {
            free(spans);
            return err_set(e, "out of memory");
        }
    }
    db_value v[] = {db_int(run_id), db_text(id), db_text(pid), db_text(name), db_real(o->value),
                    o->has_raw ? db_real(o->raw) : db_null(),
                    spans ? db_textn(spans, n) : db_null()};
    int rc = db_put(db, *st, v, 7, e);
    free(spans);
    return rc;
}

int record_token_ids(const jsonl_reader *r, const cJSON *rec, const char *key, int required,
                     long vocab, int32_t **ids, size_t *cap, size_t *n, alarm_err *e)
{
    const cJSON *a;
    *n = 0;
    if ((required ? jsonl_req_array(r, rec, NULL, key, &a, e)
                  : jsonl_opt_array(r, rec, NULL, key, &a, e)) < 0)
        return -1;
    if (!a)
        return 0;
    /* Ids are int32 everywhere (seq, the store's JSON, the models). */
    double hi = vocab > 0 ? (double)vocab - 1 : 2147483647.0;
    size_t k = 0;
    for (const cJSON *x = a->child; x; x = x->next, k++) {
        double v = cJSON_IsNumber(x) ? x->valuedouble : NAN;
        if (!(v == floor(v)) || v < 0 || v > hi) {
            char shown[40] = "";
            if (cJSON_IsNumber(x))
                record_fmt_num(strcpy(shown, ": ") + 2, v);
            return jsonl_fail(r, e, "field \"%s\"[%zu]: %s is not a token id %s(0 to %.0f)%s",
                              key, k, cJSON_IsNumber(x) ? "the number" : "the value",
                              vocab > 0 ? "of the model's vocabulary " : "", hi, shown);
        }
        if (grow_array(ids, cap, k + 1, sizeof **ids, 256, e) < 0)
            return -1;
        (*ids)[k] = (int32_t)v;
    }
    *n = k;
    return 0;
}
