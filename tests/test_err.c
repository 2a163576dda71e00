/* Unit tests for err: messages, prefixes, and truncation of long ones. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "err.h"

static void set_and_prefix(void **state)
{
    (void)state;
    alarm_err e;
    assert_int_equal(err_set(&e, "field \"%s\": missing", "id"), -1);
    assert_int_equal(err_prefix(&e, "%s:%d", "a.jsonl", 3), -1);
    assert_string_equal(e.msg, "a.jsonl:3: field \"id\": missing");
    assert_int_equal(err_set(NULL, "ignored"), -1);
}

static void long_messages_are_cut_not_overrun(void **state)
{
    (void)state;
    alarm_err e;
    char big[3000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    err_set(&e, "%s", big);
    assert_int_equal(strlen(e.msg), sizeof e.msg - 1);
    err_prefix(&e, "%s", "file");
    assert_int_equal(strlen(e.msg), sizeof e.msg - 1);
    assert_memory_equal(e.msg, "file: xxx", 9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(set_and_prefix),
        cmocka_unit_test(long_messages_are_cut_not_overrun),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
