/* select: the record loop of alarm-select. Groups records by prompt_id
 * (a group is a run of consecutive records with one prompt_id; a prompt_id
 * that comes back after its group ended is an error), counts consistency of
 * every aspect with the holistic reward over the pairs of each group, picks
 * the aspects to combine (given, or automatically by lowest inconsistency),
 * and writes each record with its "reward" field, recording into the store.
 * With given aspects records stream out as they are read; with automatic
 * selection they are kept (compact form in memory, text in a temporary file)
 * until the input ends, because selection needs every pair first.
 * Ownership: select_ctx owns everything it allocates; select_free releases it.
 * The strings in select_opts are borrowed and must outlive the context. */
#ifndef ALARM_SELECT_H
#define ALARM_SELECT_H

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>

#include "consist.h"
#include "db.h"
#include "jsonl.h"
#include "record.h"
#include "reward.h"

typedef struct {
    reward_cfg rc;
    const char *holistic;          /* name of the holistic aspect */
    const char **aspects;          /* --aspect names, (n_aspects,) */
    double *weights;               /* their weights */
    size_t n_aspects;
    const char **lower_better;     /* --lower-better names, (n_lower,) */
    size_t n_lower;
    size_t auto_k;                 /* 0: combine the given aspects; else pick k */
    double max_incons;             /* automatic: pick only at most this; < 0: no bound */
    const char *tmpdir;            /* automatic: where the records spill; NULL: /tmp */
} select_opts;

typedef struct {
    const char *file;              /* reader name, for messages in the second pass */
    long lineno;
    char *id, *prompt_id;          /* only kept when recording into a store */
    reward_rec rec;
} select_kept;

typedef struct {
    select_opts o;
    FILE *out;
    reward_names names;            /* aspect columns, the holistic one excluded */
    reward_rec cur;                /* the record being read */
    /* Per aspect column: */
    consist_counts *counts;
    uint64_t *missing;             /* records without this aspect */
    int *lower, *selected;
    size_t *rank;
    double *col_w;                 /* weight from --aspect, 1 if not given */
    size_t stat_cap, ncols;          /* ncols: columns initialized so far */
    uint64_t records, groups, pairs;
    /* The current prompt group: h and per-record aspect values (NaN = absent). */
    char *gid;
    size_t gid_cap, gn, gcap;
    double *gh;
    size_t *goff, *glen;
    double *gval;
    size_t gval_n, gval_cap;
    double *col;                   /* scratch column of one aspect */
    size_t col_cap;
    uint64_t *seen;                /* hashes of prompt_ids whose group ended */
    size_t seen_n, seen_cap;
    /* Automatic selection: records kept until the end. */
    select_kept *kept;
    size_t nkept, kept_cap;
    FILE *spool;
    /* The selection that combines. */
    size_t *sel;
    double *sel_w;
    size_t nsel;
    char *aspects_json;            /* ["a","b"]: the selected names */
    /* Output scratch. */
    double *dense;
    size_t dense_cap;
    char *buf;
    size_t buf_len, buf_cap;
    char *spool_line;
    size_t spool_cap;
    char *id_buf, *pid_buf;        /* the fast path's id and prompt_id */
    size_t id_cap, pid_cap;
    /* Store (NULL: none). */
    db_store *db;
    int64_t run_id;
    sqlite3_stmt *st_comb, *st_rew;
    record_ids ids;                /* every record's id, refused twice */
} select_ctx;

/* Validates the options against each other (a failure is a usage error). */
int select_init(select_ctx *c, const select_opts *o, FILE *out, alarm_err *e);

/* Records into `db` under run `run_id` from now on (in the caller's transaction). */
int select_store_into(select_ctx *c, db_store *db, int64_t run_id, alarm_err *e);

/* Takes one record of reader r (rec stays the caller's). */
int select_feed(select_ctx *c, const jsonl_reader *r, cJSON *rec, alarm_err *e);

/* Takes the current raw line of r (after jsonl_next_line): read by
 * reward_scan when it can, else parsed with cJSON and given to select_feed. */
int select_feed_line(select_ctx *c, const jsonl_reader *r, alarm_err *e);

/* Ends the input: last group, selection, kept records out, report rows into
 * the store. */
int select_finish(select_ctx *c, alarm_err *e);

void select_free(select_ctx *c);

/* 1 when aspect column a may be picked automatically (see select.c). */
int select_eligible(const select_ctx *c, size_t a);

/* The consistency report of alarm-formats(5) section 4 (plus why each aspect was
 * or was not picked). Caller owns the result. */
cJSON *select_report_json(const select_ctx *c);
/* The same as a table for people. */
void select_report_table(const select_ctx *c, FILE *f);
/* selection_reports and selection_aspects rows. */
int select_report_store(const select_ctx *c, alarm_err *e);

#endif
