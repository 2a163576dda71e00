/* coproc: a program run by /bin/sh -c as a coprocess: we write lines to its
 * standard input and read its lines from its standard output, both at once
 * (poll), so neither side blocks on a full pipe however much a batch holds.
 * Its standard error is ours; it inherits our environment and no other
 * descriptor. Single-threaded; SIGPIPE must be ignored (a write to a
 * program that closed its input is then EPIPE, not a signal). */
#ifndef ALARM_COPROC_H
#define ALARM_COPROC_H

#include <stddef.h>
#include <sys/types.h>

#include "err.h"

typedef struct {
    pid_t pid;      /* 0: not running */
    int in, out;    /* our ends: its standard input, its standard output */
    char *buf;      /* bytes read and not yet handed out: buf[start..len) */
    size_t start, len, cap;
    int eof;        /* its output ended */
    int status;     /* its wait status, once reaped */
    int reaped;
} coproc;

/* Called with each line read (without its newline). Returns -1 to stop. */
typedef int (*coproc_line_fn)(void *user, const char *line, size_t n, alarm_err *e);

int coproc_start(coproc *c, const char *program, alarm_err *e);

/* Writes data[0..n) while handing out the lines read, until `want` lines
 * have come and everything is written, or its output ended. Returns the
 * number of lines handed out (fewer than want: it closed its output, as
 * when it exited), or -1, also when nothing moved either way for
 * timeout_s seconds (0: wait for ever). */
long coproc_exchange(coproc *c, const char *data, size_t n, size_t want, double timeout_s,
                     coproc_line_fn fn, void *user, alarm_err *e);

/* Closes its input, reads until its output ends and waits for it. *extra
 * counts the lines it still wrote. Returns 0, or -1 when reading failed. */
int coproc_end(coproc *c, size_t *extra, alarm_err *e);

/* "exited with status 3", "was killed by signal 9 (Killed)". Reaps first. */
void coproc_describe(coproc *c, char *out, size_t n);

/* 1 when it was reaped and exited with status 0. */
int coproc_ok(const coproc *c);

/* Closes both pipes, gives it a second to exit, then SIGKILL to its process
 * group (what its shell started too); reaps it. */
void coproc_kill(coproc *c);

#endif
