#!/usr/bin/python3
"""A scripted scoring server for alarm-score's remote kinds, built on
chat_server.py (its HTTP/1.1 loop, port, --log of one JSON line per request,
--delay-ms, --slow-ms, --max-seconds). Two protocols:

POST /score: a record as JSON; answers {"value": words, "raw": bytes,
  "spans": [{"end": bytes, "value": 1}]}: the response's words (runs of
  characters that are not white space, as alarm-score's unit=words), its
  length in UTF-8 bytes, and one span at its last byte (none when empty).
POST /v2/check: LanguageTool's form (text, language); answers LanguageTool's
  JSON, {"software", "language", "matches": [{"message", "shortMessage",
  "replacements", "offset", "length", "context", "sentence", "type", "rule"}]}
  with offset and length in UTF-16 code units, as LanguageTool's are, from
  two rules: ENGLISH_WORD_REPEAT_RULE (a word said twice, "is is": the second
  one) and UPPERCASE_SENTENCE_START (a sentence starting with a lowercase
  letter, at the start or after . ! ? and a space: that word). A language
  other than en-US, en-GB or de-DE answers 400 as LanguageTool does.

--key K answers 401 unless a request carries "Authorization: Bearer K", with
a body that repeats the key it was given (as a careless server might).

Markers in the response text (in either protocol) inject faults:
  FAIL500     always 500
  FLAKY429    first time this exact body is seen: 429 with Retry-After: 1
  FLAKY500    first time this exact body is seen: 503
  SLOWONCE    first time this exact body is seen: answer after --slow-ms
  MALFORMED   200 with a body that is not JSON
  NOVALUE     200 with {"raw": 1} (/score only)
  NOTLT       200 with {"value": 1}: JSON, but not LanguageTool's"""
import argparse
import json
import os
import re
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chat_server  # noqa: E402

LANGUAGES = {"en-US": "English (US)", "en-GB": "English (GB)", "de-DE": "German (Germany)"}
WORD_RE = re.compile(r"\w+")
START_RE = re.compile(r"(?:^|[.!?] +)([a-z]\w*)")


def u16(text, i):
    """The UTF-16 index of code point index i of text."""
    return len(text[:i].encode("utf-16-le")) // 2


def match(text, start, end, message, short, rule_id, description, issue, category):
    off, length = u16(text, start), u16(text, end) - u16(text, start)
    return {"message": message, "shortMessage": short,
            "replacements": [{"value": text[start:end].capitalize()}],
            "offset": off, "length": length,
            "context": {"text": text[max(0, start - 20):end + 20], "offset": min(start, 20),
                        "length": length},
            "sentence": text, "type": {"typeName": "Other"},
            "rule": {"id": rule_id, "description": description, "issueType": issue,
                     "category": {"id": category, "name": category.title()}},
            "ignoreForIncompleteSentence": False, "contextForSureMatch": 0}


def check(text):
    """LanguageTool-style matches of the two rules, in text order."""
    found = []
    words = list(WORD_RE.finditer(text))
    for a, b in zip(words, words[1:]):
        between = text[a.end():b.start()]
        if a.group().lower() == b.group().lower() and between.strip() == "":
            found.append(match(text, b.start(), b.end(), "Possible typo: you repeated a word",
                               "Word repetition", "ENGLISH_WORD_REPEAT_RULE",
                               "Possible typo: you repeated a word", "duplication", "MISC"))
    for m in START_RE.finditer(text):
        found.append(match(text, m.start(1), m.end(1),
                           "This sentence does not start with an uppercase letter.", "",
                           "UPPERCASE_SENTENCE_START",
                           "Checks that a sentence starts with an uppercase letter",
                           "typographical", "CASING"))
    return sorted(found, key=lambda x: x["offset"])


class State(chat_server.State):
    def faults(self, text, body):
        """(status, extra headers, body, delay) of a fault marker, or None."""
        if "FAIL500" in text:
            return 500, {}, b'{"error": "scripted failure"}', 0
        if "FLAKY429" in text and self.first_time("429", body):
            return 429, {"Retry-After": "1"}, b'{"error": "slow down"}', 0
        if "FLAKY500" in text and self.first_time("500", body):
            return 503, {}, b'{"error": "overloaded"}', 0
        if "MALFORMED" in text:
            return 200, {}, b'{"value": this is not json', 0
        if "NOTLT" in text:
            return 200, {}, b'{"value": 1}', 0
        return None

    def delay(self, text, body):
        slow = "SLOWONCE" in text and self.first_time("slow", body)
        return (self.args.slow_ms if slow else self.args.delay_ms) / 1000.0

    def answer(self, method, path, headers, body):
        path = path.split("?")[0]
        if self.args.key is not None and headers.get("authorization") != "Bearer " + self.args.key:
            given = headers.get("authorization", "")[len("Bearer "):]
            return 401, {}, json.dumps({"error": "Incorrect API key provided: %s." % given}).encode(), \
                0, {"path": path, "auth": False}
        if method == "POST" and path == "/score":
            return self.score(body)
        if method == "POST" and path == "/v2/check":
            return self.check(headers, body)
        return 404, {}, b'{"error": "not found"}', 0, {"path": path}

    def score(self, body):
        try:
            text = json.loads(body)["response"]
        except (ValueError, KeyError, TypeError):
            return 400, {}, b'{"error": "expected a record with a response"}', 0, {}
        info = {"response": text}
        delay = self.delay(text, body)
        f = self.faults(text, body)
        if f:
            return f[0], f[1], f[2], delay, info
        if "NOVALUE" in text:
            return 200, {}, b'{"raw": 1}', delay, info
        n = len(text.encode("utf-8"))
        out = {"value": len(text.split()), "raw": n,
               "spans": [{"end": n, "value": 1}] if n else []}
        return 200, {}, json.dumps(out).encode(), delay, info

    def check(self, headers, body):
        if not headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            return 400, {}, b"Error: expected a form", 0, {}
        form = urllib.parse.parse_qs(body.decode("utf-8"), keep_blank_values=True)
        text, lang = form.get("text", [None])[0], form.get("language", [None])[0]
        info = {"response": text, "language": lang}
        if text is None or lang is None:
            return 400, {}, b"Error: Missing 'text' or 'language' parameter", 0, info
        if lang not in LANGUAGES:
            return 400, {}, ("Error: '%s' is not a language code known to LanguageTool."
                             % lang).encode(), 0, info
        delay = self.delay(text, body)
        f = self.faults(text, body)
        if f:
            return f[0], f[1], f[2], delay, info
        out = {"software": {"name": "LanguageTool", "version": "6.4", "apiVersion": 1},
               "language": {"name": LANGUAGES[lang], "code": lang},
               "matches": check(text)}
        return 200, {}, json.dumps(out).encode(), delay, info


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    chat_server.common_options(p)
    p.add_argument("--key")
    chat_server.run(p.parse_args(), State)


if __name__ == "__main__":
    main()
