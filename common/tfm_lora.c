/* tfm_lora: the adapters' slots, forward, backward, switch and merge (see
 * tfm_lora.h). The forward saves u = dropout(x) A^T per adapter (r floats
 * a row), so the backward needs only the product's own input; a dropped
 * input is regenerated from its counter-based mask, never stored. */
#include "tfm_lora.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "rng.h"
#include "tfm_ops.h"

int tfm_lora_slots(const tfm_config *c, tfm_lora_slot out[TFM_LORA_SLOTS])
{
    int C = c->C, FF = c->FF, QD = c->NH * c->HS, KD = c->NKV * c->HS;
    if (c->arch == TFM_GPT2) {
        const tfm_lora_slot g[] = {
            {"c_attn", "transformer.h.%d.attn.c_attn", TW_QKV_W, 0, 3 * C, C},
            {"c_proj", "transformer.h.%d.attn.c_proj", TW_O_W, 0, C, C},
            {"c_fc", "transformer.h.%d.mlp.c_fc", TW_FC_W, 0, FF, C},
            {"c_proj", "transformer.h.%d.mlp.c_proj", TW_PROJ_W, 0, C, FF},
        };
        memcpy(out, g, sizeof g);
        return (int)(sizeof g / sizeof *g);
    }
    const tfm_lora_slot l[] = {
        {"q_proj", "model.layers.%d.self_attn.q_proj", TW_QKV_W, 0, QD, C},
        {"k_proj", "model.layers.%d.self_attn.k_proj", TW_QKV_W, QD, KD, C},
        {"v_proj", "model.layers.%d.self_attn.v_proj", TW_QKV_W, QD + KD, KD, C},
        {"o_proj", "model.layers.%d.self_attn.o_proj", TW_O_W, 0, C, QD},
        {"gate_proj", "model.layers.%d.mlp.gate_proj", TW_FC_W, 0, FF, C},
        {"up_proj", "model.layers.%d.mlp.up_proj", TW_FC_W, FF, FF, C},
        {"down_proj", "model.layers.%d.mlp.down_proj", TW_PROJ_W, 0, C, FF},
    };
    memcpy(out, l, sizeof l);
    return (int)(sizeof l / sizeof *l);
}

int tfm_lora_targets(const tfm_config *c, const char *names, unsigned *bits, alarm_err *e)
{
    tfm_lora_slot sl[TFM_LORA_SLOTS];
    int ns = tfm_lora_slots(c, sl);
    if (!names || !*names)
        names = c->arch == TFM_GPT2 ? "c_attn" : "q_proj,v_proj";
    *bits = 0;
    for (const char *p = names; *p;) {
        size_t len = strcspn(p, ",");
        unsigned hit = 0;
        for (int s = 0; s < ns; s++)
            if (strlen(sl[s].name) == len && !strncmp(sl[s].name, p, len))
                hit |= 1u << s;
        if (!hit)
            return err_set(e, "target \"%.*s\" matches no module of this %s model", (int)len, p,
                           c->arch == TFM_GPT2 ? "GPT-2" : "Llama-family");
        *bits |= hit;
        p += len + (p[len] == ',');
    }
    return 0;
}

int tfm_lora_configure(tfm_config *c, const tfm_lora_opts *o, alarm_err *e)
{
    if (o->r < 1 || !(o->alpha > 0) || !(o->dropout >= 0 && o->dropout < 1))
        return err_set(e, "LoRA: r must be at least 1, alpha positive, dropout in [0, 1)");
    c->lora.r = o->r;
    c->lora.alpha = o->alpha;
    c->lora.dropout = o->dropout;
    c->lora.seed = o->seed;
    if (o->cls) {
        c->cls = (tfm_cls_kind)o->cls;
        c->n_labels = o->n_labels;
        c->lm_head = 0;
    }
    return tfm_lora_targets(c, o->targets, &c->lora.targets, e);
}

void tfm_lora_target_names(const tfm_config *c, unsigned bits, char *buf, size_t n)
{
    tfm_lora_slot sl[TFM_LORA_SLOTS];
    int ns = tfm_lora_slots(c, sl);
    size_t k = 0;
    buf[0] = '\0';
    for (int s = 0; s < ns && k < n; s++) {
        int seen = 0; /* GPT-2's c_proj names two slots */
        for (int t = 0; t < s; t++)
            seen |= (bits >> t & 1) && !strcmp(sl[t].name, sl[s].name);
        if (bits >> s & 1 && !seen)
            k += (size_t)snprintf(buf + k, n - k, "%s%s", k ? "," : "", sl[s].name);
    }
}

int tfm_lora_is_adapter(const tfm_tensor *t)
{
    return strstr(t->name, ".lora_A.") || strstr(t->name, ".lora_B.");
}

static int product_width(const tfm_model *m, int role)
{
    return role == TW_QKV_W ? m->QKV : role == TW_FC_W ? m->FC : m->cfg.C;
}

void tfm_lora_init(tfm_model *m)
{
    tfm_lora_slot sl[TFM_LORA_SLOTS];
    tfm_lora_slots(&m->cfg, sl);
    uint64_t s = m->cfg.lora.seed;
    int r = m->cfg.lora.r;
    for (int l = 0; l < m->cfg.L; l++)
        for (int k = 0; k < TFM_LORA_SLOTS; k++) {
            const tfm_lora_ad *ad = &m->lora.ad[l * TFM_LORA_SLOTS + k];
            if (ad->a == SIZE_MAX)
                continue;
            /* kaiming_uniform_(a=sqrt 5): bound sqrt(6 / ((1 + 5) fan_in)) */
            double bound = 1.0 / sqrt((double)sl[k].in);
            float *A = m->params + ad->a;
            for (size_t i = 0; i < (size_t)r * sl[k].in; i++)
                A[i] = (float)((2.0 * rng_unit(&s) - 1.0) * bound);
            memset(m->params + ad->b, 0, (size_t)sl[k].out * r * sizeof(float));
        }
}

int tfm_lora_build(tfm_model *m, alarm_err *e)
{
    const tfm_lora_cfg *lc = &m->cfg.lora;
    tfm_lora_slot sl[TFM_LORA_SLOTS];
    int ns = tfm_lora_slots(&m->cfg, sl);
    if (lc->r < 1 || !(lc->alpha > 0) || !(lc->dropout >= 0 && lc->dropout < 1))
        return err_set(e, "LoRA: r must be at least 1, alpha positive, dropout in [0, 1)");
    if (!lc->targets || lc->targets >> ns)
        return err_set(e, "LoRA: no target modules");
    size_t BT = (size_t)m->B * m->T, nad = 0, first = SIZE_MAX;
    int in_max = 0;
    for (int i = 0; i < m->cfg.L * TFM_LORA_SLOTS; i++)
        if (m->lora.ad[i].a != SIZE_MAX) {
            nad++;
            first = first < m->lora.ad[i].a ? first : m->lora.ad[i].a;
        }
    for (int s = 0; s < ns; s++)
        in_max = lc->targets >> s & 1 && sl[s].in > in_max ? sl[s].in : in_max;
    size_t need = (nad + 1) * BT * lc->r + (lc->dropout > 0 ? BT * in_max : 0);
    m->lora.mem = tfm_alloc_floats(need);
    if (!m->lora.mem)
        return err_set(e, "out of memory for the adapters' activations");
    float *p = m->lora.mem;
    for (int i = 0; i < m->cfg.L * TFM_LORA_SLOTS; i++)
        if (m->lora.ad[i].a != SIZE_MAX) {
            m->lora.ad[i].u = p;
            p += BT * lc->r;
        }
    m->lora.du = p;
    m->lora.xd = lc->dropout > 0 ? p + BT * lc->r : NULL;
    m->lora.scale = (float)(lc->alpha / lc->r);
    m->lora.on = 1;
    /* trained: the heads that follow the LM head, then the adapters */
    size_t vh = m->role[TG_VH_W], cls = m->role[TG_CLS_W];
    m->toff = vh != SIZE_MAX ? vh : cls != SIZE_MAX ? cls : first;
    m->ntrain = m->nparams - m->toff;
    tfm_lora_init(m);
    return 0;
}

/* The dropout on slot s's input in the last forward; past every TFM_DROP_* site. */
static const tfm_drop *lora_drop(const tfm_model *m, int l, int s, tfm_drop *d)
{
    uint64_t index = (uint64_t)(m->cfg.L + 1) * TFM_DROP_NSITES +
                     (uint64_t)l * TFM_LORA_SLOTS + (uint64_t)s;
    return tfm_drop_at(m, index, m->cfg.lora.dropout, d);
}

/* The adapter's input: x, or x through the slot's mask into xd (the
 * backward regenerates the same); *d the mask or NULL. */
static const float *lora_input(tfm_model *m, int l, int s, const float *x, size_t n,
                               tfm_drop *dd, const tfm_drop **d)
{
    *d = lora_drop(m, l, s, dd);
    if (!*d)
        return x;
    tfm_drop_mask(m->lora.xd, x, n, *d);
    return m->lora.xd;
}

void tfm_lora_forward(tfm_model *m, int l, int role, float *y, const float *x, size_t N)
{
    if (!m->cfg.lora.r || !m->lora.on)
        return;
    tfm_lora_slot sl[TFM_LORA_SLOTS];
    int ns = tfm_lora_slots(&m->cfg, sl), r = m->cfg.lora.r, W = product_width(m, role);
    for (int s = 0; s < ns; s++) {
        const tfm_lora_ad *ad = &m->lora.ad[l * TFM_LORA_SLOTS + s];
        if (sl[s].role != role || ad->a == SIZE_MAX)
            continue;
        int in = sl[s].in;
        tfm_drop dd;
        const tfm_drop *d;
        const float *xin = lora_input(m, l, s, x, N * in, &dd, &d);
        /* u (N, r) = x A^T; y[:, col0:] += scale u B^T */
        tfm_sgemm(0, 1, (int)N, r, in, 1.0f, xin, in, m->params + ad->a, in, 0.0f, ad->u, r);
        tfm_sgemm(0, 1, (int)N, sl[s].out, r, m->lora.scale, ad->u, r, m->params + ad->b, r, 1.0f,
                  y + sl[s].col0, W);
    }
}

void tfm_lora_backward(tfm_model *m, int l, int role, float *dx, const float *dy,
                       const float *x, size_t N)
{
    if (!m->cfg.lora.r || !m->lora.on || !m->grads)
        return;
    tfm_lora_slot sl[TFM_LORA_SLOTS];
    int ns = tfm_lora_slots(&m->cfg, sl), r = m->cfg.lora.r, W = product_width(m, role);
    float k = m->lora.scale, *du = m->lora.du;
    for (int s = 0; s < ns; s++) {
        const tfm_lora_ad *ad = &m->lora.ad[l * TFM_LORA_SLOTS + s];
        if (sl[s].role != role || ad->a == SIZE_MAX)
            continue;
        int in = sl[s].in, out = sl[s].out;
        const float *A = m->params + ad->a, *B = m->params + ad->b, *g = dy + sl[s].col0;
        float *dA = m->grads + (ad->a - m->toff), *dB = m->grads + (ad->b - m->toff);
        tfm_drop dd;
        const tfm_drop *d;
        const float *xin = lora_input(m, l, s, x, N * in, &dd, &d);
        tfm_sgemm(0, 0, (int)N, r, out, k, g, W, B, r, 0.0f, du, r);     /* du = k dy B */
        tfm_sgemm(1, 0, out, r, (int)N, k, g, W, ad->u, r, 1.0f, dB, r); /* dB += k dy^T u */
        tfm_sgemm(1, 0, r, in, (int)N, 1.0f, du, r, xin, in, 1.0f, dA, in); /* dA += du^T x */
        if (!d) {
            tfm_sgemm(0, 0, (int)N, in, r, 1.0f, du, r, A, in, 1.0f, dx, in);
            continue;
        }
        /* through the mask: xd is free once dA has it */
        tfm_sgemm(0, 0, (int)N, in, r, 1.0f, du, r, A, in, 0.0f, m->lora.xd, in);
        tfm_drop_add(dx, dx, m->lora.xd, N * in, d);
    }
}

int tfm_lora_enable(tfm_model *m, int on)
{
    int was = m->lora.on;
    m->lora.on = on && m->cfg.lora.r;
    return was;
}

void tfm_lora_merge(tfm_model *m)
{
    if (!m->cfg.lora.r)
        return;
    tfm_lora_slot sl[TFM_LORA_SLOTS];
    int ns = tfm_lora_slots(&m->cfg, sl), r = m->cfg.lora.r;
    for (int l = 0; l < m->cfg.L; l++)
        for (int s = 0; s < ns; s++) {
            const tfm_lora_ad *ad = &m->lora.ad[l * TFM_LORA_SLOTS + s];
            if (ad->a == SIZE_MAX)
                continue;
            float *w = tfm_w(m, m->params, l, sl[s].role);
            int W = product_width(m, sl[s].role), in = sl[s].in, out = sl[s].out;
            const float *A = m->params + ad->a, *B = m->params + ad->b;
            if (m->cfg.arch == TFM_GPT2) /* Conv1D (in, W): columns col0.. get (B A)^T */
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasTrans, in, out, r, m->lora.scale, A,
                            in, B, r, 1.0f, w + sl[s].col0, W);
            else /* Linear (W, in): rows col0.. get B A */
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, out, in, r, m->lora.scale,
                            B, r, A, in, 1.0f, w + (size_t)sl[s].col0 * in, in);
        }
    /* a plain model now: saved as a full checkpoint, its spent adapters skipped */
    m->lora.on = 0;
    m->cfg.lora.r = 0;
}
