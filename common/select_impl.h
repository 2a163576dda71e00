/* select_impl: what the parts of alarm-select's record loop share
 * (select.c reads, select_group.c counts, select_out.c writes,
 * select_store.c records); not for other modules. */
#ifndef ALARM_SELECT_IMPL_H
#define ALARM_SELECT_IMPL_H

#include "select.h"

int select_oom(alarm_err *e);
/* Grows *p (elements of `size`) to hold at least n, zeroing the new part. */
int select_grow0(void *p, size_t *cap, size_t n, size_t size);

/* select_group.c: the current record into its prompt group (ending the
 * previous group when prompt_id changes); the group's pairs counted. */
int select_group_add(select_ctx *c, const jsonl_reader *r, const char *pid, alarm_err *e);
void select_group_flush(select_ctx *c);
/* The automatic selection, in rank order. */
int select_pick(select_ctx *c, alarm_err *e);

/* select_out.c: the record text line[0, len) out with its combined reward
 * (the row recorded too); kept for automatic selection, and written after. */
int select_emit(select_ctx *c, const char *line, size_t len, const reward_rec *rec,
                const char *file, long lineno, const char *id, const char *pid, alarm_err *e);
int select_keep(select_ctx *c, const jsonl_reader *r, const char *id, const char *pid,
                alarm_err *e);
int select_emit_kept(select_ctx *c, alarm_err *e);
/* ["a","b"]: the names of the aspects that combine ([] in holistic mode). */
int select_aspects_json(select_ctx *c, alarm_err *e);

/* select_store.c: the rows (no-ops without a store). */
int select_store_combined(select_ctx *c, const char *id, const char *pid,
                          const reward_summary *s, const char *dense, size_t dense_n,
                          alarm_err *e);
int select_store_rewards(select_ctx *c, const jsonl_reader *r, const cJSON *rewards,
                         const char *id, const char *pid, alarm_err *e);

#endif
