/* synth: the world is a function of its seed with the twins it promises; every
 * template parses back to the claims it was filled with; gold answers score
 * Q = 1 and faulty ones less, on the sentences that carry the fault; the meta
 * round trip keeps the truth; the annotator skips ties. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "synth.h"

static synth_world W;
static const synth_opts O = {.seed = 7, .n_bands = 48, .twin_frac = 0.2, .n_passages = 2};

static int setup(void **state)
{
    (void)state;
    alarm_err e;
    return synth_world_build(&W, &O, &e);
}

static int teardown(void **state)
{
    (void)state;
    synth_world_free(&W);
    return 0;
}

static void world_is_the_seeds(void **state)
{
    (void)state;
    synth_world w2;
    alarm_err e;
    assert_int_equal(synth_world_build(&w2, &O, &e), 0);
    assert_int_equal(w2.n, 96);
    assert_memory_equal(w2.e, W.e, sizeof *W.e * (size_t)W.n);
    synth_world_free(&w2);
    synth_opts o = O;
    o.seed = 8;
    assert_int_equal(synth_world_build(&w2, &o, &e), 0);
    assert_true(memcmp(w2.e, W.e, sizeof *W.e * (size_t)W.n) != 0);
    synth_world_free(&w2);
    int twins = 0;
    for (int i = 0; i < 48; i++) {
        const synth_ent *b = &W.e[i], *p = &W.e[b->partner];
        assert_string_equal(b->val[SR_FOUNDER], p->name);
        if (b->twin < 0)
            continue;
        twins++;
        const synth_ent *t = &W.e[b->twin];
        assert_string_equal(b->name, t->name);
        for (int r = 0; r < 4; r++) {
            int rel = (int[]){SR_FORMED, SR_ORIGIN, SR_GENRE, SR_LABEL}[r];
            assert_string_not_equal(b->val[rel], t->val[rel]);
        }
    }
    assert_int_equal(twins, 8); /* 4 shared names */
    o.n_bands = 2;
    assert_int_equal(synth_world_build(&w2, &o, &e), -1);
    assert_non_null(strstr(e.msg, "bands"));
}

static int words(char *s, const char **t)
{
    int n = 0;
    for (char *p = strtok(s, " "); p; p = strtok(NULL, " "))
        t[n++] = p;
    return n;
}

static void templates_parse_back(void **state)
{
    (void)state;
    int checked = 0;
    for (int x = 0; x < W.n; x++)
        for (int rel = 0; rel < SR_N; rel++)
            for (int form = 0; form < 3; form++)
                for (int dis = -1; dis < 2; dis++) {
                    const synth_ent *e = &W.e[x];
                    if (synth_rel_kind(rel) != e->kind || (dis >= 0 && e->kind != SYNTH_BAND))
                        continue;
                    synth_fact f = {.ent = x, .rel = rel, .form = form,
                                    .dis = dis < 0 ? -1 : dis ? SR_ORIGIN : SR_GENRE};
                    snprintf(f.val, SYNTH_VAL, "%s", e->val[rel]);
                    char buf[256] = "";
                    const char *t[32];
                    synth_sent s;
                    assert_int_equal(synth_say(buf, sizeof buf, &W, &f), 0);
                    assert_int_equal(synth_parse(&s, t, words(buf, t)), 1);
                    assert_string_equal(s.subj, e->name);
                    int found = 0;
                    for (int c = 0; c < s.n; c++) {
                        found |= s.rel[c] == rel && !strcmp(s.val[c], f.val);
                        if (s.rel[c] != SR_AMBIGUOUS)
                            assert_string_equal(s.val[c], e->val[s.rel[c]]);
                    }
                    assert_true(found);
                    checked++;
                }
    assert_true(checked > 1000);
    char bad[] = "wild wolves was formed in 1850 .";
    const char *t[16];
    synth_sent s;
    assert_int_equal(synth_parse(&s, t, words(bad, t)), 0);
}

static void check_text(synth_check_result *r, const synth_item *it, const char *text)
{
    alarm_err e;
    assert_int_equal(synth_check(r, &it->truth, text, &e), 0);
}

static void gold_answers_score_one(void **state)
{
    (void)state;
    synth_item it;
    char text[2048];
    alarm_err e;
    int ambiguous = 0;
    for (uint64_t k = 0; k < 300; k++) {
        assert_int_equal(synth_item_make(&it, &W, 0, k, &e), 0);
        assert_int_equal(synth_answer_text(text, sizeof text, &W, it.gold, it.n_gold), 0);
        synth_check_result r;
        check_text(&r, &it, text);
        assert_true(r.Q == 1.0 && r.main == 1.0 && r.addressed == 1.0);
        ambiguous += it.truth.ambiguous;
        synth_check_free(&r);
    }
    assert_true(ambiguous > 15 && ambiguous < 70);
}

/* The fault lands on the sentence that carries it. */
static void faults_are_marked(void **state)
{
    (void)state;
    synth_item it;
    alarm_err e;
    char text[4200], gold[2048];
    uint64_t rng = 1;
    double q = 0;
    assert_int_equal(synth_item_make(&it, &W, 0, 3, &e), 0);
    assert_int_equal(synth_answer_text(gold, sizeof gold, &W, it.gold, it.n_gold), 0);
    synth_check_result r;
    /* a repeated sentence: irrelevant but factual; an unterminated tail: neither */
    snprintf(text, sizeof text, "%s%s", gold, gold);
    check_text(&r, &it, text);
    assert_int_equal(r.n, 2 * it.n_gold);
    assert_int_equal(r.repeats, it.n_gold);
    assert_true(r.s[it.n_gold].factual && !r.s[it.n_gold].relevant && r.R == 0.5);
    synth_check_free(&r);
    snprintf(text, sizeof text, "%s %.31s was formed in", gold, it.truth.asked);
    check_text(&r, &it, text);
    assert_int_equal(r.n, it.n_gold + 1);
    assert_false(r.s[r.n - 1].parsed || r.s[r.n - 1].factual);
    assert_int_equal((int)r.s[r.n - 1].end, (int)strlen(text));
    synth_check_free(&r);
    synth_rates all_wrong = {.wrong = 1};
    synth_fact f[16];
    int n = synth_fault(f, 16, &W, &it, &all_wrong, &rng);
    assert_int_equal(synth_answer_text(text, sizeof text, &W, f, n), 0);
    check_text(&r, &it, text);
    for (int i = 0; i < r.n; i++)
        assert_int_equal(r.s[i].factual, f[i].rel == SR_AMBIGUOUS);
    assert_true(r.Q < 0.7);
    synth_check_free(&r);
    synth_rates demo = {.wrong = 0.1, .miss = 0.1, .irrel = 0.15, .rep = 0.08, .unsup = 0.05};
    for (uint64_t k = 0; k < 400; k++) {
        assert_int_equal(synth_item_make(&it, &W, 0, k, &e), 0);
        n = synth_fault(f, 16, &W, &it, &demo, &rng);
        assert_int_equal(synth_answer_text(text, sizeof text, &W, f, n), 0);
        check_text(&r, &it, text);
        q += r.Q / 400;
        synth_check_free(&r);
    }
    assert_true(q > 0.8 && q < 0.95);
}

static void meta_round_trip(void **state)
{
    (void)state;
    synth_item it;
    synth_truth t;
    alarm_err e;
    assert_int_equal(synth_item_make(&it, &W, 1, 11, &e), 0);
    cJSON *m = synth_truth_json(&it.truth);
    assert_int_equal(synth_truth_read(&t, m, &e), 0);
    assert_string_equal(t.asked, it.truth.asked);
    assert_int_equal(t.n_ents, it.truth.n_ents);
    assert_int_equal(t.n_gold, it.truth.n_gold);
    for (int i = 0; i < t.n_ents; i++) {
        assert_memory_equal(t.ents[i].has, it.truth.ents[i].has, sizeof t.ents[i].has);
        assert_string_equal(t.ents[i].name, it.truth.ents[i].name);
    }
    cJSON_ReplaceItemInObject(cJSON_GetArrayItem(cJSON_GetObjectItem(m, "gold"), 0), "entity",
                              cJSON_CreateString("b999"));
    assert_int_equal(synth_truth_read(&t, m, &e), -1);
    assert_string_equal(e.msg, "field \"meta.gold[0].entity\": 'b999' is not in meta.entities");
    cJSON_Delete(m);
    assert_int_equal(synth_truth_read(&t, NULL, &e), -1);
}

static void annotator_skips_ties(void **state)
{
    (void)state;
    synth_check_result a = {.addressed = 1, .on_topic = 3, .F = 1}, b = a;
    synth_annotator an = {.fact_w = 0.5, .temp = 0.05, .flip = 0, .tie = 0.04};
    uint64_t rng = 5;
    assert_int_equal(synth_annotate(&an, &a, &b, &rng), -1);
    b.F = 0; /* 0.5 apart: sigmoid(10) */
    int wins = 0;
    for (int i = 0; i < 1000; i++)
        wins += synth_annotate(&an, &a, &b, &rng);
    assert_true(wins > 990);
    an.flip = 1;
    assert_int_equal(synth_annotate(&an, &a, &b, &rng), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(world_is_the_seeds),     cmocka_unit_test(templates_parse_back),
        cmocka_unit_test(gold_answers_score_one), cmocka_unit_test(faults_are_marked),
        cmocka_unit_test(meta_round_trip),        cmocka_unit_test(annotator_skips_ties),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
