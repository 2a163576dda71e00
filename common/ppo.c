/* ppo: the step arithmetic of ppo.h, written from trl 0.5's
 * compute_rewards, compute_advantages, loss and AdaptiveKLController. */
#include "ppo.h"

#include <math.h>

#include "tfm_ops.h"

void ppo_cfg_defaults(ppo_cfg *c)
{
    *c = (ppo_cfg){.kl_coef = 0.2, .adaptive = 1, .kl_target = 6, .kl_horizon = 10000,
                   .penalty = PPO_KL, .gamma = 1, .lam = 0.95, .cliprange = 0.2,
                   .cliprange_value = 0.2, .vf_coef = 0.1, .ratio_threshold = 10};
}

void ppo_rewards(const ppo_cfg *c, ppo_batch *b)
{
    size_t n = b->first[b->n];
    for (size_t t = 0; t < n; t++) {
        double d = (double)b->lp[t] - b->ref[t];
        double k = c->penalty == PPO_ABS   ? fabs(d)
                   : c->penalty == PPO_MSE ? 0.5 * d * d
                   : c->penalty == PPO_FULL ? b->kl_full[t]
                                            : d;
        b->kl[t] = (float)k;
        b->non_score[t] = (float)(-c->kl_coef * k);
        b->rewards[t] = b->non_score[t] + b->dense[t];
    }
}

void ppo_mean_var(const float *x, size_t n, double *mean, double *var)
{
    double s = 0, q = 0;
    for (size_t i = 0; i < n; i++)
        s += x[i];
    double m = n ? s / (double)n : 0;
    for (size_t i = 0; i < n; i++)
        q += (x[i] - m) * (x[i] - m);
    *mean = m;
    *var = n > 1 ? q / (double)(n - 1) : NAN;
}

int ppo_advantages(const ppo_cfg *c, ppo_batch *b, alarm_err *e)
{
    size_t n = b->first[b->n];
    if (n < 2)
        return err_set(e, "the batch has %zu response token%s: advantages need two to be "
                          "whitened", n, n == 1 ? "" : "s");
    for (size_t i = 0; i < b->n; i++) {
        double next_v = 0, last = 0;
        for (size_t t = b->first[i + 1]; t-- > b->first[i];) {
            double delta = b->rewards[t] + c->gamma * next_v - b->values[t];
            last = delta + c->gamma * c->lam * last;
            b->adv[t] = (float)last;
            b->ret[t] = (float)(last + b->values[t]);
            next_v = b->values[t];
        }
    }
    double mean, var;
    ppo_mean_var(b->adv, n, &mean, &var);
    double k = 1.0 / sqrt(var + 1e-8);
    for (size_t t = 0; t < n; t++) {
        b->adv[t] = (float)((b->adv[t] - mean) * k);
        if (!isfinite(b->adv[t]) || !isfinite(b->ret[t]))
            return err_set(e, "token %zu of the batch: the %s is not finite", t,
                           isfinite(b->ret[t]) ? "advantage" : "return");
    }
    return 0;
}

static double clampd(double x, double lo, double hi) { return x < lo ? lo : x > hi ? hi : x; }

void ppo_minibatch(const ppo_cfg *c, size_t n, const float *old_lp, const float *old_v,
                   const float *adv, const float *ret, const float *lp, const float *v,
                   const float *entropy, float scale, float *dlp, float *dv, ppo_mb_stats *s)
{
    *s = (ppo_mb_stats){0};
    double pg = 0, vf = 0, ratio_sum = 0, pg_clip = 0, vf_clip = 0, ent = 0, ak = 0, pk = 0;
    double adv_sum = 0, vp = 0, verr = 0;
    double inv = 1.0 / (double)n;
    for (size_t t = 0; t < n; t++) {
        /* the value loss: the worse of the new value and the value kept near the old one */
        double vc = clampd(v[t], old_v[t] - c->cliprange_value, old_v[t] + c->cliprange_value);
        double l1 = ((double)v[t] - ret[t]) * ((double)v[t] - ret[t]);
        double l2 = (vc - ret[t]) * (vc - ret[t]);
        int inside = vc == v[t];
        vf += l1 > l2 ? l1 : l2;
        vf_clip += l2 > l1;
        /* torch.max sends half the gradient to each side of a tie */
        double gv = l1 > l2 ? (v[t] - ret[t]) : l2 > l1 ? (inside ? vc - ret[t] : 0)
                                                        : 0.5 * ((v[t] - ret[t]) + (inside ? vc - ret[t] : 0));
        /* the policy loss: PPO's clipped surrogate */
        double d = (double)lp[t] - old_lp[t], r = exp(d);
        double rc = clampd(r, 1 - c->cliprange, 1 + c->cliprange);
        double p1 = -adv[t] * r, p2 = -adv[t] * rc;
        pg += p1 > p2 ? p1 : p2;
        pg_clip += p2 > p1;
        int r_inside = rc == r;
        double gp = p1 > p2 ? p1 : p2 > p1 ? (r_inside ? p2 : 0) : 0.5 * (p1 + (r_inside ? p2 : 0));
        dlp[t] = (float)(scale * inv * gp);   /* d(-adv r)/d lp = -adv r */
        dv[t] = (float)(scale * inv * c->vf_coef * gv); /* 0.5 d(x^2) = x */
        ratio_sum += r;
        ent += entropy ? entropy[t] : 0;
        ak += 0.5 * d * d;
        pk += -d;
        adv_sum += adv[t];
        vp += v[t];
        verr += l1;
    }
    s->pg_loss = pg * inv;
    s->vf_loss = 0.5 * vf * inv;
    s->total = s->pg_loss + c->vf_coef * s->vf_loss;
    s->ratio_mean = ratio_sum * inv;
    if (s->ratio_mean > c->ratio_threshold) { /* trl zeroes the losses and still steps */
        s->skipped = 1;
        s->pg_loss = s->vf_loss = s->total = 0;
        for (size_t t = 0; t < n; t++)
            dlp[t] = dv[t] = 0;
    }
    s->clipfrac = pg_clip * inv;
    s->vclipfrac = vf_clip * inv;
    s->entropy = ent * inv;
    s->approxkl = ak * inv;
    s->policykl = pk * inv;
    s->adv_mean = adv_sum * inv;
    s->vpred = vp * inv;
    s->verror = verr * inv;
    ppo_mean_var(ret, n, &s->ret_mean, &s->ret_var);
    ppo_mean_var(old_v, n, &s->val_mean, &s->val_var);
}

double ppo_kl_update(const ppo_cfg *c, double kl, size_t n_records)
{
    if (!c->adaptive)
        return c->kl_coef;
    double err = clampd(kl / c->kl_target - 1, -0.2, 0.2);
    return c->kl_coef * (1 + err * (double)n_records / c->kl_horizon);
}

float ppo_kl_full_row(const float *zp, const float *zq, int V)
{
    double lp = tfm_logsumexp(zp, V), lq = tfm_logsumexp(zq, V), s = 0;
    for (int k = 0; k < V; k++) {
        double a = zp[k] - lp;
        s += exp(a) * (a - (zq[k] - lq));
    }
    return (float)s;
}
