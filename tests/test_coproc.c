/* Unit tests for coproc: lines through a program both ways at once (8 MB
 * through cat, far beyond a pipe's buffer, would deadlock a writer that does
 * not read), a program that ends early, one that stays silent (the
 * timeout), lines beyond those asked, and the exit status described. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "coproc.h"

typedef struct {
    size_t n, bytes;
    int bad;
} seen;

static int count(void *user, const char *line, size_t n, alarm_err *e)
{
    (void)e;
    seen *s = user;
    s->bad |= n != 99 || line[0] != 'x';
    s->n++;
    s->bytes += n;
    return 0;
}

static void large_batch_through_cat(void **state)
{
    (void)state;
    size_t lines = 80000, len = lines * 100;
    char *data = malloc(len);
    assert_non_null(data);
    for (size_t i = 0; i < lines; i++) {
        memset(data + i * 100, 'x', 99);
        data[i * 100 + 99] = '\n';
    }
    coproc c;
    alarm_err e = {{0}};
    seen s = {0};
    assert_int_equal(coproc_start(&c, "cat", &e), 0);
    assert_int_equal(coproc_exchange(&c, data, len, lines, 10, count, &s, &e), (long)lines);
    assert_int_equal(s.n, lines);
    assert_false(s.bad);
    size_t extra;
    assert_int_equal(coproc_end(&c, &extra, &e), 0);
    assert_int_equal(extra, 0);
    assert_true(coproc_ok(&c));
    coproc_kill(&c);
    free(data);
}

static void early_end_and_status(void **state)
{
    (void)state;
    coproc c;
    alarm_err e = {{0}};
    seen s = {0};
    char how[128];
    const char *in = "a\nb\nc\n";
    /* answers one line, then exits 4 */
    assert_int_equal(coproc_start(&c, "read a; printf '%099d\\n' 0 | tr 0 x; exit 4", &e), 0);
    assert_int_equal(coproc_exchange(&c, in, strlen(in), 3, 10, count, &s, &e), 1);
    coproc_describe(&c, how, sizeof how);
    assert_string_equal(how, "exited with status 4");
    assert_false(coproc_ok(&c));
    coproc_kill(&c);
    assert_int_equal(coproc_start(&c, "kill -9 $$", &e), 0);
    assert_int_equal(coproc_exchange(&c, in, strlen(in), 3, 10, count, &s, &e), 0);
    coproc_describe(&c, how, sizeof how);
    assert_string_equal(how, "was killed by signal 9 (Killed)");
    coproc_kill(&c);
}

static void silence_and_extra_lines(void **state)
{
    (void)state;
    coproc c;
    alarm_err e = {{0}};
    seen s = {0};
    assert_int_equal(coproc_start(&c, "sleep 10", &e), 0);
    assert_int_equal(coproc_exchange(&c, "a\n", 2, 1, 0.2, count, &s, &e), -1);
    assert_non_null(strstr(e.msg, "no answer for 0.2 s (0 of 1 lines answered"));
    coproc_kill(&c); /* a second, then SIGKILL */
    assert_true(c.reaped);
    /* two lines more than asked, the last without its newline */
    assert_int_equal(coproc_start(&c, "cat; printf 'y\\nz'", &e), 0);
    assert_int_equal(coproc_exchange(&c, "a\n", 2, 1, 10, count, &s, &e), 1);
    size_t extra;
    assert_int_equal(coproc_end(&c, &extra, &e), 0);
    assert_int_equal(extra, 2);
    assert_true(coproc_ok(&c));
    coproc_kill(&c);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN); /* as every tool's tool_init */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(large_batch_through_cat),
        cmocka_unit_test(early_end_and_status),
        cmocka_unit_test(silence_and_extra_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
