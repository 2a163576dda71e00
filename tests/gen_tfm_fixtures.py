#!/usr/bin/python3
"""Writes the PyTorch parity fixtures of the transformer runtime.

Tiny random models in the exact Hugging Face checkpoint layout (config.json +
model.safetensors with transformers' tensor names), and what a PyTorch twin of
each architecture computes on a fixed batch: head outputs, the loss and the
gradient of every parameter. Uses only torch (Debian's python3-torch), so run
it with /usr/bin/python3:  /usr/bin/python3 tests/gen_tfm_fixtures.py
Output: tests/fixtures/tfm/NAME/{config.json, model.safetensors, expected.safetensors}

  /usr/bin/python3 tests/gen_tfm_fixtures.py --check-saved SAVED_DIR tests/fixtures/tfm/NAME
loads a checkpoint the C runtime wrote (tfm_save of fixture NAME) by its
transformers names and checks that PyTorch reproduces the fixture's outputs.
"""
import json
import math
import os
import struct

import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "tfm")
B, T = 2, 8
LENS = [8, 5]  # the second row is right-padded


def write_safetensors(path, tensors):
    header, blobs, off = {"__metadata__": {"format": "pt"}}, [], 0
    for name, t in tensors.items():
        data = t.detach().to(torch.float32).contiguous().numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def read_safetensors(path):
    """F32/BF16/F16 tensors of one safetensors file, as float32 torch tensors."""
    with open(path, "rb") as f:
        blob = f.read()
    n = struct.unpack("<Q", blob[:8])[0]
    header = json.loads(blob[8:8 + n])
    types = {"F32": torch.float32, "BF16": torch.bfloat16, "F16": torch.float16}
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        b, e = t["data_offsets"]
        raw = bytearray(blob[8 + n + b:8 + n + e])
        x = torch.frombuffer(raw, dtype=types[t["dtype"]]) if e > b else torch.zeros(0)
        out[name] = x.to(torch.float32).reshape(t["shape"])
    return out


def check_saved(saved, fixture):
    """Loads a checkpoint the C runtime saved (tfm_save) the way transformers
    would, by name, and checks the PyTorch twin reproduces the fixture's outputs."""
    global B, T
    with open(os.path.join(saved, "config.json")) as f:
        c = json.load(f)
    p = read_safetensors(os.path.join(saved, "model.safetensors"))
    exp = read_safetensors(os.path.join(fixture, "expected.safetensors"))
    x = exp["tokens"].long()
    B, T = x.shape
    gpt2 = c["model_type"] == "gpt2"
    h = gpt2_forward(p, c, x) if gpt2 else llama_forward(p, c, x)
    worst = 0.0
    if "logits" in exp:
        w = p.get("lm_head.weight", p["transformer.wte.weight" if gpt2 else "model.embed_tokens.weight"])
        worst = max(worst, (h @ w.t() - exp["logits"]).abs().max().item())
    if "v_head.summary.weight" in p:
        v = (h @ p["v_head.summary.weight"].t()).squeeze(-1) + p["v_head.summary.bias"]
        worst = max(worst, (v - exp["values"]).abs().max().item())
    if "cls" in exp:
        name = "score" if "score.weight" in p else "classifier"
        cls = h @ p[name + ".weight"].t()
        if name + ".bias" in p:
            cls = cls + p[name + ".bias"]
        if cls.shape != exp["cls"].shape:  # sequence score: the last real token
            cls = cls[torch.arange(B), exp["lens"].long() - 1]
        worst = max(worst, (cls - exp["cls"]).abs().max().item())
    print("%s: largest difference %.3g" % (saved, worst))
    return worst < 1e-4


def rnd(*shape, std=0.2):
    return torch.randn(*shape) * std


def gpt2_params(c):
    C, V, L, FF = c["n_embd"], c["vocab_size"], c["n_layer"], c["n_inner"]
    p = {"transformer.wte.weight": rnd(V, C), "transformer.wpe.weight": rnd(c["n_positions"], C)}
    for i in range(L):
        h = "transformer.h.%d." % i
        p[h + "ln_1.weight"] = 1 + rnd(C, std=0.1)
        p[h + "ln_1.bias"] = rnd(C, std=0.1)
        p[h + "attn.c_attn.weight"] = rnd(C, 3 * C)
        p[h + "attn.c_attn.bias"] = rnd(3 * C, std=0.1)
        p[h + "attn.c_proj.weight"] = rnd(C, C)
        p[h + "attn.c_proj.bias"] = rnd(C, std=0.1)
        p[h + "ln_2.weight"] = 1 + rnd(C, std=0.1)
        p[h + "ln_2.bias"] = rnd(C, std=0.1)
        p[h + "mlp.c_fc.weight"] = rnd(C, FF)
        p[h + "mlp.c_fc.bias"] = rnd(FF, std=0.1)
        p[h + "mlp.c_proj.weight"] = rnd(FF, C)
        p[h + "mlp.c_proj.bias"] = rnd(C, std=0.1)
    p["transformer.ln_f.weight"] = 1 + rnd(C, std=0.1)
    p["transformer.ln_f.bias"] = rnd(C, std=0.1)
    return p


def llama_params(c):
    C, V, L, FF = c["hidden_size"], c["vocab_size"], c["num_hidden_layers"], c["intermediate_size"]
    NH, NKV = c["num_attention_heads"], c["num_key_value_heads"]
    HS = C // NH
    bias = c.get("attention_bias", False) or c["model_type"] == "qwen2"
    p = {"model.embed_tokens.weight": rnd(V, C)}
    for i in range(L):
        h = "model.layers.%d." % i
        p[h + "input_layernorm.weight"] = 1 + rnd(C, std=0.1)
        p[h + "self_attn.q_proj.weight"] = rnd(NH * HS, C)
        p[h + "self_attn.k_proj.weight"] = rnd(NKV * HS, C)
        p[h + "self_attn.v_proj.weight"] = rnd(NKV * HS, C)
        if bias:
            p[h + "self_attn.q_proj.bias"] = rnd(NH * HS, std=0.1)
            p[h + "self_attn.k_proj.bias"] = rnd(NKV * HS, std=0.1)
            p[h + "self_attn.v_proj.bias"] = rnd(NKV * HS, std=0.1)
        p[h + "self_attn.o_proj.weight"] = rnd(C, NH * HS)
        p[h + "post_attention_layernorm.weight"] = 1 + rnd(C, std=0.1)
        p[h + "mlp.gate_proj.weight"] = rnd(FF, C)
        p[h + "mlp.up_proj.weight"] = rnd(FF, C)
        p[h + "mlp.down_proj.weight"] = rnd(C, FF)
    p["model.norm.weight"] = 1 + rnd(C, std=0.1)
    return p


def causal_attention(q, k, v):
    """q (B,NH,T,HS), k/v (B,NH,T,HS) already repeated for GQA."""
    HS = q.shape[-1]
    s = q @ k.transpose(-1, -2) / math.sqrt(HS)
    Tq = q.shape[2]
    mask = torch.triu(torch.ones(Tq, Tq, dtype=torch.bool), 1)
    s = s.masked_fill(mask, float("-inf"))
    return torch.softmax(s, -1) @ v


def gpt2_forward(p, c, x):
    C, NH = c["n_embd"], c["n_head"]
    HS = C // NH
    eps = c["layer_norm_epsilon"]
    h = p["transformer.wte.weight"][x] + p["transformer.wpe.weight"][torch.arange(T)]
    for i in range(c["n_layer"]):
        pre = "transformer.h.%d." % i
        a = F.layer_norm(h, (C,), p[pre + "ln_1.weight"], p[pre + "ln_1.bias"], eps)
        qkv = a @ p[pre + "attn.c_attn.weight"] + p[pre + "attn.c_attn.bias"]
        q, k, v = [t.view(B, T, NH, HS).transpose(1, 2) for t in qkv.split(C, dim=2)]
        y = causal_attention(q, k, v).transpose(1, 2).reshape(B, T, C)
        h = h + y @ p[pre + "attn.c_proj.weight"] + p[pre + "attn.c_proj.bias"]
        m = F.layer_norm(h, (C,), p[pre + "ln_2.weight"], p[pre + "ln_2.bias"], eps)
        f = F.gelu(m @ p[pre + "mlp.c_fc.weight"] + p[pre + "mlp.c_fc.bias"], approximate="tanh")
        h = h + f @ p[pre + "mlp.c_proj.weight"] + p[pre + "mlp.c_proj.bias"]
    return F.layer_norm(h, (C,), p["transformer.ln_f.weight"], p["transformer.ln_f.bias"], eps)


def rope_inv_freq(c, HS):
    """As transformers' default and llama3 rope initialisation compute it (fp32)."""
    base = c.get("rope_theta", 10000.0)
    inv = 1.0 / (base ** (torch.arange(0, HS, 2, dtype=torch.int64).float() / HS))
    rs = c.get("rope_scaling")
    if rs and rs.get("rope_type", rs.get("type")) == "llama3":
        factor, low, high = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"]
        old = rs["original_max_position_embeddings"]
        low_wl, high_wl = old / low, old / high
        wavelen = 2 * math.pi / inv
        inv_l = torch.where(wavelen > low_wl, inv / factor, inv)
        smooth = (old / wavelen - low) / (high - low)
        smoothed = (1 - smooth) * inv_l / factor + smooth * inv_l
        medium = ~(wavelen < high_wl) * ~(wavelen > low_wl)
        inv = torch.where(medium, smoothed, inv_l)
    elif rs and rs.get("rope_type", rs.get("type")) == "linear":
        inv = inv / rs["factor"]
    return inv


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def rms_norm(x, w, eps):
    return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def llama_forward(p, c, x):
    C, NH, NKV = c["hidden_size"], c["num_attention_heads"], c["num_key_value_heads"]
    HS, eps = C // NH, c["rms_norm_eps"]
    bias = c.get("attention_bias", False) or c["model_type"] == "qwen2"
    freqs = torch.arange(T).float()[:, None] * rope_inv_freq(c, HS)[None, :]
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos(), emb.sin()
    h = p["model.embed_tokens.weight"][x]
    for i in range(c["num_hidden_layers"]):
        pre = "model.layers.%d." % i
        a = rms_norm(h, p[pre + "input_layernorm.weight"], eps)

        def proj(n, heads):
            y = a @ p[pre + "self_attn.%s_proj.weight" % n].t()
            if bias:
                y = y + p[pre + "self_attn.%s_proj.bias" % n]
            return y.view(B, T, heads, HS).transpose(1, 2)

        q, k, v = proj("q", NH), proj("k", NKV), proj("v", NKV)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(NH // NKV, dim=1)
        v = v.repeat_interleave(NH // NKV, dim=1)
        y = causal_attention(q, k, v).transpose(1, 2).reshape(B, T, NH * HS)
        h = h + y @ p[pre + "self_attn.o_proj.weight"].t()
        m = rms_norm(h, p[pre + "post_attention_layernorm.weight"], eps)
        g = F.silu(m @ p[pre + "mlp.gate_proj.weight"].t()) * (m @ p[pre + "mlp.up_proj.weight"].t())
        h = h + g @ p[pre + "mlp.down_proj.weight"].t()
    return rms_norm(h, p["model.norm.weight"], eps)


BASE_GPT2 = {"model_type": "gpt2", "vocab_size": 64, "n_embd": 32, "n_layer": 2, "n_head": 4,
             "n_positions": 16, "n_ctx": 16, "n_inner": 128, "layer_norm_epsilon": 1e-5,
             "activation_function": "gelu_new", "tie_word_embeddings": True,
             "bos_token_id": 1, "eos_token_id": 2}
BASE_LLAMA = {"model_type": "llama", "vocab_size": 64, "hidden_size": 32, "intermediate_size": 48,
              "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
              "max_position_embeddings": 16, "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
              "hidden_act": "silu", "tie_word_embeddings": False, "attention_bias": False,
              "bos_token_id": 1, "eos_token_id": 2}


def variant(base, arch, **kw):
    c = dict(base)
    c.update(kw)
    c["architectures"] = [arch]
    return c


VARIANTS = {
    "gpt2_value": (variant(BASE_GPT2, "GPT2LMHeadModel"), "value"),
    "gpt2_score": (variant(BASE_GPT2, "GPT2ForSequenceClassification", num_labels=1, pad_token_id=0), "score"),
    "llama_gqa_untied": (variant(BASE_LLAMA, "LlamaForCausalLM"), None),
    "llama_mqa_tied": (variant(BASE_LLAMA, "LlamaForCausalLM", num_key_value_heads=1,
                               tie_word_embeddings=True), None),
    "qwen2_bias": (variant(BASE_LLAMA, "Qwen2ForCausalLM", model_type="qwen2",
                           tie_word_embeddings=True, rope_theta=1000000.0), None),
    "llama3_rope": (variant(BASE_LLAMA, "LlamaForCausalLM", rope_theta=100.0,
                            rope_scaling={"rope_type": "llama3", "factor": 4.0, "low_freq_factor": 1.0,
                                          "high_freq_factor": 4.0,
                                          "original_max_position_embeddings": 32}), None),
    "llama_tokcls": (variant(BASE_LLAMA, "LlamaForTokenClassification", num_labels=3), "token"),
}


def make(name, c, head):
    gpt2 = c["model_type"] == "gpt2"
    C, V = (c["n_embd"] if gpt2 else c["hidden_size"]), c["vocab_size"]
    p = gpt2_params(c) if gpt2 else llama_params(c)
    lm = head in (None, "value")
    if lm and not c["tie_word_embeddings"]:
        p["lm_head.weight"] = rnd(V, C)
    nl = c.get("num_labels", 0)
    if head == "value":
        p["v_head.summary.weight"] = rnd(1, C)
        p["v_head.summary.bias"] = rnd(1, std=0.1)
    elif head == "score":
        p["score.weight"] = rnd(nl, C)
    elif head == "token":
        p["score.weight"] = rnd(nl, C)
        p["score.bias"] = rnd(nl, std=0.1)
    for t in p.values():
        t.requires_grad_(True)

    x = torch.randint(0, V, (B, T))
    valid = torch.zeros(B, T, dtype=torch.bool)
    for b, n in enumerate(LENS):
        valid[b, :n] = True
    x = torch.where(valid, x, torch.zeros_like(x))
    targets = torch.full((B, T), -1)
    for b, n in enumerate(LENS):
        targets[b, : n - 1] = x[b, 1:n]

    h = gpt2_forward(p, c, x) if gpt2 else llama_forward(p, c, x)
    exp = {"tokens": x.float(), "lens": torch.tensor(LENS).float(), "targets": targets.float()}
    loss = torch.zeros(())
    if lm:
        w = p["transformer.wte.weight" if gpt2 else "model.embed_tokens.weight"] \
            if c["tie_word_embeddings"] else p["lm_head.weight"]
        logits = h @ w.t()
        lm_loss = F.cross_entropy(logits.view(-1, V), targets.view(-1), ignore_index=-1)
        loss = loss + lm_loss
        exp["logits"], exp["lm_loss"] = logits, lm_loss.reshape(1)
    if head == "value":
        values = (h @ p["v_head.summary.weight"].t()).squeeze(-1) + p["v_head.summary.bias"]
        vw = torch.randn(B, T) * valid
        loss = loss + (values * vw).sum()
        exp["values"], exp["values_w"] = values, vw
    if head == "score":
        last = h[torch.arange(B), torch.tensor(LENS) - 1]
        cls = last @ p["score.weight"].t()
        cw = torch.randn(B, nl)
        loss = loss + (cls * cw).sum()
        exp["cls"], exp["cls_w"] = cls, cw
    if head == "token":
        cls = h @ p["score.weight"].t() + p["score.bias"]
        cw = torch.randn(B, T, nl) * valid[:, :, None]
        loss = loss + (cls * cw).sum()
        exp["cls"], exp["cls_w"] = cls, cw
    loss.backward()
    exp["loss"] = loss.reshape(1)
    for n, t in p.items():
        exp["grad." + n] = t.grad

    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(c, f, indent=2, sort_keys=True)
        f.write("\n")
    write_safetensors(os.path.join(d, "model.safetensors"), p)
    write_safetensors(os.path.join(d, "expected.safetensors"), exp)
    return p, x, targets


# AdamW run checked by the C tests: torch.optim.AdamW with two parameter groups
# (matrices decay, vectors do not), clip_grad_norm_, and transformers' cosine
# schedule with warmup (lr factor step/warmup, then 0.5 (1 + cos(pi progress))).
ADAMW = {"lr": 1e-2, "betas": (0.9, 0.95), "eps": 1e-8, "weight_decay": 0.1, "clip": 0.5,
         "warmup": 1, "total": 4, "steps": 3}


def lr_at(step):
    a = ADAMW
    if step < a["warmup"]:
        return a["lr"] * step / a["warmup"]
    prog = min(1.0, (step - a["warmup"]) / (a["total"] - a["warmup"]))
    return a["lr"] * 0.5 * (1.0 + math.cos(math.pi * prog))


def make_adamw(name, c, p0, x, targets):
    p = {n: t.detach().clone().requires_grad_(True) for n, t in p0.items()}
    decay = [t for t in p.values() if t.dim() == 2]
    no_decay = [t for t in p.values() if t.dim() != 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": ADAMW["weight_decay"]},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=ADAMW["lr"], betas=ADAMW["betas"], eps=ADAMW["eps"])
    out = {}
    for step in range(ADAMW["steps"]):
        opt.zero_grad()
        h = llama_forward(p, c, x)
        w = p["model.embed_tokens.weight"] if c["tie_word_embeddings"] else p["lm_head.weight"]
        loss = F.cross_entropy((h @ w.t()).view(-1, c["vocab_size"]), targets.view(-1), ignore_index=-1)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(list(p.values()), ADAMW["clip"])
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        opt.step()
        out["loss.%d" % step] = loss.detach().reshape(1)
        out["gnorm.%d" % step] = norm.detach().reshape(1)
    for n, t in p.items():
        out["param." + n] = t.detach()
    write_safetensors(os.path.join(OUT, name, "adamw.safetensors"), out)


# Checkpoints with a real tokenizer for `alarm-model logprobs` (tests/alarm-model-runtime.bats):
# the project's trained test tokenizer (599 tokens), as is (GPT-2, no BOS) and with a
# TemplateProcessing post-processor that puts <|endoftext|> first (Llama, BOS).
# Their expected log-probs come from the token ids in NAME/tokens.jsonl (written once by
# `alarm-model logprobs`; the tokenizer's own parity is tested elsewhere): torch computes
# log_softmax of the logits at each response position for those ids.
TOKENIZER_SRC = os.path.join(os.path.dirname(OUT), "tokenizer", "trained", "tokenizer.json")
LM_TOK = {
    "lm_gpt2_tok": (variant(BASE_GPT2, "GPT2LMHeadModel", vocab_size=600, n_positions=64, n_ctx=64,
                            eos_token_id=0, bos_token_id=0), False),
    "lm_llama_bos": (variant(BASE_LLAMA, "LlamaForCausalLM", vocab_size=600,
                             max_position_embeddings=64, eos_token_id=0, bos_token_id=0), True),
}


def make_lm_tok(name, c, bos):
    gpt2 = c["model_type"] == "gpt2"
    p = gpt2_params(c) if gpt2 else llama_params(c)
    if not c["tie_word_embeddings"]:
        p["lm_head.weight"] = rnd(c["vocab_size"], c["n_embd"] if gpt2 else c["hidden_size"])
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(c, f, indent=2, sort_keys=True)
        f.write("\n")
    write_safetensors(os.path.join(d, "model.safetensors"), p)
    with open(TOKENIZER_SRC) as f:
        tok = json.load(f)
    if bos:
        tok["post_processor"] = {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "<|endoftext|>", "type_id": 0}},
                       {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "<|endoftext|>", "type_id": 0}},
                     {"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {"<|endoftext|>": {"id": "<|endoftext|>", "ids": [0],
                                                 "tokens": ["<|endoftext|>"]}}}
    with open(os.path.join(d, "tokenizer.json"), "w") as f:
        json.dump(tok, f, ensure_ascii=False)
    toks = os.path.join(d, "tokens.jsonl")
    if not os.path.exists(toks):
        return
    out = []
    with open(toks) as f:
        for line in f:
            r = json.loads(line)
            ids = r["prompt_tokens"] + r["response_tokens"]
            n, np_ = len(ids), len(r["prompt_tokens"])
            x = torch.tensor([ids])
            global B, T
            B, T = 1, n
            h = gpt2_forward(p, c, x) if gpt2 else llama_forward(p, c, x)
            w = p["lm_head.weight"] if "lm_head.weight" in p else \
                p["transformer.wte.weight" if gpt2 else "model.embed_tokens.weight"]
            lp = torch.log_softmax(h @ w.t(), -1)[0]
            out.append({"logprobs": [lp[np_ - 1 + i, t].item() for i, t in enumerate(r["response_tokens"])]})
    B, T = 2, 8
    with open(os.path.join(d, "expected_logprobs.jsonl"), "w") as f:
        for r in out:
            f.write(json.dumps(r) + "\n")


def main():
    torch.manual_seed(1234)
    for name, (c, head) in VARIANTS.items():
        p, x, targets = make(name, c, head)
        if name == "llama_gqa_untied":
            make_adamw(name, c, p, x, targets)
        print("wrote", name)
    if not os.path.exists(TOKENIZER_SRC):
        print("skipped", ", ".join(LM_TOK), "(no", TOKENIZER_SRC + ")")
        return
    torch.manual_seed(99)
    for name, (c, bos) in LM_TOK.items():
        make_lm_tok(name, c, bos)
        print("wrote", name)


if __name__ == "__main__":
    import sys
    if len(sys.argv) == 4 and sys.argv[1] == "--check-saved":
        sys.exit(0 if check_saved(sys.argv[2], sys.argv[3]) else 1)
    main()
