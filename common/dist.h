/* dist: the ranks of a data-parallel run under mpirun (Open MPI, built with
 * `make MPI=1`: dist_mpi.c), or the one process of the serial build
 * (dist_serial.c: rank 0 of 1, sums and checks cost nothing). Every rank
 * runs the same program on the same records and calls these collectives in
 * the same order; a rank that fails says so at the next dist_agree instead
 * of leaving the others waiting. Process-wide, like MPI itself. */
#ifndef ALARM_DIST_H
#define ALARM_DIST_H

#include <stddef.h>

#include "err.h"

/* Joins the run's ranks (MPI_Init_thread, funneled: OpenMP threads never
 * call MPI). Once, before any other dist_ call. */
int dist_init(alarm_err *e);
/* Leaves them (MPI_Finalize); a no-op before dist_init. */
void dist_finish(void);

/* This process's rank (0 before dist_init) and the number of ranks (1). */
int dist_rank(void);
int dist_size(void);

/* Rows [*lo, *hi) of n that this rank takes: contiguous shares that differ
 * by at most one. */
void dist_share(size_t n, size_t *lo, size_t *hi);

/* The ranks' status: each passes its own (rc -1 with e filled). When any
 * failed, every rank returns -1 with the message of the lowest failing one,
 * prefixed "rank R: " when there are several ranks; else 0. */
int dist_agree(int rc, alarm_err *e);

/* x[0, n) summed over the ranks, in place, one collective for the whole
 * array. dist_sum_floats is the gradients' all-reduce; the time it takes
 * (the wait for the slowest rank included) adds into dist_sum_seconds. */
void dist_sum_floats(float *x, size_t n);
void dist_sum_doubles(double *x, size_t n);
double dist_sum_seconds(void);

/* 0 when every rank holds the same n bytes at p (compared by a 64-bit
 * checksum); else an error on every rank naming `what` and the first rank
 * that differs from rank 0. */
int dist_same(const void *p, size_t n, const char *what, alarm_err *e);

#endif
