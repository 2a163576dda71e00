#!/usr/bin/env bats
# alarm-model info, logprobs and bench: checkpoint descriptions, teacher-forced
# log-probs against PyTorch (gen_tfm_fixtures.py), pass-through of other fields,
# and located errors with the right exit codes.

setup() {
    ROOT="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
    FIX="$ROOT/tests/fixtures/tfm"
    TMP="$(mktemp -d)"
}

teardown() {
    rm -rf "$TMP"
}

@test "info describes GPT-2, Qwen2 and a sequence classifier" {
    run alarm-model info "$FIX/gpt2_value"
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jq -c '[.architecture, .family, .vocab_size, .layers, .attention_heads, .kv_heads, .tied_embeddings, .heads, .dtype]')" = '["GPT2LMHeadModel","gpt2",64,2,4,4,true,["lm","value"],"F32"]' ]
    # wte 64x32 + wpe 16x32 + 2 layers x (2 norms 2x64 + c_attn 32x96+96 + c_proj 32x32+32
    #   + c_fc 32x128+128 + mlp c_proj 128x32+32) + ln_f 64 + v_head 32+1
    [ "$(echo "$output" | jq .parameters)" -eq 28065 ]
    run alarm-model info "$FIX/qwen2_bias"
    [ "$(echo "$output" | jq -c '[.architecture, .kv_heads, .qkv_bias, .rope_theta, .rope_scaling]')" = '["Qwen2ForCausalLM",2,true,1000000,null]' ]
    run alarm-model info "$FIX/llama3_rope"
    [ "$(echo "$output" | jq -r .rope_scaling)" = llama3 ]
    run alarm-model info "$FIX/gpt2_score"
    [ "$(echo "$output" | jq -c '[.architecture, .heads, .labels]')" = '["GPT2ForSequenceClassification",["score"],1]' ]
}

@test "info fails clearly on a missing directory, an unknown model and bad usage" {
    run alarm-model info "$TMP/none"
    [ "$status" -eq 1 ]
    [[ "$output" == "alarm-model: $TMP/none/config.json: No such file or directory" ]]
    cp -r "$FIX/gpt2_value" "$TMP/m"
    echo '{"model_type": "t5"}' >"$TMP/m/config.json"
    run alarm-model info "$TMP/m"
    [ "$status" -eq 1 ]
    [[ "$output" == *'unsupported model_type "t5"'* ]]
    run alarm-model info
    [ "$status" -eq 2 ]
    run alarm-model info a b
    [ "$status" -eq 2 ]
}

# Tool output against the committed token ids and PyTorch's log-probs.
check_logprobs() { # $1 = fixture name, extra args follow
    local name=$1
    shift
    alarm-model logprobs --model "$FIX/$name" "$@" "$FIX/records.jsonl" >"$TMP/out.jsonl"
    jq -c '{prompt_tokens, response_tokens}' "$TMP/out.jsonl" | diff "$FIX/$name/tokens.jsonl" -
    jq -c .logprobs "$TMP/out.jsonl" >"$TMP/got"
    jq -c .logprobs "$FIX/$name/expected_logprobs.jsonl" >"$TMP/want"
    jq -n --slurpfile g "$TMP/got" --slurpfile w "$TMP/want" '
        [range($g | length) as $i | range($g[$i] | length) as $k |
         ($g[$i][$k] - $w[$i][$k]) | fabs] | (max // 0) < 1e-4 and ($g | length) == ($w | length)' |
        grep -qx true
}

@test "logprobs match PyTorch (GPT-2, no BOS) at any batch size" {
    check_logprobs lm_gpt2_tok
    check_logprobs lm_gpt2_tok --batch 1
    check_logprobs lm_gpt2_tok --batch 3 --threads 1
}

@test "logprobs put the post-processor's BOS first and match PyTorch (Llama)" {
    check_logprobs lm_llama_bos --batch 2
    [ "$(jq -c '.prompt_tokens[0]' "$TMP/out.jsonl" | sort -u)" = 0 ]
}

@test "logprobs keep other fields byte for byte; offsets cover the response" {
    run alarm-model logprobs --model "$FIX/lm_gpt2_tok" "$FIX/records.jsonl"
    [ "$status" -eq 0 ]
    [[ "${lines[3]}" == '{"prompt": "<|endoftext|>Hello", "response": " world<|endoftext|>", "meta": {"k": [1, 2.50]},"prompt_tokens":['* ]]
    echo "$output" | jq -e 'select((.offsets | length) != (.response_tokens | length) or
        (.logprobs | length) != (.response_tokens | length) or
        (if (.offsets | length) > 0 then .offsets[-1][1] != (.response | utf8bytelength) else false end) or
        any(.logprobs[]; . > 0))' && return 1
    [ "$(echo "${lines[2]}" | jq -c '[.response_tokens, .logprobs, .offsets]')" = '[[],[],[]]' ]
}

@test "logprobs replaces the fields a record already has" {
    echo '{"prompt":"a","response":"b","logprobs":[9],"offsets":"x"}' >"$TMP/in.jsonl"
    run alarm-model logprobs --model "$FIX/lm_gpt2_tok" "$TMP/in.jsonl"
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jq -c '[keys, (.logprobs | length)]')" = '[["logprobs","offsets","prompt","prompt_tokens","response","response_tokens"],1]' ]
}

@test "logprobs errors name the file and line; usage errors exit 2" {
    printf '{"prompt":"a","response":"b"}\n{"prompt":"a"}\n' >"$TMP/in.jsonl"
    run alarm-model logprobs --model "$FIX/lm_gpt2_tok" "$TMP/in.jsonl"
    [ "$status" -eq 1 ]
    [[ "$output" == *"alarm-model: $TMP/in.jsonl:2: field \"response\""* ]]
    printf '{"prompt":"%s","response":"b"}\n' "$(head -c 300 /dev/zero | tr '\0' x)" >"$TMP/long.jsonl"
    run alarm-model logprobs --model "$FIX/lm_gpt2_tok" --max-tokens 16 "$TMP/long.jsonl"
    [ "$status" -eq 1 ]
    [[ "$output" == *"long.jsonl:1: "*"exceed --max-tokens 16"* ]]
    # An option the model cannot take is a usage error (issue 9: was exit 1).
    run alarm-model logprobs --model "$FIX/lm_gpt2_tok" --max-tokens 65 "$TMP/in.jsonl"
    [ "$status" -eq 2 ]
    [[ "$output" == *"exceeds the model's 64 positions"* ]]
    echo '{"prompt":"","response":"b"}' >"$TMP/empty.jsonl"
    run alarm-model logprobs --model "$FIX/lm_gpt2_tok" "$TMP/empty.jsonl"
    [ "$status" -eq 1 ]
    [[ "$output" == *"empty, and the tokenizer adds no BOS"* ]]
    run alarm-model logprobs "$TMP/in.jsonl"
    [ "$status" -eq 2 ]
    run alarm-model logprobs --model "$FIX/lm_gpt2_tok" --batch 0
    [ "$status" -eq 2 ]
    run alarm-model logprobs --model "$FIX/gpt2_score" "$TMP/in.jsonl"
    [ "$status" -eq 1 ]
    [[ "$output" == *"has no LM head"* ]]
}

@test "bench rejects a bad configuration or format with exit 2" {
    run alarm-model bench --config huge
    [ "$status" -eq 2 ]
    [[ "$output" == *"unknown --config 'huge'"* ]]
    run alarm-model bench --format xml
    [ "$status" -eq 2 ]
}

@test "bench --format json prints the documented object (long)" {
    [ "${ALARM_LONG_TESTS:-0}" = 1 ] || skip "set ALARM_LONG_TESTS=1 (runs the tiny benchmark)"
    run alarm-model bench --config tiny --format json -q
    [ "$status" -eq 0 ]
    echo "$output" | jq -e '.configs.tiny | (.train_tokens_per_s > 0) and (.sample_b1_tokens_per_s > 0)
        and (.sample_b8_tokens_per_s > 0) and (.sgemm_gflops > 0) and (.mfu > 0) and (.peak_rss_mb > 0)'
    echo "$output" | jq -e '(.openblas_coretype | type) == "string" and .threads > 0'
}
