/* alarm-ppo: one PPO update of a policy on a batch of combined records,
 * as trl 0.5's PPOTrainer.step with dense rewards (alarm-ppo(1),
 * alarm-formats(5) sections 4, 5 and 7). Options from the table, records
 * through the driver, the arithmetic in common/ppo. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "dist.h"
#include "out.h"
#include "ppo_cli.h"
#include "ranks.h"
#include "tfm_lora_ckpt.h"

static int parse_adaptive(void *p, const char *v, alarm_err *e)
{
    ppo_args *a = p;
    char tail;
    if (sscanf(v, "%lf,%lf%c", &a->kl_target, &a->kl_horizon, &tail) != 2 ||
        !(a->kl_target > 0) || !(a->kl_horizon > 0))
        return err_set(e, "--adaptive-kl: expected TARGET,HORIZON (both > 0), not '%s'", v);
    return 0;
}

static int parse_penalty(void *p, const char *v, alarm_err *e)
{
    static const char *const names[] = {"kl", "abs", "mse", "full"}; /* ppo_penalty order */
    for (int k = 0; k < 4; k++)
        if (!strcmp(v, names[k]))
            return ((ppo_args *)p)->penalty = k, 0;
    return err_set(e, "--kl-penalty: expected kl, abs, mse or full, not '%s'", v);
}

static int parse_stop(void *p, const char *v, alarm_err *e)
{
    ppo_args *a = p;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", v);
    for (char *save, *kv = strtok_r(buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
        char *end, *eq = strchr(kv, '=');
        double x = eq ? strtod(eq + 1, &end) : NAN;
        if (!eq || end == eq + 1 || *end || !isfinite(x))
            return err_set(e, "--stop-on: expected kl=X,entropy=Y, not '%s'", v);
        *eq = 0;
        if (!strcmp(kv, "kl"))
            a->stop_kl = x;
        else if (!strcmp(kv, "entropy"))
            a->stop_entropy = x;
        else
            return err_set(e, "--stop-on: '%s' is not kl or entropy", kv);
    }
    return 0;
}

#define AT(f) offsetof(ppo_args, f)
#define NUM(n, arg, help, d, f, lo, hi) \
    {n, 0, arg, help, d, .type = OPT_DOUBLE, .off = AT(f), .fmin = lo, .fmax = hi}
static const opt_def opts[] = {
    {"policy", 0, "DIR", "the policy to update (an alarm-ppo output goes on its chain)",
     .type = OPT_STR, .off = AT(policy)},
    {"ref", 0, "DIR", "the frozen reference model of the KL penalty (with LoRA: the\n"
     "policy's base, adapters off, unless given)", .type = OPT_STR, .off = AT(ref)},
    {"out", 'o', "DIR", "the updated checkpoint", .type = OPT_STR, .off = AT(out)},
    NUM("lr", "X", "Adam's learning rate", "1e-5", lr, 0, 10),
    {"ppo-epochs", 0, "N", "passes over the batch", "4", .type = OPT_LONG, .off = AT(ppo_epochs),
     .min = 1, .max = 1000},
    {"mini-batch", 0, "M", "records per minibatch", "1", .type = OPT_LONG, .off = AT(mini_batch),
     .min = 1, .max = 65536},
    {"grad-accum", 0, "K", "minibatches per optimizer step", "1", .type = OPT_LONG,
     .off = AT(grad_accum), .min = 1, .max = 65536},
    NUM("kl-coef", "B", "the KL coefficient of a chain's first step", "0.2", kl_coef, 0, 1e6),
    {"adaptive-kl", 0, "TARGET,HORIZON", "the adaptive KL controller", "6,10000",
     .type = OPT_CALL, .call = parse_adaptive},
    {"fixed-kl", 0, NULL, "keep the KL coefficient fixed", .type = OPT_FLAG, .off = AT(fixed_kl)},
    {"kl-penalty", 0, "kl|abs|mse|full", "the per-token KL penalty", "kl", .type = OPT_CALL,
     .call = parse_penalty},
    NUM("cliprange", "C", "the policy ratio's clip range", "0.2", cliprange, 0, 100),
    NUM("cliprange-value", "C", "the value's clip range", "0.2", cliprange_value, 0, 1e6),
    NUM("vf-coef", "V", "the value loss's weight", "0.1", vf_coef, 0, 1e6),
    NUM("gamma", "G", "the discount", "1", gamma, 0, 1),
    NUM("lam", "L", "GAE's lambda", "0.95", lam, 0, 1),
    {"early-stop", 0, NULL, "stop the epochs when policykl exceeds 1.5 x --target-kl",
     .type = OPT_FLAG, .off = AT(early_stop)},
    NUM("target-kl", "K", "the early stop's target", "0.1", target_kl, 0, 1e6),
    NUM("max-grad-norm", "N", "clip the gradient's norm (0: no clipping)", "0", max_grad_norm, 0, 1e9),
    NUM("ratio-threshold", "R", "skip a minibatch whose mean ratio exceeds R", "10",
        ratio_threshold, 0, 1e9),
    {"stop-on", 0, "kl=X,entropy=Y", "fail without a checkpoint when objective/kl > X or\n"
     "objective/entropy < Y", .type = OPT_CALL, .call = parse_stop},
    {"stats", 0, "FILE", "append the step's statistics line to FILE", .type = OPT_STR,
     .off = AT(stats)},
    {0},
};

static const tool_spec spec = {
    .name = "alarm-ppo",
    .id = TOOL_PPO,
    .usage = "alarm-ppo --policy DIR [--ref DIR] --out DIR [--lr X] [--ppo-epochs N] "
             "[--mini-batch M] [--grad-accum K] [--kl-coef B] "
             "[--adaptive-kl TARGET,HORIZON | --fixed-kl] [--kl-penalty kl|abs|mse|full] "
             "[--cliprange C] [--cliprange-value C] [--vf-coef V] [--gamma G] [--lam L] "
             "[--early-stop --target-kl K] [--max-grad-norm N] [--ratio-threshold R] "
             "[--stop-on kl=X,entropy=Y] [--dropout] [--lora SPEC] [--seed S] [--stats FILE] [--db FILE] [FILE...]",
    .about = "One PPO update of the policy on the combined records (FILE..., or standard\n"
             "input) of alarm-select: writes the new checkpoint to --out and the step's\n"
             "statistics as one JSON line to standard output.\n",
    .opts = opts,
    .page = "alarm-ppo(1)",
};

static void settle(ppo_run *R)
{
    const ppo_args *a = R->a;
    ppo_cfg_defaults(&R->cfg);
    R->cfg.kl_coef = R->chain.kl_coef;
    R->cfg.adaptive = !a->fixed_kl;
    R->cfg.kl_target = a->kl_target;
    R->cfg.kl_horizon = a->kl_horizon;
    R->cfg.penalty = (ppo_penalty)a->penalty;
    R->cfg.gamma = a->gamma;
    R->cfg.lam = a->lam;
    R->cfg.cliprange = a->cliprange;
    R->cfg.cliprange_value = a->cliprange_value;
    R->cfg.vf_coef = a->vf_coef;
    R->cfg.ratio_threshold = a->ratio_threshold;
    /* trl's optimizer: Adam (AdamW without decay), constant learning rate */
    R->tc = (train_cfg){.batch = (int)a->mini_batch, .grad_accum = (int)a->grad_accum,
                        .seed = R->t->seed, .examples = R->n};
    tfm_adamw_defaults(&R->tc.opt);
    R->tc.opt.lr = (float)a->lr;
    R->tc.opt.weight_decay = 0;
    R->tc.opt.grad_clip = (float)a->max_grad_norm;
    R->tc.opt.sched = TFM_SCHED_CONSTANT;
}

static int run(ppo_run *R, alarm_err *e)
{
    /* every rank reads everything; they agree before rank 0 opens the store */
    int rc = ppo_read(R, e) < 0 || ppo_load(R, e) < 0 ? -1 : 0;
    if (dist_agree(rc, e) < 0)
        return -1;
    uint64_t h = ppo_records_hash(R);
    if (dist_same(&h, sizeof h, "records", e) < 0)
        return -1;
    settle(R);
    if (dist_agree(run_start(&R->run, R->t, e), e) < 0)
        return -1;
    double t0 = clock_mono();
    if (ppo_step(R, e) < 0)
        return -1;
    ranks_report(R->t, clock_mono() - t0);
    return ppo_save(R, e);
}

int main(int argc, char **argv)
{
    tool t;
    ppo_args a = {.lr = 1e-5, .ppo_epochs = 4, .mini_batch = 1, .grad_accum = 1, .kl_coef = 0.2,
                  .kl_target = 6, .kl_horizon = 10000, .cliprange = 0.2, .cliprange_value = 0.2,
                  .vf_coef = 0.1, .gamma = 1, .lam = 0.95, .target_kl = 0.1,
                  .ratio_threshold = 10, .stop_kl = NAN, .stop_entropy = NAN};
    tool_init();
    int status = opt_parse(&t, &spec, &a, argc, argv);
    if (status >= 0)
        return status;
    if (!a.policy || !a.out)
        return tool_usage(&t, "--policy and --out are required");
    /* with adapters the reference is the policy's base (adapters off) */
    if (!a.ref && !t.lora_on && !tfm_lora_is_adapter_dir(a.policy))
        return tool_usage(&t, "--ref is required unless the policy trains LoRA adapters "
                              "(--lora, or an adapter directory as --policy)");
    char buf[512];
    const char *misuse = opt_lora_misuse(&t, a.policy, buf, sizeof buf);
    if (misuse)
        return tool_usage(&t, "%s", misuse);
    if (!strcmp(a.out, a.policy))
        return tool_usage(&t, "--out must differ from --policy (the policy stays as it was)");
    alarm_err e;
    if (ranks_init(&t, &e) < 0)
        return tool_finish(&t, tool_fail(&t, e.msg));
    ppo_run R = {.t = &t, .a = &a};
    const char *failure = NULL;
    status = TOOL_OK;
    if (run(&R, &e) < 0) {
        status = tool_fail(&t, e.msg);
        failure = e.msg;
    }
    if (run_end(&R.run, &t, failure) < 0)
        status = TOOL_FAIL;
    ppo_run_free(&R);
    return tool_finish(&t, status);
}
