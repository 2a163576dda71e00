#!/usr/bin/env bats
# The trainers under mpirun (`make MPI=1`, built into BUILD-mpi by `make test`
# when Open MPI is installed; ALARM_TEST_MPI_BUILD says where): two ranks take the one-process steps (losses
# and statistics equal, weights within fp32 rounding), rank 0 alone writes one
# run into the store, and a failure on rank 1 (a bad record it alone reads, a
# NaN only its model gives, weights that diverge) stops both ranks with its
# message and writes no checkpoint.

load lib/resume

setup() {
    ROOT="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
    B="${ALARM_TEST_BUILD:-$ROOT/build}"
    PATH="$B/bin:$PATH"
    MPI="${ALARM_TEST_MPI_BUILD:-$B-mpi}/bin"
    M="$ROOT/tests/fixtures/tfm/lm_gpt2_tok"
    T="$BATS_TEST_TMPDIR"
    command -v mpirun >/dev/null || skip "mpirun not installed (apt-get install openmpi-bin libopenmpi-dev)"
    [ -x "$MPI/alarm-ppo" ] || skip "no MPI build in $MPI (make test builds it when pkg-config finds ompi-c)"
    # CI runs as root. The sanitizer's leak check is off for the ranks: what it
    # reports is Open MPI's (its plugins, unloaded at exit); dist_mpi.c allocates
    # nothing and the serial runs of the same code keep the check.
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader
    export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
    SFT=(--model "$M" --steps 4 --save-every 2 --lr 3e-3 --batch 7 --grad-accum 2 --max-len 32 --threads 1 -q)
    PPO=(--ref "$M" --lr 1e-3 --mini-batch 4 --threads 1)
}

np2() { mpirun --allow-run-as-root --oversubscribe -np 2 "$@"; }
# on_rank1 A B TOOL ARGS...: TOOL ARGS A on rank 0, TOOL ARGS B on rank 1
on_rank1() {
    local a="$1" b="$2"
    shift 2
    np2 sh -c 'f=$1; [ "$OMPI_COMM_WORLD_RANK" = 1 ] && f=$2; shift 2; exec "$@" "$f"' sh "$a" "$b" "$@"
}
close() { python3 "$ROOT/tests/lib/close.py" "$@"; }
# losses DB: the train_evals rows as text
losses() { sqlite3 "$1" 'SELECT step, printf("%.6g", train_loss), tokens FROM train_evals'; }

demos() { awk -v n="$1" -v seed=1 -f "$ROOT/pipelines/copy-task.awk" >"$2"; }

@test "alarm-sft: two ranks take the one-process steps; rank 0 writes one run" {
    demos 64 "$T/d.jsonl"
    alarm-sft "${SFT[@]}" --out "$T/one" --db "$T/one.db" "$T/d.jsonl"
    np2 "$MPI/alarm-sft" "${SFT[@]}" --out "$T/two" --db "$T/two.db" "$T/d.jsonl"
    [ "$(losses "$T/one.db")" = "$(losses "$T/two.db")" ]
    [ "$(losses "$T/two.db" | wc -l)" -eq 2 ]
    # lr 3e-3: rounding moves a weight by about 1e-4 (Adam on gradients near 0), a share weighed wrongly
    # by about the lr and changes the losses
    close weights "$T/one" "$T/two" 1e-3
    [ "$(sqlite3 "$T/two.db" 'SELECT count(*) || status FROM runs')" = 1ok ]
    cmp "$T/one/trainer_state.json" "$T/two/trainer_state.json"
}

@test "alarm-rm: two ranks take the one-process steps on preference pairs" {
    awk -v kind=seq -v n=40 -v seed=1 -f "$ROOT/pipelines/copy-rm.awk" >"$T/p.jsonl"
    args=(--kind seq --model "$M" --steps 3 --lr 3e-3 --batch 5 --max-len 32 --threads 1 -q)
    alarm-rm "${args[@]}" --out "$T/one" --db "$T/one.db" "$T/p.jsonl"
    np2 "$MPI/alarm-rm" "${args[@]}" --out "$T/two" --db "$T/two.db" "$T/p.jsonl"
    [ "$(losses "$T/one.db")" = "$(losses "$T/two.db")" ]
    # the final norm's bias shifts both scores of a pair: Bradley-Terry's gradient is rounding noise
    close weights "$T/one" "$T/two" 1e-4 '^transformer\.ln_f\.bias$'
    close json "$T/one/rm.json" "$T/two/rm.json" 1e-6 1e-5
}

# combined FILE: 24 combined records sampled from the fixture policy
combined() {
    alarm-rollout --model "$M" -n 4 --no-eos --max-new-tokens 8 --seed 1 "$ROOT/data/rollout-prompts.jsonl" |
        jq -c '.rewards = {hits: {value: ([.response_tokens[] | select(. < 100)] | length)}}' |
        alarm-select -q --mode holistic --holistic hits --holistic-weight 1 >"$1"
}

@test "alarm-ppo: two ranks take the one-process step and the next one of the chain" {
    combined "$T/c.jsonl"
    for k in 1 2; do
        alarm-ppo --policy "$M" "${PPO[@]}" --grad-accum $k --out "$T/one$k" "$T/c.jsonl" >"$T/one$k.json"
        np2 "$MPI/alarm-ppo" --policy "$M" "${PPO[@]}" --grad-accum $k --out "$T/two$k" --db "$T/s.db" \
            "$T/c.jsonl" >"$T/two$k.json"
        [ "$(wc -l <"$T/two$k.json")" -eq 1 ]
        close json "$T/one$k.json" "$T/two$k.json" 1e-6 1e-5
        close weights "$T/one$k" "$T/two$k" 1e-4
    done
    # the chain's second step from each one's first: the controller's coefficient carried
    alarm-ppo --policy "$T/one2" "${PPO[@]}" --grad-accum 2 --out "$T/one3" "$T/c.jsonl" >"$T/one3.json"
    np2 "$MPI/alarm-ppo" --policy "$T/two2" "${PPO[@]}" --grad-accum 2 --out "$T/two3" "$T/c.jsonl" >"$T/two3.json"
    jq -e '.step == 2' "$T/two3.json"
    close json "$T/one3.json" "$T/two3.json" 1e-6 1e-4
    close weights "$T/one3" "$T/two3" 1e-4
    [ "$(sqlite3 "$T/s.db" 'SELECT count(*) FROM runs WHERE status = "ok"')" -eq 2 ]
    [ "$(sqlite3 "$T/s.db" 'SELECT count(*) FROM ppo_steps')" -eq 2 ]
}

@test "a bad record only rank 1 reads stops both ranks with its message; no checkpoint, the run failed" {
    demos 64 "$T/d.jsonl"
    sed '5s/.*/{"prompt": "x", "response": 3}/' "$T/d.jsonl" >"$T/bad.jsonl"
    run on_rank1 "$T/d.jsonl" "$T/bad.jsonl" "$MPI/alarm-sft" "${SFT[@]}" --out "$T/o" --db "$T/s.db"
    echo "$output"
    [ "$status" -ne 0 ]
    [[ "$output" == *"alarm-sft: rank 1: $T/bad.jsonl:5: field \"response\": expected a string"* ]]
    [ "$(grep -c 'field "response"' <<<"$output")" -eq 1 ]
    [ ! -e "$T/o" ] && [ -z "$(ls "$T" | grep ckpt-tmp)" ]
    [ "$(sqlite3 "$T/s.db" 'SELECT count(*) || status || message FROM runs')" = \
      "1failedrank 1: $T/bad.jsonl:5: field \"response\": expected a string" ]
    # alarm-ppo: nothing on standard output either
    combined "$T/c.jsonl"
    sed '3s/"dense":\[/"dense":["x",/' "$T/c.jsonl" >"$T/cbad.jsonl"
    run on_rank1 "$T/c.jsonl" "$T/cbad.jsonl" "$MPI/alarm-ppo" --policy "$M" "${PPO[@]}" --out "$T/p"
    [ "$status" -ne 0 ]
    [[ "$output" == *"alarm-ppo: rank 1: $T/cbad.jsonl:3: field \"reward.dense\""* ]]
    [[ "$output" != *'"objective/kl"'* ]]
    [ ! -e "$T/p" ]
}

@test "a NaN loss on rank 1 alone stops both ranks at that step; weights that diverge are never written" {
    demos 64 "$T/d.jsonl"
    cp -r "$M" "$T/nan"
    python3 "$ROOT/tests/lib/st_set.py" "$T/nan/model.safetensors" transformer.ln_f.weight 0 nan
    args=(--steps 2 --lr 3e-3 --batch 8 --max-len 32 --threads 1 -q --no-check-weights --out "$T/o" "$T/d.jsonl")
    run on_rank1 "$M" "$T/nan" "$MPI/alarm-sft" "${args[@]}" --model
    echo "$output"
    [ "$status" -ne 0 ]
    [[ "$output" == *"alarm-sft: step 1: the loss is NaN"* ]]
    [ ! -e "$T/o" ]
    # rank 1 starts from other (finite) weights: the ranks' weights differ at the checkpoint
    cp -r "$M" "$T/other"
    python3 "$ROOT/tests/lib/st_set.py" "$T/other/model.safetensors" transformer.ln_f.weight 0 0.5
    run on_rank1 "$M" "$T/other" "$MPI/alarm-sft" "${args[@]}" --model
    echo "$output"
    [ "$status" -ne 0 ]
    [[ "$output" == *"alarm-sft: rank 1's weights differ from rank 0's: the ranks have diverged"* ]]
    [ ! -e "$T/o" ]
}

@test "a rank killed with -9 stops the run; --resume under mpirun ends bit for bit where an uninterrupted run ends" {
    demos 64 "$T/d.jsonl"
    # steps take milliseconds here: enough of them that the kill lands mid-run
    args=(--model "$M" --steps 1000 --save-every 10 --lr 3e-3 --batch 7 --max-len 32 --threads 1 -q "$T/d.jsonl")
    np2 "$MPI/alarm-sft" "${args[@]}" --out "$T/a"
    np2 "$MPI/alarm-sft" "${args[@]}" --out "$T/b" &
    local job=$!
    until [ "$(jq -r .step "$T/b/trainer_state.json" 2>/dev/null || echo 0)" -ge 10 ]; do sleep 0.02; done
    # rank 1 dies as a crashed node would; mpirun then ends rank 0
    pkill -9 -f -n "alarm-sft .*--out $T/b"
    local rc=0
    wait "$job" || rc=$?
    [ "$rc" -ne 0 ]
    [ "$(jq .step "$T/b/trainer_state.json")" -lt 1000 ]
    np2 "$MPI/alarm-sft" "${args[@]}" --out "$T/b" --resume
    same_files "$T/a" "$T/b" model.safetensors optimizer.safetensors trainer_state.json
}

@test "with --lora the ranks all-reduce the adapters' span: alarm-sft and alarm-ppo (no --ref) take the one-process steps" {
    demos 64 "$T/d.jsonl"
    alarm-sft "${SFT[@]}" --lora r=4,alpha=8 --out "$T/one" "$T/d.jsonl"
    np2 "$MPI/alarm-sft" "${SFT[@]}" --lora r=4,alpha=8 --out "$T/two" "$T/d.jsonl"
    [ -f "$T/two/adapter_model.safetensors" ]
    close weights "$T/one" "$T/two" 1e-4
    cmp "$T/one/trainer_state.json" "$T/two/trainer_state.json"
    combined "$T/c.jsonl"
    args=(--policy "$M" --lora r=4,alpha=8 --lr 1e-3 --mini-batch 4 --grad-accum 2 --threads 1)
    alarm-ppo "${args[@]}" --out "$T/p1" "$T/c.jsonl" >"$T/p1.json"
    np2 "$MPI/alarm-ppo" "${args[@]}" --out "$T/p2" "$T/c.jsonl" >"$T/p2.json"
    close json "$T/p1.json" "$T/p2.json" 1e-6 1e-5
    close weights "$T/p1" "$T/p2" 1e-4
}
