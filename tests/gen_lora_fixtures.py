#!/usr/bin/python3
"""Writes the LoRA parity fixtures: a tiny GPT-2 and a tiny Llama (the
PyTorch twins of gen_tfm_fixtures.py) with adapters on their targets, in
PEFT's layout, and what PyTorch computes with them.

PEFT adds scale * B A x to each target's output (scale = lora_alpha / r;
A (r, in), B (out, r); fan_in_fan_out for GPT-2's Conv1D changes only how W
is stored). Without dropout that equals the product with the merged weight
W + scale B A (transposed for Conv1D), so the twins run unchanged on merged
weights and autograd gives the gradients of A and B. B is random (PEFT
starts it at zero) so the adapters change the outputs.
Uses only torch:  /usr/bin/python3 tests/gen_lora_fixtures.py
Output: tests/fixtures/lora/NAME/{base/, adapter/, expected.safetensors}
"""
import json
import os

import torch
import torch.nn.functional as F

import gen_tfm_fixtures as tw

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "lora")
PREFIX = "base_model.model."

# name: (config, targets as PEFT names them, module paths per layer, r, alpha)
CASES = {
    "gpt2": (tw.variant(tw.BASE_GPT2, "GPT2LMHeadModel"), ["c_attn", "c_proj", "c_fc"],
             ["attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj"], 4, 8),
    "llama": (tw.variant(tw.BASE_LLAMA, "LlamaForCausalLM"),
              ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
              ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
               "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"], 4, 16),
}


def adapter_config(targets, r, alpha, gpt2):
    return {"alpha_pattern": {}, "auto_mapping": None, "base_model_name_or_path": "../base",
            "bias": "none", "fan_in_fan_out": gpt2, "inference_mode": True,
            "init_lora_weights": True, "layers_pattern": None, "layers_to_transform": None,
            "lora_alpha": alpha, "lora_dropout": 0.0, "modules_to_save": None,
            "peft_type": "LORA", "r": r, "rank_pattern": {}, "revision": None,
            "target_modules": targets, "task_type": "CAUSAL_LM"}


def make(name, c, targets, modules, r, alpha):
    gpt2 = c["model_type"] == "gpt2"
    C, V, L = (c["n_embd"] if gpt2 else c["hidden_size"]), c["vocab_size"], \
        c["n_layer" if gpt2 else "num_hidden_layers"]
    p = tw.gpt2_params(c) if gpt2 else tw.llama_params(c)
    if not c["tie_word_embeddings"]:
        p["lm_head.weight"] = tw.rnd(V, C)
    layer = "transformer.h.%d." if gpt2 else "model.layers.%d."
    ad = {}
    for i in range(L):
        for mod in modules:
            w = p[layer % i + mod + ".weight"]
            out, inp = (w.shape[1], w.shape[0]) if gpt2 else w.shape
            key = layer % i + mod
            ad[key + ".lora_A.weight"] = (torch.rand(r, inp) * 2 - 1) / inp ** 0.5
            ad[key + ".lora_B.weight"] = tw.rnd(out, r)
    for t in ad.values():
        t.requires_grad_(True)
    scale = alpha / r
    merged = dict(p)
    for i in range(L):
        for mod in modules:
            key = layer % i + mod
            d = scale * ad[key + ".lora_B.weight"] @ ad[key + ".lora_A.weight"]
            merged[key + ".weight"] = p[key + ".weight"] + (d.t() if gpt2 else d)

    x = torch.randint(0, V, (tw.B, tw.T))
    valid = torch.zeros(tw.B, tw.T, dtype=torch.bool)
    targets_t = torch.full((tw.B, tw.T), -1)
    for b, n in enumerate(tw.LENS):
        valid[b, :n] = True
        targets_t[b, : n - 1] = x[b, 1:n]
    x = torch.where(valid, x, torch.zeros_like(x))
    h = tw.gpt2_forward(merged, c, x) if gpt2 else tw.llama_forward(merged, c, x)
    w = merged["lm_head.weight"] if "lm_head.weight" in merged else \
        merged["transformer.wte.weight" if gpt2 else "model.embed_tokens.weight"]
    logits = h @ w.t()
    loss = F.cross_entropy(logits.view(-1, V), targets_t.view(-1), ignore_index=-1)
    loss.backward()
    exp = {"tokens": x.float(), "lens": torch.tensor(tw.LENS).float(),
           "targets": targets_t.float(), "logits": logits, "loss": loss.reshape(1)}
    for n, t in ad.items():
        exp["grad." + n] = t.grad
    for i in range(L):
        for mod in modules:
            key = layer % i + mod + ".weight"
            exp["merged." + key] = merged[key]

    d = os.path.join(OUT, name)
    os.makedirs(os.path.join(d, "base"), exist_ok=True)
    os.makedirs(os.path.join(d, "adapter"), exist_ok=True)
    with open(os.path.join(d, "base", "config.json"), "w") as f:
        json.dump(c, f, indent=2, sort_keys=True)
        f.write("\n")
    tw.write_safetensors(os.path.join(d, "base", "model.safetensors"), p)
    with open(os.path.join(d, "adapter", "adapter_config.json"), "w") as f:
        json.dump(adapter_config(targets, r, alpha, gpt2), f, indent=2, sort_keys=True)
        f.write("\n")
    tw.write_safetensors(os.path.join(d, "adapter", "adapter_model.safetensors"),
                         {PREFIX + n: t for n, t in ad.items()})
    tw.write_safetensors(os.path.join(d, "expected.safetensors"), exp)


def main():
    torch.manual_seed(4321)
    for name, case in CASES.items():
        make(name, *case)
        print("wrote", name)


if __name__ == "__main__":
    main()
