/* text_segment: English sentences and ALaRM's sub-sentences of a response,
 * as byte ranges (the rules are alarm-score(1)'s SEGMENTATION section), and
 * whitespace words. A segment [start, end) holds no leading or trailing
 * whitespace, so `end` is the byte after its last byte: the span end of
 * alarm-formats(5) section 3. Input is UTF-8; nothing is allocated but the
 * caller's segment array. */
#ifndef ALARM_TEXT_SEGMENT_H
#define ALARM_TEXT_SEGMENT_H

#include <stddef.h>

#include "err.h"

typedef struct {
    size_t start, end;
} text_seg;

typedef struct {
    text_seg *v;
    size_t n, cap;
} text_segs;

/* Replaces segs' contents with the sentences of s[0, n). */
int text_sentences(text_segs *segs, const char *s, size_t n, alarm_err *e);
/* Replaces segs' contents with the sub-sentences of s[0, n): each sentence
 * split after , ; ! ? (and their CJK forms) where both sides of the cut
 * keep at least `min_words` words (ALaRM: 5). */
int text_subsentences(text_segs *segs, const char *s, size_t n, size_t min_words,
                      alarm_err *e);
void text_segs_free(text_segs *segs);

/* Bytes of the whitespace character at s[i] (ASCII white space, U+00A0,
 * U+2000..U+200A, U+2028, U+2029, U+202F, U+205F, U+3000), else 0. */
size_t text_space_len(const char *s, size_t n, size_t i);
/* Maximal runs of non-whitespace in s[0, n). */
size_t text_word_count(const char *s, size_t n);
/* The next word at or after *i: sets *ws, *we and *i past it; 0 at the end. */
int text_next_word(const char *s, size_t n, size_t *i, size_t *ws, size_t *we);

#endif
