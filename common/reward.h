/* reward: the combined reward of one scored record (alarm-formats(5) section 4):
 * reading a record's response, tokens, offsets and rewards into a compact
 * form, placing span rewards on tokens through the byte offsets, and the four
 * combination modes with the too-short rule and optional sigmoid shaping.
 * Ownership: a reward_rec owns its arrays and reuses them across records;
 * reward_rec_free releases them. Aspect columns are indices into a
 * reward_names table that grows as new aspect names are met. */
#ifndef ALARM_REWARD_H
#define ALARM_REWARD_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "err.h"
#include "jsonl.h"
#include "record.h"

typedef enum { REWARD_HOLISTIC, REWARD_ASPECT, REWARD_SUM, REWARD_HIERARCHICAL } reward_mode;

typedef struct {
    reward_mode mode;
    double W;         /* holistic weight */
    double tau;       /* hierarchical gate threshold on h */
    long min_tokens;  /* responses with at most this many tokens are too short */
    double penalty;   /* P: too-short reward, placed as W*P on the last token */
    int shaping;      /* 1: sigmoid on aspect and span values */
} reward_cfg;

/* The defaults of ALaRM's long-form QA code: hierarchical, W 5, tau 0.6, 2, -10. */
void reward_cfg_default(reward_cfg *c);
const char *reward_mode_name(reward_mode m);
int reward_mode_parse(const char *s, reward_mode *m);

typedef struct {
    char **names;
    size_t n, cap;
} reward_names;

/* Index of `name`, or -1. */
long reward_names_find(const reward_names *t, const char *name);
/* Index of `name`, added when new. */
int reward_names_add(reward_names *t, const char *name, size_t *idx, alarm_err *e);
void reward_names_free(reward_names *t);

typedef struct {
    size_t tok;   /* response token the span's last byte falls in */
    double value;
} reward_span;

typedef struct {
    double value;        /* rewards[a].value */
    size_t span0, nspans; /* its placed spans: rec->spans[span0 .. span0+nspans) */
    int present;
    int has_spans;       /* a "spans" array was given (possibly empty) */
} reward_aspect;

typedef struct {
    size_t T;            /* number of response tokens (>= 1) */
    size_t resp_len;     /* bytes of response */
    double h;            /* rewards[holistic].value */
    reward_aspect *asp;  /* (nasp,) one per aspect name known when parsed */
    size_t nasp, asp_cap;
    reward_span *spans;  /* (nspans,) */
    size_t nspans, span_cap;
    size_t *off_s, *off_e; /* (T,) scratch: token byte offsets */
    size_t off_cap;
    record_reward rr;    /* scratch: one reward as read */
    int32_t *ids;        /* scratch: token ids as checked */
    size_t ids_cap;
} reward_rec;

/* Reads the fields alarm-select needs from `rec` (a record of reader `r`,
 * used for FILE:LINE in errors): response, response_tokens, offsets and
 * rewards, with rewards[holistic] required. Aspects other than the holistic
 * one are added to `names`. Fails on a missing or mistyped field, offsets
 * that do not match the tokens or the response, a span end outside the
 * response, or zero tokens. */
int reward_parse(reward_rec *out, reward_names *names, const char *holistic,
                 const jsonl_reader *r, const cJSON *rec, alarm_err *e);

/* The "rewards" object rw of a record of r, as reward_parse reads it (the
 * response length and tokens already in out). */
int reward_parse_rewards(reward_rec *out, reward_names *names, const char *holistic,
                         const jsonl_reader *r, const cJSON *rw, alarm_err *e);

/* reward_parse's fast path over the raw text of a record (line[len] must be
 * '\0'), with no allocation per value. Returns 1 when it read the record
 * (out and names filled as reward_parse would; *id and *pid point into the
 * line, escape-free, not NUL-terminated), 0 when the record must go through
 * cJSON and reward_parse instead: every error, and anything unusual. It never
 * accepts a line the general path rejects, and reads the same values. */
int reward_scan(reward_rec *out, reward_names *names, const char *holistic, const char *line,
                size_t len, const char **id, size_t *id_n, const char **pid, size_t *pid_n);
/* reward_scan, also handing back the record's "rewards" object, parsed
 * (*rewards, the caller's to cJSON_Delete; NULL when it returns 0). */
int reward_scan_rw(reward_rec *out, reward_names *names, const char *holistic, const char *line,
                   size_t len, const char **id, size_t *id_n, const char **pid, size_t *pid_n,
                   cJSON **rewards);

/* A deep copy of `src` with tight arrays (for keeping records across a pass). */
int reward_rec_copy(reward_rec *dst, const reward_rec *src, alarm_err *e);
void reward_rec_free(reward_rec *r);

typedef struct {
    double holistic; /* h, or P for a too-short response */
    int gate;        /* hierarchical: 1 when h >= tau; 0 otherwise; -1 in other modes */
    int too_short;
    double total;    /* sum of dense */
} reward_summary;

/* dense (T,) = the combined reward of `r` under `cfg` with the selected
 * aspects sel[0..nsel) (indices into r->asp, all present) and weights w.
 * Returns 0, or -1 when a value overflowed to infinity. */
int reward_combine(double *dense, reward_summary *s, const reward_cfg *cfg, const size_t *sel,
                   const double *w, size_t nsel, const reward_rec *r);

#endif
