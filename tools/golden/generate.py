#!/usr/bin/python3
"""Write PyTorch golden vectors for varcheck's spec (float64).

Run from the repository root:  /usr/bin/python3 tools/golden/generate.py
Needs Debian's python3-torch (apt-get install python3-torch). Not run by CI: the JSON it
writes is committed and compared with the spec by properties/golden.test.ts.
"""
import json
import os
import platform

import torch
import torch.nn.functional as F

torch.manual_seed(20250107)
torch.set_default_dtype(torch.float64)

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "properties", "fixtures", "pytorch-golden.json")


def flat(t):
    return [float(v) for v in t.reshape(-1).tolist()]


def resize_case(mode, h, w, c, h2, w2):
    # varcheck's FeatureMap is HWC; PyTorch wants NCHW.
    x = torch.rand(h, w, c) * 8 - 4
    kw = {"align_corners": False} if mode == "bicubic" else {}
    y = F.interpolate(x.permute(2, 0, 1).unsqueeze(0), size=(h2, w2), mode=mode, **kw)
    y = y.squeeze(0).permute(1, 2, 0).contiguous()
    return {"mode": mode, "h": h, "w": w, "c": c, "h2": h2, "w2": w2, "x": flat(x), "expected": flat(y)}


SHAPES = [
    # (h, w, c, h2, w2): 1×1 sources, non-square, non-divisible, equal sizes, up and down
    (1, 1, 1, 1, 1), (1, 1, 2, 4, 4), (1, 1, 1, 3, 5), (2, 2, 1, 4, 4), (2, 3, 2, 5, 7),
    (3, 3, 1, 3, 3), (4, 4, 2, 4, 4), (3, 5, 1, 8, 6), (4, 4, 1, 16, 16), (5, 7, 2, 13, 13),
    (8, 8, 1, 3, 3), (8, 6, 2, 4, 3), (7, 7, 1, 5, 2), (16, 16, 1, 10, 10), (13, 13, 2, 16, 16),
    (6, 6, 1, 1, 1), (2, 5, 1, 1, 9), (9, 4, 3, 6, 6), (10, 10, 1, 16, 16), (16, 16, 2, 13, 13),
]


def attention_case(lq, lk, d, dv, blocks, B):
    q = (torch.rand(lq, d) * 2 - 1) * B
    k = (torch.rand(lk, d) * 2 - 1) * B
    v = (torch.rand(lk, dv) * 2 - 1) * B
    scale = 1.0 / d
    logits = scale * (q @ k.T)
    if blocks is not None:
        level = torch.repeat_interleave(torch.arange(len(blocks)), torch.tensor(blocks))
        allowed = level[:, None] >= level[None, :]
        logits = logits.masked_fill(~allowed, float("-inf"))
    out = torch.softmax(logits, dim=-1) @ v
    return {"lq": lq, "lk": lk, "d": d, "dv": dv, "scale": scale, "blocks": blocks,
            "q": flat(q), "k": flat(k), "v": flat(v), "expected": flat(out)}


ATTENTION = [
    (1, 1, 1, 1, None, 1.0), (3, 5, 2, 2, None, 1.0), (8, 8, 4, 3, None, 2.0), (16, 9, 8, 4, None, 4.0),
    (5, 5, 3, 2, [1, 4], 1.0), (14, 14, 4, 4, [1, 4, 9], 2.0), (30, 30, 4, 2, [1, 4, 9, 16], 3.0),
    (20, 20, 6, 3, [1, 2, 2, 6, 9], 1.5), (55, 55, 8, 4, [1, 4, 9, 16, 25], 2.0), (1, 1, 3, 2, [1], 5.0),
]


def main():
    fixture = {
        "generator": "tools/golden/generate.py",
        "torch": torch.__version__,
        "python": platform.python_version(),
        "dtype": "float64",
        "resize": [resize_case(m, *s) for s in SHAPES for m in ("bicubic", "area")],
        "attention": [attention_case(*a) for a in ATTENTION],
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {len(fixture['resize'])} resize and {len(fixture['attention'])} attention cases to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
