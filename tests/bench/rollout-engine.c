/* rollout-engine: the sampling engine alarm-rollout drives (common/rollout),
 * without the tool around it (records, tokenizer, JSON, offsets), on the
 * same work: rollout-engine DIR MAXT NEW SAMPLES BATCH THREADS < PROMPTS,
 * PROMPTS one prompt's token ids per line. Samples at temperature 1 without
 * stopping at EOS, as tests/bench/rollout.sh runs alarm-rollout, and prints
 * the response tokens and tokens/s of the decoding alone (loading not timed). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "rollout.h"
#include "tfm_ckpt.h"

static int count(void *user, const rollout_out *o, alarm_err *e)
{
    (void)e;
    *(long long *)user += o->n;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 7) {
        fprintf(stderr, "usage: rollout-engine DIR MAXT NEW SAMPLES BATCH THREADS < PROMPTS\n");
        return 2;
    }
    int maxT = atoi(argv[2]), nnew = atoi(argv[3]), ns = atoi(argv[4]), B = atoi(argv[5]);
    tfm_model m;
    alarm_err e = {{0}};
    long long tokens = 0;
    if (tfm_load(&m, argv[1], 1, maxT, 0, &e) < 0) {
        fprintf(stderr, "rollout-engine: %s\n", e.msg);
        return 1;
    }
    tfm_set_threads(&m, atoi(argv[6]));
    rollout r = {.m = &m, .B = B, .maxT = maxT, .max_new = nnew, .no_eos = 1,
                 .sp = {1.0f, 0, 1.0f}, .emit = count, .user = &tokens};
    int32_t ids[4096];
    char line[65536];
    int rc = rollout_init(&r, &e);
    double t0 = clock_mono();
    for (int p = 0; !rc && fgets(line, sizeof line, stdin); p++) {
        int np = 0;
        for (char *s = strtok(line, " \n"); s && np < 4096; s = strtok(NULL, " \n"))
            ids[np++] = (int32_t)atoi(s);
        for (int k = 0; k < ns && !rc; k++)
            rc = rollout_push(&r, ids, np, k, (uint64_t)p * 1000 + (uint64_t)k, NULL, &e);
        if (!rc)
            rc = rollout_run(&r, (size_t)B, &e);
    }
    if (!rc)
        rc = rollout_run(&r, 0, &e);
    double dt = clock_mono() - t0;
    if (rc)
        fprintf(stderr, "rollout-engine: %s\n", e.msg);
    else
        printf("{\"tokens\": %lld, \"seconds\": %.4f, \"tokens_per_s\": %.1f}\n", tokens, dt,
               (double)tokens / dt);
    rollout_free(&r);
    tfm_free(&m);
    return rc ? 1 : 0;
}
