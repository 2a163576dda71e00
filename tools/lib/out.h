/* out: what a tool says and how it ends: "TOOL: message" on stderr, the usage
 * line on misuse, a progress line on a terminal, and the end of standard
 * output checked, a closed pipe (| head) being a quiet exit. */
#ifndef ALARM_OUT_H
#define ALARM_OUT_H

#include "opt.h"

/* SIGPIPE ignored: a write to a closed pipe fails with EPIPE, which
 * tool_finish turns into a quiet exit. Called by every tool's main first. */
void tool_init(void);

/* "TOOL: message" on stderr. */
void tool_error(const tool *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "TOOL: message", the usage line and a hint on stderr; returns TOOL_USAGE. */
int tool_usage(const tool *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "TOOL (alarm) VERSION" on stdout; returns the exit status. */
int tool_version(const tool *t);

/* A progress line redrawn in place on stderr, only when t->progress. */
void tool_progress(const tool *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tool_progress_done(const tool *t);

/* 1 when writing standard output has failed (any error, a closed pipe too). */
int tool_stdout_failed(void);

/* 1 when it failed because its reader went away (EPIPE: | head). */
int tool_stdout_closed(void);

/* A failed run's message on stderr, returning TOOL_FAIL; when standard
 * output was closed by its reader, nothing, and TOOL_OK: a quiet exit,
 * the same for every tool. */
int tool_fail(const tool *t, const char *msg);

/* Flushes stdout and returns `status` when everything written reached it or
 * its reader closed the pipe (quietly); else TOOL_FAIL after a message.
 * A process among mpirun's ranks leaves them here (dist_finish). */
int tool_finish(const tool *t, int status);

#endif
