/* Unit tests for utf8: the one validator, at every edge of the encoding
 * (RFC 3629's table: overlongs, surrogates, the top of Unicode). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "utf8.h"

static void check(const char *s, int ok, size_t bad_at)
{
    size_t bad = 12345;
    assert_int_equal(utf8_valid(s, strlen(s), &bad), ok);
    if (!ok)
        assert_int_equal(bad, bad_at);
}

static void valid_and_invalid_sequences(void **state)
{
    (void)state;
    check("", 1, 0);
    check("plain ascii", 1, 0);
    check("\xc2\x80 \xdf\xbf \xe0\xa0\x80 \xed\x9f\xbf \xee\x80\x80 \xef\xbf\xbf", 1, 0);
    check("\xf0\x90\x80\x80 \xf4\x8f\xbf\xbf", 1, 0);
    check("ab\xff", 0, 2);
    check("a\xc0\xaf", 0, 1);         /* overlong */
    check("a\xc1\xbf", 0, 1);
    check("a\xe0\x9f\xbf", 0, 1);     /* overlong 3-byte */
    check("a\xf0\x8f\xbf\xbf", 0, 1); /* overlong 4-byte */
    check("a\xed\xa0\x80", 0, 1);     /* U+D800 */
    check("a\xed\xbf\xbf", 0, 1);     /* U+DFFF */
    check("a\xf4\x90\x80\x80", 0, 1); /* U+110000 */
    check("a\xf5\x80\x80\x80", 0, 1);
    check("a\x80", 0, 1);             /* a lone continuation */
    check("\xe2\x82\xac\xe2\x82", 0, 3); /* cut short */
    check("\xe2\x28\xa1", 0, 0);      /* not a continuation */
    const unsigned char four[] = {0xf0, 0x9f, 0x98, 0x80};
    assert_int_equal(utf8_seq(four, 4), 4);
    assert_int_equal(utf8_seq(four, 3), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(valid_and_invalid_sequences),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
