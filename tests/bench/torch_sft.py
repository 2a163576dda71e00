#!/usr/bin/python3
"""The PyTorch side of tests/bench/sft.sh: a supervised fine-tuning loop on the
same checkpoint and demonstrations as alarm-sft, timed without the loading.

  OPENBLAS_NUM_THREADS=1 /usr/bin/python3 tests/bench/torch_sft.py MODEL TOKENS.jsonl BATCH THREADS

MODEL is read by its transformers tensor names into the PyTorch twin of
tests/gen_tfm_fixtures.py; TOKENS.jsonl holds each demonstration's
prompt_tokens and response_tokens as alarm-sft tokenizes them (alarm-model
logprobs writes them). Each step: a right-padded batch of BATCH demonstrations
in file order, cross-entropy on the response tokens and the EOS after them,
backward, gradient norm clipped to 1, torch.optim.AdamW (lr 5e-5, no weight
decay), as alarm-sft's defaults. Prints one JSON object.
"""
import json
import os
import resource
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import gen_tfm_fixtures as twin  # noqa: E402


def main():
    model, tokens, batch, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    torch.set_num_threads(threads)
    with open(os.path.join(model, "config.json")) as f:
        c = json.load(f)
    p = twin.read_safetensors(os.path.join(model, "model.safetensors"))
    for t in p.values():
        t.requires_grad_(True)
    eos = c["eos_token_id"]
    with open(tokens) as f:
        recs = [json.loads(line) for line in f if line.strip()]
    opt = torch.optim.AdamW(p.values(), lr=5e-5, weight_decay=0.0)
    w_name = "lm_head.weight" if "lm_head.weight" in p else "transformer.wte.weight"
    ntok, t0 = 0, time.perf_counter()
    for s in range(0, len(recs) - batch + 1, batch):
        rows = [r["prompt_tokens"] + r["response_tokens"] + [eos] for r in recs[s:s + batch]]
        T = max(len(r) for r in rows)
        x = torch.zeros(batch, T, dtype=torch.long)
        y = torch.full((batch, T), -100, dtype=torch.long)
        for i, (r, rec) in enumerate(zip(rows, recs[s:s + batch])):
            x[i, :len(r)] = torch.tensor(r)
            n = len(rec["prompt_tokens"])
            y[i, n - 1:len(r) - 1] = torch.tensor(r[n:])
            ntok += len(r)
        twin.B, twin.T = batch, T
        logits = twin.gpt2_forward(p, c, x) @ p[w_name].t()
        loss = F.cross_entropy(logits.view(-1, logits.shape[-1]), y.view(-1), ignore_index=-100)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(p.values(), 1.0)
        opt.step()
    dt = time.perf_counter() - t0
    print(json.dumps({"torch": torch.__version__, "tokens": ntok, "seconds": dt,
                      "tokens_per_s": ntok / dt,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}))


if __name__ == "__main__":
    main()
