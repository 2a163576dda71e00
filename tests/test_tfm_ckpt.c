/* Checkpoints through the safetensors and checkpoint modules: loading the
 * parity fixtures (with and without the base-class prefix, BF16 on disk),
 * save -> load round trips with Hugging Face names in F32/BF16/F16, one file
 * or shards, saving "as loaded", failed saves that leave nothing behind, and
 * clear errors for unknown architectures, missing or mis-shaped tensors and
 * broken files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fnmatch.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "lib/check.h"
#include "lib/tst_reader.h"
#include "st.h"
#include "tfm.h"
#include "tfm_ckpt.h"

static char tmpdir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/alarm-tfm-ckpt-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *fixture(const char *name)
{
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s%s", test_path("fixtures/tfm/"), name);
    return buf;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Loading through st_ gives exactly the tensors of the fixture. */
static void load_matches_fixture(void **state)
{
    (void)state;
    const char *names[] = {"gpt2_value", "llama_gqa_untied", "qwen2_bias", "llama_tokcls"};
    for (int k = 0; k < 4; k++) {
        tfm_model a, b;
        alarm_err e;
        if (tfm_load(&a, fixture(names[k]), 1, 4, 0, &e) < 0)
            fail_msg("%s", e.msg);
        assert_int_equal(tst_load_model(&b, fixture(names[k]), 1, 4, &e), 0);
        assert_int_equal(a.nparams, b.nparams);
        assert_memory_equal(a.params, b.params, a.nparams * sizeof(float));
        assert_int_equal(a.cfg.value_head, k == 0);
        tfm_free(&a);
        tfm_free(&b);
    }
}

/* save -> load is exact, keeps the config, and the names are transformers'. */
static void save_round_trip(void **state)
{
    (void)state;
    const char *names[] = {"gpt2_value", "llama3_rope", "gpt2_score"};
    for (int k = 0; k < 3; k++) {
        tfm_model a, b;
        alarm_err e;
        char out[512];
        snprintf(out, sizeof out, "%s/%s", tmpdir, names[k]);
        if (tfm_load(&a, fixture(names[k]), 1, 4, 0, &e) < 0 || tfm_save(&a, out, NULL, &e) < 0)
            fail_msg("%s", e.msg);
        if (tfm_load(&b, out, 1, 4, 0, &e) < 0)
            fail_msg("%s", e.msg);
        assert_memory_equal(&a.cfg, &b.cfg, sizeof a.cfg);
        assert_memory_equal(a.params, b.params, a.nparams * sizeof(float));
        st_set *s;
        assert_int_equal(st_open(&s, out, &e), 0);
        assert_int_equal(st_count(s), (size_t)a.ntab);
        assert_non_null(st_find(s, a.tab[0].name));
        if (a.cfg.arch == TFM_GPT2)
            assert_non_null(st_find(s, "transformer.h.0.attn.c_attn.weight"));
        st_close(s);
        /* saving again replaces the checkpoint whole */
        assert_int_equal(tfm_save(&a, out, NULL, &e), 0);
        tfm_free(&a);
        tfm_free(&b);
    }
}

/* The tokenizer files travel with a saved checkpoint, byte for byte. */
static void save_copies_tokenizer(void **state)
{
    (void)state;
    tfm_model a;
    alarm_err e;
    char out[512], cmd[9000];
    snprintf(out, sizeof out, "%s/with_tok", tmpdir);
    if (tfm_load(&a, fixture("lm_gpt2_tok"), 1, 4, 0, &e) < 0 ||
        tfm_save(&a, out, fixture("lm_gpt2_tok"), &e) < 0)
        fail_msg("%s", e.msg);
    snprintf(cmd, sizeof cmd, "cmp -s '%s/tokenizer.json' '%s/tokenizer.json'",
             fixture("lm_gpt2_tok"), out);
    assert_int_equal(system(cmd), 0);
    tfm_free(&a);
}

/* A checkpoint written by the base class (no "model." prefix), in BF16. */
static void base_names_and_bf16(void **state)
{
    (void)state;
    tfm_model a, b;
    alarm_err e;
    char dir[512], path[600], cmd[8800];
    assert_int_equal(tfm_load(&a, fixture("llama_mqa_tied"), 1, 4, 0, &e), 0);
    snprintf(dir, sizeof dir, "%s/base_bf16", tmpdir);
    mkdir(dir, 0755);
    snprintf(cmd, sizeof cmd, "cp '%s/config.json' '%s/'", fixture("llama_mqa_tied"), dir);
    assert_int_equal(system(cmd), 0);
    st_out *outs = calloc((size_t)a.ntab, sizeof *outs);
    for (int i = 0; i < a.ntab; i++) {
        const tfm_tensor *t = &a.tab[i];
        outs[i].name = strncmp(t->name, "model.", 6) ? t->name : t->name + 6;
        outs[i].data = a.params + t->offset;
        outs[i].ndim = t->ndim;
        outs[i].shape[0] = t->shape[0];
        outs[i].shape[1] = t->shape[1];
    }
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    assert_int_equal(st_write(path, outs, (size_t)a.ntab, ST_BF16, NULL, &e), 0);
    if (tfm_load(&b, dir, 1, 4, 0, &e) < 0)
        fail_msg("%s", e.msg);
    assert_int_equal(b.cfg.dtype, ST_BF16); /* from the tensors: config.json does not say */
    for (size_t i = 0; i < a.nparams; i++)
        assert_true(b.params[i] == st_bf16_to_f32(st_f32_to_bf16(a.params[i])));
    free(outs);
    tfm_free(&a);
    tfm_free(&b);
}

/* What a weight reads back as after being saved in dtype dt. */
static float stored(float x, st_dtype dt)
{
    return dt == ST_BF16 ? st_bf16_to_f32(st_f32_to_bf16(x))
         : dt == ST_F16  ? st_f16_to_f32(st_f32_to_f16(x))
                         : x;
}

static int exists(const char *dir, const char *name)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return access(p, F_OK) == 0;
}

/* Entries of dir (other than . and ..), and those named model-*-of-*.safetensors. */
static int count_matching(const char *dir, int shards_only)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    const struct dirent *de;
    while ((de = readdir(d)))
        if (shards_only ? fnmatch("model-*-of-*.safetensors", de->d_name, 0) == 0
                        : strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

static int count_shards(const char *dir)
{
    return count_matching(dir, 1);
}

static int count_entries(const char *dir)
{
    return count_matching(dir, 0);
}

static void assert_torch_dtype(const char *dir, const char *want)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/config.json", dir);
    FILE *f = fopen(p, "r");
    assert_non_null(f);
    char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    cJSON *o = cJSON_Parse(buf);
    const cJSON *d = cJSON_GetObjectItem(o, "torch_dtype");
    assert_true(cJSON_IsString(d));
    assert_string_equal(d->valuestring, want);
    cJSON_Delete(o);
}

/* Each dtype and shard size: config.json names the dtype, the weights read
 * back as converted (F32 exactly), tfm_load remembers the dtype, and saving
 * the loaded model "as loaded" writes the same files byte for byte. */
static void save_dtypes_and_shards(void **state)
{
    (void)state;
    static const tfm_save_opts cases[] = {
        {.dtype = ST_BF16}, {.dtype = ST_F16}, {.dtype = ST_F32, .max_shard_bytes = 10000},
        {.dtype = ST_BF16, .max_shard_bytes = 6000}, {.dtype = ST_F16, .max_shard_bytes = 1}};
    static const char *const torch_names[] = {"float32", "float16", "bfloat16"}; /* by st_dtype */
    const char *names[] = {"gpt2_value", "llama_gqa_untied"};
    for (int k = 0; k < 2; k++) {
        tfm_model a;
        alarm_err e;
        if (tfm_load(&a, fixture(names[k]), 1, 4, 0, &e) < 0)
            fail_msg("%s", e.msg);
        assert_int_equal(a.cfg.dtype, ST_F32);
        float *want = malloc(a.nparams * sizeof *want);
        for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
            const tfm_save_opts *o = &cases[c];
            char out[512], again[600], cmd[1400];
            snprintf(out, sizeof out, "%s/%s_%zu", tmpdir, names[k], c);
            snprintf(again, sizeof again, "%s_again", out);
            tfm_model b, b2;
            if (tfm_save_as(&a, out, NULL, o, &e) < 0 || tfm_load(&b, out, 1, 4, 0, &e) < 0)
                fail_msg("%s", e.msg);
            int sharded = o->max_shard_bytes != 0;
            assert_int_equal(exists(out, "model.safetensors"), !sharded);
            assert_int_equal(exists(out, "model.safetensors.index.json"), sharded);
            /* config.json, then model.safetensors or the index and two shards or more */
            int shards = count_shards(out);
            assert_true(sharded ? shards >= 2 : shards == 0);
            assert_int_equal(count_entries(out), 2 + shards);
            assert_torch_dtype(out, torch_names[o->dtype]);
            assert_int_equal(b.cfg.dtype, o->dtype);
            b.cfg.dtype = a.cfg.dtype;
            assert_memory_equal(&a.cfg, &b.cfg, sizeof a.cfg);
            for (size_t i = 0; i < a.nparams; i++)
                want[i] = stored(a.params[i], o->dtype);
            assert_memory_equal(b.params, want, a.nparams * sizeof *want);

            b.cfg.dtype = o->dtype; /* as tfm_load left it */
            tfm_save_opts as_loaded = {.dtype = b.cfg.dtype, .max_shard_bytes = o->max_shard_bytes};
            if (tfm_save_as(&b, again, NULL, &as_loaded, &e) < 0 ||
                tfm_load(&b2, again, 1, 4, 0, &e) < 0)
                fail_msg("%s", e.msg);
            assert_memory_equal(b2.params, b.params, b.nparams * sizeof(float));
            snprintf(cmd, sizeof cmd, "diff -r '%s' '%s' >/dev/null", out, again);
            assert_int_equal(system(cmd), 0);
            tfm_free(&b);
            tfm_free(&b2);
        }
        free(want);
        tfm_free(&a);
    }
}

/* A save that fails leaves the parent as it was: the old checkpoint whole,
 * no partial directory, no temporary. */
static void save_failures_leave_nothing(void **state)
{
    (void)state;
    tfm_model a;
    alarm_err e;
    char parent[512], out[600], old[700], cmd[1500];
    assert_int_equal(tfm_load(&a, fixture("gpt2_value"), 1, 4, 0, &e), 0);
    snprintf(parent, sizeof parent, "%s/failing", tmpdir);
    assert_int_equal(mkdir(parent, 0755), 0);
    snprintf(out, sizeof out, "%s/ckpt", parent);

    /* A bad option is refused before anything is created. */
    tfm_save_opts bad = {.dtype = ST_OTHER};
    assert_int_equal(tfm_save_as(&a, out, NULL, &bad, &e), -1);
    assert_non_null(strstr(e.msg, "F32, BF16 or F16"));
    assert_int_equal(count_entries(parent), 0);

    /* The disk fills up after two shards (8 kB and 12 kB) of the F32 weights:
     * the third, c_fc's 16 kB, exceeds a 14 kB file-size limit, which makes
     * writes fail with EFBIG even for root. Fresh, then over an old checkpoint. */
    snprintf(old, sizeof old, "%s/old", parent);
    assert_int_equal(tfm_save(&a, old, NULL, &e), 0);
    tfm_save_opts sharded = {.dtype = ST_F32, .max_shard_bytes = 10000};
    for (int over_old = 0; over_old < 2; over_old++) {
        if (over_old) {
            snprintf(cmd, sizeof cmd, "cp -r '%s' '%s'", old, out);
            assert_int_equal(system(cmd), 0);
        }
        struct rlimit saved, lim;
        assert_int_equal(getrlimit(RLIMIT_FSIZE, &saved), 0);
        lim = saved;
        lim.rlim_cur = 14000;
        void (*old_sig)(int) = signal(SIGXFSZ, SIG_IGN);
        assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
        int rc = tfm_save_as(&a, out, NULL, &sharded, &e);
        setrlimit(RLIMIT_FSIZE, &saved);
        signal(SIGXFSZ, old_sig);
        assert_int_equal(rc, -1);
        if (!strstr(e.msg, "File too large") || !strstr(e.msg, "model-0000"))
            fail_msg("unexpected error: %s", e.msg);
        assert_int_equal(count_entries(parent), 1 + over_old); /* old (+ ckpt) */
        if (over_old) {
            snprintf(cmd, sizeof cmd, "diff -r '%s' '%s' >/dev/null", old, out);
            assert_int_equal(system(cmd), 0);
        } else {
            assert_int_equal(access(out, F_OK), -1);
        }
    }
    tfm_free(&a);
}

/* Copies fixture `name` to tmpdir/sub and returns its path. */
static const char *copy_fixture(const char *name, const char *sub)
{
    static char dir[512];
    char cmd[8800];
    snprintf(dir, sizeof dir, "%s/%s", tmpdir, sub);
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -r '%s' '%s'", dir, fixture(name), dir);
    assert_int_equal(system(cmd), 0);
    return dir;
}

static void expect_error(const char *dir, const char *needle)
{
    tfm_model m;
    alarm_err e = {{0}};
    assert_int_equal(tfm_load(&m, dir, 1, 4, 0, &e), -1);
    if (!strstr(e.msg, needle))
        fail_msg("error \"%s\" does not mention \"%s\"", e.msg, needle);
}

static void bad_checkpoints(void **state)
{
    (void)state;
    char path[700];
    const char *d = copy_fixture("llama_gqa_untied", "unknown_arch");
    snprintf(path, sizeof path, "%s/config.json", d);
    write_file(path, "{\"model_type\": \"bert\", \"vocab_size\": 64}");
    expect_error(d, "unsupported model_type \"bert\"");
    write_file(path, "{\"model_type\": \"llama\", \"vocab_size\": 64");
    expect_error(d, "not a JSON object");
    write_file(path, "{\"model_type\": \"llama\", \"vocab_size\": 64, \"hidden_size\": 32}");
    expect_error(d, "missing \"intermediate_size\"");

    /* config says 3 layers: layer 2 is missing from the weights */
    d = copy_fixture("llama_gqa_untied", "missing");
    snprintf(path, sizeof path, "%s/config.json", d);
    FILE *f = fopen(path, "r");
    char cfg[4096];
    size_t n = fread(cfg, 1, sizeof cfg - 1, f);
    fclose(f);
    cfg[n] = 0;
    char *p = strstr(cfg, "\"num_hidden_layers\": 2");
    assert_non_null(p);
    p[strlen("\"num_hidden_layers\": ")] = '3';
    write_file(path, cfg);
    expect_error(d, "model.layers.2.input_layernorm.weight is missing");

    /* wider hidden size than the tensors */
    d = copy_fixture("gpt2_value", "misshaped");
    snprintf(path, sizeof path, "%s/config.json", d);
    f = fopen(path, "r");
    n = fread(cfg, 1, sizeof cfg - 1, f);
    fclose(f);
    cfg[n] = 0;
    p = strstr(cfg, "\"vocab_size\": 64");
    assert_non_null(p);
    memcpy(p, "\"vocab_size\": 65", 16);
    write_file(path, cfg);
    expect_error(d, "has shape [64, 32], expected [65, 32]");

    /* truncated weights */
    d = copy_fixture("gpt2_value", "truncated");
    snprintf(path, sizeof path, "%s/model.safetensors", d);
    assert_int_equal(truncate(path, 5000), 0);
    expect_error(d, "model.safetensors");
    assert_int_equal(truncate(path, 3), 0);
    expect_error(d, "model.safetensors");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(load_matches_fixture),
        cmocka_unit_test(save_round_trip),
        cmocka_unit_test(save_copies_tokenizer),
        cmocka_unit_test(base_names_and_bf16),
        cmocka_unit_test(save_dtypes_and_shards),
        cmocka_unit_test(save_failures_leave_nothing),
        cmocka_unit_test(bad_checkpoints),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
