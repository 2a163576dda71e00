/* score: parsing a --scorer NAME=KIND[:ARG][,key=value...] spec, opening a
 * scorer of a built-in kind, and the answer (value, raw, spans) one scorer
 * gives one record. The kinds themselves live in score_*.c. */
#include "score.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"

static int spec_bad(alarm_err *e, const char *text, const char *why)
{
    return err_set(e, "--scorer '%s': %s (expected NAME=KIND[:ARG][,key=value...])", text, why);
}

/* The first comma of the piece p that is not escaped (a backslash before
 * it), or NULL. */
static char *next_comma(char *p)
{
    for (char *q = p; *q; q++)
        if (*q == ',' && !(q > p && q[-1] == '\\'))
            return q;
    return NULL;
}

/* Drops the backslash of each escaped comma of the piece p. */
static void unescape(char *p)
{
    char *w = p;
    for (; *p; p++)
        if (!(*p == '\\' && p[1] == ','))
            *w++ = *p;
    *w = '\0';
}

/* ARG runs to the first comma: options follow it. A comma inside ARG or a
 * value (a shell program's) is escaped with a backslash. */
int score_spec_parse(score_spec *s, const char *text, alarm_err *e)
{
    memset(s, 0, sizeof *s);
    if (!(s->buf = strdup(text)))
        return err_set(e, "out of memory");
    char *eq = strchr(s->buf, '=');
    if (!eq || eq == s->buf)
        return spec_bad(e, text, eq ? "no NAME" : "no '='");
    *eq = '\0';
    s->name = s->buf;
    char *kind = eq + 1, *opts = next_comma(kind);
    if (opts)
        *opts++ = '\0';
    unescape(kind);
    char *colon = strchr(kind, ':');
    if (colon) {
        *colon = '\0';
        s->arg = colon + 1;
    }
    s->kind = kind;
    if (!*kind)
        return spec_bad(e, text, "no KIND");
    size_t cap = 0;
    for (char *p = opts; p && *p;) {
        char *next = next_comma(p);
        if (next)
            *next++ = '\0';
        unescape(p);
        char *v = strchr(p, '=');
        if (!v || v == p)
            return spec_bad(e, text, "an option is not key=value");
        *v++ = '\0';
        for (size_t i = 0; i < s->nkv; i++)
            if (!strcmp(s->kv[i].key, p))
                return err_set(e, "--scorer '%s': option %s given twice", text, p);
        if (grow_array(&s->kv, &cap, s->nkv + 1, sizeof *s->kv, 4, e) < 0)
            return -1;
        s->kv[s->nkv++] = (score_kv){p, v};
        p = next;
    }
    return 0;
}

void score_spec_free(score_spec *s)
{
    free(s->buf);
    free(s->kv);
    memset(s, 0, sizeof *s);
}

const char *score_spec_get(const score_spec *s, const char *key)
{
    for (size_t i = 0; i < s->nkv; i++)
        if (!strcmp(s->kv[i].key, key))
            return s->kv[i].value;
    return NULL;
}

int score_opt_double(const score_spec *s, const char *key, double dflt, double lo, double hi,
                     double *out, alarm_err *e)
{
    const char *v = score_spec_get(s, key);
    *out = dflt;
    if (!v)
        return 0;
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (!*v || *end || errno || !isfinite(d) || d < lo || d > hi)
        return err_set(e, "scorer %s: %s=%s: expected a number in [%g, %g]", s->name, key, v,
                       lo, hi);
    *out = d;
    return 0;
}

int score_opt_long(const score_spec *s, const char *key, long dflt, long lo, long hi, long *out,
                   alarm_err *e)
{
    const char *v = score_spec_get(s, key);
    *out = dflt;
    if (!v)
        return 0;
    char *end;
    errno = 0;
    long d = strtol(v, &end, 10);
    if (!*v || *end || errno || d < lo || d > hi)
        return err_set(e, "scorer %s: %s=%s: expected an integer in [%ld, %ld]", s->name, key,
                       v, lo, hi);
    *out = d;
    return 0;
}

const score_kind *score_kind_find(const char *name)
{
    for (size_t i = 0; score_kinds[i]; i++)
        if (!strcmp(score_kinds[i]->name, name))
            return score_kinds[i];
    return NULL;
}

static int check_spec(const score_spec *s, const score_kind *k, alarm_err *e)
{
    if (k->arg == 0 && s->arg)
        return err_set(e, "scorer %s: kind %s takes no ARG (':%s')", s->name, k->name, s->arg);
    if (k->arg == 2 && (!s->arg || !*s->arg))
        return err_set(e, "scorer %s: kind %s needs an ARG (%s:ARG)", s->name, k->name, k->name);
    for (size_t i = 0; i < s->nkv; i++) {
        size_t j = 0;
        while (k->keys && k->keys[j] && strcmp(k->keys[j], s->kv[i].key))
            j++;
        if (!k->keys || !k->keys[j])
            return err_set(e, "scorer %s: kind %s has no option '%s'", s->name, k->name,
                           s->kv[i].key);
    }
    return 0;
}

int scorer_open(scorer *s, const char *text, const score_env *env, alarm_err *e)
{
    memset(s, 0, sizeof *s);
    s->text = text;
    if (score_spec_parse(&s->spec, text, e) < 0)
        return -1;
    if (!(s->kind = score_kind_find(s->spec.kind))) {
        char list[256] = "";
        for (size_t i = 0; score_kinds[i]; i++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
                     score_kinds[i]->name);
        return err_set(e, "scorer %s: unknown kind '%s' (kinds: %s)", s->spec.name,
                       s->spec.kind, list);
    }
    static const score_env none = {.concurrency = 1};
    if (check_spec(&s->spec, s->kind, e) < 0)
        return -1;
    return s->kind->init(&s->state, &s->spec, env ? env : &none, e);
}

void scorer_close(scorer *s)
{
    if (s->kind && s->kind->free && s->state)
        s->kind->free(s->state);
    score_spec_free(&s->spec);
    s->state = NULL;
}

int scorer_finish(scorer *s, alarm_err *e)
{
    if (!s->kind || !s->kind->finish || !s->state)
        return 0;
    return s->kind->finish(s->state, e) < 0 ? err_prefix(e, "scorer %s", s->spec.name) : 0;
}

void score_out_reset(score_out *o)
{
    o->value = o->raw = 0;
    o->has_raw = o->has_spans = o->failed = o->fatal = 0;
    o->nspans = 0;
    o->why[0] = '\0';
}

void score_out_free(score_out *o)
{
    free(o->spans);
    memset(o, 0, sizeof *o);
}

int score_out_span(score_out *o, size_t end, double value, alarm_err *e)
{
    if (grow_array(&o->spans, &o->cap, o->nspans + 1, sizeof *o->spans, 8, e) < 0)
        return -1;
    o->spans[o->nspans++] = (score_span){end, value};
    o->has_spans = 1;
    return 0;
}

int score_out_fail(score_out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(o->why, sizeof o->why, fmt, ap);
    va_end(ap);
    o->failed = 1;
    return 0;
}
