/* alarm-rm: trains a reward model (alarm-rm(1)): a sequence score by the
 * Bradley-Terry loss on preference records, or a token classifier on
 * span-label records (alarm-formats(5) sections 1, 7 and 8). Options from
 * the table, records through the driver, the loop through tools/lib/trainer
 * and the losses of common/rm. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dist.h"
#include "out.h"
#include "ranks.h"
#include "rm_cli.h"

static int parse_kind(void *p, const char *v, alarm_err *e)
{
    rm_args *a = p;
    if (!strcmp(v, "seq") || !strcmp(v, "spans"))
        return a->kind = !strcmp(v, "spans"), 0;
    return err_set(e, "--kind: '%s' is not one of the choices (see --help)", v);
}

static int parse_segment(void *p, const char *v, alarm_err *e)
{
    rm_args *a = p;
    if (!strcmp(v, "sentence") || !strcmp(v, "subsentence"))
        return a->subsentence = !strcmp(v, "subsentence"), 0;
    return err_set(e, "--segment: '%s' is not one of the choices (see --help)", v);
}

static const opt_def opts[] = {
    {"kind", 0, "seq|spans", "a sequence score from preferences, or span labels",
     .type = OPT_CALL, .call = parse_kind},
    {"labels", 0, "L1,L2...", "the span labels, in the head's order", "good,bad",
     .type = OPT_STR, .off = offsetof(rm_args, labels)},
    {"segment", 0, "sentence|subsentence", "the segments the labels judge, recorded in rm.json",
     "sentence", .type = OPT_CALL, .call = parse_segment},
    TRAINER_OPTS(rm_args, "the checkpoint to start from (a language model gets a new head)",
                 "validation records: loss and accuracy at each checkpoint, best kept",
                 "records per micro-batch (a pair is two rows)",
                 "tokens per prompt + response at most",
                 "a longer prompt + response: fail, or drop its prompt's start"),
    {0},
};

static const tool_spec spec = {
    .name = "alarm-rm",
    .id = TOOL_RM,
    .usage = "alarm-rm --kind seq|spans (--model DIR | --init CONFIG.json --tokenizer FILE) "
             "--out DIR [--val FILE] [--labels L1,L2...] [--segment sentence|subsentence] "
             "[--epochs N | --steps N] [--lr X] [--schedule cosine|linear|constant] "
             "[--warmup N] [--weight-decay X] [--max-grad-norm X] [--batch B] [--grad-accum K] "
             "[--max-len T] [--truncate error|left] [--save-every N] [--resume] "
             "[--save-dtype f32|bf16|f16] [--dropout] [--lora SPEC] [--seed S] [--db FILE] [FILE...]",
    .about = "Trains a reward model on preference records (--kind seq: a score, by the\n"
             "Bradley-Terry loss) or span-label records (--kind spans: a label at each\n"
             "span's last token), FILE... or standard input. Writes the checkpoint DIR,\n"
             "resumable exactly with --resume.\n",
    .opts = opts,
    .page = "alarm-rm(1)",
};

/* The head: one score (transformers' ForSequenceClassification with one
 * label), or a label per token (ForTokenClassification). */
static void head(tfm_config *c, void *user)
{
    rm_run *R = user;
    c->lm_head = 0;
    c->cls = R->a->kind == RM_SEQ ? TFM_CLS_SCORE : TFM_CLS_TOKEN;
    c->n_labels = R->a->kind == RM_SEQ ? 1 : R->n_labels;
}

static int split_labels(rm_run *R, alarm_err *e)
{
    R->label_buf = strdup(R->a->labels);
    if (!R->label_buf)
        return err_set(e, "out of memory");
    for (char *p = R->label_buf, *next; p; p = next) {
        next = strchr(p, ',');
        if (next)
            *next++ = '\0';
        if (!*p || R->n_labels == RM_MAX_LABELS)
            return err_set(e, "--labels %s: %s", R->a->labels,
                           *p ? "too many labels" : "an empty label");
        for (int k = 0; k < R->n_labels; k++)
            if (!strcmp(R->label[k], p))
                return err_set(e, "--labels %s: \"%s\" twice", R->a->labels, p);
        R->label[R->n_labels++] = p;
    }
    return R->n_labels < 2 ? err_set(e, "--labels %s: at least two labels", R->a->labels) : 0;
}

/* Everything before the steps; under mpirun the ranks agree on it after. */
static int prepare(rm_run *R, alarm_err *e)
{
    trainer *T = &R->T;
    const trainer_args *a = T->a;
    if (split_labels(R, e) < 0 || trainer_setup(T, e) < 0)
        return -1;
    const char *dir = T->resumed ? a->out : a->model;
    if (R->a->kind == RM_SPANS && dir && rm_check_labels(R, dir, e) < 0)
        return -1;
    /* transformers finds the last real token by pad_token_id: the EOS, as trl pads */
    if (T->m.cfg.pad_id < 0)
        T->m.cfg.pad_id = T->eos;
    if (rm_read(R, &R->train, T->t->args, T->t->nargs, e) < 0 ||
        (a->val && rm_read(R, &R->val, (char **)&a->val, 1, e) < 0))
        return -1;
    if (R->train.truncated + R->val.truncated && !T->t->quiet)
        fprintf(stderr, "%s: %ld sequences truncated to --max-len %d (their prompts' start "
                        "dropped)\n", T->t->name, R->train.truncated + R->val.truncated, T->m.T);
    trainer_settle(T, R->train.n, rm_set_hash(R, &R->train));
    if (R->val.n)
        T->evaluate = rm_evaluate;
    int seq = R->a->kind == RM_SEQ;
    if (rm_task_init(&R->task, (int)a->batch * T->rows_per_example, T->m.T,
                     seq ? 1 : R->n_labels, e) < 0 ||
        train_data_init_task(&T->data, (const void *const *)R->train.ex, R->train.n,
                             (int)a->batch, seq ? rm_pair_loss : rm_span_loss, &R->task, e) < 0 ||
        trainer_start(T, e) < 0)
        return -1;
    return 0;
}

static int run(rm_run *R, alarm_err *e)
{
    if (dist_agree(prepare(R, e), e) < 0)
        return -1;
    return trainer_train(&R->T, e);
}

int main(int argc, char **argv)
{
    tool t;
    rm_args a = {.tr = TRAINER_ARGS_DEFAULT, .kind = -1, .labels = "good,bad"};
    tool_init();
    int status = opt_parse(&t, &spec, &a, argc, argv);
    if (status >= 0)
        return status;
    const char *misuse = a.kind < 0 ? "--kind seq|spans is required" : trainer_check_args(&a.tr);
    /* span labels' names live in config.json, which an adapter directory has not */
    if (!misuse && a.kind == RM_SPANS && t.lora_on)
        misuse = "--lora trains sequence reward models (--kind seq) only";
    char buf[512];
    if (!misuse)
        misuse = opt_lora_misuse(&t, a.tr.model, buf, sizeof buf);
    if (misuse)
        return tool_usage(&t, "%s", misuse);
    alarm_err e;
    if (ranks_init(&t, &e) < 0)
        return tool_finish(&t, tool_fail(&t, e.msg));
    rm_run R = {.T = {.t = &t, .a = &a.tr, .rows_per_example = a.kind == RM_SEQ ? 2 : 1,
                      .limit_name = "--max-len", .unit = a.kind == RM_SEQ ? "pairs" : "spans",
                      .eos_why = "so a batch has no token to pad with"},
                .a = &a, .stats_step = -1};
    R.T.user = &R;
    R.T.head = head;
    R.T.extra = rm_write_extra;
    int rc = run(&R, &e);
    status = trainer_end(&R.T, rc, &e);
    rm_task_free(&R.task);
    rm_set_free(&R, &R.train);
    rm_set_free(&R, &R.val);
    free(R.label_buf);
    return tool_finish(&t, status);
}
