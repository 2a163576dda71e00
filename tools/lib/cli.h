/* cli: the command-line conventions every alarm tool shares.
 * Exit codes: 0 ok, 1 failure, 2 usage. Messages go to stderr as
 * "TOOL: message"; stdout carries JSONL only. Numbers are parsed whole and
 * range-checked: bad values are rejected, never clamped. */
#ifndef ALARM_CLI_H
#define ALARM_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "err.h"

enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

/* Long-option codes for the shared options (above any short option). */
enum {
    CLI_OPT_VERSION = 1000,
    CLI_OPT_DB,
    CLI_OPT_SEED,
    CLI_OPT_THREADS,
    CLI_OPT_FIRST_TOOL_OPT = 1100 /* tools number their own long options from here */
};

/* Put this inside a tool's `struct option[]` to accept the shared options. */
#define CLI_COMMON_LONGOPTS                                 \
    {"help", no_argument, 0, 'h'},                          \
    {"version", no_argument, 0, CLI_OPT_VERSION},           \
    {"db", required_argument, 0, CLI_OPT_DB},               \
    {"seed", required_argument, 0, CLI_OPT_SEED},           \
    {"threads", required_argument, 0, CLI_OPT_THREADS},     \
    {"quiet", no_argument, 0, 'q'}

typedef struct {
    const char *tool;    /* program name used in messages, e.g. "alarm-select" */
    const char *usage;   /* one-line synopsis printed on misuse */
    const char *db_path; /* --db FILE, else $ALARM_DB, else NULL (no store) */
    uint64_t seed;       /* --seed, default 42 */
    int seed_given;
    int threads;         /* --threads, 0 = library default */
    int quiet;           /* --quiet: no progress, no tables on stderr */
    int progress;        /* progress lines allowed: stderr is a TTY and not quiet */
    int help, version;   /* set when --help / --version were given */
} cli_common;

void cli_init(cli_common *c, const char *tool, const char *usage);

/* Handles a shared option returned by getopt_long. Returns 1 when handled,
 * 0 when `opt` is not a shared option, -1 on a bad value (message printed). */
int cli_common_option(cli_common *c, int opt, const char *arg);

/* getopt_long for a tool: handles the shared options itself and returns the
 * next option that is the tool's own, -1 at the end, or CLI_BAD_SHARED after
 * printing a usage error for a shared option with a bad value. Unknown
 * options come back as '?' (getopt has named them). */
#define CLI_BAD_SHARED (-2)
struct option;
int cli_next_option(cli_common *c, int argc, char **argv, const struct option *longopts);

/* Range-checked parsers. `name` is the option name used in the message. */
int cli_parse_double(const char *name, const char *s, double lo, double hi,
                     double *out, alarm_err *e);
int cli_parse_long(const char *name, const char *s, long lo, long hi,
                   long *out, alarm_err *e);
int cli_parse_u64(const char *name, const char *s, uint64_t *out, alarm_err *e);

/* "TOOL: message" on stderr. */
void cli_error(const cli_common *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints "TOOL: message", the usage line and a hint; returns CLI_USAGE. */
int cli_usage_error(const cli_common *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Answers --help ("usage: " + the usage line, a blank line and `help` on
 * stdout) or --version when either was given, returning the exit status;
 * returns -1 when neither was asked. */
int cli_help_or_version(const cli_common *c, const char *help);

/* Prints "TOOL (alarm) VERSION" on stdout; returns CLI_OK. */
int cli_print_version(const cli_common *c);

/* A progress line on stderr, redrawn in place; only when c->progress. */
void cli_progress(const cli_common *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cli_progress_done(const cli_common *c);

/* Flushes stdout and checks that everything written reached it.
 * Returns `status` when it did, CLI_FAIL (after a message) when it did not. */
int cli_finish_stdout(const cli_common *c, int status);

/* The argv of this invocation as a JSON array text (malloc'd), for the store. */
char *cli_argv_json(int argc, char **argv);

#endif
