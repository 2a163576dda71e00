/* alarm-rollout's input: each prompt record (alarm-formats(5) section 1)
 * encoded once and its -n samples queued on the engine, which runs as
 * soon as a batch is queued, so memory stays bounded whatever the input. */
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "out.h"
#include "rollout_cli.h"
#include "shard.h"

int rollout_take_prompt(void *user, jsonl_reader *rd, cJSON **rec, alarm_err *e)
{
    sampling *R = user;
    const rollout_args *a = R->a;
    const char *id, *prompt;
    if (jsonl_req_string(rd, *rec, NULL, "id", &id, e) < 0)
        return -1;
    if (!shard_takes(id, a->shard_i, a->shard_n))
        return 0;
    if (jsonl_req_string(rd, *rec, NULL, "prompt", &prompt, e) < 0)
        return -1;
    if (seq_encode(&R->s, &R->se, prompt, strlen(prompt), "", 0, e) < 0)
        return err_prefix(e, "%s:%ld: id \"%s\"", rd->name, rd->lineno, id);
    prompt_rec *p = calloc(1, sizeof *p);
    if (!p || !(p->id = strdup(id)) || !(p->ptok = malloc((size_t)R->s.np * sizeof *p->ptok))) {
        if (p)
            free(p->id);
        free(p);
        return err_set(e, "out of memory");
    }
    memcpy(p->ptok, R->s.ids, (size_t)R->s.np * sizeof *p->ptok);
    p->np = R->s.np;
    if (!(p->line = strdup(rd->line))) {
        free(p->id), free(p->ptok), free(p);
        return err_set(e, "out of memory");
    }
    p->len = rd->len;
    p->rec = *rec;
    *rec = NULL;
    p->left = (int)a->n;
    for (int k = 0; k < a->n; k++) {
        uint64_t seed = rollout_seed(R->t->seed, id, strlen(id), k);
        if (rollout_push(&R->r, p->ptok, p->np, k, seed, p, e) < 0) {
            while (k++ < a->n)
                rollout_drop(R, p);
            return -1;
        }
    }
    R->prompts++;
    if (R->t->progress) {
        double dt = clock_mono() - R->t0;
        tool_progress(R->t, "%ld prompts, %.0f tokens/s", R->prompts,
                      dt > 0 ? (double)R->r.tokens_out / dt : 0);
    }
    /* keep a batch queued so rows refill at once, and memory bounded */
    return rollout_run(&R->r, (size_t)a->batch, e);
}
