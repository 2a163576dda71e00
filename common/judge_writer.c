/* judge_writer: a queue of rows and one thread that writes them (see
 * judge_writer.h). Items are copied into one allocation each; the thread
 * takes the whole queue under the lock and writes it outside the lock, in
 * one transaction, so producers never wait for the disk. */
#include "judge_writer.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "judge_store.h"

enum { ITEM_PUT, ITEM_JUDGMENT };

/* A row to write. str[] point into text: for a cache row key, endpoint,
 * model, request, response; for a judgment the strings of rec, which point
 * into text too. */
typedef struct item {
    struct item *next;
    int kind;
    double latency_ms;
    judge_rec rec;
    const char *str[7];
    char text[];
} item;

struct judge_writer {
    db_store db;
    judge_store store;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    item *head, *tail;
    int stop, failed;
    alarm_err err; /* the first failure */
};

/* A new item holding copies of s[0..n) (NULLs stay NULL) in str[]. */
static item *item_new(int kind, const char *const *s, int n)
{
    size_t len = 0;
    for (int i = 0; i < n; i++)
        len += s[i] ? strlen(s[i]) + 1 : 0;
    item *it = malloc(sizeof *it + len);
    if (!it)
        return NULL;
    memset(it, 0, sizeof *it);
    it->kind = kind;
    char *p = it->text;
    for (int i = 0; i < n; i++)
        if (s[i]) {
            size_t l = strlen(s[i]) + 1;
            memcpy(p, s[i], l);
            it->str[i] = p;
            p += l;
        }
    return it;
}

static int enqueue(judge_writer *w, item *it, alarm_err *e)
{
    if (!it)
        return err_set(e, "out of memory");
    pthread_mutex_lock(&w->lock);
    int failed = w->failed;
    if (failed)
        *e = w->err;
    else {
        if (w->tail)
            w->tail->next = it;
        else
            w->head = it;
        w->tail = it;
        pthread_cond_signal(&w->wake);
    }
    pthread_mutex_unlock(&w->lock);
    if (failed)
        free(it);
    return failed ? -1 : 0;
}

int judge_writer_put(judge_writer *w, const char *key, const char *endpoint, const char *model,
                     const char *request, const char *response, double latency_ms,
                     alarm_err *e)
{
    const char *s[5] = {key, endpoint, model, request, response};
    item *it = item_new(ITEM_PUT, s, 5);
    if (it)
        it->latency_ms = latency_ms;
    return enqueue(w, it, e);
}

int judge_writer_judgment(judge_writer *w, const judge_rec *r, alarm_err *e)
{
    const char *s[7] = {r->prompt_id, r->a, r->b, r->order, r->judge, r->error, r->cache_key};
    item *it = item_new(ITEM_JUDGMENT, s, 7);
    if (it) {
        it->rec = *r;
        it->rec.prompt_id = it->str[0], it->rec.a = it->str[1], it->rec.b = it->str[2];
        it->rec.order = it->str[3], it->rec.judge = it->str[4], it->rec.error = it->str[5];
        it->rec.cache_key = it->str[6];
    }
    return enqueue(w, it, e);
}

/* Writes a batch in one transaction; frees it whatever happens. */
static int write_batch(judge_writer *w, item *batch, alarm_err *e)
{
    int rc = judge_store_begin(&w->store, e);
    for (item *it = batch, *next; it; it = next) {
        next = it->next;
        if (rc == 0)
            rc = it->kind == ITEM_PUT
                     ? judge_store_put(&w->store, it->str[0], it->str[1], it->str[2], it->str[3],
                                       it->str[4], it->latency_ms, e)
                     : judge_store_judgment(&w->store, &it->rec, e);
        free(it);
    }
    if (rc == 0)
        rc = judge_store_flush(&w->store, e);
    if (rc < 0)
        db_rollback(&w->db);
    return rc;
}

static void *writer_main(void *arg)
{
    judge_writer *w = arg;
    pthread_mutex_lock(&w->lock);
    for (;;) {
        while (!w->head && !w->stop)
            pthread_cond_wait(&w->wake, &w->lock);
        if (!w->head)
            break; /* stopping, nothing left */
        item *batch = w->head;
        w->head = w->tail = NULL;
        int failed = w->failed;
        pthread_mutex_unlock(&w->lock);
        alarm_err e;
        int rc = 0;
        if (failed) {
            for (item *it = batch, *next; it; it = next) {
                next = it->next;
                free(it);
            }
        } else
            rc = write_batch(w, batch, &e);
        pthread_mutex_lock(&w->lock);
        if (rc < 0 && !w->failed) {
            w->failed = 1;
            w->err = e;
        }
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

int judge_writer_start(judge_writer **out, const char *db_path, int64_t run_id, alarm_err *e)
{
    *out = NULL;
    judge_writer *w = calloc(1, sizeof *w);
    if (!w)
        return err_set(e, "out of memory");
    if (db_open(&w->db, db_path, e) < 0) {
        free(w);
        return -1;
    }
    if (judge_store_open(&w->store, &w->db, run_id, e) < 0) {
        db_close(&w->db);
        free(w);
        return -1;
    }
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->wake, NULL);
    if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
        judge_store_close(&w->store, NULL);
        db_close(&w->db);
        pthread_mutex_destroy(&w->lock);
        pthread_cond_destroy(&w->wake);
        free(w);
        return err_set(e, "cannot start the store's writer thread");
    }
    *out = w;
    return 0;
}

int judge_writer_finish(judge_writer *w, alarm_err *e)
{
    if (!w)
        return 0;
    pthread_mutex_lock(&w->lock);
    w->stop = 1;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    int rc = w->failed ? -1 : 0;
    if (rc < 0 && e)
        *e = w->err;
    if (judge_store_close(&w->store, rc == 0 ? e : NULL) < 0)
        rc = -1;
    db_close(&w->db);
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->wake);
    free(w);
    return rc;
}
