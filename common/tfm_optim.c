/* tfm_optim: see tfm_optim.h. The update runs over the trainable span
 * (every parameter, or LoRA's heads and adapters) in place; the decay mask
 * comes from the parameter table. */
#include "tfm_optim.h"
#include "omp_sizes.h"
#include "tfm_math.h"

#include <math.h>
#include <omp.h>

void tfm_adamw_defaults(tfm_adamw *o)
{
    o->lr = 1e-5f;
    o->beta1 = 0.9f;
    o->beta2 = 0.999f;
    o->eps = 1e-8f;
    o->weight_decay = 0.0f;
    o->grad_clip = 1.0f;
    o->sched = TFM_SCHED_CONSTANT;
    o->warmup = 0;
    o->total = 0;
}

float tfm_lr_at(const tfm_adamw *o, int step)
{
    if (step < o->warmup)
        return o->lr * (float)step / (float)o->warmup;
    if (o->sched == TFM_SCHED_CONSTANT || o->total <= o->warmup)
        return o->lr;
    double progress = (double)(step - o->warmup) / (double)(o->total - o->warmup);
    if (progress > 1)
        progress = 1;
    if (o->sched == TFM_SCHED_LINEAR)
        return (float)(o->lr * (1.0 - progress));
    return (float)(o->lr * 0.5 * (1.0 + cos(M_PI * progress)));
}

float tfm_grad_norm(const tfm_model *m)
{
    double s = 0;
#pragma omp parallel for simd reduction(+ : s)
    for (size_t i = 0; i < m->ntrain; i++)
        s += (double)m->grads[i] * m->grads[i];
    return (float)sqrt(s);
}

float tfm_clip_grad(tfm_model *m, float max_norm)
{
    float norm = tfm_grad_norm(m);
    float k = max_norm / (norm + 1e-6f);
    if (k < 1.0f) {
#pragma omp parallel for
        for (size_t i = 0; i < m->ntrain; i++)
            m->grads[i] *= k;
    }
    return norm;
}

/* The update of n elements. The loop vectorises because the build has no
 * errno semantics for sqrtf (-fno-math-errno; its argument is never negative). */
TFM_AVX2_CLONE static void adamw_range(float *restrict p, const float *restrict g, float *restrict mm,
                        float *restrict vv, size_t n, const float k[7])
{
    float b1 = k[0], b2 = k[1], bc2s = k[2], eps = k[3], step_size = k[4], decay = k[5];
    float gscale = k[6];
#pragma omp simd
    for (size_t i = 0; i < n; i++) {
        float gi = g[i] * gscale;
        mm[i] = b1 * mm[i] + (1.0f - b1) * gi;
        vv[i] = b2 * vv[i] + (1.0f - b2) * gi * gi;
        float denom = sqrtf(vv[i]) / bc2s + eps;
        p[i] = p[i] * decay - step_size * mm[i] / denom;
    }
}

/* gscale multiplies the gradients on the fly: clipping costs no extra pass. */
static void adamw_update(tfm_model *m, const tfm_adamw *o, float lr, int step, float gscale)
{
    float b1 = o->beta1, b2 = o->beta2;
    float bc1 = 1.0f - powf(b1, (float)step), bc2s = sqrtf(1.0f - powf(b2, (float)step));
    for (int ti = 0; ti < m->ntab; ti++) {
        const tfm_tensor *t = &m->tab[ti];
        if (t->offset < m->toff)
            continue; /* frozen */
        const float k[7] = {b1, b2, bc2s, o->eps, lr / bc1,
                            t->decay ? 1.0f - lr * o->weight_decay : 1.0f, gscale};
        size_t off = t->offset - m->toff, n = t->numel;
#pragma omp parallel if (n > OMP_MIN_ELEMS)
        {
            int id = omp_get_thread_num(), nt = omp_get_num_threads();
            size_t chunk = ((n + nt - 1) / nt + 15) & ~(size_t)15;
            size_t i0 = id * chunk < n ? id * chunk : n, i1 = i0 + chunk < n ? i0 + chunk : n;
            adamw_range(m->params + m->toff + off + i0, m->grads + off + i0, m->m + off + i0,
                        m->v + off + i0, i1 - i0, k);
        }
    }
}

void tfm_adamw_update(tfm_model *m, const tfm_adamw *o, float lr, int step)
{
    adamw_update(m, o, lr, step, 1.0f);
}

float tfm_optim_step(tfm_model *m, const tfm_adamw *o, int step)
{
    float norm = tfm_grad_norm(m), k = 1.0f;
    if (!isfinite(norm))
        return norm; /* a NaN or infinite gradient: no update (the caller reports it) */
    if (o->grad_clip > 0 && o->grad_clip / (norm + 1e-6f) < 1.0f)
        k = o->grad_clip / (norm + 1e-6f);
    adamw_update(m, o, tfm_lr_at(o, step), step + 1, k);
    return norm;
}
