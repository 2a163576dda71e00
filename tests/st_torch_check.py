#!/usr/bin/python3
"""Checks that torch reads what st_write writes (run with Debian's /usr/bin/python3).

Runs build/tests/test_st with ALARM_ST_EXPORT pointing at a scratch directory,
so its write_and_reread test leaves roundtrip_{F32,BF16,F16}.safetensors there,
then loads each file into torch tensors with a reader written here from the
format's specification (torch 1.13 has no safetensors loader) and compares:
  - the layout: header length, JSON, data block 8-aligned, offsets contiguous
    and covering the data block exactly;
  - the values bit for bit: F32 equals tests/fixtures/st/conv_src.f32, BF16 and
    F16 equal torch's own src.to(torch.bfloat16) / src.to(torch.float16).
Usage: /usr/bin/python3 tests/st_torch_check.py [BUILD_DIR]   (exit 0 = all good)
"""
import json
import os
import struct
import subprocess
import sys
import tempfile

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}


def load(path):
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    assert (8 + n) % 8 == 0, "data block not 8-aligned"
    data = raw[8 + n:]
    meta = header.pop("__metadata__", {})
    spans = sorted(tuple(v["data_offsets"]) for v in header.values())
    pos = 0
    for b, e in spans:
        assert b == pos, "offsets not contiguous"
        pos = e
    assert pos == len(data), "data block not covered exactly"
    out = {}
    for name, v in header.items():
        b, e = v["data_offsets"]
        dt = DTYPES[v["dtype"]]
        buf = bytearray(data[b:e])
        t = torch.frombuffer(buf, dtype=dt) if buf else torch.empty(0, dtype=dt)
        out[name] = t.reshape(v["shape"])
    return out, meta


def bits(t):
    return t.contiguous().view(torch.int16 if t.element_size() == 2 else torch.int32)


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build")
    src = torch.frombuffer(bytearray(open(os.path.join(ROOT, "tests/fixtures/st/conv_src.f32"),
                                          "rb").read()), dtype=torch.float32)
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, ALARM_ST_EXPORT=tmp)
        subprocess.run([os.path.join(build, "tests", "test_st")], cwd=ROOT, env=env,
                       check=True, stdout=subprocess.DEVNULL)
        for name, want in (("F32", src), ("BF16", src.to(torch.bfloat16)),
                           ("F16", src.to(torch.float16))):
            tensors, meta = load(os.path.join(tmp, "roundtrip_%s.safetensors" % name))
            assert meta == {"format": "pt", "by": "alarm\ttest"}, meta
            got = tensors["src"]
            assert got.dtype == want.dtype and got.shape == want.shape
            assert torch.equal(bits(got), bits(want)), name + ": values differ from torch"
            m = tensors["h.0.mlp.c_fc.weight"].float()
            assert m.shape == (3, 4, 5)
            assert torch.equal(m.reshape(-1), torch.arange(60, dtype=torch.float32) * 0.25 - 7)
            assert tensors["empty"].shape == (0, 4)
            assert tensors["scalar \"quoted\"\n"].shape == ()
            print("ok %s: %d values bit-identical to torch, layout as specified"
                  % (name, got.numel()))
        # st_write_dir's shards (test write_dir_shards): the index as transformers
        # reads it, every tensor found in the shard it names.
        sdir = os.path.join(tmp, "sharded")
        index = json.load(open(os.path.join(sdir, "model.safetensors.index.json")))
        shards = {f: load(os.path.join(sdir, f))[0] for f in set(index["weight_map"].values())}
        total = 0
        for tname, fname in index["weight_map"].items():
            total += shards[fname][tname].numel() * 4
        assert total == index["metadata"]["total_size"]
        v = torch.arange(460, dtype=torch.float32) - 100.5
        want = {"z.a": v[:100], "b": v[100:150].reshape(5, 10), "c": v[150:450], "a.d": v[450:]}
        for tname, t in want.items():
            assert torch.equal(shards[index["weight_map"][tname]][tname], t), tname
        print("ok shards: %d files, index and values as torch expects" % len(shards))


if __name__ == "__main__":
    main()
