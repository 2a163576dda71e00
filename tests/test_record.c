/* Unit tests for record: the one reader and writer of rewards.NAME
 * (alarm-formats(5) section 3), the raw-line splice, token ids and
 * duplicate ids, each failure with the message a user sees. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"

static const jsonl_reader where = {.name = "f.jsonl", .lineno = 3};

/* Reads rewards.NAME from the JSON text of the rewards object. */
static int read_one(record_reward *o, const char *rewards, size_t resp_len, alarm_err *e)
{
    cJSON *rw = cJSON_Parse(rewards);
    assert_non_null(rw);
    int rc = record_reward_read(o, rw->child, resp_len, &where, e);
    cJSON_Delete(rw);
    return rc;
}

static char *put_text(const record_reward *o)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    assert_int_equal(record_reward_put(f, o), 0);
    fclose(f);
    return buf;
}

static void reward_reads_and_writes_back(void **state)
{
    (void)state;
    record_reward o = {0};
    alarm_err e;
    assert_int_equal(read_one(&o, "{\"f\": {\"value\": 0.5, \"raw\": 2, \"spans\": "
                                  "[{\"end\": 3, \"value\": -1}, {\"end\": 10, \"value\": 0.25}]}}",
                              10, &e), 0);
    assert_true(o.value == 0.5 && o.has_raw && o.raw == 2 && o.has_spans);
    assert_int_equal(o.nspans, 2);
    assert_int_equal(o.spans[1].end, 10);
    char *t = put_text(&o);
    assert_string_equal(t, "{\"value\":0.5,\"raw\":2,\"spans\":[{\"end\":3,\"value\":-1},"
                           "{\"end\":10,\"value\":0.25}]}");
    free(t);
    /* value alone: no raw, no spans; the scratch is reused */
    assert_int_equal(read_one(&o, "{\"h\": {\"value\": -0.0}}", 10, &e), 0);
    assert_false(o.has_raw || o.has_spans);
    t = put_text(&o);
    assert_string_equal(t, "{\"value\":0}");
    free(t);
    /* an empty spans array is kept as given */
    assert_int_equal(read_one(&o, "{\"h\": {\"value\": 1, \"spans\": []}}", 10, &e), 0);
    t = put_text(&o);
    assert_string_equal(t, "{\"value\":1,\"spans\":[]}");
    free(t);
    record_reward_free(&o);
}

static void reward_refuses_bad_input(void **state)
{
    (void)state;
    static const struct {
        const char *rewards, *msg;
    } bad[] = {
        {"{\"f\": 1}", "f.jsonl:3: field \"rewards.f\": expected an object"},
        {"{\"f\": {}}", "f.jsonl:3: field \"rewards.f.value\": missing"},
        {"{\"f\": {\"value\": \"1\"}}", "f.jsonl:3: field \"rewards.f.value\": expected a finite number"},
        {"{\"f\": {\"value\": 1, \"raw\": null}}", "f.jsonl:3: field \"rewards.f.raw\": expected a finite number"},
        {"{\"f\": {\"value\": 1, \"spans\": {}}}", "f.jsonl:3: field \"rewards.f.spans\": expected an array"},
        {"{\"f\": {\"value\": 1, \"spans\": [3]}}", "f.jsonl:3: field \"rewards.f.spans[0]\": expected an object"},
        {"{\"f\": {\"value\": 1, \"spans\": [{\"end\": 2}]}}", "f.jsonl:3: field \"rewards.f.spans[0].value\": missing"},
        {"{\"f\": {\"value\": 1, \"spans\": [{\"end\": 2, \"value\": true}]}}",
         "f.jsonl:3: field \"rewards.f.spans[0].value\": expected a finite number"},
        {"{\"f\": {\"value\": 1, \"spans\": [{\"end\": 0, \"value\": 1}]}}",
         "f.jsonl:3: field \"rewards.f.spans[0].end\": expected a byte offset in [1, 4] (the response's length)"},
        {"{\"f\": {\"value\": 1, \"spans\": [{\"end\": 2.5, \"value\": 1}]}}",
         "f.jsonl:3: field \"rewards.f.spans[0].end\": expected a byte offset in [1, 4] (the response's length)"},
        {"{\"f\": {\"value\": 1, \"spans\": [{\"end\": 4, \"value\": 1}, {\"end\": 5, \"value\": 1}]}}",
         "f.jsonl:3: field \"rewards.f.spans[1].end\": expected a byte offset in [1, 4] (the response's length)"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        record_reward o = {0};
        alarm_err e = {{0}};
        assert_int_equal(read_one(&o, bad[i].rewards, 4, &e), -1);
        assert_string_equal(e.msg, bad[i].msg);
        record_reward_free(&o);
    }
}

static void number_format(void **state)
{
    (void)state;
    char b[32];
    record_fmt_num(b, 0.1);
    assert_string_equal(b, "0.1");
    record_fmt_num(b, -0.0);
    assert_string_equal(b, "0");
    record_fmt_num(b, -50);
    assert_string_equal(b, "-50");
    record_fmt_num(b, 1.0 / 3);
    assert_true(strtod(b, NULL) == 1.0 / 3);
    record_fmt_num(b, 1e300);
    assert_string_equal(b, "1e+300");
}

/* record_splice of `in` with the fields, as a string. */
static char *spliced(const char *in, const record_field *f, size_t nf)
{
    char *buf = NULL;
    size_t n = 0;
    alarm_err e;
    FILE *out = open_memstream(&buf, &n);
    assert_int_equal(record_splice(out, in, strlen(in), f, nf, &e), 0);
    fclose(out);
    return buf;
}

#define F(k, j, end) {k, j, sizeof j - 1, end}
#define DEL(k) {k, NULL, 0, 0}

static void splice_keeps_every_other_byte(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        record_field f[2];
        size_t nf;
        const char *want;
    } cases[] = {
        /* appended: the text up to its brace kept, blanks after it dropped */
        {"{\"x\": 1.50, \"big\": 12345678901234567890, \"u\":\"\\u00e9\" }  ",
         {F("reward", "{\"total\":2}", 1)}, 1,
         "{\"x\": 1.50, \"big\": 12345678901234567890, \"u\":\"\\u00e9\" ,\"reward\":{\"total\":2}}"},
        {"{}", {F("reward", "1", 1)}, 1, "{\"reward\":1}"},
        {" { } ", {F("a", "1", 0)}, 1, " { \"a\":1}"},
        /* replaced where it stands, or moved to the end */
        {"{\"reward\":0, \"a\":1}", {F("reward", "[1]", 0)}, 1, "{\"reward\":[1], \"a\":1}"},
        {"{\"reward\":0, \"a\":1}", {F("reward", "[1]", 1)}, 1, "{\"a\":1,\"reward\":[1]}"},
        {"{\"a\":1, \"reward\" : {\"x\": [\"}\"]} , \"b\":2}", {F("reward", "3", 1)}, 1,
         "{\"a\":1 , \"b\":2,\"reward\":3}"},
        /* removed: first, middle, last, only */
        {"{\"a\":1,\"b\":2,\"c\":3}", {DEL("a")}, 1, "{\"b\":2,\"c\":3}"},
        {"{\"a\":1,\"b\":2,\"c\":3}", {DEL("b")}, 1, "{\"a\":1,\"c\":3}"},
        {"{\"a\":1,\"b\":2,\"c\":3}", {DEL("c")}, 1, "{\"a\":1,\"b\":2}"},
        {"{\"a\":\"x\\\"}\"}", {DEL("a")}, 1, "{}"},
        /* a key spelled with escapes is the key it spells */
        {"{\"\\u0072eward\":0,\"k\":\"v\"}", {F("reward", "1", 1)}, 1, "{\"k\":\"v\",\"reward\":1}"},
        {"{\"caf\\u00e9\":0}", {F("caf\xc3\xa9", "1", 0)}, 1, "{\"caf\\u00e9\":1}"},
        /* two fields, one replaced in place and one new */
        {"{\"id\":\"q\",\"p\":\"x\"}", {F("id", "\"q#0\"", 0), F("sample", "0", 1)}, 2,
         "{\"id\":\"q#0\",\"p\":\"x\",\"sample\":0}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *got = spliced(cases[i].in, cases[i].f, cases[i].nf);
        if (strcmp(got, cases[i].want))
            fail_msg("case %zu: got %s, want %s", i, got, cases[i].want);
        free(got);
    }
    alarm_err e;
    record_field f = F("a", "1", 0);
    assert_int_equal(record_splice(stdout, "[1]", 3, &f, 1, &e), -1);
    assert_string_equal(e.msg, "internal: record text is not a JSON object");
}

static void rewards_set_and_written(void **state)
{
    (void)state;
    record_reward a = {.value = 2, .raw = 2, .has_raw = 1};
    record_span sp[] = {{3, 0.5}};
    record_reward b = {.value = -1, .has_spans = 1, .spans = sp, .nspans = 1};
    const char *names[] = {"len", "f", "gone"};
    const record_reward *rw[] = {&a, &b, NULL};
    char *buf = NULL;
    size_t n = 0;
    alarm_err e;
    FILE *out = open_memstream(&buf, &n);
    /* an old reward of a name set moves last; one set to NULL goes; others stay as written */
    const char *line = "{\"x\": 1.50, \"rewards\": {\"f\": {\"value\": 9}, \"h\": {\"value\": 1.0}, "
                       "\"gone\": {\"value\": 0}}, \"y\": 2}";
    assert_int_equal(record_write_rewards(out, line, strlen(line), names, rw, 3, &e), 0);
    /* no rewards yet: added at the end */
    assert_int_equal(record_write_rewards(out, "{\"x\":1}", 7, names, rw, 2, &e), 0);
    fclose(out);
    assert_string_equal(buf, "{\"x\": 1.50, \"rewards\": {\"h\": {\"value\": 1.0},\"len\":{\"value\":2,"
                             "\"raw\":2},\"f\":{\"value\":-1,\"spans\":[{\"end\":3,\"value\":0.5}]}}, \"y\": 2}\n"
                             "{\"x\":1,\"rewards\":{\"len\":{\"value\":2,\"raw\":2},\"f\":{\"value\":-1,"
                             "\"spans\":[{\"end\":3,\"value\":0.5}]}}}\n");
    free(buf);
}

static void find_a_field(void **state)
{
    (void)state;
    const char *t = "{\"a\": [1, {\"rewards\": 2}], \"rewards\" :{\"h\":{\"value\":1}} }", *v;
    size_t n;
    assert_int_equal(record_find(t, strlen(t), "rewards", &v, &n), 1);
    assert_int_equal(n, strlen("{\"h\":{\"value\":1}}"));
    assert_memory_equal(v, "{\"h\":{\"value\":1}}", n);
    assert_int_equal(record_find(t, strlen(t), "h", &v, &n), 0);
    assert_int_equal(record_find("3", 1, "h", &v, &n), -1);
}

static int ids_of(const char *json, long vocab, int32_t **ids, size_t *cap, size_t *n, alarm_err *e)
{
    cJSON *rec = cJSON_Parse(json);
    int rc = record_token_ids(&where, rec, "prompt_tokens", 1, vocab, ids, cap, n, e);
    cJSON_Delete(rec);
    return rc;
}

static void token_ids(void **state)
{
    (void)state;
    int32_t *ids = NULL;
    size_t cap = 0, n;
    alarm_err e;
    assert_int_equal(ids_of("{\"prompt_tokens\": [0, 7, 2147483647]}", 0, &ids, &cap, &n, &e), 0);
    assert_int_equal(n, 3);
    assert_int_equal(ids[2], 2147483647);
    static const struct {
        const char *json;
        long vocab;
        const char *msg;
    } bad[] = {
        {"{\"prompt_tokens\": [1, -1.5]}", 0, "f.jsonl:3: field \"prompt_tokens\"[1]: the number "
         "is not a token id (0 to 2147483647): -1.5"},
        {"{\"prompt_tokens\": [1e20]}", 0, "f.jsonl:3: field \"prompt_tokens\"[0]: the number is "
         "not a token id (0 to 2147483647): 1e+20"},
        {"{\"prompt_tokens\": [\"3\"]}", 0, "f.jsonl:3: field \"prompt_tokens\"[0]: the value is "
         "not a token id (0 to 2147483647)"},
        {"{\"prompt_tokens\": [-1]}", 0, "f.jsonl:3: field \"prompt_tokens\"[0]: the number is "
         "not a token id (0 to 2147483647): -1"},
        {"{\"prompt_tokens\": [5, 100]}", 100, "f.jsonl:3: field \"prompt_tokens\"[1]: the number "
         "is not a token id of the model's vocabulary (0 to 99): 100"},
        {"{\"prompt_tokens\": 3}", 0, "f.jsonl:3: field \"prompt_tokens\": expected an array"},
        {"{}", 0, "f.jsonl:3: field \"prompt_tokens\": missing"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(ids_of(bad[i].json, bad[i].vocab, &ids, &cap, &n, &e), -1);
        assert_string_equal(e.msg, bad[i].msg);
    }
    /* optional and absent: no ids, no error */
    cJSON *rec = cJSON_Parse("{}");
    assert_int_equal(record_token_ids(&where, rec, "prompt_tokens", 0, 0, &ids, &cap, &n, &e), 0);
    assert_int_equal(n, 0);
    cJSON_Delete(rec);
    free(ids);
}

static void duplicate_ids(void **state)
{
    (void)state;
    record_ids s = {0};
    alarm_err e;
    char id[32];
    /* enough ids to grow the table a few times, all distinct */
    for (int i = 0; i < 5000; i++) {
        snprintf(id, sizeof id, "q%d#0", i);
        assert_int_equal(record_ids_add(&s, "id", id, strlen(id), "a.jsonl", i + 1, &e), 0);
    }
    assert_int_equal(record_ids_add(&s, "id", "q17#0", 5, "b.jsonl", 9, &e), -1);
    assert_string_equal(e.msg, "b.jsonl:9: duplicate id \"q17#0\" (first at a.jsonl:18)");
    /* the length is the id's: a prefix is another id */
    assert_int_equal(record_ids_add(&s, "id", "q17#0x", 5, "b.jsonl", 10, &e), -1);
    assert_int_equal(record_ids_add(&s, "prompt", "q17#", 4, "b.jsonl", 11, &e), 0);
    record_ids_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reward_reads_and_writes_back),
        cmocka_unit_test(reward_refuses_bad_input),
        cmocka_unit_test(number_format),
        cmocka_unit_test(splice_keeps_every_other_byte),
        cmocka_unit_test(rewards_set_and_written),
        cmocka_unit_test(find_a_field),
        cmocka_unit_test(token_ids),
        cmocka_unit_test(duplicate_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
