/* judge_store: alarm-judge's tables in the store: the response cache
 * (judge_cache, shared by every run) and the judgments of a run. Answers are
 * cached as they arrive so a killed run loses only its requests in flight;
 * the caller groups writes into transactions (judge_store_flush commits). */
#ifndef ALARM_JUDGE_STORE_H
#define ALARM_JUDGE_STORE_H

#include <stdint.h>

#include "db.h"
#include "judge.h"

typedef struct {
    db_store *db;
    int64_t run_id;
    sqlite3_stmt *get, *put, *judgment;
    int pending; /* writes in the open transaction */
} judge_store;

int judge_store_open(judge_store *s, db_store *db, int64_t run_id, alarm_err *e);
/* Commits what is pending and finalizes the statements. */
int judge_store_close(judge_store *s, alarm_err *e);

/* Looks `key` up: returns 1 with *response (malloc'd) set, 0 when absent. */
int judge_store_get(judge_store *s, const char *key, char **response, alarm_err *e);

int judge_store_put(judge_store *s, const char *key, const char *endpoint, const char *model,
                    const char *request, const char *response, double latency_ms,
                    alarm_err *e);

int judge_store_judgment(judge_store *s, const judge_rec *r, alarm_err *e);

/* Commits the open transaction, if any. */
int judge_store_flush(judge_store *s, alarm_err *e);

#endif
