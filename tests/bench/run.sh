#!/usr/bin/env bash
# `make bench`: every benchmark, one script each. Not a test: prints figures.
set -euo pipefail
cd "$(dirname "$0")"
./select.sh
