# st_set.py FILE TENSOR INDEX VALUE: overwrites one F32 element of a tensor in
# a safetensors file in place (for tests of non-finite weights). VALUE is any
# float() spelling: nan, inf, -inf, 3e38.
import json
import struct
import sys

path, name, index, value = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
with open(path, "r+b") as f:
    (n,) = struct.unpack("<Q", f.read(8))
    header = json.loads(f.read(n))
    t = header[name]
    assert t["dtype"] == "F32", t["dtype"]
    f.seek(8 + n + t["data_offsets"][0] + 4 * index)
    f.write(struct.pack("<f", value))
