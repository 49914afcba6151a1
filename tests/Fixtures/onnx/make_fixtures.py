# Fixtures for the ONNX importer and the layout ops it added to the engine, made with Debian's PyTorch 1.13 and onnx 1.12:
#   ops.safetensors       padded max pooling (3×3, stride 2, pad 1: the ImageNet stem's) and asymmetric zero padding +
#                         convolution, forward and input gradient, from torch.nn.functional.
#   zoo_opset{7,9,11,13,17}.onnx + zoo.safetensors
#                         one small network using every supported operator, exported by torch.onnx.export at each
#                         opset, with its input and PyTorch's output (evaluation mode).
# Run: /usr/bin/python3 tests/Fixtures/onnx/make_fixtures.py   (seeded: regenerates byte for byte)
import os, sys
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import safetensors_writer

torch.manual_seed(3)
torch.set_num_threads(1)
here = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(11)

tensors = {}
x = torch.from_numpy(rng.standard_normal((2, 3, 9, 8)).astype(np.float32)).requires_grad_()
y = F.max_pool2d(x, 3, 2, padding=1)
g = torch.from_numpy(rng.standard_normal(tuple(y.shape)).astype(np.float32))
y.backward(g)
tensors.update({"maxpool.x": x.detach().numpy(), "maxpool.y": y.detach().numpy(), "maxpool.dy": g.numpy(), "maxpool.dx": x.grad.numpy()})

x = torch.from_numpy(rng.standard_normal((2, 3, 11, 10)).astype(np.float32)).requires_grad_()
w = torch.from_numpy(rng.standard_normal((4, 3, 3, 3)).astype(np.float32)).requires_grad_()
y = F.conv2d(F.pad(x, (0, 1, 0, 1)), w, stride=2)  # (left, right, top, bottom): TensorFlow's SAME_UPPER for stride 2
g = torch.from_numpy(rng.standard_normal(tuple(y.shape)).astype(np.float32))
y.backward(g)
tensors.update({"padconv.x": x.detach().numpy(), "padconv.w": w.detach().numpy(), "padconv.y": y.detach().numpy(),
                "padconv.dy": g.numpy(), "padconv.dx": x.grad.numpy(), "padconv.dw": w.grad.numpy()})
safetensors_writer.write(os.path.join(here, "ops.safetensors"), tensors, {"made_by": "tests/Fixtures/onnx/make_fixtures.py", "torch": torch.__version__})


class Zoo(nn.Module):
    """Conv, BatchNormalization, Relu, LeakyRelu, MaxPool (padded), AveragePool, GlobalAveragePool, Split, Concat,
    Add, Sub, Mul, Div, Flatten, Reshape, Gemm, MatMul, Softmax, Dropout, Identity and Constant in one graph."""
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 8, 3, stride=2, padding=1, bias=False)
        self.fc = nn.Linear(8 * 4 * 4, 16)
        self.proj = nn.Parameter(torch.randn(16, 5) * 0.3)
        self.drop = nn.Dropout(0.3)

    def forward(self, x):
        x = (x - 0.5) / 0.25 * 1.5 + 0.1                     # Sub, Div, Mul, Add with constants
        x = F.relu(self.bn(self.conv(x)))
        x = F.max_pool2d(x, 3, 2, padding=1)                  # 16 → 8
        a, b = torch.split(x, 4, dim=1)                       # Split
        x = torch.cat([F.leaky_relu(a, 0.2), b], dim=1)       # LeakyRelu, Concat
        x = x + self.conv2(x).mean(dim=(2, 3), keepdim=True)  # GlobalAveragePool (ReduceMean below opset 13?) + Add broadcast
        x = F.avg_pool2d(x, 2)                                # 8 → 4
        x = self.drop(torch.flatten(x, 1))                    # Flatten, Dropout
        x = F.relu(self.fc(x)).reshape(-1, 4, 4).reshape(-1, 16)  # Gemm, Reshape
        return F.softmax(x @ self.proj, dim=1)                # MatMul, Softmax


net = Zoo().eval()
with torch.no_grad():
    net.bn.running_mean.copy_(torch.randn(8) * 0.1)
    net.bn.running_var.copy_(torch.rand(8) + 0.5)
    net.bn.weight.copy_(torch.rand(8) + 0.5)
    net.bn.bias.copy_(torch.randn(8) * 0.1)
x = torch.from_numpy(rng.random((3, 3, 16, 16)).astype(np.float32))
with torch.no_grad():
    y = net(x)
for opset in (7, 9, 11, 13, 17):
    torch.onnx.export(net, x, os.path.join(here, f"zoo_opset{opset}.onnx"), opset_version=opset, input_names=["pixels"],
                      output_names=["probabilities"], dynamic_axes={"pixels": {0: "N"}, "probabilities": {0: "N"}},
                      do_constant_folding=True)
safetensors_writer.write(os.path.join(here, "zoo.safetensors"), {"x": x.numpy(), "y": y.numpy()},
                         {"made_by": "tests/Fixtures/onnx/make_fixtures.py", "torch": torch.__version__})
