/* Unit tests for http_cache: the key (SHA-256 of endpoint, NUL, body; a
 * known value), answers stored through a db_writer and found again by
 * another connection, a miss, lookups inside a read transaction while the
 * writer commits, lookups-only use without a writer, and errors naming the
 * store's file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "db_writer.h"
#include "http_cache.h"
#include "lib/tmpdir.h"

static char dir[256], path[300];

static int setup(void **state)
{
    (void)state;
    tmpdir_make(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/store.db", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tmpdir_remove(dir);
    return 0;
}

static void keys_hash_endpoint_and_body(void **state)
{
    (void)state;
    char k1[65], k2[65], k3[65], k4[65], k5[65];
    http_cache_key("http://x/v1/chat/completions", "{\"model\":\"m\"}", k1);
    http_cache_key("http://x/v1/chat/completions", "{\"model\":\"m\"}", k2);
    http_cache_key("http://y/v1/chat/completions", "{\"model\":\"m\"}", k3);
    /* python3: hashlib.sha256(b'http://x/v1/chat/completions\0{"model":"m"}') */
    assert_string_equal(k1, "7a84922863a5cba052cfbb7e6d8ee4edffbc7cf08d1921adf7c9484c4dec64d5");
    assert_string_equal(k1, k2);
    assert_string_not_equal(k1, k3);
    /* The separator keeps (endpoint, body) pairs apart. */
    http_cache_key("ab", "c", k4);
    http_cache_key("a", "bc", k5);
    assert_string_not_equal(k4, k5);
}

static void answers_are_stored_and_found(void **state)
{
    (void)state;
    db_store db;
    db_writer *w;
    http_cache c;
    alarm_err e;
    char key[65], *resp = (char *)"x";
    assert_int_equal(db_open(&db, path, &e), 0);
    assert_int_equal(db_writer_start(&w, path, &e), 0);
    assert_int_equal(http_cache_open(&c, &db, w, &e), 0);
    http_cache_key("http://h/v1", "{\"q\":1}", key);
    assert_int_equal(http_cache_get(&c, key, &resp, &e), 0);
    assert_null(resp);
    /* A read transaction is open while the writer commits. */
    assert_int_equal(http_cache_read_begin(&c, &e), 0);
    assert_int_equal(http_cache_put(&c, key, "http://h/v1", "m", "{\"q\":1}", "{\"a\":2}", 12.4,
                                    &e), 0);
    assert_int_equal(db_writer_flush(w, &e), 0);
    assert_int_equal(http_cache_read_end(&c, &e), 0);
    assert_int_equal(http_cache_get(&c, key, &resp, &e), 1);
    assert_string_equal(resp, "{\"a\":2}");
    free(resp);
    assert_int_equal(db_writer_finish(w, &e), 0);
    assert_int_equal(http_cache_close(&c, &e), 0);
    db_close(&db);

    /* Another run, lookups only: the answer is there with its request. */
    assert_int_equal(db_open(&db, path, &e), 0);
    assert_int_equal(http_cache_open(&c, &db, NULL, &e), 0);
    assert_int_equal(http_cache_get(&c, key, &resp, &e), 1);
    assert_string_equal(resp, "{\"a\":2}");
    free(resp);
    assert_int_equal(http_cache_put(&c, "k2", "e", "m", "{}", "{}", 1, &e), 0); /* no writer */
    assert_int_equal(http_cache_close(&c, &e), 0);
    sqlite3_stmt *st;
    assert_int_equal(db_prepare(&db, &st, "SELECT count(*), min(request), min(latency_ms), "
                                          "min(model) FROM judge_cache", &e), 0);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 1);
    assert_string_equal((const char *)sqlite3_column_text(st, 1), "{\"q\":1}");
    assert_int_equal(sqlite3_column_int(st, 2), 12);
    assert_string_equal((const char *)sqlite3_column_text(st, 3), "m");
    sqlite3_finalize(st);
    db_close(&db);
}

static void errors_name_the_store(void **state)
{
    (void)state;
    db_store db;
    http_cache c;
    alarm_err e;
    assert_int_equal(db_open(&db, path, &e), 0);
    assert_int_equal(db_exec(&db, "DROP TABLE judge_cache", &e), 0);
    assert_int_equal(http_cache_open(&c, &db, NULL, &e), -1);
    assert_non_null(strstr(e.msg, path));
    assert_non_null(strstr(e.msg, "no such table: judge_cache"));
    db_close(&db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(keys_hash_endpoint_and_body),
        cmocka_unit_test_setup_teardown(answers_are_stored_and_found, setup, teardown),
        cmocka_unit_test_setup_teardown(errors_name_the_store, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
