/* tfm_loss_lm: the LM loss of a model with every row's logits, and an error
 * (not a silent 0) from a model that keeps none: no LM head, or TFM_LM_ROWS. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "tfm.h"

enum { B = 2, T = 4, V = 32 };

static int loss_with(int lm_head, int value_head, float *loss, alarm_err *e)
{
    tfm_config c;
    tfm_config_init(&c, TFM_GPT2, V, 16, 1, 2, 2, 32, 8);
    c.lm_head = lm_head;
    c.value_head = value_head;
    tfm_model m;
    if (tfm_build(&m, &c, B, T, e) < 0)
        fail_msg("%s", e->msg);
    tfm_init_random(&m, 7);
    const int tokens[B * T] = {1, 2, 3, 4, 5, 6, 7, 8};
    const int targets[B * T] = {2, 3, 4, -1, 6, 7, -1, -1};
    if (tfm_forward(&m, tokens, NULL, B, T, e) < 0)
        fail_msg("%s", e->msg);
    *loss = -1.0f;
    int rc = tfm_loss_lm(&m, targets, 1.0f, loss, e);
    tfm_free(&m);
    return rc;
}

static void loss_needs_every_rows_logits(void **state)
{
    (void)state;
    alarm_err e;
    float loss;
    assert_int_equal(loss_with(TFM_LM_ALL, 0, &loss, &e), 0);
    /* near log(V) for a random init, and certainly not the silent 0 */
    assert_true(fabsf(loss - logf((float)V)) < 0.5f);
    assert_int_equal(loss_with(TFM_LM_ROWS, 0, &loss, &e), -1);
    assert_non_null(strstr(e.msg, "only chosen rows"));
    assert_true(loss == 0.0f);
    assert_int_equal(loss_with(0, 1, &loss, &e), -1);
    assert_non_null(strstr(e.msg, "no LM head"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(loss_needs_every_rows_logits)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
