/* tfm_config: the architecture of a transformer checkpoint, parsed from a
 * Hugging Face config.json (GPT-2 family, Llama family incl. Qwen2/Mistral
 * and Llama-3 rope_scaling), and written back in the same vocabulary. */
#ifndef ALARM_TFM_CONFIG_H
#define ALARM_TFM_CONFIG_H

#include <stddef.h>

#include "err.h"
#include "st.h"

typedef enum { TFM_GPT2 = 0, TFM_LLAMA = 1 } tfm_arch;

/* Extra heads on top of the backbone (alarm-formats(5) section 7 names). */
typedef enum {
    TFM_CLS_NONE = 0,
    TFM_CLS_SCORE = 1, /* sequence score at the last non-padding token: score.weight */
    TFM_CLS_TOKEN = 2  /* N labels per position: score.* (Llama) / classifier.* (GPT-2) */
} tfm_cls_kind;

enum { TFM_LM_ALL = 1, TFM_LM_ROWS = 2 };

/* LoRA adapters on the matrix products (tfm_lora.h); r = 0: none. Not part
 * of config.json: an adapter directory's adapter_config.json carries them. */
enum { TFM_LORA_SLOTS = 8 }; /* adapters a layer can carry (tfm_lora_slot) */
typedef struct {
    int r;
    double alpha;       /* scale = alpha / r, as PEFT's lora_alpha */
    double dropout;     /* on the adapters' input, while dropout is on */
    unsigned targets;   /* bit s: slot s carries an adapter */
    unsigned long long seed; /* A's initialisation */
} tfm_lora_cfg;

typedef struct {
    tfm_arch arch;
    char model_type[32];   /* "gpt2", "llama", "qwen2", "mistral", ... */
    int V;                 /* vocabulary size */
    int C;                 /* hidden size */
    int L;                 /* layers */
    int NH;                /* query heads */
    int NKV;               /* key/value heads (GQA); NH for GPT-2 */
    int HS;                /* head size */
    int FF;                /* MLP inner size */
    int maxT;              /* max positions */
    int window;            /* sliding_window as written (tokens), 0 = none/null */
    int window_on;         /* some layer attends through the window; the runtime
                              attends fully, so it refuses longer sequences */
    int use_window;        /* Qwen2's use_sliding_window */
    int window_layers;     /* Qwen2's max_window_layers: layers below it attend fully */
    double eps;            /* norm epsilon (as written, so it round-trips) */
    int tied;              /* LM head shares the token embedding */
    int qkv_bias;          /* q/k/v projections have biases (GPT-2, Qwen2) */
    /* RoPE (Llama family) */
    double rope_theta;
    int rope_scaling;      /* 0 none, 1 linear, 2 llama3 */
    double rs_factor, rs_low, rs_high;
    int rs_orig_max;
    int bos_id, eos_id, pad_id; /* -1 when absent */
    /* heads */
    int lm_head;           /* TFM_LM_ALL: logits over V at every position; TFM_LM_ROWS:
                              the same head, but logits only for up to B rows at a time
                              (tfm_forward_last, tfm_token_logprobs), no (B,T,V) buffer */
    int value_head;        /* 1: trl v_head.summary (scalar per position) */
    tfm_cls_kind cls;
    int n_labels;
    /* dropout probabilities as config.json gives them (alarm-formats(5) section 7),
       applied only while a trainer turns dropout on (tfm_set_dropout) */
    double embd_pdrop, attn_pdrop, resid_pdrop; /* GPT-2's (0.1 when absent); Llama:
                                                   attention_dropout in attn_pdrop */
    double summary_pdrop; /* trl's summary_dropout_prob, the value head's (0.1) */
    /* the weights' dtype on disk ("torch_dtype"): ST_F32, ST_BF16 or ST_F16 (other
       names read as ST_F32, the compute dtype); tfm_load sets it from the tensors */
    st_dtype dtype;
    tfm_lora_cfg lora;     /* adapters to build (zero: none) */
} tfm_config;

/* Parses config.json text. Unknown architectures and missing or
 * out-of-range fields are errors. Heads: lm_head=1, others off (callers set). */
int tfm_config_parse(tfm_config *cfg, const char *json, alarm_err *e);

/* Reads DIR/config.json; for a LoRA adapter directory (adapter_config.json)
 * its base's, with cfg->lora set from the adapter's. */
int tfm_config_load(tfm_config *cfg, const char *dir, alarm_err *e);

/* The longest sequence the runtime computes exactly: max positions, or the
 * sliding window when some layer has one (up to the window, windowed and
 * full attention agree). */
int tfm_config_max_len(const tfm_config *cfg);

/* A config.json text (malloc'd) that tfm_config_parse and transformers read. */
char *tfm_config_to_json(const tfm_config *cfg);

/* The transformers class name, e.g. "GPT2LMHeadModel", "Qwen2ForCausalLM". */
void tfm_config_class(const tfm_config *cfg, char *buf, size_t n);

/* Fills cfg with a GPT-2- or Llama-shaped config of the given sizes
 * (used by tests and the benchmark). */
void tfm_config_init(tfm_config *cfg, tfm_arch arch, int V, int C, int L, int NH, int NKV,
                     int FF, int maxT);

#endif
