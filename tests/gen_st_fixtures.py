#!/usr/bin/python3
"""Writes the safetensors fixtures of tests/test_st.c into tests/fixtures/st/.

Run with Debian's /usr/bin/python3 (torch only). The safetensors files are
laid out here by hand from the format's specification (8-byte little-endian
header length, JSON header, data block), independently of common/st*.c, and
every expected fp32 value comes from torch's own dtype conversion:

  expected.json   per file: metadata, and per tensor dtype, shape and where
                  its fp32 values are in expected.f32 (offset -1: not a float)
  expected.f32    the concatenated fp32 values, little-endian
  conv_src.f32    fp32 inputs of the writer's conversions, and torch's results:
  conv_bf16.u16   src.to(torch.bfloat16) bits
  conv_f16.u16    src.to(torch.float16) bits
  save.json       what saving should write: tensors (name, shape, offset into
                  conv_src.f32, so their F32/BF16/F16 bytes are the files above)
                  and, per (dtype, maximum shard size), the files with their
                  tensors in order and the index text transformers writes

Usage: /usr/bin/python3 tests/gen_st_fixtures.py [OUTDIR]
"""
import json
import os
import struct
import sys

import torch

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "fixtures", "st")

DTYPE_NAME = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
              torch.int64: "I64", torch.bool: "BOOL", torch.float64: "F64"}


def raw_bytes(t):
    """The tensor's bytes in memory order (little-endian on this host)."""
    t = t.contiguous()
    if t.dtype == torch.bool:
        return bytes(t.to(torch.uint8).tolist())
    return bytes(t.reshape(-1).view(torch.uint8).tolist()) if t.numel() else b""


def write_st(path, tensors, metadata=None, header_order=None, pad=True):
    """tensors: list of (name, tensor) in data order; header_order: names in
    the order the JSON lists them (default: data order)."""
    header, blobs, off = {}, [], 0
    if metadata is not None:
        header["__metadata__"] = metadata
    entries = {}
    for name, t in tensors:
        b = raw_bytes(t)
        entries[name] = {"dtype": DTYPE_NAME[t.dtype], "shape": list(t.shape),
                         "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    for name in header_order or [n for n, _ in tensors]:
        header[name] = entries[name]
    h = json.dumps(header, separators=(",", ":")).encode()
    if pad:
        h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


class Expected:
    def __init__(self):
        self.values = []
        self.count = 0
        self.files = {}

    def add(self, fname, tensors, metadata=None):
        d = {"metadata": metadata or {}, "tensors": {}}
        for name, t in tensors:
            ent = {"dtype": DTYPE_NAME[t.dtype], "shape": list(t.shape), "offset": -1}
            if t.dtype in (torch.float32, torch.float16, torch.bfloat16):
                # Raw bits, never through Python floats (which would quiet
                # signalling NaNs on the way).
                ent["offset"] = self.count
                self.values.append(raw_bytes(t.to(torch.float32)))
                self.count += t.numel()
            d["tensors"][name] = ent
        self.files[fname] = d

    def save(self):
        with open(os.path.join(OUT, "expected.json"), "w") as f:
            json.dump({"files": self.files}, f, indent=1, sort_keys=True)
            f.write("\n")
        with open(os.path.join(OUT, "expected.f32"), "wb") as f:
            f.write(b"".join(self.values))


def bits16(values):
    return torch.tensor(values, dtype=torch.int32).to(torch.int16)


def special_f32():
    v = [0.0, -0.0, 1.0, -2.5, 65504.0, -65504.0, 65519.0, 65520.0, 65536.0, 1e9,
         float("inf"), float("-inf"), float("nan"), 2.0 ** -24, 2.0 ** -25, 3 * 2.0 ** -25,
         2.0 ** -14, 2.0 ** -14 - 2.0 ** -25, 6.1e-5, 1e-3, 0.1, 1 / 3, 3.4e38, 1e-38, 1e-45,
         1 + 2.0 ** -8, 1 + 3 * 2.0 ** -8, 1 + 2.0 ** -11, 1 + 3 * 2.0 ** -11, 255.5, -7.75]
    return torch.tensor(v, dtype=torch.float32)


def conv_sources(g):
    """Inputs that exercise rounding: specials, ties, random values of every
    magnitude, and random bit patterns (NaNs with payloads, subnormals)."""
    parts = [special_f32(),
             torch.randn(1000, generator=g),
             torch.randn(1000, generator=g) * torch.pow(2.0, torch.randint(-30, 20, (1000,),
                                                                          generator=g).float())]
    # Exact ties for bf16 (low 16 bits 0x8000) and for f16 (low 13 bits 0x1000).
    hi = torch.randint(0, 1 << 15, (500,), generator=g, dtype=torch.int64)
    parts.append(((hi << 16) | 0x8000).to(torch.int32).view(torch.float32))
    e = torch.randint(100, 143, (500,), generator=g, dtype=torch.int64)
    m = torch.randint(0, 1 << 10, (500,), generator=g, dtype=torch.int64)
    parts.append(((e << 23) | (m << 13) | 0x1000).to(torch.int32).view(torch.float32))
    rnd = torch.randint(-(1 << 31), (1 << 31) - 1, (1000,), generator=g, dtype=torch.int64)
    parts.append(rnd.to(torch.int32).view(torch.float32))
    return torch.cat(parts)


# Slices of conv_sources() saved as a small model (offsets follow its parts:
# 31 specials, randn at 31, scaled at 1031, bf16 ties at 2031, f16 ties at
# 2531, random bit patterns at 3031).
SAVE_TENSORS = [("model.embed_tokens.weight", [16, 8], 31),
                ("model.layers.0.input_layernorm.weight", [8], 1031),
                ("model.layers.0.mlp.up_proj.weight", [24, 8], 2031),
                ("model.norm.weight", [8], 3031),
                ("lm_head.weight", [16, 8], 2531),
                ("v_head.summary.weight", [1, 31], 0),
                ("model.layers.0.mlp.down_proj.weight", [2, 100], 3200)]
# (dtype, maximum shard bytes; 0 = no limit): one file, then limits that make
# a too-big tensor take a shard ahead of the one being filled.
SAVE_CASES = [("F32", 0), ("F32", 600), ("BF16", 600), ("F16", 300), ("BF16", 1 << 20)]


def split_like_transformers(sizes, limit):
    """Shards as huggingface_hub's split_state_dict_into_shards_factory makes
    them for save_pretrained (transformers >= 4.42), no shared storage: table
    order; a tensor over the limit gets its own shard at once; otherwise the
    current shard is closed when the tensor would take it past the limit."""
    shards, cur, cur_size = [], [], 0
    for name, size in sizes:
        if size > limit:
            shards.append([name])
            continue
        if cur_size + size > limit:
            shards.append(cur)
            cur, cur_size = [], 0
        cur.append(name)
        cur_size += size
    if cur:
        shards.append(cur)
    return shards


def save_expectations():
    esize = {"F32": 4, "BF16": 2, "F16": 2}
    cases = []
    for dtype, limit in SAVE_CASES:
        sizes = [(n, esize[dtype] * sh[0] * (sh[1] if len(sh) > 1 else 1))
                 for n, sh, _ in SAVE_TENSORS]
        shards = split_like_transformers(sizes, limit or float("inf"))
        case = {"dtype": dtype, "max_shard_bytes": limit, "index": None}
        if len(shards) == 1:
            case["files"] = {"model.safetensors": shards[0]}
        else:
            names = ["model-%05d-of-%05d.safetensors" % (k + 1, len(shards))
                     for k in range(len(shards))]
            case["files"] = dict(zip(names, shards))
            index = {"metadata": {"total_size": sum(b for _, b in sizes)},
                     "weight_map": {t: f for f, ts in case["files"].items() for t in ts}}
            # as transformers' save_pretrained writes it
            case["index"] = json.dumps(index, indent=2, sort_keys=True) + "\n"
        cases.append(case)
    tensors = [{"name": n, "shape": sh, "offset": off} for n, sh, off in SAVE_TENSORS]
    with open(os.path.join(OUT, "save.json"), "w") as f:
        json.dump({"tensors": tensors, "cases": cases}, f, indent=1)
        f.write("\n")


def main():
    os.makedirs(os.path.join(OUT, "sharded"), exist_ok=True)
    g = torch.Generator().manual_seed(20240306)
    exp = Expected()

    f32 = [("wte.weight", torch.randn(16, 8, generator=g)),
           ("h.0.attn.bias", torch.randn(8, generator=g)),
           ("scalar", torch.tensor(3.25)),
           ("empty", torch.zeros(0, 3)),
           ("specials", special_f32())]
    meta = {"format": "pt", "note": "fixture \"quoted\" \u00e9"}
    # Header lists the tensors in another order than their data.
    write_st(os.path.join(OUT, "f32.safetensors"), f32, meta,
             header_order=["specials", "scalar", "empty", "wte.weight", "h.0.attn.bias"])
    exp.add("f32.safetensors", f32, meta)

    f16_bits = list(range(0, 1 << 16, 37)) + [0x0000, 0x8000, 0x0001, 0x8001, 0x03ff, 0x0400,
                                               0x7bff, 0xfbff, 0x7c00, 0xfc00, 0x7c01, 0x7e00,
                                               0xfe00, 0x7fff, 0xffff, 0x3c00, 0x3555]
    f16 = [("rand", (torch.randn(5, 7, generator=g) * 10).to(torch.float16)),
           ("specials", special_f32().to(torch.float16)),
           ("bits", bits16(f16_bits).view(torch.float16))]
    # No padding: the data block starts at an odd offset, data is unaligned.
    write_st(os.path.join(OUT, "f16.safetensors"), f16, pad=False)
    exp.add("f16.safetensors", f16)

    bf16_bits = list(range(0, 1 << 16, 41)) + [0x0000, 0x8000, 0x0001, 0x807f, 0x7f7f, 0xff7f,
                                                0x7f80, 0xff80, 0x7f81, 0x7fc0, 0xffc1, 0x3f80]
    bf16 = [("rand", torch.randn(6, 5, generator=g).to(torch.bfloat16)),
            ("specials", special_f32().to(torch.bfloat16)),
            ("bits", bits16(bf16_bits).view(torch.bfloat16))]
    write_st(os.path.join(OUT, "bf16.safetensors"), bf16, {"format": "pt"})
    exp.add("bf16.safetensors", bf16, {"format": "pt"})

    mixed = [("w", torch.randn(3, 4, generator=g)),
             ("b", torch.randn(4, generator=g).to(torch.bfloat16)),
             ("ids", torch.arange(5, dtype=torch.int64)),
             ("h", torch.randn(2, 2, generator=g).to(torch.float16)),
             ("flags", torch.tensor([True, False, True])),
             ("d", torch.randn(2, generator=g).to(torch.float64))]
    write_st(os.path.join(OUT, "mixed.safetensors"), mixed)
    exp.add("mixed.safetensors", mixed)

    shard1 = [("model.embed_tokens.weight", torch.randn(10, 4, generator=g)),
              ("model.norm.weight", torch.randn(4, generator=g))]
    shard2 = [("lm_head.weight", torch.randn(10, 4, generator=g).to(torch.bfloat16)),
              ("model.layers.0.mlp.up_proj.weight", torch.randn(6, 4, generator=g))]
    names = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]
    weight_map, total = {}, 0
    for fname, ts in zip(names, (shard1, shard2)):
        write_st(os.path.join(OUT, "sharded", fname), ts, {"format": "pt"})
        for n, t in ts:
            weight_map[n] = fname
            total += t.numel() * t.element_size()
    with open(os.path.join(OUT, "sharded", "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2)
    exp.add("sharded", shard1 + shard2, {"format": "pt"})
    exp.save()

    src = conv_sources(g)
    with open(os.path.join(OUT, "conv_src.f32"), "wb") as f:
        f.write(raw_bytes(src))
    with open(os.path.join(OUT, "conv_bf16.u16"), "wb") as f:
        f.write(raw_bytes(src.to(torch.bfloat16)))
    with open(os.path.join(OUT, "conv_f16.u16"), "wb") as f:
        f.write(raw_bytes(src.to(torch.float16)))
    save_expectations()
    print("wrote fixtures to", OUT, "(%d expected values, %d conversion inputs)"
          % (exp.count, src.numel()))


if __name__ == "__main__":
    main()
