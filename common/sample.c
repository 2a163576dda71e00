/* sample: see sample.h. Top-k and top-p give exactly what sorting all V
 * tokens would (likelier first, ties to the lower id), but sort only the
 * head of that order: a histogram of the probabilities finds the buckets
 * that hold the top k tokens or the top_p mass, and a radix sort orders
 * just those. With neither, a draw is two passes over the logits. */
#include "sample.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"
#include "tfm_math.h"

void sample_seed(sample_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = rng_next(&seed);
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
    s->idx = malloc(2 * (size_t)V * sizeof *s->idx);
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

/* Top-k and top-p keep a prefix of one order of the tokens: likelier
 * first, ties to the lower id. Probabilities are >= 0 (+0 at the least),
 * so as integers their bit patterns order as they do, and buckets and
 * radix digits read the bits. */
enum { NBUCKET = 1024, BUCKET_SHIFT = 21 };

/* Exponent and two mantissa bits: buckets 2^(1/4) wide. The sign bit is
 * masked only so that a NaN cannot index out of range. */
static int bucket(float x)
{
    uint32_t b;
    memcpy(&b, &x, sizeof b);
    return (int)((b & 0x7fffffffu) >> BUCKET_SHIFT);
}

/* How many tokens, and how much probability, each bucket holds. */
static void histogram(int *count, double *mass, const float *pr, int V)
{
    memset(count, 0, NBUCKET * sizeof *count);
    memset(mass, 0, NBUCKET * sizeof *mass);
    for (int i = 0; i < V; i++) {
        count[bucket(pr[i])]++;
        mass[bucket(pr[i])] += pr[i];
    }
}

/* A radix digit of probability x, counting down so that the likelier
 * come first. */
static int digit_down(float x, int shift)
{
    uint32_t b;
    memcpy(&b, &x, sizeof b);
    return 255 - (int)((b >> shift) & 255u);
}

/* Sorts ids h (n), given in ascending id order, into the order: a stable
 * LSD radix sort on the bits leaves ties by ascending id. Four linear
 * passes (fewer when a digit is the same for all), where a comparison
 * sort through pr costs milliseconds for tens of thousands of ids. tmp
 * (n) is scratch. */
static void radix_sort_ids(int *h, int *tmp, const float *pr, int n)
{
    if (n < 2)
        return;
    int *src = h, *dst = tmp;
    for (int shift = 0; shift < 32; shift += 8) {
        int start[256] = {0};
        for (int i = 0; i < n; i++)
            start[digit_down(pr[src[i]], shift)]++;
        if (start[digit_down(pr[src[0]], shift)] == n)
            continue;
        for (int d = 0, sum = 0; d < 256; d++) {
            int c = start[d];
            start[d] = sum;
            sum += c;
        }
        for (int i = 0; i < n; i++)
            dst[start[digit_down(pr[src[i]], shift)]++] = src[i];
        int *t = src;
        src = dst;
        dst = t;
    }
    if (src != h)
        memcpy(h, src, (size_t)n * sizeof *h);
}

/* The ids of every token in bucket b or above, sorted, into h; returns
 * how many. Whatever b, they are a prefix of the order of all V. */
static int sorted_from_bucket(int *h, int *tmp, const float *pr, int V, int b)
{
    int n = 0;
    for (int i = 0; i < V; i++)
        if (bucket(pr[i]) >= b)
            h[n++] = i;
    radix_sort_ids(h, tmp, pr, n);
    return n;
}

/* The top buckets that hold at least k tokens, sorted into h: their first
 * k are the top k. */
static void top_k_ids(int *h, int *tmp, const int *count, const float *pr, int V, int k)
{
    int b = NBUCKET - 1, n = count[b];
    while (n < k)
        n += count[--b];
    sorted_from_bucket(h, tmp, pr, V, b);
}

/* How many of the sorted tokens h (n) top-p keeps when it renormalises by
 * topk: 1 + the index where the running share first reaches top_p, or 0
 * if it never does within these n. For a larger topk every share rounds no
 * larger, so the answer never shrinks as topk grows. */
static int nucleus(const float *pr, const int *h, int n, double topk, float top_p)
{
    double cum = 0;
    for (int i = 0; i < n; i++) {
        cum += pr[h[i]] / topk;
        if (top_p < 1.0f && cum >= top_p)
            return i + 1;
    }
    return 0;
}

/* The kept count when h (n) is the whole top-k set (all V tokens when
 * top-k is off), so that top-p renormalises by their sum in order, as
 * transformers' TopPLogitsWarper does after TopKLogitsWarper. */
static int keep_of_top_k(const float *pr, const int *h, int n, float top_p)
{
    double topk = 0;
    for (int i = 0; i < n; i++)
        topk += pr[h[i]];
    int keep = nucleus(pr, h, n, topk, top_p);
    return keep ? keep : n;
}

/* Top-p with top-k off renormalises by the sum of all V probabilities in
 * sorted order, while what it keeps is a short prefix. So sort only the
 * top buckets that hold the top_p mass, and bound that sum rather than
 * compute it: summed in sorted order, or bucket by bucket as here, V
 * positive terms give the exact sum within gamma(V + NBUCKET) * total
 * (the recursive summation bound), so the sorted sum is within d of ours.
 * The kept count never shrinks as the divisor grows (see nucleus), so if
 * total - d and total + d keep the same count, the sorted sum keeps it too.
 * If they differ (top_p within ~1e-11 of a running share) or the buckets
 * fell short by rounding, sort all V and use the sorted sum itself. */
static int top_p_ids(int *h, int *tmp, const double *mass, const float *pr, int V, float top_p)
{
    double total = 0, cum = 0;
    for (int b = 0; b < NBUCKET; b++)
        total += mass[b];
    int b = NBUCKET - 1;
    while (b > 0 && (cum += mass[b]) < top_p * total)
        b--;
    int n = sorted_from_bucket(h, tmp, pr, V, b);
    if (n < V) {
        double d = 3.0 * (V + NBUCKET) * 0x1p-53 * total;
        int lo = nucleus(pr, h, n, total - d, top_p), hi = nucleus(pr, h, n, total + d, top_p);
        if (hi > 0 && lo == hi)
            return hi;
        n = sorted_from_bucket(h, tmp, pr, V, 0);
    }
    return keep_of_top_k(pr, h, n, top_p);
}

/* Keeps the first `keep` tokens h of the order, renormalised by their
 * mass, and zeroes the rest. The rest are not all in h, but they are the
 * tokens that come after the last kept one. */
static void keep_first(float *pr, int V, const int *h, int keep)
{
    double kept = 0;
    for (int i = 0; i < keep; i++)
        kept += pr[h[i]];
    int last = h[keep - 1];
    float pl = pr[last];
#pragma omp simd
    for (int i = 0; i < V; i++) /* | and & rather than || and && to vectorise */
        pr[i] = (pr[i] > pl) | ((pr[i] == pl) & (i <= last)) ? pr[i] : 0.0f;
    for (int i = 0; i < keep; i++)
        pr[h[i]] = (float)(pr[h[i]] / kept);
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
    int k = p->top_k > 0 && p->top_k < V ? p->top_k : V, keep;
    if (k == V && p->top_p >= 1.0f)
        return;
    int count[NBUCKET], *h = s->idx, *tmp = s->idx + V;
    double mass[NBUCKET];
    histogram(count, mass, pr, V);
    if (k < V) {
        top_k_ids(h, tmp, count, pr, V, k);
        keep = keep_of_top_k(pr, h, k, p->top_p);
    } else {
        keep = top_p_ids(h, tmp, mass, pr, V, p->top_p);
    }
    keep_first(pr, V, h, keep);
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
