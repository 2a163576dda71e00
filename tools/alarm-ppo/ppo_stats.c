/* alarm-ppo's statistics, invariants and health stops (ppo_stats.h). */
#include <math.h>
#include <string.h>

#include "dist.h"
#include "ppo_stats.h"

/* The summed minibatch statistics, in one order for adding and reducing. */
static size_t mb_fields(ppo_mb_stats *t, double *f[15])
{
    double *p[] = {&t->pg_loss, &t->vf_loss, &t->total, &t->entropy, &t->approxkl,
                   &t->policykl, &t->clipfrac, &t->adv_mean, &t->ret_mean, &t->ret_var,
                   &t->vpred, &t->verror, &t->vclipfrac, &t->val_mean, &t->val_var};
    memcpy(f, p, sizeof p);
    return sizeof p / sizeof *p;
}

void ppo_stats_add(ppo_stats_acc *acc, const ppo_mb_stats *s)
{
    ppo_mb_stats one = *s;
    double *dst[15], *src[15];
    size_t n = mb_fields(&acc->sum, dst);
    mb_fields(&one, src);
    for (size_t k = 0; k < n; k++)
        *dst[k] += *src[k];
    acc->minibatches++;
    acc->skipped += s->skipped;
}

void ppo_stats_reduce(ppo_stats_acc *acc)
{
    double *f[15], v[17];
    size_t n = mb_fields(&acc->sum, f);
    for (size_t k = 0; k < n; k++)
        v[k] = *f[k];
    v[n] = (double)acc->minibatches;
    v[n + 1] = (double)acc->skipped;
    dist_sum_doubles(v, n + 2);
    for (size_t k = 0; k < n; k++)
        *f[k] = v[k];
    acc->minibatches = (long)v[n];
    acc->skipped = (long)v[n + 1];
}

int ppo_check_batch(ppo_run *R, ppo_stats_acc *acc, alarm_err *e)
{
    const ppo_tokens *T = &R->tok;
    double reward = 0, total = 0;
    for (size_t i = 0; i < R->n; i++) {
        const ppo_rec *p = &R->recs[i];
        size_t f = T->first[i];
        if (T->first[i + 1] - f != (size_t)p->s.nr ||
            memcmp(T->dense + f, p->dense, (size_t)p->s.nr * sizeof *p->dense))
            return err_set(e, "invariant: record \"%s\": its dense rewards are not on its own "
                              "%d response tokens", p->id, p->s.nr);
        for (size_t t = f; t < T->first[i + 1]; t++)
            reward += (double)T->rewards[t] - T->non_score[t];
        total += p->total;
    }
    acc->reward_sum = reward;
    acc->total_sum = total;
    if (!(fabs(reward - total) <= 1e-4 * (1 + fabs(total))))
        return err_set(e, "invariant: the step would train on rewards summing to %.9g, but the "
                          "records' reward.total sum to %.9g", reward, total);
    return 0;
}

static void mean_std(const double *x, size_t n, double *mean, double *std)
{
    double s = 0, q = 0;
    for (size_t i = 0; i < n; i++)
        s += x[i];
    *mean = s / (double)n;
    for (size_t i = 0; i < n; i++)
        q += (x[i] - *mean) * (x[i] - *mean);
    *std = n > 1 ? sqrt(q / (double)(n - 1)) : NAN; /* torch.std: unbiased */
}

int ppo_health(ppo_run *R, ppo_stats_acc *acc, alarm_err *e)
{
    const ppo_tokens *T = &R->tok;
    double kl = 0, ent = 0, ns = 0, eos = 0;
    double per[3][R->n]; /* scores, query and response lengths */
    for (size_t i = 0; i < R->n; i++) {
        for (size_t t = T->first[i]; t < T->first[i + 1]; t++) {
            kl += (double)T->lp[t] - T->ref[t];
            ent -= T->lp[t];
            ns += T->non_score[t];
        }
        per[0][i] = R->recs[i].total;
        per[1][i] = R->recs[i].s.np;
        per[2][i] = R->recs[i].s.nr;
        eos += R->recs[i].eos;
    }
    acc->kl = kl / (double)R->n;
    acc->entropy = ent / (double)R->n;
    acc->non_score_mean = ns / (double)T->ntok;
    acc->eos_rate = eos / (double)R->n;
    mean_std(per[0], R->n, &acc->scores_mean, &acc->scores_std);
    mean_std(per[1], R->n, &acc->qlen_mean, &acc->qlen_std);
    mean_std(per[2], R->n, &acc->rlen_mean, &acc->rlen_std);
    const ppo_args *a = R->a;
    if (!isnan(a->stop_kl) && acc->kl > a->stop_kl)
        return err_set(e, "health stop: objective/kl is %.4g, above --stop-on kl=%g (the policy "
                          "has moved too far from the reference); no checkpoint written",
                       acc->kl, a->stop_kl);
    if (!isnan(a->stop_entropy) && acc->entropy < a->stop_entropy)
        return err_set(e, "health stop: objective/entropy is %.4g, below --stop-on entropy=%g "
                          "(the policy is collapsing); no checkpoint written",
                       acc->entropy, a->stop_entropy);
    return 0;
}

int ppo_stats_make(ppo_run *R, const ppo_stats_acc *acc, alarm_err *e)
{
    cJSON *o = R->stats = cJSON_CreateObject();
    if (!o)
        return err_set(e, "out of memory");
    double k = 1.0 / (double)(acc->minibatches ? acc->minibatches : 1);
    const ppo_mb_stats *s = &acc->sum;
    double next = ppo_kl_update(&R->cfg, acc->kl, R->n);
    struct { const char *name; double v; } f[] = {
        {"step", (double)R->chain.step + 1},
        {"objective/kl", acc->kl},
        {"objective/kl_coef", R->cfg.kl_coef},
        {"objective/entropy", acc->entropy},
        {"ppo/mean_non_score_reward", acc->non_score_mean},
        {"ppo/mean_scores", acc->scores_mean},
        {"ppo/std_scores", acc->scores_std},
        {"tokens/queries_len_mean", acc->qlen_mean},
        {"tokens/queries_len_std", acc->qlen_std},
        {"tokens/responses_len_mean", acc->rlen_mean},
        {"tokens/responses_len_std", acc->rlen_std},
        {"tokens/eos_rate", acc->eos_rate},
        {"ppo/loss/policy", s->pg_loss * k},
        {"ppo/loss/value", s->vf_loss * k},
        {"ppo/loss/total", s->total * k},
        {"ppo/policy/entropy", s->entropy * k},
        {"ppo/policy/approxkl", s->approxkl * k},
        {"ppo/policy/policykl", s->policykl * k},
        {"ppo/policy/clipfrac", s->clipfrac * k},
        {"ppo/policy/advantages_mean", s->adv_mean * k},
        {"ppo/returns/mean", s->ret_mean * k},
        {"ppo/returns/var", s->ret_var * k},
        {"ppo/val/vpred", s->vpred * k},
        {"ppo/val/error", s->verror * k},
        {"ppo/val/clipfrac", s->vclipfrac * k},
        {"ppo/val/mean", s->val_mean * k},
        {"ppo/val/var", s->val_var * k},
        {"ppo/val/var_explained", 1 - (s->verror * k) / (s->ret_var * k)},
        {"ppo/learning_rate", R->tc.opt.lr},
        {"ppo/grad_norm", acc->updates ? acc->grad_norm_sum / (double)acc->updates : 0},
        {"ppo/epochs", (double)acc->epochs},
        {"ppo/minibatches", (double)acc->minibatches},
        {"ppo/minibatches_skipped", (double)acc->skipped},
        {"ppo/early_stopped", acc->early_stopped},
        {"check/reward_sum", acc->reward_sum},
        {"check/total_sum", acc->total_sum},
        {"kl_coef_next", next},
    };
    for (size_t i = 0; i < sizeof f / sizeof *f; i++) {
        if (!isfinite(f[i].v) && strcmp(f[i].name, "ppo/std_scores") &&
            strncmp(f[i].name, "tokens/", 7) && strcmp(f[i].name, "ppo/val/var_explained"))
            return err_set(e, "statistic %s is not finite", f[i].name);
        if (isfinite(f[i].v))
            cJSON_AddNumberToObject(o, f[i].name, f[i].v);
        else
            cJSON_AddNullToObject(o, f[i].name);
    }
    R->chain.kl_coef = next;
    return 0;
}
