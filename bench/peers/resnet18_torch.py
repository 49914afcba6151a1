"""ML.NET's ImageNet ResNet-18 (NuGet Microsoft.ML.DnnImageFeaturizer.ResNet18 0.24.0, ResNet18.onnx) rebuilt in PyTorch
with SharpVision's layout (Onnx/ResNet18Network.cs): stem 7x7/2 pad 3 + batch norm + ReLU, max pool 3x3/2 pad 1, residual
blocks 2-2-2-3 (64, 128, 256, 512 channels), global average pooling, a new linear head. The file's asymmetric pads
(top/left only) read the same windows as these symmetric ones at stride 2 on even sizes. Used by bench/peers/finetune_peer.py
and tests/Fixtures/finetune/make_fixtures.py."""
import os

import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import numpy_helper

DEFAULT_ONNX = os.path.expanduser(
    "~/.nuget/packages/microsoft.ml.dnnimagefeaturizer.resnet18/0.24.0/tools/DnnImageModels/ResNet18Onnx/ResNet18.onnx")

BLOCKS = [(64, 64, 1), (64, 64, 1), (64, 128, 2), (128, 128, 1), (128, 256, 2), (256, 256, 1), (256, 512, 2), (512, 512, 1), (512, 512, 1)]


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.c1, self.b1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout)
        self.c2, self.b2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout)
        self.sc = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)) if stride != 1 or cin != cout else None

    def forward(self, x):
        y = self.b2(self.c2(F.relu(self.b1(self.c1(x)))))
        return F.relu(y + (self.sc(x) if self.sc is not None else x))


class ResNet18(nn.Module):
    def __init__(self, classes):
        super().__init__()
        self.stem, self.norm = nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64)
        self.blocks = nn.Sequential(*[Block(*b) for b in BLOCKS])
        self.head = nn.Linear(512, classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.norm(self.stem(x))), 3, 2, 1)
        return self.head(self.blocks(x).mean((2, 3)))


def load(model, onnx_path):
    graph = onnx.load(onnx_path).graph
    init = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    pairs = []  # (conv weight, (scale, bias, mean, var)) in execution order
    nodes = list(graph.node)
    for i, node in enumerate(nodes):
        if node.op_type == "Conv":
            bn = nodes[i + 1]
            assert bn.op_type == "BatchNormalization"
            pairs.append((init[node.input[1]], [init[n] for n in bn.input[1:5]]))

    def put(pair, conv, norm):
        w, (g, b, m, v) = pair
        conv.weight.data = torch.from_numpy(w.copy())
        norm.weight.data, norm.bias.data = torch.from_numpy(g.copy()), torch.from_numpy(b.copy())
        norm.running_mean.data, norm.running_var.data = torch.from_numpy(m.copy()), torch.from_numpy(v.copy())

    put(pairs.pop(0), model.stem, model.norm)
    for block in model.blocks:
        taken = [pairs.pop(0) for _ in range(3 if block.sc is not None else 2)]
        main = [p for p in taken if p[0].shape[2] != 1]
        put(main[0], block.c1, block.b1)
        put(main[1], block.c2, block.b2)
        if block.sc is not None:
            put(next(p for p in taken if p[0].shape[2] == 1), block.sc[0], block.sc[1])
    assert not pairs


def pretrained(classes, onnx_path=DEFAULT_ONNX):
    """The network with the ONNX file's weights and a new head (torch's default initialization)."""
    model = ResNet18(classes)
    load(model, onnx_path)
    return model


def freeze_batch_norms(model):
    """Batch norms normalize with their running statistics and update nothing (SharpVision's default when fine-tuning)."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.eval()

