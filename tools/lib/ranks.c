/* ranks: rank 0 speaks, every rank agrees (ranks.h). */
#include "ranks.h"

#include <stdio.h>

#include "dist.h"

int ranks_init(tool *t, alarm_err *e)
{
    if (dist_init(e) < 0)
        return -1;
    if (dist_rank() != 0) {
        t->quiet = 1;
        t->progress = 0;
        t->db = NULL;
    }
    return 0;
}

int ranks_write(const float *weights, size_t n, ranks_write_fn write, void *ctx, alarm_err *e)
{
    if (dist_same(weights, n * sizeof *weights, "weights", e) < 0)
        return -1;
    int rc = dist_rank() == 0 ? write(ctx, e) : 0;
    return dist_agree(rc, e);
}

void ranks_report(const tool *t, double seconds)
{
    if (dist_size() < 2 || t->quiet)
        return;
    double ar = dist_sum_seconds();
    fprintf(stderr, "%s: %d ranks: all-reduce %.3f s of %.3f s of steps (%.1f%%)\n", t->name,
            dist_size(), ar, seconds, seconds > 0 ? 100 * ar / seconds : 0);
}
