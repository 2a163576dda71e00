/* opt: parsing argv through the declarative option tables (see opt.h).
 * The getopt_long table is built from the shared table (the entries this
 * tool's bit selects) followed by the tool's own; every value is stored at
 * its declared offset, so a tool's main never switches over option codes. */
#include "opt.h"

#include <getopt.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "grow.h"
#include "out.h"

enum { OPT_VAL_BASE = 256, MAX_OPTS = 128 };

/* The options one tool takes, shared first; each with the struct it fills. */
typedef struct {
    const opt_def *def[MAX_OPTS];
    void *base[MAX_OPTS];
    size_t n;
} opt_set;

static void set_collect(opt_set *s, const tool_spec *spec, tool *t, void *args)
{
    s->n = 0;
    for (const opt_def *d = opt_shared; d->name && s->n < MAX_OPTS; d++)
        if (d->tools & spec->id) {
            s->def[s->n] = d;
            s->base[s->n++] = t;
        }
    for (const opt_def *d = spec->opts; d && d->name && s->n < MAX_OPTS; d++) {
        s->def[s->n] = d;
        s->base[s->n++] = args;
    }
}

int opt_list_add(opt_list *l, const char *v)
{
    if (grow_array(&l->v, &l->cap, l->n + 1, sizeof *l->v, 8, NULL) < 0)
        return -1;
    l->v[l->n++] = v;
    return 0;
}

void opt_list_free(opt_list *l)
{
    free(l->v);
    memset(l, 0, sizeof *l);
}

/* Stores one value of `d` into base + d->off. */
static int opt_store(const opt_def *d, void *base, const char *v, alarm_err *e)
{
    char name[80];
    snprintf(name, sizeof name, "--%s", d->name);
    void *p = (char *)base + d->off;
    long n;
    switch (d->type) {
    case OPT_FLAG: *(int *)p = 1; return 0;
    case OPT_STR: *(const char **)p = v; return 0;
    case OPT_INT:
        if (opt_parse_long(name, v, d->min, d->max, &n, e) < 0)
            return -1;
        *(int *)p = (int)n;
        return 0;
    case OPT_LONG: return opt_parse_long(name, v, d->min, d->max, (long *)p, e);
    case OPT_DOUBLE: return opt_parse_double(name, v, d->fmin, d->fmax, (double *)p, e);
    case OPT_U64: return opt_parse_u64(name, v, (uint64_t *)p, e);
    case OPT_LIST:
        return opt_list_add((opt_list *)p, v) < 0 ? err_set(e, "out of memory") : 0;
    case OPT_CALL: return d->call(base, v, e);
    }
    return err_set(e, "%s: bad option declaration", name);
}

/* getopt_long's tables for the set: long options valued OPT_VAL_BASE + index. */
static struct option *set_longopts(const opt_set *s, char *shorts)
{
    struct option *lo = calloc(s->n + 1, sizeof *lo);
    char *p = shorts;
    *p++ = ':'; /* a missing argument comes back as ':' */
    for (size_t i = 0; lo && i < s->n; i++) {
        const opt_def *d = s->def[i];
        lo[i] = (struct option){d->name, d->arg ? required_argument : no_argument, 0,
                                OPT_VAL_BASE + (int)i};
        if (d->short_name) {
            *p++ = (char)d->short_name;
            if (d->arg)
                *p++ = ':';
        }
    }
    *p = '\0';
    return lo;
}

static int set_index(const opt_set *s, int c)
{
    if (c >= OPT_VAL_BASE && c < OPT_VAL_BASE + (int)s->n)
        return c - OPT_VAL_BASE;
    for (size_t i = 0; i < s->n; i++)
        if (s->def[i]->short_name && s->def[i]->short_name == c)
            return (int)i;
    return -1;
}

/* The option getopt just refused, for the message. */
static int bad_option(const tool *t, const opt_set *s, int c, char **argv)
{
    const char *word = optind > 0 ? argv[optind - 1] : "?";
    if (c == ':') {
        int i = set_index(s, optopt);
        if (i >= 0)
            return tool_usage(t, "option '--%s' needs an argument", s->def[i]->name);
        return tool_usage(t, "option '%s' needs an argument", word);
    }
    if (optopt && optopt < OPT_VAL_BASE)
        return tool_usage(t, "unknown option '-%c'", optopt);
    /* A shared option another tool takes (--db to a tool that records nothing). */
    size_t n = strcspn(word, "=");
    for (const opt_def *d = opt_shared; d->name && !strncmp(word, "--", 2); d++)
        if (strlen(d->name) == n - 2 && !strncmp(word + 2, d->name, n - 2))
            return tool_usage(t, "option '--%s' does not apply to %s%s%s%s", d->name, t->name,
                              t->cmd ? " " : "", t->cmd ? t->cmd : "",
                              d->tools == TOOL_RECORDS ? ": it records nothing into a store"
                                                       : "");
    return tool_usage(t, "unknown option '%s'", word);
}

/* Environment variables first, so that the command line wins. */
static int apply_env(const tool *t, opt_set *s)
{
    alarm_err e;
    for (size_t i = 0; i < s->n; i++) {
        const char *v = s->def[i]->env ? getenv(s->def[i]->env) : NULL;
        if (v && *v && opt_store(s->def[i], s->base[i], v, &e) < 0)
            return tool_usage(t, "$%s: %s", s->def[i]->env, e.msg);
    }
    return -1;
}

static int parse_argv(tool *t, opt_set *s, int argc, char **argv)
{
    char shorts[2 * MAX_OPTS + 2];
    struct option *lo = set_longopts(s, shorts);
    if (!lo)
        return tool_usage(t, "out of memory");
    int c, rc = -1;
    alarm_err e;
    optind = 0; /* a full re-scan: subcommands parse after main did */
    opterr = 0;
    while (rc < 0 && (c = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
        int i = set_index(s, c);
        if (c == '?' || c == ':' || i < 0)
            rc = bad_option(t, s, c, argv);
        else if (opt_store(s->def[i], s->base[i], optarg, &e) < 0)
            rc = tool_usage(t, "%s", e.msg);
    }
    free(lo);
    t->nargs = argc - optind;
    t->args = argv + optind;
    return rc;
}

int opt_parse(tool *t, const tool_spec *spec, void *args, int argc, char **argv)
{
    memset(t, 0, sizeof *t);
    t->name = spec->name;
    t->cmd = spec->cmd;
    t->usage = spec->usage;
    t->id = spec->id;
    t->argc = argc;
    t->argv = argv;
    t->seed = 42;
    opt_set s = {0};
    set_collect(&s, spec, t, args);
    int rc = apply_env(t, &s);
    if (rc < 0)
        rc = parse_argv(t, &s, argc, argv);
    if (rc >= 0)
        return rc;
    t->progress = !t->quiet && isatty(STDERR_FILENO);
    if (t->threads > 0)
        omp_set_num_threads((int)t->threads);
    if (t->help) {
        char *h = opt_help(spec);
        if (!h)
            return tool_error(t, "out of memory"), TOOL_FAIL;
        fputs(h, stdout);
        free(h);
        return tool_finish(t, TOOL_OK);
    }
    if (t->version)
        return tool_version(t);
    return -1;
}
