#!/usr/bin/python3
"""Writes vit_step.safetensors: one whole training step of torch_peers.py's vit in PyTorch 1.13, so that SharpVision's
implementation is checked end to end: logits, the label-smoothed loss, every gradient, and every parameter after one
AdamW step with weight decay on weight matrices only (not on biases, norms, the class token or position embeddings).

Run with Debian's interpreter from any folder:
    /usr/bin/python3 tests/Fixtures/vit/make_fixtures.py
Parameters are not stored: both sides fill them from the same closed form (fill()), which keeps the file small.
Tensors: input (4, 1, 28, 28), labels (4), logits (4, 10), loss (1), grad.<name> and after.<name> per parameter
(PyTorch's names and shapes).
"""
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import safetensors_writer  # noqa: E402

torch.set_num_threads(1)


class ViT(nn.Module):  # exactly torch_peers.py's vit
    def __init__(s, dim=64, depth=6, heads=4, mlp=128, patch=4, tokens=49, classes=10):
        super().__init__()
        s.embed = nn.Conv2d(1, dim, patch, patch)
        s.cls = nn.Parameter(torch.zeros(1, 1, dim)); s.pos = nn.Parameter(torch.randn(1, tokens + 1, dim) * 0.02)
        layer = nn.TransformerEncoderLayer(dim, heads, mlp, dropout=0.0, activation="gelu", batch_first=True, norm_first=True)
        s.blocks = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
        s.norm = nn.LayerNorm(dim); s.head = nn.Linear(dim, classes)

    def forward(s, x):
        t = s.embed(x).flatten(2).transpose(1, 2)
        t = torch.cat([s.cls.expand(len(t), -1, -1), t], 1) + s.pos
        return s.head(s.norm(s.blocks(t))[:, 0])


def fill(name, n):
    """The closed form both sides use: value j of parameter `name` (n values) = a·sin(0.37·j + len(name)) + b."""
    if "norm" in name and name.endswith("weight"):
        a, b = 0.1, 1.0   # layer-norm γ around 1
    elif name.endswith("bias"):
        a, b = 0.05, 0.0
    else:
        a, b = 0.3 / math.sqrt(max(1, n // 16)), 0.0
    return np.array([a * math.sin(0.37 * j + len(name)) + b for j in range(n)], dtype=np.float32)


def decays(name, p):
    """Weight decay on weight matrices and filters only."""
    return p.dim() >= 2 and name.endswith("weight")


net = ViT()
with torch.no_grad():
    for name, p in net.named_parameters():
        p.copy_(torch.from_numpy(fill(name, p.numel())).reshape(p.shape))
rng = np.random.default_rng(16)
x = rng.standard_normal((4, 1, 28, 28)).astype(np.float32)
y = np.array([3, 1, 4, 1], dtype=np.int64)
net.train()
groups = [{"params": [p for n, p in net.named_parameters() if decays(n, p)], "weight_decay": 0.05},
          {"params": [p for n, p in net.named_parameters() if not decays(n, p)], "weight_decay": 0.0}]
opt = torch.optim.AdamW(groups, lr=1e-3)
logits = net(torch.from_numpy(x))
loss = F.cross_entropy(logits, torch.from_numpy(y), label_smoothing=0.1)
opt.zero_grad(); loss.backward(); opt.step()

tensors = {"input": x, "labels": y.astype(np.int32), "logits": logits.detach().numpy(), "loss": np.array([loss.item()], dtype=np.float32)}
for name, p in net.named_parameters():
    tensors["grad." + name] = p.grad.numpy()
    tensors["after." + name] = p.detach().numpy()
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "vit_step.safetensors")
safetensors_writer.write(out, tensors, {"source": "PyTorch " + torch.__version__, "script": "tests/Fixtures/vit/make_fixtures.py"})
print(f"wrote {out}: loss {loss.item():.6f}, parameters {sum(p.numel() for p in net.parameters())}")
