/* seq: prompt/response token sequences and the right-padded batches a model
 * scores or trains on (alarm-formats(5) sections 1, 2 and 5). A sequence is
 * the post-processor's leading tokens (a BOS, when the tokenizer adds one),
 * the prompt's tokens and the response's tokens; the response is what gets
 * log-probabilities, rewards and losses. Buffers belong to their struct. */
#ifndef ALARM_SEQ_H
#define ALARM_SEQ_H

#include <stddef.h>
#include <stdint.h>

#include "bpe.h"
#include "err.h"

/* What seq_encode does when prompt + response exceed max_tokens. */
typedef enum {
    SEQ_TRUNC_ERROR = 0, /* fail: "N tokens of prompt and response exceed ..." */
    SEQ_TRUNC_LEFT = 1   /* drop the prompt's oldest tokens (after the BOS prefix);
                          * the response is never cut, so a response that leaves
                          * no room for one prompt token (or the prefix) still fails */
} seq_trunc;

typedef struct {
    int32_t *ids;  /* (np + nr) prefix + prompt + response */
    size_t *offs;  /* (nr, 2) byte spans of the response tokens inside the response */
    int np, nr;    /* prompt tokens (prefix included), response tokens */
    int cut;       /* prompt tokens SEQ_TRUNC_LEFT dropped */
    size_t cap;    /* capacity of ids/offs, in tokens */
} seq;

/* How sequences are encoded; fill the fields, then seq_enc_init. */
typedef struct {
    const bpe *tok;
    int max_tokens;         /* longest prompt + response (>= 2) */
    int vocab;              /* a model's vocabulary: ids >= it are an error (0: no check) */
    seq_trunc trunc;
    const char *limit_name; /* how errors name max_tokens, e.g. "--max-tokens" (NULL: "the limit") */
    /* filled by seq_enc_init */
    int32_t prefix[8];
    int nprefix;
    bpe_out enc;
} seq_enc;

int seq_enc_init(seq_enc *se, alarm_err *e);
void seq_enc_free(seq_enc *se);

/* Encodes prompt and response (UTF-8, separately, as PPO trainers do) into s,
 * whose buffers are reused; start from `seq s = {0}`. An empty prompt with no
 * prefix has nothing to condition on and is an error; an empty response is a
 * sequence with nr = 0. Errors name the field ("field \"prompt\": ..."); the
 * caller adds FILE:LINE. */
int seq_encode(seq *s, seq_enc *se, const char *prompt, size_t plen, const char *response,
               size_t rlen, alarm_err *e);
/* Sets s from token ids a record already carries (prompt_tokens,
 * response_tokens); offs are left zero. Same checks and truncation. */
int seq_set_tokens(seq *s, const seq_enc *se, const int32_t *prompt, int np,
                   const int32_t *response, int nr, alarm_err *e);
/* Appends token id to the response with the empty span at its end (an EOS
 * a trainer teaches the model to end with). No length check: encode with
 * one token of room. */
int seq_append(seq *s, int32_t id, alarm_err *e);
void seq_free(seq *s);

/* B sequences right-padded to the longest, and the row map: entry k of
 * (rows, targets, row_of) is response token targets[k] of batch row row_of[k],
 * predicted by the model's output at flat position rows[k] = b*T + t (the
 * position before it). Row b's entries are [first[b], first[b+1]). */
typedef struct {
    int maxB, maxT;
    int B, T;         /* this batch: rows, padded length (1 when all are empty) */
    int *tokens;      /* (B, T) right-padded with `pad` */
    int *lens;        /* (B) */
    int *lm_targets;  /* (B, T) the token each position predicts, -1 where no loss
                       * (prompt, padding): what tfm_loss_lm takes for SFT */
    size_t n;         /* response tokens in the batch */
    size_t *rows;     /* (n) */
    int *targets;     /* (n) */
    int *row_of;      /* (n) */
    size_t *first;    /* (B + 1) */
} seq_batch;

int seq_batch_init(seq_batch *sb, int maxB, int maxT, alarm_err *e);
/* Lays out s[0..B) (each np + nr <= maxT). Padding is never attended (lens),
 * so `pad` need only be a valid id. */
int seq_batch_fill(seq_batch *sb, const seq *const *s, int B, int pad, alarm_err *e);
void seq_batch_free(seq_batch *sb);

#endif
