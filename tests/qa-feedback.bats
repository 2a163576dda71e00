#!/usr/bin/env bats
# Real data: the 500 long-form QA prompts of QA-Feedback (third-party data,
# read from ../shared beside the checkout and never copied into the
# repository). Skips with a message when the file is absent.

setup() {
    ROOT="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
    DEV="$ROOT/../shared/data/qa-feedback/dev.json"
    [ -f "$DEV" ] || skip "QA-Feedback data not found at $DEV"
    TOK="$ROOT/tests/fixtures/tokenizer"
    TMP="$BATS_TEST_TMPDIR"
    jq -c 'to_entries[] | {id: ("qa-\(.key)"), text: .value.text}' "$DEV" > "$TMP/texts.jsonl"
}

# Every record: as many offsets as ids, offsets non-decreasing, covering the
# text's bytes from 0 to its end. Prints the ids of records that break it.
offsets_broken() {
    jq -r 'select((.ids | length) != (.offsets | length)
                  or .offsets[0][0] != 0
                  or .offsets[-1][1] != (.text | utf8bytelength)
                  or ([.offsets[] | .[0] <= .[1]] | all | not)
                  or ([range(1; .offsets | length) as $i
                       | .offsets[$i][0] == .offsets[$i - 1][1]] | all | not))
           | .id' "$1"
}

@test "QA-Feedback prompts tokenize with GPT-2 and Qwen3 vocabularies, offsets covering every byte" {
    mkdir -p "$TMP/qwen3"   # committed gzipped: unpack beside its config
    gzip -dc "$TOK/qwen3/tokenizer.json.gz" > "$TMP/qwen3/tokenizer.json"
    cp "$TOK/qwen3/tokenizer_config.json" "$TMP/qwen3/"
    for t in "$TOK/gpt2" "$TMP/qwen3"; do
        run alarm-model tokenize --tokenizer "$t" "$TMP/texts.jsonl"
        [ "$status" -eq 0 ] || { echo "$t: $output" | head -5; return 1; }
        echo "$output" > "$TMP/out.jsonl"
        [ "$(wc -l < "$TMP/out.jsonl")" -eq 500 ]
        broken=$(offsets_broken "$TMP/out.jsonl")
        [ -z "$broken" ] || { echo "$t: $broken" | head; return 1; }
    done
}

@test "a tokenizer trained on QA-Feedback prompts encodes them losslessly" {
    run alarm-model train-tokenizer --vocab-size 1000 --out "$TMP/trained.json" "$TMP/texts.jsonl"
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    run alarm-model tokenize --tokenizer "$TMP/trained.json" "$TMP/texts.jsonl"
    [ "$status" -eq 0 ]
    echo "$output" > "$TMP/trained.jsonl"
    [ -z "$(offsets_broken "$TMP/trained.jsonl")" ]
    # A vocabulary learnt on this text is denser on it than raw bytes are.
    tokens=$(jq '.ids | length' "$TMP/trained.jsonl" | awk '{ s += $1 } END { print s }')
    bytes=$(jq '.text | utf8bytelength' "$TMP/trained.jsonl" | awk '{ s += $1 } END { print s }')
    [ "$tokens" -lt $((bytes / 2)) ]
}
