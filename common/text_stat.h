/* text_stat: the Flesch-Kincaid grade as textstat 0.7.3 computes it (the last
 * release that counts syllables with pyphen alone): its words, sentences and
 * syllables, its internal rounding, and syllables from the hyphenation
 * dictionary pyphen reads, through libhyphen. alarm-score(1) READABILITY
 * gives the definitions; tests/test_text_stat.c checks them against
 * tests/fixtures/readability (made by tests/gen_readability.py). */
#ifndef ALARM_TEXT_STAT_H
#define ALARM_TEXT_STAT_H

#include <stddef.h>

#include "err.h"

/* Debian's hyphen-en-us: the file pyphen uses for en_US. */
#define TEXT_HYPH_EN_US "/usr/share/hyphen/hyph_en_US.dic"

typedef struct text_hyph text_hyph;

int text_hyph_open(text_hyph **h, const char *dic, alarm_err *e);
void text_hyph_close(text_hyph *h);
/* pyphen's positions(word) with left = right = 2, plus one: the syllables
 * of one lowercase UTF-8 word w[0, n). */
size_t text_hyph_syllables(text_hyph *h, const char *w, size_t n, alarm_err *e);

typedef struct {
    size_t words;     /* textstat lexicon_count */
    size_t sentences; /* textstat sentence_count */
    size_t syllables; /* textstat syllable_count */
    double grade;     /* textstat flesch_kincaid_grade, rounded as it rounds */
} text_stats;

/* s[0, n) must be valid UTF-8. */
int text_stats_compute(text_stats *out, text_hyph *h, const char *s, size_t n, alarm_err *e);

/* textstat's _legacy_round: floor(x * 10^p + copysign(0.5, x)) / 10^p. */
double text_legacy_round(double x, int points);

#endif
