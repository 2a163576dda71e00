/* rollout_text: a response's text and spans from its tokens; a stray
 * non-UTF-8 byte and a NUL byte each become U+FFFD, spans covering it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "lib/check.h"
#include "rollout_text.h"

/* GPT-2's byte-level alphabet: byte b is the character U+0100 + b for the
 * bytes 0-32 (the first 33 bytes that are not printable). */
static int32_t byte_id(const bpe *t, unsigned b)
{
    char s[4] = {0};
    unsigned cp = b < 33 ? 0x100 + b : b;
    if (cp < 0x80)
        s[0] = (char)cp;
    else {
        s[0] = (char)(0xC0 | (cp >> 6));
        s[1] = (char)(0x80 | (cp & 0x3F));
    }
    int32_t id = bpe_token_to_id(t, s);
    assert_true(id >= 0);
    return id;
}

static void nul_and_bad_bytes_become_replacements(void **state)
{
    (void)state;
    bpe *t;
    alarm_err e;
    if (bpe_load(&t, test_path("fixtures/tfm/lm_gpt2_tok"), &e))
        fail_msg("%s", e.msg);
    int32_t ids[] = {byte_id(t, 'a'), byte_id(t, 0), byte_id(t, 'b'), bpe_token_to_id(t, "\xC3\xBF"),
                     byte_id(t, 'c'), bpe_eos_id(t)};
    assert_true(ids[3] >= 0); /* byte 0xFF: never valid UTF-8 alone */
    rollout_text rt = {0};
    if (rollout_text_make(&rt, t, ids, 6, 1, &e))
        fail_msg("%s", e.msg);
    assert_string_equal(rt.text, "a\xEF\xBF\xBD" "b\xEF\xBF\xBD" "c");
    assert_int_equal(rt.len, 9);
    assert_int_equal(rt.replaced, 2);
    const size_t want[6][2] = {{0, 1}, {1, 4}, {4, 5}, {5, 8}, {8, 9}, {9, 9}};
    for (int i = 0; i < 6; i++) {
        assert_int_equal(rt.offs[2 * i], want[i][0]);
        assert_int_equal(rt.offs[2 * i + 1], want[i][1]);
    }
    rollout_text_free(&rt);
    bpe_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nul_and_bad_bytes_become_replacements),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
