/* score_cmd: the `cmd:PROGRAM` kind: PROGRAM, run once per run by /bin/sh -c
 * as a coprocess, reads each record as one JSON line and answers each with
 * one line {"value", "raw"?, "spans"?}, in order (alarm-score(1), REMOTE
 * SCORERS). A bad line fails its record only; a program that ends before
 * answering fails the run, naming how it ended. Started at the first batch,
 * so a usage error elsewhere starts nothing. */
#include <stdlib.h>
#include <string.h>

#include "coproc.h"
#include "grow.h"
#include "score.h"

typedef struct {
    const char *program; /* the spec's ARG (the spec outlives the state) */
    coproc c;
    double timeout_s;    /* longest silence before the run fails */
    int started, dead;
    char *data;          /* the batch's lines */
    size_t cap;
} cmd_state;

static const char *const cmd_keys[] = {"timeout", NULL};

static int cmd_init(void **st, const score_spec *s, const score_env *env, alarm_err *e)
{
    (void)env;
    double t;
    if (score_opt_double(s, "timeout", 600, 0, 1e9, &t, e) < 0)
        return -1;
    cmd_state *c = calloc(1, sizeof *c);
    if (!c)
        return err_set(e, "out of memory");
    c->program = s->arg;
    c->timeout_s = t;
    *st = c;
    return 0;
}

/* The batch as JSON lines, one a record. */
static int batch_lines(cmd_state *c, const score_in *in, size_t n, size_t *len, alarm_err *e)
{
    *len = 0;
    for (size_t i = 0; i < n; i++) {
        char *line = cJSON_PrintUnformatted(in[i].rec);
        size_t k = line ? strlen(line) : 0;
        if (!line || grow_array(&c->data, &c->cap, *len + k + 1, 1, 4096, e) < 0) {
            free(line);
            return err_set(e, "out of memory");
        }
        memcpy(c->data + *len, line, k);
        c->data[*len + k] = '\n';
        *len += k + 1;
        free(line);
    }
    return 0;
}

typedef struct {
    const score_in *in;
    score_out *out;
    size_t k;
} answers;

static int on_line(void *user, const char *line, size_t n, alarm_err *e)
{
    answers *a = user;
    if (n > 0 && line[n - 1] == '\r')
        n--;
    size_t k = a->k++;
    return score_answer_read(&a->out[k], line, n, a->in[k].len, e);
}

static int cmd_score(void *st, const score_in *in, size_t n, score_out *out, alarm_err *e)
{
    cmd_state *c = st;
    size_t len;
    if (!c->started) {
        if (coproc_start(&c->c, c->program, e) < 0)
            return err_prefix(e, "program '%s'", c->program);
        c->started = 1;
    }
    if (batch_lines(c, in, n, &len, e) < 0)
        return -1;
    answers a = {in, out, 0};
    long got = c->dead ? 0 : coproc_exchange(&c->c, c->data, len, n, c->timeout_s, on_line, &a, e);
    if (got < 0)
        return err_prefix(e, "program '%s'", c->program);
    if ((size_t)got < n) {
        char how[128];
        c->dead = 1;
        coproc_describe(&c->c, how, sizeof how);
        for (size_t i = (size_t)got; i < n; i++) {
            score_out_fail(&out[i], "program '%s' %s before answering this record", c->program,
                           how);
            out[i].fatal = 1;
        }
    }
    return 0;
}

static int cmd_finish(void *st, alarm_err *e)
{
    cmd_state *c = st;
    if (!c->started || c->dead)
        return 0;
    size_t extra;
    char how[128];
    c->dead = 1;
    if (coproc_end(&c->c, &extra, e) < 0)
        return err_prefix(e, "program '%s'", c->program);
    coproc_describe(&c->c, how, sizeof how);
    if (extra)
        return err_set(e, "program '%s' wrote %zu line%s more than the records it was given",
                       c->program, extra, extra == 1 ? "" : "s");
    if (!coproc_ok(&c->c))
        return err_set(e, "program '%s' %s", c->program, how);
    return 0;
}

static void cmd_free(void *st)
{
    cmd_state *c = st;
    if (c->started)
        coproc_kill(&c->c);
    free(c->data);
    free(c);
}

const score_kind score_kind_cmd = {
    .name = "cmd", .arg = 2, .keys = cmd_keys, .about = "a program answering a JSON line per record",
    .init = cmd_init, .score = cmd_score, .free = cmd_free, .finish = cmd_finish};
