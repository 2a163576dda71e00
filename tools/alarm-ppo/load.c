/* alarm-ppo's models: the policy with its value head (trl's
 * v_head.summary.*, zero when the checkpoint has none), possibly with
 * LoRA adapters, the frozen reference (--ref, or with adapters the policy's
 * base in its own weights), and the chain's state when the policy is an alarm-ppo output
 * (ppo_state.json, trainer_state.json, optimizer.safetensors). */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "json_file.h"
#include "ppo_cli.h"
#include "tfm_ckpt.h"
#include "tfm_lora_ckpt.h"

static int read_chain(ppo_run *R, const char *path, alarm_err *e)
{
    cJSON *o = json_file_read(path, (size_t)1 << 20, e);
    if (!o)
        return -1;
    const cJSON *step = cJSON_GetObjectItemCaseSensitive(o, "step");
    const cJSON *kl = cJSON_GetObjectItemCaseSensitive(o, "kl_coef");
    int ok = cJSON_IsNumber(step) && step->valuedouble >= 0 && cJSON_IsNumber(kl) &&
             kl->valuedouble >= 0;
    if (ok) {
        R->chain.step = (long)step->valuedouble;
        R->chain.kl_coef = kl->valuedouble;
    }
    cJSON_Delete(o);
    return ok ? 0 : err_set(e, "%s: expected {\"step\": N, \"kl_coef\": X}", path);
}

/* --lora on a base policy: fresh adapters; an adapter directory trains its own. */
static int load_policy(ppo_run *R, int B, int flags, alarm_err *e)
{
    const char *dir = R->a->policy;
    if (!R->t->lora_on || tfm_lora_is_adapter_dir(dir))
        return tfm_load(&R->pol, dir, B, R->maxT, flags, e);
    tfm_lora_opts o = R->t->lora;
    o.seed = R->t->seed;
    return tfm_load_lora(&R->pol, dir, &o, B, R->maxT, flags, e);
}

int ppo_load(ppo_run *R, alarm_err *e)
{
    const ppo_args *a = R->a;
    int B = (int)a->mini_batch, check = R->t->no_check_weights ? TFM_LOAD_NO_CHECK : 0;
    int ref_flags = check | (a->penalty == PPO_FULL ? 0 : TFM_LOAD_LOGITS_ROWS);
    if (load_policy(R, B, check | TFM_LOAD_VALUE_HEAD, e) < 0)
        return -1;
    /* LoRA without --ref: the policy's own base weights, adapters off; a
       --ref given is honoured as a separate model */
    if (a->ref ? tfm_load(&R->ref, a->ref, B, R->maxT, ref_flags, e) < 0
               : tfm_build_base_view(&R->ref, &R->pol, B, R->maxT,
                                     a->penalty == PPO_FULL ? TFM_LM_ALL : TFM_LM_ROWS, e) < 0)
        return -1;
    if (R->pol.cfg.V != R->ref.cfg.V)
        return err_set(e, "the policy's vocabulary (%d) and the reference's (%d) differ",
                       R->pol.cfg.V, R->ref.cfg.V);
    if (R->pol.cfg.lm_head != TFM_LM_ALL)
        return err_set(e, "%s: the policy has no LM head to train", a->policy);
    if (R->t->threads) {
        tfm_set_threads(&R->pol, (int)R->t->threads);
        tfm_set_threads(&R->ref, (int)R->t->threads);
    }
    if (tfm_train_alloc(&R->pol, e) < 0)
        return -1;
    char path[4096];
    struct stat sb;
    snprintf(path, sizeof path, "%s/ppo_state.json", a->policy);
    R->chain = (ppo_chain){.step = 0, .kl_coef = a->kl_coef};
    R->ts = (train_state){.best_val = -1};
    if (stat(path, &sb) != 0)
        return 0; /* the chain's first step: moments zero, --kl-coef */
    if (read_chain(R, path, e) < 0 || train_state_load(a->policy, NULL, &R->ts, &R->pol, e) < 0)
        return -1;
    return 0;
}
