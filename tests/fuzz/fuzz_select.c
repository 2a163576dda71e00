/* fuzz_select: libFuzzer target for alarm-select's record reader, grouping,
 * consistency and combination. The first byte picks the options (mode,
 * automatic or given aspects, shaping, min tokens, a store in memory); the
 * rest is JSONL input. Whatever the input, nothing may crash; when a run
 * succeeds every output line must be JSON whose "reward.dense" has one entry
 * per response token; and for every line, reward_scan (the fast path) must
 * accept only what cJSON + reward_parse accept, reading the same values. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "select.h"

static void check_output(const char *text, size_t len)
{
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            abort(); /* every record ends with a newline */
        cJSON *rec = cJSON_ParseWithLength(p, (size_t)(nl - p));
        if (!rec)
            abort();
        const cJSON *toks = cJSON_GetObjectItemCaseSensitive(rec, "response_tokens");
        const cJSON *rw = cJSON_GetObjectItemCaseSensitive(rec, "reward");
        const cJSON *dense = cJSON_GetObjectItemCaseSensitive(rw, "dense");
        if (!cJSON_IsArray(dense) || cJSON_GetArraySize(dense) != cJSON_GetArraySize(toks))
            abort();
        cJSON_Delete(rec);
        p = nl + 1;
    }
}

/* The fast path against the general one on one line. */
static void differential(const jsonl_reader *r)
{
    reward_rec a = {0}, b = {0};
    reward_names na = {0}, nb = {0};
    const char *id, *pid;
    size_t id_n, pid_n;
    alarm_err e;
    cJSON *rec = NULL;
    if (reward_scan(&a, &na, "holistic", r->line, r->len, &id, &id_n, &pid, &pid_n) == 1) {
        const char *gid, *gpid;
        if (jsonl_parse_line(r, &rec, &e) < 0 ||
            jsonl_req_string(r, rec, "", "id", &gid, &e) < 0 ||
            jsonl_req_string(r, rec, "", "prompt_id", &gpid, &e) < 0 ||
            reward_parse(&b, &nb, "holistic", r, rec, &e) < 0)
            abort(); /* the fast path accepted what the general one rejects */
        if (strlen(gid) != id_n || memcmp(gid, id, id_n) || strlen(gpid) != pid_n ||
            memcmp(gpid, pid, pid_n) || a.T != b.T || a.resp_len != b.resp_len || a.h != b.h ||
            a.nasp != b.nasp || na.n != nb.n || a.nspans != b.nspans)
            abort();
        for (size_t i = 0; i < a.nasp; i++) {
            const reward_aspect *x = &a.asp[i], *y = &b.asp[i];
            if (strcmp(na.names[i], nb.names[i]) || x->present != y->present ||
                (x->present && (x->value != y->value || x->has_spans != y->has_spans ||
                                x->span0 != y->span0 || x->nspans != y->nspans)))
                abort();
        }
        for (size_t i = 0; i < a.nspans; i++)
            if (a.spans[i].tok != b.spans[i].tok || a.spans[i].value != b.spans[i].value)
                abort();
    }
    cJSON_Delete(rec);
    reward_rec_free(&a);
    reward_rec_free(&b);
    reward_names_free(&na);
    reward_names_free(&nb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t flags = data[0];
    static const char *asp[] = {"factuality", "readability"};
    static double w[] = {1.0, 0.5};
    static const char *lower[] = {"readability"};
    select_opts o = {0};
    reward_cfg_default(&o.rc);
    o.rc.mode = (reward_mode)(flags & 3);
    o.rc.shaping = (flags >> 2) & 1;
    o.rc.min_tokens = (flags >> 3) & 1 ? 0 : 2;
    o.holistic = "holistic";
    o.max_incons = -1;
    o.lower_better = lower;
    o.n_lower = 1;
    if ((flags >> 4) & 1) {
        o.auto_k = 1 + ((flags >> 5) & 1);
    } else {
        o.aspects = asp;
        o.weights = w;
        o.n_aspects = 1 + ((flags >> 5) & 1);
    }
    char *out_text = NULL;
    size_t out_len = 0;
    FILE *out = open_memstream(&out_text, &out_len);
    FILE *in = size > 1 ? fmemopen((void *)(data + 1), size - 1, "r") : NULL;
    select_ctx sc = {0};
    db_store db = {0};
    alarm_err e;
    int ok = in && out && select_init(&sc, &o, out, &e) == 0;
    if (ok && (flags >> 6) & 1) {
        int64_t run;
        ok = db_open(&db, ":memory:", &e) == 0 && db_run_start(&db, "fuzz", "[]", &run, &e) == 0 &&
             db_begin(&db, &e) == 0 && select_store_into(&sc, &db, run, &e) == 0;
    }
    if (ok) {
        jsonl_reader r = {.fp = in, .name = "<fuzz>"};
        int rc;
        while ((rc = jsonl_next_line(&r, &e)) == 1) {
            differential(&r);
            if ((rc = select_feed_line(&sc, &r, &e)) < 0)
                break;
        }
        jsonl_close(&r);
        if (rc == 0 && select_finish(&sc, &e) == 0) {
            cJSON_Delete(select_report_json(&sc));
            fflush(out);
            check_output(out_text, out_len);
        }
    }
    select_free(&sc);
    db_rollback(&db);
    db_close(&db);
    if (in)
        fclose(in);
    if (out)
        fclose(out);
    free(out_text);
    return 0;
}
