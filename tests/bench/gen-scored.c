/* gen-scored: writes N synthetic scored records (alarm-formats(5) sections 2-3) to
 * stdout for the alarm-select benchmark: SAMPLES responses per prompt, each
 * TOKENS tokens of one word each (the last an EOS with an empty span), with
 * the fields a real rollout carries (prompt_tokens, offsets, logprobs) and
 * holistic, factuality (one span per sentence), readability and length rewards.
 * Deterministic for a given seed.  usage: gen-scored N [TOKENS [SAMPLES [SEED]]] */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng;
static double uniform(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

static const char *const words[] = {"the", "river", "of", "Arvel", "is", "old", "and", "wide",
                                    "city", "harbour", "near", "a", "forest", "built", "in",
                                    "year", "north", "valley", "mountain", "long"};

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: gen-scored N [TOKENS [SAMPLES [SEED]]]\n");
        return 2;
    }
    long n = atol(argv[1]), T = argc > 2 ? atol(argv[2]) : 200;
    long S = argc > 3 ? atol(argv[3]) : 4;
    rng = argc > 4 ? strtoull(argv[4], NULL, 10) : 7;
    if (n < 1 || T < 2 || S < 1 || !rng)
        return 2;
    char *resp = malloc((size_t)T * 16), *ends = malloc((size_t)T);
    size_t *off = malloc((size_t)T * 2 * sizeof *off);
    for (long r = 0; r < n; r++) {
        long p = r / S, s = r % S;
        double q = uniform();
        size_t len = 0;
        int nsent = 0;
        /* T-1 word tokens, a period every ~12 words ends a sentence. */
        for (long t = 0; t < T - 1; t++) {
            const char *w = words[(size_t)(uniform() * 20)];
            off[2 * t] = len;
            len += (size_t)sprintf(resp + len, "%s%s", t ? " " : "", w);
            ends[t] = (t % 12 == 11 || t == T - 2);
            if (ends[t]) {
                resp[len++] = '.';
                nsent++;
            }
            off[2 * t + 1] = len;
        }
        resp[len] = '\0';
        printf("{\"id\":\"q-%07ld#%ld\",\"prompt_id\":\"q-%07ld\",\"sample\":%ld,"
               "\"prompt\":\"question: where is the river of Arvel? answer:\",\"prompt_tokens\":[",
               p, s, p, s);
        for (int k = 0; k < 24; k++)
            printf("%s%d", k ? "," : "", 464 + 37 * k);
        printf("],\"response\":\"%s\",\"response_tokens\":[", resp);
        for (long t = 0; t < T; t++)
            printf("%s%ld", t ? "," : "", t == T - 1 ? 50256L : 1000 + (long)(uniform() * 40000));
        printf("],\"offsets\":[");
        for (long t = 0; t < T - 1; t++)
            printf("[%zu,%zu],", off[2 * t], off[2 * t + 1]);
        printf("[%zu,%zu]],\"logprobs\":[", len, len);
        for (long t = 0; t < T; t++)
            printf("%s%.4f", t ? "," : "", -3.0 * uniform());
        double h = q + 0.3 * (uniform() - 0.5);
        printf("],\"finish\":\"eos\",\"policy\":\"runs/it3/policy\",\"seed\":42,"
               "\"rewards\":{\"holistic\":{\"value\":%.6f,\"raw\":%.6f},"
               "\"factuality\":{\"value\":%.4f,\"spans\":[", h, 2 * h - 1, q);
        int k = 0, fact = 0;
        for (long t = 0; t < T - 1; t++)
            if (ends[t]) {
                int f = uniform() < q;
                fact += f;
                printf("%s{\"end\":%zu,\"value\":%s}", k++ ? "," : "", off[2 * t + 1],
                       f ? "0.5" : "-0.5");
            }
        printf("]},\"readability\":{\"value\":%.4f,\"raw\":%.2f},"
               "\"length\":{\"value\":%.4f,\"raw\":%ld}}}\n",
               uniform() * 2 - 1, 6 + 6 * uniform(), (double)fact / nsent - 0.5, T);
    }
    free(resp);
    free(ends);
    free(off);
    return ferror(stdout) ? 1 : 0;
}
