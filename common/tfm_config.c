/* tfm_config: config.json <-> tfm_config. Field names and defaults follow
 * transformers' GPT2Config, LlamaConfig, Qwen2Config and MistralConfig; a
 * field the runtime cannot honour (another activation, MLP biases, an unknown
 * rope_scaling type) is an error rather than a silently different model. */
#include "tfm_config.h"
#include "tfm_lora_ckpt.h"
#include "fsio.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const cJSON *field(const cJSON *o, const char *name)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, name);
    return (f && !cJSON_IsNull(f)) ? f : NULL;
}

/* An integer field in [lo, hi]; `def` when absent (def < lo means required). */
static int get_int(const cJSON *o, const char *name, int def, int lo, int hi, int *out,
                   alarm_err *e)
{
    const cJSON *f = field(o, name);
    if (!f) {
        if (def < lo)
            return err_set(e, "config.json: missing \"%s\"", name);
        *out = def;
        return 0;
    }
    /* range first: converting an out-of-range double to an integer is undefined */
    if (!cJSON_IsNumber(f) || !(f->valuedouble >= lo && f->valuedouble <= hi) ||
        f->valuedouble != (double)(long long)f->valuedouble)
        return err_set(e, "config.json: \"%s\" must be an integer in [%d, %d]", name, lo, hi);
    *out = (int)f->valuedouble;
    return 0;
}

static int get_num(const cJSON *o, const char *name, double def, double lo, double hi,
                   double *out, alarm_err *e)
{
    const cJSON *f = field(o, name);
    if (!f) {
        *out = def;
        return 0;
    }
    if (!cJSON_IsNumber(f) || !(f->valuedouble >= lo && f->valuedouble <= hi))
        return err_set(e, "config.json: \"%s\" must be a number in [%g, %g]", name, lo, hi);
    *out = f->valuedouble;
    return 0;
}

static int get_bool(const cJSON *o, const char *name, int def, int *out, alarm_err *e)
{
    const cJSON *f = field(o, name);
    if (!f) {
        *out = def;
        return 0;
    }
    if (!cJSON_IsBool(f))
        return err_set(e, "config.json: \"%s\" must be true or false", name);
    *out = cJSON_IsTrue(f);
    return 0;
}

/* A token id, or the first of a list of them (Llama 3 lists several EOS ids). */
static int get_token_id(const cJSON *o, const char *name, int *out, alarm_err *e)
{
    const cJSON *f = field(o, name);
    if (f && cJSON_IsArray(f))
        f = cJSON_GetArrayItem(f, 0);
    if (!f) {
        *out = -1;
        return 0;
    }
    if (!cJSON_IsNumber(f) || f->valuedouble < 0 || f->valuedouble > 1e9)
        return err_set(e, "config.json: \"%s\" must be a token id", name);
    *out = (int)f->valuedouble;
    return 0;
}

static int parse_gpt2(tfm_config *c, const cJSON *o, alarm_err *e)
{
    double eps;
    const cJSON *act = field(o, "activation_function");
    if (act && (!cJSON_IsString(act) || (strcmp(act->valuestring, "gelu_new") &&
                                         strcmp(act->valuestring, "gelu_pytorch_tanh"))))
        return err_set(e, "config.json: activation_function must be gelu_new");
    int nctx;
    if (get_int(o, "vocab_size", -1, 1, 1 << 24, &c->V, e) ||
        get_int(o, "n_embd", -1, 1, 1 << 16, &c->C, e) ||
        get_int(o, "n_layer", -1, 1, 1024, &c->L, e) ||
        get_int(o, "n_head", -1, 1, 1024, &c->NH, e) ||
        get_int(o, "n_ctx", 1024, 1, 1 << 22, &nctx, e) ||
        get_int(o, "n_positions", nctx, 1, 1 << 22, &c->maxT, e) ||
        get_int(o, "n_inner", 4 * c->C, 1, 1 << 20, &c->FF, e) ||
        get_num(o, "layer_norm_epsilon", 1e-5, 0, 1, &eps, e) ||
        get_num(o, "embd_pdrop", 0.1, 0, 1, &c->embd_pdrop, e) ||
        get_num(o, "attn_pdrop", 0.1, 0, 1, &c->attn_pdrop, e) ||
        get_num(o, "resid_pdrop", 0.1, 0, 1, &c->resid_pdrop, e) ||
        get_bool(o, "tie_word_embeddings", 1, &c->tied, e))
        return -1;
    if (c->C % c->NH)
        return err_set(e, "config.json: n_embd %d is not a multiple of n_head %d", c->C, c->NH);
    c->NKV = c->NH;
    c->HS = c->C / c->NH;
    c->eps = eps;
    c->qkv_bias = 1;
    return 0;
}

static int parse_rope_scaling(tfm_config *c, const cJSON *o, alarm_err *e)
{
    const cJSON *rs = field(o, "rope_scaling");
    if (!rs)
        return 0;
    if (!cJSON_IsObject(rs))
        return err_set(e, "config.json: rope_scaling must be an object");
    const cJSON *type = field(rs, "rope_type");
    if (!type)
        type = field(rs, "type");
    if (!type || !cJSON_IsString(type))
        return err_set(e, "config.json: rope_scaling has no type");
    if (!strcmp(type->valuestring, "default"))
        return 0;
    if (get_num(rs, "factor", 1, 1e-6, 1e6, &c->rs_factor, e))
        return -1;
    if (!strcmp(type->valuestring, "linear")) {
        c->rope_scaling = 1;
        return 0;
    }
    if (strcmp(type->valuestring, "llama3"))
        return err_set(e, "config.json: rope_scaling type \"%s\" is not supported",
                       type->valuestring);
    c->rope_scaling = 2;
    if (get_num(rs, "low_freq_factor", 1, 1e-6, 1e6, &c->rs_low, e) ||
        get_num(rs, "high_freq_factor", 4, 1e-6, 1e6, &c->rs_high, e) ||
        get_int(rs, "original_max_position_embeddings", 8192, 1, 1 << 24, &c->rs_orig_max, e))
        return -1;
    if (c->rs_high <= c->rs_low)
        return err_set(e, "config.json: rope_scaling high_freq_factor must exceed low_freq_factor");
    return 0;
}

/* Mistral: a non-null sliding_window applies to every layer. Qwen2: only
 * with use_sliding_window, and only to layers from max_window_layers on. */
static int parse_window(tfm_config *c, const cJSON *o, alarm_err *e)
{
    int qwen = !strcmp(c->model_type, "qwen2");
    const cJSON *w = field(o, "sliding_window");
    c->use_window = !strcmp(c->model_type, "mistral");
    c->window_layers = qwen ? c->L : 0;
    if (qwen && (get_bool(o, "use_sliding_window", 0, &c->use_window, e) ||
                 get_int(o, "max_window_layers", c->L, 0, 1 << 20, &c->window_layers, e)))
        return -1;
    if (w && !cJSON_IsNull(w) && get_int(o, "sliding_window", 0, 1, 1 << 24, &c->window, e))
        return -1;
    c->window_on = c->window > 0 && c->use_window && c->window_layers < c->L;
    return 0;
}

static int parse_llama(tfm_config *c, const cJSON *o, alarm_err *e)
{
    double eps;
    int mlp_bias;
    const cJSON *act = field(o, "hidden_act");
    if (act && (!cJSON_IsString(act) || strcmp(act->valuestring, "silu")))
        return err_set(e, "config.json: hidden_act must be silu");
    if (get_int(o, "vocab_size", -1, 1, 1 << 24, &c->V, e) ||
        get_int(o, "hidden_size", -1, 1, 1 << 16, &c->C, e) ||
        get_int(o, "intermediate_size", -1, 1, 1 << 20, &c->FF, e) ||
        get_int(o, "num_hidden_layers", -1, 1, 1024, &c->L, e) ||
        get_int(o, "num_attention_heads", -1, 1, 1024, &c->NH, e) ||
        get_int(o, "num_key_value_heads", c->NH, 1, 1024, &c->NKV, e) ||
        get_int(o, "max_position_embeddings", 2048, 1, 1 << 24, &c->maxT, e) ||
        get_num(o, "rms_norm_eps", 1e-6, 0, 1, &eps, e) ||
        get_num(o, "rope_theta", 10000, 1, 1e12, &c->rope_theta, e) ||
        get_num(o, "attention_dropout", 0, 0, 1, &c->attn_pdrop, e) ||
        get_bool(o, "tie_word_embeddings", 0, &c->tied, e) ||
        get_bool(o, "attention_bias", 0, &c->qkv_bias, e) ||
        get_bool(o, "mlp_bias", 0, &mlp_bias, e) || parse_rope_scaling(c, o, e))
        return -1;
    if (get_int(o, "head_dim", c->C / c->NH, 1, 1 << 16, &c->HS, e))
        return -1;
    if (mlp_bias)
        return err_set(e, "config.json: mlp_bias is not supported");
    if (c->NH % c->NKV)
        return err_set(e, "config.json: num_attention_heads %d is not a multiple of "
                          "num_key_value_heads %d", c->NH, c->NKV);
    if (c->HS % 2)
        return err_set(e, "config.json: head size %d must be even for RoPE", c->HS);
    if (!strcmp(c->model_type, "qwen2"))
        c->qkv_bias = 1; /* Qwen2 always has q/k/v biases and no attention_bias field */
    c->eps = eps;
    return parse_window(c, o, e);
}

int tfm_config_max_len(const tfm_config *c)
{
    return c->window_on && c->window < c->maxT ? c->window : c->maxT;
}

/* Heads named by "architectures": XForSequenceClassification / XForTokenClassification. */
static int parse_heads(tfm_config *c, const cJSON *o, alarm_err *e)
{
    c->lm_head = 1;
    const cJSON *archs = field(o, "architectures");
    const cJSON *a0 = archs && cJSON_IsArray(archs) ? cJSON_GetArrayItem(archs, 0) : NULL;
    if (!a0 || !cJSON_IsString(a0))
        return 0;
    const char *s = a0->valuestring;
    if (strstr(s, "ForSequenceClassification"))
        c->cls = TFM_CLS_SCORE;
    else if (strstr(s, "ForTokenClassification"))
        c->cls = TFM_CLS_TOKEN;
    else
        return 0;
    c->lm_head = 0;
    const cJSON *id2label = field(o, "id2label");
    int def = id2label && cJSON_IsObject(id2label) ? cJSON_GetArraySize(id2label) : 2;
    return get_int(o, "num_labels", def, 1, 1 << 16, &c->n_labels, e);
}

/* "torch_dtype" (transformers since 2025 writes "dtype"): informative only,
 * so a name we cannot write ("auto", "float64") is not an error. */
static st_dtype parse_dtype(const cJSON *o)
{
    const cJSON *f = field(o, "torch_dtype");
    if (!f)
        f = field(o, "dtype");
    const char *s = cJSON_IsString(f) ? f->valuestring : "";
    return !strcmp(s, "bfloat16") ? ST_BF16 : !strcmp(s, "float16") ? ST_F16 : ST_F32;
}

int tfm_config_parse(tfm_config *c, const char *json, alarm_err *e)
{
    memset(c, 0, sizeof *c);
    cJSON *o = cJSON_Parse(json);
    if (!o || !cJSON_IsObject(o)) {
        cJSON_Delete(o);
        return err_set(e, "config.json: not a JSON object");
    }
    int rc = -1;
    const cJSON *mt = field(o, "model_type");
    if (!mt || !cJSON_IsString(mt)) {
        err_set(e, "config.json: missing \"model_type\"");
        goto out;
    }
    snprintf(c->model_type, sizeof c->model_type, "%s", mt->valuestring);
    if (!strcmp(mt->valuestring, "gpt2")) {
        c->arch = TFM_GPT2;
        rc = parse_gpt2(c, o, e);
    } else if (!strcmp(mt->valuestring, "llama") || !strcmp(mt->valuestring, "qwen2") ||
               !strcmp(mt->valuestring, "mistral")) {
        c->arch = TFM_LLAMA;
        rc = parse_llama(c, o, e);
    } else {
        err_set(e, "config.json: unsupported model_type \"%s\" (gpt2, llama, qwen2, mistral)",
                mt->valuestring);
        goto out;
    }
    if (rc == 0 && (get_token_id(o, "bos_token_id", &c->bos_id, e) ||
                    get_token_id(o, "eos_token_id", &c->eos_id, e) ||
                    get_token_id(o, "pad_token_id", &c->pad_id, e) || parse_heads(c, o, e) ||
                    get_num(o, "summary_dropout_prob", 0.1, 0, 1, &c->summary_pdrop, e)))
        rc = -1;
    c->dtype = parse_dtype(o);
out:
    cJSON_Delete(o);
    return rc;
}

int tfm_config_load(tfm_config *c, const char *dir, alarm_err *e)
{
    if (tfm_lora_is_adapter_dir(dir)) { /* its base's architecture, with its adapters */
        tfm_lora_opts o;
        char base[8192];
        if (tfm_lora_read_dir(dir, &o, base, sizeof base, e) || tfm_config_load(c, base, e))
            return -1;
        return tfm_lora_configure(c, &o, e) ? err_prefix(e, "%s", dir) : 0;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/config.json", dir);
    size_t n;
    char *buf = fsio_read_file(path, (size_t)64 << 20, &n, e);
    if (!buf)
        return -1;
    int rc = tfm_config_parse(c, buf, e);
    free(buf);
    return rc ? err_prefix(e, "%s", dir) : 0;
}

void tfm_config_class(const tfm_config *c, char *buf, size_t n)
{
    const char *fam = c->arch == TFM_GPT2 ? "GPT2" : !strcmp(c->model_type, "qwen2") ? "Qwen2"
                      : !strcmp(c->model_type, "mistral") ? "Mistral" : "Llama";
    const char *kind = c->cls == TFM_CLS_SCORE   ? "ForSequenceClassification"
                       : c->cls == TFM_CLS_TOKEN ? "ForTokenClassification"
                       : c->arch == TFM_GPT2     ? "LMHeadModel"
                                                 : "ForCausalLM";
    snprintf(buf, n, "%s%s", fam, kind);
}

static void add_id(cJSON *o, const char *name, int id)
{
    if (id >= 0)
        cJSON_AddNumberToObject(o, name, id);
}

/* The sliding-window fields as they were read (Mistral, Qwen2). */
static void add_window(cJSON *o, const tfm_config *c)
{
    int qwen = !strcmp(c->model_type, "qwen2");
    if (!qwen && strcmp(c->model_type, "mistral"))
        return;
    if (c->window)
        cJSON_AddNumberToObject(o, "sliding_window", c->window);
    else
        cJSON_AddNullToObject(o, "sliding_window");
    if (qwen) {
        cJSON_AddBoolToObject(o, "use_sliding_window", c->use_window);
        cJSON_AddNumberToObject(o, "max_window_layers", c->window_layers);
    }
}

char *tfm_config_to_json(const tfm_config *c)
{
    char cls[64];
    tfm_config_class(c, cls, sizeof cls);
    cJSON *o = cJSON_CreateObject(), *archs = cJSON_AddArrayToObject(o, "architectures");
    cJSON_AddItemToArray(archs, cJSON_CreateString(cls));
    cJSON_AddStringToObject(o, "model_type", c->model_type);
    cJSON_AddNumberToObject(o, "vocab_size", c->V);
    if (c->arch == TFM_GPT2) {
        cJSON_AddNumberToObject(o, "n_embd", c->C);
        cJSON_AddNumberToObject(o, "n_layer", c->L);
        cJSON_AddNumberToObject(o, "n_head", c->NH);
        cJSON_AddNumberToObject(o, "n_positions", c->maxT);
        cJSON_AddNumberToObject(o, "n_ctx", c->maxT);
        cJSON_AddNumberToObject(o, "n_inner", c->FF);
        cJSON_AddNumberToObject(o, "layer_norm_epsilon", c->eps);
        cJSON_AddNumberToObject(o, "embd_pdrop", c->embd_pdrop);
        cJSON_AddNumberToObject(o, "attn_pdrop", c->attn_pdrop);
        cJSON_AddNumberToObject(o, "resid_pdrop", c->resid_pdrop);
        cJSON_AddStringToObject(o, "activation_function", "gelu_new");
    } else {
        cJSON_AddNumberToObject(o, "hidden_size", c->C);
        cJSON_AddNumberToObject(o, "intermediate_size", c->FF);
        cJSON_AddNumberToObject(o, "num_hidden_layers", c->L);
        cJSON_AddNumberToObject(o, "num_attention_heads", c->NH);
        cJSON_AddNumberToObject(o, "num_key_value_heads", c->NKV);
        cJSON_AddNumberToObject(o, "head_dim", c->HS);
        cJSON_AddNumberToObject(o, "max_position_embeddings", c->maxT);
        cJSON_AddNumberToObject(o, "rms_norm_eps", c->eps);
        cJSON_AddNumberToObject(o, "rope_theta", c->rope_theta);
        cJSON_AddNumberToObject(o, "attention_dropout", c->attn_pdrop);
        cJSON_AddStringToObject(o, "hidden_act", "silu");
        if (strcmp(c->model_type, "qwen2"))
            cJSON_AddBoolToObject(o, "attention_bias", c->qkv_bias);
        add_window(o, c);
        if (c->rope_scaling) {
            cJSON *rs = cJSON_AddObjectToObject(o, "rope_scaling");
            cJSON_AddStringToObject(rs, "rope_type", c->rope_scaling == 1 ? "linear" : "llama3");
            cJSON_AddNumberToObject(rs, "factor", c->rs_factor);
            if (c->rope_scaling == 2) {
                cJSON_AddNumberToObject(rs, "low_freq_factor", c->rs_low);
                cJSON_AddNumberToObject(rs, "high_freq_factor", c->rs_high);
                cJSON_AddNumberToObject(rs, "original_max_position_embeddings", c->rs_orig_max);
            }
        }
    }
    cJSON_AddBoolToObject(o, "tie_word_embeddings", c->tied);
    add_id(o, "bos_token_id", c->bos_id);
    add_id(o, "eos_token_id", c->eos_id);
    add_id(o, "pad_token_id", c->pad_id);
    if (c->value_head) /* trl reads it from the backbone's config */
        cJSON_AddNumberToObject(o, "summary_dropout_prob", c->summary_pdrop);
    if (c->cls != TFM_CLS_NONE) {
        cJSON_AddNumberToObject(o, "num_labels", c->n_labels);
        cJSON *map = cJSON_AddObjectToObject(o, "id2label");
        for (int i = 0; i < c->n_labels; i++) {
            char k[16], v[24];
            snprintf(k, sizeof k, "%d", i);
            snprintf(v, sizeof v, "LABEL_%d", i);
            cJSON_AddStringToObject(map, k, v);
        }
    }
    cJSON_AddStringToObject(o, "torch_dtype", c->dtype == ST_BF16  ? "bfloat16"
                                              : c->dtype == ST_F16 ? "float16"
                                                                   : "float32");
    char *s = cJSON_Print(o);
    cJSON_Delete(o);
    return s;
}

void tfm_config_init(tfm_config *c, tfm_arch arch, int V, int C, int L, int NH, int NKV,
                     int FF, int maxT)
{
    memset(c, 0, sizeof *c);
    c->arch = arch;
    snprintf(c->model_type, sizeof c->model_type, "%s", arch == TFM_GPT2 ? "gpt2" : "llama");
    c->V = V;
    c->C = C;
    c->L = L;
    c->NH = NH;
    c->NKV = arch == TFM_GPT2 ? NH : NKV;
    c->HS = C / NH;
    c->FF = FF ? FF : 4 * C;
    c->maxT = maxT;
    c->eps = arch == TFM_GPT2 ? 1e-5 : 1e-6;
    c->tied = arch == TFM_GPT2;
    c->qkv_bias = arch == TFM_GPT2;
    c->rope_theta = 10000;
    c->bos_id = c->eos_id = c->pad_id = -1;
    c->lm_head = 1;
    /* GPT2Config's, LlamaConfig's and trl's defaults, as parsing an absent key gives */
    double p = arch == TFM_GPT2 ? 0.1 : 0.0;
    c->embd_pdrop = c->attn_pdrop = c->resid_pdrop = p;
    c->summary_pdrop = 0.1;
}
