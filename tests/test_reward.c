/* Unit tests for reward: span placement through byte offsets, the four
 * combination modes, the too-short rule, sigmoid shaping and the input
 * errors, with expected vectors worked out by hand in the comments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/check.h"
#include "reward.h"

/* Parses one record line; returns reward_parse's result, message in *e. */
static int parse(reward_rec *rec, reward_names *names, const char *line, alarm_err *e)
{
    char path[64];
    strcpy(path, "/tmp/alarm-test-reward-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, line, strlen(line)), (ssize_t)strlen(line));
    close(fd);
    jsonl_reader r;
    cJSON *obj;
    assert_int_equal(jsonl_open(&r, path, e), 0);
    int rc = jsonl_next(&r, &obj, e);
    if (rc == 1) {
        rc = reward_parse(rec, names, "holistic", &r, obj, e);
        cJSON_Delete(obj);
    } else {
        rc = -1;
    }
    jsonl_close(&r);
    unlink(path);
    return rc;
}

/* "The cat. It sat." (16 bytes), 6 tokens, the last an EOS with an empty span:
 * The|_cat|.|_It|_sat.|<eos> = [0,3] [3,7] [7,8] [8,11] [11,16] [16,16].
 * fact spans end at 8 (byte 7 -> token 2) and 16 (byte 15 -> token 4);
 * read has no spans and goes on the last token (5). */
static const char rec5[] =
    "{\"response\":\"The cat. It sat.\",\"response_tokens\":[1,2,3,4,5,0],"
    "\"offsets\":[[0,3],[3,7],[7,8],[8,11],[11,16],[16,16]],"
    "\"rewards\":{\"holistic\":{\"value\":%s},"
    "\"fact\":{\"value\":0.5,\"spans\":[{\"end\":8,\"value\":1},{\"end\":16,\"value\":-0.5}]},"
    "\"read\":{\"value\":0.2,\"raw\":7.5}}}\n";

static void combine(const char *h, reward_mode mode, int shaping, double *dense,
                    reward_summary *s)
{
    char line[1024];
    snprintf(line, sizeof line, rec5, h);
    reward_rec rec = {0};
    reward_names names = {0};
    alarm_err e;
    assert_int_equal(parse(&rec, &names, line, &e), 0);
    assert_int_equal(names.n, 2);
    assert_int_equal(rec.T, 6);
    reward_cfg cfg;
    reward_cfg_default(&cfg);
    cfg.mode = mode;
    cfg.shaping = shaping;
    const size_t sel[] = {0, 1};     /* fact, read */
    const double w[] = {1.0, 2.0};
    assert_int_equal(reward_combine(dense, s, &cfg, sel, w, 2, &rec), 0);
    reward_rec_free(&rec);
    reward_names_free(&names);
}

static void four_modes(void **state)
{
    (void)state;
    double d[6];
    reward_summary s;
    /* holistic: W*h = 5*0.8 = 4 on the last token. */
    combine("0.8", REWARD_HOLISTIC, 0, d, &s);
    check_close_d("holistic", d, (double[]){0, 0, 0, 0, 0, 4}, 6, 1e-12, 0);
    assert_int_equal(s.gate, -1);
    /* aspect: fact 1 at token 2, -0.5 at token 4; read 2*0.2 = 0.4 at token 5. */
    combine("0.8", REWARD_ASPECT, 0, d, &s);
    check_close_d("aspect", d, (double[]){0, 0, 1, 0, -0.5, 0.4}, 6, 1e-12, 0);
    assert_float_equal(s.total, 0.9, 1e-12);
    /* sum: aspect, then +4 on the last token. */
    combine("0.8", REWARD_SUM, 0, d, &s);
    check_close_d("sum", d, (double[]){0, 0, 1, 0, -0.5, 4.4}, 6, 1e-12, 0);
    assert_float_equal(s.total, 4.9, 1e-12);
    /* hierarchical, h = 0.8 >= tau 0.6: as sum, gate true. */
    combine("0.8", REWARD_HIERARCHICAL, 0, d, &s);
    check_close_d("hier-open", d, (double[]){0, 0, 1, 0, -0.5, 4.4}, 6, 1e-12, 0);
    assert_int_equal(s.gate, 1);
    /* h = 0.6 is exactly tau: the gate is open (h >= tau). */
    combine("0.6", REWARD_HIERARCHICAL, 0, d, &s);
    check_close_d("hier-tau", d, (double[]){0, 0, 1, 0, -0.5, 3.4}, 6, 1e-12, 0);
    assert_int_equal(s.gate, 1);
    /* h = 0.5 < tau: as holistic, gate false: 5*0.5 = 2.5. */
    combine("0.5", REWARD_HIERARCHICAL, 0, d, &s);
    check_close_d("hier-closed", d, (double[]){0, 0, 0, 0, 0, 2.5}, 6, 1e-12, 0);
    assert_int_equal(s.gate, 0);
    assert_float_equal(s.holistic, 0.5, 0);
}

/* Shaping: fact 1 -> 1/(1+e^-1) = 0.7310585786300049 at token 2,
 * -0.5 -> 0.3775406687981454 at token 4; read 2*sigmoid(0.2) =
 * 2*0.549833997312478 at the last token, plus W*h = 4 (the holistic is not shaped). */
static void sigmoid_shaping(void **state)
{
    (void)state;
    double d[6];
    reward_summary s;
    combine("0.8", REWARD_SUM, 1, d, &s);
    check_close_d("shaped", d,
                  (double[]){0, 0, 0.7310585786300049, 0, 0.3775406687981454,
                             4 + 2 * 0.549833997312478}, 6, 1e-12, 0);
}

/* Spans landing on one token add up; a span ending inside a two-byte
 * character goes to the token holding that byte. "né!" is n|\xc3|\xa9|! as
 * byte-level tokens [0,1] [1,2] [2,3] [3,4]: end 2 (byte 1, the first byte of
 * é) -> token 1, end 3 -> token 2, ends 4 and 4 -> token 3 (0.25 + 0.5). */
static void span_placement(void **state)
{
    (void)state;
    const char *line =
        "{\"response\":\"n\xc3\xa9!\",\"response_tokens\":[1,2,3,4],"
        "\"offsets\":[[0,1],[1,2],[2,3],[3,4]],\"rewards\":{\"holistic\":{\"value\":0},"
        "\"f\":{\"value\":0,\"spans\":[{\"end\":2,\"value\":1},{\"end\":3,\"value\":2},"
        "{\"end\":4,\"value\":0.25},{\"end\":4,\"value\":0.5}]}}}\n";
    reward_rec rec = {0};
    reward_names names = {0};
    alarm_err e;
    assert_int_equal(parse(&rec, &names, line, &e), 0);
    reward_cfg cfg;
    reward_cfg_default(&cfg);
    cfg.mode = REWARD_ASPECT;
    double d[4];
    reward_summary s;
    const size_t sel[] = {0};
    const double w[] = {1};
    assert_int_equal(reward_combine(d, &s, &cfg, sel, w, 1, &rec), 0);
    check_close_d("placed", d, (double[]){0, 1, 2, 0.75}, 4, 1e-12, 0);
    /* A character kept whole in one token [1,3]: end 2 and end 3 both land on it. */
    const char *whole =
        "{\"response\":\"n\xc3\xa9!\",\"response_tokens\":[1,2,3],"
        "\"offsets\":[[0,1],[1,3],[3,4]],\"rewards\":{\"holistic\":{\"value\":0},"
        "\"f\":{\"value\":0,\"spans\":[{\"end\":2,\"value\":1},{\"end\":3,\"value\":2}]}}}\n";
    assert_int_equal(parse(&rec, &names, whole, &e), 0);
    assert_int_equal(reward_combine(d, &s, &cfg, sel, w, 1, &rec), 0);
    check_close_d("whole-char", d, (double[]){0, 3, 0}, 3, 1e-12, 0);
    reward_rec_free(&rec);
    reward_names_free(&names);
}

/* At most min_tokens (2) tokens: zeros with W*P = 5*-10 = -50 on the last
 * token in every mode, holistic reported as P; 3 tokens is not too short. */
static void too_short(void **state)
{
    (void)state;
    const char *two =
        "{\"response\":\"ab\",\"response_tokens\":[1,2],\"offsets\":[[0,1],[1,2]],"
        "\"rewards\":{\"holistic\":{\"value\":0.9},\"f\":{\"value\":3}}}\n";
    const char *three =
        "{\"response\":\"abc\",\"response_tokens\":[1,2,3],\"offsets\":[[0,1],[1,2],[2,3]],"
        "\"rewards\":{\"holistic\":{\"value\":0.9},\"f\":{\"value\":3}}}\n";
    reward_rec rec = {0};
    reward_names names = {0};
    alarm_err e;
    reward_cfg cfg;
    reward_cfg_default(&cfg);
    const size_t sel[] = {0};
    const double w[] = {1};
    double d[3];
    reward_summary s;
    assert_int_equal(parse(&rec, &names, two, &e), 0);
    for (int m = 0; m < 4; m++) {
        cfg.mode = (reward_mode)m;
        assert_int_equal(reward_combine(d, &s, &cfg, sel, w, 1, &rec), 0);
        check_close_d("too-short", d, (double[]){0, -50}, 2, 0, 0);
        assert_float_equal(s.holistic, -10, 0);
        assert_int_equal(s.too_short, 1);
    }
    cfg.mode = REWARD_HIERARCHICAL;
    assert_int_equal(parse(&rec, &names, three, &e), 0);
    assert_int_equal(reward_combine(d, &s, &cfg, sel, w, 1, &rec), 0);
    check_close_d("three", d, (double[]){0, 0, 3 + 4.5}, 3, 1e-12, 0);
    reward_rec_free(&rec);
    reward_names_free(&names);
}

/* Each bad input gives a located message naming what is wrong. */
static void bad_inputs(void **state)
{
    (void)state;
    static const struct {
        const char *line, *want;
    } cases[] = {
        {"{\"response\":\"ab\",\"response_tokens\":[1,2],\"offsets\":[[0,1],[1,2]],"
         "\"rewards\":{\"h2\":{\"value\":1}}}", "\"rewards.holistic\": missing"},
        {"{\"response\":\"ab\",\"response_tokens\":[1,2],\"offsets\":[[0,1]],"
         "\"rewards\":{\"holistic\":{\"value\":1}}}", "1 entries but 2 response_tokens"},
        {"{\"response\":\"\",\"response_tokens\":[],\"offsets\":[],"
         "\"rewards\":{\"holistic\":{\"value\":1}}}", "empty response"},
        {"{\"response\":\"ab\",\"response_tokens\":[1,2],\"offsets\":[[0,1],[1,2]],"
         "\"rewards\":{\"holistic\":{\"value\":1},\"f\":{\"value\":1,\"spans\":[{\"end\":3,"
         "\"value\":1}]}}}", "\"rewards.f.spans[0].end\": expected a byte offset in [1, 2]"},
        {"{\"response\":\"ab\",\"response_tokens\":[1,2],\"offsets\":[[0,1],[1,2]],"
         "\"rewards\":{\"holistic\":{\"value\":1},\"f\":{\"value\":1,\"spans\":[{\"end\":0,"
         "\"value\":1}]}}}", "spans[0].end"},
        {"{\"response\":\"ab\",\"response_tokens\":[1,2],\"offsets\":[[0,1],[1,2]],"
         "\"rewards\":{\"holistic\":{\"value\":1e999}}}", "expected a finite number"},
        {"{\"response\":\"ab\",\"response_tokens\":[1,2],\"offsets\":[[0,1],[1,2]],"
         "\"rewards\":{\"holistic\":{\"value\":\"1\"}}}", "\"rewards.holistic.value\": expected"},
        {"{\"response\":\"ab\",\"response_tokens\":[1,2],\"offsets\":[[1,2],[0,1]],"
         "\"rewards\":{\"holistic\":{\"value\":1}}}", "\"offsets[1]\": offsets must be"},
        {"{\"response\":\"ab\",\"response_tokens\":[1,2],\"offsets\":[[0,1],[1,5]],"
         "\"rewards\":{\"holistic\":{\"value\":1}}}", "\"offsets[1]\": expected [start, end]"},
        {"{\"response\":7,\"response_tokens\":[1],\"offsets\":[[0,1]],"
         "\"rewards\":{\"holistic\":{\"value\":1}}}", "\"response\": expected a string"},
        {"{\"response\":\"ab\",\"response_tokens\":[1,2],\"offsets\":[[0,1],[1,2]]}",
         "\"rewards\": missing"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        reward_rec rec = {0};
        reward_names names = {0};
        alarm_err e = {{0}};
        assert_int_equal(parse(&rec, &names, cases[i].line, &e), -1);
        if (!strstr(e.msg, cases[i].want) || !strstr(e.msg, ":1: "))
            fail_msg("case %zu: got \"%s\", want \"%s\"", i, e.msg, cases[i].want);
        reward_rec_free(&rec);
        reward_names_free(&names);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(four_modes),
        cmocka_unit_test(sigmoid_shaping),
        cmocka_unit_test(span_placement),
        cmocka_unit_test(too_short),
        cmocka_unit_test(bad_inputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
