/* alarm-model info DIR: a checkpoint's architecture, sizes, dtype and
 * parameter count as one JSON object on stdout. The weights are loaded,
 * so a checkpoint that info accepts is one the runtime can run. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_cmds.h"
#include "opt.h"
#include "out.h"
#include "st.h"
#include "tfm.h"
#include "tfm_ckpt.h"
#include "tfm_lora.h"

/* "F32", "BF16", ... or "mixed" with the list, over the tensors the model uses. */
static void add_dtype(cJSON *o, const st_set *s, const tfm_model *m)
{
    char seen[8][16];
    int n = 0;
    for (size_t i = 0; i < st_count(s); i++) {
        const st_tensor *t = st_at(s, i);
        if (!tfm_find(m, t->name))
            continue;
        int k = 0;
        while (k < n && strcmp(seen[k], t->dtype_name))
            k++;
        if (k == n && n < 8)
            snprintf(seen[n++], sizeof seen[0], "%s", t->dtype_name);
    }
    if (n == 1) {
        cJSON_AddStringToObject(o, "dtype", seen[0]);
        return;
    }
    cJSON_AddStringToObject(o, "dtype", "mixed");
    cJSON *a = cJSON_AddArrayToObject(o, "dtypes");
    for (int k = 0; k < n; k++)
        cJSON_AddItemToArray(a, cJSON_CreateString(seen[k]));
}

/* An adapter directory's LoRA: its settings, base and the adapter tensors
 * by the names adapter_model.safetensors holds. */
static void add_lora(cJSON *o, const tfm_model *m)
{
    const tfm_lora_cfg *l = &m->cfg.lora;
    char names[256];
    cJSON *j = cJSON_AddObjectToObject(o, "lora");
    cJSON_AddNumberToObject(j, "r", l->r);
    cJSON_AddNumberToObject(j, "alpha", l->alpha);
    cJSON_AddNumberToObject(j, "dropout", l->dropout);
    tfm_lora_target_names(&m->cfg, l->targets, names, sizeof names);
    cJSON_AddStringToObject(j, "targets", names);
    cJSON_AddStringToObject(j, "base", m->lora.base);
    cJSON_AddNumberToObject(j, "trainable_parameters", (double)m->ntrain);
    cJSON *a = cJSON_AddArrayToObject(j, "adapter_tensors");
    for (int i = 0; i < m->ntab; i++)
        if (tfm_lora_is_adapter(&m->tab[i])) {
            char n[160];
            snprintf(n, sizeof n, "base_model.model.%s", m->tab[i].name);
            cJSON_AddItemToArray(a, cJSON_CreateString(n));
        }
}

static cJSON *describe(const char *dir, const tfm_model *m, const st_set *s)
{
    const tfm_config *c = &m->cfg;
    char cls[64];
    tfm_config_class(c, cls, sizeof cls);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "dir", dir);
    cJSON_AddStringToObject(o, "architecture", cls);
    cJSON_AddStringToObject(o, "model_type", c->model_type);
    cJSON_AddStringToObject(o, "family", c->arch == TFM_GPT2 ? "gpt2" : "llama");
    cJSON_AddNumberToObject(o, "vocab_size", c->V);
    cJSON_AddNumberToObject(o, "hidden_size", c->C);
    cJSON_AddNumberToObject(o, "layers", c->L);
    cJSON_AddNumberToObject(o, "attention_heads", c->NH);
    cJSON_AddNumberToObject(o, "kv_heads", c->NKV);
    cJSON_AddNumberToObject(o, "head_dim", c->HS);
    cJSON_AddNumberToObject(o, "intermediate_size", c->FF);
    cJSON_AddNumberToObject(o, "max_positions", c->maxT);
    if (c->window_on)
        cJSON_AddNumberToObject(o, "sliding_window", c->window);
    cJSON_AddNumberToObject(o, "max_length", tfm_config_max_len(c)); /* what alarm computes */
    cJSON_AddBoolToObject(o, "tied_embeddings", c->tied);
    cJSON_AddBoolToObject(o, "qkv_bias", c->qkv_bias);
    if (c->arch == TFM_LLAMA) {
        cJSON_AddNumberToObject(o, "rope_theta", c->rope_theta);
        if (c->rope_scaling)
            cJSON_AddStringToObject(o, "rope_scaling", c->rope_scaling == 1 ? "linear" : "llama3");
        else
            cJSON_AddNullToObject(o, "rope_scaling");
    }
    cJSON *heads = cJSON_AddArrayToObject(o, "heads");
    if (c->lm_head)
        cJSON_AddItemToArray(heads, cJSON_CreateString("lm"));
    if (c->value_head)
        cJSON_AddItemToArray(heads, cJSON_CreateString("value"));
    if (c->cls)
        cJSON_AddItemToArray(heads, cJSON_CreateString(c->cls == TFM_CLS_SCORE ? "score" : "token"));
    if (c->cls)
        cJSON_AddNumberToObject(o, "labels", c->n_labels);
    add_dtype(o, s, m);
    cJSON_AddNumberToObject(o, "parameters", (double)m->nparams);
    cJSON_AddNumberToObject(o, "matmul_parameters", (double)tfm_matmul_params(m));
    cJSON_AddNumberToObject(o, "tensors", m->ntab);
    if (c->lora.r)
        add_lora(o, m);
    return o;
}

static const tool_spec spec = {
    .name = "alarm-model",
    .cmd = "info",
    .id = TOOL_MODEL_INFO,
    .usage = "alarm-model info DIR",
    .about = "Prints a checkpoint's architecture, sizes, dtype and parameter count as JSON\n"
             "(an adapter directory: its base's, and the adapters under \"lora\").\n",
    .page = "alarm-model(1)",
};

int model_cmd_info(int argc, char **argv)
{
    tool t;
    int status = opt_parse(&t, &spec, NULL, argc, argv);
    if (status >= 0)
        return status;
    if (t.nargs != 1)
        return tool_usage(&t, "info takes one checkpoint directory");
    const char *dir = t.args[0];
    alarm_err e;
    tfm_model m;
    st_set *s = NULL;
    if (tfm_load(&m, dir, 1, 1, 0, &e) < 0)
        return tool_fail(&t, e.msg);
    if (st_open(&s, m.cfg.lora.r ? m.lora.base : dir, &e) < 0) { /* the base's weights */
        tfm_free(&m);
        return tool_fail(&t, e.msg);
    }
    cJSON *o = describe(dir, &m, s);
    char *txt = cJSON_PrintUnformatted(o);
    status = txt ? TOOL_OK : tool_fail(&t, "out of memory");
    if (txt)
        puts(txt);
    free(txt);
    cJSON_Delete(o);
    st_close(s);
    tfm_free(&m);
    return tool_finish(&t, status);
}
