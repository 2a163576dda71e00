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
#include "model_cmds.h"
#include "opt.h"
#include "out.h"
#include "seq.h"
#include "tfm.h"
#include "tfm_ckpt.h"

typedef struct {
    cJSON *rec;
    char *line; /* the raw input line, for byte-exact pass-through */
    seq s;      /* prefix + prompt + response, response offsets */
    float *lp;  /* (nr) */
    const char *file; /* FILE:LINE of the record, for messages */
    long lineno;
} item;

typedef struct {
    const tool *t;
    const char *model, *tokenizer;
    long batch, max_tokens;
    bpe *tok;
    tfm_model m;
    seq_enc se;
    item *items;
    int n;
    const seq **pending; /* (batch) the items' sequences, for seq_batch_fill */
    seq_batch sb;
    float *lp;           /* (batch * max_tokens) one batch's log-probabilities */
} run;

static void item_free(item *it)
{
    cJSON_Delete(it->rec);
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

static void put_fields(FILE *out, const item *it)
{
    fputs("\"prompt_tokens\":[", out);
    const seq *s = &it->s;
    for (int i = 0; i < s->np; i++)
        fprintf(out, i ? ",%d" : "%d", (int)s->ids[i]);
    fputs("],\"response_tokens\":[", out);
    for (int i = 0; i < s->nr; i++)
        fprintf(out, i ? ",%d" : "%d", (int)s->ids[s->np + i]);
    fputs("],\"offsets\":[", out);
    for (int i = 0; i < s->nr; i++)
        fprintf(out, i ? ",[%zu,%zu]" : "[%zu,%zu]", s->offs[2 * i], s->offs[2 * i + 1]);
    fputs("],\"logprobs\":[", out);
    for (int i = 0; i < s->nr; i++)
        fprintf(out, i ? ",%.9g" : "%.9g", it->lp[i]);
    fputc(']', out);
}

static const char *const fields[] = {"prompt_tokens", "response_tokens", "offsets", "logprobs"};

/* The raw line with the fields appended; a record that already has any of
 * them is printed without them first (they are replaced). */
static void write_item(FILE *out, item *it)
{
    int has = 0;
    for (int k = 0; k < 4; k++)
        has |= cJSON_GetObjectItemCaseSensitive(it->rec, fields[k]) != NULL;
    char *text = it->line;
    if (has) {
        for (int k = 0; k < 4; k++)
            cJSON_DeleteItemFromObjectCaseSensitive(it->rec, fields[k]);
        text = cJSON_PrintUnformatted(it->rec);
    }
    size_t end = text ? strlen(text) : 0;
    while (end > 0 && text[end - 1] != '}')
        end--;
    if (end > 0) {
        fwrite(text, 1, end - 1, out);
        if (cJSON_GetArraySize(it->rec) > 0)
            fputc(',', out);
        put_fields(out, it);
        fputs("}\n", out);
    }
    if (has)
        free(text);
}

static int flush_batch(run *R, alarm_err *e)
{
    int rc = R->n ? score_batch(R, e) : 0;
    for (int b = 0; b < R->n; b++) {
        if (rc == 0)
            write_item(stdout, &R->items[b]);
        item_free(&R->items[b]);
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
    it->rec = *rec;
    *rec = NULL;
    R->n++; /* owned by the batch from here, freed with it */
    if (jsonl_req_string(r, it->rec, NULL, "prompt", &prompt, e) < 0 ||
        jsonl_req_string(r, it->rec, NULL, "response", &response, e) < 0)
        return -1;
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

enum { SETUP_USAGE = -2 }; /* setup's return for an option the model cannot take */

static int setup(run *R, alarm_err *e)
{
    tfm_config cfg;
    if (tfm_config_load(&cfg, R->model, e) < 0)
        return -1;
    if (!cfg.lm_head)
        return err_set(e, "%s: %s has no LM head", R->model, cfg.model_type);
    int max_len = tfm_config_max_len(&cfg);
    if (!R->max_tokens)
        R->max_tokens = max_len < 1024 ? max_len : 1024;
    if (R->max_tokens > max_len) {
        err_set(e, "--max-tokens %ld exceeds the model's %d positions%s", R->max_tokens,
                max_len, max_len < cfg.maxT ? " (its sliding window)" : "");
        return SETUP_USAGE;
    }
    /* logits a chunk of rows at a time: a batch's (B,T,V) would be 823 MB for
     * GPT-2 at the defaults, several GB for 128k-token vocabularies */
    int flags = TFM_LOAD_LOGITS_ROWS | (R->t->no_check_weights ? TFM_LOAD_NO_CHECK : 0);
    if (tfm_load(&R->m, R->model, (int)R->batch, (int)R->max_tokens, flags, e) < 0)
        return -1;
    if (R->t->threads)
        tfm_set_threads(&R->m, R->t->threads);
    if (bpe_load(&R->tok, R->tokenizer ? R->tokenizer : R->model, e) < 0)
        return -1;
    R->items = calloc((size_t)R->batch, sizeof *R->items);
    R->pending = calloc((size_t)R->batch, sizeof *R->pending);
    R->lp = malloc((size_t)R->batch * R->max_tokens * sizeof *R->lp);
    if (!R->items || !R->pending || !R->lp)
        return err_set(e, "out of memory");
    R->se = (seq_enc){.tok = R->tok, .max_tokens = (int)R->max_tokens, .vocab = R->m.cfg.V,
                      .trunc = SEQ_TRUNC_ERROR, .limit_name = "--max-tokens"};
    if (seq_enc_init(&R->se, e) < 0)
        return -1;
    return seq_batch_init(&R->sb, (int)R->batch, (int)R->max_tokens, e);
}

static void run_free(run *R)
{
    for (int b = 0; b < R->n; b++)
        item_free(&R->items[b]);
    free(R->items);
    free(R->pending);
    free(R->lp);
    seq_batch_free(&R->sb);
    seq_enc_free(&R->se);
    bpe_free(R->tok);
    tfm_free(&R->m);
}

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
    int rc = setup(&R, &e);
    if (rc == SETUP_USAGE)
        status = tool_usage(&t, "%s", e.msg);
    else if (rc < 0 || drive_files(&d, &e) < 0 || flush_batch(&R, &e) < 0)
        status = tool_fail(&t, e.msg);
    run_free(&R);
    return tool_finish(&t, status);
}
