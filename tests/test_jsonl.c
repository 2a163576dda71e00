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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reads_records_and_skips_blank_lines),
        cmocka_unit_test(long_lines_are_read_whole),
        cmocka_unit_test(errors_name_file_and_line),
        cmocka_unit_test(typed_fields),
        cmocka_unit_test(write_with_keeps_untouched_bytes),
        cmocka_unit_test(put_string_escapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
