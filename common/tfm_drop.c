/* tfm_drop: inverted dropout with counter-based masks (rng_at), and the
 * model's switch. A mask is a function of (seed, forward draw, layer, site,
 * element), nothing is stored: the backward pass and any thread count
 * regenerate it (alarm-formats(5) section 7). */
#include "tfm.h"
#include "tfm_ops.h"

#include <math.h>

#include "omp_sizes.h"
#include "rng.h"

void tfm_drop_init(tfm_drop *d, uint64_t key, double p)
{
    d->key = key;
    /* u = top 53 bits / 2^53 is dropped when u < p, i.e. top bits < ceil(p 2^53) */
    d->below = (uint64_t)ceil(ldexp(p, 53));
    d->scale = p < 1 ? (float)(1.0 / (1.0 - p)) : 0.0f;
    d->buf = NULL;
}

float tfm_drop_mul(const tfm_drop *d, size_t i)
{
    return (rng_at(d->key, i) >> 11) < d->below ? 0.0f : d->scale;
}

void tfm_drop_mask(float *out, const float *inp, size_t n, const tfm_drop *d)
{
#pragma omp parallel for if (n > OMP_MIN_ELEMS)
    for (size_t i = 0; i < n; i++)
        out[i] = inp[i] * tfm_drop_mul(d, i);
}

void tfm_drop_add(float *out, const float *res, const float *inp, size_t n, const tfm_drop *d)
{
#pragma omp parallel for if (n > OMP_MIN_ELEMS)
    for (size_t i = 0; i < n; i++)
        out[i] = res[i] + inp[i] * tfm_drop_mul(d, i);
}

static double site_p(const tfm_config *c, int site)
{
    switch (site) {
    case TFM_DROP_EMBD: return c->arch == TFM_GPT2 ? c->embd_pdrop : 0;
    case TFM_DROP_ATTN: return c->attn_pdrop;
    case TFM_DROP_RESID_ATTN:
    case TFM_DROP_RESID_MLP: return c->arch == TFM_GPT2 ? c->resid_pdrop : 0;
    case TFM_DROP_SUMMARY: return c->value_head ? c->summary_pdrop : 0;
    }
    return 0;
}

const tfm_drop *tfm_drop_at(const struct tfm_model *m, uint64_t index, double p, tfm_drop *d)
{
    if (!m->drop.fon || !(p > 0))
        return NULL;
    uint64_t pass = rng_at(m->drop.seed, m->drop.fdraw);
    tfm_drop_init(d, rng_at(pass, index), p);
    d->buf = m->datt;
    return d;
}

const tfm_drop *tfm_drop_site(const struct tfm_model *m, int layer, int site, tfm_drop *d)
{
    return tfm_drop_at(m, (uint64_t)(layer + 1) * TFM_DROP_NSITES + (uint64_t)site,
                       site_p(&m->cfg, site), d);
}

int tfm_set_dropout(tfm_model *m, int on, uint64_t seed, alarm_err *e)
{
    if (on && !m->datt)
        return err_set(e, "dropout needs the model's training buffers (tfm_train_alloc)");
    m->drop.on = on;
    m->drop.seed = seed;
    m->drop.draw = 0;
    return 0;
}

void tfm_dropout_seek(tfm_model *m, uint64_t draw)
{
    m->drop.draw = draw;
}

int tfm_dropout_hold(tfm_model *m, int on)
{
    int was = m->drop.on;
    m->drop.on = on && m->datt;
    return was;
}
