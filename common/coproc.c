/* coproc: a line-speaking coprocess (see coproc.h). posix_spawn keeps the
 * child's start safe in a process with threads; the pipes are close-on-exec
 * so the child holds only its own two ends (as its 0 and 1). It runs in a
 * process group of its own, which coproc_kill ends whole. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pipe2, even where CFLAGS are replaced (sanitizer build) */
#endif
#include "coproc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "grow.h"

extern char **environ;

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

int coproc_start(coproc *c, const char *program, alarm_err *e)
{
    memset(c, 0, sizeof *c);
    c->in = c->out = -1;
    int to[2], from[2];
    if (pipe2(to, O_CLOEXEC) < 0)
        return err_set(e, "cannot make a pipe: %m");
    if (pipe2(from, O_CLOEXEC) < 0) {
        close(to[0]), close(to[1]);
        return err_set(e, "cannot make a pipe: %m");
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    /* the child's standard input (0) and output (1) */
    posix_spawn_file_actions_adddup2(&fa, to[0], 0);
    posix_spawn_file_actions_adddup2(&fa, from[1], 1);
    /* its own process group, so coproc_kill reaches what the shell started */
    posix_spawnattr_t at;
    posix_spawnattr_init(&at);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&at, 0);
    char *argv[] = {"sh", "-c", (char *)program, NULL};
    int rc = posix_spawn(&c->pid, "/bin/sh", &fa, &at, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    close(to[0]);
    close(from[1]);
    if (rc != 0) {
        close(to[1]), close(from[0]);
        c->pid = 0;
        errno = rc;
        return err_set(e, "cannot start /bin/sh: %m");
    }
    c->in = to[1];
    c->out = from[0];
    fcntl(c->in, F_SETFL, fcntl(c->in, F_GETFL) | O_NONBLOCK);
    return 0;
}

/* Hands out the complete lines held, up to `want` in all (*got so far). */
static int take_lines(coproc *c, size_t want, size_t *got, coproc_line_fn fn, void *user,
                      alarm_err *e)
{
    while (*got < want && c->start < c->len) {
        char *nl = memchr(c->buf + c->start, '\n', c->len - c->start);
        if (!nl)
            break;
        size_t n = (size_t)(nl - (c->buf + c->start));
        if (fn(user, c->buf + c->start, n, e) < 0)
            return -1;
        c->start += n + 1;
        (*got)++;
    }
    if (c->start == c->len)
        c->start = c->len = 0;
    return 0;
}

static int read_some(coproc *c, alarm_err *e)
{
    if (c->start > 0 && c->start == c->len)
        c->start = c->len = 0;
    if (grow_array(&c->buf, &c->cap, c->len + 65536, 1, 65536, e) < 0)
        return -1;
    ssize_t r = read(c->out, c->buf + c->len, c->cap - c->len);
    if (r < 0 && errno != EINTR && errno != EAGAIN)
        return err_set(e, "reading the program's output: %m");
    if (r == 0)
        c->eof = 1;
    if (r > 0)
        c->len += (size_t)r;
    return 0;
}

long coproc_exchange(coproc *c, const char *data, size_t n, size_t want, double timeout_s,
                     coproc_line_fn fn, void *user, alarm_err *e)
{
    size_t off = 0, got = 0;
    double moved = clock_mono();
    for (;;) {
        if (take_lines(c, want, &got, fn, user, e) < 0)
            return -1;
        if ((got == want && off == n) || c->eof)
            break;
        struct pollfd p[2] = {{.fd = c->out, .events = POLLIN}, {.fd = -1}};
        if (off < n && c->in >= 0)
            p[1] = (struct pollfd){.fd = c->in, .events = POLLOUT};
        int ready = poll(p, 2, timeout_s > 0 ? 100 : -1);
        if (ready < 0 && errno != EINTR)
            return err_set(e, "waiting for the program: %m");
        if (ready <= 0) {
            if (timeout_s > 0 && clock_mono() - moved > timeout_s)
                return err_set(e, "no answer for %g s (%zu of %zu lines answered; does it "
                               "flush each line?)", timeout_s, got, want);
            continue;
        }
        moved = clock_mono();
        if (p[1].revents) {
            ssize_t w = write(c->in, data + off, n - off);
            if (w > 0)
                off += (size_t)w;
            else if (w < 0 && errno == EPIPE)
                off = n; /* it stopped reading: its output (or end) says why */
            else if (w < 0 && errno != EAGAIN && errno != EINTR)
                return err_set(e, "writing to the program: %m");
        }
        if (p[0].revents && read_some(c, e) < 0)
            return -1;
    }
    return (long)got;
}

static void reap(coproc *c)
{
    while (c->pid > 0 && !c->reaped) {
        if (waitpid(c->pid, &c->status, 0) == c->pid)
            c->reaped = 1;
        else if (errno != EINTR)
            break;
    }
}

static int count_line(void *user, const char *line, size_t n, alarm_err *e)
{
    (void)line, (void)n, (void)e;
    ++*(size_t *)user;
    return 0;
}

int coproc_end(coproc *c, size_t *extra, alarm_err *e)
{
    *extra = 0;
    close_fd(&c->in);
    int rc = 0;
    while (rc == 0 && !c->eof)
        rc = read_some(c, e);
    size_t got = 0;
    if (rc == 0)
        rc = take_lines(c, (size_t)-1, &got, count_line, extra, e);
    if (rc == 0 && c->len > c->start)
        ++*extra; /* a last line without its newline */
    close_fd(&c->out);
    reap(c);
    return rc;
}

void coproc_describe(coproc *c, char *out, size_t n)
{
    reap(c);
    if (!c->reaped)
        snprintf(out, n, "could not be waited for");
    else if (WIFEXITED(c->status))
        snprintf(out, n, "exited with status %d", WEXITSTATUS(c->status));
    else if (WIFSIGNALED(c->status))
        snprintf(out, n, "was killed by signal %d (%s)", WTERMSIG(c->status),
                 strsignal(WTERMSIG(c->status)));
    else
        snprintf(out, n, "ended with wait status %d", c->status);
}

int coproc_ok(const coproc *c)
{
    return c->reaped && WIFEXITED(c->status) && WEXITSTATUS(c->status) == 0;
}

void coproc_kill(coproc *c)
{
    close_fd(&c->in);
    close_fd(&c->out);
    for (int k = 0; c->pid > 0 && !c->reaped && k < 100; k++) {
        if (waitpid(c->pid, &c->status, WNOHANG) == c->pid)
            c->reaped = 1;
        else
            nanosleep(&(struct timespec){0, 10000000}, NULL); /* 10 ms */
    }
    if (c->pid > 0 && !c->reaped) {
        kill(-c->pid, SIGKILL);
        reap(c);
    }
    free(c->buf);
    c->buf = NULL;
    c->pid = 0;
}
