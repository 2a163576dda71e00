/* trainer_setup: a trainer's options, model and tokenizer: a checkpoint
 * (--model), a new model from a config.json initialised as transformers
 * does (--init with --tokenizer), or, with --resume, the checkpoint --out
 * already holds; a language model's backbone under the tool's head. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fsio.h"
#include "tfm_ckpt.h"
#include "tfm_lora_ckpt.h"
#include "trainer.h"

static int pick(const char *opt, const char *v, const char *const *names, int n, int *out,
                alarm_err *e)
{
    for (int k = 0; k < n; k++)
        if (!strcmp(v, names[k]))
            return *out = k, 0;
    return err_set(e, "%s: '%s' is not one of the choices (see --help)", opt, v);
}

/* p is the tool's args, whose first member is the trainer_args */
int trainer_parse_schedule(void *p, const char *v, alarm_err *e)
{
    static const char *const names[] = {"constant", "linear", "cosine"}; /* tfm_sched order */
    return pick("--schedule", v, names, 3, &((trainer_args *)p)->schedule, e);
}

int trainer_parse_dtype(void *p, const char *v, alarm_err *e)
{
    static const char *const names[] = {"f32", "f16", "bf16"}; /* st_dtype order */
    return pick("--save-dtype", v, names, 3, &((trainer_args *)p)->save_dtype, e);
}

int trainer_parse_truncate(void *p, const char *v, alarm_err *e)
{
    static const char *const names[] = {"error", "left"};
    return pick("--truncate", v, names, 2, &((trainer_args *)p)->trunc_left, e);
}

const char *trainer_check_args(const trainer_args *a)
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

/* 1 when dir holds a checkpoint a trainer wrote (trainer_state.json). */
static int has_state(const char *dir)
{
    char path[4096];
    struct stat sb;
    snprintf(path, sizeof path, "%s/trainer_state.json", dir);
    return stat(path, &sb) == 0;
}

static int build_from_config(trainer *T, const char *path, int len, alarm_err *e)
{
    size_t n;
    char *json = fsio_read_file(path, (size_t)1 << 20, &n, e);
    if (!json)
        return -1;
    tfm_config cfg;
    int rc = tfm_config_parse(&cfg, json, e);
    free(json);
    if (rc < 0)
        return err_prefix(e, "%s", path);
    if (T->head)
        T->head(&cfg, T->user);
    if (len <= 0)
        len = tfm_config_max_len(&cfg);
    if (tfm_build(&T->m, &cfg, (int)T->a->batch * T->rows_per_example, len, e) < 0)
        return err_prefix(e, "%s", path);
    tfm_init_random(&T->m, T->t->seed);
    return 0;
}

/* A language model's backbone under the tool's head, the head initialised
 * as transformers initialises a new one (from the seed). */
static int rehead(trainer *T, const char *dir, alarm_err *e)
{
    tfm_model lm = T->m;
    tfm_config c = lm.cfg;
    T->head(&c, T->user);
    if (tfm_build(&T->m, &c, lm.B, lm.T, e) < 0) {
        tfm_free(&lm);
        return err_prefix(e, "%s", dir);
    }
    tfm_init_random(&T->m, T->t->seed);
    memcpy(T->m.lora.base, lm.lora.base, sizeof lm.lora.base);
    for (int i = 0; i < T->m.ntab; i++) {
        const tfm_tensor *t = &T->m.tab[i], *s = tfm_find(&lm, t->name);
        if (s && s->numel == t->numel)
            memcpy(T->m.params + t->offset, lm.params + s->offset, t->numel * sizeof(float));
    }
    tfm_free(&lm);
    return 0;
}

/* --lora on a base: fresh adapters; an adapter directory (--model, or
 * --out on --resume) trains its own adapters on, whatever --lora says. */
static int load_weights(trainer *T, const char *dir, int rows, int len, int flags, alarm_err *e)
{
    if (!T->t->lora_on || tfm_lora_is_adapter_dir(dir))
        return tfm_load(&T->m, dir, rows, len, flags, e);
    tfm_lora_opts o = T->t->lora;
    o.seed = T->t->seed;
    return tfm_load_lora(&T->m, dir, &o, rows, len, flags, e);
}

static int load_model(trainer *T, alarm_err *e)
{
    const trainer_args *a = T->a;
    int len = (int)a->max_len;
    T->resumed = a->resume && has_state(a->out);
    const char *dir = T->resumed ? a->out : a->model;
    if (!dir && T->t->lora_on)
        return err_set(e, "--lora trains adapters on a checkpoint: give --model DIR, not --init");
    if (!dir) {
        T->tokenizer_src = a->tokenizer;
        struct stat sb;
        T->tokenizer_is_file = stat(a->tokenizer, &sb) == 0 && !S_ISDIR(sb.st_mode);
        return bpe_load(&T->tok, a->tokenizer, e) < 0 ? -1 : build_from_config(T, a->init, len, e);
    }
    T->tokenizer_src = dir;
    int flags = T->t->no_check_weights ? TFM_LOAD_NO_CHECK : 0;
    int rows = (int)a->batch * T->rows_per_example;
    if (bpe_load(&T->tok, dir, e) < 0 || load_weights(T, dir, rows, len, flags, e) < 0)
        return -1;
    const tfm_config *c = &T->m.cfg;
    if (!T->head)
        return c->lm_head ? 0 : err_set(e, "%s: %s has no LM head to train", dir, c->model_type);
    tfm_config want = *c;
    T->head(&want, T->user);
    if (c->cls == want.cls && c->n_labels == want.n_labels)
        return 0;
    if (c->cls != TFM_CLS_NONE)
        return err_set(e, "%s: its head has %d labels of another kind than this training needs "
                          "(%s)", dir, c->n_labels,
                       want.cls == TFM_CLS_SCORE ? "a sequence score" : "token labels");
    return rehead(T, dir, e);
}

int trainer_setup(trainer *T, alarm_err *e)
{
    if (load_model(T, e) < 0)
        return -1;
    const tfm_config *c = &T->m.cfg;
    size_t nv = bpe_vocab_size(T->tok);
    if (nv > (size_t)c->V)
        return err_set(e, "the tokenizer (%s) has %zu tokens, more than the model's vocabulary "
                          "of %d: they do not belong together", T->tokenizer_src, nv, c->V);
    /* the EOS alarm-rollout stops at: config.json's, else the tokenizer's */
    int32_t tok_eos = bpe_eos_id(T->tok);
    T->eos = c->eos_id >= 0 ? c->eos_id : tok_eos;
    if (T->eos < 0 || T->eos >= c->V)
        return err_set(e, "no end-of-sequence token: config.json has no eos_token_id and the "
                          "tokenizer names none, %s", T->eos_why);
    if (tok_eos >= 0 && T->eos != tok_eos && !bpe_is_special(T->tok, T->eos))
        return err_set(e, "config.json's eos_token_id %d is not a special token of the "
                          "tokenizer (%s), whose EOS is %d", T->eos, T->tokenizer_src, tok_eos);
    if (T->t->threads)
        tfm_set_threads(&T->m, (int)T->t->threads);
    T->se = (seq_enc){.tok = T->tok, .max_tokens = T->m.T - T->reserve, .vocab = c->V,
                      .trunc = T->a->trunc_left ? SEQ_TRUNC_LEFT : SEQ_TRUNC_ERROR,
                      .limit_name = T->limit_name};
    if (tfm_train_alloc(&T->m, e) < 0 ||
        (T->t->dropout && tfm_set_dropout(&T->m, 1, T->t->seed, e) < 0))
        return -1;
    return seq_enc_init(&T->se, e) < 0 ? -1 : 0;
}

void trainer_teardown(trainer *T)
{
    train_data_free(&T->data);
    seq_enc_free(&T->se);
    bpe_free(T->tok);
    tfm_free(&T->m);
}

void trainer_settle(trainer *T, size_t n, uint64_t data_hash)
{
    const trainer_args *a = T->a;
    train_cfg *c = &T->cfg;
    T->examples = n;
    *c = (train_cfg){.batch = (int)a->batch, .grad_accum = (int)a->grad_accum,
                     .seed = T->t->seed, .examples = n, .data_hash = data_hash};
    tfm_adamw_defaults(&c->opt);
    long per_epoch = train_steps_per_epoch(c, n);
    c->opt.lr = (float)a->lr;
    c->opt.weight_decay = (float)a->weight_decay;
    c->opt.grad_clip = (float)a->max_grad_norm;
    c->opt.sched = (tfm_sched)a->schedule;
    c->opt.warmup = (int)a->warmup;
    c->opt.total = (int)(a->steps ? a->steps : (a->epochs ? a->epochs : 1) * per_epoch);
    T->st = (train_state){.best_val = -1};
}
