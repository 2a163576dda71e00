/* score_read: the `readability` kind, the Flesch-Kincaid grade of the
 * response as textstat 0.7.3 computes it (text_stat), with the hyphenation
 * dictionary of `dict=` (default Debian's hyph_en_US.dic, pyphen's en_US). */
#include <stdlib.h>

#include "score.h"
#include "text_stat.h"

static int read_init(void **st, const score_spec *s, const score_env *env, alarm_err *e)
{
    (void)env;
    const char *dic = score_spec_get(s, "dict");
    text_hyph *h;
    if (text_hyph_open(&h, dic ? dic : TEXT_HYPH_EN_US, e) < 0)
        return err_prefix(e, "scorer %s: ", s->name);
    *st = h;
    return 0;
}

static int read_score(void *st, const score_in *in, size_t n, score_out *out, alarm_err *e)
{
    for (size_t i = 0; i < n; i++) {
        text_stats ts;
        if (text_stats_compute(&ts, st, in[i].response, in[i].len, e) < 0)
            return -1;
        out[i].value = out[i].raw = ts.grade;
        out[i].has_raw = 1;
    }
    return 0;
}

static void read_free(void *st) { text_hyph_close(st); }

static const char *const read_keys[] = {"dict", NULL};

const score_kind score_kind_readability = {
    .name = "readability", .keys = read_keys, .about = "Flesch-Kincaid grade (textstat)",
    .init = read_init, .score = read_score, .free = read_free};
