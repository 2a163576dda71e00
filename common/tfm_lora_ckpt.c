/* tfm_lora_ckpt: adapter directories as PEFT writes them (alarm-checkpoints(7)):
 * adapter_config.json, adapter_model.safetensors with PEFT's names
 * ("base_model.model." + the module path + ".lora_A.weight"), and the
 * trained heads beside them in model.safetensors as trl saves its v_head.
 * The base is base_model_name_or_path: a relative path is looked up in the
 * adapter directory first, then in the working directory. */
#include "json_file.h"
#include "tfm_lora_ckpt.h"

#include <cjson/cJSON.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "st.h"
#include "tfm_lora.h"

static const char PREFIX[] = "base_model.model.";

int tfm_lora_is_adapter_dir(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/adapter_config.json", dir);
    return access(path, F_OK) == 0;
}

static int targets_of(const cJSON *t, char *buf, size_t n, const char *path, alarm_err *e)
{
    if (cJSON_IsString(t)) { /* PEFT also takes one name (its regex form is not supported) */
        snprintf(buf, n, "%s", t->valuestring);
        return 0;
    }
    if (!cJSON_IsArray(t) || !cJSON_GetArraySize(t))
        return err_set(e, "%s: field \"target_modules\": expected a list of module names", path);
    size_t k = 0;
    buf[0] = '\0';
    const cJSON *x;
    cJSON_ArrayForEach(x, t) {
        if (!cJSON_IsString(x) || strchr(x->valuestring, ','))
            return err_set(e, "%s: field \"target_modules\": expected module names", path);
        k += (size_t)snprintf(buf + k, k < n ? n - k : 0, "%s%s", k ? "," : "", x->valuestring);
    }
    return k < n ? 0 : err_set(e, "%s: field \"target_modules\": too long", path);
}

/* Field `name` of o as a number in [lo, hi] (integer when `whole`), into *v;
 * absent: *v stays (a default) unless `need`. */
static int num_field(const cJSON *o, const char *name, double lo, double hi, int whole, int need,
                     double *v, const char *path, alarm_err *e)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!f && !need)
        return 0;
    if (!cJSON_IsNumber(f) || !(f->valuedouble >= lo && f->valuedouble <= hi) ||
        (whole && f->valuedouble != (long)f->valuedouble))
        return err_set(e, "%s: field \"%s\": expected a%s number in [%g, %g]", path, name,
                       whole ? "n integer" : "", lo, hi);
    *v = f->valuedouble;
    return 0;
}

static const char *str_field(const cJSON *o, const char *name)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(f) ? f->valuestring : NULL;
}

static int parse_config(const cJSON *j, tfm_lora_opts *o, char *base, size_t nb,
                        const char *path, alarm_err *e)
{
    const char *type = str_field(j, "peft_type"), *bias = str_field(j, "bias");
    const char *b = str_field(j, "base_model_name_or_path");
    double r = 0;
    if (!type || strcmp(type, "LORA"))
        return err_set(e, "%s: field \"peft_type\": expected \"LORA\"", path);
    if (num_field(j, "r", 1, 4096, 1, 1, &r, path, e) ||
        num_field(j, "lora_alpha", 1e-6, 1e6, 0, 1, &o->alpha, path, e) ||
        num_field(j, "lora_dropout", 0, 0.999, 0, 0, &o->dropout, path, e))
        return -1;
    o->r = (int)r;
    if (bias && strcmp(bias, "none"))
        return err_set(e, "%s: field \"bias\": only \"none\" is supported", path);
    if (!b || !*b)
        return err_set(e, "%s: field \"base_model_name_or_path\": expected the base "
                          "checkpoint's path", path);
    snprintf(base, nb, "%s", b);
    return targets_of(cJSON_GetObjectItemCaseSensitive(j, "target_modules"), o->targets,
                      sizeof o->targets, path, e);
}

static int read_config(const char *dir, tfm_lora_opts *o, char *base, size_t nb, alarm_err *e)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/adapter_config.json", dir);
    cJSON *j = json_file_read(path, (size_t)1 << 20, e);
    if (!j)
        return -1;
    memset(o, 0, sizeof *o);
    int rc = parse_config(j, o, base, nb, path, e);
    cJSON_Delete(j);
    return rc;
}

/* The base directory: absolute as given, relative in the adapter
 * directory when a checkpoint is there, else from the working directory. */
static void resolve_base(const char *dir, const char *base, char *out, size_t n)
{
    char probe[8192];
    snprintf(out, n, "%s", base);
    if (base[0] == '/')
        return;
    snprintf(probe, sizeof probe, "%s/%s/config.json", dir, base);
    if (access(probe, F_OK) == 0)
        snprintf(out, n, "%s/%s", dir, base);
}

/* Reads every tensor of m the file must hold (adapters, or the trained
 * heads) under prefix + its name. */
static int read_tensors(tfm_model *m, const char *path, int adapters, const char *prefix,
                        alarm_err *e)
{
    st_set *s = NULL;
    if (st_open(&s, path, e))
        return -1;
    int rc = 0;
    size_t want = 0;
    for (int i = 0; !rc && i < m->ntab; i++) {
        const tfm_tensor *t = &m->tab[i];
        if (t->offset < m->toff || tfm_lora_is_adapter(t) != adapters)
            continue;
        char name[160];
        snprintf(name, sizeof name, "%s%s", prefix, t->name);
        const st_tensor *x = st_find(s, name);
        want++;
        if (!x)
            rc = err_set(e, "%s: tensor %s is missing", path, name);
        else if (x->numel != t->numel || x->ndim != t->ndim || x->shape[0] != t->shape[0])
            rc = err_set(e, "%s: tensor %s has the wrong shape (expected [%lld, %lld])", path,
                         name, (long long)t->shape[0], (long long)t->shape[1]);
        else
            rc = st_to_f32(x, m->params + t->offset, e);
    }
    /* a file with more adapters than the config asks for was not written for it */
    if (!rc && adapters && st_count(s) != want)
        rc = err_set(e, "%s: holds %zu tensors, adapter_config.json's targets make %zu", path,
                     st_count(s), want);
    st_close(s);
    return rc;
}

/* The trained heads in DIR/model.safetensors, when there is one: trl's
 * v_head, or a reward model's score (no bias) or token classifier. So the
 * config (tfm_config_load) and the load agree on the heads. */
static int read_heads(const char *dir, tfm_lora_opts *o, alarm_err *e)
{
    char heads[4096];
    snprintf(heads, sizeof heads, "%s/model.safetensors", dir);
    if (access(heads, F_OK) != 0)
        return 0;
    st_set *s = NULL;
    if (st_open(&s, heads, e))
        return -1;
    o->value_head = st_find(s, "v_head.summary.weight") != NULL;
    const st_tensor *w = st_find(s, "score.weight");
    if (!w)
        w = st_find(s, "classifier.weight");
    if (w && w->ndim == 2) {
        o->cls = st_find(s, "score.bias") || st_find(s, "classifier.bias") ? TFM_CLS_TOKEN
                                                                         : TFM_CLS_SCORE;
        o->n_labels = (int)w->shape[0];
    }
    st_close(s);
    return 0;
}

int tfm_lora_read_dir(const char *dir, tfm_lora_opts *o, char *bdir, size_t n, alarm_err *e)
{
    char base[4096];
    if (read_config(dir, o, base, sizeof base, e))
        return -1;
    resolve_base(dir, base, bdir, n);
    if (tfm_lora_is_adapter_dir(bdir)) /* also what keeps a self-reference from looping */
        return err_set(e, "%s/adapter_config.json: field \"base_model_name_or_path\": %s is an "
                          "adapter directory itself (stacked adapters are not supported)",
                       dir, bdir);
    return read_heads(dir, o, e);
}

int tfm_lora_load_dir(tfm_model *m, const char *dir, int B, int T, int flags, alarm_err *e)
{
    tfm_lora_opts o;
    char bdir[8192], heads[4096], ad[4096];
    memset(m, 0, sizeof *m);
    if (tfm_lora_read_dir(dir, &o, bdir, sizeof bdir, e))
        return -1;
    snprintf(heads, sizeof heads, "%s/model.safetensors", dir);
    snprintf(ad, sizeof ad, "%s/adapter_model.safetensors", dir);
    int has_heads = access(heads, F_OK) == 0;
    if (o.value_head)
        flags |= TFM_LOAD_VALUE_HEAD;
    if (tfm_load_lora(m, bdir, &o, B, T, flags, e))
        return err_prefix(e, "%s: base_model_name_or_path \"%s\"", dir, bdir);
    if (read_tensors(m, ad, 1, PREFIX, e) || (has_heads && read_tensors(m, heads, 0, "", e)) ||
        (!(flags & TFM_LOAD_NO_CHECK) && tfm_check_finite(m, e))) {
        tfm_free(m);
        return -1;
    }
    return 0;
}

static char *config_json(const tfm_model *m)
{
    const tfm_lora_cfg *l = &m->cfg.lora;
    char names[256];
    tfm_lora_target_names(&m->cfg, l->targets, names, sizeof names);
    cJSON *j = cJSON_CreateObject(), *t = cJSON_AddArrayToObject(j, "target_modules");
    for (char *p = strtok(names, ","); p; p = strtok(NULL, ","))
        cJSON_AddItemToArray(t, cJSON_CreateString(p));
    cJSON_AddStringToObject(j, "base_model_name_or_path", m->lora.base);
    cJSON_AddStringToObject(j, "bias", "none");
    cJSON_AddBoolToObject(j, "fan_in_fan_out", m->cfg.arch == TFM_GPT2); /* Conv1D */
    cJSON_AddBoolToObject(j, "inference_mode", 1);
    cJSON_AddBoolToObject(j, "init_lora_weights", 1);
    cJSON_AddNumberToObject(j, "lora_alpha", l->alpha);
    cJSON_AddNumberToObject(j, "lora_dropout", l->dropout);
    cJSON_AddNullToObject(j, "modules_to_save");
    cJSON_AddStringToObject(j, "peft_type", "LORA");
    cJSON_AddNumberToObject(j, "r", l->r);
    cJSON_AddStringToObject(j, "task_type", m->cfg.cls == TFM_CLS_SCORE   ? "SEQ_CLS"
                                            : m->cfg.cls == TFM_CLS_TOKEN ? "TOKEN_CLS"
                                                                          : "CAUSAL_LM");
    char *s = cJSON_Print(j);
    cJSON_Delete(j);
    return s;
}

/* The adapters (PEFT's names) or the trained heads (their own) of m. */
static int write_tensors(const tfm_model *m, const char *path, int adapters, alarm_err *e)
{
    st_out *outs = calloc((size_t)m->ntab, sizeof *outs);
    char (*names)[160] = calloc((size_t)m->ntab, sizeof *names);
    size_t n = 0;
    int rc = outs && names ? 0 : err_set(e, "out of memory");
    for (int i = 0; !rc && i < m->ntab; i++) {
        const tfm_tensor *t = &m->tab[i];
        if (t->offset < m->toff || tfm_lora_is_adapter(t) != adapters)
            continue;
        snprintf(names[n], sizeof *names, "%s%s", adapters ? PREFIX : "", t->name);
        outs[n] = (st_out){names[n], m->params + t->offset, t->ndim, {t->shape[0], t->shape[1]}};
        n++;
    }
    static const char *const meta[] = {"format", "pt", NULL};
    if (!rc && n)
        rc = st_write(path, outs, n, ST_F32, meta, e);
    free(outs);
    free(names);
    return rc;
}

int tfm_lora_write(const tfm_model *m, const ckpt_writer *w, alarm_err *e)
{
    char path[8192];
    char *json = config_json(m);
    int rc = json ? ckpt_write_file(w, "adapter_config.json", json, strlen(json), e)
                  : err_set(e, "out of memory");
    free(json);
    if (!rc && !ckpt_path(w, "adapter_model.safetensors", path, sizeof path))
        rc = err_set(e, "checkpoint path too long");
    if (!rc)
        rc = write_tensors(m, path, 1, e);
    if (!rc && !ckpt_path(w, "model.safetensors", path, sizeof path))
        rc = err_set(e, "checkpoint path too long");
    if (!rc)
        rc = write_tensors(m, path, 0, e);
    return rc;
}

void tfm_lora_set_base(tfm_model *m, const char *dir)
{
    char abs[PATH_MAX];
    snprintf(m->lora.base, sizeof m->lora.base, "%s", realpath(dir, abs) ? abs : dir);
}
