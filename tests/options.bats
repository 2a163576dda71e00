#!/usr/bin/env bats
# The options every tool and alarm-model subcommand lists in --help (made
# from its option table) are the ones its man page's OPTIONS section lists,
# both ways; and a subcommand that records nothing refuses --db.

setup() {
    ROOT="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
    BIN="${ALARM_TEST_BUILD:-$ROOT/build}/bin"
}

# Long option names in a --help text's option lines.
help_options() {
    sed -n 's/^  \(-[A-Za-z], \)\{0,1\}--\([a-z][a-z0-9-]*\).*/\2/p' | sort -u
}

# Long option names tagged (.TP) in the OPTIONS section of page $1; with $2,
# only in its subsection .SS $2; without, only before the first subsection.
# alarm-model(1) lists a subcommand's own options under .SS NAME and the
# options all subcommands take under .SS "every subcommand".
man_options() {
    awk -v want="${2:-}" '
        /^\.SH/ { in_opt = ($0 ~ /^\.SH "?OPTIONS"?$/); in_sub = (want == ""); tp = 0; next }
        in_opt && /^\.SS/ { s = substr($0, 5); gsub(/"/, "", s); in_sub = (s == want); tp = 0; next }
        in_opt && in_sub && tp { print }
        { tp = ($0 ~ /^\.TP/) }' "$1" |
        grep -o '\\-\\-[a-z][a-z0-9\\-]*' | sed 's/\\-/-/g; s/^--//' | sort -u
}

subcommands() {
    "$BIN/alarm-model" --help | awk '/^Commands/ { on = 1; next } on && /^$/ { exit } on { print $1 }'
}

compare() { # $1 = label, $2 = help options, $3 = man options
    if [ "$2" != "$3" ]; then
        echo "$1: --help and the man page's OPTIONS disagree"
        diff <(echo "$2") <(echo "$3") | sed 's/^</  only in --help:/; s/^>/  only in the man page:/' | grep only
        return 1
    fi
}

@test "alarm-model lists its subcommands in --help" {
    run subcommands
    [ "$status" -eq 0 ]
    [[ "$output" == *tokenize* && "$output" == *logprobs* ]]
}

@test "every tool's --help and man page OPTIONS list the same options" {
    for t in "$BIN"/alarm-*; do
        name=$(basename "$t")
        h=$("$t" --help | help_options)
        m=$(man_options "$ROOT/man/$name.1")
        [ -n "$h" ] || { echo "$name: no options in --help"; return 1; }
        compare "$name" "$h" "$m"
    done
}

@test "every alarm-model subcommand's --help and its OPTIONS subsection agree" {
    for c in $(subcommands); do
        h=$("$BIN/alarm-model" "$c" --help | help_options)
        m=$( (man_options "$ROOT/man/alarm-model.1" "$c"
              man_options "$ROOT/man/alarm-model.1" "every subcommand") | sort -u)
        [ -n "$h" ] || { echo "$c: no options in --help"; return 1; }
        compare "alarm-model $c" "$h" "$m"
    done
}

@test "the check catches an option missing from a man page" {
    sed '/^\.B \\-\\-sigmoid\\-shaping$/,+2d' "$ROOT/man/alarm-select.1" >"$BATS_TEST_TMPDIR/p.1"
    m=$(man_options "$BATS_TEST_TMPDIR/p.1")
    h=$("$BIN/alarm-select" --help | help_options)
    run compare alarm-select "$h" "$m"
    [ "$status" -eq 1 ]
    [[ "$output" == *"only in --help: sigmoid-shaping"* ]]
}

@test "--db to a subcommand that records nothing is a usage error" {
    for c in $(subcommands); do
        run "$BIN/alarm-model" "$c" --db "$BATS_TEST_TMPDIR/x.db"
        [ "$status" -eq 2 ] || { echo "$c: status $status"; return 1; }
        [[ "$output" == *"'--db' does not apply to alarm-model $c: it records nothing"* ]]
        [ ! -e "$BATS_TEST_TMPDIR/x.db" ]
    done
}
