/* What alarm-rm's files share: its options and the state of one run
 * (alarm-rm(1)). main.c parses and runs the loop of tools/lib/trainer,
 * data.c reads preference and span-label records, eval.c validates and
 * writes the reward statistics and labels beside each checkpoint. */
#ifndef ALARM_RM_CLI_H
#define ALARM_RM_CLI_H

#include "rm.h"
#include "trainer.h"

enum { RM_SEQ = 0, RM_SPANS = 1 };

typedef struct {
    trainer_args tr; /* first: the trainer's option parsers take it there */
    int kind;        /* RM_SEQ, RM_SPANS */
    const char *labels;
    int subsentence; /* --segment: 0 sentence, 1 subsentence */
} rm_args;

/* Examples (rm_pair or rm_spans), and how many were truncated. */
typedef struct {
    void **ex;
    size_t n, cap;
    long truncated;
} rm_set;

typedef struct {
    trainer T;
    const rm_args *a;
    char *label_buf;      /* --labels, split in place */
    const char *label[RM_MAX_LABELS];
    int n_labels;
    rm_task task;
    rm_set train, val;
    double mean, std;     /* of the trained model's scores of the training responses */
    long stats_step;      /* the step they are of; -1: none yet */
} rm_run;

/* Reads the records of `files` (NULL, 0: standard input) into s. */
int rm_read(rm_run *R, rm_set *s, char **files, int nfiles, alarm_err *e);
void rm_set_free(rm_run *R, rm_set *s);
/* A fingerprint of the examples: tokens, and spans' positions and labels. */
uint64_t rm_set_hash(const rm_run *R, const rm_set *s);

/* trainer hooks: the validation, and rm.json in each checkpoint (with a
 * sequence model's score statistics over the training responses). */
int rm_evaluate(trainer *T, trainer_eval *ev, alarm_err *e);
int rm_write_extra(trainer *T, const ckpt_writer *w, alarm_err *e);
/* A token classifier checkpoint in dir has --labels' names, in order (its
 * config.json's id2label). */
int rm_check_labels(const rm_run *R, const char *dir, alarm_err *e);

#endif
