#!/usr/bin/env python3
"""Writes tests/fixtures/readability/expected.jsonl: for each text of
corpus.txt (texts separated by lines "%%"), textstat's lexicon_count,
sentence_count, syllable_count and flesch_kincaid_grade, which
tests/test_text_stat.c compares with common/text_stat.c.

The reference is textstat 0.7.3 (the last release counting syllables with
pyphen alone; later ones look words up in CMUdict first) with pyphen's en_US
dictionary (Debian: python3-pyphen, which reads /usr/share/hyphen/hyph_en_US.dic).
When textstat 0.7.3 is importable it is used; otherwise (Debian ships no
python3-textstat) the four functions below, a literal transcription of
textstat 0.7.3's textstat.py with its default settings (rm_apostrophe
True, rounding on, lang en_US), compute the values, and every record says
which in "source".

    python3 tests/gen_readability.py   # from the top of the source tree
"""
import json
import math
import os
import re

import pyphen

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "readability")
DIC = pyphen.Pyphen(lang="en_US")


def legacy_round(number, points=0):
    p = 10 ** points
    return float(math.floor((number * p) + math.copysign(0.5, number))) / p


def remove_punctuation(text):
    return re.sub(r"[^\w\s]", "", text)


def lexicon_count(text):
    return len(remove_punctuation(text).split())


def syllable_count(text):
    text = remove_punctuation(text.lower())
    if not text:
        return 0
    return sum(len(DIC.positions(word)) + 1 for word in text.split())


def sentence_count(text):
    ignore_count = 0
    sentences = re.findall(r"\b[^.!?]+[.!?]*", text, re.UNICODE)
    for sentence in sentences:
        if lexicon_count(sentence) <= 2:
            ignore_count += 1
    return max(1, len(sentences) - ignore_count)


def flesch_kincaid_grade(text):
    asl = legacy_round(float(lexicon_count(text) / sentence_count(text)), 1)
    try:
        spw = legacy_round(float(syllable_count(text)) / float(lexicon_count(text)), 1)
    except ZeroDivisionError:
        spw = 0.0
    return legacy_round(float(0.39 * asl) + float(11.8 * spw) - 15.59, 1)


def reference():
    try:
        import textstat
        if getattr(textstat, "__version__", "") == "0.7.3":
            ts = textstat.textstat
            return ("textstat 0.7.3", ts.lexicon_count, ts.sentence_count, ts.syllable_count,
                    ts.flesch_kincaid_grade)
    except ImportError:
        pass
    return ("transcription of textstat 0.7.3, pyphen " + pyphen.__version__, lexicon_count,
            sentence_count, syllable_count, flesch_kincaid_grade)


def main():
    with open(os.path.join(HERE, "corpus.txt"), encoding="utf-8") as f:
        texts = [t.strip("\n") for t in f.read().split("\n%%\n")]
    source, words, sentences, syllables, grade = reference()
    with open(os.path.join(HERE, "expected.jsonl"), "w", encoding="utf-8") as out:
        for t in texts:
            rec = {"text": t, "words": words(t), "sentences": sentences(t),
                   "syllables": syllables(t), "grade": grade(t), "source": source}
            out.write(json.dumps(rec, ensure_ascii=False) + "\n")
    print(f"{len(texts)} texts, {source}")


if __name__ == "__main__":
    main()
