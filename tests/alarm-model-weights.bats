#!/usr/bin/env bats
# Non-finite numbers: a checkpoint whose weights hold a NaN or an infinity is
# refused at load naming the tensor, and a model whose activations overflow
# is an error naming the record, never "nan" in the JSON written.

bats_require_minimum_version 1.5.0

setup() {
    ROOT="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
    PATH="${ALARM_TEST_BUILD:-$ROOT/build}/bin:$PATH"
    FIX="$ROOT/tests/fixtures/tfm"
    T="$BATS_TEST_TMPDIR"
    cp -r "$FIX/lm_gpt2_tok" "$T/m"
    ST="$T/m/model.safetensors"
}

set_weight() { python3 "$ROOT/tests/lib/st_set.py" "$ST" "$@"; }

@test "the fixture scores cleanly before it is patched" {
    run alarm-model logprobs --model "$T/m" "$FIX/records.jsonl"
    [ "$status" -eq 0 ]
    [[ "$output" != *nan* && "$output" != *inf* ]]
}

@test "a NaN weight is refused at load, naming the tensor and the element" {
    set_weight transformer.h.1.mlp.c_fc.weight 77 nan
    run alarm-model logprobs --model "$T/m" "$FIX/records.jsonl"
    [ "$status" -eq 1 ]
    [[ "$output" == *"tensor transformer.h.1.mlp.c_fc.weight holds a non-finite value (NaN) at element 77"* ]]
    [[ "$output" != *'"logprobs"'* ]]
}

@test "an infinite weight is refused the same way" {
    set_weight transformer.wte.weight 5 -inf
    run alarm-model logprobs --model "$T/m" "$FIX/records.jsonl"
    [ "$status" -eq 1 ]
    [[ "$output" == *"tensor transformer.wte.weight holds a non-finite value (-inf) at element 5"* ]]
}

@test "activations that overflow are an error naming the record and field, no nan written" {
    # Finite weights, but a final layer-norm gain of 3e38 overflows the logits.
    for i in $(seq 0 31); do set_weight transformer.ln_f.weight "$i" 3e38; done
    run --separate-stderr alarm-model logprobs --model "$T/m" "$FIX/records.jsonl"
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"$FIX/records.jsonl:1: field \"logprobs\"[0]: the model gave "* ]]
    [[ "$output" != *nan* ]]
}

@test "--no-check-weights skips the scan; the NaN then reaches the output check" {
    set_weight transformer.ln_f.bias 3 nan
    run --separate-stderr alarm-model logprobs --no-check-weights --model "$T/m" "$FIX/records.jsonl"
    [ "$status" -eq 1 ]
    [[ "$stderr" != *"holds a non-finite value"* ]]
    [[ "$stderr" == *"$FIX/records.jsonl:1: field \"logprobs\"[0]: the model gave NaN"* ]]
    [[ "$output" != *nan* ]]
}
