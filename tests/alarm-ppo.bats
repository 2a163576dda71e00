#!/usr/bin/env bats
# alarm-ppo: a rollout | select | ppo loop that learns a toy reward with the
# KL bounded and the same bytes twice; a chain resumed after kill -9 equal
# to one never interrupted; every invariant, bad record and health stop.

setup() {
    ROOT="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
    PATH="${ALARM_TEST_BUILD:-$ROOT/build}/bin:$PATH"
    M="$ROOT/tests/fixtures/tfm/lm_gpt2_tok"
    P="$ROOT/data/rollout-prompts.jsonl"
    T="$BATS_TEST_TMPDIR"
}

# The toy reward: how many response tokens have an id below 100 (a sixth
# of the vocabulary), as a holistic reward on the last token.
score() { jq -c '.rewards = {hits: {value: ([.response_tokens[] | select(. < 100)] | length)}}'; }
combine() { alarm-select -q --mode holistic --holistic hits --holistic-weight 1; }

# combined POLICY SEED: 24 combined records sampled from POLICY.
combined() { alarm-rollout --model "$1" -n 4 --no-eos --max-new-tokens 8 --seed "$2" "$P" | score | combine; }

# loop DIR: ten iterations from the fixture model; statistics in DIR/stats.jsonl.
loop() {
    pol="$M"
    for i in 1 2 3 4 5 6 7 8 9 10; do
        combined "$pol" "$i" | alarm-ppo --policy "$pol" --ref "$M" --out "$1/it$i" --lr 3e-3 \
            --mini-batch 4 --threads 1 --stats "$1/stats.jsonl" >/dev/null
        pol="$1/it$i"
    done
}

@test "ten iterations of rollout | score | select | ppo raise the reward, the KL bounded; twice the same" {
    loop "$T/a"
    jq -c '[.step, ."ppo/mean_scores", ."objective/kl", ."objective/kl_coef"]' "$T/a/stats.jsonl"
    first=$(head -1 "$T/a/stats.jsonl" | jq '."ppo/mean_scores"')
    last=$(tail -2 "$T/a/stats.jsonl" | jq -s 'map(."ppo/mean_scores") | add / 2')
    jq -ne "$last > $first + 1"            # of 8 tokens: from about 1.3 to over 3
    jq -e -s 'all(.[]; ."objective/kl" < 20 and ."objective/kl_coef" > 0.19)' "$T/a/stats.jsonl"
    [ "$(jq -s 'map(.step) == [range(1; 11)]' "$T/a/stats.jsonl")" = true ]
    loop "$T/b"
    cmp "$T/a/it10/model.safetensors" "$T/b/it10/model.safetensors"
    cmp "$T/a/stats.jsonl" "$T/b/stats.jsonl"
}

@test "a chain killed with -9 in its third step and rerun equals the chain never interrupted" {
    combined "$M" 1 >"$T/c.jsonl"
    step() { alarm-ppo --policy "$1" --ref "$M" --out "$2" --lr 1e-3 --mini-batch 4 --grad-accum 2 \
                 --threads 1 "$T/c.jsonl" >/dev/null; }
    pol="$M"
    for i in 1 2 3 4 5; do step "$pol" "$T/a$i"; pol="$T/a$i"; done
    step "$M" "$T/b1"
    step "$T/b1" "$T/b2"
    step "$T/b2" "$T/b3" &
    sleep 0.05
    kill -9 $! 2>/dev/null || true
    wait || true
    # killed: no half-written checkpoint, the policy untouched
    [ ! -e "$T/b3" ] || [ -f "$T/b3/ppo_state.json" ]
    cmp "$T/a2/model.safetensors" "$T/b2/model.safetensors"
    step "$T/b2" "$T/b3"
    step "$T/b3" "$T/b4"
    step "$T/b4" "$T/b5"
    for f in model.safetensors optimizer.safetensors ppo_state.json trainer_state.json; do
        cmp "$T/a5/$f" "$T/b5/$f"
    done
    jq -e '.step == 5' "$T/b5/ppo_state.json"
    # the chain's state: five steps of 4 epochs x 3 updates, the coefficient moved
    jq -e '.step == 60' "$T/b5/trainer_state.json"
    jq -e '.kl_coef != 0.2' "$T/b5/ppo_state.json"
}

@test "--dropout: a step with the checkpoint's and the value head's dropout, the same twice at one thread, unlike the step without" {
    combined "$M" 1 >"$T/c.jsonl"
    step() { alarm-ppo --policy "$1" --ref "$M" --out "$2" --mini-batch 4 --threads 1 "${@:3}" \
                 "$T/c.jsonl" >"$2.stats"; }
    step "$M" "$T/d1" --dropout
    step "$M" "$T/d2" --dropout
    step "$M" "$T/n"
    step "$M" "$T/s" --dropout --seed 7
    for f in model.safetensors optimizer.safetensors; do cmp "$T/d1/$f" "$T/d2/$f"; done
    cmp "$T/d1.stats" "$T/d2.stats"
    if cmp -s "$T/d1/model.safetensors" "$T/n/model.safetensors"; then false; fi
    if cmp -s "$T/d1/model.safetensors" "$T/s/model.safetensors"; then false; fi
    # the old pass drops too (trl never leaves training mode), the reference's does not:
    # at the first step, where policy and reference are one model, the KL is no longer 0
    jq -e '."objective/kl" == 0' "$T/n.stats"
    jq -e '."objective/kl" != 0' "$T/d1.stats"
    # the chain goes on with dropout: its second step, run twice, the same
    step "$T/d1" "$T/e1" --dropout
    step "$T/d2" "$T/e2" --dropout
    cmp "$T/e1/model.safetensors" "$T/e2/model.safetensors"
    jq -e '.summary_dropout_prob == 0.1 and .resid_pdrop == 0.1' "$T/e1/config.json"
}

@test "the checkpoint carries a value head (zero for a policy without one) and the store a row" {
    combined "$M" 2 >"$T/c.jsonl"
    alarm-ppo --policy "$M" --ref "$M" --out "$T/o" --mini-batch 4 --ppo-epochs 1 --db "$T/s.db" \
        "$T/c.jsonl" >"$T/line"
    python3 - "$T/o/model.safetensors" <<'END'
import json, struct, sys
b = open(sys.argv[1], "rb").read()
h = json.loads(b[8:8 + struct.unpack("<Q", b[:8])[0]])
assert h["v_head.summary.weight"]["shape"] == [1, 32] and h["v_head.summary.bias"]["shape"] == [1], h
END
    [ "$(sqlite3 "$T/s.db" 'SELECT stats FROM ppo_steps')" = "$(cat "$T/line")" ]
    [ "$(sqlite3 "$T/s.db" 'SELECT status FROM runs')" = ok ]
    jq -e '."ppo/val/mean" == 0 and ."ppo/epochs" == 1 and ."check/reward_sum" == ."check/total_sum" or
           ((."check/reward_sum" - ."check/total_sum") | fabs) < 1e-4' "$T/line"
}

# bad FILE WORDS: alarm-ppo fails on FILE, its message containing WORDS, writing nothing.
bad() {
    run alarm-ppo --policy "$M" --ref "$M" --out "$T/o" --mini-batch 1 "$1"
    echo "$output"
    [ "$status" -eq 1 ]
    [[ "$output" == *"$2"* ]]
    [ ! -e "$T/o" ]
}

@test "records that do not belong together are refused, naming the file, line and field" {
    combined "$M" 3 | head -2 >"$T/good.jsonl"
    jq -c '.reward.dense += [1]' "$T/good.jsonl" >"$T/x1"
    bad "$T/x1" "x1:1: field \"reward.dense\": 9 values for 8 response tokens"
    jq -c '.response_tokens[2] = 600' "$T/good.jsonl" >"$T/x2"
    bad "$T/x2" "x2:1: field \"response_tokens\"[2]: the number is not a token id"
    jq -c '.response_tokens[0] = 1.5' "$T/good.jsonl" >"$T/x3"
    bad "$T/x3" "x3:1: field \"response_tokens\"[0]"
    jq -c 'del(.reward)' "$T/good.jsonl" >"$T/x4"
    bad "$T/x4" "x4:1: field \"reward\": missing"
    jq -c '.prompt_tokens = [range(60)]' "$T/good.jsonl" >"$T/x5"
    bad "$T/x5" "exceed the policy's context of 64"
    # the reward the step would train on must be the reward.total it read
    jq -c '.reward.total += 1' "$T/good.jsonl" >"$T/x6"
    bad "$T/x6" "x6:1: field \"reward.total\""
    head -1 "$T/good.jsonl" | jq -c '.response_tokens = [5] | .reward.dense = [1] | .reward.total = 1' >"$T/x7"
    bad "$T/x7" "advantages need two"
    run alarm-ppo --policy "$M" --ref "$M" --out "$T/o" --mini-batch 3 "$T/good.jsonl"
    [[ "$status" -eq 1 && "$output" == *"2 records do not split into optimizer steps of --mini-batch 3"* ]]
}

@test "health stops and non-finite values end the step with a message and no checkpoint" {
    combined "$M" 4 >"$T/c.jsonl"
    alarm-ppo --policy "$M" --ref "$M" --out "$T/p1" --lr 3e-3 --mini-batch 4 "$T/c.jsonl" >/dev/null
    combined "$T/p1" 5 >"$T/c.jsonl"   # sampled from the moved policy: its KL to M is positive
    run alarm-ppo --policy "$T/p1" --ref "$M" --out "$T/o" --mini-batch 4 --stop-on kl=0.01 "$T/c.jsonl"
    [[ "$status" -eq 1 && "$output" == *"health stop: objective/kl is"*"above --stop-on kl=0.01"* ]]
    [ ! -e "$T/o" ]
    run alarm-ppo --policy "$T/p1" --ref "$M" --out "$T/o" --mini-batch 4 --stop-on entropy=1000 "$T/c.jsonl"
    [[ "$status" -eq 1 && "$output" == *"objective/entropy is"*"below --stop-on entropy=1000"* ]]
    [ ! -e "$T/o" ]
    cp -r "$M" "$T/nan"
    python3 "$ROOT/tests/lib/st_set.py" "$T/nan/model.safetensors" transformer.h.0.mlp.c_fc.bias 3 nan
    run alarm-ppo --policy "$T/nan" --ref "$M" --out "$T/o" --mini-batch 4 --no-check-weights "$T/c.jsonl"
    [[ "$status" -eq 1 && "$output" == *"response token 0: the policy's log-probability is not finite"* ]]
    [ ! -e "$T/o" ]
}

@test "usage errors exit 2" {
    for bad in "--policy a --ref b" "--policy a --out c" "--policy a --ref b --out a" \
        "--policy a --ref b --out c --kl-penalty huge" "--policy a --ref b --out c --adaptive-kl 6" \
        "--policy a --ref b --out c --stop-on kl" "--policy a --ref b --out c --mini-batch 0"; do
        run alarm-ppo $bad
        echo "$bad -> $status"
        [ "$status" -eq 2 ]
    done
}

@test "token ids that are not integers of the vocabulary, and a repeated id, are refused" {
    combined "$M" 3 | head -2 >"$T/good.jsonl"
    jq -c '.prompt_tokens[1] = -1.5' "$T/good.jsonl" >"$T/y1"
    bad "$T/y1" "y1:1: field \"prompt_tokens\"[1]: the number is not a token id of the model's vocabulary (0 to 599): -1.5"
    jq -c '.response_tokens[0] = 1e20' "$T/good.jsonl" >"$T/y2"
    bad "$T/y2" "y2:1: field \"response_tokens\"[0]: the number is not a token id of the model's vocabulary (0 to 599): 1e+20"
    jq -c '.response_tokens[3] = "3"' "$T/good.jsonl" >"$T/y3"
    bad "$T/y3" "y3:1: field \"response_tokens\"[3]: the value is not a token id of the model's vocabulary (0 to 599)"
    { cat "$T/good.jsonl"; head -1 "$T/good.jsonl"; } >"$T/y4"
    id=$(head -1 "$T/good.jsonl" | jq -r .id)
    bad "$T/y4" "y4:3: duplicate id \"$id\" (first at $T/y4:1)"
}

@test "--lora: no --ref needed, the KL of the first step is 0, adapters and v_head saved; the chain goes on" {
    combined "$M" 1 >"$T/c.jsonl"
    sum=$(sha256sum "$M/model.safetensors")
    alarm-ppo --policy "$M" --lora r=4,alpha=8 --out "$T/l1" --lr 3e-3 --mini-batch 4 --threads 1 \
        --stats "$T/s.jsonl" "$T/c.jsonl" >/dev/null
    jq -e '."objective/kl" == 0 and ."ppo/grad_norm" > 0' "$T/s.jsonl"
    jq -e '.peft_type == "LORA" and .target_modules == ["c_attn"]' "$T/l1/adapter_config.json"
    [ -f "$T/l1/adapter_model.safetensors" ] && [ -f "$T/l1/ppo_state.json" ]
    alarm-model info "$T/l1" | jq -e '.heads == ["lm", "value"] and .lora.r == 4'
    [ "$(sha256sum "$M/model.safetensors")" = "$sum" ]
    # the adapter directory as --policy: its own adapters, still no --ref
    alarm-ppo --policy "$T/l1" --out "$T/l2" --lr 3e-3 --mini-batch 4 --threads 1 \
        --stats "$T/s.jsonl" "$T/c.jsonl" >/dev/null
    jq -s -e '.[1].step == 2 and .[1]."objective/kl" != 0' "$T/s.jsonl"
    # --ref given with LoRA is honoured: the base itself as reference gives the same step
    alarm-ppo --policy "$M" --lora r=4,alpha=8 --ref "$M" --out "$T/r1" --lr 3e-3 --mini-batch 4 \
        --threads 1 "$T/c.jsonl" >/dev/null
    cmp "$T/l1/adapter_model.safetensors" "$T/r1/adapter_model.safetensors"
    run alarm-ppo --policy "$M" --out "$T/x" "$T/c.jsonl"
    [ "$status" -eq 2 ] && [[ "$output" == *"--ref is required unless"* ]]
    run alarm-ppo --policy "$M" --lora targets=v_proj --out "$T/x" "$T/c.jsonl"
    [ "$status" -eq 2 ] && [[ "$output" == *'"v_proj" matches no module'* ]]
}
