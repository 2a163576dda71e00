/* gen_cfg: see gen_cfg.h. */
#include "gen_cfg.h"
#include "json_file.h"
#include "tfm_lora_ckpt.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


static const cJSON *field(const cJSON *o, const char *name)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, name);
    return f && !cJSON_IsNull(f) ? f : NULL;
}

static int get_num(const cJSON *o, const char *path, const char *name, double lo, double hi,
                   int integer, double *out, alarm_err *e)
{
    const cJSON *f = field(o, name);
    if (!f)
        return 0;
    double v = cJSON_IsNumber(f) ? f->valuedouble : NAN;
    if (!(v >= lo && v <= hi) || (integer && v != floor(v)))
        return err_set(e, "%s: field \"%s\": expected %s in [%g, %g]", path, name,
                       integer ? "an integer" : "a number", lo, hi);
    *out = v;
    return 0;
}

/* eos_token_id: one id or a list of them. */
static int get_eos(gen_cfg *g, const cJSON *o, const char *path, alarm_err *e)
{
    const cJSON *f = field(o, "eos_token_id");
    if (!f)
        return 0;
    int n = cJSON_IsArray(f) ? cJSON_GetArraySize(f) : 1;
    if (n > GEN_MAX_EOS)
        return err_set(e, "%s: field \"eos_token_id\": more than %d ids", path, GEN_MAX_EOS);
    for (int i = 0; i < n; i++) {
        const cJSON *x = cJSON_IsArray(f) ? cJSON_GetArrayItem(f, i) : f;
        double v = cJSON_IsNumber(x) ? x->valuedouble : -1;
        if (!(v >= 0 && v <= 1e9 && v == floor(v)))
            return err_set(e, "%s: field \"eos_token_id\": expected a token id or a list of them",
                           path);
        g->eos[i] = (int)v;
    }
    g->neos = n;
    return 0;
}

static int overlay(gen_cfg *g, const cJSON *o, const char *path, int full, alarm_err *e)
{
    if (!cJSON_IsObject(o))
        return err_set(e, "%s: not a JSON object", path);
    if (get_eos(g, o, path, e) < 0)
        return -1;
    if (!full) /* config.json: only the EOS ids are generation settings */
        return 0;
    double t = g->temperature, k = g->top_k, p = g->top_p, m = g->max_new_tokens;
    const cJSON *ds = field(o, "do_sample");
    if (ds && !cJSON_IsBool(ds))
        return err_set(e, "%s: field \"do_sample\": expected true or false", path);
    if (get_num(o, path, "temperature", 0, 1e6, 0, &t, e) < 0 ||
        get_num(o, path, "top_k", 0, 1e9, 1, &k, e) < 0 ||
        get_num(o, path, "top_p", 0, 1, 0, &p, e) < 0 ||
        get_num(o, path, "max_new_tokens", 1, 1e9, 1, &m, e) < 0)
        return -1;
    g->temperature = (float)t;
    g->top_k = (int)k;
    g->top_p = (float)p;
    g->max_new_tokens = (int)m;
    /* transformers: a generation_config.json without do_sample decodes greedily */
    g->do_sample = ds ? cJSON_IsTrue(ds) : 0;
    return 0;
}

int gen_cfg_load(gen_cfg *g, const char *dir, alarm_err *e)
{
    char path[4096], base[8192];
    snprintf(path, sizeof path, "%s/generation_config.json", dir);
    int full = access(path, F_OK) == 0;
    if (!full && tfm_lora_is_adapter_dir(dir)) { /* an adapter generates as its base */
        tfm_lora_opts lo;
        if (tfm_lora_read_dir(dir, &lo, base, sizeof base, e))
            return -1;
        return gen_cfg_load(g, base, e);
    }
    if (!full)
        snprintf(path, sizeof path, "%s/config.json", dir);
    cJSON *o = json_file_read(path, (size_t)1 << 20, e);
    if (!o)
        return -1;
    int rc = overlay(g, o, path, full, e);
    cJSON_Delete(o);
    g->from_file = full;
    return rc;
}

int gen_cfg_is_eos(const gen_cfg *g, int id)
{
    for (int i = 0; i < g->neos; i++)
        if (g->eos[i] == id)
            return 1;
    return 0;
}
