/* tok_records: the JSONL line reader tokenize and train-tokenizer share
 * until they move to common/jsonl (same shape: open, next, close; errors
 * read "FILE:LINE: ..."). */
#ifndef ALARM_TOK_RECORDS_H
#define ALARM_TOK_RECORDS_H

#include <cjson/cJSON.h>
#include <stdio.h>

#include "err.h"

typedef struct {
    FILE *fp;
    const char *name; /* the path, or "<stdin>" */
    int own_fp;
    char *line;       /* the current raw line, newline stripped */
    size_t cap, len;
    long lineno;
} tok_reader;

/* Opens path ("-" is standard input). */
int tok_reader_open(tok_reader *r, const char *path, alarm_err *e);
/* 1 with *rec (caller deletes it), 0 at the end, -1 on a bad line. Blank
 * lines are skipped. */
int tok_reader_next(tok_reader *r, cJSON **rec, alarm_err *e);
void tok_reader_close(tok_reader *r);

/* The string field `key` of rec into *out: 1 when present, 0 when absent
 * and `optional`, -1 (e: "FILE:LINE: field ...") when missing or no string. */
int tok_string_field(const tok_reader *r, const cJSON *rec, const char *key, int optional,
                     const char **out, alarm_err *e);

#endif
