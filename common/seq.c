/* seq: encodes prompt/response pairs into token sequences (BOS prefix from the
 * tokenizer's post-processor, truncation by a stated policy) and lays them out
 * as right-padded batches with the map from response tokens to model rows. */
#include "seq.h"

#include <stdlib.h>
#include <string.h>

#include "grow.h"

int seq_enc_init(seq_enc *se, alarm_err *e)
{
    if (!se->tok || se->max_tokens < 2)
        return err_set(e, "seq: a tokenizer and max_tokens >= 2 are needed");
    const int32_t *ids;
    size_t n = bpe_template_prefix(se->tok, &ids);
    if (n > sizeof se->prefix / sizeof se->prefix[0])
        return err_set(e, "the tokenizer's post-processor puts %zu tokens first (at most 8)", n);
    if (n)
        memcpy(se->prefix, ids, n * sizeof *ids);
    se->nprefix = (int)n;
    return 0;
}

void seq_enc_free(seq_enc *se)
{
    bpe_out_free(&se->enc);
}

void seq_free(seq *s)
{
    free(s->ids);
    free(s->offs);
    memset(s, 0, sizeof *s);
}

static int seq_reserve(seq *s, size_t n, alarm_err *e)
{
    size_t ci = s->cap, co = s->cap; /* ids and offset pairs share one capacity */
    if (grow_array(&s->ids, &ci, n + 1, sizeof *s->ids, 64, e) < 0 ||
        grow_array(&s->offs, &co, n + 1, 2 * sizeof *s->offs, 64, e) < 0)
        return -1;
    s->cap = co < ci ? co : ci;
    return 0;
}

int seq_append(seq *s, int32_t id, alarm_err *e)
{
    size_t n = (size_t)s->np + (size_t)s->nr;
    if (seq_reserve(s, n + 1, e) < 0)
        return -1;
    size_t end = s->nr ? s->offs[2 * (size_t)s->nr - 1] : 0;
    s->ids[n] = id;
    s->offs[2 * (size_t)s->nr] = s->offs[2 * (size_t)s->nr + 1] = end;
    s->nr++;
    return 0;
}

/* np, nr are the untruncated counts with the prompt at ids[0..np) and the
 * response at ids[np..np+nr): applies the policy and the vocabulary check. */
static int seq_finish(seq *s, const seq_enc *se, int np, int nr, alarm_err *e)
{
    s->cut = 0;
    if (np + nr > se->max_tokens) {
        int keep = se->max_tokens - nr; /* prompt tokens that fit */
        int least = se->nprefix > 1 ? se->nprefix : 1;
        if (se->trunc != SEQ_TRUNC_LEFT || keep < least)
            return err_set(e, "%d tokens of prompt and response exceed %s %d", np + nr,
                           se->limit_name ? se->limit_name : "the limit of", se->max_tokens);
        s->cut = np - keep;
        memmove(s->ids + se->nprefix, s->ids + se->nprefix + s->cut,
                (size_t)(np + nr - se->nprefix - s->cut) * sizeof *s->ids);
        np = keep;
    }
    s->np = np;
    s->nr = nr;
    for (int i = 0; se->vocab > 0 && i < np + nr; i++)
        if (s->ids[i] < 0 || s->ids[i] >= se->vocab)
            return err_set(e, "token id %d is outside the model's vocabulary of %d",
                           (int)s->ids[i], se->vocab);
    return 0;
}

int seq_encode(seq *s, seq_enc *se, const char *prompt, size_t plen, const char *response,
               size_t rlen, alarm_err *e)
{
    if (bpe_encode(&se->enc, se->tok, prompt, plen, 0, e) < 0)
        return err_prefix(e, "field \"prompt\"");
    int np = se->nprefix + (int)se->enc.n;
    if (np == 0)
        return err_set(e, "field \"prompt\": empty, and the tokenizer adds no BOS token "
                          "to condition on");
    /* a byte is at most one token: reserve once for both parts */
    if (seq_reserve(s, (size_t)np + rlen, e) < 0)
        return -1;
    memcpy(s->ids, se->prefix, (size_t)se->nprefix * sizeof *s->ids);
    if (se->enc.n)
        memcpy(s->ids + se->nprefix, se->enc.ids, se->enc.n * sizeof *s->ids);
    if (bpe_encode(&se->enc, se->tok, response, rlen, 0, e) < 0)
        return err_prefix(e, "field \"response\"");
    int nr = (int)se->enc.n;
    if (nr) { /* an empty response leaves enc's buffers NULL */
        memcpy(s->ids + np, se->enc.ids, (size_t)nr * sizeof *s->ids);
        memcpy(s->offs, se->enc.offsets, (size_t)nr * 2 * sizeof *s->offs);
    }
    return seq_finish(s, se, np, nr, e);
}

int seq_set_tokens(seq *s, const seq_enc *se, const int32_t *prompt, int np,
                   const int32_t *response, int nr, alarm_err *e)
{
    if (np < 0 || nr < 0)
        return err_set(e, "negative token count");
    if (np == 0)
        return err_set(e, "field \"prompt_tokens\": empty, nothing to condition on");
    if (seq_reserve(s, (size_t)np + (size_t)nr, e) < 0)
        return -1;
    memcpy(s->ids, prompt, (size_t)np * sizeof *s->ids);
    if (nr)
        memcpy(s->ids + np, response, (size_t)nr * sizeof *s->ids);
    memset(s->offs, 0, (size_t)nr * 2 * sizeof *s->offs);
    /* the prefix is already part of prompt_tokens: truncation keeps as many */
    return seq_finish(s, se, np, nr, e);
}

int seq_batch_init(seq_batch *sb, int maxB, int maxT, alarm_err *e)
{
    memset(sb, 0, sizeof *sb);
    if (maxB < 1 || maxT < 1)
        return err_set(e, "seq batch: %d rows of %d tokens", maxB, maxT);
    size_t N = (size_t)maxB * maxT;
    sb->maxB = maxB;
    sb->maxT = maxT;
    sb->tokens = malloc(N * sizeof *sb->tokens);
    sb->lm_targets = malloc(N * sizeof *sb->lm_targets);
    sb->lens = malloc((size_t)maxB * sizeof *sb->lens);
    sb->first = malloc(((size_t)maxB + 1) * sizeof *sb->first);
    sb->rows = malloc(N * sizeof *sb->rows);
    sb->targets = malloc(N * sizeof *sb->targets);
    sb->row_of = malloc(N * sizeof *sb->row_of);
    if (!sb->tokens || !sb->lm_targets || !sb->lens || !sb->first || !sb->rows ||
        !sb->targets || !sb->row_of) {
        seq_batch_free(sb);
        return err_set(e, "out of memory");
    }
    return 0;
}

void seq_batch_free(seq_batch *sb)
{
    free(sb->tokens);
    free(sb->lm_targets);
    free(sb->lens);
    free(sb->first);
    free(sb->rows);
    free(sb->targets);
    free(sb->row_of);
    memset(sb, 0, sizeof *sb);
}

int seq_batch_fill(seq_batch *sb, const seq *const *s, int B, int pad, alarm_err *e)
{
    if (B < 1 || B > sb->maxB)
        return err_set(e, "seq batch: %d rows (at most %d)", B, sb->maxB);
    int T = 1;
    for (int b = 0; b < B; b++) {
        int len = s[b]->np + s[b]->nr;
        if (s[b]->np < 1 || len > sb->maxT)
            return err_set(e, "seq batch: row %d has %d tokens (1 to %d)", b, len, sb->maxT);
        T = len > T ? len : T;
    }
    sb->B = B;
    sb->T = T;
    size_t n = 0;
    for (int b = 0; b < B; b++) {
        const seq *q = s[b];
        int *tok = sb->tokens + (size_t)b * T, *tgt = sb->lm_targets + (size_t)b * T;
        sb->lens[b] = q->np + q->nr;
        for (int t = 0; t < T; t++) {
            tok[t] = t < sb->lens[b] ? q->ids[t] : pad;
            tgt[t] = -1;
        }
        sb->first[b] = n;
        /* response token i is predicted at the position before it */
        for (int i = 0; i < q->nr; i++, n++) {
            int t = q->np - 1 + i;
            sb->rows[n] = (size_t)b * T + t;
            sb->targets[n] = q->ids[q->np + i];
            sb->row_of[n] = b;
            tgt[t] = q->ids[q->np + i];
        }
    }
    sb->first[B] = n;
    sb->n = n;
    return 0;
}
