/* run: the runs row and the batches of a recording tool (see run.h), in one
 * place instead of each tool's main. */
#include "run.h"

#include <cjson/cJSON.h>
#include <stdlib.h>

#include "out.h"

char *run_argv_json(int argc, char *const *argv)
{
    cJSON *a = cJSON_CreateArray();
    if (!a)
        return NULL;
    for (int i = 0; i < argc; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(argv[i]));
    char *s = cJSON_PrintUnformatted(a);
    cJSON_Delete(a);
    return s;
}

int run_start(tool_run *r, const tool *t, alarm_err *e)
{
    r->started = 0;
    r->db.h = NULL;
    if (!t->db)
        return 0;
    char *argv_json = run_argv_json(t->argc, t->argv);
    if (!argv_json)
        return err_set(e, "out of memory");
    int rc = db_open(&r->db, t->db, e);
    if (rc == 0)
        rc = db_run_start(&r->db, t->name, argv_json, &r->id, e);
    free(argv_json);
    r->started = rc == 0;
    return rc;
}

int run_batch_begin(tool_run *r, alarm_err *e)
{
    return r->db.h ? db_batch_begin(&r->db, e) : 0;
}

int run_batch_commit(tool_run *r, alarm_err *e)
{
    return r->db.h ? db_batch_commit(&r->db, e) : 0;
}

int run_end(tool_run *r, const tool *t, const char *failure)
{
    alarm_err e;
    int rc = 0;
    if (!r->db.h)
        return 0;
    if (!failure && db_batch_commit(&r->db, &e) < 0) {
        tool_error(t, "%s", e.msg);
        failure = e.msg;
        rc = -1;
    }
    if (failure) {
        db_batch_drop(&r->db);
        db_rollback(&r->db);
    }
    alarm_err e2;
    if (r->started && db_run_finish(&r->db, r->id, failure ? "failed" : "ok", failure, &e2) < 0) {
        tool_error(t, "%s", e2.msg);
        rc = -1;
    }
    db_close(&r->db);
    r->db.h = NULL;
    return rc;
}
