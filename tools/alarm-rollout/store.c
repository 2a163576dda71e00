/* alarm-rollout's store rows (alarm-formats(5) section 8): the run, each
 * prompt and each rollout, committed a --batch of whole prompts at a time,
 * so a killed or failed run leaves no prompt without all its samples. */
#include <stdlib.h>
#include <string.h>

#include "rollout_cli.h"

static const char prompt_sql[] =
    "INSERT INTO prompts (run_id, id, prompt, reference, meta) VALUES (?, ?, ?, ?, ?)";
static const char rollout_sql[] =
    "INSERT INTO rollouts (run_id, id, prompt_id, sample, response, prompt_tokens, "
    "response_tokens, offsets, logprobs, finish, policy, seed) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

int rstore_open(rollout_store *s, const tool *t, alarm_err *e)
{
    if (run_start(&s->run, t, e) < 0)
        return -1;
    if (!s->run.db.h)
        return 0;
    if (db_prepare(&s->run.db, &s->st_prompt, prompt_sql, e) < 0 ||
        db_prepare(&s->run.db, &s->st_rollout, rollout_sql, e) < 0)
        return -1;
    return run_batch_begin(&s->run, e);
}

/* A field of the record as JSON text (malloc'd), or NULL when absent. */
static char *field_json(const cJSON *rec, const char *name)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(rec, name);
    if (!f)
        return NULL;
    return cJSON_IsString(f) ? strdup(f->valuestring) : cJSON_PrintUnformatted(f);
}

static int put_prompt(rollout_store *s, const prompt_rec *p, alarm_err *e)
{
    const cJSON *prompt = cJSON_GetObjectItemCaseSensitive(p->rec, "prompt");
    char *ref = field_json(p->rec, "reference"), *meta = field_json(p->rec, "meta");
    db_value v[] = {db_int(s->run.id), db_text(p->id), db_text(prompt->valuestring), db_text(ref),
                    db_text(meta)};
    int rc = db_put(&s->run.db, s->st_prompt, v, 5, e);
    free(ref);
    free(meta);
    return rc;
}

int rstore_rollout(rollout_store *s, const prompt_rec *p, const char *id, const rollout_out *o,
                   const rollout_cols *c, alarm_err *e)
{
    if (!s->run.db.h)
        return 0;
    if (o->sample == 0 && put_prompt(s, p, e) < 0)
        return -1;
    db_value v[] = {db_int(s->run.id), db_text(id), db_text(p->id), db_int(o->sample),
                    db_textn(c->response, c->response_len), db_text(c->prompt_tokens),
                    db_text(c->response_tokens), db_text(c->offsets), db_text(c->logprobs),
                    db_text(o->finish == ROLLOUT_EOS ? "eos" : "length"), db_text(c->policy),
                    db_int((int64_t)c->seed)};
    if (db_put(&s->run.db, s->st_rollout, v, 12, e) < 0)
        return -1;
    /* a prompt's last sample: the batch may end here */
    if (p->left == 1 && ++s->prompts_in_batch == s->batch) {
        s->prompts_in_batch = 0;
        if (run_batch_commit(&s->run, e) < 0 || run_batch_begin(&s->run, e) < 0)
            return -1;
    }
    return 0;
}

int rstore_close(rollout_store *s, const tool *t, const char *failure)
{
    if (s->st_prompt)
        sqlite3_finalize(s->st_prompt);
    if (s->st_rollout)
        sqlite3_finalize(s->st_rollout);
    s->st_prompt = s->st_rollout = NULL;
    return run_end(&s->run, t, failure);
}
