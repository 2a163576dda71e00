/* err: formatting of library error messages (see err.h). */
#include "err.h"

#include <stdio.h>
#include <string.h>

int err_vset(alarm_err *e, const char *fmt, va_list ap)
{
    if (e)
        vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    return -1;
}

int err_set(alarm_err *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err_vset(e, fmt, ap);
    va_end(ap);
    return -1;
}

int err_prefix(alarm_err *e, const char *fmt, ...)
{
    if (!e)
        return -1;
    char prefix[512], old[sizeof e->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, e->msg, sizeof old);
    int n = snprintf(e->msg, sizeof e->msg, "%s: ", prefix);
    if (n > 0 && (size_t)n < sizeof e->msg) { /* as much of the old message as fits */
        size_t len = strnlen(old, sizeof e->msg - (size_t)n - 1);
        memcpy(e->msg + n, old, len);
        e->msg[(size_t)n + len] = '\0';
    }
    return -1;
}
