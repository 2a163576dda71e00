#!/usr/bin/env bats
# alarm-score's learned kinds, rm: and spans:, on the models alarm-rm(1)'s
# example trains in seconds (pipelines/copy-rm.awk): rm:'s raw scores give
# back alarm-rm's own numbers (rm.json's statistics, the validation loss and
# accuracy of the same checkpoint), it ranks held-out pairs, value is the
# z-score; spans: puts a span at each sentence's last byte and judges as
# alarm-rm's evaluation does; batches, templates, the store, and every bad
# checkpoint, option and record.

setup_file() {
    ROOT="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
    PATH="${ALARM_TEST_BUILD:-$ROOT/build}/bin:$PATH"
    W="$BATS_FILE_TMPDIR"
    awk -v n=200 -v seed=1 -f "$ROOT/pipelines/copy-task.awk" >"$W/demo.jsonl"
    alarm-model train-tokenizer -q --vocab-size 257 --out "$W/tok.json" "$W/demo.jsonl"
    for k in seq spans; do
        awk -v kind=$k -v n=600 -v seed=1 -f "$ROOT/pipelines/copy-rm.awk" >"$W/$k.jsonl"
        awk -v kind=$k -v n=200 -v seed=2 -f "$ROOT/pipelines/copy-rm.awk" >"$W/$k-val.jsonl"
        alarm-rm --kind $k --init "$ROOT/data/copy-gpt2.json" --tokenizer "$W/tok.json" \
            --out "$W/$k" --epochs 2 --lr 3e-3 --schedule cosine --warmup 10 --batch 16 \
            --max-len 32 -q "$W/$k.jsonl"
    done
}

setup() {
    ROOT="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
    PATH="${ALARM_TEST_BUILD:-$ROOT/build}/bin:$PATH"
    W="$BATS_FILE_TMPDIR"
    T="$BATS_TEST_TMPDIR"
    unset ALARM_DB
}

# preference records -> scored records: chosen then rejected of each pair
sides() { jq -c '{id: (.id + "c"), prompt, response: .chosen}, {id: (.id + "r"), prompt, response: .rejected}' "$1"; }
RAW='{prompt}{response}'

# |a - b| <= tol
close() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= t) }'; }

@test "rm: raw is alarm-rm's score: rm.json's mean and std of the training responses, its validation loss and accuracy" {
    sides "$W/seq.jsonl" >"$T/train.jsonl"
    alarm-score --scorer "h=rm:$W/seq,template=$RAW" "$T/train.jsonl" >"$T/out"
    [ "$(wc -l <"$T/out")" -eq 1200 ]
    read -r mean std <<<"$(jq .rewards.h.raw "$T/out" | awk '{ s += $1; q[NR] = $1 }
        END { m = s / NR; for (i = 1; i <= NR; i++) v += (q[i] - m) ^ 2; printf "%.9g %.9g\n", m, sqrt(v / NR) }')"
    echo "alarm-score: $mean $std; rm.json: $(jq -c .score "$W/seq/rm.json")"
    close "$mean" "$(jq .score.mean "$W/seq/rm.json")" 1e-5
    close "$std" "$(jq .score.std "$W/seq/rm.json")" 1e-5
    # alarm-rm's evaluation of the same weights (before a step of lr 0), trained and untrained
    alarm-rm --kind seq --model "$W/seq" --out "$T/again" --val "$W/seq-val.jsonl" --steps 1 \
        --lr 0 -q --db "$T/rm.db" "$W/seq-val.jsonl"
    alarm-rm --kind seq --init "$ROOT/data/copy-gpt2.json" --tokenizer "$W/tok.json" --out "$T/new" \
        --val "$W/seq-val.jsonl" --steps 1 --lr 0 -q --db "$T/rm.db" "$W/seq-val.jsonl"
    for r in 1 2; do
        read -r loss acc <<<"$(sqlite3 -separator ' ' "$T/rm.db" "SELECT val_loss, val_accuracy
            FROM train_evals WHERE step = 0 AND run_id = $r")"
        dir=$([ $r = 1 ] && echo "$W/seq" || echo "$T/new")
        sides "$W/seq-val.jsonl" | alarm-score --scorer "h=rm:$dir,template=$RAW" >"$T/val"
        read -r l a <<<"$(jq .rewards.h.raw "$T/val" | paste - - | awk '{ d = $1 - $2;
            s += (d > 0 ? 0 : -d) + log(1 + exp(-(d > 0 ? d : -d))); c += d > 0 }
            END { printf "%.9g %.9g\n", s / NR, c / NR }')"
        echo "alarm-rm: loss $loss accuracy $acc; alarm-score: $l $a"
        close "$l" "$loss" "$(awk -v x="$loss" 'BEGIN { print x * 1e-5 }')"
        close "$a" "$acc" 0
    done
    # the untrained model is about chance: the comparison is not of two 1s
    awk -v a="$a" 'BEGIN { exit !(a > 0.3 && a < 0.8) }'
}

@test "rm: ranks held-out chosen above rejected; value is the z-score by rm.json, else raw, or --normalize's" {
    sides "$W/seq-val.jsonl" | alarm-score --scorer "h=rm:$W/seq,template=$RAW" >"$T/out"
    acc=$(jq .rewards.h.raw "$T/out" | paste - - | awk '{ c += $1 > $2 } END { print c / NR }')
    echo "held-out pairs ranked right: $acc"
    awk -v a="$acc" 'BEGIN { exit !(a >= 0.9) }'
    m=$(jq .score.mean "$W/seq/rm.json"); s=$(jq .score.std "$W/seq/rm.json")
    jq -e --argjson m "$m" --argjson s "$s" '.rewards.h | ((.raw - $m) / $s - .value) | fabs < 1e-9' \
        "$T/out" | sort -u | grep -qx true
    # no rm.json: value = raw
    mkdir "$T/bare" && cp "$W/seq/config.json" "$W/seq/model.safetensors" "$W/seq/tokenizer.json" "$T/bare"
    head -n 20 "$T/out" | alarm-score --scorer "h=rm:$T/bare,template=$RAW" |
        jq -e '.rewards.h.value == .rewards.h.raw' | sort -u | grep -qx true
    # --normalize replaces rm.json's statistics
    head -n 20 "$T/out" | alarm-score --scorer "h=rm:$W/seq,template=$RAW" --normalize h=1,2 |
        jq -e '.rewards.h | (.value - (.raw - 1) / 2) | fabs < 1e-12' | sort -u | grep -qx true
}

# Multi-sentence responses (a span per sentence) and one-sentence ones from
# the training distribution.
span_records() {
    printf '%s\n' \
        '{"id": "a", "prompt": "copy abcd:", "response": "Ab. Cd! Ej"}' \
        '{"id": "b", "prompt": "copy abcd:", "response": " abcd"}' \
        '{"id": "c", "prompt": "copy abcd:", "response": " abcj"}' \
        '{"id": "d", "prompt": "copy gaa:", "response": "Ga. Ai? Gak. A"}' \
        '{"id": "e", "prompt": "copy hh:", "response": ""}' \
        '{"id": "f", "prompt": "copy fed:", "response": "Fe. Dm. Fed"}'
    head -n 40 "$W/spans-val.jsonl" | jq -c '{id, prompt, response}'
}

@test "spans: a span at each sentence's last byte, value = the share judged good, the judgements of alarm-rm's evaluation" {
    span_records >"$T/in.jsonl"
    alarm-score --scorer "f=spans:$W/spans" "$T/in.jsonl" >"$T/out"
    [ "$(wc -l <"$T/out")" -eq 46 ]
    # the byte after each sentence: "Ab. Cd! Ej" -> 3, 7, 10
    [ "$(sed -n 1p "$T/out" | jq -c '[.rewards.f.spans[].end]')" = "[3,7,10]" ]
    [ "$(sed -n 4p "$T/out" | jq -c '[.rewards.f.spans[].end]')" = "[3,7,12,14]" ]
    [ "$(sed -n 2p "$T/out" | jq -c '[.rewards.f.spans[].end]')" = "[5]" ]
    sed -n 5p "$T/out" | jq -e '.rewards.f == {"value": 0, "raw": 0, "spans": []}'
    # values are good= / bad=, value the share of good ones
    jq -e '.rewards.f | (.spans | map(.value) - [0.5, -0.5]) == [] and
        (.spans | length) as $n | ($n == 0 or .value == ((.spans | map(select(.value == 0.5)) | length) / $n))' \
        "$T/out" | sort -u | grep -qx true
    # the model learnt the training letters: a good copy is good, a letter of i-p at the end bad
    [ "$(sed -n 2p "$T/out" | jq .rewards.f.value)" = 1 ]
    [ "$(sed -n 3p "$T/out" | jq .rewards.f.value)" = 0 ]
    # the same spans, all labelled good, through alarm-rm's evaluation: its accuracy on good
    # is the share the model calls good, which alarm-score must give span for span
    jq -c 'select(.response != "") | {id, prompt, response, spans: ([0] + [.rewards.f.spans[].end] |
        [range(1; length) as $i | {start: .[$i - 1], end: .[$i], label: "good"}])}' "$T/out" >"$T/lab.jsonl"
    alarm-rm --kind spans --model "$W/spans" --out "$T/again" --val "$T/lab.jsonl" --steps 1 \
        --lr 0 -q --db "$T/rm.db" "$T/lab.jsonl"
    want=$(sqlite3 "$T/rm.db" 'SELECT val_metrics FROM train_evals WHERE step = 0' | jq .labels.good.accuracy)
    got=$(jq -s '[.[].rewards.f.spans[].value] | (map(select(. == 0.5)) | length) / length' "$T/out")
    echo "alarm-rm: $want; alarm-score: $got"
    close "$got" "$want" 1e-12
    awk -v g="$got" 'BEGIN { exit !(g > 0.2 && g < 1) }'
}

@test "spans: label=, good=, bad= and segment=" {
    span_records >"$T/in.jsonl"
    alarm-score --scorer "f=spans:$W/spans" --scorer "b=spans:$W/spans,label=bad,good=1,bad=0" \
        --scorer "s=spans:$W/spans,segment=subsentence" "$T/in.jsonl" >"$T/out"
    jq -e '.rewards | (.f.spans | length) as $n | ($n == 0 or
        ((.b.value - (1 - .f.value)) | fabs) < 1e-12) and
        ([.f.spans[] | if .value == 0.5 then 0 else 1 end] == [.b.spans[].value]) and .s == .f' \
        "$T/out" | sort -u | grep -qx true
    # sub-sentences: two pieces of five words; rm.json's segmentation is the default
    printf '%s\n' '{"prompt": "a:", "response": "a b c d e, f g h a b"}' >"$T/sub.jsonl"
    [ "$(alarm-score --scorer "f=spans:$W/spans" "$T/sub.jsonl" | jq -c '[.rewards.f.spans[].end]')" = "[20]" ]
    [ "$(alarm-score --scorer "f=spans:$W/spans,segment=subsentence" "$T/sub.jsonl" |
        jq -c '[.rewards.f.spans[].end]')" = "[10,20]" ]
    cp -r "$W/spans" "$T/sub"
    jq '.segment = "subsentence"' "$W/spans/rm.json" >"$T/sub/rm.json"
    [ "$(alarm-score --scorer "f=spans:$T/sub" "$T/sub.jsonl" | jq -c '[.rewards.f.spans[].end]')" = "[10,20]" ]
    [ "$(alarm-score --scorer "f=spans:$T/sub,segment=sentence" "$T/sub.jsonl" |
        jq -c '[.rewards.f.spans[].end]')" = "[20]" ]
}

@test "batches: --batch 1 and 7 give the same rewards, bit for bit with batch=1" {
    sides "$W/seq-val.jsonl" | head -n 50 >"$T/in.jsonl"
    span_records | jq -c 'select(.response != "")' >>"$T/in.jsonl"
    for b in 1 7; do
        alarm-score --batch $b --scorer "h=rm:$W/seq,template=$RAW,batch=1" \
            --scorer "f=spans:$W/spans,batch=1" "$T/in.jsonl" >"$T/one.$b"
        alarm-score --batch $b --threads 1 --scorer "h=rm:$W/seq,template=$RAW" \
            --scorer "f=spans:$W/spans" "$T/in.jsonl" >"$T/eight.$b"
    done
    cmp "$T/one.1" "$T/one.7"
    # 4 rows at a time (the default): the same labels, scores to float rounding (OpenBLAS)
    jq -c '.rewards.f' "$T/eight.1" >"$T/f1"
    jq -c '.rewards.f' "$T/one.1" >"$T/f2"
    jq -c '.rewards.f' "$T/eight.7" >"$T/f3"
    cmp "$T/f1" "$T/f2" && cmp "$T/f1" "$T/f3"
    paste <(jq '.rewards.h.raw // 0' "$T/one.1") <(jq '.rewards.h.raw // 0' "$T/eight.7") |
        awk '{ d = $1 - $2; if (d < 0) d = -d; if (d > 1e-5) bad++ } END { exit bad > 0 }'
}

@test "template: {prompt} and {response}, escapes, the text after {response}, ALaRM's default" {
    printf '%s\n' '{"prompt": "copy abcd:", "response": " abcd"}' >"$T/a"
    printf '%s\n' '{"prompt": "abcd", "response": " abcd"}' >"$T/b"
    printf '%s\n' '{"prompt": "copy abcd:\n,", "response": " abcd"}' >"$T/c"
    printf '%s\n' '{"prompt": "copy abcd:", "response": " abcd."}' >"$T/d"
    printf '%s\n' '{"prompt": "ab", "response": " ab"}' >"$T/e"
    printf '%s\n' '{"prompt": "Human: ab\nAssistant: ", "response": " ab"}' >"$T/f"
    s() { alarm-score --scorer "h=rm:$W/seq,$1" "$2" | jq .rewards.h.raw; }
    a=$(s "template=$RAW" "$T/a")
    [ "$(s 'template=copy {prompt}:{response}' "$T/b")" = "$a" ]
    [ "$a" != "$(s "template=$RAW" "$T/b")" ]
    # \n and \x2c (a comma, which a --scorer spec cannot hold) after the prompt
    [ "$(s 'template={prompt}\n\x2c{response}' "$T/a")" = "$(s "template=$RAW" "$T/c")" ]
    # what follows {response} is part of the response
    [ "$(s 'template={prompt}{response}.' "$T/a")" = "$(s "template=$RAW" "$T/d")" ]
    # the default: "Human: {prompt}\nAssistant: {response}", the space before {response} on the prompt's side
    e=$(s 'batch=1' "$T/e")
    [ "$e" = "$(s 'template=Human: {prompt}\nAssistant: {response}' "$T/e")" ]
    [ "$e" = "$(s "template=$RAW" "$T/f")" ]
    [ "$e" != "$(s "template=$RAW" "$T/e")" ]
    # a template without {prompt} needs no prompt
    printf '%s\n' '{"response": " abcd"}' | alarm-score --scorer "h=rm:$W/seq,template=copy abcd:{response}" |
        jq -e ".rewards.h.raw == $a"
}

@test "max-len and truncate=left: the prompt's first tokens dropped, as alarm-rm --truncate left" {
    printf '%s\n' '{"prompt": "copy abcdefghabcdefgh:", "response": " abcdefghabcdefgh"}' >"$T/long"
    printf '%s\n' '{"prompt": "cdefghabcdefgh:", "response": " abcdefghabcdefgh"}' >"$T/cut"
    run alarm-score --scorer "h=rm:$W/seq,template=$RAW" "$T/long"
    [ "$status" -eq 1 ]
    [[ "$output" == *"long:1: scorer h (rm) failed: 39 tokens of prompt and response exceed max-len 32"* ]]
    [ "$(alarm-score --scorer "h=rm:$W/seq,template=$RAW,truncate=left" "$T/long" | jq .rewards.h.raw)" = \
      "$(alarm-score --scorer "h=rm:$W/seq,template=$RAW" "$T/cut" | jq .rewards.h.raw)" ]
    # max-len=16 is too short for either
    run alarm-score --scorer "f=spans:$W/spans,max-len=16" "$T/cut"
    [ "$status" -eq 1 ]
    [[ "$output" == *"exceed max-len 16"* ]]
}

@test "the store: rewards rows with the spans, a scorers row per kind" {
    span_records | jq -c '.id |= "s-" + .' >"$T/in.jsonl"
    alarm-score --scorer "h=rm:$W/seq,template=$RAW" --scorer "f=spans:$W/spans" --db "$T/s.db" \
        --skip-failed -q "$T/in.jsonl" >"$T/out"
    # record e (an empty response, a policy's immediate EOS) is scored too
    [ "$(sqlite3 "$T/s.db" "SELECT count(*) FROM rewards WHERE aspect = 'f'")" -eq 46 ]
    [ "$(sqlite3 "$T/s.db" "SELECT count(*) FROM rewards WHERE aspect = 'h'")" -eq 46 ]
    [ "$(sqlite3 "$T/s.db" "SELECT spans FROM rewards WHERE aspect = 'f' AND rollout_id = 's-a'")" = \
      "$(sed -n 1p "$T/out" | jq -c .rewards.f.spans)" ]
    [ "$(sqlite3 "$T/s.db" "SELECT round(raw, 6) FROM rewards WHERE aspect = 'h' AND rollout_id = 's-b'")" = \
      "$(sed -n 2p "$T/out" | jq '.rewards.h.raw * 1e6 | round / 1e6')" ]
    [ "$(sqlite3 "$T/s.db" "SELECT group_concat(kind || ':' || scored || ':' || failed, ' ') FROM scorers")" = \
      "rm:46:0 spans:46:0" ]
}

@test "bad checkpoints: exit 2 naming the file and the field" {
    bad() { run alarm-score --scorer "$1" "$W/seq-val.jsonl"; echo "$output"; [ "$status" -eq 2 ]; [[ "$output" == *"$2"* ]]; }
    bad "h=rm:$W/spans" "scorer h: $W/spans/config.json: field \"architectures\": GPT2ForTokenClassification is not a sequence reward model"
    bad "f=spans:$W/seq" "scorer f: $W/seq/config.json: field \"architectures\": GPT2ForSequenceClassification is not a token classifier"
    bad "h=rm:$T/none" "scorer h: $T/none/config.json: No such file"
    cp -r "$W/seq" "$T/k"
    jq '.kind = "spans"' "$W/seq/rm.json" >"$T/k/rm.json"
    bad "h=rm:$T/k" "$T/k/rm.json: field \"kind\": \"spans\", not \"seq\""
    jq '.score.std = "x"' "$W/seq/rm.json" >"$T/k/rm.json"
    bad "h=rm:$T/k" "$T/k/rm.json: field \"score.std\": expected a number"
    echo '{' >"$T/k/rm.json"
    bad "h=rm:$T/k" "$T/k/rm.json: malformed JSON"
    cp "$W/seq/rm.json" "$T/k/"
    jq '.architectures = ["GPT2LMHeadModel"]' "$W/seq/config.json" >"$T/k/config.json"
    bad "h=rm:$T/k" "field \"architectures\": GPT2LMHeadModel is not a sequence reward model"
    cp -r "$W/spans" "$T/s"
    jq '.id2label = {"0": "good"}' "$W/spans/config.json" >"$T/s/config.json"
    bad "f=spans:$T/s" "$T/s/config.json: field \"id2label.1\": missing"
    jq '.labels = ["bad", "good"]' "$W/spans/rm.json" >"$T/s/rm.json"
    cp "$W/spans/config.json" "$T/s/"
    bad "f=spans:$T/s" "$T/s/rm.json: field \"labels\": not config.json's id2label"
    rm "$T/s/model.safetensors" "$T/s/rm.json"
    bad "f=spans:$T/s" "scorer f: $T/s"
    bad "f=spans:$W/spans,label=nice" "label=nice: not a label of $W/spans (config.json's id2label: good, bad)"
}

@test "bad options: exit 2 naming the option" {
    bad() { run alarm-score --scorer "$1" "$W/seq-val.jsonl"; echo "$output"; [ "$status" -eq 2 ]; [[ "$output" == *"$2"* ]]; }
    bad "h=rm" "kind rm needs an ARG"
    bad "h=rm:$W/seq,template=no response" "template=no response: needs {response} exactly once"
    bad "h=rm:$W/seq,template={response}{response}" "needs {response} exactly once"
    bad "h=rm:$W/seq,template=\q{response}" "template: bad escape at"
    bad "h=rm:$W/seq,template=\x00{response}" "template: bad escape at"
    bad "h=rm:$W/seq,batch=0" "batch=0: expected an integer in [1, 4096]"
    bad "h=rm:$W/seq,max-len=33" "max-len=33: expected an integer in [2, 32]"
    bad "h=rm:$W/seq,truncate=right" "truncate=right: expected error or left"
    bad "h=rm:$W/seq,segment=sentence" "kind rm has no option 'segment'"
    bad "f=spans:$W/spans,segment=paragraph" "segment=paragraph: expected sentence or subsentence"
    bad "f=spans:$W/spans,good=x" "good=x: expected a number"
    bad "f=spans:$W/spans,template=x" "kind spans has no option 'template'"
}

@test "bad records: exit 1 naming the record and the field; --skip-failed leaves the aspect out" {
    printf '%s\n' '{"id": "x", "response": " abcd"}' >"$T/np"
    run alarm-score --scorer "f=spans:$W/spans" "$T/np"
    [ "$status" -eq 1 ]
    [[ "$output" == *"np:1: scorer f (spans) failed: field \"prompt\": missing"* ]]
    run alarm-score --scorer "h=rm:$W/seq,template=$RAW" "$T/np"
    [ "$status" -eq 1 ]
    [[ "$output" == *"np:1: scorer h (rm) failed: field \"prompt\": missing"* ]]
    printf '%s\n' '{"id": "x", "prompt": 3, "response": " abcd"}' '{"id": "y", "prompt": "p", "response": ""}' >"$T/bad"
    run alarm-score --scorer "h=rm:$W/seq,template=$RAW" "$T/bad"
    [ "$status" -eq 1 ]
    [[ "$output" == *"bad:1: scorer h (rm) failed: field \"prompt\": expected a string"* ]]
    run alarm-score --scorer "h=rm:$W/seq,template=$RAW" --skip-failed "$T/bad"
    [ "$status" -eq 0 ]
    [[ "$output" == *"scorer h failed for 1 of 2 records"* ]]
    # nothing before {response}, and this tokenizer adds no BOS: nothing to condition on
    run alarm-score --scorer "h=rm:$W/seq,template={response}" "$T/np"
    [ "$status" -eq 1 ]
    [[ "$output" == *"np:1: scorer h (rm) failed: field \"prompt\": empty, and the tokenizer adds no BOS"* ]]
}

@test "rm: of alarm-rm --lora's adapter directory scores as its merged checkpoint; spans: of one is refused" {
    sides "$W/seq-val.jsonl" | head -40 >"$T/in.jsonl"
    alarm-rm --kind seq --model "$W/seq" --lora r=4,alpha=8 --out "$T/adapter" --steps 4 --lr 1e-2 \
        --max-len 32 -q "$W/seq.jsonl"
    alarm-model merge-lora "$T/adapter" --out "$T/merged"
    cmp "$T/adapter/rm.json" "$T/merged/rm.json"
    alarm-score --scorer "h=rm:$T/adapter,template=$RAW" "$T/in.jsonl" | jq .rewards.h.value >"$T/a"
    alarm-score --scorer "h=rm:$T/merged,template=$RAW" "$T/in.jsonl" | jq .rewards.h.value >"$T/m"
    alarm-score --scorer "h=rm:$W/seq,template=$RAW" "$T/in.jsonl" | jq .rewards.h.value >"$T/base"
    [ "$(wc -l <"$T/a")" -eq 40 ]
    paste "$T/a" "$T/m" | awk '{ d = $1 - $2; if (d < 0) d = -d; if (d > 1e-4) exit 1 }'
    # the adapters trained: not the base model's scores
    if cmp -s "$T/a" "$T/base"; then false; fi
    run alarm-score --scorer "h=spans:$T/adapter" <<<'{"id": "a", "prompt": "p", "response": "r"}'
    [ "$status" -ne 0 ] && [[ "$output" == *"$T/adapter is a LoRA adapter directory: a span model"* ]]
}
