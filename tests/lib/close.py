# close.py weights DIR_A DIR_B ATOL [SKIP] | close.py json FILE_A FILE_B ATOL RTOL:
# the F32 tensors of two checkpoints' model.safetensors and, for adapter
# directories, adapter_model.safetensors (but those whose name
# matches the regular expression SKIP), or the numbers of two JSON lines (every
# key of A, in B too), agree within ATOL (+ RTOL |b|). Prints
# the worst difference; exits 1 when one is outside. For runs that take the
# same steps in another summation order (tests/mpi.bats). GPT-2's attention key
# bias is left out: softmax ignores a constant added to every score, so its
# gradient is zero up to rounding and Adam turns that noise into steps of the
# learning rate, whatever the order (SKIP is for other such tensors).
import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from ppo_compare import read_st  # noqa: E402


def pairs(kind, a, b, skip):
    if kind == "weights":
        files = [f for f in ("model.safetensors", "adapter_model.safetensors")
                 if os.path.exists(os.path.join(a, f))]
        # the adapters' names (base_model.model.*) never meet the heads' beside them
        wa, wb = ({k: v for f in files for k, v in read_st(os.path.join(d, f)).items()}
                  for d in (a, b))
        if sorted(wa) != sorted(wb):
            sys.exit("close.py: %s and %s hold different tensors" % (a, b))
        for name in sorted(wa):
            if skip and re.search(skip, name):
                continue
            n = len(wa[name])
            for i, (x, y) in enumerate(zip(wa[name], wb[name])):
                if name.endswith("attn.c_attn.bias") and n // 3 <= i < 2 * n // 3:
                    continue  # GPT-2's key bias: its gradient is rounding noise, see above
                yield "%s[%d]" % (name, i), x, y
    else:
        ja, jb = (json.load(open(p)) for p in (a, b))
        for k, x in sorted(ja.items()):
            if k not in jb:
                sys.exit("close.py: %s has no %s" % (b, k))
            if isinstance(x, (int, float)) or isinstance(jb[k], (int, float)):
                yield k, x, jb[k]


def main(kind, a, b, atol, extra=None):
    rtol = float(extra) if kind == "json" else 0.0
    skip = extra if kind == "weights" else None
    atol = float(atol)
    worst, n = (0.0, None, 0, 0), 0
    for name, x, y in pairs(kind, a, b, skip):
        n += 1
        if x is None or y is None:
            if x is not y:
                print("close.py: %s: %s against %s" % (name, x, y))
                return 1
            continue
        r = abs(x - y) / (atol + rtol * abs(y))
        if not r <= worst[0]:
            worst = (r, name, x, y)
    print("%d values, worst %.3g of the tolerance: %s (%.9g against %.9g)" % ((n,) + worst))
    return 0 if worst[0] <= 1 else 1


if __name__ == "__main__":
    if len(sys.argv) not in (5, 6) or sys.argv[1] not in ("weights", "json"):
        sys.exit("usage: close.py weights DIR_A DIR_B ATOL [SKIP] | close.py json A B ATOL RTOL")
    sys.exit(main(*sys.argv[1:]))
