/* score_batch: alarm-score's record loop in batches: keep up to B records,
 * run every scorer over the batch, normalise, write each record with its
 * "rewards" merged (alarm-formats(5) section 3) and, with a store, one
 * rewards row per (record, aspect) and, at the end, one scorers row per
 * scorer (section 8). Normalisation `auto` takes its mean and std over the
 * batch, so the caller must put the whole input in one batch.
 * Ownership: the batch owns the records added and frees them on flush; it
 * borrows the scorers, the output stream and the store. */
#ifndef ALARM_SCORE_BATCH_H
#define ALARM_SCORE_BATCH_H

#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>

#include "db.h"
#include "jsonl.h"
#include "score.h"

enum { SCORE_NORM_NONE, SCORE_NORM_GIVEN, SCORE_NORM_AUTO };

typedef struct {
    int norm;          /* SCORE_NORM_* */
    double mean, std;  /* given, or estimated (auto) */
    int lower_better;  /* recorded in the store for the reader */
    size_t scored, failed;
} score_aspect;

typedef struct {
    char *line;        /* the raw input line (owned) */
    size_t len;
    cJSON *rec;        /* owned */
    const char *file;  /* the reader's name, for FILE:LINE */
    long lineno;
    const char *id, *pid;
} score_item;

typedef struct {
    scorer *sc;        /* (nsc,) borrowed */
    score_aspect *asp; /* (nsc,) borrowed */
    size_t nsc;
    int skip_failed;
    FILE *out;
    db_store *db;      /* NULL: no store */
    int64_t run_id;
    /* internal */
    sqlite3_stmt *ins;
    score_item *items;
    size_t n, cap;
    score_in *in;
    score_out *outs;   /* (nsc, cap) */
    size_t in_cap, out_cap;
} score_batch;

/* Takes the record (also on failure) after checking its common fields:
 * "response" a string, "rewards" an object when present, "id" a string
 * with a store. */
int score_batch_add(score_batch *b, const jsonl_reader *r, cJSON *rec, alarm_err *e);
/* Scores, writes and forgets the records held; with a store, its rows in
 * one transaction (BEGIN IMMEDIATE .. COMMIT) after the scoring. */
int score_batch_flush(score_batch *b, alarm_err *e);
/* The scorers rows (with a store); call after the last flush. */
int score_batch_store_scorers(score_batch *b, alarm_err *e);
void score_batch_free(score_batch *b);

#endif
