/* alarm-model logprobs: teacher-forced log-probabilities of each record's
 * response after its prompt. Prompt and response are tokenized separately and
 * concatenated, after the tokens the tokenizer's post-processor puts first
 * (a BOS), as PPO trainers do; logprobs[i] = log p(response token i | all
 * before it). Records go through the model in right-padded batches. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpe.h"
#include "cli.h"
#include "jsonl.h"
#include "model_cmds.h"
#include "seq.h"
#include "tfm.h"
#include "tfm_ckpt.h"

static const char usage[] =
    "alarm-model logprobs --model DIR [--tokenizer FILE|DIR] [--batch N] [--max-tokens N] "
    "[FILE...]";

static const char help[] =
    "Adds prompt_tokens, response_tokens, offsets and logprobs to each JSONL record\n"
    "with \"prompt\" and \"response\" fields. Reads FILEs or stdin.\n\n"
    "  --model DIR           Hugging Face checkpoint (config.json + safetensors)\n"
    "  --tokenizer FILE|DIR  tokenizer.json (default: the one in --model DIR)\n"
    "  --batch N             records per forward pass (default 4)\n"
    "  --max-tokens N        longest prompt + response (default: the model's, at most 1024)\n"
    "  --threads N           threads (default: all cores)\n"
    "  -q, --quiet           no progress on stderr\n"
    "  -h, --help            this help\n";

typedef struct {
    cJSON *rec;
    char *line; /* the raw input line, for byte-exact pass-through */
    seq s;      /* prefix + prompt + response, response offsets */
    float *lp;  /* (nr) */
} item;

typedef struct {
    cli_common cli;
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

static int logprobs_file(run *R, const char *path, alarm_err *e)
{
    jsonl_reader r;
    if (jsonl_open(&r, path, e) < 0)
        return -1;
    cJSON *rec = NULL;
    int rc;
    while ((rc = jsonl_next(&r, &rec, e)) > 0) {
        const char *prompt, *response;
        item *it = &R->items[R->n];
        it->rec = rec;
        R->n++; /* owned by the batch from here, freed with it */
        if (jsonl_req_string(&r, rec, NULL, "prompt", &prompt, e) < 0 ||
            jsonl_req_string(&r, rec, NULL, "response", &response, e) < 0) {
            rc = -1;
            break;
        }
        if (!(it->line = strdup(r.line))) {
            rc = err_set(e, "out of memory");
            break;
        }
        if (encode_item(R, &r, it, prompt, response, e) < 0) {
            rc = -1;
            break;
        }
        if (R->n == R->batch && (rc = flush_batch(R, e)) < 0)
            break;
        cli_progress(&R->cli, "%ld records", r.lineno);
    }
    jsonl_close(&r);
    return rc;
}

static int parse_options(run *R, int argc, char **argv)
{
    enum { OPT_MODEL = CLI_OPT_FIRST_TOOL_OPT, OPT_TOKENIZER, OPT_BATCH, OPT_MAX };
    static const struct option longopts[] = {
        CLI_COMMON_LONGOPTS,
        {"model", required_argument, 0, OPT_MODEL},
        {"tokenizer", required_argument, 0, OPT_TOKENIZER},
        {"batch", required_argument, 0, OPT_BATCH},
        {"max-tokens", required_argument, 0, OPT_MAX},
        {0, 0, 0, 0},
    };
    alarm_err e;
    int c;
    optind = 1;
    while ((c = cli_next_option(&R->cli, argc, argv, longopts)) != -1) {
        if (c == CLI_BAD_SHARED)
            return CLI_USAGE;
        if (c == OPT_MODEL)
            R->model = optarg;
        else if (c == OPT_TOKENIZER)
            R->tokenizer = optarg;
        else if (c == OPT_BATCH && cli_parse_long("--batch", optarg, 1, 1024, &R->batch, &e) < 0)
            return cli_usage_error(&R->cli, "%s", e.msg);
        else if (c == OPT_MAX &&
                 cli_parse_long("--max-tokens", optarg, 2, 1 << 20, &R->max_tokens, &e) < 0)
            return cli_usage_error(&R->cli, "%s", e.msg);
        else if (c != OPT_BATCH && c != OPT_MAX)
            return cli_usage_error(&R->cli, "unknown option");
    }
    if (R->cli.help || R->cli.version)
        return CLI_OK;
    if (!R->model)
        return cli_usage_error(&R->cli, "--model is required");
    return CLI_OK;
}

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
    if (R->max_tokens > max_len)
        return err_set(e, "--max-tokens %ld exceeds the model's %d positions%s", R->max_tokens,
                       max_len, max_len < cfg.maxT ? " (its sliding window)" : "");
    /* logits a chunk of rows at a time: a batch's (B,T,V) would be 823 MB for
     * GPT-2 at the defaults, several GB for 128k-token vocabularies */
    if (tfm_load(&R->m, R->model, (int)R->batch, (int)R->max_tokens, TFM_LOAD_LOGITS_ROWS, e) <
        0)
        return -1;
    if (R->cli.threads)
        tfm_set_threads(&R->m, R->cli.threads);
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

int model_cmd_logprobs(int argc, char **argv)
{
    run R = {.batch = 4};
    cli_init(&R.cli, "alarm-model", usage);
    int status = parse_options(&R, argc, argv);
    if (status != CLI_OK)
        return status;
    if ((status = cli_help_or_version(&R.cli, help)) >= 0)
        return status;
    alarm_err e;
    status = CLI_FAIL;
    if (setup(&R, &e) < 0)
        goto fail;
    for (int i = optind; i < argc || i == optind; i++) {
        if (logprobs_file(&R, i < argc ? argv[i] : "-", &e) < 0)
            goto fail;
        if (i + 1 >= argc)
            break;
    }
    if (flush_batch(&R, &e) < 0)
        goto fail;
    status = CLI_OK;
    goto done;
fail:
    fflush(stdout);
    cli_error(&R.cli, "%s", e.msg);
done:
    cli_progress_done(&R.cli);
    for (int b = 0; b < R.n; b++)
        item_free(&R.items[b]);
    free(R.items);
    free(R.pending);
    free(R.lp);
    seq_batch_free(&R.sb);
    seq_enc_free(&R.se);
    bpe_free(R.tok);
    tfm_free(&R.m);
    return cli_finish_stdout(&R.cli, status);
}
