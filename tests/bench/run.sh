#!/usr/bin/env bash
# `make bench`: runs each part's benchmark script in turn.
set -euo pipefail
cd "$(dirname "$0")"
./model.sh "$@"
