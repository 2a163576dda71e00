/* Unit tests for the tool layer's option table (tools/lib/opt*.c): every
 * type stored at its offset, repeatable options, environment variables and
 * which tools take a shared option, usage errors, and the generated --help. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "opt.h"
#include "run.h"

typedef struct {
    int flag, n;
    long big;
    double x;
    const char *s;
    opt_list many;
    char called[16];
} targs;

static int call_upper(void *p, const char *v, alarm_err *e)
{
    if (strlen(v) >= sizeof ((targs *)p)->called)
        return err_set(e, "--call: too long");
    strcpy(((targs *)p)->called, v);
    return 0;
}

static const opt_def topts[] = {
    {"flag", 'f', NULL, "a flag", .type = OPT_FLAG, .off = offsetof(targs, flag)},
    {"n", 0, "N", "an int", "3", .type = OPT_INT, .off = offsetof(targs, n), .min = 1, .max = 10},
    {"big", 0, "N", "a long", .type = OPT_LONG, .off = offsetof(targs, big), .min = 0,
     .max = 1L << 40},
    {"x", 0, "X", "a double", "0.5", .type = OPT_DOUBLE, .off = offsetof(targs, x), .fmin = 0,
     .fmax = 1},
    {"s", 's', "STR", "a string", .type = OPT_STR, .off = offsetof(targs, s)},
    {"many", 0, "V", "a list", .type = OPT_LIST, .off = offsetof(targs, many)},
    {"call", 0, "V", "parsed by the tool", .type = OPT_CALL, .call = call_upper},
    {0},
};

static const tool_spec recorder = {"alarm-test", NULL, TOOL_SELECT, "alarm-test [FILE...]",
                                   "Tests.\n", topts, "alarm-test(1)"};
static const tool_spec plain = {"alarm-test", "sub", TOOL_MODEL_TOKENIZE, "alarm-test sub",
                                NULL, topts, NULL};

static int parse(const tool_spec *spec, tool *t, targs *a, int argc, const char **argv)
{
    memset(a, 0, sizeof *a);
    return opt_parse(t, spec, a, argc, (char **)argv);
}

static void every_type_lands_at_its_offset(void **state)
{
    (void)state;
    unsetenv("ALARM_DB");
    tool t;
    targs a;
    const char *argv[] = {"alarm-test", "-f", "--n", "7", "in.jsonl", "--big=1099511627776",
                          "--x", "0.25", "-s", "hi", "--many", "a", "--many", "b",
                          "--call", "c", "--seed", "9", "-q", "--db", "s.db", "-", NULL};
    assert_int_equal(parse(&recorder, &t, &a, 22, argv), -1);
    assert_int_equal(a.flag, 1);
    assert_int_equal(a.n, 7);
    assert_true(a.big == 1L << 40);
    assert_true(a.x == 0.25);
    assert_string_equal(a.s, "hi");
    assert_int_equal(a.many.n, 2);
    assert_string_equal(a.many.v[1], "b");
    assert_string_equal(a.called, "c");
    assert_true(t.seed == 9);
    assert_int_equal(t.quiet, 1);
    assert_int_equal(t.progress, 0);
    assert_string_equal(t.db, "s.db");
    assert_int_equal(t.nargs, 2); /* operands, in order, options taken out */
    assert_string_equal(t.args[0], "in.jsonl");
    assert_string_equal(t.args[1], "-");
    opt_list_free(&a.many);
}

static void bad_values_are_usage_errors(void **state)
{
    (void)state;
    tool t;
    targs a;
    const char *bad[][3] = {{"alarm-test", "--n", "11"},  {"alarm-test", "--n", "x"},
                            {"alarm-test", "--x", "nan"}, {"alarm-test", "--big", "-1"},
                            {"alarm-test", "--seed", "-1"}, {"alarm-test", "--threads", "0"},
                            {"alarm-test", "--nope", "1"}, {"alarm-test", "-z", "1"},
                            {"alarm-test", "--call", "much too long here"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(parse(&recorder, &t, &a, 3, bad[i]), TOOL_USAGE);
    const char *missing[] = {"alarm-test", "--s", NULL};
    assert_int_equal(parse(&recorder, &t, &a, 2, missing), TOOL_USAGE);
}

static void db_only_for_tools_that_record(void **state)
{
    (void)state;
    tool t;
    targs a;
    setenv("ALARM_DB", "env.db", 1);
    const char *none[] = {"alarm-test", NULL};
    assert_int_equal(parse(&recorder, &t, &a, 1, none), -1);
    assert_string_equal(t.db, "env.db"); /* the variable, when --db is not given */
    const char *given[] = {"alarm-test", "--db", "arg.db", NULL};
    assert_int_equal(parse(&recorder, &t, &a, 3, given), -1);
    assert_string_equal(t.db, "arg.db"); /* the command line wins */
    assert_int_equal(parse(&plain, &t, &a, 1, none), -1);
    assert_null(t.db); /* a tool that records nothing ignores ALARM_DB */
    assert_int_equal(parse(&plain, &t, &a, 3, given), TOOL_USAGE);
    unsetenv("ALARM_DB");
}

static void help_lists_what_the_tool_takes(void **state)
{
    (void)state;
    char *h = opt_help(&recorder);
    assert_non_null(h);
    assert_true(strncmp(h, "usage: alarm-test [FILE...]\n\nTests.\n", 36) == 0);
    assert_non_null(strstr(h, "\n  -f, --flag "));
    assert_non_null(strstr(h, "\n  --n N "));
    assert_non_null(strstr(h, "an int (default 3)\n"));
    assert_non_null(strstr(h, "a list; repeatable\n"));
    assert_non_null(strstr(h, "\n  --db FILE "));
    assert_non_null(strstr(h, "(default: $ALARM_DB)"));
    assert_non_null(strstr(h, "\n  -h, --help "));
    assert_non_null(strstr(h, "See alarm-test(1).\n"));
    free(h);
    h = opt_help(&plain);
    assert_null(strstr(h, "--db"));
    assert_non_null(strstr(h, "--seed"));
    free(h);
}

static void number_parsers(void **state)
{
    (void)state;
    alarm_err e;
    double v;
    long n;
    uint64_t u;
    assert_int_equal(opt_parse_double("--tau", "0.6", 0, 1, &v, &e), 0);
    assert_true(v == 0.6);
    assert_int_equal(opt_parse_double("--tau", "1.5", 0, 1, &v, &e), -1);
    assert_non_null(strstr(e.msg, "--tau"));
    assert_int_equal(opt_parse_double("--tau", "0.6x", 0, 1, &v, &e), -1);
    assert_int_equal(opt_parse_double("--tau", "", 0, 1, &v, &e), -1);
    assert_int_equal(opt_parse_double("--tau", "inf", -1e9, 1e9, &v, &e), -1);
    assert_int_equal(opt_parse_long("-n", "12", 1, 100, &n, &e), 0);
    assert_int_equal(n, 12);
    assert_int_equal(opt_parse_long("-n", "0", 1, 100, &n, &e), -1);
    assert_int_equal(opt_parse_long("-n", "99999999999999999999", 1, 100, &n, &e), -1);
    assert_int_equal(opt_parse_u64("--seed", "18446744073709551615", &u, &e), 0);
    assert_true(u == UINT64_MAX);
    assert_int_equal(opt_parse_u64("--seed", "-1", &u, &e), -1);
}

static void argv_json_quotes(void **state)
{
    (void)state;
    char *argv[] = {"alarm-select", "--aspect", "a \"b\""};
    char *s = run_argv_json(3, argv);
    assert_string_equal(s, "[\"alarm-select\",\"--aspect\",\"a \\\"b\\\"\"]");
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_type_lands_at_its_offset),
        cmocka_unit_test(bad_values_are_usage_errors),
        cmocka_unit_test(db_only_for_tools_that_record),
        cmocka_unit_test(help_lists_what_the_tool_takes),
        cmocka_unit_test(number_parsers),
        cmocka_unit_test(argv_json_quotes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
