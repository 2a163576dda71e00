/* libFuzzer target: config.json parsing. Any input either fails with a
 * message or gives a config that survives to_json -> parse unchanged and,
 * when small, builds a model. Never crashes, never leaks. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tfm.h"
#include "tfm_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = 0;
    tfm_config c, d;
    alarm_err e;
    if (tfm_config_parse(&c, text, &e) == 0) {
        char *j = tfm_config_to_json(&c);
        if (!j || tfm_config_parse(&d, j, &e) != 0)
            abort();
        /* the written form is canonical: a second round trip changes nothing */
        char *j2 = tfm_config_to_json(&d);
        if (!j2 || strcmp(j, j2))
            abort();
        free(j);
        free(j2);
        if ((double)c.V * c.C < 1e6 && (double)c.L * c.C * c.FF < 1e6 && c.NH * c.HS < 4096) {
            tfm_model m;
            int T = c.maxT < 4 ? c.maxT : 4;
            if (tfm_build(&m, &c, 1, T, &e) == 0)
                tfm_free(&m);
        }
    }
    free(text);
    return 0;
}
