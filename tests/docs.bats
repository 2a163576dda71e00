#!/usr/bin/env bats
# The repository explains itself: alarm-formats(5) has the numbered sections
# the code cites, and its section 8 describes the store the code creates;
# man pages point only to pages that exist; HACKING.md is there and linked;
# nothing cites the working documents the project was planned in.

setup() {
    ROOT="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
    BIN="${ALARM_TEST_BUILD:-$ROOT/build}/bin"
    T="$BATS_TEST_TMPDIR"
    FORMATS="$ROOT/man/alarm-formats.5"
}

# The .SH headings of a page, quotes removed, one a line.
headings() { sed -n 's/^\.SH  *//p' "$1" | tr -d '"'; }

# The text of section $2 of page $1 (from its .SH line to the next .SH).
section() {
    awk -v want="$2" '/^\.SH/ { s = substr($0, 5); gsub(/"/, "", s); on = (s == want); next }
                      on { print }' "$1"
}

# The files of the repository (tracked or new, not ignored).
repo_files() {
    (cd "$ROOT" && git ls-files --cached --others --exclude-standard 2>/dev/null |
        grep -vE '^(build|build-san|build-fuzz|runs)/' | while read -r f; do
            [ -f "$f" ] && echo "$f"; done)
}

@test "alarm-formats(5) has the eight numbered sections the code cites" {
    want='NAME
DESCRIPTION
1. INPUTS
2. ROLLOUT RECORD
3. SCORED RECORD
4. COMBINED REWARD
5. PPO
6. JUDGMENT RECORD
7. CHECKPOINTS
8. THE STORE
SEE ALSO'
    got=$(headings "$FORMATS")
    [ "$got" = "$want" ] || { diff <(echo "$want") <(echo "$got"); return 1; }
}

@test "every 'alarm-formats(5) section N' cited in the repository is a section of the page" {
    cited=$(cd "$ROOT" && repo_files |
            xargs grep -ohE 'alarm-formats\(5\),? sections? [0-9]+((, |,? and |-)[0-9]+)*' |
            sed 's/^[^)]*) *,\{0,1\} *sections\{0,1\}//' | grep -oE '[0-9]+' | sort -u)
    [ -n "$cited" ]
    for n in $cited; do
        headings "$FORMATS" | grep -qE "^$n\. " || { echo "section $n is cited but not in the page"; return 1; }
    done
}

@test "section 5 states the PPO semantics and defaults" {
    s=$(section "$FORMATS" "5. PPO" | sed 's/\\-/-/g')
    for w in "trl 0.5" "dense" "beta" "0.2" "target KL 6" "horizon 10000" "gamma" "0.95" \
             "ppo_epochs" "default 4" "clip" "0.1" "whitened" "value head"; do
        [[ "$s" == *"$w"* ]] || { echo "section 5 does not say: $w"; return 1; }
    done
}

@test "section 8 names every table and column of a new store, and its schema version" {
    "$BIN/alarm-select" --quiet --aspect factuality --db "$T/s.db" \
        "$ROOT/tests/fixtures/select/scored.jsonl" > /dev/null
    s=$(section "$FORMATS" "8. THE STORE")
    version=$(sqlite3 "$T/s.db" "PRAGMA user_version")
    [[ "$s" == *"this page describes version $version."* ]] ||
        { echo "the store has schema version $version; section 8 describes another"; return 1; }
    tables=$(sqlite3 "$T/s.db" "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    [ -n "$tables" ]
    # Each table has a paragraph ".TP / .B TABLE" in section 8 naming every column.
    for tb in $tables; do
        para=$(awk -v tb="$tb" '/^\.TP/ { tp = 1; on = 0; next }
                                tp { on = ($0 == ".B " tb); tp = 0; next }
                                /^\.S[HS]/ { on = 0 } on { print }' <<<"$s" | sed 's/\\f[BIRP]//g')
        [ -n "$para" ] || { echo "section 8 has no paragraph for table $tb"; return 1; }
        for col in $(sqlite3 "$T/s.db" "SELECT name FROM pragma_table_info('$tb')"); do
            grep -qwF -- "$col" <<<"$para" || { echo "table $tb: column $col is not described"; return 1; }
        done
    done
    # And no paragraph describes a table the store does not have.
    for tb in $(awk '/^\.TP/ { tp = 1; next } tp { if ($1 == ".B") print $2; tp = 0 }' <<<"$s"); do
        grep -qxF -- "$tb" <<<"$tables" || { echo "section 8 describes $tb, which a store does not have"; return 1; }
    done
}

# Manual pages a page may name that are not ours (installed by other packages).
EXTERNAL_PAGES='sqlite3(1) rename(2)'

# The NAME(N) references on the lines read from stdin: ".BR NAME (N)" and
# "NAME(N)" or "\fBNAME\fR(N)" in running text.
page_refs() {
    sed -e 's/\\f[BIRP]//g' -e 's/^\.[BIR][BIR]* //' -e 's/ (\([0-9]\))/(\1)/g' |
        grep -oE '[A-Za-z0-9_.-]+\([0-9]\)' | sort -u
}

is_page() { # is_page NAME(N): man/NAME.N exists
    local name=${1%(*} sec=${1#*(}
    sec=${sec%)}
    [ -f "$ROOT/man/$name.$sec" ]
}

@test "every page a SEE ALSO names is a page in man/ (or a known outside page)" {
    for m in "$ROOT"/man/*.[1-9]; do
        refs=$(section "$m" "SEE ALSO" | page_refs)
        [ -n "$refs" ] || { echo "$m: no SEE ALSO"; return 1; }
        for r in $refs; do
            is_page "$r" || [[ " $EXTERNAL_PAGES " == *" $r "* ]] ||
                { echo "$(basename "$m"): SEE ALSO names $r, which is not a page"; return 1; }
        done
    done
}

@test "every alarm page named anywhere in the manual or the README exists" {
    for f in "$ROOT"/man/*.[1-9] "$ROOT/README.md" "$ROOT/HACKING.md"; do
        [ -f "$f" ] || continue
        for r in $(page_refs < "$f" | grep '^alarm'); do
            is_page "$r" || { echo "$(basename "$f") names $r, which is not a page"; return 1; }
        done
    done
}

@test "the SEE ALSO check catches a page that does not exist" {
    printf '.SH NAME\nx\n.SH SEE ALSO\n.BR alarm-nothing (1),\n.BR alarm (7)\n' > "$T/x.1"
    refs=$(section "$T/x.1" "SEE ALSO" | page_refs)
    [ "$refs" = "alarm(7)
alarm-nothing(1)" ]
    if is_page alarm-nothing\(1\); then false; fi
    is_page alarm\(7\)
}

# The working documents the project was planned in, which the repository does
# not ship: a citation of one is a pointer to nothing.
PLANNING_DOCS='(FORMATS|STYLE|DESIGN)[.]md'

@test "no file cites the planning documents (FORMATS, STYLE, DESIGN)" {
    hits=$(cd "$ROOT" && repo_files |
           xargs grep -nHE "$PLANNING_DOCS" || true)
    [ -z "$hits" ] || { echo "$hits"; return 1; }
}

@test "HACKING.md exists, the README links it, and it names every layer and module" {
    h="$ROOT/HACKING.md"
    [ -f "$h" ]
    grep -qF '(HACKING.md)' "$ROOT/README.md"
    grep -q '^## The layers' "$h"   # tests/check-layers.sh points there
    for f in "$ROOT"/tools/lib/*.h; do
        m=$(basename "$f" .h)
        grep -qE "\`$m\`" "$h" || { echo "HACKING.md does not describe tools/lib/$m"; return 1; }
    done
    # Every module prefix of common/ (bpe_core.c -> bpe), named as `prefix` or `prefix*`.
    for m in $(cd "$ROOT/common" && ls *.c *.h | sed 's/\.[ch]$//; s/_.*//' | sort -u); do
        grep -qE "\`$m(\\*|_[a-z_]*)?(\\.h)?\`" "$h" || { echo "HACKING.md does not describe common/$m"; return 1; }
    done
    grep -qF 'tests/check-layers.sh' "$h"
}
