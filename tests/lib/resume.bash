# Killing a trainer mid-run and resuming it, for the trainers' tests.

# kill_at DIR STEP PID: kill -9 PID once DIR holds the checkpoint of STEP.
kill_at() {
    while ! grep -qs "\"step\":[[:space:]]*$2," "$1/trainer_state.json"; do sleep 0.02; done
    kill -9 "$3"
    wait "$3" || true
}

# killed_and_resumed STEP TOOL ARGS...: TOOL --out $T/b ARGS, killed with -9
# once its checkpoint of STEP is written (checked to be before the run's last
# step), then TOOL --out $T/b --resume ARGS to the end.
killed_and_resumed() {
    local step=$1 tool=$2
    shift 2
    "$tool" --out "$T/b" "$@" &
    kill_at "$T/b" "$step" $!
    jq -e '.step < .settings.total_steps' "$T/b/trainer_state.json" >/dev/null
    "$tool" --out "$T/b" --resume "$@"
}

# same_files A B FILE...: each FILE of directory A equals B's, byte for byte.
same_files() {
    local a=$1 b=$2 f
    shift 2
    for f; do cmp "$a/$f" "$b/$f"; done
}
