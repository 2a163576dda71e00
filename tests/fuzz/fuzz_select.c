/* fuzz_select: libFuzzer target for alarm-select's record reader, grouping,
 * consistency and combination. The first byte picks the options (mode,
 * automatic or given aspects, shaping, min tokens, a store in memory); the
 * rest is JSONL input. Whatever the input, nothing may crash, and when a run
 * succeeds every output line must be JSON whose "reward.dense" has one entry
 * per response token. */
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
        cJSON *rec;
        int rc;
        while ((rc = jsonl_next(&r, &rec, &e)) == 1) {
            rc = select_feed(&sc, &r, rec, &e);
            cJSON_Delete(rec);
            if (rc < 0)
                break;
        }
        free(r.line);
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
