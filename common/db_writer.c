/* db_writer: a queue of rows and one thread that writes them (see
 * db_writer.h). Each row is one allocation holding its values and their
 * text; the thread takes the whole queue under the lock and writes it
 * outside the lock, in one transaction, so producers never wait for the disk. */
#include "db_writer.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"

enum { MAX_STMTS = 32 };

typedef struct row {
    struct row *next;
    int id;               /* the statement */
    db_bind_fn bind;      /* NULL: bind v[0..n) */
    void *arg;
    void (*free_arg)(void *);
    int n;
    db_value *v;          /* in the same allocation, with their text */
} row;

struct db_writer {
    db_store db;
    sqlite3_stmt *stmts[MAX_STMTS];
    char *sqls[MAX_STMTS];
    int nstmts;
    pthread_t thread;
    pthread_mutex_t lock;      /* the queue, the counters and the error */
    pthread_mutex_t conn;      /* the connection: the thread's batch or a prepare */
    pthread_cond_t wake, done; /* rows queued / a batch written */
    row *head, *tail;
    long queued, settled;      /* rows queued, and written or dropped, so far */
    db_writer_stats stats;
    int stop, failed;
    alarm_err err;             /* the first failure */
};

static void row_free(row *r)
{
    if (r->free_arg)
        r->free_arg(r->arg);
    free(r);
}

/* Records the first failure (the lock held). */
static void set_failed(db_writer *w, const alarm_err *e)
{
    if (!w->failed) {
        w->failed = 1;
        w->err = *e;
    }
}

static int enqueue(db_writer *w, row *r, alarm_err *e)
{
    pthread_mutex_lock(&w->lock);
    int failed = w->failed;
    if (failed) {
        if (e)
            *e = w->err;
    } else if (r->id < 0 || r->id >= w->nstmts) {
        failed = 1;
        err_set(e, "%s: writer: no statement %d", w->db.path, r->id);
    } else {
        if (w->tail)
            w->tail->next = r;
        else
            w->head = r;
        w->tail = r;
        w->queued++;
        pthread_cond_signal(&w->wake);
    }
    pthread_mutex_unlock(&w->lock);
    if (failed)
        row_free(r);
    return failed ? -1 : 0;
}

int db_writer_put(db_writer *w, int id, const db_value *v, int n, alarm_err *e)
{
    db_value *copy;
    row *r = db_values_pack(sizeof *r, v, n, &copy);
    if (!r)
        return err_set(e, "out of memory");
    *r = (row){.id = id, .n = n, .v = copy};
    return enqueue(w, r, e);
}

int db_writer_put_fn(db_writer *w, int id, db_bind_fn bind, void *arg, void (*free_arg)(void *),
                     alarm_err *e)
{
    row *r = malloc(sizeof *r);
    if (!r) {
        if (free_arg)
            free_arg(arg);
        return err_set(e, "out of memory");
    }
    *r = (row){.id = id, .bind = bind, .arg = arg, .free_arg = free_arg};
    return enqueue(w, r, e);
}

static int write_row(db_writer *w, const row *r, alarm_err *e)
{
    sqlite3_stmt *st = w->stmts[r->id];
    int rc = r->bind ? r->bind(st, r->arg, e) : db_bind_values(&w->db, st, r->v, r->n, e);
    if (rc == 0)
        rc = db_step_done(&w->db, st, e);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st); /* nothing keeps pointing into the row */
    return rc;
}

/* Writes a batch in one transaction, or none of it; frees it whatever
 * happens. Returns the number of rows, or -1. */
static long write_batch(db_writer *w, row *batch, alarm_err *e)
{
    pthread_mutex_lock(&w->conn);
    long n = 0;
    int rc = db_begin(&w->db, e);
    for (row *r = batch, *next; r; r = next) {
        next = r->next;
        if (rc == 0)
            rc = write_row(w, r, e);
        row_free(r);
        n++;
    }
    if (rc == 0)
        rc = db_commit(&w->db, e);
    if (rc < 0)
        db_rollback(&w->db);
    pthread_mutex_unlock(&w->conn);
    return rc < 0 ? -1 : n;
}

static void *writer_main(void *arg)
{
    db_writer *w = arg;
    pthread_mutex_lock(&w->lock);
    for (;;) {
        while (!w->head && !w->stop)
            pthread_cond_wait(&w->wake, &w->lock);
        if (!w->head)
            break; /* stopping, nothing left */
        row *batch = w->head;
        w->head = w->tail = NULL;
        long n = 0;
        for (row *r = batch; r; r = r->next)
            n++;
        int failed = w->failed;
        pthread_mutex_unlock(&w->lock);
        alarm_err e;
        long written = 0;
        if (failed) /* nothing more is written after a failure */
            for (row *r = batch, *next; r; r = next) {
                next = r->next;
                row_free(r);
            }
        else
            written = write_batch(w, batch, &e);
        pthread_mutex_lock(&w->lock);
        if (written < 0)
            set_failed(w, &e);
        else if (!failed) {
            w->stats.rows += written;
            w->stats.commits++;
        }
        w->settled += n;
        pthread_cond_broadcast(&w->done);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

int db_writer_start(db_writer **out, const char *path, alarm_err *e)
{
    *out = NULL;
    db_writer *w = calloc(1, sizeof *w);
    if (!w)
        return err_set(e, "out of memory");
    if (db_open(&w->db, path, e) < 0) {
        free(w);
        return -1;
    }
    pthread_mutex_init(&w->lock, NULL);
    pthread_mutex_init(&w->conn, NULL);
    pthread_cond_init(&w->wake, NULL);
    pthread_cond_init(&w->done, NULL);
    if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
        db_close(&w->db);
        pthread_mutex_destroy(&w->lock);
        pthread_mutex_destroy(&w->conn);
        pthread_cond_destroy(&w->wake);
        pthread_cond_destroy(&w->done);
        free(w);
        return err_set(e, "%s: cannot start the store's writer thread", path);
    }
    *out = w;
    return 0;
}

int db_writer_stmt(db_writer *w, const char *sql, int *id, alarm_err *e)
{
    int rc = 0;
    pthread_mutex_lock(&w->conn);
    pthread_mutex_lock(&w->lock);
    int k = 0;
    while (k < w->nstmts && strcmp(w->sqls[k], sql) != 0)
        k++;
    pthread_mutex_unlock(&w->lock);
    if (k == w->nstmts) {
        char *copy = NULL;
        sqlite3_stmt *st = NULL;
        if (k == MAX_STMTS)
            rc = err_set(e, "%s: writer: more than %d statements", w->db.path, MAX_STMTS);
        else if (!(copy = strdup(sql)))
            rc = err_set(e, "out of memory");
        else
            rc = db_prepare(&w->db, &st, sql, e);
        if (rc < 0)
            free(copy);
        else {
            pthread_mutex_lock(&w->lock);
            w->stmts[k] = st;
            w->sqls[k] = copy;
            w->nstmts++;
            pthread_mutex_unlock(&w->lock);
        }
    }
    pthread_mutex_unlock(&w->conn);
    *id = rc < 0 ? -1 : k;
    return rc;
}

int db_writer_flush(db_writer *w, alarm_err *e)
{
    pthread_mutex_lock(&w->lock);
    long target = w->queued;
    while (w->settled < target && !w->failed)
        pthread_cond_wait(&w->done, &w->lock);
    int rc = w->failed ? -1 : 0;
    if (rc < 0 && e)
        *e = w->err;
    pthread_mutex_unlock(&w->lock);
    return rc;
}

int db_writer_check(db_writer *w, alarm_err *e)
{
    pthread_mutex_lock(&w->lock);
    int rc = w->failed ? -1 : 0;
    if (rc < 0 && e)
        *e = w->err;
    pthread_mutex_unlock(&w->lock);
    return rc;
}

db_writer_stats db_writer_get_stats(db_writer *w)
{
    pthread_mutex_lock(&w->lock);
    db_writer_stats s = w->stats;
    pthread_mutex_unlock(&w->lock);
    return s;
}

int db_writer_finish(db_writer *w, alarm_err *e)
{
    if (!w)
        return 0;
    pthread_mutex_lock(&w->lock);
    w->stop = 1;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    for (int k = 0; k < w->nstmts; k++) {
        sqlite3_finalize(w->stmts[k]);
        free(w->sqls[k]);
    }
    int rc = w->failed ? -1 : 0;
    if (rc < 0 && e)
        *e = w->err;
    if (sqlite3_close(w->db.h) != SQLITE_OK && rc == 0)
        rc = err_set(e, "%s: closing the store: %s", w->db.path, sqlite3_errmsg(w->db.h));
    pthread_mutex_destroy(&w->lock);
    pthread_mutex_destroy(&w->conn);
    pthread_cond_destroy(&w->wake);
    pthread_cond_destroy(&w->done);
    free(w);
    return rc;
}
