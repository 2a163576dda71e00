/* alarm-ppo's step (alarm-formats(5) section 5): the old pass over every
 * record (policy log-probabilities and values, reference log-probabilities),
 * the rewards and advantages of common/ppo, then the epochs of shuffled
 * minibatches through the policy, each with its loss's gradient backwards.
 * Under mpirun the ranks share the old pass and each step's minibatches;
 * everything over the whole batch (rewards, whitening, the KL) sees all of it. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dist.h"
#include "ppo_cli.h"
#include "ppo_stats.h"
#include "rng.h"
#include "tfm_ckpt.h"

/* Records recs[idx[0..k)] into the batch (idx NULL: recs[i0..i0+k)). */
static int fill(ppo_run *R, const size_t *idx, size_t i0, int k, alarm_err *e)
{
    const seq *rows[k];
    for (int b = 0; b < k; b++)
        rows[b] = &R->recs[idx ? idx[b] : i0 + (size_t)b].s;
    return seq_batch_fill(&R->sb, rows, k, 0, e);
}

/* The batch's old log-probabilities, values and reference log-probabilities:
 * chunk c of --mini-batch records on rank c mod P, with the dropout draw of
 * the one-process run, so every rank ends with the whole batch's. */
static int old_chunks(ppo_run *R, alarm_err *e)
{
    ppo_tokens *T = &R->tok;
    seq_batch *sb = &R->sb;
    int M = (int)R->a->mini_batch, V = R->pol.cfg.V;
    size_t P = (size_t)dist_size(), c = 0;
    for (size_t i0 = 0; i0 < R->n; i0 += (size_t)M, c++) {
        if (c % P != (size_t)dist_rank())
            continue;
        int k = R->n - i0 < (size_t)M ? (int)(R->n - i0) : M;
        size_t at = T->first[i0];
        tfm_dropout_seek(&R->pol, c);
        if (fill(R, NULL, i0, k, e) < 0 ||
            tfm_forward(&R->pol, sb->tokens, sb->lens, sb->B, sb->T, e) < 0 ||
            tfm_token_logprobs(&R->pol, sb->rows, sb->targets, sb->n, T->lp + at, e) < 0 ||
            tfm_forward(&R->ref, sb->tokens, sb->lens, sb->B, sb->T, e) < 0 ||
            tfm_token_logprobs(&R->ref, sb->rows, sb->targets, sb->n, T->ref + at, e) < 0)
            return -1;
        for (size_t j = 0; j < sb->n; j++) {
            T->values[at + j] = R->pol.values[sb->rows[j]];
            if (R->cfg.penalty == PPO_FULL)
                T->kl_full[at + j] = ppo_kl_full_row(R->pol.logits + sb->rows[j] * V,
                                                     R->ref.logits + sb->rows[j] * V, V);
            if (!isfinite(T->lp[at + j]) || !isfinite(T->ref[at + j]) || !isfinite(T->values[at + j]))
                return err_set(e, "record \"%s\", response token %zu: the %s is not finite",
                               R->recs[i0 + (size_t)sb->row_of[j]].id, j - sb->first[sb->row_of[j]],
                               !isfinite(T->lp[at + j]) ? "policy's log-probability"
                               : !isfinite(T->ref[at + j]) ? "reference's log-probability"
                                                           : "value");
        }
    }
    return 0;
}

/* The old pass on every rank's chunks; the arrays (zero where another rank
 * computed) summed into the whole batch's. */
static int old_pass(ppo_run *R, alarm_err *e)
{
    ppo_tokens *T = &R->tok;
    if (dist_agree(old_chunks(R, e), e) < 0)
        return -1;
    float *arr[] = {T->lp, T->ref, T->values, T->kl_full};
    for (size_t k = 0; k < (R->cfg.penalty == PPO_FULL ? 4u : 3u); k++)
        dist_sum_floats(arr[k], T->ntok);
    return 0;
}

/* Copies the batch arrays of the minibatch's records, in batch-row order. */
static void gather(const ppo_run *R, const size_t *idx, int k, float *dst[4])
{
    const ppo_tokens *T = &R->tok;
    const float *src[4] = {T->lp, T->values, T->adv, T->ret};
    size_t at = 0;
    for (int b = 0; b < k; b++) {
        size_t f = T->first[idx[b]], n = T->first[idx[b] + 1] - f;
        for (int a = 0; a < 4; a++)
            memcpy(dst[a] + at, src[a] + f, n * sizeof(float));
        at += n;
    }
}

/* Forward, loss and backward of one minibatch. */
static int minibatch(ppo_run *R, const size_t *idx, float *mb[4], ppo_mb_stats *s, alarm_err *e)
{
    ppo_tokens *T = &R->tok;
    seq_batch *sb = &R->sb;
    tfm_model *m = &R->pol;
    int k = (int)R->a->mini_batch;
    if (fill(R, idx, 0, k, e) < 0 || tfm_forward(m, sb->tokens, sb->lens, sb->B, sb->T, e) < 0 ||
        tfm_token_logprobs(m, sb->rows, sb->targets, sb->n, T->new_lp, e) < 0 ||
        tfm_token_entropy(m, sb->rows, sb->n, T->ent, e) < 0)
        return -1;
    for (size_t j = 0; j < sb->n; j++)
        T->new_v[j] = m->values[sb->rows[j]];
    gather(R, idx, k, mb);
    ppo_minibatch(&R->cfg, sb->n, mb[0], mb[1], mb[2], mb[3], T->new_lp, T->new_v, T->ent,
                  1.0f / (float)R->a->grad_accum, T->dlp, T->dv, s);
    if (!isfinite(s->total) || !isfinite(s->entropy))
        return err_set(e, "the minibatch's %s is not finite", isfinite(s->total) ? "entropy" : "loss");
    tfm_zero_head_grads(m);
    if (tfm_token_logprob_grad(m, sb->rows, sb->targets, sb->n, T->dlp, e) < 0)
        return -1;
    for (size_t j = 0; j < sb->n; j++)
        m->dvalues[sb->rows[j]] += T->dv[j];
    tfm_backward(m);
    return 0;
}

/* One optimizer step's K minibatches from order: minibatch k on rank k mod
 * P, whole, since trl's statistics and ratio skip are per minibatch; its
 * dropout draw is the one-process run's (first + k). The ranks' gradients
 * summed, then the step. */
static int update(ppo_run *R, long ep, const size_t *order, uint64_t first, float *mb[4],
                  ppo_mb_stats *s, ppo_stats_acc *acc, alarm_err *e)
{
    size_t M = (size_t)R->a->mini_batch, K = (size_t)R->a->grad_accum;
    size_t P = (size_t)dist_size();
    int rc = 0;
    tfm_zero_grad(&R->pol);
    for (size_t k = (size_t)dist_rank(); !rc && k < K; k += P) {
        tfm_dropout_seek(&R->pol, first + k);
        rc = minibatch(R, order + k * M, mb, s, e);
        if (!rc)
            ppo_stats_add(acc, s);
    }
    if (dist_agree(rc, e) < 0)
        return -1;
    size_t n;
    float *g = tfm_trainable_grads(&R->pol, &n);
    dist_sum_floats(g, n);
    float norm = tfm_optim_step(&R->pol, &R->tc.opt, (int)R->ts.step);
    R->ts.step++;
    acc->grad_norm_sum += norm;
    acc->updates++;
    return isfinite(norm) ? 0 : err_set(e, "epoch %ld: the gradient norm is not finite", ep + 1);
}

/* The early stop's policykl: the epoch's last minibatch's, from its rank. */
static double last_policykl(const ppo_run *R, const ppo_mb_stats *s)
{
    double kl = (size_t)dist_rank() == (size_t)(R->a->grad_accum - 1) % (size_t)dist_size()
                    ? s->policykl : 0;
    dist_sum_doubles(&kl, 1);
    return kl;
}

/* ppo_epochs passes of minibatches; early stop on the last policykl. */
static int epochs(ppo_run *R, ppo_stats_acc *acc, alarm_err *e)
{
    const ppo_args *a = R->a;
    size_t M = (size_t)a->mini_batch, K = (size_t)a->grad_accum, groups = R->n / (M * K);
    uint64_t chunks = (R->n + M - 1) / M; /* the old pass's dropout draws */
    size_t *order = malloc(R->n * sizeof *order);
    size_t maxtok = M * (size_t)R->maxT;
    float *buf = malloc(4 * maxtok * sizeof *buf);
    float *mb[4] = {buf, buf + maxtok, buf + 2 * maxtok, buf + 3 * maxtok};
    int rc = order && buf ? 0 : err_set(e, "out of memory");
    for (long ep = 0; !rc && ep < a->ppo_epochs; ep++) {
        train_order(order, R->n, R->t->seed, R->chain.step * a->ppo_epochs + ep);
        ppo_mb_stats s = {0};
        for (size_t g = 0; !rc && g < groups; g++) {
            rc = update(R, ep, order + g * K * M, chunks + ((uint64_t)ep * groups + g) * K, mb,
                        &s, acc, e);
        }
        acc->epochs = ep + 1;
        if (!rc && a->early_stop && last_policykl(R, &s) > 1.5 * a->target_kl) {
            acc->early_stopped = 1;
            break;
        }
    }
    free(order);
    free(buf);
    return rc;
}

static int alloc_tokens(ppo_run *R, alarm_err *e)
{
    ppo_tokens *T = &R->tok;
    T->first = malloc((R->n + 1) * sizeof *T->first);
    if (!T->first)
        return err_set(e, "out of memory");
    T->first[0] = 0;
    for (size_t i = 0; i < R->n; i++)
        T->first[i + 1] = T->first[i] + (size_t)R->recs[i].s.nr;
    T->ntok = T->first[R->n];
    size_t n = T->ntok, mb = (size_t)R->a->mini_batch * (size_t)R->maxT;
    float **arr[] = {&T->lp, &T->ref, &T->kl_full, &T->values, &T->dense, &T->kl,
                     &T->non_score, &T->rewards, &T->adv, &T->ret};
    for (size_t k = 0; k < sizeof arr / sizeof *arr; k++) /* zeroed: the old pass sums them */
        if (!(*arr[k] = calloc(n ? n : 1, sizeof(float))))
            return err_set(e, "out of memory");
    float **per_mb[] = {&T->new_lp, &T->new_v, &T->ent, &T->dlp, &T->dv};
    for (size_t k = 0; k < sizeof per_mb / sizeof *per_mb; k++)
        if (!(*per_mb[k] = malloc(mb * sizeof(float))))
            return err_set(e, "out of memory");
    for (size_t i = 0; i < R->n; i++)
        memcpy(T->dense + T->first[i], R->recs[i].dense, (size_t)R->recs[i].s.nr * sizeof(float));
    return seq_batch_init(&R->sb, (int)R->a->mini_batch, R->maxT, e);
}

int ppo_step(ppo_run *R, alarm_err *e)
{
    ppo_tokens *T = &R->tok;
    /* --dropout: the policy in training mode for all its passes, the old one
     * too, as trl 0.5 never switches it (alarm-ppo(1)); the reference stays in
     * eval mode. Each step of a chain its own masks, the same on a rerun. */
    if (R->t->dropout && tfm_set_dropout(&R->pol, 1, rng_at(R->t->seed, (uint64_t)R->chain.step), e) < 0)
        return -1;
    if (alloc_tokens(R, e) < 0 || old_pass(R, e) < 0)
        return -1;
    ppo_batch b = {.n = R->n, .first = T->first, .lp = T->lp, .ref = T->ref,
                   .kl_full = T->kl_full, .values = T->values, .dense = T->dense, .kl = T->kl,
                   .non_score = T->non_score, .rewards = T->rewards, .adv = T->adv, .ret = T->ret};
    ppo_rewards(&R->cfg, &b);
    ppo_stats_acc acc = {0};
    if (ppo_check_batch(R, &acc, e) < 0 || ppo_health(R, &acc, e) < 0 ||
        ppo_advantages(&R->cfg, &b, e) < 0 || epochs(R, &acc, e) < 0)
        return -1;
    ppo_stats_reduce(&acc);
    if (tfm_check_finite(&R->pol, e) < 0)
        return err_prefix(e, "after the update");
    return ppo_stats_make(R, &acc, e);
}
