#!/usr/bin/env bats
# Real data: the 500 long-form QA prompts of QA-Feedback (third-party data,
# read from ../shared beside the checkout and never copied into the
# repository). Skips with a message when the file is absent.

setup() {
    ROOT="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
    DEV="$ROOT/../shared/data/qa-feedback/dev.json"
    [ -f "$DEV" ] || skip "QA-Feedback data not found at $DEV"
    unset OPENAI_API_KEY ALARM_DB
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

@test "the converter writes one prompt record per QA-Feedback record, passages and gold answer kept" {
    jq -c -f "$ROOT/pipelines/qa-feedback.jq" "$DEV" > "$TMP/prompts.jsonl"
    [ "$(wc -l < "$TMP/prompts.jsonl")" -eq "$(jq length "$DEV")" ]
    # every prompt is the record's text, then " answer:"; the first gold answer is the reference
    diff <(jq -r '.[] | .text + " answer:" | @json' "$DEV") <(jq -r '.prompt | @json' "$TMP/prompts.jsonl")
    [ -z "$(jq -r 'select(.reference == "" or (.id | test("^qaf-[0-9]+$") | not)) | .id' "$TMP/prompts.jsonl")" ]
    # the passages are the record's own, and nearly every record has some
    diff <(jq -c '.[] | [.passages[]?.content]' "$DEV") <(jq -c '.meta.passages' "$TMP/prompts.jsonl")
    [ "$(jq -s 'map(select((.meta.passages | length) > 0)) | length' "$TMP/prompts.jsonl")" -ge 490 ]
    jq -e -s 'all(.[]; (.meta.passages | length) == (.meta.titles | length))' "$TMP/prompts.jsonl"
}

# Tiny random checkpoints in the real formats, trained a few steps on
# QA-Feedback records: a policy, a sequence reward model and two span models.
make_checkpoints() {
    local w="$TMP/ckpt"
    mkdir -p "$w"
    jq -c -f "$ROOT/pipelines/qa-feedback.jq" "$DEV" | jq -c 'select((.reference | length) < 400)' | head -40 > "$w/p.jsonl"
    jq -c '{prompt, response: (" " + .reference)}' "$w/p.jsonl" > "$w/demos.jsonl"
    jq -c '{prompt, chosen: (" " + .reference), rejected: (" " + (.reference | split(". ")[0]))}' \
        "$w/p.jsonl" > "$w/prefs.jsonl"
    # every sentence of the answer a span, labelled good and bad in turn
    jq -c '(" " + .reference) as $r | {prompt, response: $r, spans: [1, ($r | utf8bytelength)]
           | [{start: .[0], end: .[1], label: "good"}]}' "$w/p.jsonl" > "$w/spans.jsonl"
    alarm-model train-tokenizer -q --vocab-size 512 --out "$w/tok.json" "$w/demos.jsonl"
    cat > "$w/cfg.json" <<'CFG'
{"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "vocab_size": 512, "n_positions": 256,
 "n_embd": 32, "n_layer": 1, "n_head": 2, "activation_function": "gelu_new",
 "layer_norm_epsilon": 1e-05, "tie_word_embeddings": true, "bos_token_id": 0, "eos_token_id": 0}
CFG
    local opt=(--init "$w/cfg.json" --tokenizer "$w/tok.json" --steps 2 --batch 4 --lr 1e-3
               --max-len 256 --truncate left -q)
    alarm-sft "${opt[@]}" --out "$w/sft" "$w/demos.jsonl"
    alarm-rm --kind seq "${opt[@]}" --out "$w/rm" "$w/prefs.jsonl"
    alarm-rm --kind spans "${opt[@]}" --out "$w/fact" "$w/spans.jsonl"
    alarm-rm --kind spans --segment subsentence "${opt[@]}" --out "$w/rel" "$w/spans.jsonl"
}

@test "pipelines/qa-feedback.mk runs end to end on QA-Feedback with tiny checkpoints; the store is complete" {
    make_checkpoints
    w="$TMP/ckpt" O="$TMP/run"
    (cd "$ROOT" && make -s -j2 -f pipelines/qa-feedback.mk QA="$DEV" OUT="$O" \
        BUILD="${ALARM_TEST_BUILD#$ROOT/}" POLICY="$w/sft" HOLISTIC="$w/rm" FACTUALITY="$w/fact" \
        RELEVANCE="$w/rel" HOLISTIC_TEMPLATE='{prompt}{response}' SEEDS=1 N_SELECT=6 ITERS=1 PROMPTS=6 N_TEST=6 NEW=12 MAX_PROMPT=200 \
        MINI_BATCH=3 PPO_EPOCHS=1) > "$TMP/out" 2>&1 || { cat "$TMP/out"; return 1; }
    grep -q '^## Verdict' "$TMP/out"
    db="$O/alarm.db"
    [ "$(sqlite3 "$db" "SELECT count(*) FROM runs WHERE status != 'ok'")" -eq 0 ]
    [ "$(sqlite3 "$db" "SELECT count(*) FROM ppo_steps")" -eq 4 ]
    # every held-out answer of every system scored by the learned models, in the store
    [ "$(sqlite3 "$db" "SELECT count(DISTINCT rollout_id || run_id) FROM rewards w JOIN runs r ON r.id = w.run_id
                        WHERE r.tool = 'alarm-score' AND aspect = 'factuality'")" -ge $(( 12 + 6 + 5 * 6 )) ]
    jq -e '.judges | keys == ["reward:factuality", "reward:holistic"]' "$O/results.json"
    jq -e ".verdict.judge == \"reward:holistic\"" "$O/results.json" || { jq -c .verdict "$O/results.json"; return 1; }
    jq -e '[.judges[].matrix[][] | .n] | length == 2 * 20' "$O/results.json"
}
