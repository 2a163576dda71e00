/* alarm-sft: supervised fine-tuning of a policy on demonstration records,
 * loss on the response and its EOS (alarm-sft(1), alarm-formats(5)
 * sections 1, 7 and 8). Options from the table, records through the driver,
 * the loop through common/train. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "out.h"
#include "sft_cli.h"
#include "st.h"

static int pick(const char *opt, const char *v, const char *const *names, int n, int *out,
                alarm_err *e)
{
    for (int k = 0; k < n; k++)
        if (!strcmp(v, names[k]))
            return *out = k, 0;
    return err_set(e, "%s: '%s' is not one of the choices (see --help)", opt, v);
}

static int parse_schedule(void *p, const char *v, alarm_err *e)
{
    static const char *const names[] = {"constant", "linear", "cosine"}; /* tfm_sched order */
    return pick("--schedule", v, names, 3, &((sft_args *)p)->schedule, e);
}

static int parse_dtype(void *p, const char *v, alarm_err *e)
{
    static const char *const names[] = {"f32", "f16", "bf16"}; /* st_dtype order */
    return pick("--save-dtype", v, names, 3, &((sft_args *)p)->save_dtype, e);
}

static int parse_truncate(void *p, const char *v, alarm_err *e)
{
    static const char *const names[] = {"error", "left"};
    return pick("--truncate", v, names, 2, &((sft_args *)p)->trunc_left, e);
}

#define AT(f) offsetof(sft_args, f)
static const opt_def opts[] = {
    {"model", 0, "DIR", "the checkpoint to fine-tune", .type = OPT_STR, .off = AT(model)},
    {"init", 0, "CONFIG", "a new model from this config.json (with --tokenizer)",
     .type = OPT_STR, .off = AT(init)},
    {"tokenizer", 0, "FILE", "tokenizer.json (or a directory holding one) for --init",
     .type = OPT_STR, .off = AT(tokenizer)},
    {"out", 'o', "DIR", "the checkpoint to write (and DIR.best with --val)", .type = OPT_STR,
     .off = AT(out)},
    {"val", 0, "FILE", "validation demonstrations: loss at each checkpoint, best kept",
     .type = OPT_STR, .off = AT(val)},
    {"epochs", 0, "N", "passes over the data", "1", .type = OPT_LONG, .off = AT(epochs),
     .min = 1, .max = 1000000},
    {"steps", 0, "N", "optimizer steps instead of --epochs", .type = OPT_LONG, .off = AT(steps),
     .min = 1, .max = 1L << 40},
    {"lr", 0, "X", "peak learning rate", "5e-5", .type = OPT_DOUBLE, .off = AT(lr), .fmin = 0,
     .fmax = 10},
    {"schedule", 0, "cosine|linear|constant", "decay after warmup, to 0 at the last step",
     "linear", .type = OPT_CALL, .call = parse_schedule},
    {"warmup", 0, "N", "steps of linear warmup", "0", .type = OPT_LONG, .off = AT(warmup),
     .min = 0, .max = 1L << 30},
    {"weight-decay", 0, "X", "AdamW's decoupled weight decay", "0", .type = OPT_DOUBLE,
     .off = AT(weight_decay), .fmin = 0, .fmax = 10},
    {"max-grad-norm", 0, "X", "clip the gradient's norm (0: no clipping)", "1",
     .type = OPT_DOUBLE, .off = AT(max_grad_norm), .fmin = 0, .fmax = 1e9},
    {"batch", 0, "B", "demonstrations per micro-batch", "8", .type = OPT_LONG, .off = AT(batch),
     .min = 1, .max = 65536},
    {"grad-accum", 0, "K", "micro-batches per optimizer step", "1", .type = OPT_LONG,
     .off = AT(grad_accum), .min = 1, .max = 65536},
    {"max-len", 0, "T", "tokens per demonstration at most, EOS included", "the model's positions",
     .type = OPT_LONG, .off = AT(max_len), .min = 2, .max = 1 << 20},
    {"truncate", 0, "error|left", "a longer demonstration: fail, or drop its prompt's start",
     "error", .type = OPT_CALL, .call = parse_truncate},
    {"save-every", 0, "N", "evaluate and checkpoint every N steps", "each epoch",
     .type = OPT_LONG, .off = AT(save_every), .min = 1, .max = 1L << 40},
    {"resume", 0, NULL, "go on from the checkpoint in --out, exactly", .type = OPT_FLAG,
     .off = AT(resume)},
    {"save-dtype", 0, "f32|bf16|f16", "the weights' type on disk", "as loaded; f32 for --init",
     .type = OPT_CALL, .call = parse_dtype},
    {0},
};

static const tool_spec spec = {
    .name = "alarm-sft",
    .id = TOOL_SFT,
    .usage = "alarm-sft (--model DIR | --init CONFIG.json --tokenizer FILE) --out DIR "
             "[--val FILE] [--epochs N | --steps N] [--lr X] [--schedule cosine|linear|constant] "
             "[--warmup N] [--weight-decay X] [--max-grad-norm X] [--batch B] [--grad-accum K] "
             "[--max-len T] [--truncate error|left] [--save-every N] [--resume] "
             "[--save-dtype f32|bf16|f16] [--seed S] [--db FILE] [FILE...]",
    .about = "Fine-tunes a model on demonstration records (FILE..., or standard input): loss\n"
             "on each response and the EOS after it, never on the prompt. Writes the\n"
             "checkpoint DIR, resumable exactly with --resume.\n",
    .opts = opts,
    .page = "alarm-sft(1)",
};

static const char *check_args(const sft_args *a)
{
    if (!a->model == !a->init)
        return "give one of --model DIR and --init CONFIG.json";
    if (!a->init != !a->tokenizer)
        return "--init needs --tokenizer, and --tokenizer goes only with --init";
    if (!a->out)
        return "--out DIR is required";
    if (a->steps && a->epochs)
        return "give --epochs or --steps, not both";
    return NULL;
}

/* The run's settings, once the data is known. */
static void settle(sft_run *R)
{
    const sft_args *a = R->a;
    train_cfg *c = &R->cfg;
    *c = (train_cfg){.batch = (int)a->batch, .grad_accum = (int)a->grad_accum,
                     .seed = R->t->seed, .examples = R->train.n,
                     .data_hash = train_data_hash((const seq *const *)R->train.ex, R->train.n)};
    tfm_adamw_defaults(&c->opt);
    long per_epoch = train_steps_per_epoch(c, R->train.n);
    c->opt.lr = (float)a->lr;
    c->opt.weight_decay = (float)a->weight_decay;
    c->opt.grad_clip = (float)a->max_grad_norm;
    c->opt.sched = (tfm_sched)a->schedule;
    c->opt.warmup = (int)a->warmup;
    c->opt.total = (int)(a->steps ? a->steps : (a->epochs ? a->epochs : 1) * per_epoch);
    R->st = (train_state){.best_val = -1};
}

static int train(sft_run *R, alarm_err *e)
{
    const sft_args *a = R->a;
    long every = a->save_every ? a->save_every : train_steps_per_epoch(&R->cfg, R->train.n);
    double sum = 0, t0 = clock_mono(), tok0 = R->st.tokens;
    long n = 0;
    while (R->st.step < R->cfg.opt.total) {
        float loss, gnorm;
        if (train_step(&R->m, &R->cfg, &R->st, &R->data, &loss, &gnorm, e) < 0) {
            alarm_err why = *e;
            return err_set(e, "%s; stopped: %s keeps the last good checkpoint", why.msg, a->out);
        }
        sum += loss;
        n++;
        double dt = clock_mono() - t0;
        tool_progress(R->t, "step %ld/%d, loss %.4f, %.0f tokens/s", R->st.step,
                      R->cfg.opt.total, loss, dt > 0 ? (R->st.tokens - tok0) / dt : 0);
        if (R->st.step % every == 0 || R->st.step == R->cfg.opt.total) {
            tool_progress_done(R->t);
            if (sft_checkpoint(R, sum / (double)n, e) < 0)
                return -1;
            sum = 0;
            n = 0;
        }
    }
    return 0;
}

static int run(sft_run *R, alarm_err *e)
{
    const sft_args *a = R->a;
    if (sft_setup(R, e) < 0 || sft_read(R, &R->train, R->t->args, R->t->nargs, e) < 0 ||
        (a->val && sft_read(R, &R->val, (char **)&a->val, 1, e) < 0))
        return -1;
    if (R->train.truncated + R->val.truncated && !R->t->quiet)
        fprintf(stderr, "%s: %ld demonstrations truncated to --max-len %d (their prompts' start "
                        "dropped)\n", R->t->name, R->train.truncated + R->val.truncated, R->m.T);
    settle(R);
    if (train_data_init(&R->data, (const seq *const *)R->train.ex, R->train.n, (int)a->batch,
                        R->m.T, e) < 0 || sft_store_open(R, e) < 0)
        return -1;
    if (R->resumed && train_state_load(a->out, &R->cfg, &R->st, &R->m, e) < 0)
        return -1;
    if (!R->resumed && R->val.n && sft_eval_start(R, e) < 0)
        return -1;
    return train(R, e);
}

int main(int argc, char **argv)
{
    tool t;
    sft_args a = {.lr = 5e-5, .schedule = TFM_SCHED_LINEAR, .max_grad_norm = 1, .batch = 8,
                  .grad_accum = 1, .save_dtype = -1};
    tool_init();
    int status = opt_parse(&t, &spec, &a, argc, argv);
    if (status >= 0)
        return status;
    const char *misuse = check_args(&a);
    if (misuse)
        return tool_usage(&t, "%s", misuse);
    sft_run R = {.t = &t, .a = &a};
    alarm_err e;
    const char *failure = NULL;
    status = TOOL_OK;
    if (run(&R, &e) < 0) {
        status = tool_fail(&t, e.msg);
        failure = e.msg;
    }
    if (sft_store_close(&R, failure) < 0)
        status = TOOL_FAIL;
    sft_teardown(&R);
    return tool_finish(&t, status);
}
