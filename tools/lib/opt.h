/* opt: the one declarative option table every tool parses through.
 * Each option is declared once (long and short name, argument, help text,
 * default, environment variable, and for the shared options which tools take
 * them); getopt_long's table, the dispatch into the tool's argument struct and
 * `--help` are all made from it. Numbers are parsed whole and range-checked:
 * a bad value is a usage error naming the option, never clamped. */
#ifndef ALARM_OPT_H
#define ALARM_OPT_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "tfm_lora.h"

/* Exit codes of every tool. A closed output pipe is a quiet TOOL_OK.
 * TOOL_CAPPED: alarm-judge stopped at a cap on its spend (a partial run the
 * same command with a higher cap completes). */
enum { TOOL_OK = 0, TOOL_FAIL = 1, TOOL_USAGE = 2, TOOL_CAPPED = 3 };

/* One bit per tool (and per alarm-model subcommand): a shared option says
 * which of them take it. A new tool adds a bit. */
enum {
    TOOL_SELECT = 1u << 0,
    TOOL_JUDGE = 1u << 1,
    TOOL_MODEL = 1u << 2, /* the alarm-model dispatcher itself */
    TOOL_MODEL_INFO = 1u << 3,
    TOOL_MODEL_TOKENIZE = 1u << 4,
    TOOL_MODEL_TRAIN_TOKENIZER = 1u << 5,
    TOOL_MODEL_LOGPROBS = 1u << 6,
    TOOL_MODEL_BENCH = 1u << 7,
    TOOL_ROLLOUT = 1u << 8,
    TOOL_SFT = 1u << 9,
    TOOL_PPO = 1u << 10,
    TOOL_RM = 1u << 11,
    TOOL_SCORE = 1u << 12,
    TOOL_SYNTH = 1u << 13,
    TOOL_DB = 1u << 14,
    TOOL_MODEL_MERGE = 1u << 15,
    TOOL_ALL = ~0u,
    /* tools that record a run into a store */
    TOOL_RECORDS = TOOL_SELECT | TOOL_JUDGE | TOOL_ROLLOUT | TOOL_SFT | TOOL_PPO | TOOL_RM |
                   TOOL_SCORE,
    /* tools that load a checkpoint's weights */
    TOOL_LOADS_WEIGHTS = TOOL_MODEL_LOGPROBS | TOOL_ROLLOUT | TOOL_SFT | TOOL_PPO | TOOL_RM,
    /* tools that train a model */
    TOOL_TRAINS = TOOL_SFT | TOOL_PPO | TOOL_RM,
};

typedef enum {
    OPT_FLAG,   /* int, set to 1 */
    OPT_STR,    /* const char *, pointing into argv */
    OPT_INT,    /* int in [min, max] */
    OPT_LONG,   /* long in [min, max] */
    OPT_DOUBLE, /* finite double in [fmin, fmax] */
    OPT_U64,    /* uint64_t */
    OPT_LIST,   /* opt_list: every occurrence appended (repeatable) */
    OPT_CALL,   /* call(args, value): the tool parses it */
} opt_type;

/* The values of a repeatable option, in order; free with opt_list_free. */
typedef struct {
    const char **v;
    size_t n, cap;
} opt_list;

typedef struct opt_def {
    const char *name;  /* long name without "--"; NULL ends a table */
    int short_name;    /* 'q', or 0 */
    const char *arg;   /* the argument in --help ("FILE"); NULL for a flag */
    const char *help;  /* one line; '\n' continues at the help column */
    const char *dflt;  /* the default shown in --help, or NULL */
    const char *env;   /* variable read when the option is not given, or NULL */
    unsigned tools;    /* shared options: the TOOL_* bits that take it */
    opt_type type;
    size_t off;        /* where the value goes: offsetof in the args struct */
    long min, max;     /* OPT_INT, OPT_LONG */
    double fmin, fmax; /* OPT_DOUBLE */
    int (*call)(void *args, const char *value, alarm_err *e); /* OPT_CALL */
} opt_def;

/* What one invocation knows: its name and the shared options' values. */
typedef struct tool {
    const char *name;  /* message prefix: "alarm-select", "alarm-model" */
    const char *cmd;   /* the alarm-model subcommand, or NULL */
    const char *usage; /* the synopsis, printed on misuse */
    unsigned id;       /* TOOL_* bit */
    int argc;          /* argv as main got it (for the store's runs row) */
    char **argv;
    int nargs;         /* the operands left after the options */
    char **args;
    /* shared options */
    const char *db;    /* --db FILE or $ALARM_DB; NULL: no store */
    uint64_t seed;     /* --seed, default 42 */
    long threads;      /* --threads, 0: the default */
    int quiet;         /* --quiet */
    int no_check_weights; /* --no-check-weights: skip the NaN/inf scan at load */
    int dropout;       /* --dropout: train with the checkpoint's dropout */
    int lora_on;       /* --lora given: train adapters on a frozen base */
    tfm_lora_opts lora; /* its r, alpha, dropout, targets (seed: --seed) */
    int help, version;
    int progress;      /* progress lines allowed: stderr is a terminal, not --quiet */
} tool;

/* A tool's declaration: what --help prints and the options it takes. */
typedef struct {
    const char *name;   /* "alarm-select", or "alarm-model" for a subcommand */
    const char *cmd;    /* the subcommand ("tokenize"), or NULL */
    unsigned id;        /* TOOL_* bit: which shared options it takes */
    const char *usage;  /* synopsis without "usage: " */
    const char *about;  /* --help text above the options (ends with '\n') */
    const opt_def *opts; /* the tool's own options, ended by {0}; may be NULL */
    const char *page;   /* "alarm-select(1)" */
} tool_spec;

/* The shared options (--help, --version, --db, --seed, --threads, --quiet). */
extern const opt_def opt_shared[];

/* Parses argv (argv[0] is the program or subcommand name) into `t` (shared
 * options) and `args` (the tool's own, at their offsets), after reading the
 * environment variables of the options this tool takes. Answers --help and
 * --version on stdout. Returns -1 to go on (t->args, t->nargs are the
 * operands), else the exit status: TOOL_OK after help or version,
 * TOOL_USAGE after a message. */
int opt_parse(tool *t, const tool_spec *spec, void *args, int argc, char **argv);

/* The --help text (malloc'd): usage, about, one line per option the tool
 * takes, with its default and environment variable, and the page. */
char *opt_help(const tool_spec *spec);

int opt_list_add(opt_list *l, const char *v);
void opt_list_free(opt_list *l);

/* --lora SPEC into the tool's lora (opt_lora.c). */
int opt_parse_lora(void *tool, const char *v, alarm_err *e);
/* A usage message (in buf) when --lora names a target the architecture of
 * checkpoint DIR does not have; NULL when it fits (or DIR is unreadable:
 * loading will say so). */
const char *opt_lora_misuse(const tool *t, const char *dir, char *buf, size_t n);

/* Range-checked number parsers; `name` ("--batch") starts the message. */
int opt_parse_double(const char *name, const char *s, double lo, double hi, double *out,
                     alarm_err *e);
int opt_parse_long(const char *name, const char *s, long lo, long hi, long *out,
                   alarm_err *e);
/* --shard I/N (shard.h): 0 <= I < N. */
int opt_parse_shard(const char *s, long *i, long *n, alarm_err *e);
int opt_parse_u64(const char *name, const char *s, uint64_t *out, alarm_err *e);

#endif
