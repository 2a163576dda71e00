#!/usr/bin/env bash
# `make bench`: every benchmark, one script each. Not a test: prints figures
# measured on this machine, with the commands that reproduce them.
set -euo pipefail
cd "$(dirname "$0")"
./select.sh
./judge.sh
./tokenizer.sh
./model.sh
./rollout.sh
./sft.sh
./ppo.sh
./ppo-gpt2.sh
./mpi-ppo.sh
./lora.sh
./score.sh
