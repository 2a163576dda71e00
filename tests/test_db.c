/* Unit tests for db: creation and migration, WAL, run rows, refusal of a
 * newer schema, and rollback leaving nothing behind; 16 processes creating
 * one new store at once (all succeed, every run recorded), a database of
 * another program, a directory and a missing directory refused by name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
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

/* One child process: opens the store and records a run; exits 0 on success,
 * 1 after printing the error (the test shows it). */
static void child_records_a_run(int go)
{
    char c;
    (void)!read(go, &c, 1); /* all start at once: when the parent closes the pipe */
    db_store db;
    alarm_err e;
    int64_t id;
    int rc = db_open(&db, path, &e) == 0 && db_run_start(&db, "alarm-test", "[]", &id, &e) == 0 &&
             db_run_finish(&db, id, "ok", NULL, &e) == 0;
    if (!rc)
        fprintf(stderr, "child %d: %s\n", (int)getpid(), e.msg);
    db_close(&db);
    _exit(rc ? 0 : 1);
}

static void concurrent_creators_all_succeed(void **state)
{
    enum { WRITERS = 16, ROUNDS = 10 };
    int failed = 0;
    for (int round = 0; round < ROUNDS; round++) {
        teardown(state); /* a new file each round */
        pid_t pids[WRITERS];
        int go[2];
        assert_int_equal(pipe(go), 0);
        for (int i = 0; i < WRITERS; i++) {
            pids[i] = fork();
            assert_true(pids[i] >= 0);
            if (pids[i] == 0) {
                close(go[1]);
                child_records_a_run(go[0]);
            }
        }
        close(go[0]);
        close(go[1]);
        for (int i = 0; i < WRITERS; i++) {
            int st;
            assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
            failed += !(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        }
        db_store db;
        alarm_err e;
        assert_int_equal(db_open(&db, path, &e), 0);
        assert_int_equal(query_int(&db, "SELECT count(*) FROM runs WHERE status = 'ok'"), WRITERS);
        db_close(&db);
    }
    assert_int_equal(failed, 0);
}

static void refuses_a_database_of_another_program(void **state)
{
    (void)state;
    sqlite3 *h;
    assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
    assert_int_equal(sqlite3_exec(h, "CREATE TABLE runs (x); CREATE TABLE other (y);", NULL,
                                  NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
    db_store db;
    alarm_err e;
    char want[160];
    assert_int_equal(db_open(&db, path, &e), -1);
    snprintf(want, sizeof want, "%s: not an alarm store: it has tables and user_version 0", path);
    assert_string_equal(e.msg, want);
    /* Nothing was added to it. */
    assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(h, "SELECT count(*) FROM sqlite_master", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 2);
    sqlite3_finalize(st);
    sqlite3_close(h);
}

static void a_directory_or_missing_directory_is_named(void **state)
{
    (void)state;
    db_store db;
    alarm_err e;
    char want[300], sub[96];
    assert_int_equal(mkdir(path, 0700), 0);
    assert_int_equal(db_open(&db, path, &e), -1);
    snprintf(want, sizeof want, "%s: is a directory, not a store", path);
    assert_string_equal(e.msg, want);
    rmdir(path);
    snprintf(sub, sizeof sub, "%s/x.db", path);
    assert_int_equal(db_open(&db, sub, &e), -1);
    snprintf(want, sizeof want, "%s: cannot create the store: directory %s does not exist", sub,
             path);
    assert_string_equal(e.msg, want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(creates_schema_in_wal_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(run_rows_and_rollback, setup, teardown),
        cmocka_unit_test_setup_teardown(refuses_newer_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(unopenable_path_is_an_error, setup, teardown),
        cmocka_unit_test_setup_teardown(concurrent_creators_all_succeed, setup, teardown),
        cmocka_unit_test_setup_teardown(refuses_a_database_of_another_program, setup, teardown),
        cmocka_unit_test_setup_teardown(a_directory_or_missing_directory_is_named, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
