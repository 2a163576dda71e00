/* score_http: the `http:URL` kind: each record, as JSON, POSTed to URL, which
 * answers {"value", "raw"?, "spans"?} as a cmd: program does (alarm-score(1),
 * SCORERS); the requests, retries and cache are score_remote's. */
#include <stdlib.h>

#include "score_remote.h"

static const char *const http_keys[] = {SCORE_REMOTE_KEYS, NULL};

static char *http_body(void *user, const score_in *in, alarm_err *e)
{
    (void)user;
    char *b = cJSON_PrintUnformatted(in->rec);
    if (!b)
        err_set(e, "out of memory");
    return b;
}

static int http_answer(void *user, const score_in *in, const char *body, size_t n, score_out *o,
                       alarm_err *e)
{
    (void)user;
    return score_answer_read(o, body, n, in->len, e);
}

static int http_init(void **st, const score_spec *s, const score_env *env, alarm_err *e)
{
    score_remote_cfg cfg = {.url = s->arg, .kind = "http", .body = http_body,
                            .answer = http_answer};
    return score_remote_new((score_remote **)st, &cfg, s, env, e);
}

static int http_score(void *st, const score_in *in, size_t n, score_out *out, alarm_err *e)
{
    return score_remote_score(st, in, n, out, e);
}

static int http_finish(void *st, alarm_err *e) { return score_remote_finish(st, e); }

static void http_free(void *st) { score_remote_free(st); }

const score_kind score_kind_http = {
    .name = "http", .arg = 2, .keys = http_keys, .about = "a server answering each record POSTed",
    .init = http_init, .score = http_score, .free = http_free, .finish = http_finish};
