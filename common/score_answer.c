/* score_answer: reading the answer a program or a server gives for one
 * record, {"value": N, "raw"?: N, "spans"?: [{"end": BYTE, "value": N}]}
 * (alarm-score(1), REMOTE SCORERS), into a score_out. An answer that is not
 * one fails the record, quoting the answer, so a bad line never stops the
 * batch and --skip-failed can pass over it. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "score.h"

void score_quote(char *out, size_t n, const char *text, size_t len)
{
    size_t w = 0, k = 0;
    for (; k < len && w + 5 < n; k++)
        out[w++] = (unsigned char)text[k] < 0x20 ? '?' : text[k];
    if (k < len && w + 4 < n)
        w += (size_t)snprintf(out + w, n - w, "...");
    out[w] = '\0';
}

static int number(const cJSON *x, double *v)
{
    if (!cJSON_IsNumber(x) || !isfinite(x->valuedouble))
        return 0;
    *v = x->valuedouble;
    return 1;
}

/* Checks the fields; returns NULL when the answer is good, else why not. */
static const char *check(const cJSON *a, size_t len, char *why, size_t n)
{
    double v;
    if (!cJSON_IsObject(a))
        return "not a JSON object";
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(a, "value");
    if (!x)
        return "field \"value\": missing";
    if (!number(x, &v))
        return "field \"value\": expected a number";
    x = cJSON_GetObjectItemCaseSensitive(a, "raw");
    if (x && !number(x, &v))
        return "field \"raw\": expected a number";
    const cJSON *sp = cJSON_GetObjectItemCaseSensitive(a, "spans");
    if (sp && !cJSON_IsArray(sp))
        return "field \"spans\": expected an array";
    int k = 0;
    for (const cJSON *s = sp ? sp->child : NULL; s; s = s->next, k++) {
        const cJSON *end = cJSON_GetObjectItemCaseSensitive(s, "end");
        if (!cJSON_IsObject(s))
            snprintf(why, n, "spans[%d]: expected an object", k);
        else if (!number(end, &v) || v != floor(v) || v < 1 || v > (double)len)
            snprintf(why, n, "spans[%d].end: expected an integer in [1, %zu] (a byte offset "
                     "of the response)", k, len);
        else if (!number(cJSON_GetObjectItemCaseSensitive(s, "value"), &v))
            snprintf(why, n, "spans[%d].value: expected a number", k);
        else
            continue;
        return why;
    }
    return NULL;
}

static int fill(score_out *o, const cJSON *a, alarm_err *e)
{
    o->value = cJSON_GetObjectItemCaseSensitive(a, "value")->valuedouble;
    const cJSON *raw = cJSON_GetObjectItemCaseSensitive(a, "raw");
    if (raw) {
        o->raw = raw->valuedouble;
        o->has_raw = 1;
    }
    const cJSON *sp = cJSON_GetObjectItemCaseSensitive(a, "spans");
    if (sp)
        o->has_spans = 1;
    for (const cJSON *s = sp ? sp->child : NULL; s; s = s->next)
        if (score_out_span(o, (size_t)cJSON_GetObjectItemCaseSensitive(s, "end")->valuedouble,
                           cJSON_GetObjectItemCaseSensitive(s, "value")->valuedouble, e) < 0)
            return -1;
    return 0;
}

int score_answer_read(score_out *o, const char *text, size_t n, size_t len, alarm_err *e)
{
    const char *end = NULL;
    cJSON *a = cJSON_ParseWithLengthOpts(text, n, &end, 0);
    char why[160], q[128];
    const char *bad = NULL;
    if (!a)
        bad = "not JSON";
    else {
        while (end < text + n && strchr(" \t\r\n", *end))
            end++;
        bad = end < text + n ? "not JSON (text after the object)" : check(a, len, why, sizeof why);
    }
    int rc = 0;
    if (bad) {
        score_quote(q, sizeof q, text, n);
        score_out_fail(o, "answer '%s': %s", q, bad);
    } else
        rc = fill(o, a, e);
    cJSON_Delete(a);
    return rc;
}
