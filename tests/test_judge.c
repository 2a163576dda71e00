/* Unit tests for the judge modules: templates and request bodies, verdict
 * parsing (text, tool calls, malformed), SHA-256, combining
 * orders, win-rate tallies and summaries, reward verdicts and the consistency
 * counts (hand-computed), and loading/aligning systems. */
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

#include "judge.h"
#include "judge_fail.h"
#include "judge_reward.h"
#include "judge_stats.h"
#include "judge_sys.h"
#include "judge_table.h"
#include "judge_tmpl.h"
#include "lib/check.h"
#include "sha256.h"

static void sha256_matches_the_standard_vectors(void **state)
{
    (void)state;
    const char *in[3] = {"", "abc", "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"};
    const char *want[3] = {
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"};
    for (int i = 0; i < 3; i++) {
        sha256_ctx c;
        char hex[65];
        sha256_init(&c);
        sha256_update(&c, in[i], strlen(in[i]));
        sha256_hex(&c, hex);
        assert_string_equal(hex, want[i]);
    }
    /* A million 'a's, fed in uneven pieces. */
    sha256_ctx c;
    char hex[65], chunk[777];
    memset(chunk, 'a', sizeof chunk);
    sha256_init(&c);
    for (size_t left = 1000000; left > 0;) {
        size_t n = left < sizeof chunk ? left : sizeof chunk;
        sha256_update(&c, chunk, n);
        left -= n;
    }
    sha256_hex(&c, hex);
    assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void default_template_matches_the_data_file(void **state)
{
    (void)state;
    FILE *f = fopen("data/judge-template.txt", "rb");
    assert_non_null(f);
    char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    assert_string_equal(buf, judge_default_template);
}

static void templates_split_and_fill_once(void **state)
{
    (void)state;
    judge_tmpl t;
    alarm_err e;
    assert_int_equal(judge_tmpl_parse(&t, "Be fair.\r\n---\r\nI: {instruction}\nA={output_a} "
                                          "B={output_b} {other}\n", "t", &e), 0);
    assert_string_equal(t.system, "Be fair.");
    char *u = judge_tmpl_fill(t.user, "why?", "x {output_b} y", "z");
    /* The response's own "{output_b}" is not expanded again. */
    assert_string_equal(u, "I: why?\nA=x {output_b} y B=z {other}");
    free(u);
    char *body = judge_request_body("m", &t, 1, "why?", "one", "two", &e);
    cJSON *b = cJSON_Parse(body);
    assert_non_null(b);
    assert_string_equal(cJSON_GetObjectItem(b, "model")->valuestring, "m");
    assert_true(cJSON_GetObjectItem(b, "temperature")->valuedouble == 0);
    cJSON *msgs = cJSON_GetObjectItem(b, "messages");
    assert_int_equal(cJSON_GetArraySize(msgs), 2);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(msgs, 0), "role")->valuestring, "system");
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(msgs, 1), "content")->valuestring,
                        "I: why?\nA=one B=two {other}");
    assert_non_null(cJSON_GetObjectItem(b, "tools"));
    cJSON_Delete(b);
    free(body);
    judge_tmpl_free(&t);

    assert_int_equal(judge_tmpl_parse(&t, "no separator {output_a} {output_b}", "t", &e), -1);
    assert_non_null(strstr(e.msg, "---"));
    assert_int_equal(judge_tmpl_parse(&t, "s\n---\nonly {output_a}", "t", &e), -1);
    assert_non_null(strstr(e.msg, "{output_b}"));
    assert_int_equal(judge_tmpl_load(&t, NULL, &e), 0);
    assert_non_null(strstr(t.user, "{instruction}"));
    judge_tmpl_free(&t);
    assert_int_equal(judge_tmpl_load(&t, "/nonexistent/template", &e), -1);
}

static void text_verdicts(void **state)
{
    (void)state;
    assert_int_equal(judge_parse_text("Output (a)"), JV_A);
    assert_int_equal(judge_parse_text("  output (B)\n"), JV_B);
    assert_int_equal(judge_parse_text("**Output (b)** is better than Output (a)."), JV_B);
    assert_int_equal(judge_parse_text("I prefer Output (a)."), JV_A);
    assert_int_equal(judge_parse_text("b"), JV_B);
    assert_int_equal(judge_parse_text("(a)."), JV_A);
    assert_int_equal(judge_parse_text("Both Output (a) and Output (b) are fine."), JV_UNPARSEABLE);
    assert_int_equal(judge_parse_text("Both answers have merit."), JV_UNPARSEABLE);
    assert_int_equal(judge_parse_text("about"), JV_UNPARSEABLE);
    assert_int_equal(judge_parse_text(""), JV_UNPARSEABLE);
}

static void response_verdicts(void **state)
{
    (void)state;
    int v;
    alarm_err e;
    assert_int_equal(judge_parse_response("{\"choices\":[{\"message\":{\"role\":\"assistant\","
                                          "\"content\":\"Output (b)\"}}]}", &v, &e), 0);
    assert_int_equal(v, JV_B);
    assert_int_equal(judge_parse_response(
        "{\"choices\":[{\"message\":{\"content\":null,\"tool_calls\":[{\"type\":\"function\","
        "\"function\":{\"name\":\"choose_output\",\"arguments\":\"{\\\"choice\\\": \\\"Output (a)\\\"}\"}}]}}]}",
        &v, &e), 0);
    assert_int_equal(v, JV_A);
    assert_int_equal(judge_parse_response("{\"choices\":[{\"message\":{\"content\":\"hmm\"}}]}", &v, &e), 0);
    assert_int_equal(v, JV_UNPARSEABLE);
    assert_int_equal(judge_parse_response("{\"choices\": [ not json", &v, &e), -1);
    assert_int_equal(judge_parse_response("{\"error\":{}}", &v, &e), -1);
}

static void orders_combine(void **state)
{
    (void)state;
    assert_int_equal(judge_combine(JV_A, JV_A), JV_A);
    assert_int_equal(judge_combine(JV_B, JV_B), JV_B);
    assert_int_equal(judge_combine(JV_A, JV_B), JV_TIE);
    assert_int_equal(judge_combine(JV_UNPARSEABLE, JV_UNPARSEABLE), JV_TIE);
    assert_int_equal(judge_combine(JV_FAILED, JV_FAILED), JV_TIE);
    assert_int_equal(judge_combine(JV_A, JV_FAILED), JV_TIE);
}

static double cell_num(cJSON *sum, const char *judge, const char *a, const char *b, const char *f)
{
    cJSON *j = cJSON_GetObjectItem(cJSON_GetObjectItem(sum, "judges"), judge);
    cJSON *c = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "matrix"), a), b);
    cJSON *v = cJSON_GetObjectItem(c, f);
    return v ? v->valuedouble : NAN;
}

static void tallies_and_win_rates(void **state)
{
    (void)state;
    judge_tally t;
    alarm_err e;
    assert_int_equal(judge_tally_init(&t, "m", 3, 6, 0, &e), 0);
    /* x vs y: 3 wins, 1 loss, 2 ties. x vs z: nothing decisive. y vs z: 1-0. */
    int xy[6] = {JV_A, JV_A, JV_A, JV_B, JV_TIE, JV_TIE};
    for (int i = 0; i < 6; i++)
        judge_tally_add(&t, (size_t)i, 0, 1, xy[i]);
    judge_tally_add(&t, 0, 0, 2, JV_TIE);
    judge_tally_add(&t, 0, 1, 2, JV_A);
    const char *names[3] = {"x", "y", "z"};
    judge_summary_opts so = {.bootstrap = 100, .seed = 1};
    cJSON *sum = judge_summary_json(names, 3, 6, &t, 1, &so);
    assert_true(cell_num(sum, "m", "x", "y", "win") == 3);
    assert_true(cell_num(sum, "m", "x", "y", "lose") == 1);
    assert_true(cell_num(sum, "m", "x", "y", "tie") == 2);
    assert_true(cell_num(sum, "m", "x", "y", "win_rate") == 75);
    assert_true(cell_num(sum, "m", "y", "x", "win_rate") == 25);
    assert_true(cell_num(sum, "m", "x", "z", "win_rate") == 50);
    assert_true(cell_num(sum, "m", "y", "z", "win_rate") == 100);
    assert_true(isnan(cell_num(sum, "m", "x", "y", "inconsistency")));
    /* the three tie conventions: (3+1)/6 and 3/6 */
    assert_true(cell_num(sum, "m", "x", "y", "win_rate_exclude") == 75);
    assert_true(cell_num(sum, "m", "x", "y", "win_rate_half") == 66.67);
    assert_true(cell_num(sum, "m", "x", "y", "win_rate_loss") == 50);
    cJSON *avg = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(sum, "judges"), "m"), "average");
    assert_true(fabs(cJSON_GetObjectItem(avg, "x")->valuedouble - 62.5) < 1e-9);
    assert_true(fabs(cJSON_GetObjectItem(avg, "y")->valuedouble - 62.5) < 1e-9);
    assert_true(fabs(cJSON_GetObjectItem(avg, "z")->valuedouble - 25) < 1e-9);
    cJSON_Delete(sum);
    char *md = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&md, &n);
    assert_int_equal(judge_summary_markdown(f, names, 3, 6, &t, 1, &so), 0);
    fclose(f);
    assert_non_null(strstr(md, "| x | - | 75.00 (3-1-2) | 50.00 (0-0-1) | 62.50 |"));
    assert_non_null(strstr(md, "| x vs y | 75.00 | 30.06-95.44 | - |")); /* Wilson of 3 in 4 */
    free(md);
    judge_tally_free(&t);
}

/* --group by hand: x0 and x1 pooled into X against y on two prompts.
 * x0-y: p0 x0 wins, p1 y wins; x1-y: p0 x1 wins, p1 tie; x0-x1 (one row:
 * left out). X-y is 2-1-1; the length-controlled rate regresses on each
 * member pair's own difference (-5, -1, +5), not on X's mean length; the
 * bootstrap draws the pooled counts prompt by prompt. */
static void pooled_systems_by_hand(void **state)
{
    (void)state;
    alarm_err e;
    judge_tally t, r, pt, pr;
    assert_int_equal(judge_tally_init(&t, "m", 3, 2, 0, &e), 0);
    assert_int_equal(judge_tally_init(&r, "reward:f", 3, 2, 1, &e), 0);
    judge_tally *both[2] = {&t, &r};
    for (int k = 0; k < 2; k++) {
        judge_tally_add(both[k], 0, 0, 2, JV_A);
        judge_tally_add(both[k], 1, 0, 2, JV_B);
        judge_tally_add(both[k], 0, 1, 2, JV_A);
        judge_tally_add(both[k], 1, 1, 2, JV_TIE);
        judge_tally_add(both[k], 0, 0, 1, JV_A);
    }
    t.failed = 3;
    t.pos.first = 4;
    r.consist[0 * 3 + 2] = (consist_counts){.holistic_nontie = 2, .agree = 1, .disagree = 1};
    r.consist[1 * 3 + 2] = (consist_counts){.holistic_nontie = 2, .agree = 2};
    const double words[6] = {10, 20, 15, 4, 6, 5}; /* (prompt, system) */
    const size_t row_of[3] = {0, 0, 1};
    assert_int_equal(judge_tally_pool(&pt, &t, row_of, 2, words, &e), 0);
    assert_int_equal(judge_tally_pool(&pr, &r, row_of, 2, words, &e), 0);
    assert_true(pt.cells[1].win == 2 && pt.cells[1].lose == 1 && pt.cells[1].tie == 1);
    assert_true(pt.cells[0].win == 0 && pt.cells[0].tie == 0); /* x0-x1 left out */
    assert_true(pt.failed == 3 && pt.pos.first == 4 && pt.judgments == t.judgments);
    double *pw = judge_words_pool(words, 2, 3, row_of, 2);
    assert_non_null(pw);
    assert_true(pw[0] == 15 && pw[1] == 15 && pw[2] == 5 && pw[3] == 5);
    const char *names[2] = {"X", "y"};
    judge_tally pair[2] = {pt, pr};
    judge_summary_opts so = {.bootstrap = 50, .seed = 7, .words = pw};
    cJSON *sum = judge_summary_json(names, 2, 2, pair, 2, &so);
    assert_true(cell_num(sum, "m", "X", "y", "win_rate") == 66.67);
    assert_true(cell_num(sum, "m", "X", "y", "win_rate_half") == 62.5);
    assert_true(cell_num(sum, "m", "y", "X", "lose") == 2);
    double d[3] = {-5, -1, 5};
    int won[3] = {1, 0, 1};
    double lc = round(judge_lc_rate(d, won, 3) * 100) / 100;
    assert_true(cell_num(sum, "m", "X", "y", "lc_win_rate") == lc);
    assert_true(lc != 66.67);
    assert_true(cell_num(sum, "reward:f", "X", "y", "inconsistency") == 0.25); /* 1 of 4 */
    cJSON *m = cJSON_GetObjectItem(cJSON_GetObjectItem(sum, "judges"), "m");
    assert_true(cJSON_GetObjectItem(cJSON_GetObjectItem(m, "mean_words"), "X")->valuedouble == 10);
    /* the pooled counts by prompt, written out, give the same interval */
    judge_counts c[8] = {{0}, {2, 0, 0}, {0, 2, 0}, {0}, {0}, {0, 1, 1}, {1, 0, 1}, {0}};
    double lo[2], hi[2];
    assert_int_equal(judge_bootstrap(c, 2, 2, JT_EXCLUDE, 50, 7, lo, hi, &e), 0);
    cJSON *ci = cJSON_GetObjectItem(cJSON_GetObjectItem(m, "average_ci"), "X");
    assert_true(cJSON_GetArrayItem(ci, 0)->valuedouble == round(lo[0] * 100) / 100);
    assert_true(cJSON_GetArrayItem(ci, 1)->valuedouble == round(hi[0] * 100) / 100);
    cJSON_Delete(sum);
    free(pw);
    judge_tally_free(&pt);
    judge_tally_free(&pr);
    judge_tally_free(&t);
    judge_tally_free(&r);
}

/* Position bias by hand: a pair whose two orders agree (i won both: once
 * shown first, once second) and one where the first-shown output always won. */
static void position_counts_by_hand(void **state)
{
    (void)state;
    judge_tally t;
    alarm_err e;
    assert_int_equal(judge_tally_init(&t, "m", 2, 3, 0, &e), 0);
    judge_tally_orders(&t, JV_A, JV_A);
    judge_tally_orders(&t, JV_A, JV_B);
    judge_tally_orders(&t, JV_TIE, JV_UNPARSEABLE);
    assert_int_equal(t.pos.first, 3);
    assert_int_equal(t.pos.second, 1);
    assert_int_equal(t.pos.neither, 2);
    assert_int_equal(t.pos.pairs, 2);
    assert_int_equal(t.pos.agree, 1);
    const char *names[2] = {"x", "y"};
    judge_summary_opts so = {.bootstrap = 10, .seed = 1};
    cJSON *sum = judge_summary_json(names, 2, 3, &t, 1, &so);
    const cJSON *p = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(sum, "judges"), "m"), "position");
    assert_true(cJSON_GetObjectItem(p, "first_shown_rate")->valuedouble == 75);
    assert_true(cJSON_GetObjectItem(p, "agreement")->valuedouble == 50);
    cJSON_Delete(sum);
    judge_tally_free(&t);
}

static void consistency_counts_by_hand(void **state)
{
    (void)state;
    /* (h_i, h_j, a_i, a_j): agree, agree, aspect tie, holistic tie,
     * agree, disagree. nontie 5, agree 3, disagree 1, aspect_ties 1. */
    double rows[6][4] = {{1, 0, 2, 1}, {1, 0, 3, 2}, {0, 1, 3, 3},
                         {2, 2, 1, 5}, {0, 3, 0, 1}, {0.5, 0.25, -1, 0}};
    consist_counts c = {0}, lower = {0};
    for (int i = 0; i < 6; i++) {
        consist_count_pair(&c, rows[i][0], rows[i][1], rows[i][2], rows[i][3], 0);
        consist_count_pair(&lower, rows[i][0], rows[i][1], rows[i][2], rows[i][3], 1);
    }
    assert_int_equal(c.holistic_nontie, 5);
    assert_int_equal(c.agree, 3);
    assert_int_equal(c.disagree, 1);
    assert_int_equal(c.aspect_ties, 1);
    assert_true(fabs(consist_inconsistency(&c) - 0.2) < 1e-12);
    assert_true(fabs(consist_consistency(&c) - 0.75) < 1e-12);
    /* Lower-is-better swaps agreement and disagreement. */
    assert_int_equal(lower.agree, 1);
    assert_int_equal(lower.disagree, 3);
    assert_int_equal(lower.aspect_ties, 1);
    assert_true(fabs(consist_inconsistency(&lower) - 0.6) < 1e-12);
    consist_counts none = {0};
    assert_true(consist_inconsistency(&none) == 0);
    assert_int_equal(judge_reward_verdict(1, 0, 0), JV_A);
    assert_int_equal(judge_reward_verdict(1, 0, 1), JV_B);
    assert_int_equal(judge_reward_verdict(-2, 3, 0), JV_B);
    assert_int_equal(judge_reward_verdict(0.5, 0.5, 0), JV_TIE);
}

static char *write_tmp(const char *text)
{
    char *path = malloc(64);
    strcpy(path, "/tmp/alarm-test-judge-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void systems_align_by_prompt_id(void **state)
{
    (void)state;
    char *a = write_tmp("{\"prompt_id\":\"p1\",\"prompt\":\"P1\",\"response\":\"a1\",\"rewards\":"
                        "{\"r\":{\"value\":1},\"holistic\":{\"value\":0.5}}}\n"
                        "{\"id\":\"p2\",\"prompt\":\"P2\",\"response\":\"a2\",\"rewards\":{\"r\":{\"value\":2}}}\n"
                        "{\"id\":\"p3\",\"prompt\":\"P3\",\"response\":\"a3\",\"rewards\":{\"r\":{\"value\":3}}}\n");
    char *b = write_tmp("{\"id\":\"p3\",\"prompt\":\"P3\",\"response\":\"b3\",\"rewards\":{\"r\":{\"value\":0}}}\n"
                        "{\"id\":\"p1\",\"prompt\":\"P1\",\"response\":\"b1\",\"rewards\":{\"r\":{\"value\":0}}}\n"
                        "{\"id\":\"p2\",\"prompt\":\"P2\",\"response\":\"b2\",\"rewards\":{\"r\":{\"value\":0}}}\n");
    char *dup = write_tmp("{\"id\":\"p1\",\"prompt\":\"P\",\"response\":\"x\"}\n"
                          "{\"id\":\"p2\",\"prompt\":\"P\",\"response\":\"x\"}\n"
                          "\n"
                          "{\"id\":\"p1\",\"prompt\":\"P\",\"response\":\"y\"}\n"
                          "{\"id\":\"p2\",\"prompt\":\"P\",\"response\":\"y\"}\n"
                          "{\"id\":\"p1\",\"prompt\":\"P\",\"response\":\"z\"}\n");
    char *miss = write_tmp("{\"id\":\"p1\",\"prompt\":\"P\",\"response\":\"x\",\"rewards\":{\"r\":{\"value\":0}}}\n"
                           "{\"id\":\"p2\",\"prompt\":\"P\",\"response\":\"x\",\"rewards\":{\"r\":{\"value\":0}}}\n");
    char specs[4][128];
    snprintf(specs[0], 128, "A=%s", a);
    snprintf(specs[1], 128, "B=%s", b);
    snprintf(specs[2], 128, "D=%s", dup);
    snprintf(specs[3], 128, "M=%s", miss);
    char *sp[2] = {specs[0], specs[1]};
    const char *rw[1] = {"r"};
    judge_set set;
    alarm_err e;
    assert_int_equal(judge_set_load(&set, sp, 2, rw, 1, "holistic", &e), 0);
    assert_int_equal(set.nprompts, 3);
    assert_string_equal(judge_set_get(&set, 1, 0)->response, "b1");
    assert_string_equal(judge_set_get(&set, 1, 2)->response, "b3");
    assert_true(judge_set_get(&set, 0, 0)->values[1] == 0.5);
    assert_true(isnan(judge_set_get(&set, 0, 1)->values[1]));
    judge_set_subset(&set, 2, 7);
    assert_int_equal(set.nprompts, 2);
    for (size_t p = 0; p < 2; p++) /* still aligned after the subset */
        assert_string_equal(judge_set_get(&set, 0, p)->prompt_id, judge_set_get(&set, 1, p)->prompt_id);
    judge_set_free(&set);

    sp[1] = specs[2];
    assert_int_equal(judge_set_load(&set, sp, 2, NULL, 0, "holistic", &e), -1);
    /* Both lines named (blank lines count), the earliest repeat of all. */
    char want[512];
    snprintf(want, sizeof want, "%s:4: duplicate prompt \"p1\" in system D (first at %s:1)", dup,
             dup);
    assert_string_equal(e.msg, want);
    sp[1] = specs[3];
    assert_int_equal(judge_set_load(&set, sp, 2, rw, 1, "holistic", &e), -1);
    assert_non_null(strstr(e.msg, "\"p3\""));
    assert_non_null(strstr(e.msg, "missing from system M"));
    sp[0] = specs[3];
    sp[1] = specs[0];
    assert_int_equal(judge_set_load(&set, sp, 2, rw, 1, "holistic", &e), -1);
    assert_non_null(strstr(e.msg, "missing from system M"));
    const char *rw2[1] = {"absent"};
    sp[0] = specs[0];
    sp[1] = specs[1];
    assert_int_equal(judge_set_load(&set, sp, 2, rw2, 1, "holistic", &e), -1);
    assert_non_null(strstr(e.msg, ":1: field \"rewards.absent\" is missing"));
    char bad[] = "nofile";
    sp[1] = bad;
    assert_int_equal(judge_set_load(&set, sp, 2, NULL, 0, "holistic", &e), -1);
    assert_non_null(strstr(e.msg, "NAME=FILE"));
    char *files[4] = {a, b, dup, miss};
    for (int i = 0; i < 4; i++) {
        unlink(files[i]);
        free(files[i]);
    }
}

static void error_messages_from_bodies(void **state)
{
    (void)state;
    char m[256];
    judge_error_message("{\"error\": {\"message\": \"Incorrect API key provided: sk-abc. Bye\", "
                        "\"type\": \"invalid_request_error\"}}", m, sizeof m, "sk-abc");
    assert_string_equal(m, "Incorrect API key provided: ***. Bye");
    judge_error_message("{\"object\": \"error\", \"message\": \"The model `x` does not exist.\"}",
                        m, sizeof m, NULL);
    assert_string_equal(m, "The model `x` does not exist.");
    judge_error_message("{\"detail\": \"Not Found\"}", m, sizeof m, NULL);
    assert_string_equal(m, "Not Found");
    judge_error_message("{\"error\": \"quota\\nexceeded\"}", m, sizeof m, NULL);
    assert_string_equal(m, "quota exceeded"); /* one line */
    judge_error_message("upstream connect error\r\n", m, sizeof m, NULL);
    assert_string_equal(m, "upstream connect error");
    judge_error_message("<html><body>502</body></html>", m, sizeof m, NULL);
    assert_string_equal(m, "");
    judge_error_message("{\"choices\": []}", m, sizeof m, NULL);
    assert_string_equal(m, "");
    /* A long message is cut to about 200 bytes, never inside a character. */
    char body[700] = "{\"error\": {\"message\": \"";
    for (int i = 0; i < 150; i++)
        strcat(body, "\xc3\xa9");
    strcat(body, "\"}}");
    judge_error_message(body, m, sizeof m, NULL);
    size_t n = strlen(m);
    assert_true(n <= 200 && n >= 190);
    assert_string_equal(m + n - 3, "...");
    assert_true((unsigned char)m[n - 4] == 0xa9);
}

static http_result failed(int fail, long status, int retryable, const char *error, const char *body)
{
    return (http_result){.fail = fail, .status = status, .retryable = retryable, .error = error,
                         .body = body, .attempts = 1};
}

static void causes_are_counted_once_each(void **state)
{
    (void)state;
    judge_causes cs = {0};
    const char *url = "http://127.0.0.1:9/v1";
    http_result refused = failed(HTTP_FAIL_CONNECT, 0, 1, "connection refused", "");
    for (int i = 0; i < 18; i++)
        assert_int_equal(judge_causes_add(&cs, &refused, url, NULL), 0);
    http_result busy = failed(HTTP_FAIL_STATUS, 503, 1, "HTTP 503 Service Unavailable", "");
    assert_int_equal(judge_causes_add(&cs, &busy, url, NULL), 0);
    judge_causes_add_malformed(&cs, "response is not JSON");
    assert_int_equal(cs.n, 3);
    assert_string_equal(cs.c[0].what, "connection refused to http://127.0.0.1:9/v1");
    assert_int_equal(cs.c[0].requests, 18);
    assert_string_equal(cs.c[1].what, "HTTP 503 Service Unavailable");
    assert_string_equal(cs.c[2].what, "malformed answer: response is not JSON");
    assert_true(judge_causes_transient(&cs));
    assert_false(judge_causes_fatal(&cs));
    /* 400, 401, 403, 404 and a transport error no retry is for stop the run. */
    const long fatal[] = {400, 401, 403, 404};
    for (int i = 0; i < 4; i++) {
        http_result r = failed(HTTP_FAIL_STATUS, fatal[i], 0, "HTTP", "{\"error\":{\"message\":\"no\"}}");
        assert_int_equal(judge_causes_add(&cs, &r, url, NULL), 1);
    }
    http_result tls = failed(HTTP_FAIL_TRANSPORT, 0, 0, "SSL certificate problem", "");
    assert_int_equal(judge_causes_add(&cs, &tls, url, NULL), 1);
    assert_true(judge_causes_fatal(&cs));
    assert_int_equal(cs.n, JUDGE_CAUSES);
    assert_string_equal(cs.c[3].what, "HTTP: no");
    http_result big = failed(HTTP_FAIL_STATUS, 413, 0, "HTTP 413 Payload Too Large", "");
    assert_int_equal(judge_causes_add(&cs, &big, url, NULL), 0); /* this request only */
    assert_int_equal(cs.other, 1);                              /* no room left */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sha256_matches_the_standard_vectors),
        cmocka_unit_test(default_template_matches_the_data_file),
        cmocka_unit_test(templates_split_and_fill_once),
        cmocka_unit_test(text_verdicts),
        cmocka_unit_test(response_verdicts),
        cmocka_unit_test(orders_combine),
        cmocka_unit_test(tallies_and_win_rates),
        cmocka_unit_test(pooled_systems_by_hand),
        cmocka_unit_test(position_counts_by_hand),
        cmocka_unit_test(consistency_counts_by_hand),
        cmocka_unit_test(systems_align_by_prompt_id),
        cmocka_unit_test(error_messages_from_bodies),
        cmocka_unit_test(causes_are_counted_once_each),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
