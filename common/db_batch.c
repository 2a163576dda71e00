/* db_batch: a tool's rows kept in memory until its batch is finished, then
 * written in one short transaction (see db.h). Also the copying and binding
 * of db_value rows that db_writer shares. */
#include <stdlib.h>

#include "db.h"

enum { MAX_SQL = 16 };

typedef struct staged {
    struct staged *next;
    int sql; /* index into the batch's statements */
    int n;
    db_value *v; /* in the same allocation, with their text */
} staged;

struct db_batch {
    staged *head, **tail;
    char *sql[MAX_SQL]; /* the statements' text, each once */
    int nsql;
};

void *db_values_pack(size_t head, const db_value *v, int n, db_value **copy)
{
    size_t len = 0;
    for (int k = 0; k < n; k++)
        if (v[k].type == DB_VALUE_TEXT)
            len += db_value_len(&v[k]) + 1;
    char *block = malloc(head + (size_t)n * sizeof *v + len);
    if (!block)
        return NULL;
    db_value *out = (db_value *)(block + head);
    char *p = (char *)(out + n);
    for (int k = 0; k < n; k++) {
        out[k] = v[k];
        if (v[k].type == DB_VALUE_TEXT) {
            size_t l = db_value_len(&v[k]);
            memcpy(p, v[k].s, l);
            p[l] = '\0';
            out[k].s = p;
            out[k].n = l;
            out[k].has_n = 1;
            p += l + 1;
        }
    }
    *copy = out;
    return block;
}

int db_bind_values(db_store *db, sqlite3_stmt *st, const db_value *v, int n, alarm_err *e)
{
    for (int k = 0; k < n; k++) {
        int rc = v[k].type == DB_VALUE_INT  ? sqlite3_bind_int64(st, k + 1, v[k].i)
                 : v[k].type == DB_VALUE_REAL ? sqlite3_bind_double(st, k + 1, v[k].d)
                 : v[k].type == DB_VALUE_TEXT
                     ? sqlite3_bind_text(st, k + 1, v[k].s, (int)db_value_len(&v[k]), SQLITE_STATIC)
                     : sqlite3_bind_null(st, k + 1);
        if (rc != SQLITE_OK)
            return err_set(e, "%s: binding value %d: %s", db->path, k + 1, sqlite3_errmsg(db->h));
    }
    return 0;
}

static int write_now(db_store *db, sqlite3_stmt *st, const db_value *v, int n, alarm_err *e)
{
    int rc = db_bind_values(db, st, v, n, e);
    if (rc == 0)
        rc = db_step_done(db, st, e);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st); /* nothing keeps pointing into the values */
    return rc;
}

int db_batch_begin(db_store *db, alarm_err *e)
{
    if (db->batch)
        return 0; /* one is open: it goes on */
    struct db_batch *b = calloc(1, sizeof *b);
    if (!b)
        return err_set(e, "out of memory");
    b->tail = &b->head;
    db->batch = b;
    return 0;
}

static int sql_index(struct db_batch *b, const char *sql, alarm_err *e)
{
    for (int i = 0; i < b->nsql; i++)
        if (!strcmp(b->sql[i], sql))
            return i;
    if (b->nsql == MAX_SQL)
        return err_set(e, "a batch of more than %d statements", MAX_SQL);
    if (!(b->sql[b->nsql] = strdup(sql)))
        return err_set(e, "out of memory");
    return b->nsql++;
}

int db_put(db_store *db, sqlite3_stmt *st, const db_value *v, int n, alarm_err *e)
{
    struct db_batch *b = db->batch;
    if (!b)
        return write_now(db, st, v, n, e);
    int sql = sql_index(b, sqlite3_sql(st), e);
    if (sql < 0)
        return -1;
    db_value *copy;
    staged *r = db_values_pack(sizeof *r, v, n, &copy);
    if (!r)
        return err_set(e, "out of memory");
    *r = (staged){.sql = sql, .n = n, .v = copy};
    *b->tail = r;
    b->tail = &r->next;
    return 0;
}

/* Writes the rows in one transaction, each statement prepared once. */
static int write_batch(db_store *db, struct db_batch *b, alarm_err *e)
{
    sqlite3_stmt *st[MAX_SQL] = {0};
    int rc = db_begin(db, e);
    for (staged *r = b->head; rc == 0 && r; r = r->next) {
        if (!st[r->sql])
            rc = db_prepare(db, &st[r->sql], b->sql[r->sql], e);
        if (rc == 0)
            rc = write_now(db, st[r->sql], r->v, r->n, e);
    }
    if (rc == 0)
        rc = db_commit(db, e);
    if (rc < 0)
        db_rollback(db);
    for (int i = 0; i < b->nsql; i++)
        sqlite3_finalize(st[i]);
    return rc;
}

int db_batch_commit(db_store *db, alarm_err *e)
{
    struct db_batch *b = db->batch;
    int rc = b && b->head ? write_batch(db, b, e) : 0;
    db_batch_drop(db);
    return rc;
}

void db_batch_drop(db_store *db)
{
    struct db_batch *b = db->batch;
    if (!b)
        return;
    for (staged *r = b->head, *next; r; r = next) {
        next = r->next;
        free(r);
    }
    for (int i = 0; i < b->nsql; i++)
        free(b->sql[i]);
    free(b);
    db->batch = NULL;
}
