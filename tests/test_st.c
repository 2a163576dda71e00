/* Unit tests for st: reading the torch-made fixtures of tests/gen_st_fixtures.py
 * (values compared bit for bit with torch's conversions), the scalar dtype
 * conversions, writing and re-reading, sharded checkpoints, lazy mapping.
 * ALARM_ST_EXPORT=DIR keeps the files st_write made there (for
 * tests/st_torch_check.py); ALARM_LONG_TESTS=1 times a GPT-2-sized file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "clock.h"
#include "lib/check.h"
#include "st.h"
#include "lib/tmpdir.h"

static void *load_fixture(const char *rel, size_t *len)
{
    void *p = tmpdir_read(test_path(rel), len);
    if (!p)
        fail_msg("cannot read fixture %s (run from the repository root)", rel);
    return p;
}

static uint32_t fbits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

/* Bitwise equality (NaN payloads and signed zeros included). */
static void check_bits(const char *name, const float *got, const float *want, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (fbits(got[i]) != fbits(want[i]))
            fail_msg("%s: element %zu of %zu: got %08x (%g), want %08x (%g)", name, i, n,
                     fbits(got[i]), got[i], fbits(want[i]), want[i]);
}

static void check_tensor(const st_set *s, const cJSON *want, const float *values)
{
    const char *name = want->string;
    const st_tensor *t = st_find(s, name);
    if (!t)
        fail_msg("tensor %s missing", name);
    assert_string_equal(t->name, name);
    assert_string_equal(t->dtype_name,
                        cJSON_GetObjectItem(want, "dtype")->valuestring);
    const cJSON *shape = cJSON_GetObjectItem(want, "shape");
    assert_int_equal(t->ndim, cJSON_GetArraySize(shape));
    size_t numel = 1;
    for (int d = 0; d < t->ndim; d++) {
        assert_int_equal(t->shape[d], cJSON_GetArrayItem(shape, d)->valueint);
        numel *= (size_t)t->shape[d];
    }
    assert_int_equal(t->numel, numel);
    int off = cJSON_GetObjectItem(want, "offset")->valueint;
    float *got = malloc((numel + 1) * sizeof *got);
    alarm_err e;
    if (off >= 0) {
        if (st_to_f32(t, got, &e) < 0)
            fail_msg("%s: %s", name, e.msg);
        check_bits(name, got, values + off, numel);
        assert_int_equal(t->dtype, strcmp(t->dtype_name, "F32") == 0   ? ST_F32
                                   : strcmp(t->dtype_name, "F16") == 0 ? ST_F16
                                                                       : ST_BF16);
    } else {
        assert_int_equal(t->dtype, ST_OTHER);
        assert_int_equal(st_to_f32(t, got, &e), -1);
        assert_non_null(strstr(e.msg, name));
        assert_non_null(strstr(e.msg, t->dtype_name));
    }
    free(got);
}

static void fixtures_match_torch(void **state)
{
    (void)state;
    size_t n;
    char *json = load_fixture("fixtures/st/expected.json", &n);
    float *values = load_fixture("fixtures/st/expected.f32", &n);
    cJSON *root = cJSON_Parse(json);
    assert_non_null(root);
    const cJSON *file;
    int files = 0;
    cJSON_ArrayForEach(file, cJSON_GetObjectItem(root, "files")) {
        char rel[256];
        snprintf(rel, sizeof rel, "fixtures/st/%s", file->string);
        st_set *s;
        alarm_err e;
        if (st_open(&s, test_path(rel), &e) < 0)
            fail_msg("%s", e.msg);
        const cJSON *tensors = cJSON_GetObjectItem(file, "tensors"), *t, *m;
        assert_int_equal(st_count(s), cJSON_GetArraySize(tensors));
        cJSON_ArrayForEach(t, tensors)
            check_tensor(s, t, values);
        cJSON_ArrayForEach(m, cJSON_GetObjectItem(file, "metadata")) {
            assert_non_null(st_metadata(s, m->string));
            assert_string_equal(st_metadata(s, m->string), m->valuestring);
        }
        assert_null(st_find(s, "no.such.tensor"));
        assert_null(st_at(s, st_count(s)));
        st_close(s);
        files++;
    }
    assert_int_equal(files, 5);
    cJSON_Delete(root);
    free(json);
    free(values);
}

/* st_at keeps the order of the header (not of the data, not sorted). */
static void header_order_kept(void **state)
{
    (void)state;
    st_set *s;
    alarm_err e;
    assert_int_equal(st_open(&s, test_path("fixtures/st/f32.safetensors"), &e), 0);
    const char *want[] = {"specials", "scalar", "empty", "wte.weight", "h.0.attn.bias"};
    assert_int_equal(st_count(s), 5);
    for (size_t i = 0; i < 5; i++)
        assert_string_equal(st_at(s, i)->name, want[i]);
    assert_int_equal(st_find(s, "scalar")->ndim, 0);
    assert_int_equal(st_find(s, "scalar")->numel, 1);
    assert_int_equal(st_find(s, "empty")->numel, 0);
    st_close(s);
}

static void conversions_match_torch(void **state)
{
    (void)state;
    size_t ns, nb, nh;
    float *src = load_fixture("fixtures/st/conv_src.f32", &ns);
    uint16_t *bf = load_fixture("fixtures/st/conv_bf16.u16", &nb);
    uint16_t *hf = load_fixture("fixtures/st/conv_f16.u16", &nh);
    size_t n = ns / 4;
    assert_true(n > 1000 && nb == 2 * n && nh == 2 * n);
    for (size_t i = 0; i < n; i++) {
        if (st_f32_to_bf16(src[i]) != bf[i])
            fail_msg("bf16 of %08x (%g): got %04x, torch %04x", fbits(src[i]), src[i],
                     st_f32_to_bf16(src[i]), bf[i]);
        if (st_f32_to_f16(src[i]) != hf[i])
            fail_msg("f16 of %08x (%g): got %04x, torch %04x", fbits(src[i]), src[i],
                     st_f32_to_f16(src[i]), hf[i]);
    }
    free(src);
    free(bf);
    free(hf);
}

/* Every 16-bit pattern, against the definition of the formats computed in double. */
static void all_half_patterns(void **state)
{
    (void)state;
    for (uint32_t h = 0; h < 65536; h++) {
        int exp = (h >> 10) & 31, mant = h & 1023;
        double v = exp == 0 ? ldexp(mant, -24) : exp == 31 ? (mant ? NAN : INFINITY)
                                                           : ldexp(1024 + mant, exp - 25);
        if (h & 0x8000)
            v = -v;
        float got = st_f16_to_f32((uint16_t)h);
        if (exp == 31 && mant) {
            assert_true(isnan(got));
            continue;
        }
        if (got != (float)v || !signbit(got) != !signbit(v))
            fail_msg("f16 %04x: got %g, want %g", h, got, v);
        if (st_f32_to_f16(got) != h) /* every half is exact in fp32 and converts back */
            fail_msg("f16 %04x: round trip gave %04x", h, st_f32_to_f16(got));
        float b = st_bf16_to_f32((uint16_t)h);
        if (!isnan(b) && st_f32_to_bf16(b) != h)
            fail_msg("bf16 %04x: round trip gave %04x", h, st_f32_to_bf16(b));
    }
}

static void write_and_reread(void **state)
{
    (void)state;
    char dir[4096], path[4200];
    const char *export = getenv("ALARM_ST_EXPORT");
    if (export && *export)
        snprintf(dir, sizeof dir, "%s", export);
    else
        tmpdir_make(dir, sizeof dir);
    size_t ns, nb, nh;
    float *src = load_fixture("fixtures/st/conv_src.f32", &ns);
    uint16_t *bf = load_fixture("fixtures/st/conv_bf16.u16", &nb);
    uint16_t *hf = load_fixture("fixtures/st/conv_f16.u16", &nh);
    size_t n = ns / 4;
    float m[60];
    for (int i = 0; i < 60; i++)
        m[i] = (float)i * 0.25f - 7.0f;
    st_out outs[] = {
        {"src", src, 1, {(int64_t)n}},
        {"h.0.mlp.c_fc.weight", m, 3, {3, 4, 5}},
        {"empty", NULL, 2, {0, 4}},
        {"scalar \"quoted\"\n", m + 1, 0, {0}},
    };
    const char *meta[] = {"format", "pt", "by", "alarm\ttest", NULL};
    const st_dtype dts[] = {ST_F32, ST_BF16, ST_F16};
    const char *names[] = {"F32", "BF16", "F16"};
    float *got = malloc(n * sizeof *got), *want = malloc(n * sizeof *want);
    for (int k = 0; k < 3; k++) {
        alarm_err e;
        snprintf(path, sizeof path, "%s/roundtrip_%s.safetensors", dir, names[k]);
        if (st_write(path, outs, 4, dts[k], meta, &e) < 0)
            fail_msg("%s", e.msg);
        size_t len;
        unsigned char *raw = (unsigned char *)tmpdir_read(path, &len);
        uint64_t hlen = 0;
        for (int i = 7; i >= 0; i--)
            hlen = hlen << 8 | raw[i];
        assert_int_equal((8 + hlen) % 8, 0); /* data block aligned like the reference */
        assert_int_equal(len, 8 + hlen + (n + 61) * (k ? 2 : 4));
        free(raw);

        st_set *s;
        if (st_open(&s, path, &e) < 0)
            fail_msg("%s", e.msg);
        assert_int_equal(st_count(s), 4);
        assert_string_equal(st_metadata(s, "by"), "alarm\ttest");
        const st_tensor *t = st_find(s, "src");
        assert_string_equal(t->dtype_name, names[k]);
        assert_int_equal(st_to_f32(t, got, &e), 0);
        for (size_t i = 0; i < n; i++)
            want[i] = k == 0 ? src[i] : k == 1 ? st_bf16_to_f32(bf[i]) : st_f16_to_f32(hf[i]);
        check_bits("src", got, want, n);
        t = st_find(s, "h.0.mlp.c_fc.weight");
        assert_int_equal(t->ndim, 3);
        assert_int_equal(t->shape[2], 5);
        assert_int_equal(st_to_f32(t, got, &e), 0);
        check_close("m", got, m, 60, 0, 0); /* all exact in 16 bits */
        assert_int_equal(st_find(s, "empty")->numel, 0);
        assert_non_null(st_find(s, "scalar \"quoted\"\n"));
        st_close(s);
    }
    /* Nothing but the three files: no temporary left behind. */
    if (!(export && *export)) {
        assert_int_equal(tmpdir_count(dir), 3);
        tmpdir_remove(dir);
    }
    free(got);
    free(want);
    free(src);
    free(bf);
    free(hf);
}

static void write_rejects_bad_requests(void **state)
{
    (void)state;
    char dir[4096], path[4200];
    tmpdir_make(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/x.safetensors", dir);
    float v[4] = {1, 2, 3, 4};
    alarm_err e;
    st_out dup[] = {{"a", v, 1, {4}}, {"a", v, 1, {4}}};
    assert_int_equal(st_write(path, dup, 2, ST_F32, NULL, &e), -1);
    assert_non_null(strstr(e.msg, "twice"));
    st_out neg[] = {{"a", v, 1, {-1}}};
    assert_int_equal(st_write(path, neg, 1, ST_F32, NULL, &e), -1);
    st_out meta[] = {{"__metadata__", v, 1, {4}}};
    assert_int_equal(st_write(path, meta, 1, ST_F32, NULL, &e), -1);
    st_out nodata[] = {{"a", NULL, 1, {4}}};
    assert_int_equal(st_write(path, nodata, 1, ST_F32, NULL, &e), -1);
    st_out ok[] = {{"a", v, 1, {4}}};
    assert_int_equal(st_write(path, ok, 1, ST_OTHER, NULL, &e), -1);
    assert_int_equal(tmpdir_count(dir), 0);
    snprintf(path, sizeof path, "%s/missing/x.safetensors", dir);
    assert_int_equal(st_write(path, ok, 1, ST_F32, NULL, &e), -1);
    assert_non_null(strstr(e.msg, "missing"));
    /* Over an existing directory: the rename fails, the temporary goes. */
    snprintf(path, sizeof path, "%s/sub", dir);
    assert_int_equal(mkdir(path, 0755), 0);
    assert_int_equal(st_write(path, ok, 1, ST_F32, NULL, &e), -1);
    assert_int_equal(tmpdir_count(dir), 1);
    tmpdir_remove(dir);
}

static void sharded_checkpoint(void **state)
{
    (void)state;
    st_set *s;
    alarm_err e;
    const char *paths[] = {"fixtures/st/sharded", "fixtures/st/sharded/",
                           "fixtures/st/sharded/model.safetensors.index.json"};
    for (int k = 0; k < 3; k++) {
        if (st_open(&s, test_path(paths[k]), &e) < 0)
            fail_msg("%s", e.msg);
        assert_int_equal(st_count(s), 4);
        assert_non_null(st_find(s, "lm_head.weight"));
        assert_string_equal(st_find(s, "lm_head.weight")->dtype_name, "BF16");
        assert_non_null(st_find(s, "model.embed_tokens.weight"));
        st_close(s);
    }
}

/* The shard fixture copied into a scratch directory with another index. */
static void shard_case(const char *index, const char *want_msg)
{
    char dir[4096], p[4200];
    tmpdir_make(dir, sizeof dir);
    const char *shards[] = {"model-00001-of-00002.safetensors",
                            "model-00002-of-00002.safetensors"};
    for (int i = 0; i < 2; i++) {
        char rel[128];
        size_t len;
        snprintf(rel, sizeof rel, "fixtures/st/sharded/%s", shards[i]);
        char *data = load_fixture(rel, &len);
        snprintf(p, sizeof p, "%s/%s", dir, shards[i]);
        tmpdir_write(p, data, len);
        free(data);
    }
    snprintf(p, sizeof p, "%s/model.safetensors.index.json", dir);
    tmpdir_write(p, index, strlen(index));
    st_set *s = NULL;
    alarm_err e;
    assert_int_equal(st_open(&s, dir, &e), -1);
    assert_null(s);
    if (!strstr(e.msg, want_msg))
        fail_msg("expected \"%s\" in: %s", want_msg, e.msg);
    tmpdir_remove(dir);
}

static void sharded_errors(void **state)
{
    (void)state;
    shard_case("{\"weight_map\": {\"lm_head.weight\": \"model-00001-of-00002.safetensors\"}}",
               "is mapped to model-00001-of-00002.safetensors but");
    shard_case("{\"weight_map\": {\"x\": \"model-00003-of-00002.safetensors\"}}",
               "model-00003-of-00002.safetensors: No such file");
    shard_case("{\"weight_map\": {\"x\": \"../model.safetensors\"}}", "same directory");
    shard_case("{\"weight_map\": {\"x\": 3}}", "same directory");
    shard_case("{\"weight_map\": {}}", "empty");
    shard_case("{\"weight_map\": [1]}", "weight_map");
    shard_case("{\"weight_map\": {\"x\": \"a\"", "not valid JSON");
    shard_case("[]", "weight_map");
    /* Both shards hold a tensor of the same name. */
    char dir[4096], p[4200];
    tmpdir_make(dir, sizeof dir);
    float v[2] = {1, 2};
    st_out o[] = {{"w", v, 1, {2}}};
    alarm_err e;
    snprintf(p, sizeof p, "%s/a.safetensors", dir);
    assert_int_equal(st_write(p, o, 1, ST_F32, NULL, &e), 0);
    snprintf(p, sizeof p, "%s/b.safetensors", dir);
    assert_int_equal(st_write(p, o, 1, ST_F32, NULL, &e), 0);
    snprintf(p, sizeof p, "%s/model.safetensors.index.json", dir);
    const char *idx = "{\"weight_map\": {\"w\": \"a.safetensors\", \"v\": \"b.safetensors\"}}";
    tmpdir_write(p, idx, strlen(idx));
    st_set *s;
    assert_int_equal(st_open(&s, dir, &e), -1);
    assert_non_null(strstr(e.msg, "tensor \"w\" appears twice"));
    tmpdir_remove(dir);
}

static void write_dir_shards(void **state)
{
    (void)state;
    char dir[4096], p[4200];
    const char *export = getenv("ALARM_ST_EXPORT");
    if (export && *export) {
        snprintf(dir, sizeof dir, "%s/sharded", export);
        assert_int_equal(mkdir(dir, 0755), 0);
    } else {
        tmpdir_make(dir, sizeof dir);
    }
    float *v = malloc(460 * sizeof *v);
    for (int i = 0; i < 460; i++)
        v[i] = (float)i - 100.5f;
    /* 400, 200, 1200 and 40 bytes in F32, 500 per shard: z.a fills the first;
     * c, too big for any, takes the second at once; b and a.d share the third. */
    st_out o[] = {{"z.a", v, 1, {100}}, {"b", v + 100, 2, {5, 10}},
                  {"c", v + 150, 1, {300}}, {"a.d", v + 450, 1, {10}}};
    const char *meta[] = {"format", "pt", NULL};
    alarm_err e;
    if (st_write_dir(dir, o, 4, ST_F32, 500, meta, &e) < 0)
        fail_msg("%s", e.msg);
    assert_int_equal(tmpdir_count(dir), 4);
    snprintf(p, sizeof p, "%s/model.safetensors.index.json", dir);
    char *idx = tmpdir_read(p, NULL);
    cJSON *root = cJSON_Parse(idx);
    assert_non_null(root);
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(root, "metadata"),
                                         "total_size")->valuedouble, 1840);
    const cJSON *map = cJSON_GetObjectItem(root, "weight_map");
    const char *names[] = {"a.d", "b", "c", "z.a"}; /* sorted, as transformers writes it */
    const char *shard[] = {"model-00003-of-00003.safetensors", "model-00003-of-00003.safetensors",
                           "model-00002-of-00003.safetensors", "model-00001-of-00003.safetensors"};
    assert_int_equal(cJSON_GetArraySize(map), 4);
    for (int i = 0; i < 4; i++) {
        assert_string_equal(cJSON_GetArrayItem(map, i)->string, names[i]);
        assert_string_equal(cJSON_GetArrayItem(map, i)->valuestring, shard[i]);
    }
    cJSON_Delete(root);
    free(idx);
    st_set *s;
    if (st_open(&s, dir, &e) < 0)
        fail_msg("%s", e.msg);
    assert_int_equal(st_count(s), 4);
    assert_string_equal(st_metadata(s, "format"), "pt");
    float got[300];
    for (int i = 0; i < 4; i++) {
        const st_tensor *t = st_find(s, o[i].name);
        assert_int_equal(st_to_f32(t, got, &e), 0);
        check_close(o[i].name, got, o[i].data, t->numel, 0, 0);
    }
    st_close(s);
    if (!(export && *export))
        tmpdir_remove(dir);

    /* Without a limit (or when everything fits): one model.safetensors. */
    tmpdir_make(dir, sizeof dir);
    assert_int_equal(st_write_dir(dir, o, 4, ST_BF16, 0, NULL, &e), 0);
    assert_int_equal(tmpdir_count(dir), 1);
    snprintf(p, sizeof p, "%s/model.safetensors", dir);
    assert_int_equal(st_open(&s, p, &e), 0);
    assert_int_equal(st_count(s), 4);
    st_close(s);
    assert_int_equal(st_write_dir(dir, o, 4, ST_OTHER, 0, NULL, &e), -1);
    st_out dup[] = {{"b", v, 1, {1}}, {"b", v, 1, {1}}};
    assert_int_equal(st_write_dir(dir, dup, 2, ST_F32, 1, NULL, &e), -1);
    assert_non_null(strstr(e.msg, "twice"));
    tmpdir_remove(dir);
    free(v);
}

static void open_paths(void **state)
{
    (void)state;
    char dir[4096], p[4200];
    tmpdir_make(dir, sizeof dir);
    st_set *s;
    alarm_err e;
    assert_int_equal(st_open(&s, dir, &e), -1);
    assert_non_null(strstr(e.msg, "no model.safetensors"));
    assert_null(strstr(e.msg, "pickle"));
    snprintf(p, sizeof p, "%s/pytorch_model.bin", dir);
    tmpdir_write(p, "PK", 2);
    assert_int_equal(st_open(&s, dir, &e), -1);
    assert_non_null(strstr(e.msg, "safe_serialization=True"));
    snprintf(p, sizeof p, "%s/nothing", dir);
    assert_int_equal(st_open(&s, p, &e), -1);
    assert_non_null(strstr(e.msg, "No such file"));
    snprintf(p, sizeof p, "%s/model.safetensors", dir);
    tmpdir_write(p, "", 0);
    assert_int_equal(st_open(&s, dir, &e), -1);
    assert_non_null(strstr(e.msg, "model.safetensors: truncated: 0 bytes"));
    float v[3] = {1, 2, 3};
    st_out o[] = {{"w", v, 1, {3}}};
    assert_int_equal(st_write(p, o, 1, ST_F32, NULL, &e), 0); /* replaces the empty file */
    assert_int_equal(st_open(&s, dir, &e), 0);
    assert_int_equal(st_count(s), 1);
    st_close(s);
    tmpdir_remove(dir);
}

static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, rss = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
            rss = 0;
        fclose(f);
    }
    return rss * 4;
}

/* A GPT-2-like set of tensors: nparams floats in total, valued by position. */
static float *big_tensors(size_t nparams, st_out *o, int *n)
{
    float *buf = malloc(nparams * sizeof *buf);
    for (size_t i = 0; i < nparams; i++)
        buf[i] = (float)(i % 1000) * 0.001f - 0.5f;
    size_t per = nparams / 8;
    *n = 8;
    for (int i = 0; i < 8; i++) {
        static char names[8][32];
        snprintf(names[i], sizeof names[i], "h.%d.weight", i);
        o[i] = (st_out){names[i], buf + (size_t)i * per, 2, {(int64_t)(per / 768), 768}};
    }
    return buf;
}

/* Opening maps the file without reading it: resident memory grows by far
 * less than the file (only the header page is touched). */
static void open_is_lazy(void **state)
{
    (void)state;
    int long_run = getenv("ALARM_LONG_TESTS") && strcmp(getenv("ALARM_LONG_TESTS"), "1") == 0;
    size_t nparams = long_run ? (size_t)124439808 : (size_t)8 * 768 * 1024 * 2; /* 48 MB */
    char dir[4096], p[4200];
    tmpdir_make(dir, sizeof dir);
    st_out o[8];
    int n;
    float *buf = big_tensors(nparams, o, &n);
    const st_dtype dts[] = {ST_F32, ST_BF16};
    for (int k = 0; k < (long_run ? 2 : 1); k++) {
        alarm_err e;
        snprintf(p, sizeof p, "%s/model.safetensors", dir);
        double t0 = clock_mono();
        assert_int_equal(st_write(p, o, (size_t)n, dts[k], NULL, &e), 0);
        double t1 = clock_mono();
        long before = rss_kb();
        st_set *s;
        assert_int_equal(st_open(&s, dir, &e), 0);
        double t2 = clock_mono();
        long grown = rss_kb() - before;
        assert_true(grown < 4096);
        float *dst = buf; /* convert over the source: each tensor back into its place */
        for (size_t i = 0; i < st_count(s); i++) {
            assert_int_equal(st_to_f32(st_at(s, i), dst, &e), 0);
            dst += st_at(s, i)->numel;
        }
        double t3 = clock_mono();
        printf("# st %s %zu params: write %.3f s, open %.4f s (rss +%ld kB), convert %.3f s\n",
               k ? "BF16" : "F32", nparams, t1 - t0, t2 - t1, grown, t3 - t2);
        st_close(s);
    }
    assert_true(buf[1001] == 0.001f - 0.5f || fabsf(buf[1001] - (0.001f - 0.5f)) < 1e-2f);
    free(buf);
    tmpdir_remove(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fixtures_match_torch),
        cmocka_unit_test(header_order_kept),
        cmocka_unit_test(conversions_match_torch),
        cmocka_unit_test(all_half_patterns),
        cmocka_unit_test(write_and_reread),
        cmocka_unit_test(write_rejects_bad_requests),
        cmocka_unit_test(sharded_checkpoint),
        cmocka_unit_test(sharded_errors),
        cmocka_unit_test(write_dir_shards),
        cmocka_unit_test(open_paths),
        cmocka_unit_test(open_is_lazy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
