/* clock: seconds on CLOCK_MONOTONIC, so intervals survive wall-clock steps
 * (NTP, a user changing the date). */
#include "clock.h"

#include <time.h>

double clock_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
