/* out: messages, progress and the end of standard output (see out.h).
 * Every tool ends through tool_finish, so a write error on stdout is never
 * lost and a closed pipe ends every tool the same way: quietly. */
#include "out.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "dist.h"

void tool_init(void)
{
    signal(SIGPIPE, SIG_IGN);
}

/* "TOOL: message\n" on stderr. */
static void put_message(const tool *t, const char *fmt, va_list ap)
{
    if (dist_rank() != 0)
        return; /* rank 0 says what the ranks agreed (tools/lib/ranks.h) */
    fprintf(stderr, "%s: ", t->name);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void tool_error(const tool *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    put_message(t, fmt, ap);
    va_end(ap);
}

int tool_usage(const tool *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    put_message(t, fmt, ap);
    va_end(ap);
    if (t->usage)
        fprintf(stderr, "usage: %s\n", t->usage);
    fprintf(stderr, "Try '%s%s%s --help' for more information.\n", t->name, t->cmd ? " " : "",
            t->cmd ? t->cmd : "");
    return TOOL_USAGE;
}

int tool_version(const tool *t)
{
    printf("%s (alarm) %s\n", t->name, ALARM_VERSION);
    return tool_finish(t, TOOL_OK);
}

void tool_progress(const tool *t, const char *fmt, ...)
{
    if (!t->progress)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "\r\033[K%s: ", t->name);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fflush(stderr);
}

void tool_progress_done(const tool *t)
{
    if (t->progress)
        fputs("\r\033[K", stderr);
}

/* A pipe or socket whose reader has gone reports POLLERR on the write end. */
static int reader_gone(void)
{
    struct pollfd p = {.fd = STDOUT_FILENO, .events = POLLOUT};
    return poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP));
}

int tool_stdout_failed(void)
{
    return ferror(stdout) != 0;
}

int tool_stdout_closed(void)
{
    return ferror(stdout) && reader_gone();
}

int tool_fail(const tool *t, const char *msg)
{
    if (tool_stdout_closed())
        return TOOL_OK;
    tool_progress_done(t);
    tool_error(t, "%s", msg);
    return TOOL_FAIL;
}

int tool_finish(const tool *t, int status)
{
    errno = 0;
    int ok = fflush(stdout) == 0 && !ferror(stdout);
    int err = errno ? errno : EIO;
    dist_finish();
    if (ok)
        return status;
    if (err == EPIPE || reader_gone())
        return status; /* the reader went away (| head): a quiet exit */
    tool_error(t, "error writing standard output: %s", strerror(err));
    return TOOL_FAIL;
}
