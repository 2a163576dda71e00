/* Unit tests for text_segment: the sentence rules of alarm-score(1) on tricky
 * text (abbreviations, initialisms, decimals, quotes, ellipses, several
 * spaces, emoji, CJK) and ALaRM's sub-sentence rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "text_segment.h"

/* The segments of s joined by '|'. */
static const char *segs(const char *s, int sub)
{
    static char out[4096];
    text_segs g = {0};
    alarm_err e = {{0}};
    int rc = sub ? text_subsentences(&g, s, strlen(s), 5, &e) : text_sentences(&g, s, strlen(s), &e);
    assert_int_equal(rc, 0);
    out[0] = '\0';
    for (size_t k = 0; k < g.n; k++) {
        assert_true(g.v[k].end > g.v[k].start);
        assert_true(k == 0 || g.v[k].start >= g.v[k - 1].end);
        snprintf(out + strlen(out), sizeof out - strlen(out), "%s%.*s", k ? "|" : "",
                 (int)(g.v[k].end - g.v[k].start), s + g.v[k].start);
    }
    text_segs_free(&g);
    return out;
}

#define SENT(in, want) assert_string_equal(segs(in, 0), want)
#define SUB(in, want) assert_string_equal(segs(in, 1), want)

static void plain_sentences(void **state)
{
    (void)state;
    SENT("", "");
    SENT("   ", "");
    SENT("One. Two! Three? Four", "One.|Two!|Three?|Four");
    SENT("  Several   spaces.    Here too.  ", "Several   spaces.|Here too.");
    SENT("What?! Really.", "What?!|Really.");
    SENT("Line one\n\nLine two", "Line one|Line two");
    SENT("no break\nwithin a paragraph.", "no break\nwithin a paragraph.");
}

static void abbreviations_and_numbers(void **state)
{
    (void)state;
    SENT("Dr. Smith met Mr. Jones. They talked.", "Dr. Smith met Mr. Jones.|They talked.");
    SENT("Use a tool, e.g. a hammer. Or not.", "Use a tool, e.g. a hammer.|Or not.");
    SENT("Some fruit, i.e. apples, is good.", "Some fruit, i.e. apples, is good.");
    SENT("It costs 3.14 dollars. Pi is 3.14159.", "It costs 3.14 dollars.|Pi is 3.14159.");
    SENT("He moved to the U.S. in 1999. Then he left.",
         "He moved to the U.S. in 1999.|Then he left.");
    SENT("See No. 5 and p. 12. Done.", "See No. 5 and p. 12.|Done.");
    SENT("I said no. Then I left.", "I said no.|Then I left.");
    SENT("Visit example.com today. It works.", "Visit example.com today.|It works.");
    SENT("J. R. R. Tolkien wrote it. Read it.", "J. R. R. Tolkien wrote it.|Read it.");
    SENT("It was approx. five metres. Good.", "It was approx. five metres.|Good.");
    SENT("The vote was 5 vs. 3. Close.", "The vote was 5 vs. 3.|Close.");
}

static void quotes_and_ellipses(void **state)
{
    (void)state;
    SENT("He said \"Stop.\" Then he ran.", "He said \"Stop.\"|Then he ran.");
    SENT("\xE2\x80\x9CYes!\xE2\x80\x9D she said. \xE2\x80\x9CGo.\xE2\x80\x9D",
         "\xE2\x80\x9CYes!\xE2\x80\x9D she said.|\xE2\x80\x9CGo.\xE2\x80\x9D");
    SENT("(It rained.) We stayed.", "(It rained.)|We stayed.");
    SENT("Well... maybe. Wait... No way.", "Well... maybe.|Wait...|No way.");
    SENT("Hmm\xE2\x80\xA6 I see.", "Hmm\xE2\x80\xA6|I see.");
}

static void emoji_and_cjk(void **state)
{
    (void)state;
    SENT("Great! \xF0\x9F\x8E\x89 See you. \xF0\x9F\x91\x8D",
         "Great!|\xF0\x9F\x8E\x89 See you.|\xF0\x9F\x91\x8D");
    SENT("Fun \xF0\x9F\x98\x80. Next.", "Fun \xF0\x9F\x98\x80.|Next.");
    /* 我很好。你呢？好！ */
    SENT("\xE6\x88\x91\xE5\xBE\x88\xE5\xA5\xBD\xE3\x80\x82\xE4\xBD\xA0\xE5\x91\xA2\xEF\xBC\x9F"
         "\xE5\xA5\xBD\xEF\xBC\x81",
         "\xE6\x88\x91\xE5\xBE\x88\xE5\xA5\xBD\xE3\x80\x82|\xE4\xBD\xA0\xE5\x91\xA2\xEF\xBC\x9F|"
         "\xE5\xA5\xBD\xEF\xBC\x81");
    /* 「好。」 keeps its closing bracket */
    SENT("\xE3\x80\x8C\xE5\xA5\xBD\xE3\x80\x82\xE3\x80\x8D ok",
         "\xE3\x80\x8C\xE5\xA5\xBD\xE3\x80\x82\xE3\x80\x8D|ok");
    SENT("Non\xC2\xA0" "breaking.\xC2\xA0" "Space.", "Non\xC2\xA0" "breaking.|Space.");
}

static void subsentences(void **state)
{
    (void)state;
    SUB("The band formed in 1999, and it released five albums before splitting up.",
        "The band formed in 1999,|and it released five albums before splitting up.");
    /* a piece of fewer than five words stays joined */
    SUB("Yes, the band formed in 1999 and it split.",
        "Yes, the band formed in 1999 and it split.");
    SUB("It was formed in the year 1999; it then split up in 2005, sadly.",
        "It was formed in the year 1999;|it then split up in 2005, sadly.");
    SUB("One two three four five, six seven eight nine ten. Short, one.",
        "One two three four five,|six seven eight nine ten.|Short, one.");
    SUB("No cut at 3,000 people in the small town here, ok.",
        "No cut at 3,000 people in the small town here, ok.");
}

static void words(void **state)
{
    (void)state;
    assert_int_equal(text_word_count("", 0), 0);
    assert_int_equal(text_word_count("  a  b\tc\n", 9), 3);
    assert_int_equal(text_word_count("a\xE3\x80\x80" "b", 5), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plain_sentences),  cmocka_unit_test(abbreviations_and_numbers),
        cmocka_unit_test(quotes_and_ellipses), cmocka_unit_test(emoji_and_cjk),
        cmocka_unit_test(subsentences),     cmocka_unit_test(words),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
