/* Unit tests for db: creation and migration, WAL, run rows, refusal of a
 * newer schema, and rollback leaving nothing behind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"

static char path[64];

static int setup(void **state)
{
    (void)state;
    strcpy(path, "/tmp/alarm-test-db-XXXXXX");
    int fd = mkstemp(path);
    close(fd);
    unlink(path);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char p[96];
    unlink(path);
    snprintf(p, sizeof p, "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", path);
    unlink(p);
    return 0;
}

static int64_t query_int(db_store *db, const char *sql)
{
    sqlite3_stmt *st;
    alarm_err e;
    assert_int_equal(db_prepare(db, &st, sql, &e), 0);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static void creates_schema_in_wal_mode(void **state)
{
    (void)state;
    db_store db;
    alarm_err e;
    assert_int_equal(db_open(&db, path, &e), 0);
    assert_int_equal(query_int(&db, "PRAGMA user_version"), db_schema_version());
    sqlite3_stmt *st;
    assert_int_equal(db_prepare(&db, &st, "PRAGMA journal_mode", &e), 0);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    assert_int_equal(query_int(&db, "SELECT count(*) FROM sqlite_master WHERE type='table' AND "
                                    "name IN ('runs','rewards','combined_rewards','judge_cache')"),
                     4);
    db_close(&db);
    /* Reopening an up-to-date store changes nothing. */
    assert_int_equal(db_open(&db, path, &e), 0);
    assert_int_equal(query_int(&db, "PRAGMA user_version"), db_schema_version());
    db_close(&db);
}

static void run_rows_and_rollback(void **state)
{
    (void)state;
    db_store db;
    alarm_err e;
    int64_t id;
    assert_int_equal(db_open(&db, path, &e), 0);
    assert_int_equal(db_run_start(&db, "alarm-test", "[\"alarm-test\"]", &id, &e), 0);
    assert_int_equal(db_begin(&db, &e), 0);
    assert_int_equal(db_exec(&db, "INSERT INTO ppo_steps (run_id, step, stats) "
                                  "VALUES (1, 0, '{}')", &e), 0);
    db_rollback(&db);
    assert_int_equal(query_int(&db, "SELECT count(*) FROM ppo_steps"), 0);
    assert_int_equal(db_run_finish(&db, id, "failed", "it broke", &e), 0);
    assert_int_equal(query_int(&db, "SELECT count(*) FROM runs WHERE status = 'failed' AND "
                                    "message = 'it broke' AND ended_at IS NOT NULL"), 1);
    db_close(&db);
}

static void refuses_newer_schema(void **state)
{
    (void)state;
    db_store db;
    alarm_err e;
    assert_int_equal(db_open(&db, path, &e), 0);
    assert_int_equal(db_exec(&db, "PRAGMA user_version = 999", &e), 0);
    db_close(&db);
    assert_int_equal(db_open(&db, path, &e), -1);
    assert_non_null(strstr(e.msg, "newer"));
}

static void unopenable_path_is_an_error(void **state)
{
    (void)state;
    db_store db;
    alarm_err e;
    assert_int_equal(db_open(&db, "/nonexistent-dir/x.db", &e), -1);
    assert_non_null(strstr(e.msg, "/nonexistent-dir/x.db"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(creates_schema_in_wal_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(run_rows_and_rollback, setup, teardown),
        cmocka_unit_test_setup_teardown(refuses_newer_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(unopenable_path_is_an_error, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
