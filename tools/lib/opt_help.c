/* opt_help: the --help text, made from the same tables the parser uses, so
 * that every option a tool takes is listed, with its default and variable,
 * and none it does not take. tests/options.bats checks the man pages list
 * the same options. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opt.h"

enum { HELP_COL = 26 };

/* "  -q, --quiet" or "  --db FILE", padded to the help column. */
static void put_name(FILE *f, const opt_def *d)
{
    int n = d->short_name ? fprintf(f, "  -%c, --%s", d->short_name, d->name)
                          : fprintf(f, "  --%s", d->name);
    if (d->arg)
        n += fprintf(f, " %s", d->arg);
    if (n >= HELP_COL - 1) {
        fputc('\n', f);
        n = 0;
    }
    fprintf(f, "%*s", HELP_COL - n, "");
}

static void put_option(FILE *f, const opt_def *d)
{
    put_name(f, d);
    for (const char *p = d->help ? d->help : ""; *p; p++) {
        fputc(*p, f);
        if (*p == '\n')
            fprintf(f, "%*s", HELP_COL, "");
    }
    if (d->dflt && d->env)
        fprintf(f, " (default: $%s, else %s)", d->env, d->dflt);
    else if (d->dflt)
        fprintf(f, " (default %s)", d->dflt);
    else if (d->env)
        fprintf(f, " (default: $%s)", d->env);
    if (d->type == OPT_LIST)
        fputs("; repeatable", f);
    fputc('\n', f);
}

char *opt_help(const tool_spec *spec)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    fprintf(f, "usage: %s\n\n", spec->usage);
    if (spec->about)
        fprintf(f, "%s\n", spec->about);
    fputs("Options:\n", f);
    for (const opt_def *d = spec->opts; d && d->name; d++)
        put_option(f, d);
    for (const opt_def *d = opt_shared; d->name; d++)
        if (d->tools & spec->id)
            put_option(f, d);
    if (spec->page)
        fprintf(f, "\nSee %s.\n", spec->page);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}
