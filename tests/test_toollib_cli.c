/* Unit tests for the tool layer's cli: range-checked number parsing and the argv record. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void parse_double_accepts_and_rejects(void **state)
{
    (void)state;
    alarm_err e;
    double v;
    assert_int_equal(cli_parse_double("--tau", "0.6", 0, 1, &v, &e), 0);
    assert_true(v == 0.6);
    assert_int_equal(cli_parse_double("--tau", "1.5", 0, 1, &v, &e), -1);
    assert_non_null(strstr(e.msg, "--tau"));
    assert_int_equal(cli_parse_double("--tau", "0.6x", 0, 1, &v, &e), -1);
    assert_int_equal(cli_parse_double("--tau", "", 0, 1, &v, &e), -1);
    assert_int_equal(cli_parse_double("--tau", "nan", -1e9, 1e9, &v, &e), -1);
    assert_int_equal(cli_parse_double("--tau", "inf", -1e9, 1e9, &v, &e), -1);
}

static void parse_long_and_u64(void **state)
{
    (void)state;
    alarm_err e;
    long n;
    uint64_t u;
    assert_int_equal(cli_parse_long("-n", "12", 1, 100, &n, &e), 0);
    assert_int_equal(n, 12);
    assert_int_equal(cli_parse_long("-n", "0", 1, 100, &n, &e), -1);
    assert_int_equal(cli_parse_long("-n", "99999999999999999999", 1, 100, &n, &e), -1);
    assert_int_equal(cli_parse_u64("--seed", "18446744073709551615", &u, &e), 0);
    assert_true(u == UINT64_MAX);
    assert_int_equal(cli_parse_u64("--seed", "-1", &u, &e), -1);
}

static void argv_json_quotes(void **state)
{
    (void)state;
    char *argv[] = {"alarm-select", "--aspect", "a \"b\""};
    char *s = cli_argv_json(3, argv);
    assert_string_equal(s, "[\"alarm-select\",\"--aspect\",\"a \\\"b\\\"\"]");
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_double_accepts_and_rejects),
        cmocka_unit_test(parse_long_and_u64),
        cmocka_unit_test(argv_json_quotes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
