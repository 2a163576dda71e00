#!/usr/bin/python3
"""Checks that PyTorch reads what alarm-sft writes, and keeps what it computed.

For a GPT-2 and a Llama config, trains a small model with alarm-sft from
--init on the copy task (one thread, fixed seed: the run is bit-reproducible),
asks `alarm-model logprobs` for the log-probabilities of held-out responses,
then loads the checkpoint by its transformers tensor names into the PyTorch
twins of tests/gen_tfm_fixtures.py and computes the same log-probabilities.
It fails when the two differ by more than 1e-4, and otherwise writes what
PyTorch computed to tests/fixtures/sft/NAME.jsonl, with the command that made
the checkpoint, so tests/alarm-sft.bats can retrain it and compare the runtime
with PyTorch where torch is not installed.

  /usr/bin/python3 tests/gen_sft_fixtures.py [BUILD_DIR]    (torch only)
"""
import json
import os
import subprocess
import sys
import tempfile

import torch

import gen_tfm_fixtures as twin

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "fixtures", "sft")
LLAMA = {"model_type": "llama", "architectures": ["LlamaForCausalLM"], "vocab_size": 257,
         "hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 2,
         "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 32,
         "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "hidden_act": "silu",
         "tie_word_embeddings": False, "bos_token_id": 0, "eos_token_id": 0}
# The training command after `alarm-sft --init CFG --tokenizer TOK --out DIR`; the bats
# test reads it from the fixture, so the two cannot drift apart.
SFT_ARGS = ["--steps", "40", "--lr", "3e-3", "--batch", "8", "--max-len", "32",
            "--seed", "7", "--threads", "1", "-q"]


def run(args, **kw):
    return subprocess.run(args, check=True, stdout=subprocess.PIPE, **kw).stdout


def torch_logprobs(ckpt, rec):
    """log p(response token | everything before it) by the PyTorch twin."""
    with open(os.path.join(ckpt, "config.json")) as f:
        c = json.load(f)
    p = twin.read_safetensors(os.path.join(ckpt, "model.safetensors"))
    ids = rec["prompt_tokens"] + rec["response_tokens"]
    twin.B, twin.T = 1, len(ids)
    x = torch.tensor([ids])
    gpt2 = c["model_type"] == "gpt2"
    h = twin.gpt2_forward(p, c, x) if gpt2 else twin.llama_forward(p, c, x)
    w = p.get("lm_head.weight", p["transformer.wte.weight" if gpt2 else "model.embed_tokens.weight"])
    lp = torch.log_softmax(h[0] @ w.t(), -1)
    n = len(rec["prompt_tokens"])
    return [lp[n - 1 + i, t].item() for i, t in enumerate(rec["response_tokens"])]


def make(name, cfg, build, tmp):
    bindir = os.path.join(build, "bin")
    train, held = os.path.join(tmp, "train.jsonl"), os.path.join(tmp, "held.jsonl")
    awk = os.path.join(ROOT, "pipelines", "copy-task.awk")
    with open(train, "w") as f:
        subprocess.run(["awk", "-v", "n=200", "-v", "seed=1", "-f", awk], stdout=f, check=True)
    with open(held, "w") as f:
        subprocess.run(["awk", "-v", "n=6", "-v", "seed=3", "-f", awk], stdout=f, check=True)
    tok, cfgf, out = (os.path.join(tmp, n) for n in ("tok.json", name + ".json", name))
    run([bindir + "/alarm-model", "train-tokenizer", "-q", "--vocab-size", "257", "--out", tok, train])
    with open(cfgf, "w") as f:
        json.dump(cfg, f)
    run([bindir + "/alarm-sft", "--init", cfgf, "--tokenizer", tok, "--out", out] + SFT_ARGS + [train])
    recs = [json.loads(l) for l in run([bindir + "/alarm-model", "logprobs", "-q", "--threads", "1",
                                        "--model", out, held]).decode().splitlines()]
    worst, rows = 0.0, []
    for r in recs:
        lp = torch_logprobs(out, r)
        worst = max(worst, max(abs(a - b) for a, b in zip(lp, r["logprobs"])))
        rows.append({"prompt": r["prompt"], "response": r["response"], "prompt_tokens": r["prompt_tokens"],
                     "response_tokens": r["response_tokens"], "torch_logprobs": lp})
    print("%s: %d responses, largest |alarm - torch| log-probability %.3g" % (name, len(rows), worst))
    if worst > 1e-4:
        sys.exit("%s: alarm-model and PyTorch disagree on alarm-sft's checkpoint" % name)
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        json.dump(cfg, f, indent=1)
    with open(os.path.join(OUT, name + ".jsonl"), "w") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
    with open(os.path.join(OUT, "sft-args"), "w") as f:
        f.write(" ".join(SFT_ARGS) + "\n")


def main():
    build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build"))
    with open(os.path.join(ROOT, "data", "copy-gpt2.json")) as f:
        gpt2 = json.load(f)
    with tempfile.TemporaryDirectory() as tmp:
        make("gpt2", gpt2, build, tmp)
        make("llama", LLAMA, build, tmp)


if __name__ == "__main__":
    main()
