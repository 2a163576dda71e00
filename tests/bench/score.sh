#!/usr/bin/env bash
# alarm-score throughput per scorer kind: records/s on SCORE_BENCH_RECORDS
# (default 1000) records whose responses are about 100 tokens (four of
# alarm-synth's demonstrations joined), one kind per run, in this one run.
# Model kinds use an untrained model of the "small" shape (6 layers, d=256,
# 8 heads; a byte-level BPE of 1024 tokens trained on the records), built
# here; cmd: a shell coprocess answering each line; http: and languagetool:
# tests/servers/score_server.py on 127.0.0.1 (its answers cost little, so the
# figure is alarm-score's side: requests, JSON, cache off).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
export PATH="$PWD/$BUILD/bin:$PATH"
N=${SCORE_BENCH_RECORDS:-1000}
THREADS=${THREADS:-2}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/alarm-bench-score.XXXXXX")
server=
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$tmp"' EXIT

alarm-synth demos -q -n $((4 * N)) | jq -c -s --argjson n "$N" '
    [range(0; $n) as $i | .[4 * $i] + {id: "r\($i)", prompt_id: "p\($i)",
      response: ([.[4 * $i: 4 * $i + 4][].response] | join(""))}] | .[]' > "$tmp/in.jsonl"
alarm-model train-tokenizer -q --vocab-size 1024 --out "$tmp/tok.json" "$tmp/in.jsonl"
tokens=$(jq -c '{text: .response}' "$tmp/in.jsonl" | alarm-model tokenize --tokenizer "$tmp/tok.json" |
    jq -s 'map(.ids | length) | add / length | round')
cat > "$tmp/cfg.json" <<'CFG'
{"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "vocab_size": 1024, "n_positions": 512,
 "n_embd": 256, "n_layer": 6, "n_head": 8, "activation_function": "gelu_new",
 "layer_norm_epsilon": 1e-05, "tie_word_embeddings": true, "bos_token_id": 0, "eos_token_id": 0}
CFG
head -8 "$tmp/in.jsonl" | jq -c '{prompt, chosen: .response, rejected: .response}' > "$tmp/pairs.jsonl"
head -8 "$tmp/in.jsonl" | jq -c '{prompt, response, spans: [{start: 1, end: (.response | utf8bytelength), label: "good"}]}' \
    > "$tmp/spans.jsonl"
opt=(--init "$tmp/cfg.json" --tokenizer "$tmp/tok.json" --steps 1 --batch 8 --max-len 512 -q)
alarm-rm --kind seq "${opt[@]}" --out "$tmp/rm" "$tmp/pairs.jsonl"
alarm-rm --kind spans "${opt[@]}" --out "$tmp/spans" "$tmp/spans.jsonl"

: > "$tmp/port"
/usr/bin/python3 tests/servers/score_server.py --max-seconds 3600 > "$tmp/port" 3>&- &
server=$!
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.05; done
url="http://127.0.0.1:$(cat "$tmp/port")"

echo "== alarm-score: $N records, responses of $tokens tokens on average, $THREADS threads," \
     "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}"
printf '%-14s %10s %12s\n' kind seconds records/s
for spec in length,unit=words repetition readability overlap language "rm:$tmp/rm,template={prompt}{response}" \
            "spans:$tmp/spans" 'cmd:while read -r l; do echo "{\"value\": 1}"; done' \
            "http:$url/score" "languagetool:$url"; do
    t0=$(date +%s.%N)
    alarm-score -q --threads "$THREADS" --concurrency 8 --scorer "a=$spec" "$tmp/in.jsonl" > /dev/null
    t1=$(date +%s.%N)
    awk -v k="${spec%%[:,]*}" -v a="$t0" -v b="$t1" -v n="$N" \
        'BEGIN { printf "%-14s %10.2f %12.0f\n", k, b - a, n / (b - a) }'
done
echo "reproduce: THREADS=$THREADS SCORE_BENCH_RECORDS=$N tests/bench/score.sh"
