/* rollout_text: a response's text and the byte span of each of its tokens
 * (alarm-formats(5) section 2). The text is the tokens' bytes in order; a
 * final EOS adds no text and gets the empty span at the end. Records are
 * UTF-8, so bytes that are not (a sample cut inside a character, or a model
 * emitting stray byte tokens) become U+FFFD, one per bad byte, and so does
 * a NUL byte (U+0000 cannot pass through C-string JSON readers); the spans
 * of the tokens that held them cover the replacement. */
#ifndef ALARM_ROLLOUT_TEXT_H
#define ALARM_ROLLOUT_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "bpe.h"
#include "err.h"

typedef struct {
    char *text;   /* NUL-terminated UTF-8 */
    size_t len;
    size_t *offs; /* (n, 2) */
    size_t replaced; /* bytes turned into U+FFFD */
} rollout_text;

/* Fills rt for ids[0, n); eos_last: ids[n-1] is the EOS that ended it.
 * rt's buffers are reused across calls; start from {0}. */
int rollout_text_make(rollout_text *rt, const bpe *tok, const int32_t *ids, int n, int eos_last,
                      alarm_err *e);
void rollout_text_free(rollout_text *rt);

#endif
