/* Checkpoints through the safetensors and checkpoint modules: loading the
 * parity fixtures (with and without the base-class prefix, BF16 on disk),
 * save -> load round trips with Hugging Face names, and clear errors for
 * unknown architectures, missing or mis-shaped tensors and broken files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
    for (size_t i = 0; i < a.nparams; i++)
        assert_true(b.params[i] == st_bf16_to_f32(st_f32_to_bf16(a.params[i])));
    free(outs);
    tfm_free(&a);
    tfm_free(&b);
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
        cmocka_unit_test(bad_checkpoints),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
