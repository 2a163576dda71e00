#!/usr/bin/python3
"""The PyTorch side of `alarm-model bench`: the same GPT-2-shaped models,
timed the same way with Debian's python3-torch (run with /usr/bin/python3).

  OPENBLAS_NUM_THREADS=1 /usr/bin/python3 tests/bench/torch_bench.py --config small --threads 2

Training step = forward + cross-entropy + backward + torch.optim.AdamW step;
sampling = a KV-cache loop (keys/values concatenated per step, as transformers
does) drawing 128 new tokens at batch 1 and 8 after a 16-token prompt.
Prints one JSON object shaped like `alarm-model bench --format json`.
"""
import argparse
import json
import math
import resource
import time

import torch
import torch.nn.functional as F

SHAPES = {  # V, L, NH, C, T, B, timed steps
    "tiny": (512, 4, 4, 128, 128, 8, 10),
    "small": (8192, 6, 8, 256, 256, 4, 5),
    "gpt2": (50257, 12, 12, 768, 64, 4, 4),
}
PROMPT, NEW = 16, 128


class GPT2(torch.nn.Module):
    def __init__(self, V, L, NH, C, maxT):
        super().__init__()
        self.NH, self.C = NH, C
        P = torch.nn.Parameter
        self.wte = P(torch.randn(V, C) * 0.02)
        self.wpe = P(torch.randn(maxT, C) * 0.01)
        self.blocks = torch.nn.ModuleList()
        for _ in range(L):
            b = torch.nn.Module()
            b.ln1, b.ln2 = torch.nn.LayerNorm(C), torch.nn.LayerNorm(C)
            b.attn, b.proj = torch.nn.Linear(C, 3 * C), torch.nn.Linear(C, C)
            b.fc, b.fc2 = torch.nn.Linear(C, 4 * C), torch.nn.Linear(4 * C, C)
            self.blocks.append(b)
        self.lnf = torch.nn.LayerNorm(C)

    def attend(self, q, k, v, causal):
        s = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
        if causal:
            T = q.shape[2]
            s = s.masked_fill(torch.triu(torch.ones(T, T, dtype=torch.bool), 1), float("-inf"))
        return torch.softmax(s, -1) @ v

    def forward(self, x, cache=None, pos=0):
        B, T = x.shape
        NH, C = self.NH, self.C
        h = self.wte[x] + self.wpe[pos:pos + T]
        for i, b in enumerate(self.blocks):
            q, k, v = b.attn(b.ln1(h)).split(C, dim=2)
            q, k, v = [t.view(B, T, NH, C // NH).transpose(1, 2) for t in (q, k, v)]
            if cache is not None:
                if i in cache:
                    k = torch.cat((cache[i][0], k), dim=2)
                    v = torch.cat((cache[i][1], v), dim=2)
                cache[i] = (k, v)
            y = self.attend(q, k, v, causal=T > 1).transpose(1, 2).reshape(B, T, C)
            h = h + b.proj(y)
            h = h + b.fc2(F.gelu(b.fc(b.ln2(h)), approximate="tanh"))
        return self.lnf(h) @ self.wte.t()


def bench(name):
    V, L, NH, C, T, B, steps = SHAPES[name]
    maxT = 1024 if name == "gpt2" else max(T, PROMPT + NEW)
    torch.manual_seed(0)
    m = GPT2(V, L, NH, C, maxT)
    opt = torch.optim.AdamW(m.parameters(), lr=1e-4, weight_decay=0.01)
    x = torch.randint(0, V, (B, T))
    y = torch.roll(x, -1, 1)
    for s in range(steps + 2):
        if s == 2:
            t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(m(x).view(-1, V), y.view(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
        opt.step()
    train = B * T * steps / (time.perf_counter() - t0)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    out = {"train_tokens_per_s": train, "peak_rss_mb": peak}
    with torch.no_grad():
        for bs in (1, 8):
            cache = {}
            logits = m(torch.randint(0, V, (bs, PROMPT)), cache, 0)[:, -1]
            t0 = time.perf_counter()
            for s in range(NEW):
                tok = torch.multinomial(torch.softmax(logits, -1), 1)
                logits = m(tok, cache, PROMPT + s)[:, -1]
            out["sample_b%d_tokens_per_s" % bs] = bs * NEW / (time.perf_counter() - t0)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", choices=list(SHAPES), action="append")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    res = {n: bench(n) for n in (a.config or list(SHAPES))}
    print(json.dumps({"configs": res, "torch": torch.__version__, "threads": a.threads}))


if __name__ == "__main__":
    main()
