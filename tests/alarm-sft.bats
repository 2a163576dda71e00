#!/usr/bin/env bats
# alarm-sft: learning a copy task from --init (validation loss and greedy
# rollouts), exact resume after kill -9, the store's train_evals rows, and
# each bad input alarm-sft(1) names.

load lib/resume

setup() {
    ROOT="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
    PATH="${ALARM_TEST_BUILD:-$ROOT/build}/bin:$PATH"
    M="$ROOT/tests/fixtures/tfm/lm_gpt2_tok"
    T="$BATS_TEST_TMPDIR"
}

# copy_task N FILE SEED: demonstrations "copy abcd:" -> " abcd"
copy_task() { awk -v n="$1" -v seed="$3" -f "$ROOT/pipelines/copy-task.awk" >"$2"; }

# A byte-level tokenizer (EOS id 0) and the 2-layer GPT-2 config for it.
tiny_world() {
    copy_task 2000 "$T/train.jsonl" 1
    copy_task 200 "$T/val.jsonl" 2
    alarm-model train-tokenizer -q --vocab-size 257 --out "$T/tok.json" "$T/train.jsonl"
    cp "$ROOT/data/copy-gpt2.json" "$T/cfg.json"
}

SFT_COPY=(--lr 3e-3 --schedule cosine --warmup 20 --batch 16 --max-len 32 -q)

@test "from --init it learns to copy: validation loss far below its start, greedy rollouts right" {
    tiny_world
    alarm-sft --init "$T/cfg.json" --tokenizer "$T/tok.json" --out "$T/run" --val "$T/val.jsonl" \
        --epochs 8 "${SFT_COPY[@]}" --db "$T/s.db" "$T/train.jsonl"
    # one row before training and one per epoch; the loss falls to under a tenth of its start
    [ "$(sqlite3 "$T/s.db" 'SELECT count(*) FROM train_evals')" -eq 9 ]
    sqlite3 "$T/s.db" "SELECT (SELECT val_loss FROM train_evals WHERE step = 0) >
        10 * (SELECT val_loss FROM train_evals WHERE step = 1000)" | grep -qx 1
    [ "$(sqlite3 "$T/s.db" "SELECT status FROM runs")" = ok ]
    # a checkpoint transformers' layout, the tokenizer inside, the best beside it
    jq -e '.model_type == "gpt2" and .torch_dtype == "float32"' "$T/run/config.json"
    [ -f "$T/run/tokenizer.json" ] && [ -f "$T/run.best/model.safetensors" ]
    jq -e '.step == 1000 and .best_step > 500 and .settings.examples == 2000' \
        "$T/run/trainer_state.json"
    # held-out prompts: the greedy answer is the copy, ended by the EOS
    alarm-rollout --model "$T/run" --greedy --max-new-tokens 10 "$T/val.jsonl" >"$T/r.jsonl"
    right=$(jq -r 'select(.finish == "eos" and
        .response == (.prompt | ltrimstr("copy ") | rtrimstr(":") | " " + .)) | .id' "$T/r.jsonl" | wc -l)
    echo "right: $right / 200"
    [ "$right" -ge 160 ]
}


@test "killed with -9 and resumed, it ends bit for bit where an uninterrupted run ends" {
    tiny_world
    args=(--init "$T/cfg.json" --tokenizer "$T/tok.json" --val "$T/val.jsonl" --steps 60
          --save-every 10 --grad-accum 2 --threads 1 "${SFT_COPY[@]}" "$T/train.jsonl")
    alarm-sft --out "$T/a" "${args[@]}"
    killed_and_resumed 20 alarm-sft "${args[@]}"
    same_files "$T/a" "$T/b" model.safetensors optimizer.safetensors trainer_state.json
    cmp "$T/a.best/model.safetensors" "$T/b.best/model.safetensors"
    # --resume with nothing to resume starts afresh, and gives the same run again
    alarm-sft --out "$T/c" --resume "${args[@]}"
    cmp "$T/a/model.safetensors" "$T/c/model.safetensors"
}

@test "--dropout: the same run twice at one thread, unlike the run without; resumed after kill -9, exact" {
    tiny_world
    args=(--init "$T/cfg.json" --tokenizer "$T/tok.json" --val "$T/val.jsonl" --steps 30
          --save-every 10 --threads 1 "${SFT_COPY[@]}" "$T/train.jsonl")
    alarm-sft --out "$T/a" --dropout --db "$T/a.db" "${args[@]}"
    alarm-sft --out "$T/n" --db "$T/n.db" "${args[@]}"
    if cmp -s "$T/a/model.safetensors" "$T/n/model.safetensors"; then false; fi
    # the evaluations run without dropout: the one before training is the plain run's
    q='SELECT val_loss FROM train_evals WHERE step = 0'
    [ "$(sqlite3 "$T/a.db" "$q")" = "$(sqlite3 "$T/n.db" "$q")" ]
    q='SELECT val_loss FROM train_evals WHERE step = 30'
    [ "$(sqlite3 "$T/a.db" "$q")" != "$(sqlite3 "$T/n.db" "$q")" ]
    killed_and_resumed 10 alarm-sft --dropout "${args[@]}"
    same_files "$T/a" "$T/b" model.safetensors optimizer.safetensors trainer_state.json
    # the checkpoint keeps GPT2Config's probabilities for the next trainer
    jq -e '.embd_pdrop == 0.1 and .attn_pdrop == 0.1 and .resid_pdrop == 0.1' "$T/a/config.json"
}

@test "bf16 weights on disk: the fp32 master copy keeps the resume exact" {
    tiny_world
    args=(--init "$T/cfg.json" --tokenizer "$T/tok.json" --steps 30 --save-every 10
          --save-dtype bf16 --threads 1 "${SFT_COPY[@]}" "$T/train.jsonl")
    alarm-sft --out "$T/a" "${args[@]}"
    jq -e '.torch_dtype == "bfloat16"' "$T/a/config.json"
    killed_and_resumed 10 alarm-sft "${args[@]}"
    same_files "$T/a" "$T/b" model.safetensors optimizer.safetensors
}

@test "--resume with other settings or other data is refused, naming what differs" {
    tiny_world
    args=(--init "$T/cfg.json" --tokenizer "$T/tok.json" --steps 10 "${SFT_COPY[@]}")
    alarm-sft --out "$T/a" "${args[@]}" "$T/train.jsonl"
    run alarm-sft --out "$T/a" --resume "${args[@]}" --weight-decay 0.1 "$T/train.jsonl"
    [ "$status" -eq 1 ]
    [[ "$output" == *"saved with weight_decay 0, this one has 0.1"* ]]
    head -100 "$T/train.jsonl" >"$T/less.jsonl"
    run alarm-sft --out "$T/a" --resume "${args[@]}" "$T/less.jsonl"
    [ "$status" -eq 1 ]
    [[ "$output" == *"saved with examples 2000, this one has 100"* ]]
}

@test "fine-tuning a checkpoint: the loss is on each response and one EOS, not the prompt" {
    printf '%s\n' '{"id":"a","prompt":"question: who wrote it? answer:","response":" It was written in 1999."}' \
        '{"id":"b","prompt":"x","response":" y"}' >"$T/d.jsonl"
    alarm-sft --model "$M" --out "$T/o" --steps 3 --lr 1e-2 --batch 2 --db "$T/s.db" -q "$T/d.jsonl"
    # target tokens per step: the responses' own tokens and one EOS each
    ntok=$(jq -c '{text: .response}' "$T/d.jsonl" | alarm-model tokenize --tokenizer "$M" |
        jq -s 'map(.ids | length) | add')
    [ "$(sqlite3 "$T/s.db" 'SELECT group_concat(tokens) FROM train_evals')" = "$((ntok + 2)),$((2 * (ntok + 2))),$((3 * (ntok + 2)))" ]
    jq -e '.step == 3 and .tokens == 3 * ('"$ntok"' + 2)' "$T/o/trainer_state.json"
    # the response got likelier, and the checkpoint loads where the original did
    printf '%s\n' '{"id":"a","prompt":"question: who wrote it? answer:","response":" It was written in 1999."}' >"$T/a.jsonl"
    before=$(alarm-model logprobs --model "$M" "$T/a.jsonl" | jq '.logprobs | add')
    after=$(alarm-model logprobs --model "$T/o" "$T/a.jsonl" | jq '.logprobs | add')
    echo "response log-likelihood $before -> $after"
    jq -ne "$after > $before + 1"
}

@test "bad records: missing fields, an empty response, too long (or truncated, counted)" {
    printf '%s\n' '{"id":"a","prompt":"p q","response":" r"}' '{"id":"b","response":" r"}' >"$T/np.jsonl"
    run alarm-sft --model "$M" --out "$T/o" "$T/np.jsonl"
    [ "$status" -eq 1 ]
    [[ "$output" == *"np.jsonl:2"*'"prompt"'* ]]
    printf '%s\n' '{"id":"a","prompt":"p"}' >"$T/nr.jsonl"
    run alarm-sft --model "$M" --out "$T/o" "$T/nr.jsonl"
    [[ "$status" -eq 1 && "$output" == *"nr.jsonl:1"*'"response"'* ]]
    printf '%s\n' '{"id":"a","prompt":"p","response":""}' >"$T/er.jsonl"
    run alarm-sft --model "$M" --out "$T/o" "$T/er.jsonl"
    [[ "$status" -eq 1 && "$output" == *"er.jsonl:1"*'"response": empty'* ]]
    long=$(printf 'word %.0s' $(seq 40))
    printf '{"id":"ok","prompt":"p","response":" r"}\n{"id":"long","prompt":"%s","response":" r"}\n' \
        "$long" >"$T/long.jsonl"
    run alarm-sft --model "$M" --out "$T/o" --max-len 16 "$T/long.jsonl"
    [[ "$status" -eq 1 && "$output" == *'long.jsonl:2: id "long"'*"exceed --max-len"* ]]
    [ ! -e "$T/o" ]
    run alarm-sft --model "$M" --out "$T/o" --max-len 16 --truncate left --steps 1 "$T/long.jsonl"
    [ "$status" -eq 0 ]
    [[ "$output" == *"1 demonstrations truncated to --max-len 16"* ]]
    run alarm-sft --model "$M" --out "$T/o2" /dev/null
    [[ "$status" -eq 1 && "$output" == *"no demonstration records"* ]]
}

@test "a tokenizer larger than the model's vocabulary is refused" {
    jq '.vocab_size = 300' "$M/config.json" >"$T/cfg.json"
    run alarm-sft --init "$T/cfg.json" --tokenizer "$M/tokenizer.json" --out "$T/o" "$M/../records.jsonl"
    [ "$status" -eq 1 ]
    [[ "$output" == *"has 600 tokens, more than the model's vocabulary of 300"* ]]
}

@test "a NaN loss stops at its step and leaves the last good checkpoint as it was" {
    printf '%s\n' '{"id":"a","prompt":"x","response":" y"}' >"$T/d.jsonl"
    alarm-sft --model "$M" --out "$T/o" --steps 1 -q "$T/d.jsonl"
    cp -r "$M" "$T/bad"
    python3 "$ROOT/tests/lib/st_set.py" "$T/bad/model.safetensors" transformer.wte.weight 5 nan
    md5sum "$T/o"/* >"$T/before"
    run alarm-sft --model "$T/bad" --no-check-weights --out "$T/o" --steps 3 --db "$T/s.db" "$T/d.jsonl"
    [ "$status" -eq 1 ]
    [[ "$output" == *"step 1: the loss is NaN"*"keeps the last good checkpoint"* ]]
    md5sum -c --quiet "$T/before"
    [ "$(sqlite3 "$T/s.db" 'SELECT status FROM runs')" = failed ]
    [ -z "$(ls "$T" | grep ckpt-tmp)" ]
}

@test "usage errors exit 2" {
    for bad in "--out x" "--model a --init b --out x" "--init c --out x" "--model a --tokenizer t --out x" \
        "--model a" "--model a --out x --epochs 2 --steps 3" "--model a --out x --schedule wavy" \
        "--model a --out x --save-dtype f8" "--model a --out x --batch 0"; do
        run alarm-sft $bad
        echo "$bad -> $status"
        [ "$status" -eq 2 ]
    done
}

# tests/gen_sft_fixtures.py trained these models with the same command and
# computed the log-probabilities with PyTorch from the checkpoint's tensors.
@test "PyTorch reads alarm-sft's checkpoints (GPT-2, Llama): its log-probabilities are alarm-model's" {
    F="$ROOT/tests/fixtures/sft"
    copy_task 200 "$T/train.jsonl" 1
    alarm-model train-tokenizer -q --vocab-size 257 --out "$T/tok.json" "$T/train.jsonl"
    read -r -a args < "$F/sft-args"
    for name in gpt2 llama; do
        alarm-sft --init "$F/$name.json" --tokenizer "$T/tok.json" --out "$T/$name" "${args[@]}" "$T/train.jsonl"
        jq -c '{prompt, response}' "$F/$name.jsonl" |
            alarm-model logprobs -q --threads 1 --model "$T/$name" > "$T/$name.lp"
        # the same tokens, and no log-probability further than 1e-4 from PyTorch's
        [ "$(jq -c '[.prompt_tokens, .response_tokens]' "$T/$name.lp")" = \
          "$(jq -c '[.prompt_tokens, .response_tokens]' "$F/$name.jsonl")" ]
        paste <(jq -c .logprobs "$T/$name.lp") <(jq -c .torch_logprobs "$F/$name.jsonl") |
            jq -R -s -e '[split("\n")[] | select(length > 0) | split("\t") | map(fromjson) |
                          transpose[] | .[0] - .[1] | fabs] | length > 20 and max < 1e-4'
    done
}

# lora_run DIR [ARGS...]: 30 LoRA steps on the copy task from the fixture LM.
lora_run() {
    out="$1"; shift
    copy_task 400 "$T/train.jsonl" 1
    copy_task 50 "$T/val.jsonl" 2
    alarm-sft --model "$M" --out "$out" --val "$T/val.jsonl" --steps 30 --lr 1e-2 --batch 8 \
        --max-len 32 --threads 1 -q --db "$T/s.db" "$@" "$T/train.jsonl"
}

@test "--lora: the loss falls, the base stays as it was and the checkpoint is a PEFT adapter directory" {
    sum=$(sha256sum "$M/model.safetensors")
    lora_run "$T/run" --lora r=4,alpha=8,targets=c_attn,c_fc
    sqlite3 "$T/s.db" "SELECT (SELECT val_loss FROM train_evals WHERE step = 0) >
        (SELECT val_loss FROM train_evals WHERE step = 30) + 0.5" | grep -qx 1
    [ "$(sha256sum "$M/model.safetensors")" = "$sum" ]
    # adapters only: no base weights, no config.json of a full checkpoint
    [ ! -e "$T/run/config.json" ] && [ ! -e "$T/run/model.safetensors" ]
    jq -e --arg base "$M" '.peft_type == "LORA" and .r == 4 and .lora_alpha == 8 and
        .lora_dropout == 0.05 and .target_modules == ["c_attn", "c_fc"] and .bias == "none" and
        .task_type == "CAUSAL_LM" and .fan_in_fan_out == true and
        .base_model_name_or_path == $base' "$T/run/adapter_config.json"
    alarm-model info "$T/run" >"$T/info.json"
    jq -e '.lora.adapter_tensors | length == 8 and
        index("base_model.model.transformer.h.0.attn.c_attn.lora_A.weight") != null and
        index("base_model.model.transformer.h.1.mlp.c_fc.lora_B.weight") != null' "$T/info.json"
    # trainable: r (in + out) per adapter, 2 layers of c_attn (32 -> 96) and c_fc (32 -> 128)
    jq -e '.lora.trainable_parameters == 2 * 4 * ((32 + 96) + (32 + 128))' "$T/info.json"
}

@test "--lora: merge-lora writes a checkpoint with the adapter's log-probabilities; both sample" {
    lora_run "$T/run" --lora r=4,alpha=8
    alarm-model merge-lora "$T/run" --out "$T/merged"
    jq -e '.model_type == "gpt2"' "$T/merged/config.json"
    head -20 "$T/val.jsonl" >"$T/few.jsonl"
    alarm-model logprobs --model "$T/run" "$T/few.jsonl" | jq -c .logprobs >"$T/a"
    alarm-model logprobs --model "$T/merged" "$T/few.jsonl" | jq -c .logprobs >"$T/b"
    alarm-model logprobs --model "$M" "$T/few.jsonl" | jq -c .logprobs >"$T/base"
    jq -n --slurpfile a "$T/a" --slurpfile b "$T/b" \
        '[$a, $b] | transpose | map(transpose | map(.[0] - .[1] | fabs)) | flatten | max < 1e-4'
    if cmp -s "$T/a" "$T/base"; then false; fi # the adapters changed the model
    alarm-rollout --model "$T/run" --greedy --max-new-tokens 6 "$T/few.jsonl" >"$T/r1"
    alarm-rollout --model "$T/merged" --greedy --max-new-tokens 6 "$T/few.jsonl" >"$T/r2"
    [ "$(jq -c .response "$T/r1")" = "$(jq -c .response "$T/r2")" ]
}

@test "--lora: killed with -9 and resumed, the adapters end bit for bit as an uninterrupted run's" {
    copy_task 400 "$T/train.jsonl" 1
    args=(--model "$M" --lora r=4,alpha=8 --steps 40 --save-every 10 --grad-accum 2 --threads 1
          --lr 1e-2 --batch 8 --max-len 32 -q "$T/train.jsonl")
    alarm-sft --out "$T/a" "${args[@]}"
    killed_and_resumed 20 alarm-sft "${args[@]}"
    same_files "$T/a" "$T/b" adapter_model.safetensors optimizer.safetensors
}

@test "--lora errors: a target the model lacks, a bad key, with --init (exit 2); a broken adapter (exit 1)" {
    copy_task 20 "$T/train.jsonl" 1
    run alarm-sft --model "$M" --lora targets=q_proj --out "$T/x" "$T/train.jsonl"
    [ "$status" -eq 2 ] && [[ "$output" == *'target "q_proj" matches no module of this GPT-2 model'* ]]
    run alarm-sft --model "$M" --lora rank=4 --out "$T/x" "$T/train.jsonl"
    [ "$status" -eq 2 ] && [[ "$output" == *'unknown key "rank"'* ]]
    run alarm-sft --model "$M" --lora r=0 --out "$T/x" "$T/train.jsonl"
    [ "$status" -eq 2 ] && [[ "$output" == *'--lora r'* ]]
    tiny_world
    run alarm-sft --init "$T/cfg.json" --tokenizer "$T/tok.json" --lora default --out "$T/x" \
        "$T/train.jsonl"
    [ "$status" -eq 2 ] && [[ "$output" == *"--lora trains adapters on a checkpoint"* ]]
    mkdir "$T/bad"
    echo '{"peft_type": "LORA", "r": 4, "lora_alpha": 8, "target_modules": ["c_attn"],
           "base_model_name_or_path": "'"$M"'"}' >"$T/bad/adapter_config.json"
    run alarm-sft --model "$T/bad" --out "$T/x" "$T/train.jsonl"
    [ "$status" -eq 1 ] && [[ "$output" == *"adapter_model.safetensors"* ]]
    [ ! -e "$T/x" ]
}
