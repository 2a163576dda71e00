/* alarm-model logprobs' set-up: the model (logits a chunk of rows at a
 * time), the tokenizer, the sequence encoder and the batch buffers. */
#include <stdlib.h>

#include "logprobs.h"

int logprobs_setup(run *R, alarm_err *e)
{
    tfm_config cfg;
    if (tfm_config_load(&cfg, R->model, e) < 0)
        return -1;
    if (!cfg.lm_head)
        return err_set(e, "%s: %s has no LM head", R->model, cfg.model_type);
    int max_len = tfm_config_max_len(&cfg);
    if (!R->max_tokens)
        R->max_tokens = max_len < 1024 ? max_len : 1024;
    if (R->max_tokens > max_len) {
        err_set(e, "--max-tokens %ld exceeds the model's %d positions%s", R->max_tokens,
                max_len, max_len < cfg.maxT ? " (its sliding window)" : "");
        return SETUP_USAGE;
    }
    /* logits a chunk of rows at a time: a batch's (B,T,V) would be 823 MB for
     * GPT-2 at the defaults, several GB for 128k-token vocabularies */
    int flags = TFM_LOAD_LOGITS_ROWS | (R->t->no_check_weights ? TFM_LOAD_NO_CHECK : 0);
    if (tfm_load(&R->m, R->model, (int)R->batch, (int)R->max_tokens, flags, e) < 0)
        return -1;
    if (R->t->threads)
        tfm_set_threads(&R->m, R->t->threads);
    if (bpe_load(&R->tok, R->tokenizer ? R->tokenizer : R->model, e) < 0)
        return -1;
    R->items = calloc((size_t)R->batch, sizeof *R->items);
    R->pending = calloc((size_t)R->batch, sizeof *R->pending);
    R->lp = malloc((size_t)R->batch * R->max_tokens * sizeof *R->lp);
    if (!R->items || !R->pending || !R->lp)
        return err_set(e, "out of memory");
    R->se = (seq_enc){.tok = R->tok, .max_tokens = (int)R->max_tokens, .vocab = R->m.cfg.V,
                      .trunc = SEQ_TRUNC_ERROR, .limit_name = "--max-tokens"};
    if (seq_enc_init(&R->se, e) < 0)
        return -1;
    return seq_batch_init(&R->sb, (int)R->batch, (int)R->max_tokens, e);
}

void logprobs_free(run *R)
{
    for (int b = 0; b < R->n; b++)
        logprobs_item_free(&R->items[b]);
    free(R->items);
    free(R->pending);
    free(R->lp);
    seq_batch_free(&R->sb);
    seq_enc_free(&R->se);
    bpe_free(R->tok);
    tfm_free(&R->m);
}
