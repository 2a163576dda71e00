#!/usr/bin/env bats
# alarm-ppo against one trl 0.5 PPOTrainer.step written in PyTorch
# (tests/gen_ppo_fixtures.py, fixtures in tests/fixtures/ppo): every statistic
# and the updated weights agree at fp32 tolerance (tests/ppo_compare.py says
# which and why) for one epoch of one minibatch, several epochs of shuffled
# minibatches with accumulation and clipping, an early stop, each of the four
# KL penalties, minibatches skipped by the ratio threshold, and the second
# step of a chain. The same records with lambda changed must not agree.

setup() {
    ROOT="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
    PATH="${ALARM_TEST_BUILD:-$ROOT/build}/bin:$PATH"
    F="$ROOT/tests/fixtures/ppo"
    POL="$ROOT/tests/fixtures/tfm/gpt2_value"
    T="$BATS_TEST_TMPDIR"
}

# step CASE [OPTION...]: alarm-ppo on the case's records with its arguments
# (and any more), its chain of steps from the policy of the fixtures, into
# $T/CASE (the last step) with its statistics in $T/CASE.stats.
step() {
    local c="$1" pol="$POL" out
    shift
    jq -c --argjson keep "$(jq -c '.records | map("r\(.)")' "$F/$c.json")" \
        'select(.id as $i | $keep | index($i))' "$F/records.jsonl" >"$T/$c.in"
    mapfile -t args < <(jq -r '.args[]' "$F/$c.json")
    local n i
    n=$(jq '.steps' "$F/$c.json")
    for ((i = 1; i <= n; i++)); do
        out="$T/$c"
        [ "$i" -eq "$n" ] || out="$T/$c.$i"
        ref=(--ref "$F/ref")
        [ ! -f "$pol/adapter_config.json" ] || ref=() # LoRA: the reference is the base
        alarm-ppo -q --policy "$pol" "${ref[@]}" --out "$out" --threads 1 "${args[@]}" "$@" \
            "$T/$c.in" >"$T/$c.stats"
        pol="$out"
    done
}

# parity CASE: the step agrees with the PyTorch one.
parity() {
    step "$1"
    python3 "$ROOT/tests/ppo_compare.py" "$F/$1.json" "$T/$1.stats" "$POL" "$T/$1"
}

@test "one epoch, one minibatch: the statistics and the weights are trl 0.5's" {
    parity one_minibatch
    jq -e '."ppo/minibatches" == 1 and ."ppo/epochs" == 1' "$T/one_minibatch.stats"
}

@test "three epochs of seeded minibatches, accumulation, clipping, the adaptive KL: trl 0.5's" {
    parity epochs_minibatches
    # twelve minibatches, the policy moved: clipped ratios and values, the coefficient updated
    jq -e '."ppo/minibatches" == 12 and ."ppo/policy/clipfrac" > 0.1 and ."ppo/val/clipfrac" > 0.1
           and ."kl_coef_next" > ."objective/kl_coef"' "$T/epochs_minibatches.stats"
}

@test "the early stop on the last minibatch's policykl is trl 0.5's" {
    parity early_stop
    jq -e '."ppo/early_stopped" == 1 and ."ppo/epochs" == 2' "$T/early_stop.stats"
}

@test "each KL penalty, kl, abs, mse and full, is trl 0.5's" {
    for k in kl abs mse full; do
        echo "--kl-penalty $k"
        parity "penalty_$k"
    done
    # the penalties differ: each one's rewards moved the step differently
    [ "$(jq -s 'map(."ppo/mean_non_score_reward") | unique | length' "$T"/penalty_*.stats)" -eq 4 ]
}

@test "minibatches whose mean ratio exceeds the threshold are skipped as trl 0.5 skips them" {
    parity ratio_skip
    jq -e '."ppo/minibatches_skipped" > 0 and ."ppo/minibatches_skipped" < ."ppo/minibatches"' \
        "$T/ratio_skip.stats"
}

@test "the second step of a chain (Adam's moments, the KL coefficient, the order) is trl 0.5's" {
    parity chain
    jq -e '.step == 2 and ."objective/kl_coef" != 0.2' "$T/chain.stats"
}

@test "a LoRA step (adapters on c_attn, no --ref: the base is the reference) is trl 0.5's with PEFT" {
    POL="$F/lora_policy"
    step lora
    # no --ref: step's --ref is replaced by the policy's base (alarm-ppo(1))
    python3 "$ROOT/tests/ppo_compare.py" "$F/lora.json" "$T/lora.stats" "$POL" "$T/lora"
    jq -e '."objective/kl" > 0 and ."ppo/minibatches" == 4' "$T/lora.stats"
    [ "$(ls "$T/lora" | grep -c adapter_model.safetensors)" -eq 1 ]
}

@test "a step that is not trl's (lambda 0.9) is caught" {
    step one_minibatch --lam 0.9
    run python3 "$ROOT/tests/ppo_compare.py" "$F/one_minibatch.json" "$T/one_minibatch.stats" "$POL" \
        "$T/one_minibatch"
    echo "$output"
    [ "$status" -eq 1 ]
    [[ "$output" == *"MISMATCH statistic ppo/returns/mean"* ]]
}
