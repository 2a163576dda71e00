/* dist_mpi: dist.h over MPI_COMM_WORLD (Open MPI), compiled instead of
 * dist_serial.c by `make MPI=1`. Collectives keep MPI's default handler
 * (a broken communicator ends the job); what ranks report themselves goes
 * through dist_agree, so no rank waits for one that has given up. */
#include "dist.h"

#include <limits.h>
#include <stdint.h>
#include <string.h>

#include <mpi.h>

#include "clock.h"

static int ready, rank, size = 1;
static double sum_seconds;

int dist_init(alarm_err *e)
{
    int provided;
    if (MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
        return err_set(e, "MPI_Init_thread failed");
    ready = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    return 0;
}

void dist_finish(void)
{
    if (ready)
        MPI_Finalize();
    ready = 0;
}

int dist_rank(void)
{
    return rank;
}

int dist_size(void)
{
    return size;
}

void dist_share(size_t n, size_t *lo, size_t *hi)
{
    *lo = n * (size_t)rank / (size_t)size;
    *hi = n * (size_t)(rank + 1) / (size_t)size;
}

int dist_agree(int rc, alarm_err *e)
{
    if (!ready || size == 1)
        return rc < 0 ? -1 : 0;
    int mine = rc < 0 ? rank : size, first;
    MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (first == size)
        return 0;
    char msg[sizeof e->msg];
    if (rank == first)
        memcpy(msg, e->msg, sizeof msg);
    MPI_Bcast(msg, (int)sizeof msg, MPI_CHAR, first, MPI_COMM_WORLD);
    msg[sizeof msg - 1] = 0;
    return err_set(e, "rank %d: %s", first, msg);
}

/* MPI counts are ints: an array past INT_MAX elements goes in pieces. */
static void sum(void *x, size_t n, MPI_Datatype t, size_t elem)
{
    if (!ready || size == 1)
        return;
    for (size_t at = 0; at < n;) {
        int k = n - at > (size_t)INT_MAX ? INT_MAX : (int)(n - at);
        MPI_Allreduce(MPI_IN_PLACE, (char *)x + at * elem, k, t, MPI_SUM, MPI_COMM_WORLD);
        at += (size_t)k;
    }
}

void dist_sum_floats(float *x, size_t n)
{
    double t0 = clock_mono();
    sum(x, n, MPI_FLOAT, sizeof *x);
    sum_seconds += clock_mono() - t0;
}

void dist_sum_doubles(double *x, size_t n)
{
    sum(x, n, MPI_DOUBLE, sizeof *x);
}

double dist_sum_seconds(void)
{
    return sum_seconds;
}

/* FNV-1a over 64-bit words (bytes for the tail): fast enough for a
 * model's weights at each checkpoint. */
static uint64_t checksum(const void *p, size_t n)
{
    const unsigned char *b = p;
    uint64_t h = 0xcbf29ce484222325ull, w;
    size_t i = 0;
    for (; i + sizeof w <= n; i += sizeof w) {
        memcpy(&w, b + i, sizeof w);
        h = (h ^ w) * 0x100000001b3ull;
    }
    for (; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

int dist_same(const void *p, size_t n, const char *what, alarm_err *e)
{
    if (!ready || size == 1)
        return 0;
    uint64_t h = checksum(p, n), h0 = h;
    MPI_Bcast(&h0, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
    int mine = h != h0 ? rank : size, first;
    MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (first == size)
        return 0;
    return err_set(e, "rank %d's %s differ from rank 0's: the ranks have diverged", first, what);
}
