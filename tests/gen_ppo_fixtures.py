#!/usr/bin/python3
"""Writes the PPO parity fixtures: one trl 0.5 PPOTrainer.step in PyTorch.

The reference is trl v0.5.0's trl/trainer/ppo_trainer.py (step,
batched_forward_pass, compute_rewards, _kl_penalty, compute_advantages, loss,
record_step_stats, _early_stop) with trl/core.py's logprobs_from_logits,
masked_mean, masked_var, masked_whiten, clip_by_value, entropy_from_logits and
AdaptiveKLController, written again here on plain tensors: right-padded
batches with trl's masks, the old pass in chunks of the minibatch size, then
ppo_epochs passes of minibatches, torch.optim.Adam (trl's optimizer) stepping
every grad_accum minibatches with the loss divided by grad_accum (accelerate's
accumulation), clip_grad_norm_ when max_grad_norm is set. The model is the
PyTorch GPT-2 twin of tests/gen_tfm_fixtures.py with trl's value head
(v_head.summary on the final hidden state), dropout off.

Two intended differences from trl, both alarm-ppo's contract
(alarm-formats(5) section 5, alarm-ppo(1)):
  * reward.dense sits on each response's own tokens (trl adds one score at
    the last response token);
  * the minibatch order of epoch e of step s is alarm's train_order
    (Fisher-Yates on splitmix64 from --seed and s * epochs + e, rebuilt
    below) where trl draws np.random.permutation.

Uses only torch (Debian's python3-torch):  /usr/bin/python3 tests/gen_ppo_fixtures.py
Output, tests/fixtures/ppo/: ref/ (the reference: tests/fixtures/tfm/gpt2_value
perturbed, so the KL is not zero), records.jsonl (combined records of different
response lengths) and CASE.json for each case: alarm-ppo's arguments, the
statistics, the per-token arrays of the old pass, the weights after the step
(per tensor the update's sum and norm and a few elements) and, for one
minibatch, the loss's inputs and its gradients with respect to the new
log-probabilities and values. tests/ppo-parity.bats runs alarm-ppo on them.

  /usr/bin/python3 tests/gen_ppo_fixtures.py --bench MODEL RECORDS --mini-batch 8 --threads N
times the same step (alarm-ppo's defaults otherwise; MODEL as policy and
reference) and prints {"torch", "tokens_per_s", "seconds", "peak_rss_mb"}
(tokens: prompt + response, times the epochs), for tests/bench/ppo.sh.
"""
import json
import os
import resource
import sys
import time

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gen_tfm_fixtures as tfm  # noqa: E402  the GPT-2 twin and safetensors I/O

OUT = os.path.join(HERE, "fixtures", "ppo")
POLICY = os.path.join(HERE, "fixtures", "tfm", "gpt2_value")

# alarm-ppo's defaults (alarm-ppo(1) OPTIONS; trl 0.5's PPOConfig where trl has one)
DEFAULTS = {"lr": 1e-5, "ppo_epochs": 4, "mini_batch": 1, "grad_accum": 1, "kl_coef": 0.2,
            "adaptive_kl": (6.0, 10000.0), "fixed_kl": False, "kl_penalty": "kl",
            "cliprange": 0.2, "cliprange_value": 0.2, "vf_coef": 0.1, "gamma": 1.0, "lam": 0.95,
            "early_stop": False, "target_kl": 0.1, "max_grad_norm": 0.0, "ratio_threshold": 10.0,
            "seed": 42, "lora": False}


# --- alarm's minibatch order (common/rng.c, common/train.c train_order) ---
M64 = (1 << 64) - 1


def splitmix64(s):
    s = (s + 0x9E3779B97F4A7C15) & M64
    z = s
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return s, z ^ (z >> 31)


def train_order(n, seed, epoch):
    s = seed ^ ((0x9E3779B97F4A7C15 * (epoch + 1)) & M64)
    order = list(range(n))
    for i in range(n, 1, -1):
        s, r = splitmix64(s)
        j = r % i
        order[i - 1], order[j] = order[j], order[i - 1]
    return order


# --- the model: GPT-2 (or Llama) twin with trl's value head ---
def load(d):
    with open(os.path.join(d, "config.json")) as f:
        c = json.load(f)
    p = tfm.read_safetensors(os.path.join(d, "model.safetensors"))
    C = c.get("n_embd", c.get("hidden_size"))
    if "v_head.summary.weight" not in p:  # alarm-ppo(1): a policy without a head starts at zero
        p["v_head.summary.weight"] = torch.zeros(1, C)
        p["v_head.summary.bias"] = torch.zeros(1)
    return c, p


def forward(p, c, x):
    """Logits and values of a right-padded batch x (B, T): causal attention
    needs no padding mask, and positions count from 0 as in transformers."""
    tfm.B, tfm.T = x.shape
    gpt2 = c["model_type"] == "gpt2"
    h = tfm.gpt2_forward(p, c, x) if gpt2 else tfm.llama_forward(p, c, x)
    w = p.get("lm_head.weight", p["transformer.wte.weight" if gpt2 else "model.embed_tokens.weight"])
    values = (h @ p["v_head.summary.weight"].t()).squeeze(-1) + p["v_head.summary.bias"]
    return h @ w.t(), values


# --- trl/core.py ---
def logprobs_from_logits(logits, labels, gather=True):
    logp = F.log_softmax(logits, dim=2)
    if not gather:
        return logp
    return torch.gather(logp, 2, labels.unsqueeze(2)).squeeze(-1)


def masked_mean(values, mask):
    return (values * mask).sum() / mask.sum()


def masked_var(values, mask):
    mean = masked_mean(values, mask)
    var = masked_mean((values - mean) ** 2, mask)
    n = mask.sum()
    return var * (n / (n - 1))


def masked_whiten(values, mask):
    mean, var = masked_mean(values, mask), masked_var(values, mask)
    return (values - mean) * torch.rsqrt(var + 1e-8)


def clip_by_value(x, lo, hi):
    return torch.max(torch.min(x, hi), lo)


def entropy_from_logits(logits):
    pd = torch.softmax(logits, dim=-1)
    return torch.logsumexp(logits, dim=-1) - torch.sum(pd * logits, dim=-1)


# --- trl/trainer/ppo_trainer.py ---
class Batch:
    """prepare_model_inputs and the masks of batched_forward_pass: response
    token j of record i is predicted at position np_i - 1 + j."""

    def __init__(self, recs):
        self.n = len(recs)
        self.L = max(len(r["prompt_tokens"]) + len(r["response_tokens"]) for r in recs)
        self.ids = torch.zeros(self.n, self.L, dtype=torch.long)
        self.mask = torch.zeros(self.n, self.L - 1)
        self.dense = torch.zeros(self.n, self.L - 1)
        for i, r in enumerate(recs):
            q, a = r["prompt_tokens"], r["response_tokens"]
            self.ids[i, :len(q) + len(a)] = torch.tensor(q + a)
            start, end = len(q) - 1, len(q) - 1 + len(a)
            self.mask[i, start:end] = 1
            # alarm-formats(5) section 5: the dense reward on the record's own tokens
            self.dense[i, start:end] = torch.tensor(r["reward"]["dense"], dtype=torch.float32)


def batched_forward_pass(p, c, b, inds, return_logits=False):
    logits, values = forward(p, c, b.ids[inds])
    lp = logprobs_from_logits(logits[:, :-1, :], b.ids[inds][:, 1:])
    return lp, (logits[:, :-1] if return_logits else None), values[:, :-1]


def old_pass(p, c, b, M, return_logits):
    """The no-gradient pass over the batch in chunks of the minibatch size."""
    lps, logits, values = [], [], []
    with torch.no_grad():
        for i0 in range(0, b.n, M):
            lp, lg, v = batched_forward_pass(p, c, b, list(range(i0, min(b.n, i0 + M))), return_logits)
            lps.append(lp)
            values.append(v)
            if return_logits:
                logits.append(lg)
    return torch.cat(lps), (torch.cat(logits) if return_logits else None), torch.cat(values)


def kl_penalty(o, lp, ref_lp):
    if o["kl_penalty"] == "kl":
        return lp - ref_lp
    if o["kl_penalty"] == "abs":
        return (lp - ref_lp).abs()
    if o["kl_penalty"] == "mse":
        return 0.5 * (lp - ref_lp).square()
    return F.kl_div(ref_lp, lp, log_target=True, reduction="none").sum(-1)  # full


def compute_rewards(o, beta, b, lp, ref_lp):
    kl = kl_penalty(o, lp, ref_lp)
    non_score = -beta * kl
    return kl, non_score, non_score + b.dense


def compute_advantages(o, values, rewards, mask):
    last, rev = 0, []
    gen_len = rewards.shape[-1]
    values, rewards = values * mask, rewards * mask
    for t in reversed(range(gen_len)):
        nextvalues = values[:, t + 1] if t < gen_len - 1 else 0.0
        delta = rewards[:, t] + o["gamma"] * nextvalues - values[:, t]
        last = delta + o["gamma"] * o["lam"] * last
        rev.append(last)
    adv = torch.stack(rev[::-1]).transpose(0, 1)
    returns = adv + values
    return values, masked_whiten(adv, mask).detach(), returns


def ppo_loss(o, old_lp, values, logits, vpreds, lp, mask, adv, returns):
    vclip = clip_by_value(vpreds, values - o["cliprange_value"], values + o["cliprange_value"])
    vf1, vf2 = (vpreds - returns) ** 2, (vclip - returns) ** 2
    vf_loss = 0.5 * masked_mean(torch.max(vf1, vf2), mask)
    vf_clipfrac = masked_mean(torch.gt(vf2, vf1).float(), mask)
    ratio = torch.exp(lp - old_lp)
    pg1 = -adv * ratio
    pg2 = -adv * torch.clamp(ratio, 1.0 - o["cliprange"], 1.0 + o["cliprange"])
    pg_loss = masked_mean(torch.max(pg1, pg2), mask)
    pg_clipfrac = masked_mean(torch.gt(pg2, pg1).float(), mask)
    loss = pg_loss + o["vf_coef"] * vf_loss
    avg_ratio = masked_mean(ratio, mask).item()
    skipped = avg_ratio > o["ratio_threshold"]
    if skipped:
        pg_loss, vf_loss, loss = pg_loss * 0.0, vf_loss * 0.0, loss * 0.0
    s = {"loss/policy": pg_loss, "loss/value": vf_loss, "loss/total": loss,
         "policy/entropy": masked_mean(entropy_from_logits(logits), mask),
         "policy/approxkl": 0.5 * masked_mean((lp - old_lp) ** 2, mask),
         "policy/policykl": masked_mean(old_lp - lp, mask),
         "policy/clipfrac": pg_clipfrac,
         "policy/advantages_mean": masked_mean(adv, mask),
         "returns/mean": masked_mean(returns, mask), "returns/var": masked_var(returns, mask),
         "val/vpred": masked_mean(vpreds, mask), "val/error": masked_mean((vpreds - returns) ** 2, mask),
         "val/clipfrac": vf_clipfrac, "val/mean": masked_mean(values, mask),
         "val/var": masked_var(values, mask)}
    s = {k: v.item() for k, v in s.items()}
    s["ratio"] = avg_ratio  # trl logs the ratios; the mean decides the skip
    return pg_loss + o["vf_coef"] * vf_loss, s, skipped


def flat(x, mask):
    """The masked entries of (B, T) as one list per row."""
    return [[x[i, t].item() for t in range(x.shape[1]) if mask[i, t]] for i in range(x.shape[0])]


def trainer(o):
    """What lasts from one step to the next, as in one PPOTrainer: the KL
    controller's value, the steps done, Adam (created at the first step)."""
    return {"beta": o["kl_coef"], "step": 0, "opt": None}


def ppo_step(o, st, pol, cfg, ref, rcfg, recs, probe=None, keep_tokens=True):
    """One PPOTrainer.step of trainer st. pol is updated in place; returns the
    statistics, the old pass's per-token arrays (keep_tokens) and, when probe
    = (epoch, minibatch), that minibatch's loss inputs and gradients."""
    b = Batch(recs)
    M, K, bs = o["mini_batch"], o["grad_accum"], len(recs)
    beta = st["beta"]
    full = o["kl_penalty"] == "full"
    lp, logits, values = old_pass(pol, cfg, b, M, full)
    ref_lp, ref_logits, _ = old_pass(ref, rcfg, b, M, full)
    if full:
        kl, non_score, rewards = compute_rewards(o, beta, b, F.log_softmax(logits, -1),
                                                 F.log_softmax(ref_logits, -1))
    else:
        kl, non_score, rewards = compute_rewards(o, beta, b, lp, ref_lp)
    values, adv, returns = compute_advantages(o, values, rewards, b.mask)
    tokens = keep_tokens and {k: flat(v, b.mask) for k, v in (("logprobs", lp), ("ref_logprobs", ref_lp),
                                              ("values", values), ("dense", b.dense), ("kl", kl),
                                              ("non_score", non_score), ("rewards", rewards),
                                              ("advantages", adv), ("returns", returns))}
    params = [t.requires_grad_(True) for t in pol.values()]
    if st["opt"] is None:  # trl 0.5: Adam(params, lr=learning_rate)
        st["opt"] = torch.optim.Adam(params, lr=o["lr"])
    opt = st["opt"]
    all_stats, norms, epochs, early, probed = [], [], 0, False, None
    for ep in range(o["ppo_epochs"]):
        order = train_order(bs, o["seed"], st["step"] * o["ppo_epochs"] + ep)
        epochs = ep + 1
        for g in range(0, bs, M * K):
            for k in range(K):
                inds = order[g + k * M:g + (k + 1) * M]
                new_lp, new_logits, vpred = batched_forward_pass(pol, cfg, b, inds, True)
                if probe == (ep, len(all_stats)):
                    new_lp.retain_grad()
                    vpred.retain_grad()
                loss, s, skipped = ppo_loss(o, lp[inds], values[inds], new_logits, vpred, new_lp,
                                            b.mask[inds], adv[inds], returns[inds])
                s["skipped"] = skipped
                (loss / K).backward()  # accelerate divides by the accumulation steps
                if probe == (ep, len(all_stats)):
                    m = b.mask[inds]
                    probed = {"epoch": ep, "minibatch": len(all_stats), "records": inds,
                              "scale": 1.0 / K, "stats": s,
                              "old_logprobs": flat(lp[inds], m), "old_values": flat(values[inds], m),
                              "advantages": flat(adv[inds], m), "returns": flat(returns[inds], m),
                              "logprobs": flat(new_lp.detach(), m), "values": flat(vpred.detach(), m),
                              "entropy": flat(entropy_from_logits(new_logits.detach()), m),
                              "dlogprobs": flat(new_lp.grad, m), "dvalues": flat(vpred.grad, m)}
                all_stats.append(s)
            norm = torch.sqrt(sum((t.grad.double() ** 2).sum() for t in params)).item()
            norms.append(norm)
            if o["max_grad_norm"] > 0:
                torch.nn.utils.clip_grad_norm_(params, o["max_grad_norm"])
            opt.step()
            opt.zero_grad()
        if o["early_stop"] and all_stats[-1]["policy/policykl"] > 1.5 * o["target_kl"]:
            early = True  # _early_stop: the last minibatch's policykl
            break
    for t in params:
        t.requires_grad_(False)
    stats = step_stats(o, st, b, recs, cfg, lp, ref_lp, non_score, all_stats, norms, epochs, early)
    st["beta"] = stats["kl_coef_next"]
    st["ratios"] = [x["ratio"] for x in all_stats]
    st["step"] += 1
    return stats, tokens, probed


def step_stats(o, st, b, recs, cfg, lp, ref_lp, non_score, all_stats, norms, epochs, early):
    """record_step_stats, the KL controller's update and alarm-ppo's extras."""
    n = len(recs)
    mask = b.mask
    kl = ((lp - ref_lp) * mask).sum(-1).mean().item()
    scores = torch.tensor([r["reward"]["total"] for r in recs], dtype=torch.float32)
    qlen = torch.tensor([len(r["prompt_tokens"]) for r in recs], dtype=torch.float)
    rlen = torch.tensor([len(r["response_tokens"]) for r in recs], dtype=torch.float)
    beta = st["beta"]
    target, horizon = o["adaptive_kl"]
    nxt = beta if o["fixed_kl"] else beta * (1 + min(0.2, max(-0.2, kl / target - 1)) * n / horizon)
    s = {"step": st["step"] + 1, "objective/kl": kl, "objective/kl_coef": beta,
         "objective/entropy": (-lp * mask).sum(-1).mean().item(),
         "ppo/mean_non_score_reward": masked_mean(non_score, mask).item(),
         "ppo/mean_scores": scores.mean().item(), "ppo/std_scores": scores.std().item(),
         "tokens/queries_len_mean": qlen.mean().item(), "tokens/queries_len_std": qlen.std().item(),
         "tokens/responses_len_mean": rlen.mean().item(), "tokens/responses_len_std": rlen.std().item(),
         "tokens/eos_rate": sum(r["response_tokens"][-1] == cfg["eos_token_id"] for r in recs) / n}
    for k in all_stats[0]:
        if k not in ("skipped", "ratio"):
            s["ppo/" + k] = sum(x[k] for x in all_stats) / len(all_stats)
    s["ppo/val/var_explained"] = 1 - s["ppo/val/error"] / s["ppo/returns/var"]
    s.update({"ppo/learning_rate": o["lr"], "ppo/grad_norm": sum(norms) / len(norms),
              "ppo/epochs": epochs, "ppo/minibatches": len(all_stats),
              "ppo/minibatches_skipped": sum(x["skipped"] for x in all_stats),
              "ppo/early_stopped": int(early),
              "check/reward_sum": (b.dense * mask).sum().item(), "check/total_sum": scores.sum().item(),
              "kl_coef_next": nxt})
    return s


# --- the fixtures ---
def make_records():
    """Combined records (alarm-select's output, alarm-formats(5) section 4)
    of eight lengths, the dense rewards on a few tokens of each."""
    g = torch.Generator().manual_seed(2024)
    shapes = [(3, 3), (2, 7), (5, 2), (4, 9), (6, 5), (2, 4), (3, 8), (4, 6)]  # prompt, response
    recs = []
    for i, (np_, nr) in enumerate(shapes):
        q = torch.randint(3, 64, (np_,), generator=g).tolist()
        a = torch.randint(3, 64, (nr,), generator=g).tolist()
        if i == 3:
            a[-1] = 2  # the EOS
        dense = [0.0] * nr
        for t in torch.randperm(nr, generator=g)[:max(1, nr // 3)].tolist():
            dense[t] = round(torch.randn(1, generator=g).item(), 3)
        dense[-1] = round(dense[-1] + torch.randn(1, generator=g).item(), 3)
        recs.append({"id": "r%d" % i, "prompt_tokens": q, "response_tokens": a,
                     "reward": {"mode": "sum", "dense": dense, "total": round(sum(dense), 6)}})
    return recs


def make_ref():
    """The reference: the policy's weights moved by noise, so lp - ref is not 0."""
    c, p = load(POLICY)
    g = torch.Generator().manual_seed(77)
    q = {k: v + 0.05 * torch.randn(v.shape, generator=g) for k, v in p.items() if not k.startswith("v_head")}
    d = os.path.join(OUT, "ref")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(c, f, indent=2, sort_keys=True)
        f.write("\n")
    tfm.write_safetensors(os.path.join(d, "model.safetensors"), q)


# The LoRA case: an adapter directory on the fixtures' policy (PEFT's layout:
# c_attn, r 4, alpha 8, B nonzero so the policy differs from its base; the
# value head beside it, as trl keeps it) and no --ref: the reference is the
# base with the adapters off. Only the adapters and the value head train.
LORA = os.path.join(OUT, "lora_policy")
LORA_R, LORA_ALPHA = 4, 8


class LoraParams(dict):
    """A LoRA policy as the twins read it: its items are the trained tensors
    (what ppo_step hands Adam); a base weight read through it is
    W + alpha/r (B A)^T (GPT-2's Conv1D is stored (in, out)), so gradients
    reach A and B as PEFT's forward gives them without dropout."""

    def __init__(self, base, trained):
        super().__init__(trained)
        self.base = base

    def __getitem__(self, k):
        if dict.__contains__(self, k):
            return dict.__getitem__(self, k)
        mod = k[:-len(".weight")] if k.endswith(".weight") else None
        if mod is None or not dict.__contains__(self, mod + ".lora_A.weight"):
            return self.base[k]
        ba = dict.__getitem__(self, mod + ".lora_B.weight") @ dict.__getitem__(self, mod + ".lora_A.weight")
        return self.base[k] + (LORA_ALPHA / LORA_R) * ba.t()

    def get(self, k, default=None):
        return self[k] if dict.__contains__(self, k) or k in self.base else default


def make_lora_policy():
    import gen_lora_fixtures as lf
    c, p = load(POLICY)
    g = torch.Generator().manual_seed(31)
    ad = {}
    for i in range(c["n_layer"]):
        mod = "transformer.h.%d.attn.c_attn" % i
        C = p[mod + ".weight"].shape[0]
        ad[mod + ".lora_A.weight"] = (torch.rand(LORA_R, C, generator=g) * 2 - 1) / C ** 0.5
        ad[mod + ".lora_B.weight"] = 0.2 * torch.randn(3 * C, LORA_R, generator=g)
    os.makedirs(LORA, exist_ok=True)
    cfg = lf.adapter_config(["c_attn"], LORA_R, LORA_ALPHA, True)
    cfg["base_model_name_or_path"] = "../../tfm/gpt2_value"
    with open(os.path.join(LORA, "adapter_config.json"), "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
        f.write("\n")
    tfm.write_safetensors(os.path.join(LORA, "adapter_model.safetensors"),
                          {lf.PREFIX + k: v for k, v in ad.items()})
    tfm.write_safetensors(os.path.join(LORA, "model.safetensors"),
                          {k: v for k, v in p.items() if k.startswith("v_head")})


def load_policy(o):
    """The policy and the reference of case o: (cfg, pol, rcfg, ref)."""
    cfg, pol = load(POLICY)
    if not o["lora"]:
        rcfg, ref = load(os.path.join(OUT, "ref"))
        return cfg, pol, rcfg, ref
    ad = tfm.read_safetensors(os.path.join(LORA, "adapter_model.safetensors"))
    heads = tfm.read_safetensors(os.path.join(LORA, "model.safetensors"))
    trained = {k[len("base_model.model."):]: v for k, v in ad.items()}
    trained.update(heads)
    return cfg, LoraParams(pol, trained), cfg, pol


# Each case: alarm-ppo's options (those differing from its defaults; "near"
# and "gap" are chosen from the step, below), the records used (indices into
# records.jsonl), the minibatch whose gradients are kept (epoch, minibatch
# counted over the step) and the steps of the chain (the last one's kept).
CASES = {
    "one_minibatch": ({"ppo_epochs": 1, "mini_batch": 4, "lr": 1e-2}, [0, 1, 2, 3], (0, 0)),
    "epochs_minibatches": ({"ppo_epochs": 3, "mini_batch": 2, "grad_accum": 2, "lr": 2e-2, "seed": 7,
                            "kl_coef": 0.3, "adaptive_kl": "near", "gamma": 0.99, "lam": 0.9,
                            "cliprange": 0.1, "cliprange_value": 0.05, "vf_coef": 0.5,
                            "max_grad_norm": 0.5}, list(range(8)), (2, 9)),
    "early_stop": ({"ppo_epochs": 4, "mini_batch": 4, "lr": 2e-2, "early_stop": True,
                    "target_kl": 0.005, "fixed_kl": True}, list(range(8)), (1, 2)),
    "penalty_kl": ({"ppo_epochs": 2, "mini_batch": 4, "lr": 1e-2, "kl_coef": 0.5, "kl_penalty": "kl"},
                   list(range(8)), (1, 2)),
    "penalty_abs": ({"ppo_epochs": 2, "mini_batch": 4, "lr": 1e-2, "kl_coef": 0.5, "kl_penalty": "abs"},
                    list(range(8)), (1, 2)),
    "penalty_mse": ({"ppo_epochs": 2, "mini_batch": 4, "lr": 1e-2, "kl_coef": 0.5, "kl_penalty": "mse"},
                    list(range(8)), (1, 2)),
    "penalty_full": ({"ppo_epochs": 2, "mini_batch": 4, "lr": 1e-2, "kl_coef": 0.5, "kl_penalty": "full"},
                     list(range(8)), (1, 2)),
    "ratio_skip": ({"ppo_epochs": 4, "mini_batch": 4, "lr": 5e-3, "ratio_threshold": "gap"},
                   list(range(8)), "skipped"),
    "chain": ({"ppo_epochs": 2, "mini_batch": 4, "lr": 1e-2, "seed": 3, "adaptive_kl": "near"},
              list(range(8)), (1, 2), 2),
    "lora": ({"ppo_epochs": 2, "mini_batch": 4, "lr": 1e-2, "kl_coef": 0.5, "lora": True},
             list(range(8)), (1, 2)),
}


def cli_args(o):
    """The alarm-ppo options of o that differ from the defaults."""
    out = []
    for k, v in o.items():
        if v == DEFAULTS[k] or k == "lora":  # the LoRA case's policy is an adapter directory
            continue
        name = "--" + k.replace("_", "-")
        if k == "adaptive_kl":
            out += [name, "%r,%r" % v]
        elif isinstance(v, bool):
            out.append(name)
        else:
            out += [name, v if isinstance(v, str) else repr(v)]
    return out


def compared(name, n):
    """The elements of a tensor the parity test compares, as [lo, hi) ranges.
    Not GPT-2's key bias (the middle third of attn.c_attn.bias): adding it
    shifts every score of a query by the same amount, which the softmax
    ignores, so its gradient is zero in exact arithmetic and what each side
    computes is rounding noise (|g| near Adam's eps) that Adam turns into
    steps of either sign, up to the learning rate. It changes no output."""
    if name.endswith("attn.c_attn.bias"):
        return [[0, n // 3], [2 * n // 3, n]]
    return [[0, n]]


def weights_summary(p0, p1):
    """Per tensor, over its compared elements: the update's sum and norm, and
    six elements of the new weights."""
    g = torch.Generator().manual_seed(5)
    out = {}
    for name in sorted(p1):
        w0, w1 = p0[name].reshape(-1), p1[name].detach().reshape(-1)
        ranges = compared(name, w1.numel())
        keep = torch.cat([torch.arange(lo, hi) for lo, hi in ranges])
        d = (w1.double() - w0.double())[keep]
        idx = keep[torch.randint(0, keep.numel(), (6,), generator=g)].tolist()
        out[name] = {"update_sum": d.sum().item(), "update_norm": d.norm().item(),
                     "index": idx, "value": [w1[i].item() for i in idx]}
        if ranges != [[0, w1.numel()]]:
            out[name]["ranges"] = ranges
    return out


def short(x):
    """Floats to 9 significant digits (float32 round-trips): smaller files."""
    if isinstance(x, float):
        return float("%.9g" % x)
    if isinstance(x, dict):
        return {k: short(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [short(v) for v in x]
    return x


def run_case(o, sub, steps, probe):
    """steps PPO steps from the fixtures' policy; the last one's results."""
    cfg, pol, rcfg, ref = load_policy(o)
    p0 = {k: v.clone() for k, v in pol.items()}
    st, updates = trainer(o), 0
    for _ in range(steps):
        stats, tokens, probed = ppo_step(o, st, pol, cfg, ref, rcfg, sub, probe=probe)
        updates += stats["ppo/minibatches"] // o["grad_accum"]
    return stats, tokens, probed, weights_summary(p0, pol), updates, st


def pick_threshold(o, sub, steps, probe):
    """A ratio threshold that some minibatches' mean ratio exceeds and others
    do not, every one at least 1e-3 away from it, so rounding cannot move a
    minibatch across; and the first minibatch skipped."""
    o = dict(o, ratio_threshold=float("inf"))
    ratios = sorted(run_case(o, sub, steps, probe)[5]["ratios"])
    gaps = sorted(((b - a, (a + b) / 2) for a, b in zip(ratios, ratios[1:]) if a > 1), reverse=True)
    for _, mid in gaps:
        th = float("%.4g" % mid)
        got = run_case(dict(o, ratio_threshold=th), sub, steps, probe)[5]["ratios"]
        if all(abs(r - th) > 1e-3 for r in got) and any(r > th for r in got):
            first = min(i for i, r in enumerate(got) if r > th)
            return th, (first // (len(sub) // o["mini_batch"]), first)
    sys.exit("gen_ppo_fixtures.py: no ratio threshold splits the minibatches")


def make_case(name, opts, which, probe, recs, steps=1):
    o = dict(DEFAULTS)
    o.update(opts)
    sub = [recs[i] for i in which]
    if o["adaptive_kl"] == "near":  # a target the KL is within 20% of: the unclipped update
        cfg, pol = load(POLICY)
        rcfg, ref = load(os.path.join(OUT, "ref"))
        b = Batch(sub)
        lp, _, _ = old_pass(pol, cfg, b, o["mini_batch"], False)
        rlp, _, _ = old_pass(ref, rcfg, b, o["mini_batch"], False)
        kl = ((lp - rlp) * b.mask).sum(-1).mean().item()
        o["adaptive_kl"] = (float("%.3g" % (kl / 1.1)), 100.0)
    if o["ratio_threshold"] == "gap":
        o["ratio_threshold"], probe = pick_threshold(o, sub, steps, probe)
    stats, tokens, probed, weights, updates, st = run_case(o, sub, steps, probe)
    first = (steps - 1) * o["ppo_epochs"]
    case = {"about": "tests/gen_ppo_fixtures.py: trl 0.5's PPO step in PyTorch; step %d of %d"
                     % (steps, steps),
            "args": cli_args(o), "records": which, "steps": steps, "adam_steps": updates,
            "permutations": [{"epoch": e, "order": train_order(len(sub), o["seed"], e)}
                             for e in range(first, first + stats["ppo/epochs"])],
            "stats": stats, "tokens": tokens, "minibatch": probed, "weights": weights}
    with open(os.path.join(OUT, name + ".json"), "w") as f:  # one line per key: small, diffable
        f.write("{\n" + ",\n".join("%s: %s" % (json.dumps(k), json.dumps(short(v), separators=(",", ":")))
                                    for k, v in case.items()) + "\n}\n")
    print("wrote %s: %s" % (name, " ".join(case["args"])))


def main():
    torch.manual_seed(0)
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    make_ref()
    make_lora_policy()
    recs = make_records()
    with open(os.path.join(OUT, "records.jsonl"), "w") as f:
        for r in recs:
            f.write(json.dumps(r) + "\n")
    for name, spec in CASES.items():
        make_case(name, *spec[:3], recs, *spec[3:])


def bench(argv):
    """--bench MODEL RECORDS --mini-batch M [--ppo-epochs E] --threads N: the step's tokens/s."""
    model, records = argv[0], argv[1]
    o = dict(DEFAULTS)
    rest = argv[2:]
    for k in range(0, len(rest), 2):
        if rest[k] == "--mini-batch":
            o["mini_batch"] = int(rest[k + 1])
        elif rest[k] == "--ppo-epochs":
            o["ppo_epochs"] = int(rest[k + 1])
        elif rest[k] == "--threads":
            torch.set_num_threads(int(rest[k + 1]))
        else:
            sys.exit("gen_ppo_fixtures.py: --bench: unknown option %s" % rest[k])
    with open(records) as f:
        recs = [json.loads(line) for line in f if line.strip()]
    t0 = time.time()
    cfg, pol = load(model)
    rcfg, ref = load(model)
    ppo_step(o, trainer(o), pol, cfg, ref, rcfg, recs, keep_tokens=False)
    dt = time.time() - t0
    ntok = sum(len(r["prompt_tokens"]) + len(r["response_tokens"]) for r in recs)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps({"torch": torch.__version__, "records": len(recs), "tokens": ntok,
                      "epochs": o["ppo_epochs"], "seconds": dt,
                      "tokens_per_s": o["ppo_epochs"] * ntok / dt, "peak_rss_mb": rss}))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--bench":
        if len(sys.argv) < 4:
            sys.exit("usage: gen_ppo_fixtures.py --bench MODEL RECORDS [--mini-batch M] [--ppo-epochs E] [--threads N]")
        bench(sys.argv[2:])
    else:
        main()
