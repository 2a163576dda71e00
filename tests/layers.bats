#!/usr/bin/env bats
# The layer check the build runs (tests/check-layers.sh): today's common/
# passes, and a copy of it with one offending line fails, naming FILE:LINE.

setup() {
    ROOT="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
    TMP="$(mktemp -d)"
    mkdir "$TMP/common"
    cp "$ROOT"/common/*.c "$ROOT"/common/*.h "$TMP/common/"
}

teardown() { rm -rf "$TMP"; }

check() { run "$ROOT/tests/check-layers.sh" "$TMP/common"; }

@test "common/ passes the layer check" {
    check
    [ "$status" -eq 0 ]
    [ -z "$output" ]
}

@test "the build runs the layer check before archiving the library" {
    grep -q 'check-layers.sh' "$ROOT/Makefile"
    grep -qE '^\$\(LIBA\):.*layers\.ok' "$ROOT/Makefile"
}

@test "fprintf to stderr in common/ fails the check with FILE:LINE" {
    echo 'static void warn_(void) { fprintf(stderr, "x\n"); }' >>"$TMP/common/err.c"
    n=$(wc -l <"$TMP/common/err.c")
    check
    [ "$status" -eq 1 ]
    [[ "$output" == *"common/err.c:$n: uses stdout or stderr"* ]]
}

@test "printf, puts and fputs to stdout fail the check" {
    for line in 'void a_(void) { printf("x"); }' 'void b_(void) { puts("x"); }' \
                'void c_(void) { fputs("x", stdout); }' 'void d_(void) { putc(1, stdout); }' \
                'void e_(void) { fwrite("x", 1, 1, stdout); }'; do
        cp "$ROOT/common/sha256.c" "$TMP/common/sha256.c"
        echo "$line" >>"$TMP/common/sha256.c"
        check
        [ "$status" -eq 1 ] || { echo "not caught: $line"; return 1; }
        [[ "$output" == *sha256.c:* ]]
    done
}

@test "getenv, secure_getenv and isatty fail the check" {
    for line in 'const char *a_(void) { return getenv("HOME"); }' \
                'const char *b_(void) { return secure_getenv("HOME"); }' \
                'int c_(void) { return isatty(2); }'; do
        cp "$ROOT/common/fsio.c" "$TMP/common/fsio.c"
        echo "$line" >>"$TMP/common/fsio.c"
        check
        [ "$status" -eq 1 ] || { echo "not caught: $line"; return 1; }
        [[ "$output" == *"fsio.c:"*"environment"* ]]
    done
}

@test "including getopt.h or a tools/lib header fails the check" {
    echo '#include <getopt.h>' >>"$TMP/common/db.h"
    check
    [ "$status" -eq 1 ]
    [[ "$output" == *"db.h:"*"getopt.h"* ]]
    cp "$ROOT/common/db.h" "$TMP/common/db.h"
    h=$(ls "$ROOT"/tools/lib/*.h | head -n1 | xargs basename)
    echo "#include \"$h\"" >>"$TMP/common/db.c"
    check
    [ "$status" -eq 1 ]
    [[ "$output" == *"db.c:"*"tools/lib header"* ]]
}

@test "writing to a FILE* the caller passes and comments naming stderr pass" {
    printf '%s\n' '/* writes to stderr when the caller passes it */' \
        'static void w_(FILE *out) { fprintf(out, "x"); fputs("y", out); }' >>"$TMP/common/err.c"
    check
    [ "$status" -eq 0 ]
}
