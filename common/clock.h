/* clock: the one monotonic clock, for timings, rates and retry schedules
 * (never for dates: it starts at an arbitrary point). */
#ifndef ALARM_CLOCK_H
#define ALARM_CLOCK_H

/* Seconds on CLOCK_MONOTONIC, with nanosecond resolution. */
double clock_mono(void);

#endif
