#!/usr/bin/env bash
# The layer check: the library (common/) takes no argv, prints nothing on the
# standard streams and reads no environment (see HACKING.md, "The layers").
# Fails, naming FILE:LINE, when a common/*.c or *.h includes getopt.h or a
# tools/lib header, calls getenv/secure_getenv/isatty, or writes to stdout or
# stderr (printf, puts, vprintf, or fprintf/fputs/putc/... on stdout/stderr).
# Writing to a FILE* the caller passes in is fine. Usage: check-layers.sh [DIR]
set -u
dir=${1:-common}
shopt -s nullglob
files=("$dir"/*.c "$dir"/*.h)
[ ${#files[@]} -gt 0 ] || { echo "check-layers: no sources in $dir" >&2; exit 2; }

# tools/lib headers: those present in the tree next to this script.
tlib=$(cd "$(dirname "$0")/.." && ls tools/lib/*.h 2>/dev/null | xargs -r -n1 basename | paste -sd'|')
tlib=${tlib//./\\.}

bad=0
check() { # $1 = message, $2 = extended regex
    local hits
    # Lines that are comments (start with /*, * or //) do not count.
    hits=$(grep -nHE "$2" "${files[@]}" | grep -vE '^[^:]+:[0-9]+:[[:space:]]*(\*|/\*|//)')
    if [ -n "$hits" ]; then
        while IFS= read -r h; do echo "check-layers: ${h%%:*}:$(cut -d: -f2 <<<"$h"): $1" >&2; done <<<"$hits"
        bad=1
    fi
}
check "includes getopt.h (the library parses no argv)" '#[[:space:]]*include[[:space:]]*[<"]getopt\.h'
check "includes a tools/lib header" '#[[:space:]]*include[[:space:]]*[<"][^>"]*tools/lib/'
[ -n "$tlib" ] && check "includes a tools/lib header" "#[[:space:]]*include[[:space:]]*[<\"](tools/lib/)?($tlib)[>\"]"
check "reads the environment or the terminal (getenv/secure_getenv/isatty)" '\b(secure_getenv|getenv|isatty)[[:space:]]*\('
check "prints to a standard stream (printf/puts/vprintf)" '(^|[^A-Za-z0-9_])(printf|puts|vprintf|putchar|perror)[[:space:]]*\('
# fprintf/fputs/putc/fwrite/... to stdout or stderr, or any other use of them:
# the library writes only to a FILE* its caller passes in.
check "uses stdout or stderr (write to the FILE* the caller passes)" '\b(stdout|stderr|STDOUT_FILENO|STDERR_FILENO)\b'
exit $bad
