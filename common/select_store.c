/* select_store: the store part of alarm-select's loop (see select.h): a
 * combined_rewards row per record and a rewards row per (record, reward),
 * holistic included (alarm-formats(5) section 8), all in the run's one
 * transaction. Rows are bound from the record's own text and parsed
 * rewards, never a re-printed copy of the record. */
#include "select_impl.h"

int select_store_into(select_ctx *c, db_store *db, int64_t run_id, alarm_err *e)
{
    c->db = db;
    c->run_id = run_id;
    return db_prepare(db, &c->st_comb,
                      "INSERT INTO combined_rewards (run_id, rollout_id, prompt_id, mode, holistic, "
                      "gate, aspects, dense, total) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", e);
}

int select_store_combined(select_ctx *c, const char *id, const char *pid,
                          const reward_summary *s, const char *dense, size_t dense_n,
                          alarm_err *e)
{
    db_value v[] = {db_int(c->run_id), db_text(id), db_text(pid),
                    db_text(reward_mode_name(c->o.rc.mode)), db_real(s->holistic),
                    s->gate < 0 ? db_null() : db_int(s->gate), db_text(c->aspects_json),
                    db_textn(dense, dense_n), db_real(s->total)};
    return db_put(c->db, c->st_comb, v, 9, e);
}

int select_store_rewards(select_ctx *c, const jsonl_reader *r, const cJSON *rewards,
                         const char *id, const char *pid, alarm_err *e)
{
    for (const cJSON *it = rewards->child; it; it = it->next)
        if (record_reward_read(&c->cur.rr, it, c->cur.resp_len, r, e) < 0 ||
            record_reward_row(c->db, &c->st_rew, c->run_id, id, pid, it->string, &c->cur.rr,
                              e) < 0)
            return jsonl_fail(r, e, "record \"%s\": %s", id, e->msg);
    return 0;
}
