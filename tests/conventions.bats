#!/usr/bin/env bats
# Every tool keeps the shared conventions: --help on stdout with exit 0,
# --version, a usage error with exit 2, and a man page.

setup() {
    ROOT="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
    BIN="${ALARM_TEST_BUILD:-$ROOT/build}/bin"
}

tools() { for t in "$BIN"/alarm-*; do [ -x "$t" ] && basename "$t"; done; }

@test "there are tools to check" {
    [ -n "$(tools)" ]
}

@test "every tool prints --help on stdout and exits 0" {
    for t in $(tools); do
        run "$BIN/$t" --help
        [ "$status" -eq 0 ] || { echo "$t --help: status $status"; return 1; }
        [[ "$output" == *usage* ]] || { echo "$t --help: no usage in: $output"; return 1; }
    done
}

@test "every tool prints its name and version for --version" {
    version=$(cat "$ROOT/VERSION")
    for t in $(tools); do
        run "$BIN/$t" --version
        [ "$status" -eq 0 ]
        [ "$output" = "$t (alarm) $version" ] || { echo "$t: '$output'"; return 1; }
    done
}

@test "every tool rejects an unknown option with exit 2 and a usage line" {
    for t in $(tools); do
        run "$BIN/$t" --no-such-option
        [ "$status" -eq 2 ] || { echo "$t: status $status"; return 1; }
        [[ "$output" == *usage:* ]] || { echo "$t: $output"; return 1; }
    done
}

@test "every tool has a man page" {
    for t in $(tools); do
        [ -f "$ROOT/man/$t.1" ] || { echo "missing man/$t.1"; return 1; }
    done
}

@test "man pages render without warnings" {
    command -v groff >/dev/null || skip "groff is not installed"
    for m in "$ROOT"/man/*.[1-9]; do
        out=$(groff -man -Tutf8 -ww -z "$m" 2>&1)
        [ -z "$out" ] || { echo "$m: $out"; return 1; }
    done
}

@test "a bad value of a shared option is a usage error naming the option" {
    for cmd in alarm-select alarm-judge "alarm-model tokenize" "alarm-model train-tokenizer"; do
        run $cmd --seed not-a-number
        [ "$status" -eq 2 ] || { echo "$cmd: status $status"; return 1; }
        [[ "$output" == *"--seed: 'not-a-number' is not a non-negative integer"* ]] || { echo "$cmd: $output"; return 1; }
    done
}

# Many records of one line, for the closed-pipe test.
many() { for i in $(seq 1 "$2"); do cat "$1"; done; }

@test "every record-writing tool ends quietly, exit 0, when its reader closes the pipe" {
    T="$BATS_TEST_TMPDIR"
    F="$ROOT/tests/fixtures"
    awk '{ for (i = 0; i < 2000; i++) { r = $0; gsub(/"q/, "\"p" i "q", r); print r } }' \
        "$F/select/scored.jsonl" >"$T/scored"
    many "$F/tfm/records.jsonl" 3000 >"$T/records"
    checks=(
        "'$BIN/alarm-select' -q --aspect factuality '$T/scored'"
        "'$BIN/alarm-model' tokenize --field prompt --tokenizer '$F/tfm/lm_gpt2_tok' '$T/records'"
        "'$BIN/alarm-model' logprobs --model '$F/tfm/lm_gpt2_tok' '$T/records'"
    )
    for c in "${checks[@]}"; do
        run bash -c "set -o pipefail; $c | head -n 1 >/dev/null"
        [ "$status" -eq 0 ] || { echo "$c: status $status: $output"; return 1; }
        [ -z "$output" ] || { echo "$c: said: $output"; return 1; }
    done
}

@test "usage errors exit 2: a system not NAME=FILE or named twice, an option the model cannot take" {
    J="$ROOT/tests/fixtures/judge"
    run alarm-judge --by-reward fact "$J/hier.jsonl" "$J/hol.jsonl"
    [ "$status" -eq 2 ] && [[ "$output" == *"NAME=FILE"* ]]
    run alarm-judge --by-reward fact a="$J/hier.jsonl" a="$J/hol.jsonl"
    [ "$status" -eq 2 ] && [[ "$output" == *'system name "a" is given twice'* ]]
    run alarm-model logprobs --model "$ROOT/tests/fixtures/tfm/lm_gpt2_tok" --max-tokens 65 </dev/null
    [ "$status" -eq 2 ] && [[ "$output" == *"exceeds the model's 64 positions"* ]]
}

@test "no test asserts with a bare '! command': bats ignores its status unless it is the last line" {
    run grep -nE '^\s*! ' "$BATS_TEST_DIRNAME"/*.bats
    echo "$output"
    [ "$status" -eq 1 ]
}
