/* Unit tests for jsonl: streaming records of any length, located errors,
 * typed fields and byte-exact pass-through of untouched fields. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jsonl.h"

/* Writes `text` to a temporary file and opens a reader on it. */
static void open_text(jsonl_reader *r, char *path, const char *text)
{
    strcpy(path, "/tmp/alarm-test-jsonl-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    alarm_err e;
    assert_int_equal(jsonl_open(r, path, &e), 0);
}

static void reads_records_and_skips_blank_lines(void **state)
{
    (void)state;
    char path[64];
    jsonl_reader r;
    open_text(&r, path, "{\"a\":1}\n\n  \n{\"a\":2}");
    alarm_err e;
    cJSON *rec;
    assert_int_equal(jsonl_next(&r, &rec, &e), 1);
    assert_int_equal(cJSON_GetObjectItem(rec, "a")->valueint, 1);
    cJSON_Delete(rec);
    assert_int_equal(jsonl_next(&r, &rec, &e), 1);
    assert_int_equal(r.lineno, 4);
    cJSON_Delete(rec);
    assert_int_equal(jsonl_next(&r, &rec, &e), 0);
    jsonl_close(&r);
    unlink(path);
}

static void long_lines_are_read_whole(void **state)
{
    (void)state;
    size_t n = 3 << 20;
    char *text = malloc(n + 32);
    strcpy(text, "{\"s\":\"");
    memset(text + 6, 'x', n);
    strcpy(text + 6 + n, "\"}\n");
    char path[64];
    jsonl_reader r;
    open_text(&r, path, text);
    alarm_err e;
    cJSON *rec;
    assert_int_equal(jsonl_next(&r, &rec, &e), 1);
    assert_int_equal(strlen(cJSON_GetObjectItem(rec, "s")->valuestring), n);
    cJSON_Delete(rec);
    jsonl_close(&r);
    unlink(path);
    free(text);
}

static void errors_name_file_and_line(void **state)
{
    (void)state;
    const char *bad[] = {"{\"a\":1}\n{\"a\":\n", "{\"a\":1}\n[1,2]\n", "{\"a\":1}\n{\"a\":1} x\n"};
    const char *want[] = {"malformed JSON", "expected a JSON object", "text after the record"};
    for (int i = 0; i < 3; i++) {
        char path[64], prefix[96];
        jsonl_reader r;
        open_text(&r, path, bad[i]);
        alarm_err e;
        cJSON *rec;
        assert_int_equal(jsonl_next(&r, &rec, &e), 1);
        cJSON_Delete(rec);
        assert_int_equal(jsonl_next(&r, &rec, &e), -1);
        snprintf(prefix, sizeof prefix, "%s:2: ", path);
        assert_memory_equal(e.msg, prefix, strlen(prefix));
        assert_non_null(strstr(e.msg, want[i]));
        jsonl_close(&r);
        unlink(path);
    }
}

static void typed_fields(void **state)
{
    (void)state;
    char path[64];
    jsonl_reader r;
    open_text(&r, path, "{\"s\":\"x\",\"n\":1.5,\"big\":1e999,\"o\":{\"v\":\"no\"},\"a\":[]}\n");
    alarm_err e;
    cJSON *rec;
    assert_int_equal(jsonl_next(&r, &rec, &e), 1);
    const char *s;
    double d = 0;
    const cJSON *o, *a;
    assert_int_equal(jsonl_req_string(&r, rec, NULL, "s", &s, &e), 0);
    assert_string_equal(s, "x");
    assert_int_equal(jsonl_req_number(&r, rec, NULL, "n", &d, &e), 0);
    assert_true(d == 1.5);
    assert_int_equal(jsonl_req_number(&r, rec, NULL, "big", &d, &e), -1);
    assert_non_null(strstr(e.msg, ":1: field \"big\": expected a finite number"));
    assert_int_equal(jsonl_req_object(&r, rec, NULL, "o", &o, &e), 0);
    assert_int_equal(jsonl_req_number(&r, o, "o", "v", &d, &e), -1);
    assert_non_null(strstr(e.msg, "field \"o.v\": expected a finite number"));
    assert_int_equal(jsonl_req_string(&r, rec, NULL, "missing", &s, &e), -1);
    assert_non_null(strstr(e.msg, "field \"missing\": missing"));
    assert_int_equal(jsonl_opt_string(&r, rec, NULL, "missing", &s, &e), 0);
    assert_null(s);
    assert_int_equal(jsonl_opt_number(&r, rec, NULL, "missing", &d, &e), 0);
    assert_int_equal(jsonl_opt_array(&r, rec, NULL, "a", &a, &e), 0);
    assert_non_null(a);
    assert_int_equal(jsonl_req_array(&r, rec, NULL, "s", &a, &e), -1);
    cJSON_Delete(rec);
    jsonl_close(&r);
    unlink(path);
}

/* Runs jsonl_write_with on one input line and returns what it printed. */
static char *write_with(const char *line, const char *key, const char *value_json)
{
    char path[64];
    jsonl_reader r;
    open_text(&r, path, line);
    alarm_err e;
    cJSON *rec, *value = cJSON_Parse(value_json);
    assert_int_equal(jsonl_next(&r, &rec, &e), 1);
    char *buf = NULL;
    size_t n = 0;
    FILE *out = open_memstream(&buf, &n);
    assert_int_equal(jsonl_write_with(out, &r, rec, key, value, &e), 0);
    fclose(out);
    cJSON_Delete(rec);
    cJSON_Delete(value);
    jsonl_close(&r);
    unlink(path);
    return buf;
}

static void write_with_keeps_untouched_bytes(void **state)
{
    (void)state;
    char *s = write_with("{\"x\": 1.50, \"big\": 12345678901234567890, \"u\":\"\\u00e9\"}  \n",
                         "reward", "{\"total\":2}");
    assert_string_equal(s, "{\"x\": 1.50, \"big\": 12345678901234567890, \"u\":\"\\u00e9\","
                           "\"reward\":{\"total\":2}}\n");
    free(s);
    s = write_with("{}\n", "reward", "1");
    assert_string_equal(s, "{\"reward\":1}\n");
    free(s);
    s = write_with("{\"reward\":0,\"a\":1}\n", "reward", "[1]");
    assert_string_equal(s, "{\"reward\":[1],\"a\":1}\n");
    free(s);
}

static void put_string_escapes(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t n = 0;
    FILE *out = open_memstream(&buf, &n);
    assert_int_equal(jsonl_put_string(out, "a\"b\\c\n\x01é"), 0);
    fclose(out);
    assert_string_equal(buf, "\"a\\\"b\\\\c\\n\\u0001é\"");
    free(buf);
}

/* Line 3 of a file (after a good record and a blank line) is `line`: the
 * raw reader and the parsing one both refuse it with FILE:3: want, or both
 * accept it when want is NULL. */
static void expect_line(const char *line, const char *want)
{
    char text[4096], path[64], full[1200];
    snprintf(text, sizeof text, "{\"ok\":1}\n\n%s\n", line);
    for (int raw = 0; raw < 2; raw++) {
        jsonl_reader r;
        open_text(&r, path, text);
        alarm_err e;
        cJSON *rec;
        assert_int_equal(jsonl_next(&r, &rec, &e), 1);
        cJSON_Delete(rec);
        int rc = raw ? jsonl_next_line(&r, &e) : jsonl_next(&r, &rec, &e);
        if (want) {
            assert_int_equal(rc, -1);
            snprintf(full, sizeof full, "%s:3: %s", path, want);
            assert_string_equal(e.msg, full);
        } else {
            if (rc != 1)
                fail_msg("refused %s: %s", line, e.msg);
            if (!raw)
                cJSON_Delete(rec);
        }
        jsonl_close(&r);
        unlink(path);
    }
}

static void invalid_utf8_is_refused_at_its_byte(void **state)
{
    (void)state;
    expect_line("{\"a\":\"x\xff\"}", "invalid UTF-8 at byte 7");
    expect_line("{\"a\":1}\xff", "invalid UTF-8 at byte 7");  /* outside a string too */
    expect_line("{\"a\":\"\xc0\xaf\"}", "invalid UTF-8 at byte 6"); /* overlong '/' */
    expect_line("{\"a\":\"\xed\xa0\x80\"}", "invalid UTF-8 at byte 6"); /* encoded U+D800 */
    expect_line("{\"a\":\"\xf4\x90\x80\x80\"}", "invalid UTF-8 at byte 6"); /* past U+10FFFF */
    expect_line("{\"a\":\"\xe2\x82\"}", "invalid UTF-8 at byte 6"); /* cut short */
    expect_line("{\"\xff\":1}", "invalid UTF-8 at byte 2");      /* in a key */
    expect_line("{\"a\":\"\xe2\x82\xac \xf0\x9f\x98\x80 \xc3\xa9\"}", NULL);
}

static void lone_surrogates_are_named(void **state)
{
    (void)state;
    expect_line("{\"a\":\"x\\ud800\"}", "lone surrogate \\ud800 at byte 7");
    expect_line("{\"a\":\"x\\uD800y\"}", "lone surrogate \\uD800 at byte 7");
    expect_line("{\"a\":\"\\ud800\\u0041\"}", "lone surrogate \\ud800 at byte 6");
    expect_line("{\"a\":\"\\udc00\\ud800\"}", "lone surrogate \\udc00 at byte 6");
    expect_line("{\"a\":\"\\ud800", "lone surrogate \\ud800 at byte 6"); /* at the end of the line */
    expect_line("{\"a\":\"\\ud83d\\ude00\"}", NULL);                      /* a pair */
    expect_line("{\"a\":\"\\\\ud800\"}", NULL); /* an escaped backslash, then text */
    expect_line("{\"a\":\"b\\u0000\"}", "U+0000 in a string is not supported at byte 7");
}

static void a_key_twice_in_one_object_is_refused(void **state)
{
    (void)state;
    expect_line("{\"prompt\":\"p\",\"id\":1,\"prompt\":\"q\"}", "duplicate key \"prompt\" at byte 21");
    expect_line("{\"r\":{\"h\":{\"value\":1,\"value\":2}}}", "duplicate key \"value\" at byte 21");
    expect_line("{\"a\":[{\"b\":1},{\"b\":2,\"b\":3}]}", "duplicate key \"b\" at byte 21");
    expect_line("{\"a\":{\"b\":1},\"a\":2}", "duplicate key \"a\" at byte 13"); /* after a nested one */
    expect_line("{\"a\":1,\"\\u0061\":2}", "duplicate key \"\\u0061\" at byte 7");    /* the same key */
    expect_line("{\"\\u00e9\":1,\"\xc3\xa9\":2}", "duplicate key \"\xc3\xa9\" at byte 12");
    expect_line("{\"a\\\"\":1,\"a\\\"\":2}", "duplicate key \"a\\\"\" at byte 9");
    /* Keys repeat across objects, values are not keys, and case counts. */
    expect_line("{\"a\":{\"a\":{\"a\":1}},\"b\":[{\"a\":1},{\"a\":1}],\"c\":\"a\",\"A\":1}", NULL);
    expect_line("{\"a\":{\"b\":1},\"b\":2,\"l\":[\"a\",\"a\"]}", NULL);
    expect_line("{\"\\ud83d\\ude00\":1,\"\\ud83d\\ude01\":1}", NULL);
    /* More keys than the first allocation, then one again. */
    char line[2048] = "{";
    for (int i = 0; i < 100; i++)
        snprintf(line + strlen(line), sizeof line - strlen(line), "\"k%d\":%d,", i, i);
    size_t at = strlen(line);
    strcat(line, "\"k42\":0}");
    char want[64];
    snprintf(want, sizeof want, "duplicate key \"k42\" at byte %zu", at);
    expect_line(line, want);
    line[at - 1] = '}';
    line[at] = '\0';
    expect_line(line, NULL);
}

static void malformed_lines_are_still_the_parser_s(void **state)
{
    (void)state;
    char path[64];
    const char *bad[] = {"{\"a\":]", "}{\"a\":1,\"a\":2", "{\"a\":\"\\u12\"}", "{\"a\":\"\\", "[[[[{\"a"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        jsonl_reader r;
        open_text(&r, path, bad[i]);
        alarm_err e;
        cJSON *rec;
        assert_int_equal(jsonl_next(&r, &rec, &e), -1);
        assert_non_null(strstr(e.msg, "malformed JSON"));
        jsonl_close(&r);
        unlink(path);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reads_records_and_skips_blank_lines),
        cmocka_unit_test(long_lines_are_read_whole),
        cmocka_unit_test(errors_name_file_and_line),
        cmocka_unit_test(typed_fields),
        cmocka_unit_test(write_with_keeps_untouched_bytes),
        cmocka_unit_test(put_string_escapes),
        cmocka_unit_test(invalid_utf8_is_refused_at_its_byte),
        cmocka_unit_test(lone_surrogates_are_named),
        cmocka_unit_test(a_key_twice_in_one_object_is_refused),
        cmocka_unit_test(malformed_lines_are_still_the_parser_s),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
