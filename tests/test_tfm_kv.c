/* KV-cache decoding equals the full forward: prompts of different lengths
 * are prefilled together, then decoded one token per row per step (rows stop
 * at different steps), and every next-token logit row is compared with the
 * full forward over the whole sequence. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/check.h"
#include "lib/tst_reader.h"
#include "tfm.h"
#include "tfm_ckpt.h"
#include "tfm_kv.h"

enum { MAXB = 3, T = 12 };

static void kv_run(const char *name, int B)
{
    char dir[4096];
    alarm_err e;
    tfm_model m;
    snprintf(dir, sizeof dir, "%s%s", test_path("fixtures/tfm/"), name);
    if (tst_load_model(&m, dir, B, T, &e))
        fail_msg("%s", e.msg);
    int V = m.cfg.V, seq[MAXB * T], prompt[MAXB * T];
    int plen[MAXB] = {3, 7, 1}, total[MAXB] = {12, 9, 6};
    for (int i = 0; i < B * T; i++)
        seq[i] = (i * 37 + 11) % V;
    float *full = malloc((size_t)B * T * V * sizeof(float));
    assert_int_equal(tfm_forward(&m, seq, total, B, T, &e), 0);
    memcpy(full, m.logits, (size_t)B * T * V * sizeof(float));
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++)
            prompt[b * T + t] = t < plen[b] ? seq[b * T + t] : 0;

    tfm_kv kv;
    if (tfm_kv_build(&kv, &m, B, T, &e))
        fail_msg("%s", e.msg);
    if (tfm_kv_prefill(&kv, &m, prompt, plen, B, T, &e))
        fail_msg("%s", e.msg);
    for (int b = 0; b < B; b++)
        check_close("prefill", kv.logits + (size_t)b * V,
                    full + ((size_t)b * T + plen[b] - 1) * V, V, 1e-5, 1e-4);
    for (int s = 0; s < T; s++) {
        int tok[MAXB], active[MAXB], any = 0;
        for (int b = 0; b < B; b++) {
            int p = plen[b] + s;
            active[b] = p < total[b];
            tok[b] = active[b] ? seq[b * T + p] : -5; /* idle rows' tokens are never read */
            any |= active[b];
        }
        if (!any)
            break;
        if (tfm_kv_step(&kv, &m, tok, active, B, &e))
            fail_msg("%s", e.msg);
        for (int b = 0; b < B; b++) {
            if (!active[b])
                continue;
            char what[64];
            snprintf(what, sizeof what, "row %d position %d", b, plen[b] + s);
            check_close(what, kv.logits + (size_t)b * V, full + ((size_t)b * T + plen[b] + s) * V,
                        V, 1e-5, 1e-4);
        }
    }
    for (int b = 0; b < B; b++)
        assert_int_equal(kv.pos[b], total[b]);
    /* the cache is full for row 0: one more token is an error, not a write past the end */
    int tok[MAXB] = {1, 1, 1}, only0[MAXB] = {1, 0, 0};
    assert_int_equal(tfm_kv_step(&kv, &m, tok, only0, B, &e), -1);
    free(full);
    tfm_kv_free(&kv);
    tfm_free(&m);
}

/* three rows of different lengths, and one row (matrix-vector products) */
static void kv_matches_forward(void **state)
{
    kv_run(*state, 3);
    kv_run(*state, 1);
}

/* Largest |difference| between the cache's logits, decoding seq from an
 * empty cache, and the full forward's, row 0, every position. */
static double decode_gap(tfm_kv *kv, tfm_model *m, const int *seq)
{
    alarm_err e;
    int V = m->cfg.V, one = 1;
    assert_int_equal(tfm_forward(m, seq, NULL, 1, T, &e), 0);
    memset(kv->pos, 0, sizeof *kv->pos);
    double gap = 0;
    for (int t = 0; t < T; t++) {
        assert_int_equal(tfm_kv_step(kv, m, &seq[t], &one, 1, &e), 0);
        for (int i = 0; i < V; i++) {
            double d = kv->logits[i] - m->logits[(size_t)t * V + i];
            gap = d > gap ? d : -d > gap ? -d : gap;
        }
    }
    return gap;
}

/* The decode layout copies the weights: new parameters reach the steps
 * after tfm_kv_sync (and prefill), not before. */
static void kv_follows_new_weights(void **state)
{
    char dir[4096];
    alarm_err e;
    tfm_model m;
    tfm_kv kv;
    snprintf(dir, sizeof dir, "%s%s", test_path("fixtures/tfm/"), (const char *)*state);
    if (tst_load_model(&m, dir, 1, T, &e))
        fail_msg("%s", e.msg);
    int seq[T];
    for (int t = 0; t < T; t++)
        seq[t] = (t * 29 + 3) % m.cfg.V;
    assert_int_equal(tfm_kv_build(&kv, &m, 1, T, &e), 0);
    assert_true(decode_gap(&kv, &m, seq) < 1e-4);
    tfm_init_random(&m, 77);
    if (m.cfg.arch == TFM_GPT2) /* a stale copy shows */
        assert_true(decode_gap(&kv, &m, seq) > 1e-3);
    tfm_kv_sync(&kv, &m);
    assert_true(decode_gap(&kv, &m, seq) < 1e-4);
    tfm_kv_free(&kv);
    tfm_free(&m);
}

/* Log-probabilities of chosen tokens at chosen rows: a TFM_LM_ROWS model
 * (logits a chunk at a time, here two chunks) gives what the full logits
 * give, in any row order; rows outside the last forward are refused. */
static void token_logprobs(void **state)
{
    (void)state;
    enum { B = 3, TT = 64, N = B * TT };
    char dir[4096];
    alarm_err e;
    tfm_model full, rows;
    snprintf(dir, sizeof dir, "%s", test_path("fixtures/tfm/lm_gpt2_tok"));
    if (tfm_load(&full, dir, B, TT, 0, &e) || tfm_load(&rows, dir, B, TT, TFM_LOAD_LOGITS_ROWS, &e))
        fail_msg("%s", e.msg);
    assert_int_equal(rows.cfg.lm_head, TFM_LM_ROWS);
    assert_true((int)N > (int)TFM_LOGIT_CHUNK); /* more than one chunk */
    int V = full.cfg.V, tok[N], ids[N];
    size_t at_row[N];
    for (int i = 0; i < N; i++) {
        tok[i] = (i * 131 + 7) % V;
        ids[i] = (i * 17 + 3) % V;
        at_row[i] = (size_t)(i * 97) % N; /* a permutation: 97 and 192 are coprime */
    }
    assert_int_equal(tfm_forward(&full, tok, NULL, B, TT, &e), 0);
    assert_int_equal(tfm_forward(&rows, tok, NULL, B, TT, &e), 0);
    float got[N], want[N];
    assert_int_equal(tfm_token_logprobs(&rows, at_row, ids, N, got, &e), 0);
    for (int i = 0; i < N; i++) { /* log-softmax from the full logits, in double */
        const float *z = full.logits + at_row[i] * V;
        double mx = z[0], s = 0;
        for (int k = 1; k < V; k++)
            mx = z[k] > mx ? z[k] : mx;
        for (int k = 0; k < V; k++)
            s += exp(z[k] - mx);
        want[i] = (float)(z[ids[i]] - mx - log(s));
    }
    check_close("rows model", got, want, N, 1e-5, 1e-5);
    assert_int_equal(tfm_token_logprobs(&full, at_row, ids, N, got, &e), 0);
    check_close("full model", got, want, N, 1e-5, 1e-5);
    size_t bad = N;
    assert_int_equal(tfm_token_logprobs(&rows, &bad, ids, 1, got, &e), -1);
    tfm_free(&full);
    tfm_free(&rows);
}

/* Continuous batching: row 1 finishes and a new prompt takes its slot
 * while row 0 goes on decoding; both match the full forward. */
static void kv_slot_reuse(void **state)
{
    char dir[4096];
    alarm_err e;
    tfm_model m;
    tfm_kv kv;
    snprintf(dir, sizeof dir, "%s%s", test_path("fixtures/tfm/"), (const char *)*state);
    if (tst_load_model(&m, dir, 2, T, &e))
        fail_msg("%s", e.msg);
    int V = m.cfg.V, a[T], c[T];
    for (int t = 0; t < T; t++) {
        a[t] = (t * 41 + 5) % V;
        c[t] = (t * 23 + 9) % V;
    }
    float *fa = malloc((size_t)T * V * sizeof *fa), *fc = malloc((size_t)T * V * sizeof *fc);
    assert_int_equal(tfm_forward(&m, a, NULL, 1, T, &e), 0);
    memcpy(fa, m.logits, (size_t)T * V * sizeof *fa);
    assert_int_equal(tfm_forward(&m, c, NULL, 1, T, &e), 0);
    memcpy(fc, m.logits, (size_t)T * V * sizeof *fc);
    assert_int_equal(tfm_kv_build(&kv, &m, 2, T, &e), 0);
    /* row 0: prompt a[0..3); slot 1: some other prompt, then replaced */
    int two[2 * 3] = {a[0], a[1], a[2], c[5], c[6], 0}, lens[2] = {3, 2}, slots[2] = {0, 1};
    assert_int_equal(tfm_kv_prefill_slots(&kv, &m, two, lens, 2, 3, slots, &e), 0);
    int tok[2] = {a[3], 1}, both[2] = {1, 1};
    assert_int_equal(tfm_kv_step(&kv, &m, tok, both, 2, &e), 0);
    int slot1 = 1, cl = 4;
    assert_int_equal(tfm_kv_prefill_slots(&kv, &m, c, &cl, 1, 4, &slot1, &e), 0);
    check_close("row 0 kept", kv.logits, fa + (size_t)3 * V, V, 1e-5, 1e-4);
    check_close("slot 1 new", kv.logits + V, fc + (size_t)3 * V, V, 1e-5, 1e-4);
    for (int t = 4; t < 8; t++) {
        tok[0] = a[t];
        tok[1] = c[t];
        assert_int_equal(tfm_kv_step(&kv, &m, tok, both, 2, &e), 0);
        check_close("row 0", kv.logits, fa + (size_t)t * V, V, 1e-5, 1e-4);
        check_close("row 1", kv.logits + V, fc + (size_t)t * V, V, 1e-5, 1e-4);
    }
    int bad = 2;
    assert_int_equal(tfm_kv_prefill_slots(&kv, &m, c, &cl, 1, 4, &bad, &e), -1);
    free(fa);
    free(fc);
    tfm_kv_free(&kv);
    tfm_free(&m);
}

#define KV(n) {"kv_" n, kv_matches_forward, NULL, NULL, n}
#define KV_SYNC(n) {"kv_sync_" n, kv_follows_new_weights, NULL, NULL, n}

int main(void)
{
    const struct CMUnitTest tests[] = {
        KV("gpt2_value"), KV("llama_gqa_untied"), KV("qwen2_bias"), KV("llama3_rope"),
        KV_SYNC("gpt2_value"), KV_SYNC("llama_gqa_untied"),
        cmocka_unit_test(token_logprobs),
        {"kv_slots_gpt2_value", kv_slot_reuse, NULL, NULL, "gpt2_value"},
        {"kv_slots_llama_gqa_untied", kv_slot_reuse, NULL, NULL, "llama_gqa_untied"},
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
