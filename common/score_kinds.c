/* score_kinds: the table of scorer kinds alarm-score knows. A new kind (a
 * model, a remote scorer) is one score_kind defined in its own file and one
 * line here. */
#include "score.h"

extern const score_kind score_kind_length, score_kind_repetition, score_kind_readability,
    score_kind_overlap, score_kind_language, score_kind_rm, score_kind_spans;
extern const score_kind score_kind_cmd, score_kind_http, score_kind_languagetool;

const score_kind *const score_kinds[] = {
    &score_kind_length, &score_kind_repetition, &score_kind_readability, &score_kind_overlap,
    &score_kind_language, &score_kind_rm, &score_kind_spans, &score_kind_cmd,
    &score_kind_http, &score_kind_languagetool, NULL,
};
