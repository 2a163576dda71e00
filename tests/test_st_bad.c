/* Unit tests for st on bad input: every malformed header gives an error that
 * names the file and the tensor, and nothing crashes. Each case is a header
 * string and a data-block length; truncations and byte flips of a real
 * fixture check that no prefix or single-byte change gets past validation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/check.h"
#include "lib/tmpdir.h"
#include "st.h"

/* 8-byte length + header + `data` zero bytes, in a malloc'd buffer. */
static unsigned char *image(const char *header, size_t h, size_t data, size_t *len)
{
    *len = 8 + h + data;
    unsigned char *b = calloc(1, *len);
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)((uint64_t)h >> (8 * i));
    memcpy(b + 8, header, h);
    return b;
}

static void expect_error_n(const char *header, size_t hlen, size_t data, const char *want)
{
    size_t len;
    unsigned char *b = image(header, hlen, data, &len);
    st_set *s = (st_set *)b; /* must be reset to NULL on failure */
    alarm_err e = {{0}};
    int rc = st_open_buffer(&s, b, len, "bad.safetensors", &e);
    if (rc == 0) {
        st_close(s);
        fail_msg("accepted: %s", header);
    }
    assert_null(s);
    if (!strstr(e.msg, want) || strncmp(e.msg, "bad.safetensors: ", 17) != 0)
        fail_msg("header %s: expected \"%s\" in: %s", header, want, e.msg);
    free(b);
}

static void expect_error(const char *header, size_t data, const char *want)
{
    expect_error_n(header, strlen(header), data, want);
}

static void expect_ok(const char *header, size_t data, size_t count)
{
    size_t len;
    unsigned char *b = image(header, strlen(header), data, &len);
    st_set *s;
    alarm_err e;
    if (st_open_buffer(&s, b, len, "ok.safetensors", &e) < 0)
        fail_msg("rejected %s: %s", header, e.msg);
    assert_int_equal(st_count(s), count);
    st_close(s);
    free(b);
}

#define T(x) "{\"x\":{\"dtype\":\"F32\",\"shape\":" x "}}"

static void structure_errors(void **state)
{
    (void)state;
    expect_error("", 0, "cannot hold a JSON object");
    expect_error("{\"x\":", 0, "not valid JSON");
    expect_error("[1,2]", 0, "not a JSON object");
    expect_error("\"str\"", 0, "not a JSON object");
    expect_error("{} x", 0, "bytes after its JSON object (at byte 3)");
    expect_error_n("{}\0\0\0\0\0\0", 8, 0, "control byte 0x00 at byte 2");
    expect_error_n("{\"a\0\":1}", 8, 0, "control byte 0x00 at byte 3");
    expect_error("{\"a\x01\":1}", 0, "control byte 0x01");
    expect_error("{\"a\\u0000b\":1}", 0, "\\u0000 escape at byte 3");
    expect_ok("{\"a\\\\u0000\":{\"dtype\":\"U8\",\"shape\":[],\"data_offsets\":[0,1]}}", 1, 1);
    expect_error("{\"x\":3}", 0, "tensor \"x\": expected an object");
    expect_error("{\"\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}", 4, "empty name");
    expect_error("{\"__metadata__\":{\"a\":1}}", 0, "__metadata__: value of \"a\" is not a string");
    expect_error("{\"__metadata__\":[]}", 0, "__metadata__ is not an object");
}

static void entry_errors(void **state)
{
    (void)state;
    expect_error("{\"x\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "tensor \"x\": dtype is missing");
    expect_error("{\"x\":{\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "dtype is missing");
    expect_error("{\"x\":{\"dtype\":\"F33\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
                 "tensor \"x\": unknown dtype \"F33\"");
    expect_error("{\"x\":{\"dtype\":\"F32F32F32F32F32F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
                 4, "unknown dtype");
    expect_error(T("[-1],\"data_offsets\":[0,4]"), 4, "shape[0] is not a non-negative integer");
    expect_error(T("[1.5],\"data_offsets\":[0,4]"), 4, "shape[0]");
    expect_error(T("[1,\"2\"],\"data_offsets\":[0,4]"), 4, "shape[1]");
    expect_error(T("[1e300],\"data_offsets\":[0,4]"), 4, "shape[0]");
    expect_error(T("3,\"data_offsets\":[0,4]"), 4, "shape is missing or not an array");
    expect_error(T("[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]"), 4, "9 dimensions");
    expect_error(T("[4294967296,4294967296,16],\"data_offsets\":[0,4]"), 4, "overflow");
    expect_error(T("[1125899906842624,1125899906842624],\"data_offsets\":[0,4]"), 4, "overflow");
    expect_error(T("[1152921504606846976],\"data_offsets\":[0,4]"), 4, "shape[0]");
    expect_error(T("[1]"), 4, "data_offsets must be [begin, end]");
    expect_error(T("[1],\"data_offsets\":[0]"), 4, "data_offsets must be");
    expect_error(T("[1],\"data_offsets\":[0,4,8]"), 4, "data_offsets must be");
    expect_error(T("[1],\"data_offsets\":[0,-4]"), 4, "data_offsets must be");
    expect_error(T("[1],\"data_offsets\":[0,1e300]"), 4, "data_offsets must be");
    expect_error(T("[1],\"data_offsets\":[0,9007199254740993]"), 4, "past the end");
    expect_error(T("[1],\"data_offsets\":[4,0]"), 4, "data_offsets [4, 0] end before they begin");
    expect_error(T("[100],\"data_offsets\":[0,400]"), 396,
                 "tensor \"x\": data_offsets [0, 400] past the end of the file");
    expect_error(T("[2],\"data_offsets\":[0,4]"), 8, "hold 4 bytes but F32 x 2 elements need 8");
}

static void set_errors(void **state)
{
    (void)state;
    expect_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                 "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
                 12, "tensors \"a\" and \"b\" overlap");
    expect_error("{\"a\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,16]},"
                 "\"b\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[15,16]}}",
                 16, "overlap");
    expect_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                 "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
                 8, "tensor \"a\" appears twice");
    /* What is allowed: empty tensors anywhere, scalars, gaps, metadata, padding. */
    expect_ok("{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,4]},"
              "\"b\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]},"
              "\"c\":{\"dtype\":\"BOOL\",\"shape\":[3,0],\"data_offsets\":[4,4]},"
              "\"d\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[8,10],\"extra\":1},"
              "\"__metadata__\":{\"format\":\"pt\"}}      ", 10, 4);
    expect_ok("{}", 0, 0);
    expect_ok(" {}\n\t ", 16, 0);
}

static void header_length_errors(void **state)
{
    (void)state;
    unsigned char b[16] = {0};
    st_set *s;
    alarm_err e;
    for (size_t n = 0; n < 8; n++) {
        assert_int_equal(st_open_buffer(&s, b, n, "t.safetensors", &e), -1);
        assert_non_null(strstr(e.msg, "truncated"));
    }
    b[0] = 9; /* 9 > 16 - 8 */
    assert_int_equal(st_open_buffer(&s, b, 16, "t.safetensors", &e), -1);
    assert_non_null(strstr(e.msg, "header length 9 past the end of the file (16 bytes)"));
    memset(b, 0xff, 8);
    assert_int_equal(st_open_buffer(&s, b, 16, "t.safetensors", &e), -1);
    assert_non_null(strstr(e.msg, "past the end"));
}

/* Every prefix of a real file is rejected (with its path in the message when
 * opened from disk), and no single-byte change of the header crashes. */
static void truncations_and_flips(void **state)
{
    (void)state;
    size_t len;
    unsigned char *full =
        (unsigned char *)tmpdir_read(test_path("fixtures/st/mixed.safetensors"), &len);
    assert_non_null(full);
    st_set *s;
    alarm_err e;
    for (size_t n = 0; n < len; n++) {
        unsigned char *b = malloc(n + 1); /* exact size, so ASan sees any over-read */
        memcpy(b, full, n);
        assert_int_equal(st_open_buffer(&s, b, n, "mixed.safetensors", &e), -1);
        free(b);
    }
    char dir[4096], p[4200];
    tmpdir_make(dir, sizeof dir);
    snprintf(p, sizeof p, "%s/model.safetensors", dir);
    tmpdir_write(p, full, len - 1);
    assert_int_equal(st_open(&s, dir, &e), -1);
    if (!strstr(e.msg, p) || !strstr(e.msg, "past the end of the file"))
        fail_msg("unexpected: %s", e.msg);
    tmpdir_remove(dir);

    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--)
        hlen = hlen << 8 | full[i];
    const unsigned char subst[] = {'0', '9', '"', ',', ']', '}', '{', ' ', 0, 0xff};
    int accepted = 0;
    unsigned char *b = malloc(len);
    for (size_t i = 0; i < 8 + hlen; i++)
        for (size_t k = 0; k < sizeof subst; k++) {
            memcpy(b, full, len);
            b[i] = subst[k];
            if (st_open_buffer(&s, b, len, "flip", &e) == 0) {
                /* Whatever was accepted must be inside the buffer. */
                for (size_t j = 0; j < st_count(s); j++) {
                    const st_tensor *t = st_at(s, j);
                    assert_true(t->data >= b + 8 && t->data + t->nbytes <= b + len);
                }
                st_close(s);
                accepted++;
            }
        }
    assert_true(accepted > 0); /* e.g. digit changes inside the shape of an empty dim */
    free(b);
    free(full);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(structure_errors),
        cmocka_unit_test(entry_errors),
        cmocka_unit_test(set_errors),
        cmocka_unit_test(header_length_errors),
        cmocka_unit_test(truncations_and_flips),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
