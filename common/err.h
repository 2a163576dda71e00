/* err: the one way the library reports failure.
 * Every fallible library function returns 0 on success and -1 on failure,
 * after filling an alarm_err with a one-line message (no trailing newline).
 * The library never prints, exits or aborts on bad data; tools print err.msg. */
#ifndef ALARM_ERR_H
#define ALARM_ERR_H

#include <stdarg.h>

typedef struct {
    char msg[1024];
} alarm_err;

/* Formats into e->msg (when e is not NULL) and returns -1, so callers can
 * write `return err_set(e, "...")`. */
int err_set(alarm_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int err_vset(alarm_err *e, const char *fmt, va_list ap);

/* Puts "prefix: " in front of the message already in e (for adding context
 * such as a file name as an error travels up). Returns -1. */
int err_prefix(alarm_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
