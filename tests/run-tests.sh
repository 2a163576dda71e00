#!/usr/bin/env bash
# Runs every unit-test program (cmocka, TAP output) and every tool test (bats),
# counts the results and ends with one line: "tests: N passed, N failed, N skipped".
# Exits non-zero when anything failed or a test program crashed.
# BUILD picks the build directory; ALARM_VALGRIND=1 runs unit tests under valgrind.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export PATH="$PWD/$BUILD/bin:$PATH"
export ALARM_TEST_BUILD="$PWD/$BUILD"
unset ALARM_DB

pass=0 fail=0 skip=0 crashed=()
tally() { # $1 = TAP output file; "# SKIP" counts as skipped whether ok or not ok
    local p f s
    s=$(grep -ciE '^(not )?ok .*# ?skip' "$1")
    p=$(grep -E '^ok ' "$1" | grep -civE '# ?skip')
    f=$(grep -E '^not ok ' "$1" | grep -civE '# ?skip')
    pass=$((pass + p)); skip=$((skip + s)); fail=$((fail + f))
}

tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    name=$(basename "$t")
    runner=()
    [ "${ALARM_VALGRIND:-0}" = 1 ] && runner=(valgrind -q --leak-check=full --error-exitcode=99)
    CMOCKA_MESSAGE_OUTPUT=TAP "${runner[@]}" "$t" >"$tmp/$name.tap" 2>"$tmp/$name.err"
    rc=$?
    sed "s/^/[$name] /" "$tmp/$name.tap"
    grep -v '^$' "$tmp/$name.err" | sed "s/^/[$name] /" >&2
    tally "$tmp/$name.tap"
    if [ $rc -ne 0 ] && [ "$(grep -E '^not ok ' "$tmp/$name.tap" | grep -civE '# ?skip')" = 0 ]; then
        crashed+=("$name (exit $rc)"); fail=$((fail + 1))
    fi
done

shopt -s nullglob
bats_files=(tests/*.bats)
if [ ${#bats_files[@]} -gt 0 ]; then
    bats --tap "${bats_files[@]}" >"$tmp/bats.tap" 2>&1
    rc=$?
    cat "$tmp/bats.tap"
    tally "$tmp/bats.tap"
    if [ $rc -ne 0 ] && ! grep -qE '^not ok ' "$tmp/bats.tap"; then
        crashed+=("bats (exit $rc)"); fail=$((fail + 1))
    fi
fi

for c in "${crashed[@]+"${crashed[@]}"}"; do echo "crashed: $c"; done
echo "tests: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
