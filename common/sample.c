/* sample: see sample.h. Top-k and top-p sort only when asked for: with
 * neither, a draw is two passes over the logits. */
#include "sample.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tfm_math.h"

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void sample_seed(sample_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t sample_next(sample_rng *r)
{
    uint64_t *s = r->s, out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

double sample_uniform(sample_rng *r) { return (sample_next(r) >> 11) * 0x1.0p-53; }

int sample_check(const sample_params *p, alarm_err *e)
{
    if (!(p->temperature >= 0) || !isfinite(p->temperature))
        return err_set(e, "--temperature must be a finite number >= 0");
    if (p->top_k < 0)
        return err_set(e, "--top-k must be >= 0");
    if (!(p->top_p > 0 && p->top_p <= 1))
        return err_set(e, "--top-p must be in (0, 1]");
    return 0;
}

int sample_ctx_init(sample_ctx *s, int V, alarm_err *e)
{
    s->V = V;
    s->probs = malloc((size_t)V * sizeof *s->probs);
    s->idx = malloc((size_t)V * sizeof *s->idx);
    if (!s->probs || !s->idx) {
        sample_ctx_free(s);
        return err_set(e, "out of memory for sampling over %d tokens", V);
    }
    return 0;
}

void sample_ctx_free(sample_ctx *s)
{
    free(s->probs);
    free(s->idx);
    s->probs = NULL;
    s->idx = NULL;
}

/* Descending by probability, then ascending by id, so ties are deterministic. */
static int by_prob_desc(const void *a, const void *b, void *key)
{
    const float *sort_key = key;
    int i = *(const int *)a, j = *(const int *)b;
    if (sort_key[i] != sort_key[j])
        return sort_key[i] > sort_key[j] ? -1 : 1;
    return (i > j) - (i < j);
}

static void greedy(sample_ctx *s, const float *logits)
{
    int best = 0;
    for (int i = 1; i < s->V; i++)
        if (logits[i] > logits[best])
            best = i;
    memset(s->probs, 0, (size_t)s->V * sizeof *s->probs);
    s->probs[best] = 1.0f;
}

/* No AVX2 clone here (unlike the model's kernels): the sums' order would
 * then depend on the CPU, and a seed must draw the same tokens everywhere. */
void sample_probs(sample_ctx *s, const float *logits, const sample_params *p)
{
    int V = s->V;
    if (p->temperature == 0 || p->top_k == 1) {
        greedy(s, logits);
        return;
    }
    float mx = logits[0], T = p->temperature, *pr = s->probs;
#pragma omp simd reduction(max : mx)
    for (int i = 1; i < V; i++)
        mx = logits[i] > mx ? logits[i] : mx;
    double sum = 0;
#pragma omp simd reduction(+ : sum)
    for (int i = 0; i < V; i++) {
        pr[i] = tfm_expf((logits[i] - mx) / T);
        sum += pr[i];
    }
#pragma omp simd
    for (int i = 0; i < V; i++)
        pr[i] = (float)(pr[i] / sum);
    int k = p->top_k > 0 && p->top_k < V ? p->top_k : V;
    if (k == V && p->top_p >= 1.0f)
        return;
    for (int i = 0; i < V; i++)
        s->idx[i] = i;
    qsort_r(s->idx, (size_t)V, sizeof *s->idx, by_prob_desc, s->probs);
    /* keep the first k; top-p then sees them renormalised, as after TopKLogitsWarper */
    double topk = 0;
    for (int i = 0; i < k; i++)
        topk += s->probs[s->idx[i]];
    double cum = 0;
    int keep = 0;
    while (keep < k) {
        cum += s->probs[s->idx[keep]] / topk;
        keep++;
        if (p->top_p < 1.0f && cum >= p->top_p)
            break;
    }
    double kept = 0;
    for (int i = 0; i < keep; i++)
        kept += s->probs[s->idx[i]];
    for (int i = keep; i < V; i++)
        s->probs[s->idx[i]] = 0.0f;
    for (int i = 0; i < keep; i++)
        s->probs[s->idx[i]] = (float)(s->probs[s->idx[i]] / kept);
}

int sample_token(sample_ctx *s, const float *logits, const sample_params *p, sample_rng *r,
                 float *logprob)
{
    sample_probs(s, logits, p);
    double u = sample_uniform(r), cum = 0;
    int tok = -1, last = 0;
    for (int i = 0; i < s->V; i++) {
        if (s->probs[i] <= 0)
            continue;
        last = i;
        cum += s->probs[i];
        if (u < cum) {
            tok = i;
            break;
        }
    }
    if (tok < 0)
        tok = last; /* u landed in the rounding gap at the top */
    if (logprob)
        *logprob = logf(s->probs[tok]);
    return tok;
}

void sample_rows(sample_ctx *ctx, const float *logits, int n, const sample_params *p,
                 sample_rng *rng, int *tokens, float *logprobs)
{
#pragma omp parallel for if (n > 1)
    for (int b = 0; b < n; b++)
        tokens[b] = sample_token(&ctx[b], logits + (size_t)b * ctx[b].V, p, &rng[b],
                                 logprobs ? &logprobs[b] : NULL);
}
