/* Fuzz target: whatever a judge endpoint answers, and whatever a template
 * file holds, is read without crashing: verdict parsing of response bodies
 * and answer text, and template splitting and filling. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "judge_tmpl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    int v;
    alarm_err e;
    judge_parse_response(s, &v, &e);
    judge_parse_text(s);
    judge_tmpl t;
    if (judge_tmpl_parse(&t, s, "fuzz", &e) == 0) {
        char *body = judge_request_body("m", &t, 1, "{output_a}", s, "{instruction}", &e);
        free(body);
        judge_tmpl_free(&t);
    }
    free(s);
    return 0;
}
