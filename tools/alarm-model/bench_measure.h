/* bench_measure: the measurements behind alarm-model bench: for one model
 * shape, tokens/s of training steps and of KV-cache sampling, the sgemm rate
 * at the model's matrix shapes, the MFU and the peak resident memory. */
#ifndef ALARM_BENCH_MEASURE_H
#define ALARM_BENCH_MEASURE_H

#include "err.h"

typedef struct {
    const char *name;
    int V, L, NH, C, T, B;
    int train_steps; /* timed steps after two warm-up steps */
} bench_shape;

enum { BENCH_NSHAPES = 3 };
extern const bench_shape bench_shapes[BENCH_NSHAPES];

typedef struct {
    double train_tps, sample_b1_tps, sample_b8_tps, sgemm_gflops, mfu, peak_rss_mb;
    double flops_per_token, params;
} bench_result;

/* Builds a random model of shape s and measures it with `threads` threads. */
int bench_one(const bench_shape *s, int threads, bench_result *r, alarm_err *e);

#endif
