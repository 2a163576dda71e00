/* Unit tests for db_writer: rows of every type written and committed, group
 * commit (rows queued while the store is locked go in one transaction), rows
 * bound by a callback, rows from several threads, an SQLite error from the
 * writer's thread reported with the file named (and nothing written after
 * it), and shutdown writing what is queued and freeing what is dropped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "db_writer.h"
#include "lib/tmpdir.h"

static char dir[256], path[300];

static const char insert_sql[] = "INSERT INTO t (k, i, r, s) VALUES (?, ?, ?, ?)";

static int setup(void **state)
{
    (void)state;
    tmpdir_make(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/store.db", dir);
    db_store db;
    alarm_err e;
    assert_int_equal(db_open(&db, path, &e), 0);
    assert_int_equal(db_exec(&db, "CREATE TABLE t (k INTEGER PRIMARY KEY, i, r, s)", &e), 0);
    db_close(&db);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tmpdir_remove(dir);
    return 0;
}

static int64_t query_int(const char *sql)
{
    sqlite3 *h;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(h);
    return v;
}

static int put_row(db_writer *w, int id, int64_t k, alarm_err *e)
{
    char s[32];
    snprintf(s, sizeof s, "row %lld", (long long)k);
    db_value v[4] = {db_int(k), k % 3 ? db_int(k * 10) : db_null(), db_real((double)k / 4),
                     db_text(s)};
    return db_writer_put(w, id, v, 4, e);
}

static void writes_every_type_and_dedupes_statements(void **state)
{
    (void)state;
    db_writer *w;
    alarm_err e;
    int id, id2;
    assert_int_equal(db_writer_start(&w, path, &e), 0);
    assert_int_equal(db_writer_stmt(w, insert_sql, &id, &e), 0);
    assert_int_equal(db_writer_stmt(w, insert_sql, &id2, &e), 0);
    assert_int_equal(id, id2);
    for (int64_t k = 1; k <= 500; k++)
        assert_int_equal(put_row(w, id, k, &e), 0);
    assert_int_equal(db_writer_flush(w, &e), 0);
    assert_int_equal(query_int("SELECT count(*) FROM t"), 500);
    assert_int_equal(db_writer_get_stats(w).rows, 500);
    assert_int_equal(db_writer_finish(w, &e), 0);
    assert_int_equal(query_int("SELECT count(*) FROM t WHERE i IS NULL"), 166);
    assert_int_equal(query_int("SELECT i FROM t WHERE k = 7"), 70);
    assert_int_equal(query_int("SELECT r * 4 FROM t WHERE k = 9"), 9);
    assert_int_equal(query_int("SELECT count(*) FROM t WHERE s = 'row 123'"), 1);
}

static void rows_queued_while_locked_commit_together(void **state)
{
    (void)state;
    db_writer *w;
    alarm_err e;
    int id;
    assert_int_equal(db_writer_start(&w, path, &e), 0);
    assert_int_equal(db_writer_stmt(w, insert_sql, &id, &e), 0);
    sqlite3 *h;
    assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
    assert_int_equal(sqlite3_exec(h, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    /* The thread takes the first rows and waits for the lock; the rest queue. */
    for (int64_t k = 1; k <= 200; k++)
        assert_int_equal(put_row(w, id, k, &e), 0);
    assert_int_equal(sqlite3_exec(h, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
    assert_int_equal(db_writer_flush(w, &e), 0);
    db_writer_stats s = db_writer_get_stats(w);
    assert_int_equal(s.rows, 200);
    assert_true(s.commits >= 1 && s.commits <= 2);
    assert_int_equal(db_writer_finish(w, &e), 0);
    assert_int_equal(query_int("SELECT count(*) FROM t"), 200);
}

static int frees;

static void count_free(void *p)
{
    frees++;
    free(p);
}

static int bind_key(sqlite3_stmt *st, void *arg, alarm_err *e)
{
    int64_t k = *(int64_t *)arg;
    if (k < 0)
        return err_set(e, "bad key %lld", (long long)k);
    return sqlite3_bind_int64(st, 1, k) == SQLITE_OK ? 0 : err_set(e, "bind failed");
}

static int put_key_fn(db_writer *w, int id, int64_t k, alarm_err *e)
{
    int64_t *arg = malloc(sizeof *arg);
    assert_non_null(arg);
    *arg = k;
    return db_writer_put_fn(w, id, bind_key, arg, count_free, e);
}

static void callback_rows_and_their_errors(void **state)
{
    (void)state;
    db_writer *w;
    alarm_err e;
    int id;
    frees = 0;
    assert_int_equal(db_writer_start(&w, path, &e), 0);
    assert_int_equal(db_writer_stmt(w, "INSERT INTO t (k) VALUES (?)", &id, &e), 0);
    for (int64_t k = 1; k <= 10; k++)
        assert_int_equal(put_key_fn(w, id, k, &e), 0);
    assert_int_equal(db_writer_flush(w, &e), 0);
    assert_int_equal(frees, 10);
    assert_int_equal(put_key_fn(w, id, -5, &e), 0); /* fails on the thread */
    assert_int_equal(db_writer_flush(w, &e), -1);
    assert_string_equal(e.msg, "bad key -5");
    /* From now on every call fails with the first error, and frees what it was given. */
    memset(&e, 0, sizeof e);
    assert_int_equal(put_key_fn(w, id, 11, &e), -1);
    assert_string_equal(e.msg, "bad key -5");
    assert_int_equal(frees, 12);
    assert_int_equal(db_writer_finish(w, &e), -1);
    assert_string_equal(e.msg, "bad key -5");
    assert_int_equal(query_int("SELECT count(*) FROM t"), 10);
}

static void sqlite_errors_name_the_file_and_stop_the_writer(void **state)
{
    (void)state;
    db_writer *w;
    alarm_err e;
    int id;
    assert_int_equal(db_writer_start(&w, path, &e), 0);
    assert_int_equal(db_writer_stmt(w, "INSERT INTO nosuch (k) VALUES (?)", &id, &e), -1);
    assert_non_null(strstr(e.msg, path));
    assert_non_null(strstr(e.msg, "no such table"));
    assert_int_equal(db_writer_stmt(w, insert_sql, &id, &e), 0);
    assert_int_equal(db_writer_put(w, id + 1, NULL, 0, &e), -1); /* no such statement */
    assert_int_equal(db_writer_check(w, &e), 0);
    assert_int_equal(put_row(w, id, 1, &e), 0);
    assert_int_equal(put_row(w, id, 1, &e), 0); /* the same primary key */
    assert_int_equal(db_writer_flush(w, &e), -1);
    assert_non_null(strstr(e.msg, path));
    assert_non_null(strstr(e.msg, "UNIQUE constraint failed"));
    assert_int_equal(db_writer_check(w, &e), -1);
    assert_int_equal(put_row(w, id, 2, &e), -1);
    assert_int_equal(db_writer_finish(w, &e), -1);
    assert_non_null(strstr(e.msg, "UNIQUE constraint failed"));
    /* A failed batch leaves nothing behind; nothing after it is written. */
    assert_true(query_int("SELECT count(*) FROM t") <= 1);
    assert_int_equal(query_int("SELECT count(*) FROM t WHERE k = 2"), 0);
}

static void a_store_that_cannot_open_is_an_error(void **state)
{
    (void)state;
    db_writer *w = (db_writer *)&w;
    alarm_err e;
    char bad[320];
    snprintf(bad, sizeof bad, "%s/missing/store.db", dir);
    assert_int_equal(db_writer_start(&w, bad, &e), -1);
    assert_null(w);
    assert_non_null(strstr(e.msg, bad));
    assert_int_equal(db_writer_finish(NULL, &e), 0);
}

static void shutdown_writes_what_is_queued(void **state)
{
    (void)state;
    db_writer *w;
    alarm_err e;
    int id;
    assert_int_equal(db_writer_start(&w, path, &e), 0);
    assert_int_equal(db_writer_stmt(w, insert_sql, &id, &e), 0);
    for (int64_t k = 1; k <= 1000; k++)
        assert_int_equal(put_row(w, id, k, &e), 0);
    assert_int_equal(db_writer_finish(w, &e), 0); /* no flush first */
    assert_int_equal(query_int("SELECT count(*) FROM t"), 1000);
    /* A writer stopped at once writes nothing and fails nothing. */
    assert_int_equal(db_writer_start(&w, path, &e), 0);
    assert_int_equal(db_writer_finish(w, &e), 0);
}

typedef struct {
    db_writer *w;
    int id;
    int64_t first;
} producer;

static void *produce(void *arg)
{
    producer *p = arg;
    alarm_err e;
    for (int64_t k = p->first; k < p->first + 300; k++)
        if (put_row(p->w, p->id, k, &e) < 0)
            return arg;
    return NULL;
}

static void rows_from_many_threads(void **state)
{
    (void)state;
    db_writer *w;
    alarm_err e;
    int id;
    assert_int_equal(db_writer_start(&w, path, &e), 0);
    assert_int_equal(db_writer_stmt(w, insert_sql, &id, &e), 0);
    pthread_t th[4];
    producer p[4];
    for (int i = 0; i < 4; i++) {
        p[i] = (producer){w, id, 1 + 1000 * i};
        assert_int_equal(pthread_create(&th[i], NULL, produce, &p[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(th[i], &r);
        assert_null(r);
    }
    assert_int_equal(db_writer_finish(w, &e), 0);
    assert_int_equal(query_int("SELECT count(*) FROM t"), 1200);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(writes_every_type_and_dedupes_statements, setup, teardown),
        cmocka_unit_test_setup_teardown(rows_queued_while_locked_commit_together, setup, teardown),
        cmocka_unit_test_setup_teardown(callback_rows_and_their_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(sqlite_errors_name_the_file_and_stop_the_writer, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_store_that_cannot_open_is_an_error, setup, teardown),
        cmocka_unit_test_setup_teardown(shutdown_writes_what_is_queued, setup, teardown),
        cmocka_unit_test_setup_teardown(rows_from_many_threads, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
