/* What alarm-rollout's two files share: the options and the state of a run. */
#ifndef ALARM_ROLLOUT_CLI_H
#define ALARM_ROLLOUT_CLI_H

#include <cjson/cJSON.h>
#include <stdio.h>

#include "bpe.h"
#include "gen_cfg.h"
#include "jsonl.h"
#include "opt.h"
#include "run.h"
#include "rollout.h"
#include "rollout_text.h"
#include "seq.h"

typedef struct {
    const char *model;
    long n, top_k, max_new, max_prompt, batch;
    double temperature, top_p; /* < 0: not given */
    int greedy, no_eos, trunc_left;
    long shard_i, shard_n;
} rollout_args;

/* One prompt record while its samples are out. */
typedef struct {
    cJSON *rec;   /* the input record, for the store's prompts row */
    char *line;   /* its raw line, the head of every sample's record */
    size_t len;
    char *id;
    int32_t *ptok; /* prompt tokens (BOS included), as the policy saw them */
    int np;
    int left;     /* samples not yet written */
} prompt_rec;

/* The store rows of a run (store.c); without --db every call does nothing. */
typedef struct {
    tool_run run;
    sqlite3_stmt *st_prompt, *st_rollout;
    long batch, prompts_in_batch; /* whole prompts per transaction */
} rollout_store;

/* One rollout's columns as text (write.c makes them). */
typedef struct {
    const char *response;
    size_t response_len;
    const char *prompt_tokens, *response_tokens, *offsets, *logprobs, *policy;
    unsigned long long seed;
} rollout_cols;

typedef struct {
    const tool *t;
    const rollout_args *a;
    rollout_store store;
    gen_cfg gen;
    bpe *tok;
    tfm_model m;
    seq_enc se;
    seq s;
    rollout r;
    rollout_text rt;
    long prompts;    /* prompts queued */
    double t0;
} sampling;

/* prompts.c: the driver's callback: a prompt record's n samples into the
 * queue (records of other shards skipped). */
int rollout_take_prompt(void *user, jsonl_reader *rd, cJSON **rec, alarm_err *e);

/* Writes one finished sample as a rollout record on stdout (the emit
 * callback of the engine). */
int rollout_write(void *run, const rollout_out *o, alarm_err *e);
int rstore_open(rollout_store *s, const tool *t, alarm_err *e);
int rstore_rollout(rollout_store *s, const prompt_rec *p, const char *id, const rollout_out *o,
                   const rollout_cols *c, alarm_err *e);
/* Ends the run: ok (failure NULL: the open batch committed) or failed. */
int rstore_close(rollout_store *s, const tool *t, const char *failure);

/* One sample of the prompt record `tag` is done with: the last frees it. */
void rollout_drop(void *run, void *tag);

#endif
