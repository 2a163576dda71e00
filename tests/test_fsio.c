/* fsio_read_file: whole files of any size around its buffer's growth steps
 * come back byte for byte and NUL-terminated; the size limit, a missing
 * file and a directory give errors naming the path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsio.h"

static void write_bytes(const char *path, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    for (size_t i = 0; i < n; i++)
        fputc((int)(i * 7 % 251), f);
    assert_int_equal(fclose(f), 0);
}

static void reads_whole_files(void **state)
{
    (void)state;
    char dir[] = "/tmp/alarm-fsio-XXXXXX", path[64];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/f", dir);
    size_t sizes[] = {0, 1, 65535, 65536, 65537, 200000};
    alarm_err e;
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        write_bytes(path, sizes[k]);
        size_t len = 12345;
        char *buf = fsio_read_file(path, SIZE_MAX, &len, &e);
        assert_non_null(buf);
        assert_int_equal(len, sizes[k]);
        assert_int_equal(buf[len], '\0');
        for (size_t i = 0; i < len; i++)
            if ((unsigned char)buf[i] != i * 7 % 251)
                fail_msg("byte %zu of %zu differs", i, len);
        free(buf);
    }
    size_t len;
    assert_null(fsio_read_file(path, 199999, &len, &e)); /* 200000 bytes, one over */
    assert_non_null(strstr(e.msg, "larger than"));
    assert_non_null(strstr(e.msg, path));
    char *ok = fsio_read_file(path, 200000, &len, &e); /* exactly the limit */
    assert_non_null(ok);
    free(ok);
    assert_int_equal(unlink(path), 0);
    assert_null(fsio_read_file(path, SIZE_MAX, &len, &e));
    assert_non_null(strstr(e.msg, "No such file"));
    assert_null(fsio_read_file(dir, SIZE_MAX, &len, &e)); /* a directory reads as an error */
    assert_non_null(strstr(e.msg, dir));
    assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(reads_whole_files)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
