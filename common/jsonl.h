/* jsonl: streaming JSON Lines input and output with locations in every error.
 * A reader yields one cJSON object per non-blank line, of any length; errors
 * read "FILE:LINE: what is wrong" (FILE is "<stdin>" for standard input).
 * Ownership: a record returned by jsonl_next belongs to the caller
 * (cJSON_Delete it); the raw line stays valid until the next jsonl_next. */
#ifndef ALARM_JSONL_H
#define ALARM_JSONL_H

#include <cjson/cJSON.h>
#include <stdio.h>
#include <sys/types.h>

#include "err.h"
#include "jsonl_check.h"

typedef struct {
    FILE *fp;
    const char *name; /* for messages: the path, or "<stdin>" */
    int own_fp;
    char *line;       /* the current raw line, '\0'-terminated, newline stripped */
    size_t cap;
    size_t len;
    long lineno;      /* 1-based number of the current line */
    jsonl_check_buf chk; /* jsonl_check's room */
} jsonl_reader;

/* Opens `path` ("-" means standard input). */
int jsonl_open(jsonl_reader *r, const char *path, alarm_err *e);
void jsonl_close(jsonl_reader *r);

/* Reads the next record: returns 1 with *out set, 0 at end of input, -1 on
 * error (malformed JSON, not an object, read error, or a line jsonl_check
 * refuses: "FILE:3: invalid UTF-8 at byte 17", "FILE:3: lone surrogate
 * \ud800 at byte 17", "FILE:3: duplicate key \"prompt\" at byte 40"; bytes
 * counted from 0 at the start of the line). Blank lines are skipped. */
int jsonl_next(jsonl_reader *r, cJSON **out, alarm_err *e);

/* The two halves of jsonl_next, for a reader that looks at the raw line
 * before (or instead of) parsing it: jsonl_next_line reads the next non-blank
 * line into r->line and checks it (1, 0 at end, -1 on a read error, a NUL
 * byte or what jsonl_check refuses);
 * jsonl_parse_line parses it as jsonl_next does (0 or -1). */
int jsonl_next_line(jsonl_reader *r, alarm_err *e);
int jsonl_parse_line(const jsonl_reader *r, cJSON **out, alarm_err *e);

/* "FILE:LINE: " + message, for errors found in the current record. */
int jsonl_fail(const jsonl_reader *r, alarm_err *e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Typed field access on `obj` (the record or an object inside it). `path`
 * names `obj` in messages ("" or NULL for the record itself, "rewards.holistic"
 * for a nested object), so errors read
 * FILE:LINE: field "rewards.holistic.value": expected a finite number.
 * req_* fail when the field is absent; opt_* set *out = NULL / leave *out
 * and return 0 when absent, and fail only on a wrong type. Numbers must be
 * finite. */
int jsonl_req_string(const jsonl_reader *r, const cJSON *obj, const char *path,
                     const char *key, const char **out, alarm_err *e);
int jsonl_opt_string(const jsonl_reader *r, const cJSON *obj, const char *path,
                     const char *key, const char **out, alarm_err *e);
int jsonl_req_number(const jsonl_reader *r, const cJSON *obj, const char *path,
                     const char *key, double *out, alarm_err *e);
/* Returns 1 when present (and *out set), 0 when absent, -1 on error. */
int jsonl_opt_number(const jsonl_reader *r, const cJSON *obj, const char *path,
                     const char *key, double *out, alarm_err *e);
int jsonl_req_array(const jsonl_reader *r, const cJSON *obj, const char *path,
                    const char *key, const cJSON **out, alarm_err *e);
int jsonl_opt_array(const jsonl_reader *r, const cJSON *obj, const char *path,
                    const char *key, const cJSON **out, alarm_err *e);
int jsonl_req_object(const jsonl_reader *r, const cJSON *obj, const char *path,
                     const char *key, const cJSON **out, alarm_err *e);
int jsonl_opt_object(const jsonl_reader *r, const cJSON *obj, const char *path,
                     const char *key, const cJSON **out, alarm_err *e);

/* Writes `rec` as one line. */
int jsonl_write(FILE *out, const cJSON *rec, alarm_err *e);

/* Writes the reader's current record (its raw line) with field `key` set
 * to `value`: replaced where it stands, or appended; every other field is
 * kept byte for byte as it was written (numbers included). record_splice
 * (record.h) sets several fields at once. */
int jsonl_write_with(FILE *out, const jsonl_reader *r, cJSON *rec, const char *key,
                     const cJSON *value, alarm_err *e);

/* Appends `s` as a JSON string literal (quotes and escapes) to `out`. */
int jsonl_put_string(FILE *out, const char *s);

#endif
