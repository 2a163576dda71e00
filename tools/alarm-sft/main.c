/* alarm-sft: supervised fine-tuning of a policy on demonstration records,
 * loss on the response and its EOS (alarm-sft(1), alarm-formats(5)
 * sections 1, 7 and 8). Options from the table, records through the driver,
 * the loop and checkpoints through tools/lib/trainer. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "dist.h"
#include "out.h"
#include "ranks.h"
#include "sft_cli.h"

static const opt_def opts[] = {
    TRAINER_OPTS(sft_args, "the checkpoint to fine-tune",
                 "validation demonstrations: loss at each checkpoint, best kept",
                 "demonstrations per micro-batch",
                 "tokens per demonstration at most, EOS included",
                 "a longer demonstration: fail, or drop its prompt's start"),
    {0},
};

static const tool_spec spec = {
    .name = "alarm-sft",
    .id = TOOL_SFT,
    .usage = "alarm-sft (--model DIR | --init CONFIG.json --tokenizer FILE) --out DIR "
             "[--val FILE] [--epochs N | --steps N] [--lr X] [--schedule cosine|linear|constant] "
             "[--warmup N] [--weight-decay X] [--max-grad-norm X] [--batch B] [--grad-accum K] "
             "[--max-len T] [--truncate error|left] [--save-every N] [--resume] "
             "[--save-dtype f32|bf16|f16] [--dropout] [--lora SPEC] [--seed S] [--db FILE] [FILE...]",
    .about = "Fine-tunes a model on demonstration records (FILE..., or standard input): loss\n"
             "on each response and the EOS after it, never on the prompt. Writes the\n"
             "checkpoint DIR, resumable exactly with --resume.\n",
    .opts = opts,
    .page = "alarm-sft(1)",
};

/* The validation loss: the mean over every target token of --val. */
static int evaluate(trainer *T, trainer_eval *ev, alarm_err *e)
{
    sft_run *R = T->user;
    return train_eval(&T->m, &T->data, (const seq *const *)R->val.ex, R->val.n,
                      (int)T->a->batch, &ev->loss, e);
}

/* Everything before the steps; under mpirun the ranks agree on it after. */
static int prepare(sft_run *R, alarm_err *e)
{
    trainer *T = &R->T;
    const trainer_args *a = T->a;
    if (trainer_setup(T, e) < 0 || sft_read(R, &R->train, T->t->args, T->t->nargs, e) < 0 ||
        (a->val && sft_read(R, &R->val, (char **)&a->val, 1, e) < 0))
        return -1;
    if (R->train.truncated + R->val.truncated && !T->t->quiet)
        fprintf(stderr, "%s: %ld demonstrations truncated to --max-len %d (their prompts' start "
                        "dropped)\n", T->t->name, R->train.truncated + R->val.truncated, T->m.T);
    const seq *const *ex = (const seq *const *)R->train.ex;
    trainer_settle(T, R->train.n, train_data_hash(ex, R->train.n));
    if (R->val.n)
        T->evaluate = evaluate;
    if (train_data_init(&T->data, ex, R->train.n, (int)a->batch, T->m.T, e) < 0 ||
        trainer_start(T, e) < 0)
        return -1;
    return 0;
}

static int run(sft_run *R, alarm_err *e)
{
    if (dist_agree(prepare(R, e), e) < 0)
        return -1;
    return trainer_train(&R->T, e);
}

int main(int argc, char **argv)
{
    tool t;
    sft_args a = {.tr = TRAINER_ARGS_DEFAULT};
    tool_init();
    int status = opt_parse(&t, &spec, &a, argc, argv);
    if (status >= 0)
        return status;
    const char *misuse = trainer_check_args(&a.tr);
    char buf[512];
    if (!misuse)
        misuse = opt_lora_misuse(&t, a.tr.model, buf, sizeof buf);
    if (misuse)
        return tool_usage(&t, "%s", misuse);
    alarm_err e;
    if (ranks_init(&t, &e) < 0)
        return tool_finish(&t, tool_fail(&t, e.msg));
    sft_run R = {.T = {.t = &t, .a = &a.tr, .rows_per_example = 1, .reserve = 1,
                       .limit_name = "--max-len (less the EOS)", .unit = "tokens",
                       .eos_why = "so the model could not learn to stop"}};
    R.T.user = &R;
    int rc = run(&R, &e);
    status = trainer_end(&R.T, rc, &e);
    sft_set_free(&R.train);
    sft_set_free(&R.val);
    return tool_finish(&t, status);
}
