/* What alarm-sft's files share: its options and the state of one run
 * (alarm-sft(1)). main.c parses and runs the loop of tools/lib/trainer,
 * data.c reads the demonstration records. */
#ifndef ALARM_SFT_CLI_H
#define ALARM_SFT_CLI_H

#include "seq.h"
#include "trainer.h"

typedef struct {
    trainer_args tr; /* first: the trainer's option parsers take it there */
} sft_args;

/* Demonstrations encoded as sequences, and how many were truncated. */
typedef struct {
    seq **ex;
    size_t n, cap;
    long truncated;
} sft_set;

typedef struct {
    trainer T;
    sft_set train, val;
} sft_run;

/* Reads the demonstration records of `files` (NULL, 0: standard input) into s. */
int sft_read(sft_run *R, sft_set *s, char **files, int nfiles, alarm_err *e);
void sft_set_free(sft_set *s);

#endif
