/* jsonl_check: what every JSONL line must be beyond what cJSON checks, in
 * one pass over its bytes (alarm-formats(5): records are UTF-8 JSON
 * objects): valid UTF-8, no lone surrogate escape, no \u0000 (cJSON would
 * cut the string there), no key twice in one object at any depth. The
 * grammar itself is left to the parser: on a line that is not JSON the
 * check finds what it can and the parser reports the rest. */
#ifndef ALARM_JSONL_CHECK_H
#define ALARM_JSONL_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

typedef struct {
    size_t start, len; /* the key's bytes in the line, between its quotes */
    uint32_t hash;     /* of its decoded bytes, so escapes compare equal */
    int escaped;       /* it holds a backslash */
} jsonl_key;

typedef struct {
    size_t base;     /* first key of this object in keys */
    char obj;        /* 1 object, 0 array */
    char expect_key; /* the next string is a key */
} jsonl_frame;

/* Room reused from line to line (a reader keeps one). Zero it to start. */
typedef struct {
    jsonl_key *keys;    /* keys of the objects open at this point */
    size_t nkeys, capkeys;
    jsonl_frame *frames;
    size_t nframes, capframes;
} jsonl_check_buf;

void jsonl_check_free(jsonl_check_buf *b);

/* Checks line[0, n). Returns 0, or -1 with a message that gives the byte
 * offset (from 0): "invalid UTF-8 at byte 17", "lone surrogate \ud800 at
 * byte 17", "duplicate key \"prompt\" at byte 40", "U+0000 in a string is
 * not supported at byte 9". */
int jsonl_check(jsonl_check_buf *b, const char *line, size_t n, alarm_err *e);

#endif
