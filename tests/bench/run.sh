#!/usr/bin/env bash
# make bench: runs every benchmark script in tests/bench/ (each prints JSON
# lines on stdout). BUILD picks the build directory.
set -euo pipefail
cd "$(dirname "$0")"
for s in ./*.sh; do
    [ "$s" = ./run.sh ] && continue
    echo "== ${s#./}" >&2
    "$s"
done
