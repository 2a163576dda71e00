/* score: the scorers of alarm-score (alarm-formats(5) section 3). A scorer
 * is a kind (one table of function pointers: parse its ARG and key=value
 * options, score a batch of records, free) and a name; it turns each record's
 * `response` (bytes, never tokens) into a value, an optional raw measurement
 * and optional spans. Batches let remote and model kinds send many records
 * at once; rule kinds score them one by one.
 * Ownership: a scorer owns its kind state; score_out owns its spans. */
#ifndef ALARM_SCORE_H
#define ALARM_SCORE_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "db.h"
#include "db_writer.h"
#include "err.h"
#include "record.h"

/* --scorer NAME=KIND[:ARG][,key=value...], split (pointers into `buf`).
 * A comma written as backslash-comma is part of ARG or a value, not a separator. */
typedef struct {
    const char *key, *value;
} score_kv;

typedef struct {
    char *buf;        /* owned copy of the text the fields point into */
    const char *name, *kind, *arg; /* arg NULL when absent */
    score_kv *kv;
    size_t nkv;
} score_spec;

int score_spec_parse(score_spec *s, const char *text, alarm_err *e);
void score_spec_free(score_spec *s);
/* The value of `key`, or NULL. */
const char *score_spec_get(const score_spec *s, const char *key);

/* What a scorer reads of one record. */
typedef struct {
    const cJSON *rec;     /* the whole record (meta, response_tokens, ...) */
    const char *response; /* rec's "response" */
    size_t len;           /* its bytes */
} score_in;

/* end: the byte after the segment's last byte */
typedef record_span score_span;

/* One scorer's answer for one record. A record the scorer cannot score sets
 * failed and why (the run fails, or with --skip-failed the record goes out
 * without this aspect). */
typedef struct {
    double value;
    double raw;
    int has_raw;
    int has_spans;
    score_span *spans;
    size_t nspans, cap;
    int failed;
    int fatal;    /* failed, and the scorer cannot go on: the run fails even
                   * with --skip-failed (a coprocess that died) */
    char why[256];
} score_out;

void score_out_reset(score_out *o);
void score_out_free(score_out *o);
int score_out_span(score_out *o, size_t end, double value, alarm_err *e);
/* Marks o failed with a message; returns 0 (the batch goes on). */
int score_out_fail(score_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Reads the answer a program or a server gave (n bytes of text) for a
 * response of len bytes: {"value": N, "raw"?: N, "spans"?: [{"end", "value"}]}
 * into o. An answer that is not one fails o, quoting it; -1 only when out
 * of memory. */
int score_answer_read(score_out *o, const char *text, size_t n, size_t len, alarm_err *e);
/* text[0..len) as one printable line for a message (control characters as
 * '?', "..." when cut) in out (n bytes). */
void score_quote(char *out, size_t n, const char *text, size_t len);

/* What a run offers every kind: remote kinds cache their answers in the
 * store (http_cache) and bound their requests in flight; model kinds use
 * the threads. Rules use none of it. A kind may keep the pointer: env
 * outlives the scorer, and db is set when the run has opened its store,
 * after init and before the first score call. */
typedef struct {
    db_store *db;       /* the run's store, or NULL */
    db_writer *writer;  /* the store's writer thread (answers as they arrive), or NULL */
    long concurrency;   /* requests in flight, >= 1 */
    long threads;       /* 0: the default */
    /* The value of a secret the caller keeps (an API key from the tool's
     * environment) by its name, or NULL; the library reads no environment.
     * May be NULL itself. */
    const char *(*secret)(const char *name);
} score_env;

/* A kind: the plug-in interface. init reads the spec's arg and options
 * (every key it does not list in `keys` is refused before init is called)
 * into *state. score fills out[0..n) for in[0..n) and returns 0; -1 (with e)
 * only when the scorer itself broke, which fails the run. */
typedef struct score_kind {
    const char *name;
    int arg;                  /* 0: takes no ARG, 1: optional, 2: required */
    const char *const *keys;  /* accepted option keys, NULL-terminated */
    const char *about;        /* one line for messages */
    int (*init)(void **state, const score_spec *spec, const score_env *env, alarm_err *e);
    int (*score)(void *state, const score_in *in, size_t n, score_out *out, alarm_err *e);
    void (*free)(void *state);
    /* After the last batch, before the store closes; may be NULL. A remote
     * kind closes its cache, a coprocess is waited for (-1: it failed). */
    int (*finish)(void *state, alarm_err *e);
} score_kind;

/* The built-in kinds, in the order --help lists them; NULL-terminated. */
extern const score_kind *const score_kinds[];
const score_kind *score_kind_find(const char *name);

typedef struct {
    score_spec spec;
    const char *text; /* the spec as given (borrowed) */
    const score_kind *kind;
    void *state;
} scorer;

/* Parses the spec text, finds its kind, checks ARG and keys, runs init
 * (env may be NULL: no store, one request at a time, default threads). */
int scorer_open(scorer *s, const char *text, const score_env *env, alarm_err *e);
void scorer_close(scorer *s);
/* The kind's finish (0 when it has none); the message names the scorer. */
int scorer_finish(scorer *s, alarm_err *e);

/* Option helpers for kinds: a number in [lo, hi] from key (dflt when absent). */
int score_opt_double(const score_spec *s, const char *key, double dflt, double lo, double hi,
                     double *out, alarm_err *e);
int score_opt_long(const score_spec *s, const char *key, long dflt, long lo, long hi, long *out,
                   alarm_err *e);

#endif
