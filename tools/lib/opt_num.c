/* opt_num: range-checked number parsers for option values. The whole string
 * must be the number; a value outside the range is refused, never clamped. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "opt.h"

int opt_parse_double(const char *name, const char *s, double lo, double hi, double *out,
                     alarm_err *e)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || errno == ERANGE || !isfinite(v))
        return err_set(e, "%s: '%s' is not a finite number", name, s);
    if (v < lo || v > hi)
        return err_set(e, "%s: %g is outside [%g, %g]", name, v, lo, hi);
    *out = v;
    return 0;
}

int opt_parse_long(const char *name, const char *s, long lo, long hi, long *out, alarm_err *e)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || errno == ERANGE)
        return err_set(e, "%s: '%s' is not an integer", name, s);
    if (v < lo || v > hi)
        return err_set(e, "%s: %ld is outside [%ld, %ld]", name, v, lo, hi);
    *out = v;
    return 0;
}

int opt_parse_u64(const char *name, const char *s, uint64_t *out, alarm_err *e)
{
    char *end;
    errno = 0;
    if (*s == '-' || *s == '\0')
        return err_set(e, "%s: '%s' is not a non-negative integer", name, s);
    unsigned long long v = strtoull(s, &end, 10);
    if (*end != '\0' || errno == ERANGE)
        return err_set(e, "%s: '%s' is not a non-negative integer", name, s);
    *out = (uint64_t)v;
    return 0;
}

int opt_parse_shard(const char *s, long *i, long *n, alarm_err *e)
{
    char tail;
    if (sscanf(s, "%ld/%ld%c", i, n, &tail) != 2 || *n < 1 || *i < 0 || *i >= *n)
        return err_set(e, "--shard: expected I/N with 0 <= I < N, not '%s'", s);
    return 0;
}
