/* Unit tests for select (alarm-select's record loop): the combined reward
 * of alarm-formats(5) section 4 in each mode on numbers worked by hand, the
 * too-short rule, consistency counts with and without lower-is-better, the
 * automatic pick, the output line and a repeated id. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "select.h"

/* One prompt p, responses of 3 tokens ("ab cd": token 0 = bytes 0-1,
 * token 1 = bytes 2-4, token 2 the EOS at [5, 5]).
 * A: h .8, f .6 with spans .5 ending at byte 2 (token 0) and -1 at byte 5
 *    (token 1), r .3 (no spans: on the last token).
 * B: h .4, f .2 (no spans), r .9.
 * C: 2 tokens, too short at the default min-tokens 2. */
static const char *const A =
    "{\"id\":\"p#0\",\"prompt_id\":\"p\",\"response\":\"ab cd\",\"response_tokens\":[1,2,3],"
    "\"offsets\":[[0,2],[2,5],[5,5]],\"rewards\":{\"holistic\":{\"value\":0.8},\"f\":{\"value\":0.6,"
    "\"spans\":[{\"end\":2,\"value\":0.5},{\"end\":5,\"value\":-1}]},\"r\":{\"value\":0.3}}}";
static const char *const B =
    "{\"id\":\"p#1\",\"prompt_id\":\"p\",\"response\":\"ab cd\",\"response_tokens\":[1,2,3],"
    "\"offsets\":[[0,2],[2,5],[5,5]],\"rewards\":{\"holistic\":{\"value\":0.4},\"f\":{\"value\":0.2},"
    "\"r\":{\"value\":0.9}}}";
static const char *const C =
    "{\"id\":\"q#0\",\"prompt_id\":\"q\",\"response\":\"ab\",\"response_tokens\":[1,9],"
    "\"offsets\":[[0,2],[2,2]],\"rewards\":{\"holistic\":{\"value\":0.9},\"f\":{\"value\":1},"
    "\"r\":{\"value\":1}}}";

typedef struct {
    select_ctx c;
    char *out;
    size_t n;
    FILE *f;
    char line[1024];
    jsonl_reader r;
} run;

static void start(run *x, select_opts *o)
{
    alarm_err e;
    memset(x, 0, sizeof *x);
    if (!o->holistic)
        o->holistic = "holistic";
    x->f = open_memstream(&x->out, &x->n);
    assert_int_equal(select_init(&x->c, o, x->f, &e), 0);
    x->r.name = "t.jsonl";
}

static int feed(run *x, const char *rec, alarm_err *e)
{
    strcpy(x->line, rec);
    x->r.line = x->line;
    x->r.len = strlen(rec);
    x->r.lineno++;
    return select_feed_line(&x->c, &x->r, e);
}

/* Feeds the records, finishes, and returns the output lines' "reward" objects. */
static cJSON **finish(run *x, const char *const *recs, size_t n)
{
    alarm_err e;
    for (size_t i = 0; i < n; i++)
        assert_int_equal(feed(x, recs[i], &e), 0);
    assert_int_equal(select_finish(&x->c, &e), 0);
    fclose(x->f);
    cJSON **rw = calloc(n, sizeof *rw);
    char *p = x->out;
    for (size_t i = 0; i < n; i++) {
        char *nl = strchr(p, '\n');
        assert_non_null(nl);
        cJSON *rec = cJSON_ParseWithLength(p, (size_t)(nl - p));
        assert_non_null(rec);
        rw[i] = cJSON_DetachItemFromObject(rec, "reward");
        assert_non_null(rw[i]);
        cJSON_Delete(rec);
        p = nl + 1;
    }
    assert_string_equal(p, "");
    return rw;
}

static void end(run *x, cJSON **rw, size_t n)
{
    for (size_t i = 0; i < n; i++)
        cJSON_Delete(rw[i]);
    free(rw);
    select_free(&x->c);
    free(x->out);
}

static void check_dense(const cJSON *rw, const double *want, size_t T, double total)
{
    const cJSON *d = cJSON_GetObjectItem(rw, "dense");
    assert_int_equal(cJSON_GetArraySize(d), (int)T);
    for (size_t i = 0; i < T; i++)
        if (fabs(cJSON_GetArrayItem(d, (int)i)->valuedouble - want[i]) > 1e-12)
            fail_msg("dense[%zu] = %g, want %g", i, cJSON_GetArrayItem(d, (int)i)->valuedouble,
                     want[i]);
    assert_true(fabs(cJSON_GetObjectItem(rw, "total")->valuedouble - total) < 1e-12);
}

/* Runs A, B and C in one mode with f (weight w) given. */
static cJSON **in_mode(run *x, reward_mode m, double w)
{
    static const char *aspects[] = {"f"};
    double weights[] = {w};
    select_opts o = {.aspects = aspects, .weights = weights, .n_aspects = 1, .max_incons = -1};
    reward_cfg_default(&o.rc);
    o.rc.mode = m;
    start(x, &o);
    static const char *const recs[] = {A, B, C};
    return finish(x, (const char *const *)recs, 3);
}

static void each_mode(void **state)
{
    (void)state;
    run x;
    /* holistic: W*h = 5*.8 = 4 and 5*.4 = 2 on the last token */
    cJSON **rw = in_mode(&x, REWARD_HOLISTIC, 1);
    check_dense(rw[0], (double[]){0, 0, 4}, 3, 4);
    check_dense(rw[1], (double[]){0, 0, 2}, 3, 2);
    char *asp = cJSON_PrintUnformatted(cJSON_GetObjectItem(rw[0], "aspects"));
    assert_string_equal(asp, "[]");
    free(asp);
    end(&x, rw, 3);
    /* aspect, f weight 2: A's spans 2*.5 on token 0 and 2*-1 on token 1; B's
     * value 2*.2 on its last token */
    rw = in_mode(&x, REWARD_ASPECT, 2);
    check_dense(rw[0], (double[]){1, -2, 0}, 3, -1);
    check_dense(rw[1], (double[]){0, 0, 0.4}, 3, 0.4);
    end(&x, rw, 3);
    /* sum: the aspect vector plus W*h */
    rw = in_mode(&x, REWARD_SUM, 1);
    check_dense(rw[0], (double[]){0.5, -1, 4}, 3, 3.5);
    check_dense(rw[1], (double[]){0, 0, 2.2}, 3, 2.2);
    end(&x, rw, 3);
    /* hierarchical: A (h .8 >= .6) as sum, gate true; B (h .4) as holistic */
    rw = in_mode(&x, REWARD_HIERARCHICAL, 1);
    check_dense(rw[0], (double[]){0.5, -1, 4}, 3, 3.5);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(rw[0], "gate")));
    check_dense(rw[1], (double[]){0, 0, 2}, 3, 2);
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(rw[1], "gate")));
    end(&x, rw, 3);
}

static void too_short(void **state)
{
    (void)state;
    for (int m = 0; m < 4; m++) {
        run x;
        cJSON **rw = in_mode(&x, (reward_mode)m, 1);
        /* C: 2 tokens <= min-tokens 2: only W*P = 5*-10 on its last token,
         * its holistic reported as P, whatever the mode */
        check_dense(rw[2], (double[]){0, -50}, 2, -50);
        assert_true(cJSON_GetObjectItem(rw[2], "holistic")->valuedouble == -10);
        end(&x, rw, 3);
    }
}

static void output_line_is_input_with_reward(void **state)
{
    (void)state;
    run x;
    cJSON **rw = in_mode(&x, REWARD_HIERARCHICAL, 1);
    size_t n = strlen(A) - 1;
    assert_memory_equal(x.out, A, n);
    const char *want = ",\"reward\":{\"mode\":\"hierarchical\",\"holistic\":0.8,\"gate\":true,"
                       "\"aspects\":[\"f\"],\"dense\":[0.5,-1,4],\"total\":3.5}}\n";
    assert_memory_equal(x.out + n, want, strlen(want));
    end(&x, rw, 3);
}

/* Counts over the one pair (A, B): dh = .8 - .4 > 0; f: .6 - .2 > 0
 * agrees; r: .3 - .9 < 0 disagrees, and agrees when lower is better. */
static void consistency_and_lower_better(void **state)
{
    (void)state;
    for (int lower = 0; lower < 2; lower++) {
        static const char *lb[] = {"r"};
        select_opts o = {.auto_k = 1, .max_incons = -1, .lower_better = lb,
                         .n_lower = (size_t)lower};
        reward_cfg_default(&o.rc);
        run x;
        start(&x, &o);
        static const char *const recs[] = {A, B, C};
        cJSON **rw = finish(&x, (const char *const *)recs, 3);
        long f = reward_names_find(&x.c.names, "f"), r = reward_names_find(&x.c.names, "r");
        assert_true(f >= 0 && r >= 0);
        assert_int_equal(x.c.pairs, 1);
        assert_int_equal(x.c.counts[f].agree, 1);
        assert_int_equal(x.c.counts[f].disagree, 0);
        assert_int_equal(x.c.counts[r].agree, lower ? 1 : 0);
        assert_int_equal(x.c.counts[r].disagree, lower ? 0 : 1);
        /* auto:1 picks f alone when r disagrees; with r lower-better both
         * are at inconsistency 0 and the first column met wins the tie */
        assert_true(x.c.selected[f]);
        assert_int_equal(x.c.nsel, 1);
        assert_string_equal(x.c.aspects_json, "[\"f\"]");
        end(&x, rw, 3);
    }
}

static void repeated_id_and_bad_token(void **state)
{
    (void)state;
    run x;
    select_opts o = {.max_incons = -1};
    reward_cfg_default(&o.rc);
    o.rc.mode = REWARD_HOLISTIC;
    start(&x, &o);
    alarm_err e;
    assert_int_equal(feed(&x, A, &e), 0);
    assert_int_equal(feed(&x, B, &e), 0);
    assert_int_equal(feed(&x, A, &e), -1);
    assert_string_equal(e.msg, "t.jsonl:3: duplicate id \"p#0\" (first at t.jsonl:1)");
    char bad[1024];
    const char *at = strstr(C, "[1,9]");
    snprintf(bad, sizeof bad, "%.*s[1,-9]%s", (int)(at - C), C, at + 5);
    assert_int_equal(feed(&x, bad, &e), -1);
    assert_string_equal(e.msg, "t.jsonl:4: field \"response_tokens\"[1]: the number is not a "
                               "token id (0 to 2147483647): -9");
    fclose(x.f);
    select_free(&x.c);
    free(x.out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(each_mode),
        cmocka_unit_test(too_short),
        cmocka_unit_test(output_line_is_input_with_reward),
        cmocka_unit_test(consistency_and_lower_better),
        cmocka_unit_test(repeated_id_and_bad_token),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
