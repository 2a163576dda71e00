# ppo_compare.py CASE.json STATS POLICY OUT: compares alarm-ppo's step with
# the PyTorch one of tests/gen_ppo_fixtures.py (standard library only, so the
# test needs no PyTorch). STATS is alarm-ppo's statistics line, POLICY the
# checkpoint it started from, OUT the one it wrote. Prints the worst
# difference of each kind and every value outside the tolerance; exits 1 if
# there is one.
#
# Tolerance: |alarm - torch| <= ATOL + RTOL * |torch|. Both sides compute in
# fp32 (unit roundoff 6e-8) but sum in different orders (OpenBLAS against
# torch's kernels, double accumulators in common/ppo.c against fp32 means in
# trl), and the Adam steps carry the forward's rounding into the weights and
# the later minibatches: on this machine the largest relative difference of a
# statistic is about 3e-5 after twelve minibatches. RTOL 2e-4 leaves a margin
# for other CPUs' kernels while a wrong formula (a sign, a clip, gamma or
# lambda, an off-by-one token) moves the statistics by 1e-2 or more. ATOL
# covers the statistics that are zero up to rounding (policykl and approxkl
# of an unchanged policy, the mean of whitened advantages) or means of
# unit-sized values that cancel (ppo/val/vpred near 0: 7e-7 apart here). A weight is
# compared through its update (new - old), whose scale is the learning rate
# times the number of Adam steps, so its tolerance is relative to that scale.
import json
import os
import struct
import sys

RTOL, ATOL = 2e-4, 1e-5
WEIGHT_RTOL = 1e-3  # of the update's scale, lr x Adam steps


def read_st(path):
    with open(path, "rb") as f:
        blob = f.read()
    n = struct.unpack("<Q", blob[:8])[0]
    header = json.loads(blob[8:8 + n])
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        assert t["dtype"] == "F32", (path, name, t["dtype"])
        b, e = t["data_offsets"]
        out[name] = struct.unpack("<%df" % ((e - b) // 4), blob[8 + n + b:8 + n + e])
    return out


def weights(d):
    """A checkpoint's tensors by name; an adapter directory's adapters by the
    base's names (PEFT's prefix dropped) with the heads beside them."""
    w = read_st(d + "/model.safetensors") if os.path.exists(d + "/model.safetensors") else {}
    if os.path.exists(d + "/adapter_model.safetensors"):
        for k, v in read_st(d + "/adapter_model.safetensors").items():
            w[k[len("base_model.model."):] if k.startswith("base_model.model.") else k] = v
    return w


def main(case_path, stats_path, policy, out):
    with open(case_path) as f:
        case = json.load(f)
    with open(stats_path) as f:
        got = json.loads(f.read())
    bad, worst = [], {}

    def check(kind, name, c, t, atol, rtol):
        d = abs(c - t)
        lim = atol + rtol * abs(t)
        if kind not in worst or d / lim > worst[kind][0]:
            worst[kind] = (d / lim, name, c, t)
        if not d <= lim:
            bad.append("%s %s: alarm-ppo %.9g, torch %.9g (difference %.3g, allowed %.3g)"
                       % (kind, name, c, t, d, lim))

    for k, t in case["stats"].items():
        if k not in got or got[k] is None:
            bad.append("statistic %s: missing from alarm-ppo's line" % k)
            continue
        check("statistic", k, got[k], t, ATOL, RTOL)
    w0 = weights(policy)
    w1 = weights(out)
    s = case["stats"]  # of the chain's last step; the weights after all its Adam steps
    scale = s["ppo/learning_rate"] * case["adam_steps"]
    for name, e in case["weights"].items():
        if name not in w1:
            bad.append("weight %s: missing from %s" % (name, out))
            continue
        a, b = w1[name], w0.get(name, [0.0] * len(w1[name]))
        keep = [i for lo, hi in e.get("ranges", [[0, len(a)]]) for i in range(lo, hi)]
        d = [float(a[i]) - float(b[i]) for i in keep]
        n = len(d)
        check("update sum", name, sum(d), e["update_sum"], WEIGHT_RTOL * scale * n ** 0.5, RTOL)
        check("update norm", name, sum(x * x for x in d) ** 0.5, e["update_norm"],
              WEIGHT_RTOL * scale * n ** 0.5, RTOL)
        for i, v in zip(e["index"], e["value"]):
            check("weight", "%s[%d]" % (name, i), a[i], v, WEIGHT_RTOL * scale, 0)
    for kind, (r, name, c, t) in sorted(worst.items()):
        print("%-12s worst %.3g of the tolerance: %s (alarm-ppo %.9g, torch %.9g)" % (kind, r, name, c, t))
    for line in bad:
        print("MISMATCH " + line)
    return 1 if bad else 0


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit("usage: ppo_compare.py CASE.json STATS POLICY OUT")
    sys.exit(main(*sys.argv[1:]))
