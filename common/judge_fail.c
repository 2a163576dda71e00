/* judge_fail: the distinct causes of failed requests (see judge_fail.h).
 * Two failures share a cause when their kind, status and message agree, so
 * "connection refused" is one line however many requests met it, and two
 * different 400s (an unknown model, a prompt too long) are two. */
#include "judge_fail.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

enum { MESSAGE_MAX = 200 };

/* Statuses that say the request itself, the key or the URL is wrong: every
 * other request of the run would get the same answer. */
static int status_fatal(long status)
{
    return status == 400 || status == 401 || status == 403 || status == 404 ||
           status == 405 || status == 410;
}

/* Copies s into out as one line of at most MESSAGE_MAX bytes (cut on a
 * UTF-8 boundary, "..." marking the cut), every occurrence of secret as ***. */
static void clean_copy(char *out, size_t n, const char *s, const char *secret)
{
    size_t k = 0, sl = secret ? strlen(secret) : 0;
    size_t max = n - 1 < MESSAGE_MAX ? n - 1 : MESSAGE_MAX;
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    while (*s && k < max) {
        if (sl && strncmp(s, secret, sl) == 0) {
            size_t m = k + 3 <= max ? 3 : max - k;
            memcpy(out + k, "***", m);
            k += m;
            s += sl;
            continue;
        }
        unsigned char c = (unsigned char)*s++;
        out[k++] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
    }
    if (*s) { /* cut: drop the characters that "..." needs room for */
        k = k > max - 3 ? max - 3 : k;
        while (k > 0 && ((unsigned char)out[k] & 0xC0) == 0x80)
            k--;
        memcpy(out + k, "...", 3);
        k += 3;
    }
    while (k > 0 && out[k - 1] == ' ')
        k--;
    out[k] = '\0';
}

static const char *string_item(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

void judge_error_message(const char *body, char *out, size_t n, const char *secret)
{
    out[0] = '\0';
    if (!body || !*body || n < 8)
        return;
    cJSON *j = cJSON_Parse(body);
    const char *m = NULL;
    if (cJSON_IsObject(j)) {
        const cJSON *err = cJSON_GetObjectItemCaseSensitive(j, "error");
        m = cJSON_IsObject(err) ? string_item(err, "message") : string_item(j, "error");
        if (!m)
            m = string_item(j, "message");
        if (!m)
            m = string_item(j, "detail");
    } else if (!j && body[0] != '{' && body[0] != '[' && body[0] != '<')
        m = body; /* plain text; not an HTML page or a cut JSON body */
    if (m)
        clean_copy(out, n, m, secret);
    cJSON_Delete(j);
}

/* The cause of r, written into c (all but the count). */
static void describe(judge_cause *c, const http_result *r, const char *url, const char *secret)
{
    memset(c, 0, sizeof *c);
    c->fail = r->fail;
    c->status = r->status;
    c->transient = r->retryable;
    if (r->fail == HTTP_FAIL_STATUS) {
        char msg[MESSAGE_MAX + 8];
        judge_error_message(r->body, msg, sizeof msg, secret);
        c->fatal = status_fatal(r->status);
        snprintf(c->what, sizeof c->what, "%s%s%s", r->error, msg[0] ? ": " : "", msg);
        return;
    }
    c->fatal = !r->retryable; /* a bad URL, TLS refused: the same every time */
    if (r->fail == HTTP_FAIL_CONNECT)
        snprintf(c->what, sizeof c->what, "%s to %s", r->error, url);
    else
        snprintf(c->what, sizeof c->what, "%s (%s)", r->error, url);
}

static void count(judge_causes *cs, const judge_cause *c)
{
    for (size_t i = 0; i < cs->n; i++)
        if (cs->c[i].fail == c->fail && cs->c[i].status == c->status &&
            strcmp(cs->c[i].what, c->what) == 0) {
            cs->c[i].requests++;
            return;
        }
    if (cs->n == JUDGE_CAUSES) {
        cs->other++;
        return;
    }
    cs->c[cs->n] = *c;
    cs->c[cs->n++].requests = 1;
}

int judge_causes_add(judge_causes *cs, const http_result *r, const char *url,
                     const char *secret)
{
    judge_cause c;
    describe(&c, r, url, secret);
    count(cs, &c);
    return c.fatal;
}

void judge_causes_add_malformed(judge_causes *cs, const char *why)
{
    judge_cause c = {.fail = JUDGE_FAIL_MALFORMED, .transient = 1};
    snprintf(c.what, sizeof c.what, "malformed answer: %s", why);
    count(cs, &c);
}

int judge_causes_fatal(const judge_causes *cs)
{
    for (size_t i = 0; i < cs->n; i++)
        if (cs->c[i].fatal)
            return 1;
    return 0;
}

int judge_causes_transient(const judge_causes *cs)
{
    for (size_t i = 0; i < cs->n; i++)
        if (cs->c[i].transient)
            return 1;
    return cs->other > 0;
}
