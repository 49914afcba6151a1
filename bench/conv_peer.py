#!/usr/bin/python3
"""PyTorch 1.13 (Debian python3-torch, CPU, 2 threads) timings of the ops `SharpVision.Bench conv` measures.

    /usr/bin/python3 bench/conv_peer.py [--repeats 15] [--only SUBSTRING]

One JSON line per op: forward + backward per batch of 128 with a fixed upstream gradient, median of the repeats
after two warm-up steps; names and shapes match bench/SharpVision.Bench/ConvBench.cs row for row.
"""
import json
import sys
import time

import torch
import torch.nn.functional as F

torch.set_num_threads(2)
torch.manual_seed(1)
BATCH = 128
args = sys.argv[1:]
repeats = int(args[args.index("--repeats") + 1]) if "--repeats" in args else 15
only = args[args.index("--only") + 1] if "--only" in args else None

cases = []


def conv(name, c, hw, k, kernel, stride, padding, bias, input_grad):
    w = (torch.randn(k, c, kernel, kernel) * 0.1).requires_grad_()
    b = (torch.randn(k) * 0.1).requires_grad_() if bias else None
    cases.append((name, (BATCH, c, hw, hw), input_grad, lambda x: F.conv2d(x, w, b, stride, padding)))


def batchnorm(name, c, hw):
    gamma, beta = torch.ones(c).requires_grad_(), torch.zeros(c).requires_grad_()
    rm, rv = torch.zeros(c), torch.ones(c)
    cases.append((name, (BATCH, c, hw, hw), True, lambda x: F.batch_norm(x, rm, rv, gamma, beta, True, 0.1, 1e-5)))


conv("cnn2 conv1 1->32 3x3 p1 28x28", 1, 28, 32, 3, 1, 1, True, False)
conv("cnn2 conv2 32->64 3x3 p1 14x14", 32, 14, 64, 3, 1, 1, True, True)
conv("resnet8 stem 1->16 3x3 p1 28x28", 1, 28, 16, 3, 1, 1, False, False)
conv("resnet8 16->16 3x3 p1 28x28", 16, 28, 16, 3, 1, 1, False, True)
conv("resnet8 16->32 3x3 s2 p1 28x28", 16, 28, 32, 3, 2, 1, False, True)
conv("resnet8 32->32 3x3 p1 14x14", 32, 14, 32, 3, 1, 1, False, True)
conv("resnet8 32->64 3x3 s2 p1 14x14", 32, 14, 64, 3, 2, 1, False, True)
conv("resnet8 64->64 3x3 p1 7x7", 64, 7, 64, 3, 1, 1, False, True)
conv("resnet8 proj 16->32 1x1 s2 28x28", 16, 28, 32, 1, 2, 0, False, True)
conv("resnet8 proj 32->64 1x1 s2 14x14", 32, 14, 64, 1, 2, 0, False, True)
conv("pointwise 32->64 1x1 14x14", 32, 14, 64, 1, 1, 0, False, True)
cases.append(("cnn2 maxpool 2x2 32x28x28", (BATCH, 32, 28, 28), True, lambda x: F.max_pool2d(x, 2, 2)))
cases.append(("cnn2 maxpool 2x2 64x14x14", (BATCH, 64, 14, 14), True, lambda x: F.max_pool2d(x, 2, 2)))
batchnorm("cnn2 batchnorm2d 32x28x28", 32, 28)
batchnorm("cnn2 batchnorm2d 64x14x14", 64, 14)
batchnorm("resnet8 batchnorm2d 16x28x28", 16, 28)
cases.append(("resnet8 global avgpool 64x7x7", (BATCH, 64, 7, 7), True, lambda x: F.adaptive_avg_pool2d(x, 1).flatten(1)))

for name, shape, input_grad, build in cases:
    if only is not None and only not in name:
        continue
    x = torch.randn(*shape).requires_grad_(input_grad)
    dy = None

    def step():
        global dy
        x.grad = None
        t = time.perf_counter()
        y = build(x)
        if dy is None:
            dy = torch.randn_like(y)
        y.backward(dy)
        return time.perf_counter() - t

    step()
    step()
    times = sorted(step() for _ in range(repeats))
    median = times[len(times) // 2]
    print(json.dumps({"bench": "conv", "op": name, "batch": BATCH, "median_ms": round(median * 1000, 3),
                      "min_ms": round(times[0] * 1000, 3), "images_per_s": round(BATCH / median), "repeats": repeats,
                      "threads": torch.get_num_threads(), "peer": f"torch {torch.__version__}"}), flush=True)
