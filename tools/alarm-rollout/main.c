/* alarm-rollout: samples -n responses per prompt record from a policy
 * checkpoint and writes rollout records (alarm-rollout(1), alarm-formats(5)
 * sections 1 and 2). Options from the table, prompts through the record
 * driver, sampling through common/rollout. */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "drive.h"
#include "jsonl.h"
#include "out.h"
#include "rollout_cli.h"
#include "tfm_ckpt.h"

static int parse_truncate(void *p, const char *v, alarm_err *e)
{
    rollout_args *a = p;
    if (strcmp(v, "left") && strcmp(v, "error"))
        return err_set(e, "--truncate-prompt: expected left or error, not '%s'", v);
    a->trunc_left = !strcmp(v, "left");
    return 0;
}

static int parse_shard(void *p, const char *v, alarm_err *e)
{
    rollout_args *a = p;
    return opt_parse_shard(v, &a->shard_i, &a->shard_n, e);
}

#define AT(f) offsetof(rollout_args, f)
static const opt_def opts[] = {
    {"model", 0, "DIR", "the policy checkpoint (config.json, safetensors, tokenizer.json)",
     .type = OPT_STR, .off = AT(model)},
    {"samples", 'n', "N", "responses per prompt", "1", .type = OPT_LONG, .off = AT(n), .min = 1,
     .max = 1000000},
    {"temperature", 0, "T", "softmax temperature (0: greedy)", "generation_config.json, else 1",
     .type = OPT_DOUBLE, .off = AT(temperature), .fmin = 0, .fmax = 1e6},
    {"top-k", 0, "K", "keep the K most likely tokens (0: all)", "generation_config.json, else 0",
     .type = OPT_LONG, .off = AT(top_k), .min = 0, .max = 1 << 30},
    {"top-p", 0, "P", "keep the most likely tokens reaching probability P",
     "generation_config.json, else 1", .type = OPT_DOUBLE, .off = AT(top_p), .fmin = 0, .fmax = 1},
    {"greedy", 0, NULL, "always the most likely token", .type = OPT_FLAG, .off = AT(greedy)},
    {"max-new-tokens", 0, "M", "response tokens at most", "generation_config.json, else 128",
     .type = OPT_LONG, .off = AT(max_new), .min = 1, .max = 1 << 20},
    {"max-prompt-tokens", 0, "N", "prompt tokens at most", "the model's positions minus M",
     .type = OPT_LONG, .off = AT(max_prompt), .min = 1, .max = 1 << 20},
    {"truncate-prompt", 0, "left|error", "a longer prompt: keep its end, or fail", "error",
     .type = OPT_CALL, .call = parse_truncate},
    {"no-eos", 0, NULL, "sample M tokens whatever comes (no stop at EOS)", .type = OPT_FLAG,
     .off = AT(no_eos)},
    {"batch", 0, "B", "samples decoding at once", "8", .type = OPT_LONG, .off = AT(batch),
     .min = 1, .max = 4096},
    {"shard", 0, "I/N", "only the prompts of shard I of N (0-based; split by prompt id)",
     .type = OPT_CALL, .call = parse_shard},
    {0},
};

static const tool_spec spec = {
    .name = "alarm-rollout",
    .id = TOOL_ROLLOUT,
    .usage = "alarm-rollout --model DIR [-n N] [--temperature T] [--top-k K] [--top-p P] "
             "[--greedy] [--max-new-tokens M] [--max-prompt-tokens N] "
             "[--truncate-prompt left|error] [--no-eos] [--batch B] [--seed S] [--shard I/N] "
             "[--db FILE] [FILE...]",
    .about = "Samples N responses to each prompt record (FILE..., or standard input) from a\n"
             "checkpoint and writes one rollout record per sample to standard output.\n",
    .opts = opts,
    .page = "alarm-rollout(1)",
};

/* The checkpoint's defaults under the options given (alarm-rollout(1)). */
static void settle_params(sampling *R, const rollout_args *a, sample_params *sp)
{
    const gen_cfg *g = &R->gen;
    int sampling_given = a->temperature >= 0 || a->top_k >= 0 || a->top_p >= 0;
    int greedy = a->greedy || (g->from_file && !g->do_sample && !sampling_given);
    sp->temperature = greedy ? 0.0f : a->temperature >= 0 ? (float)a->temperature : g->temperature;
    sp->top_k = a->top_k >= 0 ? (int)a->top_k : g->top_k;
    sp->top_p = a->top_p >= 0 ? (float)a->top_p : g->top_p;
}

static int setup(sampling *R, const rollout_args *a, alarm_err *e)
{
    tfm_config cfg;
    R->gen = (gen_cfg){.temperature = 1.0f, .top_k = 0, .top_p = 1.0f, .do_sample = 1,
                       .max_new_tokens = 128};
    if (tfm_config_load(&cfg, a->model, e) < 0 || gen_cfg_load(&R->gen, a->model, e) < 0)
        return -1;
    if (!cfg.lm_head)
        return err_set(e, "%s: %s has no LM head to sample from", a->model, cfg.model_type);
    int positions = tfm_config_max_len(&cfg);
    int max_new = a->max_new > 0 ? (int)a->max_new : R->gen.max_new_tokens;
    if (a->max_new <= 0 && !R->gen.from_file && max_new > positions / 2)
        max_new = positions / 2; /* the built-in default leaves room for a prompt */
    int max_prompt = a->max_prompt > 0 ? (int)a->max_prompt : positions - max_new;
    if (max_prompt < 1 || max_prompt + max_new > positions)
        return err_set(e, "--max-new-tokens %d and %d prompt tokens exceed the model's %d "
                          "positions", max_new, max_prompt > 0 ? max_prompt : 0, positions);
    int maxT = max_prompt + max_new;
    int flags = R->t->no_check_weights ? TFM_LOAD_NO_CHECK : 0;
    if (tfm_load(&R->m, a->model, 1, maxT, flags, e) < 0 || bpe_load(&R->tok, a->model, e) < 0)
        return -1;
    if (R->t->threads)
        tfm_set_threads(&R->m, R->t->threads);
    R->se = (seq_enc){.tok = R->tok, .max_tokens = max_prompt, .vocab = R->m.cfg.V,
                      .trunc = a->trunc_left ? SEQ_TRUNC_LEFT : SEQ_TRUNC_ERROR,
                      .limit_name = "the prompt limit (--max-prompt-tokens)"};
    if (seq_enc_init(&R->se, e) < 0)
        return -1;
    R->r = (rollout){.m = &R->m, .B = (int)a->batch, .maxT = maxT, .max_new = max_new,
                     .stop = &R->gen, .no_eos = a->no_eos, .emit = rollout_write,
                     .drop = rollout_drop, .user = R};
    settle_params(R, a, &R->r.sp);
    if (!a->no_eos && R->gen.neos == 0 && bpe_eos_id(R->tok) >= 0)
        R->gen.eos[R->gen.neos++] = bpe_eos_id(R->tok);
    return rollout_init(&R->r, e);
}

static void run_free(sampling *R)
{
    rollout_free(&R->r);
    rollout_text_free(&R->rt);
    seq_free(&R->s);
    seq_enc_free(&R->se);
    bpe_free(R->tok);
    tfm_free(&R->m);
}

int main(int argc, char **argv)
{
    tool t;
    rollout_args a = {.n = 1, .temperature = -1, .top_k = -1, .top_p = -1, .batch = 8,
                      .shard_n = 1};
    tool_init();
    int status = opt_parse(&t, &spec, &a, argc, argv);
    if (status >= 0)
        return status;
    if (!a.model)
        return tool_usage(&t, "--model is required");
    if (a.greedy && (a.temperature >= 0 || a.top_k >= 0 || a.top_p >= 0))
        return tool_usage(&t, "--greedy takes no --temperature, --top-k or --top-p");
    sampling R = {.t = &t, .a = &a, .t0 = clock_mono()};
    alarm_err e;
    drive d = {.t = &t, .fn = rollout_take_prompt, .user = &R, .unique_ids = 1};
    status = TOOL_OK;
    R.store.batch = a.batch;
    const char *failure = NULL;
    if (setup(&R, &a, &e) < 0 || rstore_open(&R.store, &t, &e) < 0 ||
        drive_files(&d, &e) < 0 || rollout_run(&R.r, 0, &e) < 0) {
        status = tool_fail(&t, e.msg);
        failure = e.msg;
    }
    tool_progress_done(&t);
    if (rstore_close(&R.store, &t, failure) < 0)
        status = TOOL_FAIL;
    run_free(&R);
    return tool_finish(&t, status);
}
