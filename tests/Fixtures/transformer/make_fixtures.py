#!/usr/bin/python3
"""Reference fixtures for SharpVision's transformer primitives, produced by PyTorch's own functions.

Run with Debian's interpreter (python3-torch, torch 1.13) from any folder:
    /usr/bin/python3 tests/Fixtures/transformer/make_fixtures.py

Writes transformer.json next to this script: {"torch": version, "cases": [...]}. Each case has a name, an op, its
options and named tensors {"shape": [...], "data": [...]} (float32, row-major, 9 significant digits, which
round-trips float32 exactly):
  inputs:    the op's leaf tensors (x, gamma, beta, a, b, q, k, v, token, ...)
  output:    y = op(inputs)
  upstream:  dy, a fixed random gradient of y
  gradients: d<input> = what y.backward(dy) leaves on each input
Ops: layer_norm, softmax, gelu (approximate none | tanh), bmm (with transposes), attention (q, k, v (B, H, T, d)),
multi_head_attention (packed (N, T, 3·H·d) projections, PyTorch's in_proj layout), split_heads, patches
(= unfold(p, stride p).transpose(1, 2)), tokens_from_channels (= flatten(2).transpose(1, 2)), prepend_token,
select_token. No dropout: its randomness is ours, not torch's.
"""
import json
import math
import os

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(20250216)
torch.set_num_threads(1)


def tensor(t):
    t = t.detach().to(torch.float32).contiguous()
    return {"shape": list(t.shape), "data": [float(f"{v:.9g}") for v in t.reshape(-1).tolist()]}


def leaf(*shape, low=-1.0, high=1.0):
    return (torch.rand(*shape) * (high - low) + low).requires_grad_()


def run(name, op, options, inputs, forward):
    y = forward()
    dy = torch.randn_like(y)
    y.backward(dy)
    tensors = {k: tensor(v) for k, v in inputs.items()}
    tensors["y"] = tensor(y)
    tensors["dy"] = tensor(dy)
    for k, v in inputs.items():
        tensors["d" + k] = tensor(v.grad)
    return {"name": name, "op": op, "options": options, "tensors": tensors}


def layer_norm(name, shape, offset=0.0):
    x, gamma, beta = leaf(*shape, low=-2 + offset, high=2 + offset), leaf(shape[-1], low=0.5, high=1.5), leaf(shape[-1])
    return run(name, "layer_norm", {"eps": 1e-5}, {"x": x, "gamma": gamma, "beta": beta},
               lambda: F.layer_norm(x, (shape[-1],), gamma, beta, 1e-5))


def softmax(name, shape):
    x = leaf(*shape, low=-4, high=4)
    return run(name, "softmax", {}, {"x": x}, lambda: F.softmax(x, -1))


def gelu(name, shape, approximate):
    x = leaf(*shape, low=-6, high=6)
    return run(name, "gelu", {"approximate": approximate}, {"x": x}, lambda: F.gelu(x, approximate=approximate))


def bmm(name, batch, m, k, n, transpose_a, transpose_b):
    a = leaf(batch, k, m) if transpose_a else leaf(batch, m, k)
    b = leaf(batch, n, k) if transpose_b else leaf(batch, k, n)
    return run(name, "bmm", {"transpose_a": transpose_a, "transpose_b": transpose_b}, {"a": a, "b": b},
               lambda: torch.bmm(a.transpose(1, 2) if transpose_a else a, b.transpose(1, 2) if transpose_b else b))


def attention(name, b, h, t, d):
    q, k, v = leaf(b, h, t, d, low=-2, high=2), leaf(b, h, t, d, low=-2, high=2), leaf(b, h, t, d)
    return run(name, "attention", {}, {"q": q, "k": k, "v": v},
               lambda: torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(d), -1) @ v)


def multi_head_attention(name, n, t, heads, d):
    x = leaf(n, t, 3 * heads * d, low=-2, high=2)

    def forward():
        q, k, v = x.split(heads * d, dim=-1)
        split = lambda z: z.reshape(n, t, heads, d).transpose(1, 2)
        o = torch.softmax(split(q) @ split(k).transpose(-2, -1) / math.sqrt(d), -1) @ split(v)
        return o.transpose(1, 2).reshape(n, t, heads * d)
    return run(name, "multi_head_attention", {"heads": heads}, {"x": x}, forward)


def split_heads(name, n, t, heads, d):
    x = leaf(n, t, heads * d)
    return run(name, "split_heads", {"heads": heads}, {"x": x}, lambda: x.reshape(n, t, heads, d).transpose(1, 2))


def patches(name, shape, p):
    x = leaf(*shape)
    return run(name, "patches", {"patch": p}, {"x": x}, lambda: F.unfold(x, p, stride=p).transpose(1, 2))


def tokens_from_channels(name, shape):
    x = leaf(*shape)
    return run(name, "tokens_from_channels", {}, {"x": x}, lambda: x.flatten(2).transpose(1, 2))


def prepend_token(name, n, t, d):
    x, token = leaf(n, t, d), leaf(d)
    return run(name, "prepend_token", {}, {"x": x, "token": token}, lambda: torch.cat([token.expand(n, 1, d), x], 1))


def select_token(name, n, t, d, index):
    x = leaf(n, t, d)
    return run(name, "select_token", {"index": index}, {"x": x}, lambda: x[:, index])


cases = [
    layer_norm("layer_norm_2x5x7", (2, 5, 7)),
    layer_norm("layer_norm_3x64_offset", (3, 64), offset=100.0),
    layer_norm("layer_norm_130x9", (130, 9)),
    softmax("softmax_2x3x11", (2, 3, 11)),
    softmax("softmax_4x50", (4, 50)),
    gelu("gelu_exact", (5, 13), "none"),
    gelu("gelu_tanh", (5, 13), "tanh"),
    bmm("bmm_3x4x5x6", 3, 4, 5, 6, False, False),
    bmm("bmm_ta", 2, 7, 3, 5, True, False),
    bmm("bmm_tb", 2, 7, 3, 5, False, True),
    bmm("bmm_tatb", 2, 4, 6, 3, True, True),
    attention("attention_2x3x7x5", 2, 3, 7, 5),
    attention("attention_1x2x50x16", 1, 2, 50, 16),
    multi_head_attention("multi_head_attention_2x9_h2_d8", 2, 9, 2, 8),
    multi_head_attention("multi_head_attention_1x13_h3_d5", 1, 13, 3, 5),
    split_heads("split_heads_2x3_h2_d4", 2, 3, 2, 4),
    patches("patches_2x3x9x10_p4", (2, 3, 9, 10), 4),
    patches("patches_1x1x28x28_p4", (1, 1, 28, 28), 4),
    tokens_from_channels("tokens_from_channels_2x3x4x5", (2, 3, 4, 5)),
    prepend_token("prepend_token_2x3x4", 2, 3, 4),
    select_token("select_token_2x3x4_0", 2, 3, 4, 0),
    select_token("select_token_2x3x4_2", 2, 3, 4, 2),
]
with open(os.path.join(HERE, "transformer.json"), "w") as f:
    json.dump({"torch": torch.__version__, "cases": cases}, f, separators=(",", ":"))
    f.write("\n")
print(f"wrote {len(cases)} cases to transformer.json")
