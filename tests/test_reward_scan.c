/* Unit tests for reward_scan, the fast path: on the fixture records it reads
 * exactly what cJSON + reward_parse read, and it hands every unusual or bad
 * record to the general path (returns 0) instead of guessing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/check.h"
#include "reward.h"

static int scan(const char *line, reward_rec *o, reward_names *n)
{
    const char *id, *pid;
    size_t idn, pidn;
    return reward_scan(o, n, "holistic", line, strlen(line), &id, &idn, &pid, &pidn);
}

static void same_as_general_path_on_fixtures(void **state)
{
    (void)state;
    jsonl_reader r;
    alarm_err e;
    assert_int_equal(jsonl_open(&r, test_path("fixtures/select/scored.jsonl"), &e), 0);
    reward_rec a = {0}, b = {0};
    reward_names na = {0}, nb = {0};
    int lines = 0;
    while (jsonl_next_line(&r, &e) == 1) {
        const char *id, *pid;
        size_t idn, pidn;
        cJSON *rec;
        assert_int_equal(reward_scan(&a, &na, "holistic", r.line, r.len, &id, &idn, &pid, &pidn), 1);
        assert_int_equal(jsonl_parse_line(&r, &rec, &e), 0);
        assert_int_equal(reward_parse(&b, &nb, "holistic", &r, rec, &e), 0);
        assert_int_equal(strlen(cJSON_GetObjectItem(rec, "id")->valuestring), idn);
        assert_memory_equal(cJSON_GetObjectItem(rec, "prompt_id")->valuestring, pid, pidn);
        cJSON_Delete(rec);
        assert_int_equal(a.T, b.T);
        assert_int_equal(a.resp_len, b.resp_len);
        assert_true(a.h == b.h);
        assert_int_equal(a.nasp, b.nasp);
        assert_int_equal(a.nspans, b.nspans);
        for (size_t i = 0; i < a.nasp; i++) {
            assert_true(a.asp[i].value == b.asp[i].value);
            assert_int_equal(a.asp[i].nspans, b.asp[i].nspans);
            assert_int_equal(a.asp[i].has_spans, b.asp[i].has_spans);
        }
        for (size_t i = 0; i < a.nspans; i++) {
            assert_int_equal(a.spans[i].tok, b.spans[i].tok);
            assert_true(a.spans[i].value == b.spans[i].value);
        }
        lines++;
    }
    assert_int_equal(lines, 6);
    jsonl_close(&r);
    reward_rec_free(&a);
    reward_rec_free(&b);
    reward_names_free(&na);
    reward_names_free(&nb);
}

/* Escapes count as the bytes they decode to: \n 1, \u00e9 2, \u20ac 3. */
static void decoded_response_length(void **state)
{
    (void)state;
    reward_rec o = {0};
    reward_names n = {0};
    const char *line = "{\"id\":\"a\",\"prompt_id\":\"p\",\"response\":\"a\\nb\\u00e9\\u20ac\","
                       "\"response_tokens\":[1,2],\"offsets\":[[0,3],[3,8]],"
                       "\"rewards\":{\"holistic\":{\"value\":-1.5e-1}}}";
    assert_int_equal(scan(line, &o, &n), 1);
    assert_int_equal(o.resp_len, 8);
    assert_true(o.h == -0.15);
    reward_rec_free(&o);
    reward_names_free(&n);
}

#define BASE_HEAD "{\"id\":\"a\",\"prompt_id\":\"p\",\"response\":\"ab\",\"response_tokens\":[1,2],"
#define BASE_OFFS "\"offsets\":[[0,1],[1,2]],"
#define BASE_RW "\"rewards\":{\"holistic\":{\"value\":1}}"
#define Z10 "0000000000"

static void unusual_or_bad_records_go_to_the_general_path(void **state)
{
    (void)state;
    static const char *const lines[] = {
        "\xEF\xBB\xBF" BASE_HEAD BASE_OFFS BASE_RW "}",            /* byte-order mark */
        BASE_HEAD BASE_OFFS BASE_RW ",\"id\":\"b\"}",                /* duplicate key */
        BASE_HEAD BASE_OFFS BASE_RW ",\"reward\":{}}",               /* an old reward */
        BASE_HEAD BASE_OFFS BASE_RW ",\"\\u0069d\":1}",              /* escaped key */
        BASE_HEAD BASE_OFFS BASE_RW ",\"x\":\"a\tb\"}",              /* raw control char */
        BASE_HEAD BASE_OFFS BASE_RW ",\"x\":\"\\ud800\"}",           /* surrogate escape */
        BASE_HEAD BASE_OFFS BASE_RW ",\"x\":01}",                    /* not strict JSON */
        BASE_HEAD BASE_OFFS BASE_RW ",\"x\":1" Z10 Z10 Z10 Z10 Z10 Z10 Z10 "}", /* 71 digits */
        BASE_HEAD BASE_OFFS BASE_RW ",}",                            /* trailing comma */
        BASE_HEAD BASE_OFFS BASE_RW "} x",                           /* text after */
        BASE_HEAD BASE_OFFS BASE_RW,                                 /* unterminated */
        BASE_HEAD "\"offsets\":[[0,1],[1,2.0]]," BASE_RW "}",         /* non-integer offset */
        BASE_HEAD "\"offsets\":[[1,2],[0,1]]," BASE_RW "}",           /* out of order */
        BASE_HEAD "\"offsets\":[[0,1]]," BASE_RW "}",                 /* too few */
        BASE_HEAD BASE_OFFS "\"rewards\":{\"h\":{\"value\":1}}}",     /* no holistic */
        BASE_HEAD BASE_OFFS "\"rewards\":{\"holistic\":{\"value\":1e999}}}", /* infinite */
        BASE_HEAD BASE_OFFS "\"rewards\":{\"holistic\":{\"value\":1},\"f\":{\"value\":1,"
                            "\"spans\":[{\"end\":3,\"value\":1}]}}}", /* span outside */
        BASE_HEAD BASE_OFFS "\"rewards\":{\"holistic\":{\"value\":1},\"f\":{\"value\":1},"
                            "\"f\":{\"value\":2}}}",                 /* aspect twice */
        "{\"id\":\"a\",\"prompt_id\":\"p\",\"response\":\"\",\"response_tokens\":[],"
        "\"offsets\":[]," BASE_RW "}",                               /* no tokens */
        "[1]",
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        reward_rec o = {0};
        reward_names n = {0};
        if (scan(lines[i], &o, &n) != 0)
            fail_msg("line %zu was read by the fast path: %s", i, lines[i]);
        reward_rec_free(&o);
        reward_names_free(&n);
    }
    /* The base record itself is read. */
    reward_rec o = {0};
    reward_names n = {0};
    assert_int_equal(scan(BASE_HEAD BASE_OFFS BASE_RW "}", &o, &n), 1);
    reward_rec_free(&o);
    reward_names_free(&n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_as_general_path_on_fixtures),
        cmocka_unit_test(decoded_response_length),
        cmocka_unit_test(unusual_or_bad_records_go_to_the_general_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
