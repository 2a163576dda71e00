/* alarm-sft's model and tokenizer: a checkpoint (--model), a new model
 * from a config.json initialised as transformers does (--init with
 * --tokenizer), or, with --resume, the checkpoint --out already holds. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "fsio.h"
#include "sft_cli.h"
#include "tfm_ckpt.h"

/* 1 when dir holds a checkpoint this trainer wrote (trainer_state.json). */
static int has_state(const char *dir)
{
    char path[4096];
    struct stat sb;
    snprintf(path, sizeof path, "%s/trainer_state.json", dir);
    return stat(path, &sb) == 0;
}

static int build_from_config(sft_run *R, const char *path, int T, alarm_err *e)
{
    size_t len;
    char *json = fsio_read_file(path, (size_t)1 << 20, &len, e);
    if (!json)
        return -1;
    tfm_config cfg;
    int rc = tfm_config_parse(&cfg, json, e);
    free(json);
    if (rc < 0)
        return err_prefix(e, "%s", path);
    if (T <= 0)
        T = tfm_config_max_len(&cfg);
    if (tfm_build(&R->m, &cfg, (int)R->a->batch, T, e) < 0)
        return err_prefix(e, "%s", path);
    tfm_init_random(&R->m, R->t->seed);
    return 0;
}

static int load_model(sft_run *R, alarm_err *e)
{
    const sft_args *a = R->a;
    int T = (int)a->max_len;
    R->resumed = a->resume && has_state(a->out);
    const char *dir = R->resumed ? a->out : a->model;
    if (!dir) {
        R->tokenizer_src = a->tokenizer;
        struct stat sb;
        R->tokenizer_is_file = stat(a->tokenizer, &sb) == 0 && !S_ISDIR(sb.st_mode);
        return bpe_load(&R->tok, a->tokenizer, e) < 0 ? -1 : build_from_config(R, a->init, T, e);
    }
    R->tokenizer_src = dir;
    int flags = R->t->no_check_weights ? TFM_LOAD_NO_CHECK : 0;
    if (bpe_load(&R->tok, dir, e) < 0 || tfm_load(&R->m, dir, (int)a->batch, T, flags, e) < 0)
        return -1;
    if (!R->m.cfg.lm_head)
        return err_set(e, "%s: %s has no LM head to train", dir, R->m.cfg.model_type);
    return 0;
}

int sft_setup(sft_run *R, alarm_err *e)
{
    if (load_model(R, e) < 0)
        return -1;
    const tfm_config *c = &R->m.cfg;
    size_t nv = bpe_vocab_size(R->tok);
    if (nv > (size_t)c->V)
        return err_set(e, "the tokenizer (%s) has %zu tokens, more than the model's vocabulary "
                          "of %d: they do not belong together", R->tokenizer_src, nv, c->V);
    /* the EOS alarm-rollout stops at: config.json's, else the tokenizer's */
    int32_t tok_eos = bpe_eos_id(R->tok);
    R->eos = c->eos_id >= 0 ? c->eos_id : tok_eos;
    if (R->eos < 0 || R->eos >= c->V)
        return err_set(e, "no end-of-sequence token: config.json has no eos_token_id and the "
                          "tokenizer names none, so the model could not learn to stop");
    if (tok_eos >= 0 && R->eos != tok_eos && !bpe_is_special(R->tok, R->eos))
        return err_set(e, "config.json's eos_token_id %d is not a special token of the "
                          "tokenizer (%s), whose EOS is %d", R->eos, R->tokenizer_src, tok_eos);
    if (R->t->threads)
        tfm_set_threads(&R->m, (int)R->t->threads);
    R->se = (seq_enc){.tok = R->tok, .max_tokens = R->m.T - 1, .vocab = c->V,
                      .trunc = R->a->trunc_left ? SEQ_TRUNC_LEFT : SEQ_TRUNC_ERROR,
                      .limit_name = "--max-len (less the EOS)"};
    return tfm_train_alloc(&R->m, e) < 0 || seq_enc_init(&R->se, e) < 0 ? -1 : 0;
}

void sft_teardown(sft_run *R)
{
    train_data_free(&R->data);
    sft_set_free(&R->train);
    sft_set_free(&R->val);
    seq_enc_free(&R->se);
    bpe_free(R->tok);
    tfm_free(&R->m);
}
