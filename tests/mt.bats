#!/usr/bin/env bats
# pipelines/mt.mk, ALaRM's translation task, end to end on synthetic sentence
# pairs with tiny checkpoints trained here and tests/servers/score_server.py
# speaking LanguageTool's /v2/check: the run completes, the grammar aspect
# came from the server, and the store and results are complete.
bats_require_minimum_version 1.5.0
load lib/server

setup() {
    ROOT="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
    T="$BATS_TEST_TMPDIR"
    SERVER_PID=
    unset OPENAI_API_KEY ALARM_DB
}

# N German-English pairs of a tiny grammar: "der hund läuft" / "the dog runs".
pairs() {
    awk -v n="$1" 'BEGIN {
        split("hund katze vogel pferd", de); split("dog cat bird horse", en)
        split("läuft schläft singt isst", dv); split("runs sleeps sings eats", ev)
        srand(7)
        for (i = 0; i < n; i++) {
            a = int(rand() * 4) + 1; v = int(rand() * 4) + 1
            printf "der %s %s\tthe %s %s\n", de[a], dv[v], en[a], ev[v]
        }
    }'
}

@test "pipelines/mt.mk runs on sentence pairs with a LanguageTool stand-in; the store is complete" {
    pairs 40 > "$T/pairs.tsv"
    jq -R -c 'split("\t") | {prompt: ("Translate into English: " + .[0] + "\nEnglish:"), response: (" " + .[1]),
              chosen: (" " + .[1]), rejected: (" " + (.[1] | split(" ") | reverse | join(" ")))}' \
        "$T/pairs.tsv" > "$T/train.jsonl"
    alarm-model train-tokenizer -q --vocab-size 300 --out "$T/tok.json" "$T/train.jsonl"
    cat > "$T/cfg.json" <<'CFG'
{"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "vocab_size": 300, "n_positions": 64,
 "n_embd": 32, "n_layer": 1, "n_head": 2, "activation_function": "gelu_new",
 "layer_norm_epsilon": 1e-05, "tie_word_embeddings": true, "bos_token_id": 0, "eos_token_id": 0}
CFG
    opt=(--init "$T/cfg.json" --tokenizer "$T/tok.json" --steps 3 --batch 4 --lr 1e-3 -q)
    alarm-sft "${opt[@]}" --out "$T/sft" "$T/train.jsonl"
    alarm-rm --kind seq "${opt[@]}" --out "$T/rm" "$T/train.jsonl"
    start_server
    O="$T/run"
    (cd "$ROOT" && make -s -j2 -f pipelines/mt.mk PAIRS="$T/pairs.tsv" POLICY="$T/sft" HOLISTIC="$T/rm" \
        HOLISTIC_TEMPLATE='{prompt}{response}' LANGUAGETOOL="$URL" OUT="$O" \
        BUILD="${ALARM_TEST_BUILD#$ROOT/}" SEEDS=1 N_SELECT=6 ITERS=1 PROMPTS=6 N_TEST=6 NEW=8 \
        MINI_BATCH=3 PPO_EPOCHS=1) > "$T/out" 2>&1 || { cat "$T/out"; return 1; }
    grep -q '^## Verdict' "$T/out"
    db="$O/alarm.db"
    [ "$(sqlite3 "$db" "SELECT count(*) FROM runs WHERE status != 'ok'")" -eq 0 ]
    [ "$(sqlite3 "$db" "SELECT count(*) FROM ppo_steps")" -eq 4 ]
    # every scored answer has the three aspects, grammar from the server
    for a in readability grammar confidence; do
        [ "$(sqlite3 "$db" "SELECT count(*) FROM rewards w JOIN runs r ON r.id = w.run_id
                            WHERE r.tool = 'alarm-score' AND aspect = '$a'")" -eq $(( 12 + 4 * 6 + 5 * 6 )) ]
    done
    [ "$(grep -c '"/v2/check"' "$T/log")" -ge 1 ]
    jq -e '.selection.candidates | keys == ["confidence", "grammar", "readability"]' "$O/results.json"
    jq -e '.judges | keys == ["reward:-grammar", "reward:confidence", "reward:holistic"]' "$O/results.json"
}
