/* drive: the record loop (see drive.h). Errors always carry the place:
 * a callback's message without "FILE:LINE:" gets the current record's. */
#include "drive.h"

#include <errno.h>
#include <string.h>

#include "clock.h"
#include "out.h"

/* "FILE:LINE: " in front of e's message unless it already starts with FILE:. */
static int locate(const jsonl_reader *r, alarm_err *e)
{
    size_t n = strlen(r->name);
    if (strncmp(e->msg, r->name, n) != 0 || e->msg[n] != ':')
        err_prefix(e, "%s:%ld", r->name, r->lineno);
    return -1;
}

typedef struct {
    double t0, next;
} pace;

static void show_progress(drive *d, pace *p)
{
    if (!d->t->progress || (d->records & 255) != 0)
        return;
    double t = clock_mono();
    if (t < p->next)
        return;
    p->next = t + 0.25;
    double rate = t > p->t0 ? (double)d->records / (t - p->t0) : 0;
    tool_progress(d->t, "%llu records, %.0f records/s", d->records, rate);
}

static int drive_one(drive *d, const char *path, pace *p, alarm_err *e)
{
    jsonl_reader r;
    if (jsonl_open(&r, path, e) < 0)
        return -1;
    int rc;
    for (;;) {
        cJSON *rec = NULL;
        rc = d->raw ? jsonl_next_line(&r, e) : jsonl_next(&r, &rec, e);
        if (rc <= 0)
            break;
        d->records++;
        const cJSON *id = d->unique_ids && rec ? cJSON_GetObjectItemCaseSensitive(rec, "id") : NULL;
        if (cJSON_IsString(id))
            rc = record_ids_add(&d->ids, "id", id->valuestring, strlen(id->valuestring),
                                r.name, r.lineno, e);
        if (rc >= 0)
            rc = d->fn(d->user, &r, &rec, e);
        cJSON_Delete(rec);
        if (rc < 0) {
            rc = tool_stdout_failed() ? -2 : locate(&r, e);
            break;
        }
        if (tool_stdout_failed()) {
            rc = -2;
            break;
        }
        show_progress(d, p);
    }
    if (rc == -2)
        rc = err_set(e, "error writing standard output: %s", strerror(errno ? errno : EIO));
    jsonl_close(&r);
    return rc < 0 ? -1 : 0;
}

int drive_files(drive *d, alarm_err *e)
{
    pace p = {clock_mono(), 0};
    int n = d->t->nargs;
    int rc = 0;
    for (int i = 0; i < (n ? n : 1) && rc == 0; i++)
        rc = drive_one(d, n ? d->t->args[i] : "-", &p, e);
    tool_progress_done(d->t);
    record_ids_free(&d->ids);
    return rc;
}
