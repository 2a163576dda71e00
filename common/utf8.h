/* utf8: the one UTF-8 validator (alarm-formats(5): records are UTF-8; the
 * tokenizer takes UTF-8 text). Valid means no overlong forms, no encoded
 * surrogates (U+D800..U+DFFF) and nothing past U+10FFFF. */
#ifndef ALARM_UTF8_H
#define ALARM_UTF8_H

#include <stddef.h>

/* The length (2..4) of the valid multi-byte sequence starting at p, which
 * has n > 0 bytes and p[0] >= 0x80; 0 when it is not one. */
size_t utf8_seq(const unsigned char *p, size_t n);

/* 1 when s[0, n) is valid UTF-8; else 0 with *bad at the first bad byte. */
int utf8_valid(const char *s, size_t n, size_t *bad);

#endif
