# Writes resnet8_step.safetensors: one whole training step of torch_peers.py's resnet8 in PyTorch 1.13, so that
# SharpVision's implementation can be checked end to end (forward in training mode, loss, every gradient, batch-norm
# running statistics, and the parameters after one SGD + Nesterov + weight-decay step).
# Run with Debian's interpreter: /usr/bin/python3 tests/Fixtures/cnn/make_fixtures.py
# Parameters are not stored: both sides fill them from the same closed form (see fill()), which keeps the file small.
import json, math, os, struct
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F

torch.set_num_threads(1)

class Res(nn.Module):  # exactly torch_peers.py's block
    def __init__(s, cin, cout, stride):
        super().__init__()
        s.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False); s.b1 = nn.BatchNorm2d(cout)
        s.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False); s.b2 = nn.BatchNorm2d(cout)
        s.sc = nn.Sequential() if stride == 1 and cin == cout else nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
    def forward(s, x): return F.relu(s.b2(s.c2(F.relu(s.b1(s.c1(x))))) + s.sc(x))

def resnet8():  # exactly torch_peers.py's resnet8
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
        Res(16, 16, 1), Res(16, 32, 2), Res(32, 64, 2), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))

def fill(name, n, batch_norm_gamma):
    """The closed form both sides use: value j of parameter `name` (n values) = a·sin(0.37·j + len(name)) + b."""
    if batch_norm_gamma:
        a, b = 0.1, 1.0   # batch-norm γ around 1
    elif name.endswith("bias"):
        a, b = 0.05, 0.0
    else:
        a, b = 0.3 / math.sqrt(max(1, n // 16)), 0.0
    return np.array([a * math.sin(0.37 * j + len(name)) + b for j in range(n)], dtype=np.float32)

net = resnet8()
gammas = {f"{m}.weight" for m, module in net.named_modules() if isinstance(module, nn.BatchNorm2d)}
with torch.no_grad():
    for name, p in net.named_parameters():
        p.copy_(torch.from_numpy(fill(name, p.numel(), name in gammas)).reshape(p.shape))
rng = np.random.default_rng(7)
x = rng.standard_normal((6, 1, 28, 28)).astype(np.float32)
y = np.array([3, 1, 4, 1, 5, 9], dtype=np.int64)
net.train()
opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4)
logits = net(torch.from_numpy(x))
loss = F.cross_entropy(logits, torch.from_numpy(y))
opt.zero_grad(); loss.backward(); opt.step()

tensors = {"input": x, "labels": y.astype(np.int32), "logits": logits.detach().numpy(), "loss": np.array([loss.item()], dtype=np.float32)}
for name, p in net.named_parameters():
    tensors["grad." + name] = p.grad.numpy()
    tensors["after." + name] = p.detach().numpy()
for name, b in net.named_buffers():
    if "running" in name: tensors["buffer." + name] = b.numpy()

# safetensors layout: 8-byte little-endian header length, JSON header, raw little-endian data
header, blobs, offset = {"__metadata__": {"source": "PyTorch " + torch.__version__, "script": "tests/Fixtures/cnn/make_fixtures.py"}}, [], 0
for name, arr in tensors.items():
    data = np.ascontiguousarray(arr).tobytes()
    dtype = {np.float32: "F32", np.int32: "I32"}[arr.dtype.type]
    header[name] = {"dtype": dtype, "shape": list(arr.shape), "data_offsets": [offset, offset + len(data)]}
    blobs.append(data); offset += len(data)
text = json.dumps(header, separators=(",", ":")).encode()
text += b" " * (-len(text) % 8)
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "resnet8_step.safetensors")
with open(out, "wb") as f:
    f.write(struct.pack("<Q", len(text))); f.write(text)
    for b in blobs: f.write(b)
print(f"wrote {out}: {offset} data bytes, loss {loss.item():.6f}, parameters {sum(p.numel() for p in net.parameters())}")
