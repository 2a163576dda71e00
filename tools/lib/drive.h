/* drive: the files-or-stdin record loop every record tool runs. It reads
 * each FILE in turn ("-", or no FILE at all, is standard input), calls the
 * tool's function once per record, puts FILE:LINE in front of any error the
 * function reports without one, stops at the first error or when standard
 * output fails (a closed pipe included), and shows records done and
 * records/s on a terminal. A tool that keys records by id sets unique_ids:
 * a repeated id is refused before the tool sees it, with both places
 * (FILE:LINE: duplicate id "q#0" (first at FILE:LINE)), over all FILEs. */
#ifndef ALARM_DRIVE_H
#define ALARM_DRIVE_H

#include <cjson/cJSON.h>

#include "jsonl.h"
#include "record.h"
#include "opt.h"

/* Called per record. With raw = 0, *rec is the parsed record: the function
 * may keep it by setting *rec = NULL (it then frees it), else the driver
 * frees it. With raw = 1, *rec is NULL and the line is r->line (unparsed).
 * Returns 0, or -1 with e filled. */
typedef int (*drive_fn)(void *user, jsonl_reader *r, cJSON **rec, alarm_err *e);

typedef struct {
    const tool *t;  /* for progress, and t->nargs / t->args: the files */
    drive_fn fn;
    void *user;
    int raw;
    int unique_ids; /* refuse a record whose "id" an earlier one had (parsed records) */
    unsigned long long records; /* records passed to fn so far */
    record_ids ids;
} drive;

/* Runs d->fn over every record of t->args (or standard input). 0 or -1. */
int drive_files(drive *d, alarm_err *e);

#endif
