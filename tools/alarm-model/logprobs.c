/* alarm-model logprobs: teacher-forced log-probabilities of each record's
 * response after its prompt. Prompt and response are tokenized separately and
 * concatenated, after the tokens the tokenizer's post-processor puts first
 * (a BOS), as PPO trainers do; logprobs[i] = log p(response token i | all
 * before it). Records go through the model in right-padded batches. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpe.h"
#include "drive.h"
#include "jsonl.h"
#include "logprobs.h"
#include "model_cmds.h"
#include "opt.h"
#include "out.h"
#include "seq.h"
#include "tfm.h"
#include "tfm_ckpt.h"

void logprobs_item_free(item *it)
{
    free(it->line);
    seq_free(&it->s);
    free(it->lp);
    memset(it, 0, sizeof *it);
}

static int encode_item(run *R, const jsonl_reader *r, item *it, const char *prompt,
                       const char *response, alarm_err *e)
{
    if (seq_encode(&it->s, &R->se, prompt, strlen(prompt), response, strlen(response), e) < 0)
        return err_prefix(e, "%s:%ld", r->name, r->lineno);
    if (!(it->lp = malloc(((size_t)it->s.nr + 1) * sizeof *it->lp)))
        return err_set(e, "out of memory");
    it->file = r->name;
    it->lineno = r->lineno;
    return 0;
}

/* One forward over the pending items; log-softmax at the response positions. */
static int score_batch(run *R, alarm_err *e)
{
    for (int b = 0; b < R->n; b++)
        R->pending[b] = &R->items[b].s;
    seq_batch *sb = &R->sb;
    if (seq_batch_fill(sb, R->pending, R->n, 0, e) < 0 ||
        tfm_forward(&R->m, sb->tokens, sb->lens, sb->B, sb->T, e) < 0 ||
        tfm_token_logprobs(&R->m, sb->rows, sb->targets, sb->n, R->lp, e) < 0)
        return -1;
    for (size_t k = 0; k < sb->n; k++)
        R->items[sb->row_of[k]].lp[k - sb->first[sb->row_of[k]]] = R->lp[k];
    /* JSON has no NaN or infinity: a model whose activations overflowed is
     * an error naming the record, never "-nan" in the output. */
    for (size_t k = 0; k < sb->n; k++)
        if (!isfinite(R->lp[k])) {
            const item *it = &R->items[sb->row_of[k]];
            return err_set(e, "%s:%ld: field \"logprobs\"[%zu]: the model gave %s "
                              "(its activations overflowed)", it->file, it->lineno,
                           k - sb->first[sb->row_of[k]], isnan(R->lp[k]) ? "NaN" : "an infinity");
        }
    return 0;
}

static int flush_batch(run *R, alarm_err *e)
{
    int rc = R->n ? score_batch(R, e) : 0;
    for (int b = 0; b < R->n; b++) {
        /* a closed stdout is the driver's to report (quietly for a pipe) */
        if (rc == 0 && logprobs_write(stdout, &R->items[b], e) < 0 && !tool_stdout_failed())
            rc = -1;
        logprobs_item_free(&R->items[b]);
    }
    R->n = 0;
    return rc;
}

/* The driver's callback: one record into the batch, scored when it is full. */
static int logprobs_record(void *user, jsonl_reader *r, cJSON **rec, alarm_err *e)
{
    run *R = user;
    const char *prompt, *response;
    item *it = &R->items[R->n];
    R->n++; /* owned by the batch from here, freed with it */
    if (jsonl_req_string(r, *rec, NULL, "prompt", &prompt, e) < 0 ||
        jsonl_req_string(r, *rec, NULL, "response", &response, e) < 0)
        return -1;
    it->len = r->len;
    if (!(it->line = strdup(r->line)))
        return err_set(e, "out of memory");
    if (encode_item(R, r, it, prompt, response, e) < 0)
        return -1;
    return R->n == R->batch ? flush_batch(R, e) : 0;
}

#define AT(f) offsetof(run, f)
static const opt_def opts[] = {
    {"model", 0, "DIR", "Hugging Face checkpoint (config.json + safetensors)", .type = OPT_STR,
     .off = AT(model)},
    {"tokenizer", 0, "FILE|DIR", "tokenizer.json", "the one in --model DIR", .type = OPT_STR,
     .off = AT(tokenizer)},
    {"batch", 0, "N", "records per forward pass", "4", .type = OPT_LONG, .off = AT(batch),
     .min = 1, .max = 1024},
    {"max-tokens", 0, "N", "longest prompt + response", "the model's, at most 1024",
     .type = OPT_LONG, .off = AT(max_tokens), .min = 2, .max = 1 << 20},
    {0},
};

static const tool_spec spec = {
    .name = "alarm-model",
    .cmd = "logprobs",
    .id = TOOL_MODEL_LOGPROBS,
    .usage = "alarm-model logprobs --model DIR [--tokenizer FILE|DIR] [--batch N] "
             "[--max-tokens N] [FILE...]",
    .about = "Adds prompt_tokens, response_tokens, offsets and logprobs to each JSONL record\n"
             "with \"prompt\" and \"response\" fields. Reads FILEs or stdin.\n",
    .opts = opts,
    .page = "alarm-model(1)",
};

int model_cmd_logprobs(int argc, char **argv)
{
    tool t;
    run R = {.t = &t, .batch = 4};
    int status = opt_parse(&t, &spec, &R, argc, argv);
    if (status >= 0)
        return status;
    if (!R.model)
        return tool_usage(&t, "--model is required");
    alarm_err e;
    drive d = {.t = &t, .fn = logprobs_record, .user = &R};
    status = TOOL_OK;
    int rc = logprobs_setup(&R, &e);
    if (rc == SETUP_USAGE)
        status = tool_usage(&t, "%s", e.msg);
    else if (rc < 0 || drive_files(&d, &e) < 0 || flush_batch(&R, &e) < 0)
        status = tool_fail(&t, e.msg);
    logprobs_free(&R);
    return tool_finish(&t, status);
}
