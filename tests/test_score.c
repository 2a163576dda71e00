/* Unit tests for score and score_batch: the --scorer spec, the kind table's
 * checks, the counting rules (length, repetition: rep-n by hand), the
 * readability kind, overlap (spans per sentence) and language, and the batch: rewards merged with existing aspects,
 * a same-named aspect replaced, a failing scorer failing the run or, with
 * skip_failed, leaving the aspect out, and given/auto normalisation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "score.h"
#include "score_batch.h"

static void spec_parsing(void **state)
{
    (void)state;
    score_spec s;
    alarm_err e = {{0}};
    assert_int_equal(score_spec_parse(&s, "fact=rm:runs/x:y,good=1,bad=-1", &e), 0);
    assert_string_equal(s.name, "fact");
    assert_string_equal(s.kind, "rm");
    assert_string_equal(s.arg, "runs/x:y");
    assert_int_equal(s.nkv, 2);
    assert_string_equal(score_spec_get(&s, "bad"), "-1");
    assert_null(score_spec_get(&s, "x"));
    score_spec_free(&s);
    /* an escaped comma belongs to ARG or a value; a backslash elsewhere stays */
    assert_int_equal(score_spec_parse(&s, "c=cmd:awk -F\\, '{print \\$1}',timeout=1\\,5", &e), 0);
    assert_string_equal(s.arg, "awk -F, '{print \\$1}'");
    assert_int_equal(s.nkv, 1);
    assert_string_equal(score_spec_get(&s, "timeout"), "1,5");
    score_spec_free(&s);
    assert_int_equal(score_spec_parse(&s, "len=length", &e), 0);
    assert_null(s.arg);
    assert_int_equal(s.nkv, 0);
    score_spec_free(&s);
    const char *bad[] = {"length", "=length", "x=", "x=length,unit", "x=length,a=1,a=2", NULL};
    for (size_t k = 0; bad[k]; k++) {
        assert_int_equal(score_spec_parse(&s, bad[k], &e), -1);
        score_spec_free(&s);
    }
}

static void kind_checks(void **state)
{
    (void)state;
    scorer sc;
    alarm_err e = {{0}};
    assert_int_equal(scorer_open(&sc, "x=nope", NULL, &e), -1);
    assert_non_null(strstr(e.msg, "unknown kind 'nope'"));
    scorer_close(&sc);
    assert_int_equal(scorer_open(&sc, "x=length:foo", NULL, &e), -1);
    assert_non_null(strstr(e.msg, "takes no ARG"));
    scorer_close(&sc);
    assert_int_equal(scorer_open(&sc, "x=length,colour=red", NULL, &e), -1);
    assert_non_null(strstr(e.msg, "no option 'colour'"));
    scorer_close(&sc);
    assert_int_equal(scorer_open(&sc, "x=repetition,n=0", NULL, &e), -1);
    assert_non_null(strstr(e.msg, "n=0"));
    scorer_close(&sc);
    assert_int_equal(scorer_open(&sc, "x=readability,dict=/nonexistent.dic", NULL, &e), -1);
    assert_non_null(strstr(e.msg, "/nonexistent.dic"));
    scorer_close(&sc);
}

/* Scores one record (JSON text) with spec; returns the output. */
static score_out score_one(const char *spec, const char *json)
{
    scorer sc;
    alarm_err e = {{0}};
    assert_int_equal(scorer_open(&sc, spec, NULL, &e), 0);
    cJSON *rec = cJSON_Parse(json);
    assert_non_null(rec);
    const char *r = cJSON_GetObjectItem(rec, "response")->valuestring;
    score_in in = {rec, r, strlen(r)};
    score_out o = {0};
    assert_int_equal(sc.kind->score(sc.state, &in, 1, &o, &e), 0);
    cJSON_Delete(rec);
    scorer_close(&sc);
    return o;
}

static void length_rule(void **state)
{
    (void)state;
    score_out o = score_one("l=length", "{\"response\":\"a b c\",\"response_tokens\":[1,2,3,4]}");
    assert_false(o.failed);
    assert_true(o.value == 4 && o.raw == 4);
    o = score_one("l=length,unit=words", "{\"response\":\"  a b\\tc \"}");
    assert_true(o.value == 3);
    o = score_one("l=length", "{\"response\":\"a\"}");
    assert_true(o.failed);
    assert_non_null(strstr(o.why, "response_tokens"));
}

static void repetition_rule(void **state)
{
    (void)state;
    /* words a b a b a b: bigrams ab ba ab ba ab -> 5, distinct 2 -> 3/5 */
    score_out o = score_one("r=repetition,n=2", "{\"response\":\"a b A b, a b.\"}");
    assert_true(fabs(o.value - 0.6) < 1e-12);
    /* trigrams of "the cat sat the cat sat": 4, distinct 3 -> 1/4 */
    o = score_one("r=repetition", "{\"response\":\"the cat sat the cat sat\"}");
    assert_true(fabs(o.value - 0.25) < 1e-12);
    o = score_one("r=repetition", "{\"response\":\"too short\"}");
    assert_true(o.value == 0);
    o = score_one("r=repetition,n=1", "{\"response\":\"x y z\"}");
    assert_true(o.value == 0);
}

static void readability_rule(void **state)
{
    (void)state;
    /* corpus line 1: 6 words, 1 sentence, 6 syllables: 0.39*6 + 11.8*1 - 15.59 */
    score_out o = score_one("rd=readability", "{\"response\":\"The cat sat on the mat.\"}");
    assert_true(fabs(o.value + 1.5) < 1e-12);
}

static void overlap_rule(void **state)
{
    (void)state;
    const char *r = "The band formed in 1999. It split up in 2005. Cats are great pets.";
    char json[512];
    snprintf(json, sizeof json, "{\"response\":\"%s\",\"meta\":{\"passages\":"
             "[\"Nothing here.\",{\"title\":\"t\",\"text\":\"The band formed in 1999 "
             "and split up in 2005.\"}]}}", r);
    score_out o = score_one("f=overlap", json);
    assert_false(o.failed);
    assert_true(fabs(o.value - 2.0 / 3) < 1e-12);
    assert_int_equal(o.nspans, 3);
    size_t e1 = strlen("The band formed in 1999."), e2 = strlen(r) - strlen(" Cats are great pets.");
    assert_int_equal(o.spans[0].end, e1);
    assert_int_equal(o.spans[1].end, e2);
    assert_int_equal(o.spans[2].end, strlen(r));
    assert_true(o.spans[0].value == 0.5 && o.spans[1].value == 0.5 && o.spans[2].value == -0.5);
    score_out_free(&o);
    /* one content word of four (band members love cats): only with min=0.25 */
    const char *q = "{\"response\":\"Band members love cats.\",\"meta\":{\"passages\":"
                    "[\"the band\"]}}";
    o = score_one("f=overlap", q);
    assert_true(o.value == 0);
    score_out_free(&o);
    o = score_one("f=overlap,min=0.25,good=1,bad=-1", q);
    assert_true(o.value == 1 && o.spans[0].value == 1);
    score_out_free(&o);
    o = score_one("f=overlap", "{\"response\":\"a\"}");
    assert_true(o.failed);
    assert_string_equal(o.why, "field \"meta.passages\": missing");
    o = score_one("f=overlap", "{\"response\":\"a\",\"meta\":{\"passages\":[\"x\",3]}}");
    assert_true(o.failed);
    assert_non_null(strstr(o.why, "meta.passages[1]"));
}

static void language_rule(void **state)
{
    (void)state;
    const char *en = "{\"response\":\"This is a sentence in plain English about the "
                     "weather today.\"}";
    const char *fr = "{\"response\":\"Ceci est une phrase en fran\u00e7ais sur le temps "
                     "qu'il fait aujourd'hui.\"}";
    assert_true(score_one("l=language", en).value == 1);
    assert_true(score_one("l=language,lang=fr", en).value == 0);
    assert_true(score_one("l=language,lang=fr", fr).value == 1);
    assert_true(score_one("l=language", fr).value == 0);
    assert_true(score_one("l=language", "{\"response\":\"\"}").value == 0);
    scorer sc;
    alarm_err e = {{0}};
    assert_int_equal(scorer_open(&sc, "l=language,db=/nonexistent", NULL, &e), -1);
    assert_non_null(strstr(e.msg, "/nonexistent"));
    scorer_close(&sc);
}

/* Runs a batch over lines; returns what it wrote (static) or NULL on failure. */
static const char *run_batch(const char *const *specs, size_t nsc, score_aspect *asp,
                             int skip, const char *lines, char *msg)
{
    static char *buf;
    size_t len;
    free(buf);
    FILE *out = open_memstream(&buf, &len);
    FILE *in = fmemopen((void *)lines, strlen(lines), "r");
    scorer sc[4];
    alarm_err e = {{0}};
    for (size_t k = 0; k < nsc; k++)
        assert_int_equal(scorer_open(&sc[k], specs[k], NULL, &e), 0);
    score_batch b = {.sc = sc, .asp = asp, .nsc = nsc, .skip_failed = skip, .out = out};
    jsonl_reader r = {.fp = in, .name = "t.jsonl"};
    cJSON *rec;
    int rc = 0, got;
    while (rc == 0 && (got = jsonl_next(&r, &rec, &e)) == 1)
        rc = score_batch_add(&b, &r, rec, &e);
    if (rc == 0)
        rc = score_batch_flush(&b, &e);
    score_batch_free(&b);
    for (size_t k = 0; k < nsc; k++)
        scorer_close(&sc[k]);
    jsonl_close(&r); /* not own_fp: `in` is closed below */
    fclose(in);
    fclose(out);
    if (msg)
        strcpy(msg, e.msg);
    return rc == 0 ? buf : NULL;
}

static void batch_merges(void **state)
{
    (void)state;
    const char *specs[] = {"len=length,unit=words", "rep=repetition"};
    score_aspect asp[2] = {{0}};
    const char *out = run_batch(specs, 2, asp, 0,
        "{\"response\":\"a b\",\"x\":1.50,\"rewards\":{\"holistic\":{\"value\":1},"
        "\"len\":{\"value\":99}}}\n{\"response\":\"c\"}\n", NULL);
    assert_non_null(out);
    assert_string_equal(out,
        "{\"response\":\"a b\",\"x\":1.5,\"rewards\":{\"holistic\":{\"value\":1},"
        "\"len\":{\"value\":2,\"raw\":2},\"rep\":{\"value\":0,\"raw\":0}}}\n"
        "{\"response\":\"c\",\"rewards\":{\"len\":{\"value\":1,\"raw\":1},"
        "\"rep\":{\"value\":0,\"raw\":0}}}\n");
    assert_int_equal(asp[0].scored, 2);
}

static void batch_failures(void **state)
{
    (void)state;
    const char *specs[] = {"len=length", "w=length,unit=words"};
    score_aspect asp[2] = {{0}};
    char msg[1024];
    const char *in = "{\"response\":\"a\",\"response_tokens\":[1]}\n"
                     "{\"response\":\"b c\",\"rewards\":{\"len\":{\"value\":7}}}\n";
    assert_null(run_batch(specs, 2, asp, 0, in, msg));
    assert_string_equal(msg, "t.jsonl:2: scorer len (length) failed: field \"response_tokens\": "
                             "missing (or use unit=words)");
    memset(asp, 0, sizeof asp);
    const char *out = run_batch(specs, 2, asp, 1, in, NULL);
    assert_non_null(out);
    /* the failed aspect is left out, the stale "len" of the input too */
    assert_non_null(strstr(out, "{\"response\":\"b c\",\"rewards\":{\"w\":{\"value\":2"));
    assert_null(strstr(out, "\"value\":7"));
    assert_int_equal(asp[0].failed, 1);
    assert_int_equal(asp[0].scored, 1);
    assert_null(run_batch(specs, 2, asp, 0, "{\"respons\":\"a\"}\n", msg));
    assert_string_equal(msg, "t.jsonl:1: field \"response\": missing");
    assert_null(run_batch(specs, 2, asp, 0, "{\"response\":\"a\",\"rewards\":[]}\n", msg));
    assert_non_null(strstr(msg, "t.jsonl:1: field \"rewards\""));
}

static void batch_normalises(void **state)
{
    (void)state;
    const char *specs[] = {"w=length,unit=words"};
    score_aspect asp[1] = {{.norm = SCORE_NORM_AUTO}};
    const char *out = run_batch(specs, 1, asp, 0,
        "{\"response\":\"a\"}\n{\"response\":\"a b c\"}\n", NULL);
    assert_non_null(out);
    /* mean 2, population std 1 */
    assert_true(asp[0].mean == 2 && asp[0].std == 1);
    assert_non_null(strstr(out, "\"w\":{\"value\":-1,\"raw\":1}"));
    assert_non_null(strstr(out, "\"w\":{\"value\":1,\"raw\":3}"));
    asp[0] = (score_aspect){.norm = SCORE_NORM_GIVEN, .mean = 1, .std = 4};
    out = run_batch(specs, 1, asp, 0, "{\"response\":\"a b c\"}\n", NULL);
    assert_non_null(strstr(out, "\"w\":{\"value\":0.5,\"raw\":3}"));
    asp[0] = (score_aspect){.norm = SCORE_NORM_AUTO};
    out = run_batch(specs, 1, asp, 0, "{\"response\":\"a b\"}\n{\"response\":\"c d\"}\n", NULL);
    assert_true(asp[0].std == 0); /* constant: only centred */
    assert_non_null(strstr(out, "\"w\":{\"value\":0,\"raw\":2}"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(spec_parsing),    cmocka_unit_test(kind_checks),
        cmocka_unit_test(length_rule),     cmocka_unit_test(repetition_rule),
        cmocka_unit_test(readability_rule), cmocka_unit_test(overlap_rule),
        cmocka_unit_test(language_rule),   cmocka_unit_test(batch_merges),
        cmocka_unit_test(batch_failures),  cmocka_unit_test(batch_normalises),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
