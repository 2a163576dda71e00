#!/usr/bin/env bash
# make bench: each tool's benchmark is its own script; this is only the list.
set -eu
cd "$(dirname "$0")"
./judge.sh
