/* score_model: a reward-model checkpoint for the learned scorer kinds (see
 * score_model.h). The model is built for batch= rows of max-len= tokens;
 * inputs are encoded by seq_encode as alarm-rm(1) encodes its records,
 * with truncate= as its --truncate. */
#include "json_file.h"
#include "score_model.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "grow.h"
#include "tfm_ckpt.h"
#include "tfm_lora_ckpt.h"

static cJSON *read_json(const char *dir, const char *name, int optional, alarm_err *e)
{
    char path[4096];
    struct stat sb;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (optional && stat(path, &sb) < 0 && errno == ENOENT)
        return NULL;
    cJSON *o = json_file_read(path, (size_t)16 << 20, e);
    if (o && !cJSON_IsObject(o)) {
        cJSON_Delete(o);
        err_set(e, "%s: not a JSON object", path);
        return NULL;
    }
    return o;
}

/* The head before the weights: the checkpoint must be the kind's. */
static int check_head(const score_model *sm, const score_spec *s, int cls, alarm_err *e)
{
    const cJSON *archs = cJSON_GetObjectItemCaseSensitive(sm->config, "architectures");
    const cJSON *a0 = cJSON_GetArrayItem(archs, 0);
    const char *have = cJSON_IsString(a0) ? a0->valuestring : "none";
    const tfm_config *c = &sm->m.cfg;
    if ((int)c->cls == cls && (cls != TFM_CLS_SCORE || c->n_labels == 1))
        return 0;
    char labels[32] = "";
    if (cls == TFM_CLS_SCORE && (int)c->cls == cls)
        snprintf(labels, sizeof labels, " with %d labels", c->n_labels);
    return err_set(e, "scorer %s: %s/config.json: field \"architectures\": %s%s is not %s "
                   "(alarm-rm --kind %s writes one)", s->name, sm->dir, have, labels,
                   cls == TFM_CLS_SCORE ? "a sequence reward model "
                                          "(*ForSequenceClassification, one label)"
                                        : "a token classifier (*ForTokenClassification)",
                   cls == TFM_CLS_SCORE ? "seq" : "spans");
}

static int check_rm_kind(const score_model *sm, const score_spec *s, const char *want,
                         alarm_err *e)
{
    if (!sm->rm)
        return 0;
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(sm->rm, "kind");
    if (!cJSON_IsString(k))
        return err_set(e, "scorer %s: %s/rm.json: field \"kind\": %s", s->name, sm->dir,
                       k ? "expected a string" : "missing");
    if (strcmp(k->valuestring, want))
        return err_set(e, "scorer %s: %s/rm.json: field \"kind\": \"%s\", not \"%s\" (a %s "
                       "model: use %s:)", s->name, sm->dir, k->valuestring, want,
                       k->valuestring, !strcmp(want, "seq") ? "spans" : "rm");
    return 0;
}

static int load(score_model *sm, const score_spec *s, const score_env *env,
                const tfm_config *cfg, long batch, alarm_err *e)
{
    long max = tfm_config_max_len(cfg), len;
    if (score_opt_long(s, "max-len", max < 1024 ? max : 1024, 2, max, &len, e) < 0)
        return err_prefix(e, "%s has %ld positions", sm->dir, max);
    if (tfm_load(&sm->m, sm->dir, (int)batch, (int)len, 0, e) < 0 ||
        bpe_load(&sm->tok, sm->dir, e) < 0)
        return err_prefix(e, "scorer %s", s->name);
    if (env->threads > 0)
        tfm_set_threads(&sm->m, (int)env->threads);
    if (bpe_vocab_size(sm->tok) > (size_t)sm->m.cfg.V)
        return err_set(e, "scorer %s: %s: the tokenizer has %zu tokens, more than the model's "
                       "vocabulary of %d", s->name, sm->dir, bpe_vocab_size(sm->tok),
                       sm->m.cfg.V);
    return 0;
}

int score_model_open(score_model *sm, const score_spec *s, const score_env *env, int cls,
                     const char *rm_kind, alarm_err *e)
{
    memset(sm, 0, sizeof *sm);
    long batch;
    const char *trunc = score_spec_get(s, "truncate");
    if (trunc && strcmp(trunc, "error") && strcmp(trunc, "left"))
        return err_set(e, "scorer %s: truncate=%s: expected error or left", s->name, trunc);
    if (score_opt_long(s, "batch", 4, 1, 4096, &batch, e) < 0)
        return -1;
    if (!(sm->dir = strdup(s->arg)))
        return err_set(e, "out of memory");
    /* alarm-rm --kind seq --lora writes an adapter directory with its score
     * head and rm.json; a span model's labels need the config.json of a full
     * checkpoint (alarm-rm refuses --kind spans with --lora) */
    int adapter = tfm_lora_is_adapter_dir(sm->dir);
    if (adapter && cls != TFM_CLS_SCORE)
        return err_set(e, "scorer %s: %s is a LoRA adapter directory: a span model is read "
                          "from a full checkpoint (alarm-model merge-lora writes one)",
                       s->name, sm->dir);
    if (!adapter && !(sm->config = read_json(sm->dir, "config.json", 0, e)))
        return err_prefix(e, "scorer %s", s->name);
    alarm_err none = {{0}};
    sm->rm = read_json(sm->dir, "rm.json", 1, &none);
    if (none.msg[0])
        return err_set(e, "scorer %s: %s", s->name, none.msg);
    /* the head from config.json alone, before the weights are read */
    tfm_config cfg;
    if (tfm_config_load(&cfg, sm->dir, e) < 0)
        return err_prefix(e, "scorer %s", s->name);
    sm->m.cfg = cfg;
    if (check_head(sm, s, cls, e) < 0 || check_rm_kind(sm, s, rm_kind, e) < 0)
        return -1;
    if (cfg.n_labels > RM_MAX_LABELS)
        return err_set(e, "scorer %s: %s/config.json: %d labels (at most %d)", s->name,
                       sm->dir, cfg.n_labels, RM_MAX_LABELS);
    memset(&sm->m, 0, sizeof sm->m);
    if (load(sm, s, env, &cfg, batch, e) < 0)
        return -1;
    sm->se = (seq_enc){.tok = sm->tok, .max_tokens = sm->m.T, .vocab = sm->m.cfg.V,
                       .trunc = trunc && !strcmp(trunc, "left") ? SEQ_TRUNC_LEFT
                                                                : SEQ_TRUNC_ERROR,
                       .limit_name = "max-len"};
    if (seq_enc_init(&sm->se, e) < 0 ||
        rm_task_init(&sm->task, (int)batch, sm->m.T, sm->m.cfg.n_labels, e) < 0)
        return err_prefix(e, "scorer %s", s->name);
    return 0;
}

int score_model_batch(score_model *sm, size_t n, alarm_err *e)
{
    sm->nrow = 0;
    if (n <= sm->cap)
        return 0;
    /* the same need from the same capacity: every array grows alike */
    size_t c = sm->cap, c1 = c, c2 = c, c3 = c, c4 = c;
    if (grow_array(&sm->ex, &c, n, sizeof *sm->ex, 64, e) < 0 ||
        grow_array(&sm->row, &c1, n, sizeof *sm->row, 64, e) < 0 ||
        grow_array(&sm->seqs, &c2, n, sizeof *sm->seqs, 64, e) < 0 ||
        grow_array(&sm->of, &c3, n, sizeof *sm->of, 64, e) < 0 ||
        grow_array(&sm->score, &c4, n, sizeof *sm->score, 64, e) < 0)
        return -1;
    memset(sm->ex + sm->cap, 0, (c - sm->cap) * sizeof *sm->ex);
    sm->cap = c;
    return 0;
}

rm_spans *score_model_add(score_model *sm, size_t i, const char *prompt, size_t plen,
                          const char *resp, size_t rlen, score_out *o)
{
    alarm_err e = {{0}};
    rm_spans *x = &sm->ex[sm->nrow];
    if (seq_encode(&x->s, &sm->se, prompt, plen, resp, rlen, &e) < 0)
        return score_out_fail(o, "%s", e.msg), NULL;
    x->n = 0;
    sm->row[sm->nrow] = x;
    sm->seqs[sm->nrow] = &x->s;
    sm->of[sm->nrow++] = i;
    return x;
}

const char *score_model_prompt(const score_in *in, score_out *o)
{
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(in->rec, "prompt");
    if (!cJSON_IsString(p))
        return score_out_fail(o, "field \"prompt\": %s", p ? "expected a string" : "missing"),
               NULL;
    return p->valuestring;
}

void score_model_close(score_model *sm)
{
    for (size_t i = 0; i < sm->cap; i++)
        seq_free(&sm->ex[i].s);
    free(sm->ex);
    free(sm->row);
    free(sm->seqs);
    free(sm->of);
    free(sm->score);
    rm_task_free(&sm->task);
    seq_enc_free(&sm->se);
    bpe_free(sm->tok);
    tfm_free(&sm->m);
    cJSON_Delete(sm->config);
    cJSON_Delete(sm->rm);
    free(sm->dir);
    memset(sm, 0, sizeof *sm);
}

int score_model_rm_number(const score_model *sm, const char *obj, const char *key, double *out,
                          alarm_err *e)
{
    if (!sm->rm)
        return 0;
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(sm->rm, obj);
    const cJSON *v = cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
    if (!cJSON_IsNumber(v))
        return err_set(e, "%s/rm.json: field \"%s.%s\": %s", sm->dir, obj, key,
                       v ? "expected a number" : "missing");
    *out = v->valuedouble;
    return 1;
}
