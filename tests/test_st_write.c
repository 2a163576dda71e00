/* Saving against tests/fixtures/st/save.json (tests/gen_st_fixtures.py): for
 * each dtype and maximum shard size, st_write_dir makes exactly the files
 * transformers would (same shard names, same tensors in each, the index text
 * byte for byte), and every tensor's bytes are torch's conversion of its fp32
 * values, NaNs, ties and overflows included. Reading back covers st_index. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/check.h"
#include "lib/tmpdir.h"
#include "st.h"

typedef struct {
    cJSON *root;
    float *src;                 /* conv_src.f32 */
    uint16_t *bf16, *f16;       /* torch's conversions of src */
    st_out *outs;
    size_t n;
} save_fx;

static void *fixture(const char *rel, size_t *len)
{
    void *p = tmpdir_read(test_path(rel), len);
    if (!p)
        fail_msg("cannot read fixture %s", rel);
    return p;
}

static int setup(void **state)
{
    save_fx *f = calloc(1, sizeof *f);
    size_t len;
    char *json = fixture("fixtures/st/save.json", &len);
    f->root = cJSON_Parse(json);
    free(json);
    f->src = fixture("fixtures/st/conv_src.f32", &len);
    f->bf16 = fixture("fixtures/st/conv_bf16.u16", &len);
    f->f16 = fixture("fixtures/st/conv_f16.u16", &len);
    const cJSON *tensors = cJSON_GetObjectItem(f->root, "tensors"), *t;
    f->n = (size_t)cJSON_GetArraySize(tensors);
    f->outs = calloc(f->n, sizeof *f->outs);
    size_t i = 0;
    cJSON_ArrayForEach(t, tensors) {
        st_out *o = &f->outs[i++];
        const cJSON *shape = cJSON_GetObjectItem(t, "shape");
        o->name = cJSON_GetObjectItem(t, "name")->valuestring;
        o->data = f->src + cJSON_GetObjectItem(t, "offset")->valueint;
        o->ndim = cJSON_GetArraySize(shape);
        for (int d = 0; d < o->ndim; d++)
            o->shape[d] = cJSON_GetArrayItem(shape, d)->valueint;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    save_fx *f = *state;
    cJSON_Delete(f->root);
    free(f->src);
    free(f->bf16);
    free(f->f16);
    free(f->outs);
    free(f);
    return 0;
}

static st_dtype dtype_of(const char *name)
{
    return !strcmp(name, "BF16") ? ST_BF16 : !strcmp(name, "F16") ? ST_F16 : ST_F32;
}

/* The bytes torch writes for tensor o in dtype dt. */
static const void *torch_bytes(const save_fx *f, const st_out *o, st_dtype dt)
{
    size_t off = (size_t)(o->data - f->src);
    return dt == ST_F32 ? (const void *)o->data : dt == ST_BF16 ? (const void *)(f->bf16 + off)
                                                                : (const void *)(f->f16 + off);
}

static const st_out *find_out(const save_fx *f, const char *name)
{
    for (size_t i = 0; i < f->n; i++)
        if (!strcmp(f->outs[i].name, name))
            return &f->outs[i];
    fail_msg("fixture names an unknown tensor %s", name);
    return NULL;
}

/* One file of a case: its tensors in the expected order, bytes as torch's. */
static void check_file(const save_fx *f, const char *dir, const cJSON *file, st_dtype dt)
{
    char p[4400];
    snprintf(p, sizeof p, "%s/%s", dir, file->string);
    st_set *s;
    alarm_err e;
    if (st_open(&s, p, &e) < 0)
        fail_msg("%s", e.msg);
    assert_int_equal(st_count(s), cJSON_GetArraySize(file));
    assert_string_equal(st_metadata(s, "format"), "pt");
    size_t j = 0;
    const cJSON *name;
    cJSON_ArrayForEach(name, file) {
        const st_tensor *t = st_at(s, j++);
        const st_out *o = find_out(f, name->valuestring);
        assert_string_equal(t->name, o->name);
        assert_int_equal(t->dtype, dt);
        assert_int_equal(t->ndim, o->ndim);
        for (int d = 0; d < o->ndim; d++)
            assert_int_equal(t->shape[d], o->shape[d]);
        if (memcmp(t->data, torch_bytes(f, o, dt), t->nbytes) != 0)
            fail_msg("%s: %s: bytes differ from torch's", p, o->name);
    }
    st_close(s);
}

static void writes_what_transformers_writes(void **state)
{
    save_fx *f = *state;
    static const char *const meta[] = {"format", "pt", NULL};
    const cJSON *c;
    int cases = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(f->root, "cases")) {
        char dir[4096], p[4400];
        tmpdir_make(dir, sizeof dir);
        st_dtype dt = dtype_of(cJSON_GetObjectItem(c, "dtype")->valuestring);
        size_t max = (size_t)cJSON_GetObjectItem(c, "max_shard_bytes")->valuedouble;
        alarm_err e;
        if (st_write_dir(dir, f->outs, f->n, dt, max, meta, &e) < 0)
            fail_msg("%s", e.msg);
        const cJSON *files = cJSON_GetObjectItem(c, "files"), *file;
        const cJSON *index = cJSON_GetObjectItem(c, "index");
        int nfiles = cJSON_GetArraySize(files);
        assert_int_equal(tmpdir_count(dir), nfiles + (cJSON_IsString(index) ? 1 : 0));
        snprintf(p, sizeof p, "%s/model.safetensors.index.json", dir);
        char *got = tmpdir_read(p, NULL);
        if (cJSON_IsString(index)) {
            assert_non_null(got);
            assert_string_equal(got, index->valuestring);
        } else {
            assert_null(got);
        }
        free(got);
        cJSON_ArrayForEach(file, files)
            check_file(f, dir, file, dt);
        /* The whole checkpoint reads back through the index (or the one file). */
        st_set *s;
        if (st_open(&s, dir, &e) < 0)
            fail_msg("%s", e.msg);
        assert_int_equal(st_count(s), f->n);
        for (size_t i = 0; i < f->n; i++)
            assert_non_null(st_find(s, f->outs[i].name));
        st_close(s);
        tmpdir_remove(dir);
        cases++;
    }
    assert_int_equal(cases, 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(writes_what_transformers_writes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
