#!/usr/bin/env python3
"""Seeds for tests/fuzz/fuzz_safetensors.c from the st fixtures (any python3).

Mode byte 0 + a whole file, and mode byte 1 + data size/16 + the header text.
Usage: python3 tests/fuzz/gen_st_seeds.py
"""
import glob
import os
import struct

here = os.path.dirname(os.path.abspath(__file__))
fixtures = os.path.join(here, "..", "fixtures", "st")
out = os.path.join(here, "seeds", "fuzz_safetensors")
os.makedirs(out, exist_ok=True)
files = sorted(glob.glob(os.path.join(fixtures, "*.safetensors")) +
               glob.glob(os.path.join(fixtures, "sharded", "*.safetensors")))
for path in files:
    raw = open(path, "rb").read()
    name = os.path.basename(path).replace(".safetensors", "")
    (hlen,) = struct.unpack("<Q", raw[:8])
    header, data = raw[8:8 + hlen], raw[8 + hlen:]
    if len(raw) < 4096:
        with open(os.path.join(out, name + ".raw"), "wb") as f:
            f.write(b"\x00" + raw)
    with open(os.path.join(out, name + ".hdr"), "wb") as f:
        f.write(b"\x01" + bytes([min(255, (len(data) + 15) // 16)]) + header)
print("wrote", len(os.listdir(out)), "seeds to", out)
