/* sample: drawing tokens from logits, shared by rollout and the tests.
 * The distribution is built as transformers' logits processors build it:
 * temperature first, then top-k, then top-p (nucleus: the smallest set of
 * most likely tokens whose probability reaches top_p); tokens as likely go
 * in id order, the lower first. Temperature 0 means greedy. The RNG is
 * xoshiro256** seeded through splitmix64, so a seed gives the same tokens
 * on every machine and thread count. */
#ifndef ALARM_SAMPLE_H
#define ALARM_SAMPLE_H

#include <stdint.h>

#include "err.h"

typedef struct {
    uint64_t s[4];
} sample_rng;

void sample_seed(sample_rng *r, uint64_t seed);
uint64_t sample_next(sample_rng *r);
double sample_uniform(sample_rng *r); /* [0, 1) with 53 random bits */

typedef struct {
    float temperature; /* > 0, or 0 for greedy */
    int top_k;         /* 0 = off */
    float top_p;       /* in (0, 1]; 1 = off */
} sample_params;

/* Rejects out-of-range parameters with a message naming the option. */
int sample_check(const sample_params *p, alarm_err *e);

/* Owns the scratch a draw needs for a vocabulary of V tokens. */
typedef struct {
    int V;
    float *probs; /* (V) the sampling distribution of the last call */
    int *idx;     /* (2V) token ids, the kept ones first; then scratch */
} sample_ctx;

int sample_ctx_init(sample_ctx *s, int V, alarm_err *e);
void sample_ctx_free(sample_ctx *s);

/* Fills s->probs with the sampling distribution for logits (V): zero
 * outside the kept set, summing to one. */
void sample_probs(sample_ctx *s, const float *logits, const sample_params *p);

/* Draws one token; *logprob (if not NULL) gets its log-probability under
 * the sampling distribution. */
int sample_token(sample_ctx *s, const float *logits, const sample_params *p, sample_rng *r,
                 float *logprob);

/* Draws a token for each of n rows of logits (row stride V), the rows
 * spread over the OpenMP threads. Row b uses its own scratch ctx[b] and
 * generator rng[b], so its tokens do not depend on the batch it shares or
 * the thread count. logprobs may be NULL. */
void sample_rows(sample_ctx *ctx, const float *logits, int n, const sample_params *p,
                 sample_rng *rng, int *tokens, float *logprobs);

#endif
