/* cli: shared option handling, number parsing and messages (see cli.h). */
#include "cli.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void cli_init(cli_common *c, const char *tool, const char *usage)
{
    memset(c, 0, sizeof *c);
    c->tool = tool;
    c->usage = usage;
    c->seed = 42;
    const char *db = getenv("ALARM_DB");
    if (db && *db)
        c->db_path = db;
    c->progress = isatty(STDERR_FILENO);
}

int cli_common_option(cli_common *c, int opt, const char *arg)
{
    alarm_err e;
    long n;
    switch (opt) {
    case 'h': c->help = 1; return 1;
    case CLI_OPT_VERSION: c->version = 1; return 1;
    case CLI_OPT_DB: c->db_path = arg; return 1;
    case 'q': c->quiet = 1; c->progress = 0; return 1;
    case CLI_OPT_SEED:
        if (cli_parse_u64("--seed", arg, &c->seed, &e) < 0)
            goto bad;
        c->seed_given = 1;
        return 1;
    case CLI_OPT_THREADS:
        if (cli_parse_long("--threads", arg, 1, 1024, &n, &e) < 0)
            goto bad;
        c->threads = (int)n;
        return 1;
    default:
        return 0;
    }
bad:
    cli_usage_error(c, "%s", e.msg);
    return -1;
}

int cli_next_option(cli_common *c, int argc, char **argv, const struct option *longopts)
{
    for (;;) {
        int opt = getopt_long(argc, argv, "hq", longopts, NULL);
        if (opt == -1)
            return -1;
        int shared = cli_common_option(c, opt, optarg);
        if (shared < 0)
            return CLI_BAD_SHARED;
        if (shared == 0)
            return opt;
    }
}

int cli_parse_double(const char *name, const char *s, double lo, double hi,
                     double *out, alarm_err *e)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || errno == ERANGE || !isfinite(v))
        return err_set(e, "%s: '%s' is not a finite number", name, s);
    if (v < lo || v > hi)
        return err_set(e, "%s: %g is outside [%g, %g]", name, v, lo, hi);
    *out = v;
    return 0;
}

int cli_parse_long(const char *name, const char *s, long lo, long hi,
                   long *out, alarm_err *e)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || errno == ERANGE)
        return err_set(e, "%s: '%s' is not an integer", name, s);
    if (v < lo || v > hi)
        return err_set(e, "%s: %ld is outside [%ld, %ld]", name, v, lo, hi);
    *out = v;
    return 0;
}

int cli_parse_u64(const char *name, const char *s, uint64_t *out, alarm_err *e)
{
    char *end;
    errno = 0;
    if (*s == '-' || *s == '\0')
        return err_set(e, "%s: '%s' is not a non-negative integer", name, s);
    unsigned long long v = strtoull(s, &end, 10);
    if (*end != '\0' || errno == ERANGE)
        return err_set(e, "%s: '%s' is not a non-negative integer", name, s);
    *out = (uint64_t)v;
    return 0;
}

void cli_error(const cli_common *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", c->tool);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int cli_usage_error(const cli_common *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", c->tool);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    if (c->usage)
        fprintf(stderr, "usage: %s\n", c->usage);
    fprintf(stderr, "Try '%s --help' for more information.\n", c->tool);
    return CLI_USAGE;
}

int cli_print_version(const cli_common *c)
{
    printf("%s (alarm) %s\n", c->tool, ALARM_VERSION);
    return cli_finish_stdout(c, CLI_OK);
}

int cli_help_or_version(const cli_common *c, const char *help)
{
    if (c->help) {
        printf("usage: %s\n\n%s", c->usage ? c->usage : c->tool, help ? help : "");
        return cli_finish_stdout(c, CLI_OK);
    }
    return c->version ? cli_print_version(c) : -1;
}

void cli_progress(const cli_common *c, const char *fmt, ...)
{
    if (!c->progress)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "\r\033[K%s: ", c->tool);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fflush(stderr);
}

void cli_progress_done(const cli_common *c)
{
    if (c->progress)
        fputs("\r\033[K", stderr);
}

int cli_finish_stdout(const cli_common *c, int status)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        if (errno == EPIPE)
            return status; /* reader went away (| head): a quiet exit */
        cli_error(c, "error writing standard output: %s", strerror(errno));
        return CLI_FAIL;
    }
    return status;
}

char *cli_argv_json(int argc, char **argv)
{
    cJSON *a = cJSON_CreateArray();
    if (!a)
        return NULL;
    for (int i = 0; i < argc; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(argv[i]));
    char *s = cJSON_PrintUnformatted(a);
    cJSON_Delete(a);
    return s;
}
