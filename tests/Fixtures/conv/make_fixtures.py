#!/usr/bin/python3
"""Reference fixtures for SharpVision's convolutional primitives, produced by PyTorch's own functions.

Run with Debian's interpreter (python3-torch, torch 1.13) from any folder:
    /usr/bin/python3 tests/Fixtures/conv/make_fixtures.py

Writes conv.json next to this script: {"torch": version, "cases": [...]}. Each case has a name, an op
(conv2d | max_pool2d | avg_pool2d | adaptive_avg_pool2d | batch_norm | gelu | erf), its options, and named
tensors {"shape": [...], "data": [...]} (float32, row-major, printed with 9 significant digits, which round-trips
float32 exactly):
  inputs:     x, and weight/bias, or gamma/beta/running_mean/running_var (running stats as they were BEFORE the call)
  output:     y = op(inputs)
  upstream:   dy, a fixed random gradient of y
  gradients:  dx, dweight, dbias, dgamma, dbeta = the gradients y.backward(dy) leaves on the inputs
  batch norm: running_mean_after, running_var_after (the in-place update in training; unchanged in eval)
The erf case stores float64 values (x, erf x) for the C# erf itself. No dropout: its randomness is ours, not torch's.
"""
import json
import os

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(20250101)


def tensor(t):
    t = t.detach().to(torch.float32).contiguous()
    return {"shape": list(t.shape), "data": [float(f"{v:.9g}") for v in t.reshape(-1).tolist()]}


def leaf(*shape, low=-1.0, high=1.0):
    return (torch.rand(*shape) * (high - low) + low).requires_grad_()


def run(name, op, options, inputs, forward, extra=None):
    """inputs: ordered dict of named leaf tensors (those requiring grad get a gradient entry)."""
    y = forward()
    dy = torch.randn_like(y)
    y.backward(dy)
    tensors = {k: tensor(v) for k, v in inputs.items()}
    tensors["y"] = tensor(y)
    tensors["dy"] = tensor(dy)
    for k, v in inputs.items():
        if isinstance(v, torch.Tensor) and v.requires_grad:
            tensors["d" + k] = tensor(v.grad)
    if extra:
        tensors.update({k: tensor(v) for k, v in extra().items()})
    return {"name": name, "op": op, "options": options, "tensors": tensors}


def conv(name, n, c, h, w, k, kh, kw, stride, padding, bias):
    x, weight = leaf(n, c, h, w), leaf(k, c, kh, kw)
    inputs = {"x": x, "weight": weight}
    if bias:
        inputs["bias"] = leaf(k)
    return run(name, "conv2d", {"stride": stride, "padding": padding}, inputs,
               lambda: F.conv2d(x, weight, inputs.get("bias"), stride, padding))


def pool(name, op, shape, kernel, stride):
    x = leaf(*shape, low=-2, high=2)
    fn = F.max_pool2d if op == "max_pool2d" else F.avg_pool2d
    return run(name, op, {"kernel": kernel, "stride": stride}, {"x": x}, lambda: fn(x, kernel, stride))


def batch_norm(name, shape, training):
    c = shape[1]
    x = leaf(*shape, low=-2, high=3)
    gamma, beta = leaf(c, low=0.5, high=1.5), leaf(c)
    running_mean, running_var = torch.randn(c) * 0.1, torch.rand(c) + 0.5
    before_mean, before_var = running_mean.clone(), running_var.clone()
    case = run(name, "batch_norm", {"training": training, "momentum": 0.1, "eps": 1e-5},
               {"x": x, "gamma": gamma, "beta": beta},
               lambda: F.batch_norm(x, running_mean, running_var, gamma, beta, training, 0.1, 1e-5),
               lambda: {"running_mean_after": running_mean, "running_var_after": running_var})
    case["tensors"]["running_mean"] = tensor(before_mean)
    case["tensors"]["running_var"] = tensor(before_var)
    return case


cases = [
    conv("conv_3x3_bias", 2, 3, 7, 6, 4, 3, 3, 1, 0, True),
    conv("conv_3x3_stride2_pad1_bias", 2, 3, 7, 6, 4, 3, 3, 2, 1, True),
    conv("conv_3x3_pad1_c1_no_bias", 3, 1, 8, 8, 5, 3, 3, 1, 1, False),
    conv("conv_1x1_bias", 2, 4, 5, 3, 6, 1, 1, 1, 0, True),
    conv("conv_1x1_stride2_no_bias", 2, 4, 5, 5, 3, 1, 1, 2, 0, False),
    conv("conv_5x5_pad2_bias", 1, 2, 9, 9, 3, 5, 5, 1, 2, True),
    conv("conv_3x3_stride2_pad1_28x28", 2, 2, 28, 28, 3, 3, 3, 2, 1, False),
    pool("max_pool_2x2", "max_pool2d", (2, 3, 7, 6), 2, 2),
    pool("max_pool_3x3_stride2", "max_pool2d", (2, 2, 7, 8), 3, 2),
    pool("avg_pool_2x2", "avg_pool2d", (2, 3, 7, 6), 2, 2),
    pool("avg_pool_3x3_stride2", "avg_pool2d", (2, 2, 7, 8), 3, 2),
    batch_norm("batch_norm2d_train", (4, 3, 5, 4), True),
    batch_norm("batch_norm2d_eval", (4, 3, 5, 4), False),
    batch_norm("batch_norm1d_train", (8, 5), True),
    batch_norm("batch_norm1d_eval", (8, 5), False),
]

x = leaf(2, 3, 5, 4)
cases.append(run("adaptive_avg_pool", "adaptive_avg_pool2d", {}, {"x": x}, lambda: F.adaptive_avg_pool2d(x, 1).flatten(1)))

g = torch.linspace(-6, 6, 97).requires_grad_()
cases.append(run("gelu_exact", "gelu", {}, {"x": g}, lambda: F.gelu(g)))

e = torch.linspace(-6, 6, 121, dtype=torch.float64)
cases.append({"name": "erf", "op": "erf", "options": {},
              "tensors": {"x": {"shape": [121], "data": e.tolist()}, "y": {"shape": [121], "data": torch.erf(e).tolist()}}})

with open(os.path.join(HERE, "conv.json"), "w") as f:
    json.dump({"torch": torch.__version__, "cases": cases}, f, separators=(",", ":"))
    f.write("\n")
print(f"wrote {len(cases)} cases to {os.path.join(HERE, 'conv.json')}")
