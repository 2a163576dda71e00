#!/usr/bin/env bats
# alarm-rm: a sequence reward model learns synthetic preferences and a span
# model synthetic span labels (held-out accuracy asserted), the checkpoints'
# transformers layout and rm.json, kill -9 + --resume bit for bit, the
# store's rows, a language model's backbone under a new head, and each bad
# input alarm-rm(1) names.

load lib/resume

setup() {
    ROOT="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
    PATH="${ALARM_TEST_BUILD:-$ROOT/build}/bin:$PATH"
    T="$BATS_TEST_TMPDIR"
}

# records KIND N FILE SEED (pipelines/copy-rm.awk)
records() { awk -v kind="$1" -v n="$2" -v seed="$4" -f "$ROOT/pipelines/copy-rm.awk" >"$3"; }

# A byte-level tokenizer (EOS id 0), the 2-layer GPT-2 config of alarm-sft's
# example, and training and held-out records of KIND.
tiny_world() {
    awk -v n=200 -v seed=1 -f "$ROOT/pipelines/copy-task.awk" >"$T/demo.jsonl"
    alarm-model train-tokenizer -q --vocab-size 257 --out "$T/tok.json" "$T/demo.jsonl"
    cp "$ROOT/data/copy-gpt2.json" "$T/cfg.json"
    records "$1" 600 "$T/train.jsonl" 1
    records "$1" 200 "$T/val.jsonl" 2
}

@test "seq: learns the preferences: held-out pairwise accuracy >= 0.9 from chance, score statistics saved" {
    tiny_world seq
    alarm-rm --kind seq --init "$T/cfg.json" --tokenizer "$T/tok.json" --out "$T/run" \
        --val "$T/val.jsonl" --epochs 2 --lr 3e-3 --schedule cosine --warmup 10 --batch 16 \
        --max-len 32 -q --db "$T/s.db" "$T/train.jsonl"
    sqlite3 "$T/s.db" 'SELECT step, val_loss, val_accuracy FROM train_evals'
    [ "$(sqlite3 "$T/s.db" 'SELECT count(*) FROM train_evals')" -eq 3 ]
    # before training about chance; after it, at least 0.9 and a far lower loss
    sqlite3 "$T/s.db" "SELECT val_accuracy < 0.75 FROM train_evals WHERE step = 0" | grep -qx 1
    sqlite3 "$T/s.db" "SELECT val_accuracy >= 0.9 AND val_loss < 0.3 FROM train_evals
        WHERE step = 76" | grep -qx 1
    [ "$(sqlite3 "$T/s.db" 'SELECT status || tool FROM runs')" = okalarm-rm ]
    # transformers' GPT2ForSequenceClassification, one label, padding by the EOS
    jq -e '.architectures == ["GPT2ForSequenceClassification"] and .num_labels == 1 and
        .pad_token_id == 0 and (.id2label | length) == 1' "$T/run/config.json"
    [ -f "$T/run/tokenizer.json" ] && [ -f "$T/run.best/rm.json" ]
    # the statistics of the model's scores of the 1200 training responses
    jq -e '.kind == "seq" and .score.responses == 1200 and .score.std > 0 and
        (.score.mean | type) == "number"' "$T/run/rm.json"
    names "$T/run/model.safetensors" | grep -qx score.weight
    [ -z "$(names "$T/run/model.safetensors" | grep lm_head)" ]
}

@test "spans: per-label accuracy and F1 well above the majority baseline, labels in config.json" {
    tiny_world spans
    alarm-rm --kind spans --init "$T/cfg.json" --tokenizer "$T/tok.json" --out "$T/run" \
        --val "$T/val.jsonl" --labels good,bad --epochs 2 --lr 3e-3 --schedule cosine \
        --warmup 10 --batch 16 --max-len 32 -q --db "$T/s.db" "$T/train.jsonl"
    m=$(sqlite3 "$T/s.db" "SELECT val_metrics FROM train_evals WHERE step = 76")
    echo "$m"
    # about 0.7 of the spans are good: the baseline; the model gets both labels right
    jq -e '.majority_label == "good" and .majority_accuracy < 0.8 and
        .accuracy >= .majority_accuracy + 0.15 and
        .labels.good.accuracy >= 0.9 and .labels.bad.accuracy >= 0.8 and
        .labels.bad.f1 >= 0.8' <<<"$m"
    sqlite3 "$T/s.db" "SELECT val_accuracy > 0.9 FROM train_evals WHERE step = 76" | grep -qx 1
    jq -e '.architectures == ["GPT2ForTokenClassification"] and .num_labels == 2 and
        .id2label == {"0": "good", "1": "bad"} and .label2id == {"good": 0, "bad": 1}' \
        "$T/run/config.json"
    jq -e '.kind == "spans" and .labels == ["good", "bad"] and .segment == "sentence"' \
        "$T/run/rm.json"
}


@test "killed with -9 and resumed, it ends bit for bit where an uninterrupted run ends" {
    tiny_world seq
    args=(--kind seq --init "$T/cfg.json" --tokenizer "$T/tok.json" --val "$T/val.jsonl"
          --steps 120 --save-every 10 --grad-accum 2 --threads 1 --batch 8 --max-len 32 -q)
    alarm-rm --out "$T/a" "${args[@]}" "$T/train.jsonl"
    killed_and_resumed 10 alarm-rm "${args[@]}" "$T/train.jsonl"
    same_files "$T/a" "$T/b" model.safetensors optimizer.safetensors
    cmp "$T/a/rm.json" "$T/b/rm.json"
    # other data is refused
    head -n 100 "$T/train.jsonl" >"$T/less.jsonl"
    run alarm-rm --out "$T/a" --resume "${args[@]}" "$T/less.jsonl"
    echo "$output"
    [ "$status" -eq 1 ]
    [[ "$output" == *"examples"* ]]
}

@test "--dropout: the same run twice at one thread, unlike the run without" {
    tiny_world seq
    args=(--kind seq --init "$T/cfg.json" --tokenizer "$T/tok.json" --steps 10 --threads 1
          --batch 8 --max-len 32 -q "$T/train.jsonl")
    alarm-rm --out "$T/a" --dropout "${args[@]}"
    alarm-rm --out "$T/b" --dropout "${args[@]}"
    alarm-rm --out "$T/n" "${args[@]}"
    cmp "$T/a/model.safetensors" "$T/b/model.safetensors"
    if cmp -s "$T/a/model.safetensors" "$T/n/model.safetensors"; then false; fi
}

@test "--model: a language model's backbone gets a new head; a head of another kind is refused" {
    tiny_world seq
    alarm-sft --init "$T/cfg.json" --tokenizer "$T/tok.json" --out "$T/lm" --steps 2 \
        --batch 4 --max-len 32 -q "$T/demo.jsonl"
    alarm-rm --kind seq --model "$T/lm" --out "$T/rm" --steps 2 --batch 4 -q "$T/train.jsonl"
    jq -e '.architectures == ["GPT2ForSequenceClassification"]' "$T/rm/config.json"
    run alarm-rm --kind spans --model "$T/rm" --out "$T/sp" --steps 2 --batch 4 -q \
        "$T/train.jsonl"
    [ "$status" -eq 1 ]
    [[ "$output" == *"another kind"* ]]
}

# names FILE: the tensor names of a safetensors file, one a line
names() {
    python3 - "$1" <<'EOF'
import json, struct, sys
with open(sys.argv[1], "rb") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    print("\n".join(sorted(set(json.loads(f.read(n))) - {"__metadata__"})))
EOF
}

@test "Llama: the heads are score.weight (sequence) and score.weight/bias (tokens), as transformers names them" {
    tiny_world spans
    cat >"$T/llama.json" <<'EOF'
{"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 257,
 "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2, "num_attention_heads": 4,
 "num_key_value_heads": 2, "max_position_embeddings": 32, "rms_norm_eps": 1e-5,
 "rope_theta": 10000.0, "tie_word_embeddings": false, "bos_token_id": 0, "eos_token_id": 0}
EOF
    alarm-rm --kind spans --init "$T/llama.json" --tokenizer "$T/tok.json" --out "$T/sp" \
        --steps 2 --batch 4 -q "$T/train.jsonl"
    jq -e '.architectures == ["LlamaForTokenClassification"] and .num_labels == 2' \
        "$T/sp/config.json"
    [ "$(names "$T/sp/model.safetensors" | grep -E '^(score|lm_head)' | tr '\n' ' ')" = \
      "score.bias score.weight " ]
    records seq 50 "$T/prefs.jsonl" 3
    alarm-rm --kind seq --init "$T/llama.json" --tokenizer "$T/tok.json" --out "$T/sq" \
        --steps 2 --batch 4 -q "$T/prefs.jsonl"
    jq -e '.architectures == ["LlamaForSequenceClassification"] and .num_labels == 1' \
        "$T/sq/config.json"
    [ "$(names "$T/sq/model.safetensors" | grep -E '^(score|lm_head)')" = score.weight ]
}

@test "--model of a span model with other --labels is refused, naming both" {
    tiny_world spans
    alarm-rm --kind spans --init "$T/cfg.json" --tokenizer "$T/tok.json" --out "$T/sp" \
        --steps 2 --batch 4 --max-len 32 -q "$T/train.jsonl"
    alarm-rm --kind spans --model "$T/sp" --out "$T/sp2" --steps 2 --batch 4 -q "$T/train.jsonl"
    sed 's/"good"/"fine"/g' "$T/train.jsonl" >"$T/fine.jsonl"
    run alarm-rm --kind spans --labels fine,bad --model "$T/sp" --out "$T/sp3" --steps 2 \
        --batch 4 -q "$T/fine.jsonl"
    echo "$output"
    [ "$status" -eq 1 ]
    [[ "$output" == *'label 0 of the checkpoint is "good", not "fine" of --labels fine,bad'* ]]
}

# bad KIND 'RECORD' 'MESSAGE': alarm-rm fails naming FILE:LINE and the field
bad() {
    records "$1" 3 "$T/in.jsonl" 1
    printf '%s\n' "$2" >>"$T/in.jsonl"
    run alarm-rm --kind "$1" --init "$T/cfg.json" --tokenizer "$T/tok.json" --out "$T/x" \
        --steps 1 --batch 2 --max-len 32 -q "$T/in.jsonl"
    echo "$output"
    [ "$status" -eq 1 ]
    [[ "$output" == *"in.jsonl:4"* ]]
    [[ "$output" == *"$3"* ]]
    [ ! -e "$T/x" ]
}

@test "bad records: missing chosen or rejected, spans out of range, overlapping, unknown label" {
    tiny_world seq
    bad seq '{"id":"a","prompt":"p","chosen":" x"}' 'field "rejected"'
    bad seq '{"id":"a","prompt":"p","rejected":" x"}' 'field "chosen"'
    bad seq '{"id":"a","prompt":"p","chosen":"","rejected":" x"}' 'field "chosen": empty'
    bad spans '{"prompt":"p","response":" ab"}' 'field "spans"'
    bad spans '{"prompt":"p","response":" ab","spans":[]}' 'field "spans": empty'
    bad spans '{"prompt":"p","response":" ab","spans":[{"start":1,"end":4,"label":"good"}]}' \
        'field "spans[0]": [1, 4) is not a span of the response'"'"'s 3 bytes'
    bad spans '{"prompt":"p","response":" ab","spans":[{"start":2,"end":2,"label":"good"}]}' \
        'field "spans[0]"'
    bad spans '{"prompt":"p","response":" ab","spans":[{"start":0,"end":2,"label":"good"},{"start":1,"end":3,"label":"bad"}]}' \
        'field "spans[1]": [1, 3) overlaps'
    bad spans '{"prompt":"p","response":" ab","spans":[{"start":0,"end":2,"label":"meh"}]}' \
        'field "spans[0].label": "meh" is not one of --labels good,bad'
    bad spans '{"prompt":"p","response":" ab","spans":[{"start":0.5,"end":2,"label":"good"}]}' \
        'field "spans[0]"'
    bad spans '{"prompt":"p","response":" ab","spans":[{"end":2,"label":"good"}]}' \
        'field "spans[0].start"'
}

@test "usage errors exit 2" {
    run alarm-rm --init x.json --tokenizer t.json --out d
    [ "$status" -eq 2 ] && [[ "$output" == *"--kind"* ]]
    run alarm-rm --kind pairs --init x.json --tokenizer t.json --out d
    [ "$status" -eq 2 ] && [[ "$output" == *"--kind"* ]]
    run alarm-rm --kind seq --out d
    [ "$status" -eq 2 ]
    run alarm-rm --kind spans --segment paragraph --model m --out d
    [ "$status" -eq 2 ] && [[ "$output" == *"--segment"* ]]
    run alarm-rm --kind seq --model m
    [ "$status" -eq 2 ] && [[ "$output" == *"--out"* ]]
}

@test "bad --labels fail naming the option" {
    tiny_world spans
    for l in good good,good 'good,,bad'; do
        run alarm-rm --kind spans --labels "$l" --init "$T/cfg.json" --tokenizer "$T/tok.json" \
            --out "$T/x" --steps 1 -q "$T/train.jsonl"
        [ "$status" -eq 1 ] && [[ "$output" == *"--labels $l"* ]]
    done
}

@test "--lora: a score head trained beside the adapters; killed with -9 and resumed, bit for bit" {
    records seq 400 "$T/train.jsonl" 1
    M="$ROOT/tests/fixtures/tfm/lm_gpt2_tok"
    args=(--kind seq --model "$M" --lora r=4,alpha=8 --steps 60 --save-every 10 --batch 4
          --max-len 32 --threads 1 -q "$T/train.jsonl")
    alarm-rm --out "$T/a" "${args[@]}"
    jq -e '.task_type == "SEQ_CLS" and .peft_type == "LORA"' "$T/a/adapter_config.json"
    alarm-model info "$T/a" | jq -e '.heads == ["score"] and .labels == 1 and
        .lora.trainable_parameters == 32 + 2 * 4 * (32 + 96)'
    killed_and_resumed 20 alarm-rm "${args[@]}"
    same_files "$T/a" "$T/b" adapter_model.safetensors model.safetensors
}

@test "--lora with --kind spans is a usage error (label names live in config.json)" {
    records spans 20 "$T/train.jsonl" 1
    run alarm-rm --kind spans --model "$ROOT/tests/fixtures/tfm/lm_gpt2_tok" --lora default \
        --out "$T/x" "$T/train.jsonl"
    [ "$status" -eq 2 ] && [[ "$output" == *"--lora trains sequence reward models"* ]]
    [ ! -e "$T/x" ]
}
