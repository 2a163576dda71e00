/* rollout: sampling responses from a policy with continuous batching
 * (alarm-formats(5) section 2). Up to B samples decode together in a KV
 * cache; a finished sample frees its row for the next queued one, whose
 * prompt is prefilled alone, so a long answer never holds the batch and
 * every sample's numbers depend only on its own prompt and random stream.
 * Results come back in the order jobs were queued. */
#ifndef ALARM_ROLLOUT_H
#define ALARM_ROLLOUT_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "gen_cfg.h"
#include "sample.h"
#include "tfm.h"
#include "tfm_kv.h"

typedef enum { ROLLOUT_EOS = 0, ROLLOUT_LENGTH = 1 } rollout_finish;

/* One finished sample, handed to the emit callback (buffers are the
 * engine's, valid during the call). */
typedef struct {
    void *tag;               /* the caller's, from rollout_push */
    int sample;
    const int32_t *tokens;   /* response tokens, the EOS last when finish is EOS */
    const float *logprobs;   /* under the sampling distribution used */
    int n;
    rollout_finish finish;
} rollout_out;

typedef int (*rollout_emit_fn)(void *user, const rollout_out *o, alarm_err *e);

typedef struct rollout_job rollout_job;

typedef struct {
    /* set before rollout_init */
    tfm_model *m;           /* built for at least 1 x maxT */
    int B;                  /* rows decoding at once */
    int maxT;               /* prompt + response positions */
    sample_params sp;       /* temperature 0: greedy */
    int max_new;            /* tokens per response at most */
    const gen_cfg *stop;    /* EOS ids; NULL or no_eos: never stop early */
    int no_eos;
    rollout_emit_fn emit;
    void (*drop)(void *user, void *tag); /* a job freed unemitted (after an error); or NULL */
    void *user;
    /* state */
    tfm_kv kv;
    sample_ctx *ctx;        /* (B) */
    rollout_job **slot;     /* (B) the job in each row, or NULL */
    int *active, *tok;      /* (B) */
    rollout_job **jobs;     /* queued, running and finished-not-emitted, in order */
    size_t njobs, cap, head, next; /* emitted before head; dispatched before next */
    int32_t *pad;           /* (maxT) a prompt's tokens as ints */
    long long tokens_out;   /* response tokens sampled so far */
} rollout;

int rollout_init(rollout *r, alarm_err *e);
void rollout_free(rollout *r);

/* Queues one sample of a prompt (ids copied; np + max_new <= maxT, np >= 1)
 * drawn from the stream seeded by `seed`. */
int rollout_push(rollout *r, const int32_t *prompt, int np, int sample, uint64_t seed,
                 void *tag, alarm_err *e);

/* Decodes until at most `keep` queued jobs wait for a row (0: until all are
 * done and emitted). Errors from the model or from emit stop it. */
int rollout_run(rollout *r, size_t keep, alarm_err *e);

/* Jobs queued and not yet emitted. */
size_t rollout_pending(const rollout *r);

/* The stream of sample `sample` of prompt `id` under `seed`: the same
 * whatever the batch, the shard or the order prompts come in. */
uint64_t rollout_seed(uint64_t seed, const char *id, size_t idlen, int sample);

#endif
