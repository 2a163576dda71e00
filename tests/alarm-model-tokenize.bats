#!/usr/bin/env bats
# alarm-model tokenize and train-tokenizer: output against the tokenizers.js
# fixtures, byte-exact pass-through of other fields, and located errors.

setup() {
    ROOT="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
    FIX="$ROOT/tests/fixtures/tokenizer"
    TMP="$(mktemp -d)"
}

teardown() {
    rm -rf "$TMP"
}

@test "tokenize matches the tokenizers.js ids and offsets on GPT-2" {
    head -n 120 "$FIX/parity-gpt2.jsonl" >"$TMP/want.jsonl"
    jq -c '{text}' "$TMP/want.jsonl" >"$TMP/in.jsonl"
    run alarm-model tokenize --tokenizer "$FIX/gpt2" "$TMP/in.jsonl"
    [ "$status" -eq 0 ]
    [ "${#lines[@]}" -eq 120 ]
    echo "$output" | jq -c '{text, ids, offsets}' >"$TMP/got.jsonl"
    diff "$TMP/want.jsonl" "$TMP/got.jsonl"
}

@test "tokenize keeps other fields byte for byte and reads stdin and files" {
    printf '{"id": 1.50, "text": "Hello world", "x": [1e3]}\n\n{}\n' >"$TMP/a.jsonl"
    printf '{"text":"Hi"}\n' >"$TMP/b.jsonl"
    run alarm-model tokenize --tokenizer "$FIX/gpt2/tokenizer.json" --field text "$TMP/a.jsonl" - <"$TMP/b.jsonl"
    echo "$output" >"$TMP/out"
    [ "$status" -eq 1 ] # {} has no text
    grep -q '^{"id": 1.50, "text": "Hello world", "x": \[1e3\],"ids":\[15496,995\],"offsets":\[\[0,5\],\[5,11\]\]}$' "$TMP/out"
    grep -q 'alarm-model: .*a.jsonl:3: field "text": missing' "$TMP/out"
    printf '{"text":"Hi"}\n' | alarm-model tokenize --tokenizer "$FIX/gpt2" - >"$TMP/stdin.out"
    [ "$(cat "$TMP/stdin.out")" = '{"text":"Hi","ids":[17250],"offsets":[[0,2]]}' ]
}

@test "tokenize replaces ids and offsets a record already has" {
    run alarm-model tokenize --tokenizer "$FIX/gpt2" <<<'{"text":"Hi","ids":[1,2,3]}'
    [ "$status" -eq 0 ]
    [ "$output" = '{"text":"Hi","ids":[17250],"offsets":[[0,2]]}' ]
}

@test "--add-special applies the post-processor template" {
    # As Llama 3 writes it: ByteLevel, then a template with the BOS token.
    jq '.post_processor = {type: "Sequence", processors: [{type: "ByteLevel"}, {type: "TemplateProcessing",
          single: [{SpecialToken: {id: "<|endoftext|>", type_id: 0}}, {Sequence: {id: "A", type_id: 0}}],
          special_tokens: {"<|endoftext|>": {id: "<|endoftext|>", ids: [0], tokens: ["<|endoftext|>"]}}}]}' \
        "$FIX/trained/tokenizer.json" >"$TMP/bos.json"
    run alarm-model tokenize --tokenizer "$TMP/bos.json" --add-special <<<'{"text":"ab"}'
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jq -c '.ids[0], .offsets[0]')" = $'0\n[0,0]' ]
    run alarm-model tokenize --tokenizer "$TMP/bos.json" <<<'{"text":"ab"}'
    [ "$(echo "$output" | jq -c '.ids[0]')" != 0 ]
}

@test "tokenize errors name the file and line, or the tokenizer" {
    printf '{"text":"ok"}\n{"text": 5}\n' >"$TMP/bad.jsonl"
    run alarm-model tokenize --tokenizer "$FIX/gpt2" "$TMP/bad.jsonl"
    [ "$status" -eq 1 ]
    [[ "$output" == *'bad.jsonl:2: field "text": expected a string'* ]]
    printf '{"text": "a"\n' >"$TMP/trunc.jsonl"
    run alarm-model tokenize --tokenizer "$FIX/gpt2" "$TMP/trunc.jsonl"
    [ "$status" -eq 1 ]
    [[ "$output" == *'trunc.jsonl:1: malformed JSON'* ]]
    printf '{"text": "a\xffb"}\n' >"$TMP/utf.jsonl"
    run alarm-model tokenize --tokenizer "$FIX/gpt2" "$TMP/utf.jsonl"
    [ "$status" -eq 1 ]
    [[ "$output" == *'utf.jsonl:1: invalid UTF-8 at byte 11'* ]] # the reader refuses the line first
    printf '{"text": "a\\u0000b"}\n' >"$TMP/nul.jsonl"
    run alarm-model tokenize --tokenizer "$FIX/gpt2" "$TMP/nul.jsonl"
    [ "$status" -eq 1 ]
    [[ "$output" == *'nul.jsonl:1: U+0000 in a string is not supported'* ]]
    run alarm-model tokenize --tokenizer "$FIX/gpt2" <<<'{"text": "a\\u0000b"}'
    [ "$status" -eq 0 ] # an escaped backslash, then "u0000": no NUL
    head -c 5000 "$FIX/gpt2/tokenizer.json" >"$TMP/cut.json"
    run alarm-model tokenize --tokenizer "$TMP/cut.json" <<<'{"text":"a"}'
    [ "$status" -eq 1 ]
    [[ "$output" == *"cut.json: malformed JSON"* ]]
    run alarm-model tokenize --tokenizer "$TMP/missing-dir" <<<'{"text":"a"}'
    [ "$status" -eq 1 ]
    [[ "$output" == *"missing-dir"* ]]
}

@test "tokenize refuses a lone surrogate and a key given twice, naming line and byte" {
    printf '{"text": "ok"}\n{"text": "a\\ud800"}\n' >"$TMP/sur.jsonl"
    run alarm-model tokenize --tokenizer "$FIX/gpt2" "$TMP/sur.jsonl"
    [ "$status" -eq 1 ]
    [[ "$output" == *'sur.jsonl:2: lone surrogate \ud800 at byte 11'* ]]
    printf '{"text": "a", "text": "b"}\n' >"$TMP/dup.jsonl"
    run alarm-model tokenize --tokenizer "$FIX/gpt2" "$TMP/dup.jsonl"
    [ "$status" -eq 1 ]
    [[ "$output" == *'dup.jsonl:1: duplicate key "text" at byte 14'* ]]
}

@test "tokenize usage errors exit 2" {
    run alarm-model tokenize
    [ "$status" -eq 2 ]
    [[ "$output" == *"--tokenizer is required"* ]]
    run alarm-model tokenize --tokenizer x --bogus
    [ "$status" -eq 2 ]
    run alarm-model tokenize --help
    [ "$status" -eq 0 ]
    [[ "$output" == usage:* ]]
}

@test "train-tokenizer writes a tokenizer that tokenize loads" {
    jq -c '{prompt: .text, response: "and \(.text)"}' "$FIX/corpus.jsonl" >"$TMP/pr.jsonl"
    mkdir "$TMP/tok"
    run alarm-model train-tokenizer --quiet --vocab-size 400 --min-frequency 1 --out "$TMP/tok" "$TMP/pr.jsonl"
    [ "$status" -eq 0 ]
    [ -z "$output" ]
    [ "$(jq -r '.model.type, (.model.vocab | length), .added_tokens[0].content' "$TMP/tok/tokenizer.json")" = \
      $'BPE\n399\n<|endoftext|>' ]
    [ "$(jq -r .eos_token "$TMP/tok/tokenizer_config.json")" = '<|endoftext|>' ]
    run alarm-model tokenize --tokenizer "$TMP/tok" <<<'{"text":"and 123 <|endoftext|>"}'
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jq -c '.ids[-1], .offsets[-1]')" = $'0\n[8,21]' ]
    ls "$TMP/tok" | grep -v -q tmp
}

@test "train-tokenizer rejects bad input with located errors" {
    run alarm-model train-tokenizer --vocab-size 100 --out "$TMP/x.json" </dev/null
    [ "$status" -eq 2 ]
    [[ "$output" == *"--vocab-size"* ]]
    printf '{"text":"a"}\n{"other":1}\n' >"$TMP/c.jsonl"
    run alarm-model train-tokenizer --vocab-size 300 --out "$TMP/x.json" "$TMP/c.jsonl"
    [ "$status" -eq 1 ]
    [[ "$output" == *'c.jsonl:2: no "text", "prompt" or "response" field'* ]]
    [ ! -e "$TMP/x.json" ]
    run alarm-model train-tokenizer --vocab-size 300 --out "$TMP/nodir/x.json" "$TMP/c.jsonl"
    [ "$status" -eq 1 ]
}

@test "train-tokenizer refuses empty input, and names the file and line of bad UTF-8" {
    run alarm-model train-tokenizer --vocab-size 300 --out "$TMP/x.json" </dev/null
    [ "$status" -eq 1 ]
    [[ "$output" == *"<stdin>: no texts to train on (0 records)"* ]]
    [ ! -e "$TMP/x.json" ]
    : >"$TMP/empty.jsonl"
    run alarm-model train-tokenizer --vocab-size 300 --out "$TMP/x.json" "$TMP/empty.jsonl"
    [ "$status" -eq 1 ]
    [[ "$output" == *"empty.jsonl: no texts to train on"* ]]
    printf '{"text":"ok"}\n{"text":"ab\xff"}\n' >"$TMP/bad.jsonl"
    run alarm-model train-tokenizer --vocab-size 300 --out "$TMP/x.json" "$TMP/bad.jsonl"
    [ "$status" -eq 1 ]
    [[ "$output" == *"bad.jsonl:2: "*"invalid UTF-8 at byte"* ]]
    [ ! -e "$TMP/x.json" ]
}
