/* tfm_config: the config.json fields and defaults of GPT-2, Llama, Qwen2 and
 * Llama 3 configs, classification heads from "architectures", a written
 * config that reads back the same, and errors for what the runtime cannot run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tfm.h"
#include "tfm_config.h"
#include "tfm_kv.h"

static void gpt2_defaults(void **state)
{
    (void)state;
    tfm_config c;
    alarm_err e;
    assert_int_equal(tfm_config_parse(&c, "{\"model_type\":\"gpt2\",\"vocab_size\":50257,"
                                          "\"n_embd\":768,\"n_layer\":12,\"n_head\":12}", &e), 0);
    assert_int_equal(c.arch, TFM_GPT2);
    assert_int_equal(c.HS, 64);
    assert_int_equal(c.FF, 3072);
    assert_int_equal(c.maxT, 1024);
    assert_int_equal(c.NKV, 12);
    assert_true(c.tied && c.qkv_bias && c.lm_head && !c.cls);
    assert_true(c.eps == 1e-5);
}

static void llama_family(void **state)
{
    (void)state;
    tfm_config c;
    alarm_err e;
    const char *l3 = "{\"model_type\":\"llama\",\"vocab_size\":128256,\"hidden_size\":2048,"
                     "\"intermediate_size\":8192,\"num_hidden_layers\":16,"
                     "\"num_attention_heads\":32,\"num_key_value_heads\":8,"
                     "\"rope_theta\":500000.0,\"tie_word_embeddings\":true,"
                     "\"eos_token_id\":[128001,128008],\"rope_scaling\":{\"factor\":32.0,"
                     "\"high_freq_factor\":4.0,\"low_freq_factor\":1.0,"
                     "\"original_max_position_embeddings\":8192,\"rope_type\":\"llama3\"}}";
    assert_int_equal(tfm_config_parse(&c, l3, &e), 0);
    assert_int_equal(c.arch, TFM_LLAMA);
    assert_int_equal(c.HS, 64);
    assert_int_equal(c.NKV, 8);
    assert_int_equal(c.rope_scaling, 2);
    assert_true(c.rs_factor == 32.0 && c.rs_orig_max == 8192);
    assert_int_equal(c.eos_id, 128001);
    assert_true(c.tied && !c.qkv_bias);
    /* Qwen2 has q/k/v biases without saying so */
    assert_int_equal(tfm_config_parse(&c, "{\"model_type\":\"qwen2\",\"vocab_size\":10,"
                                          "\"hidden_size\":8,\"intermediate_size\":16,"
                                          "\"num_hidden_layers\":1,\"num_attention_heads\":2}",
                                      &e), 0);
    assert_true(c.qkv_bias && c.NKV == 2 && !c.tied);
}

/* A sliding window bounds the length the runtime computes exactly (it
 * attends fully); Qwen2's window applies only when switched on for some
 * layer. The fields survive a write and a read. */
static void sliding_window(void **state)
{
    (void)state;
    tfm_config c, back;
    alarm_err e;
    const char *base = "{\"vocab_size\":10,\"hidden_size\":8,\"intermediate_size\":16,"
                       "\"num_hidden_layers\":4,\"num_attention_heads\":2,"
                       "\"max_position_embeddings\":32768,";
    char json[512];
    struct {
        const char *tail;
        int on, max_len;
    } cases[] = {
        {"\"model_type\":\"mistral\",\"sliding_window\":4096}", 1, 4096},
        {"\"model_type\":\"mistral\",\"sliding_window\":null}", 0, 32768},
        {"\"model_type\":\"qwen2\",\"sliding_window\":4096,\"use_sliding_window\":false}", 0,
         32768},
        {"\"model_type\":\"qwen2\",\"sliding_window\":4096,\"use_sliding_window\":true,"
         "\"max_window_layers\":4}", 0, 32768},
        {"\"model_type\":\"qwen2\",\"sliding_window\":4096,\"use_sliding_window\":true,"
         "\"max_window_layers\":2}", 1, 4096},
        {"\"model_type\":\"llama\"}", 0, 32768},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        snprintf(json, sizeof json, "%s%s", base, cases[i].tail);
        assert_int_equal(tfm_config_parse(&c, json, &e), 0);
        assert_int_equal(c.window_on, cases[i].on);
        assert_int_equal(tfm_config_max_len(&c), cases[i].max_len);
        char *txt = tfm_config_to_json(&c);
        assert_int_equal(tfm_config_parse(&back, txt, &e), 0);
        free(txt);
        assert_int_equal(back.window, c.window);
        assert_int_equal(back.window_on, c.window_on);
        assert_int_equal(back.window_layers, c.window_layers);
    }
    /* a model and a KV cache are built up to the window, not beyond */
    snprintf(json, sizeof json, "%s%s", base, "\"model_type\":\"mistral\",\"sliding_window\":16}");
    assert_int_equal(tfm_config_parse(&c, json, &e), 0);
    tfm_model m;
    assert_int_equal(tfm_build(&m, &c, 1, 17, &e), -1);
    assert_non_null(strstr(e.msg, "sliding window of 16"));
    assert_int_equal(tfm_build(&m, &c, 2, 16, &e), 0);
    tfm_kv kv;
    assert_int_equal(tfm_kv_build(&kv, &m, 1, 17, &e), -1);
    assert_non_null(strstr(e.msg, "KV cache"));
    assert_int_equal(tfm_kv_build(&kv, &m, 1, 16, &e), 0);
    tfm_kv_free(&kv);
    tfm_free(&m);
    snprintf(json, sizeof json, "%s%s", base, "\"model_type\":\"mistral\",\"sliding_window\":0}");
    assert_int_equal(tfm_config_parse(&c, json, &e), -1);
    assert_non_null(strstr(e.msg, "sliding_window"));
}

static void heads_and_round_trip(void **state)
{
    (void)state;
    tfm_config c, d;
    alarm_err e;
    assert_int_equal(tfm_config_parse(&c, "{\"architectures\":[\"LlamaForTokenClassification\"],"
                                          "\"model_type\":\"llama\",\"vocab_size\":10,"
                                          "\"hidden_size\":8,\"intermediate_size\":16,"
                                          "\"num_hidden_layers\":1,\"num_attention_heads\":2,"
                                          "\"id2label\":{\"0\":\"a\",\"1\":\"b\",\"2\":\"c\"}}",
                                      &e), 0);
    assert_int_equal(c.cls, TFM_CLS_TOKEN);
    assert_int_equal(c.n_labels, 3);
    assert_false(c.lm_head);
    char *j = tfm_config_to_json(&c);
    assert_int_equal(tfm_config_parse(&d, j, &e), 0);
    assert_memory_equal(&c, &d, sizeof c);
    assert_non_null(strstr(j, "\"LlamaForTokenClassification\""));
    free(j);
}

/* torch_dtype (or transformers' newer "dtype") names the weights' dtype;
 * a name we cannot write reads as float32 rather than failing. */
static void dtype_names(void **state)
{
    (void)state;
    const char *g = "{\"model_type\":\"gpt2\",\"vocab_size\":10,\"n_embd\":8,\"n_head\":2,"
                    "\"n_layer\":1";
    const char *fields[] = {"", ",\"torch_dtype\":\"bfloat16\"", ",\"dtype\":\"float16\"",
                            ",\"torch_dtype\":\"float16\",\"dtype\":\"bfloat16\"",
                            ",\"torch_dtype\":\"auto\"", ",\"torch_dtype\":\"float64\""};
    const st_dtype want[] = {ST_F32, ST_BF16, ST_F16, ST_F16, ST_F32, ST_F32};
    for (int k = 0; k < 6; k++) {
        char buf[512];
        tfm_config c, d;
        alarm_err e;
        snprintf(buf, sizeof buf, "%s%s}", g, fields[k]);
        assert_int_equal(tfm_config_parse(&c, buf, &e), 0);
        assert_int_equal(c.dtype, want[k]);
        char *j = tfm_config_to_json(&c);
        assert_int_equal(tfm_config_parse(&d, j, &e), 0);
        assert_memory_equal(&c, &d, sizeof c);
        free(j);
    }
}

/* Dropout probabilities: GPT2Config's 0.1 and LlamaConfig's 0 when absent,
 * trl's summary_dropout_prob 0.1; given ones are read and written back. */
static void dropout_keys(void **state)
{
    (void)state;
    tfm_config c, d;
    alarm_err e;
    const char *g = "{\"model_type\":\"gpt2\",\"vocab_size\":10,\"n_embd\":8,\"n_head\":2,"
                    "\"n_layer\":1";
    char buf[512];
    snprintf(buf, sizeof buf, "%s}", g);
    assert_int_equal(tfm_config_parse(&c, buf, &e), 0);
    assert_true(c.embd_pdrop == 0.1 && c.attn_pdrop == 0.1 && c.resid_pdrop == 0.1);
    assert_true(c.summary_pdrop == 0.1);
    snprintf(buf, sizeof buf, "%s,\"embd_pdrop\":0.0,\"attn_pdrop\":0.25,\"resid_pdrop\":0.5,"
             "\"summary_dropout_prob\":0.3}", g);
    assert_int_equal(tfm_config_parse(&c, buf, &e), 0);
    assert_true(c.embd_pdrop == 0 && c.attn_pdrop == 0.25 && c.resid_pdrop == 0.5);
    assert_true(c.summary_pdrop == 0.3);
    c.value_head = 1; /* the value head's probability is written with the head */
    char *j = tfm_config_to_json(&c);
    assert_int_equal(tfm_config_parse(&d, j, &e), 0);
    free(j);
    d.value_head = 1;
    assert_memory_equal(&c, &d, sizeof c);
    const char *l = "{\"model_type\":\"llama\",\"vocab_size\":10,\"hidden_size\":8,"
                    "\"intermediate_size\":16,\"num_hidden_layers\":1,\"num_attention_heads\":2";
    snprintf(buf, sizeof buf, "%s}", l);
    assert_int_equal(tfm_config_parse(&c, buf, &e), 0);
    assert_true(c.attn_pdrop == 0 && c.embd_pdrop == 0 && c.resid_pdrop == 0);
    snprintf(buf, sizeof buf, "%s,\"attention_dropout\":0.2}", l);
    assert_int_equal(tfm_config_parse(&c, buf, &e), 0);
    assert_true(c.attn_pdrop == 0.2);
    j = tfm_config_to_json(&c);
    assert_non_null(strstr(j, "\"attention_dropout\""));
    free(j);
    snprintf(buf, sizeof buf, "%s,\"attn_pdrop\":1.5}", g);
    assert_int_equal(tfm_config_parse(&c, buf, &e), -1);
    assert_non_null(strstr(e.msg, "\"attn_pdrop\" must be a number in [0, 1]"));
}

static void expect_error(const char *json, const char *needle)
{
    tfm_config c;
    alarm_err e = {{0}};
    assert_int_equal(tfm_config_parse(&c, json, &e), -1);
    if (!strstr(e.msg, needle))
        fail_msg("error \"%s\" does not mention \"%s\"", e.msg, needle);
}

static void errors(void **state)
{
    (void)state;
    const char *g = "{\"model_type\":\"gpt2\",\"vocab_size\":10,\"n_embd\":8,\"n_head\":2,";
    char buf[512];
    expect_error("[]", "not a JSON object");
    expect_error("{\"vocab_size\":3}", "missing \"model_type\"");
    expect_error("{\"model_type\":\"bert\"}", "unsupported model_type \"bert\"");
    snprintf(buf, sizeof buf, "%s\"n_layer\":1e30}", g); /* fuzzer-found: no UB on huge values */
    expect_error(buf, "\"n_layer\" must be an integer");
    snprintf(buf, sizeof buf, "%s\"n_layer\":1.5}", g);
    expect_error(buf, "\"n_layer\" must be an integer");
    snprintf(buf, sizeof buf, "%s\"n_layer\":1,\"activation_function\":\"relu\"}", g);
    expect_error(buf, "activation_function");
    expect_error("{\"model_type\":\"gpt2\",\"vocab_size\":10,\"n_embd\":9,\"n_head\":2,"
                 "\"n_layer\":1}", "not a multiple");
    const char *l = "{\"model_type\":\"llama\",\"vocab_size\":10,\"hidden_size\":8,"
                    "\"intermediate_size\":16,\"num_hidden_layers\":1,\"num_attention_heads\":2,";
    snprintf(buf, sizeof buf, "%s\"num_key_value_heads\":3}", l);
    expect_error(buf, "not a multiple of num_key_value_heads");
    snprintf(buf, sizeof buf, "%s\"rope_scaling\":{\"rope_type\":\"yarn\",\"factor\":2}}", l);
    expect_error(buf, "rope_scaling type \"yarn\" is not supported");
    snprintf(buf, sizeof buf, "%s\"mlp_bias\":true}", l);
    expect_error(buf, "mlp_bias");
    snprintf(buf, sizeof buf, "%s\"hidden_act\":\"gelu\"}", l);
    expect_error(buf, "hidden_act");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gpt2_defaults),
        cmocka_unit_test(llama_family),
        cmocka_unit_test(sliding_window),
        cmocka_unit_test(heads_and_round_trip),
        cmocka_unit_test(dtype_names),
        cmocka_unit_test(dropout_keys),
        cmocka_unit_test(errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
