/* ranks: a training tool's processes under mpirun (common/dist). Rank 0
 * speaks for the run: messages, progress, standard output, the store and
 * the checkpoints; the other ranks compute, stay quiet and open nothing.
 * In the serial build there is only rank 0. */
#ifndef ALARM_RANKS_H
#define ALARM_RANKS_H

#include <stddef.h>

#include "opt.h"

/* Joins the ranks (dist_init) once the options are valid; on ranks other
 * than 0, t becomes quiet and storeless. tool_finish leaves them. */
int ranks_init(tool *t, alarm_err *e);

/* What rank 0 writes: a checkpoint, the store's rows, standard output. */
typedef int (*ranks_write_fn)(void *ctx, alarm_err *e);

/* Checks that every rank holds the same weights (n floats), then has rank
 * 0 call write; every rank returns its result, with its message, so none
 * goes on after a failed write and nothing is written after a divergence. */
int ranks_write(const float *weights, size_t n, ranks_write_fn write, void *ctx, alarm_err *e);

/* With several ranks and not --quiet: how much of `seconds` of steps went
 * into the all-reduces, on stderr. */
void ranks_report(const tool *t, double seconds);

#endif
