#!/usr/bin/python3
"""The PyTorch side of tests/bench/rollout.sh: the same GPT-2 shape and the
same workload (prompts of mixed lengths, N samples each, NEW new tokens, no
stop at EOS), sampled the way transformers' generate does it: batches of B
sequences left-padded to their longest prompt with an attention mask, one
prefill, then a KV-cache step per token (keys/values concatenated).
Prints one JSON object: {"tokens": ..., "seconds": ..., "tokens_per_s": ...}.

  OPENBLAS_NUM_THREADS=1 /usr/bin/python3 tests/bench/torch_rollout.py \
      --prompt-lens 4,9,... --samples 4 --new 64 --batch 8 --threads 2
"""
import argparse
import json
import math
import time

import torch
import torch.nn.functional as F

import torch_bench  # the same parameters as alarm-model bench's twin


class GPT2(torch_bench.GPT2):
    """torch_bench's model, with a forward that takes positions and a mask."""

    def forward(self, x, pos, mask, cache):
        """x (B, T) tokens at positions pos (B, T); mask (B, S) over all keys."""
        B, T = x.shape
        NH, C = self.NH, self.C
        h = self.wte[x] + self.wpe[pos]
        for i, b in enumerate(self.blocks):
            q, k, v = b.attn(b.ln1(h)).split(C, dim=2)
            q, k, v = [t.view(B, T, NH, C // NH).transpose(1, 2) for t in (q, k, v)]
            if i in cache:
                k = torch.cat((cache[i][0], k), dim=2)
                v = torch.cat((cache[i][1], v), dim=2)
            cache[i] = (k, v)
            S = k.shape[2]
            s = q @ k.transpose(-1, -2) / math.sqrt(C // NH)
            allowed = mask[:, None, None, :].clone().expand(B, 1, T, S).clone()
            if T > 1:
                allowed &= torch.tril(torch.ones(T, S, dtype=torch.bool), S - T)
                # a padding position sees itself, so no row is all -inf (NaN)
                allowed |= torch.cat((torch.zeros(T, S - T, dtype=torch.bool),
                                      torch.eye(T, dtype=torch.bool)), 1)
            s = s.masked_fill(~allowed, float("-inf"))
            y = (torch.softmax(s, -1) @ v).transpose(1, 2).reshape(B, T, C)
            h = h + b.proj(y)
            h = h + b.fc2(F.gelu(b.fc(b.ln2(h)), approximate="tanh"))
        return self.lnf(h[:, -1]) @ self.wte.t()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shape", default="8192,256,6,8,256")  # V, C, L, NH, maxT
    ap.add_argument("--prompt-lens", required=True)
    ap.add_argument("--samples", type=int, default=4)
    ap.add_argument("--new", type=int, default=64)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    V, C, L, NH, maxT = (int(x) for x in a.shape.split(","))
    m = GPT2(V, L, NH, C, maxT)
    lens = [int(x) for x in a.prompt_lens.split(",") for _ in range(a.samples)]
    tokens = 0
    with torch.no_grad():
        t0 = time.perf_counter()
        for g in range(0, len(lens), a.batch):
            group = lens[g:g + a.batch]
            B, P = len(group), max(group)
            x = torch.randint(1, V, (B, P))
            mask = torch.zeros(B, P, dtype=torch.bool)
            pos = torch.zeros(B, P, dtype=torch.long)
            for i, n in enumerate(group):  # left padding, as generate does
                mask[i, P - n:] = True
                pos[i, P - n:] = torch.arange(n)
            cache = {}
            logits = m(x, pos, mask, cache)
            nxt = torch.tensor(group)
            for _ in range(a.new):
                tok = torch.multinomial(torch.softmax(logits, -1), 1)
                mask = torch.cat((mask, torch.ones(B, 1, dtype=torch.bool)), 1)
                logits = m(tok, nxt[:, None], mask, cache)
                nxt = nxt + 1
                tokens += B
        dt = time.perf_counter() - t0
    print(json.dumps({"tokens": tokens, "seconds": dt, "tokens_per_s": tokens / dt,
                      "torch": torch.__version__, "threads": a.threads}))


if __name__ == "__main__":
    main()
