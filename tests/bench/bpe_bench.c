/* Encode-only tokenizer throughput: loads a tokenizer, encodes every line of
 * a text file (one bpe_encode per line, as the tools call it) several times
 * and prints the best MB/s and tokens/s as one JSON line.
 * Built and run by tests/bench/tokenizer.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bpe.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: bpe_bench NAME TOKENIZER TEXTFILE\n");
        return 2;
    }
    alarm_err e;
    bpe *t;
    double t0 = now();
    if (bpe_load(&t, argv[2], &e) < 0) {
        fprintf(stderr, "bpe_bench: %s\n", e.msg);
        return 1;
    }
    double load = now() - t0;
    FILE *f = fopen(argv[3], "r");
    if (!f) {
        perror(argv[3]);
        return 1;
    }
    char *text = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n + 65536 > cap && !(text = realloc(text, cap = 2 * cap + 65536)))
            return 1;
        size_t got = fread(text + n, 1, cap - n, f);
        if (!got)
            break;
        n += got;
    }
    fclose(f);
    double best = 1e30;
    size_t tokens = 0;
    for (int rep = 0; rep < 3; rep++) {
        bpe_out o = {0}; /* a fresh one: its word cache starts cold, as in a tool */
        double s = now();
        tokens = 0;
        for (size_t a = 0; a < n;) {
            char *nl = memchr(text + a, '\n', n - a);
            size_t b = nl ? (size_t)(nl - text) + 1 : n;
            if (bpe_encode(&o, t, text + a, b - a, 0, &e) < 0) {
                fprintf(stderr, "bpe_bench: %s\n", e.msg);
                return 1;
            }
            tokens += o.n;
            a = b;
        }
        double d = now() - s;
        if (d < best)
            best = d;
        bpe_out_free(&o);
    }
    printf("{\"bench\":\"bpe_encode\",\"tokenizer\":\"%s\",\"text_mb\":%.2f,\"tokens\":%zu,"
           "\"load_s\":%.3f,\"encode_s\":%.3f,\"mb_per_s\":%.2f,\"tokens_per_s\":%.0f}\n",
           argv[1], (double)n / 1048576, tokens, load, best, (double)n / 1048576 / best,
           (double)tokens / best);
    bpe_free(t);
    free(text);
    return 0;
}
