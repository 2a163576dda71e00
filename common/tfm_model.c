/* tfm_model: the parameter table with Hugging Face names, the one-allocation
 * buffers (parameters, gradients, moments, activations) and build/free.
 * Names are those transformers saves for the LM-head classes
 * (GPT2LMHeadModel, LlamaForCausalLM, ...); tfm_find also accepts them
 * without the "transformer."/"model." prefix, as the base classes save them. */
#include "tfm.h"
#include "rng.h"
#include "tfm_lora.h"
#include "tfm_ops.h"

#include <math.h>
#include <omp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <cblas.h>

int tfm_check_len(const tfm_config *c, int B, int T, alarm_err *e)
{
    int max = tfm_config_max_len(c);
    if (B >= 1 && T >= 1 && T <= max)
        return 0;
    if (T > max && max < c->maxT)
        return err_set(e, "length %d exceeds the sliding window of %d tokens: attention "
                          "through a window is not implemented", T, max);
    return err_set(e, "batch %d x length %d out of range (length at most %d)", B, T, max);
}

float *tfm_alloc_floats(size_t n)
{
    enum { HUGE_PAGE = 2 << 20 };
    size_t bytes = (n ? n : 1) * sizeof(float);
    void *p = NULL;
    if (posix_memalign(&p, bytes >= HUGE_PAGE ? HUGE_PAGE : 64, bytes))
        return NULL;
#ifdef MADV_HUGEPAGE
    /* Before the first touch, so the kernel can back it with 2 MB pages:
     * decode steps walk weight matrices down their columns, one TLB entry
     * per row with 4 KB pages. Advice only: failure changes nothing. */
    if (bytes >= HUGE_PAGE)
        madvise(p, bytes, MADV_HUGEPAGE);
#endif
    memset(p, 0, bytes);
    return p;
}

typedef struct {
    tfm_model *m;
    size_t off;
    int cap;
} table_builder;

static void add(table_builder *tb, int layer, int role, int decay, int64_t d0, int64_t d1,
                const char *fmt, ...)
{
    tfm_model *m = tb->m;
    tfm_tensor *t = &m->tab[m->ntab++];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->name, sizeof t->name, fmt, ap);
    va_end(ap);
    t->offset = tb->off;
    t->ndim = d1 ? 2 : 1;
    t->shape[0] = d0;
    t->shape[1] = d1;
    t->numel = (size_t)d0 * (size_t)(d1 ? d1 : 1);
    t->decay = decay;
    if (role >= 0)
        m->role[(size_t)(layer + 1) * TW_NLAYER_ROLES + role] = tb->off;
    tb->off += t->numel;
}

static void gpt2_table(table_builder *tb, const tfm_config *c)
{
    int C = c->C, FF = c->FF;
    add(tb, -1, TG_WTE, 1, c->V, C, "transformer.wte.weight");
    add(tb, -1, TG_WPE, 1, c->maxT, C, "transformer.wpe.weight");
    for (int l = 0; l < c->L; l++) {
        add(tb, l, TW_LN1_W, 0, C, 0, "transformer.h.%d.ln_1.weight", l);
        add(tb, l, TW_LN1_B, 0, C, 0, "transformer.h.%d.ln_1.bias", l);
        add(tb, l, TW_QKV_W, 1, C, 3 * C, "transformer.h.%d.attn.c_attn.weight", l);
        add(tb, l, TW_QKV_B, 0, 3 * C, 0, "transformer.h.%d.attn.c_attn.bias", l);
        add(tb, l, TW_O_W, 1, C, C, "transformer.h.%d.attn.c_proj.weight", l);
        add(tb, l, TW_O_B, 0, C, 0, "transformer.h.%d.attn.c_proj.bias", l);
        add(tb, l, TW_LN2_W, 0, C, 0, "transformer.h.%d.ln_2.weight", l);
        add(tb, l, TW_LN2_B, 0, C, 0, "transformer.h.%d.ln_2.bias", l);
        add(tb, l, TW_FC_W, 1, C, FF, "transformer.h.%d.mlp.c_fc.weight", l);
        add(tb, l, TW_FC_B, 0, FF, 0, "transformer.h.%d.mlp.c_fc.bias", l);
        add(tb, l, TW_PROJ_W, 1, FF, C, "transformer.h.%d.mlp.c_proj.weight", l);
        add(tb, l, TW_PROJ_B, 0, C, 0, "transformer.h.%d.mlp.c_proj.bias", l);
    }
    add(tb, -1, TG_LNF_W, 0, C, 0, "transformer.ln_f.weight");
    add(tb, -1, TG_LNF_B, 0, C, 0, "transformer.ln_f.bias");
}

static void llama_table(table_builder *tb, const tfm_config *c)
{
    int C = c->C, FF = c->FF, QD = c->NH * c->HS, KD = c->NKV * c->HS;
    add(tb, -1, TG_WTE, 1, c->V, C, "model.embed_tokens.weight");
    for (int l = 0; l < c->L; l++) {
        const char *p = "model.layers";
        add(tb, l, TW_LN1_W, 0, C, 0, "%s.%d.input_layernorm.weight", p, l);
        /* q, k, v adjacent: one (QKV, C) matrix; their biases likewise. */
        add(tb, l, TW_QKV_W, 1, QD, C, "%s.%d.self_attn.q_proj.weight", p, l);
        add(tb, l, -1, 1, KD, C, "%s.%d.self_attn.k_proj.weight", p, l);
        add(tb, l, -1, 1, KD, C, "%s.%d.self_attn.v_proj.weight", p, l);
        if (c->qkv_bias) {
            add(tb, l, TW_QKV_B, 0, QD, 0, "%s.%d.self_attn.q_proj.bias", p, l);
            add(tb, l, -1, 0, KD, 0, "%s.%d.self_attn.k_proj.bias", p, l);
            add(tb, l, -1, 0, KD, 0, "%s.%d.self_attn.v_proj.bias", p, l);
        }
        add(tb, l, TW_O_W, 1, C, QD, "%s.%d.self_attn.o_proj.weight", p, l);
        add(tb, l, TW_LN2_W, 0, C, 0, "%s.%d.post_attention_layernorm.weight", p, l);
        add(tb, l, TW_FC_W, 1, FF, C, "%s.%d.mlp.gate_proj.weight", p, l);
        add(tb, l, -1, 1, FF, C, "%s.%d.mlp.up_proj.weight", p, l);
        add(tb, l, TW_PROJ_W, 1, C, FF, "%s.%d.mlp.down_proj.weight", p, l);
    }
    add(tb, -1, TG_LNF_W, 0, C, 0, "model.norm.weight");
}

/* The adapters after every other tensor, so with the heads before them
 * they are the trainable span; PEFT's module paths, its lora_A/lora_B. */
static int lora_table(table_builder *tb, const tfm_config *c, alarm_err *e)
{
    tfm_model *m = tb->m;
    tfm_lora_slot sl[TFM_LORA_SLOTS];
    int ns = tfm_lora_slots(c, sl);
    m->lora.ad = malloc((size_t)c->L * TFM_LORA_SLOTS * sizeof *m->lora.ad);
    if (!m->lora.ad)
        return err_set(e, "out of memory for the adapters' table");
    for (int l = 0; l < c->L; l++)
        for (int s = 0; s < TFM_LORA_SLOTS; s++) {
            tfm_lora_ad *ad = &m->lora.ad[l * TFM_LORA_SLOTS + s];
            ad->a = ad->b = SIZE_MAX;
            ad->u = NULL;
            if (s >= ns || !(c->lora.targets >> s & 1))
                continue;
            char path[80];
            snprintf(path, sizeof path, sl[s].path, l);
            ad->a = tb->off;
            add(tb, -1, -1, 1, c->lora.r, sl[s].in, "%s.lora_A.weight", path);
            ad->b = tb->off;
            add(tb, -1, -1, 1, sl[s].out, c->lora.r, "%s.lora_B.weight", path);
        }
    return 0;
}

static int build_table(tfm_model *m, alarm_err *e)
{
    const tfm_config *c = &m->cfg;
    size_t nrole = (size_t)(c->L + 1) * TW_NLAYER_ROLES;
    int cap = 16 + (16 + 2 * TFM_LORA_SLOTS) * c->L;
    m->tab = calloc((size_t)cap, sizeof *m->tab);
    m->role = malloc(nrole * sizeof *m->role);
    if (!m->tab || !m->role)
        return err_set(e, "out of memory for the parameter table");
    for (size_t i = 0; i < nrole; i++)
        m->role[i] = SIZE_MAX;
    table_builder tb = {m, 0, cap};
    if (c->arch == TFM_GPT2)
        gpt2_table(&tb, c);
    else
        llama_table(&tb, c);
    if (c->lm_head && !c->tied)
        add(&tb, -1, TG_LM, 1, c->V, c->C, "lm_head.weight");
    if (c->value_head) {
        add(&tb, -1, TG_VH_W, 1, 1, c->C, "v_head.summary.weight");
        add(&tb, -1, TG_VH_B, 0, 1, 0, "v_head.summary.bias");
    }
    if (c->cls == TFM_CLS_SCORE) {
        add(&tb, -1, TG_CLS_W, 1, c->n_labels, c->C, "score.weight");
    } else if (c->cls == TFM_CLS_TOKEN) {
        const char *n = c->arch == TFM_GPT2 ? "classifier" : "score";
        add(&tb, -1, TG_CLS_W, 1, c->n_labels, c->C, "%s.weight", n);
        add(&tb, -1, TG_CLS_B, 0, c->n_labels, 0, "%s.bias", n);
    }
    if (c->lora.r && lora_table(&tb, c, e))
        return -1;
    m->nparams = tb.off;
    m->toff = 0;
    m->ntrain = m->nparams;
    return 0;
}

float *tfm_w(const tfm_model *m, float *base, int layer, int role)
{
    size_t off = m->role[(size_t)(layer + 1) * TW_NLAYER_ROLES + role];
    if (off == SIZE_MAX || !base)
        return NULL;
    return base + off;
}

float *tfm_g(const tfm_model *m, int layer, int role)
{
    size_t off = m->role[(size_t)(layer + 1) * TW_NLAYER_ROLES + role];
    if (off == SIZE_MAX || !m->grads || off < m->toff)
        return NULL;
    return m->grads + (off - m->toff);
}

float *tfm_span_at(const tfm_model *m, float *span, const tfm_tensor *t)
{
    return span && t->offset >= m->toff ? span + (t->offset - m->toff) : NULL;
}

float *tfm_trainable_grads(const tfm_model *m, size_t *n)
{
    *n = m->grads ? m->ntrain : 0;
    return m->grads;
}

const tfm_tensor *tfm_find(const tfm_model *m, const char *name)
{
    for (int i = 0; i < m->ntab; i++) {
        const char *n = m->tab[i].name;
        if (!strcmp(n, name))
            return &m->tab[i];
        /* the base classes save without the prefix */
        const char *dot = strchr(n, '.');
        if ((!strncmp(n, "transformer.", 12) || !strncmp(n, "model.", 6)) && dot &&
            !strcmp(dot + 1, name))
            return &m->tab[i];
    }
    return NULL;
}

size_t tfm_matmul_params(const tfm_model *m)
{
    size_t n = 0;
    for (int i = 0; i < m->ntab; i++)
        if (m->tab[i].ndim == 2 && strstr(m->tab[i].name, "wpe") == NULL)
            n += m->tab[i].numel;
    /* The token embedding is a matrix product only as the (tied) LM head. */
    const tfm_tensor *wte = &m->tab[0];
    if (!m->cfg.lm_head || !m->cfg.tied)
        n -= wte->numel;
    return n;
}

/* Carves n floats at *off from base (base NULL: only counts). */
static float *carve(float *base, size_t *off, size_t n)
{
    float *p = base ? base + *off : NULL;
    *off += (n + 15) & ~(size_t)15; /* keep every buffer 64-byte aligned */
    return p;
}

static size_t layout_acts(tfm_model *m, float *base)
{
    const tfm_config *c = &m->cfg;
    size_t BT = (size_t)m->B * m->T, C = c->C, off = 0;
    int gpt2 = c->arch == TFM_GPT2;
    m->encoded = carve(base, &off, BT * C);
    for (int l = 0; l < c->L; l++) {
        tfm_layer_acts *a = &m->la[l];
        a->ln1 = carve(base, &off, BT * C);
        a->ln1_mean = gpt2 ? carve(base, &off, BT) : NULL;
        a->ln1_rstd = carve(base, &off, BT);
        a->qkv = carve(base, &off, BT * m->QKV);
        a->att = carve(base, &off, BT * c->NH * m->T);
        a->atty = carve(base, &off, BT * c->NH * c->HS);
        a->res2 = carve(base, &off, BT * C);
        a->ln2 = carve(base, &off, BT * C);
        a->ln2_mean = gpt2 ? carve(base, &off, BT) : NULL;
        a->ln2_rstd = carve(base, &off, BT);
        a->fc = carve(base, &off, BT * m->FC);
        a->act = carve(base, &off, BT * c->FF);
        a->gelu_t = gpt2 ? carve(base, &off, BT * c->FF) : NULL;
        a->res3 = carve(base, &off, BT * C);
    }
    m->lnf = carve(base, &off, BT * C);
    m->lnf_mean = gpt2 ? carve(base, &off, BT) : NULL;
    m->lnf_rstd = carve(base, &off, BT);
    size_t logit_rows = BT;
    if (c->lm_head == TFM_LM_ROWS) /* a chunk big enough for sgemm to run at speed */
        logit_rows = m->B > TFM_LOGIT_CHUNK ? (size_t)m->B : TFM_LOGIT_CHUNK;
    logit_rows = logit_rows < BT ? logit_rows : BT;
    m->logits = c->lm_head ? carve(base, &off, logit_rows * c->V) : NULL;
    m->values = c->value_head ? carve(base, &off, BT) : NULL;
    m->cls = c->cls ? carve(base, &off, BT * c->n_labels) : NULL;
    return off;
}

static size_t layout_dacts(tfm_model *m, float *base)
{
    const tfm_config *c = &m->cfg;
    size_t BT = (size_t)m->B * m->T, off = 0;
    m->dres = carve(base, &off, BT * c->C);
    m->dln = carve(base, &off, BT * c->C);
    m->dqkv = carve(base, &off, BT * m->QKV);
    m->datt = carve(base, &off, BT * c->NH * m->T);
    m->datty = carve(base, &off, BT * c->NH * c->HS);
    m->dfc = carve(base, &off, BT * m->FC);
    m->dact = carve(base, &off, BT * c->FF);
    m->dlogits = c->lm_head == TFM_LM_ALL ? carve(base, &off, BT * c->V) : NULL;
    m->dvalues = c->value_head ? carve(base, &off, BT) : NULL;
    m->dcls = c->cls ? carve(base, &off, BT * c->n_labels) : NULL;
    return off;
}

static int check_config(const tfm_config *c, int B, int T, alarm_err *e)
{
    if (c->V < 1 || c->C < 1 || c->L < 1 || c->NH < 1 || c->NKV < 1 || c->HS < 1 ||
        c->FF < 1 || c->maxT < 1 || c->NH % c->NKV)
        return err_set(e, "invalid model dimensions");
    if (c->arch == TFM_GPT2 && c->NH * c->HS != c->C)
        return err_set(e, "GPT-2: n_embd must equal n_head x head size");
    if (c->arch == TFM_LLAMA && c->HS % 2)
        return err_set(e, "RoPE needs an even head size");
    if (c->cls && c->n_labels < 1)
        return err_set(e, "a classification head needs at least one label");
    return tfm_check_len(c, B, T, e);
}

static int build(tfm_model *m, const tfm_config *cfg, int B, int T, float *shared, alarm_err *e);

int tfm_build(tfm_model *m, const tfm_config *cfg, int B, int T, alarm_err *e)
{
    return build(m, cfg, B, T, NULL, e);
}

int tfm_build_base_view(tfm_model *v, const tfm_model *m, int B, int T, int lm_head,
                        alarm_err *e)
{
    tfm_config c = m->cfg;
    c.lora.r = 0;
    c.value_head = 0;
    c.cls = TFM_CLS_NONE;
    c.lm_head = lm_head;
    /* the base's tensors lead m's table, at the same offsets (adapters and
       heads only follow them), so m's parameters serve as they are */
    return build(v, &c, B, T, m->params, e);
}

static int build(tfm_model *m, const tfm_config *cfg, int B, int T, float *shared, alarm_err *e)
{
    memset(m, 0, sizeof *m);
    if (check_config(cfg, B, T, e))
        return -1;
    m->cfg = *cfg;
    m->B = B;
    m->T = T;
    m->QKV = (cfg->NH + 2 * cfg->NKV) * cfg->HS;
    m->FC = cfg->arch == TFM_GPT2 ? cfg->FF : 2 * cfg->FF;
    if (build_table(m, e))
        goto fail;
    m->la = calloc((size_t)cfg->L, sizeof *m->la);
    m->lens = calloc((size_t)B, sizeof *m->lens);
    m->tokens = calloc((size_t)B * T, sizeof *m->tokens);
    m->params = shared ? shared : tfm_alloc_floats(m->nparams);
    m->shared_params = shared != NULL;
    m->nacts = layout_acts(m, NULL);
    m->acts_mem = tfm_alloc_floats(m->nacts);
    if (!m->la || !m->lens || !m->tokens || !m->params || !m->acts_mem) {
        err_set(e, "out of memory for a model of %zu parameters and %zu activations",
                m->nparams, m->nacts);
        goto fail;
    }
    layout_acts(m, m->acts_mem);
    if (cfg->lora.r && tfm_lora_build(m, e))
        goto fail;
    if (cfg->arch == TFM_LLAMA) {
        int half = cfg->HS / 2;
        m->rope_T = cfg->maxT;
        m->rope_cos = tfm_alloc_floats((size_t)m->rope_T * half);
        m->rope_sin = tfm_alloc_floats((size_t)m->rope_T * half);
        if (!m->rope_cos || !m->rope_sin) {
            err_set(e, "out of memory for the RoPE table");
            goto fail;
        }
        tfm_rope_table(m->rope_cos, m->rope_sin, m->rope_T, cfg->HS, cfg->rope_theta,
                       cfg->rope_scaling, cfg->rs_factor, cfg->rs_low, cfg->rs_high,
                       cfg->rs_orig_max);
    }
    /* matrix products split over our threads; OpenBLAS itself stays single */
    openblas_set_num_threads(1);
    m->threads = omp_get_max_threads();
    return 0;
fail:
    tfm_free(m);
    return -1;
}

int tfm_train_alloc(tfm_model *m, alarm_err *e)
{
    if (m->grads)
        return 0;
    m->grads = tfm_alloc_floats(m->ntrain);
    m->m = tfm_alloc_floats(m->ntrain);
    m->v = tfm_alloc_floats(m->ntrain);
    m->ndacts = layout_dacts(m, NULL);
    m->dacts_mem = tfm_alloc_floats(m->ndacts);
    if (!m->grads || !m->m || !m->v || !m->dacts_mem) {
        free(m->grads);
        free(m->m);
        free(m->v);
        free(m->dacts_mem);
        m->grads = m->m = m->v = m->dacts_mem = NULL;
        return err_set(e, "out of memory for training buffers");
    }
    layout_dacts(m, m->dacts_mem);
    return 0;
}

void tfm_free(tfm_model *m)
{
    if (!m)
        return;
    free(m->tab);
    free(m->role);
    free(m->la);
    free(m->lens);
    free(m->tokens);
    if (!m->shared_params)
        free(m->params);
    free(m->grads);
    free(m->m);
    free(m->v);
    free(m->acts_mem);
    free(m->dacts_mem);
    free(m->rope_cos);
    free(m->rope_sin);
    free(m->lora.ad);
    free(m->lora.mem);
    memset(m, 0, sizeof *m);
}

/* splitmix64 (rng.h) then Box-Muller: reproducible across platforms. */
static double gauss(uint64_t *s)
{
    double u1 = ((rng_next(s) >> 11) + 1.0) / 9007199254740993.0;
    double u2 = (rng_next(s) >> 11) / 9007199254740992.0;
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

void tfm_init_random(tfm_model *m, uint64_t seed)
{
    uint64_t s = seed;
    for (int i = 0; i < m->ntab; i++) {
        const tfm_tensor *t = &m->tab[i];
        float *p = m->params + t->offset;
        if (tfm_lora_is_adapter(t))
            continue; /* fresh adapters are tfm_lora_init's */
        int is_norm = strstr(t->name, "ln_") || strstr(t->name, "norm");
        for (size_t j = 0; j < t->numel; j++)
            p[j] = t->ndim == 2 ? (float)(0.02 * gauss(&s)) : is_norm && strstr(t->name, "weight")
                                                                  ? 1.0f
                                                                  : 0.0f;
    }
}

void tfm_set_threads(tfm_model *m, int n)
{
    if (n <= 0)
        n = omp_get_num_procs();
    m->threads = n;
    omp_set_num_threads(n);
    openblas_set_num_threads(1);
}
