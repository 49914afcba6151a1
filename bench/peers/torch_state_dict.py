"""SharpVision network models in PyTorch, through `sharpvision export --format pytorch` state_dicts (safetensors).

The file's tensors are the state_dict of the same network in PyTorch (torch_peers.py's nn.Sequential for cnn2,
resnet8, mlp); its __metadata__ holds the architecture (SharpVision's closed list of layer types), the normalization
and the class names. Only numpy and torch are needed (the safetensors layout is read and written here).

  /usr/bin/python3 bench/peers/torch_state_dict.py logits MODEL.safetensors IMAGES.safetensors OUT.safetensors
      writes PyTorch's logits for the uint8 N×C×H×W tensor "images" (normalized as the model says) as "logits"
  /usr/bin/python3 bench/peers/torch_state_dict.py step MODEL.safetensors DATA.safetensors OUT.safetensors [LR]
      one SGD step (cross-entropy, evaluation mode so batch-norm statistics stay) on "images"/"labels", then saves
      the state_dict with the same metadata: what `sharpvision import` reads back
  /usr/bin/python3 bench/peers/torch_state_dict.py roundtrip MODEL.safetensors DATA.safetensors OUT_PREFIX [LR]
      both in one process: OUT_PREFIX.logits.safetensors (logits), OUT_PREFIX.stepped.safetensors (the state_dict
      after the step) and OUT_PREFIX.stepped_logits.safetensors (its logits)
"""
import json, struct, sys
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F

DTYPES = {"F32": np.float32, "F64": np.float64, "I32": np.int32, "I64": np.int64, "U8": np.uint8}


def read(path):
    """name -> numpy array, and the metadata dict."""
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    meta = header.pop("__metadata__", {})
    base = 8 + n
    tensors = {}
    for name, t in header.items():
        a, b = t["data_offsets"]
        tensors[name] = np.frombuffer(blob[base + a:base + b], dtype=np.dtype(DTYPES[t["dtype"]]).newbyteorder("<")).reshape(t["shape"]).copy()
    return tensors, meta


def write(path, tensors, meta):
    names = {np.dtype(v): k for k, v in DTYPES.items()}
    header, blobs, offset = {"__metadata__": meta}, [], 0
    for name, a in tensors.items():
        raw = np.ascontiguousarray(a).astype(a.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": names[a.dtype], "shape": list(a.shape), "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        blobs.append(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


class Res(nn.Module):  # torch_peers.py's basic block
    def __init__(s, cin, cout, stride):
        super().__init__()
        s.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False); s.b1 = nn.BatchNorm2d(cout)
        s.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False); s.b2 = nn.BatchNorm2d(cout)
        s.sc = nn.Sequential() if stride == 1 and cin == cout else nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
    def forward(s, x): return F.relu(s.b2(s.c2(F.relu(s.b1(s.c1(x))))) + s.sc(x))


class GlobalAvgPool(nn.Module):  # SharpVision's global_avg_pool2d: (N, C, H, W) -> (N, C)
    def forward(self, x): return x.mean(dim=(2, 3))


def layer(spec):
    t = spec["type"]
    if t == "flatten": return nn.Flatten()
    if t == "linear": return nn.Linear(spec["in"], spec["out"], bias=bool(spec["bias"]))
    if t in ("relu", "tanh", "sigmoid", "gelu"): return {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "gelu": nn.GELU}[t]()
    if t == "leaky_relu": return nn.LeakyReLU(0.01)
    if t == "dropout": return nn.Dropout(spec["p"])
    if t == "dropout2d": return nn.Dropout2d(spec["p"])
    if t == "conv2d": return nn.Conv2d(spec["in"], spec["out"], spec["kernel"], spec["stride"], spec["padding"], bias=bool(spec["bias"]))
    if t == "max_pool2d": return nn.MaxPool2d(spec["kernel"], spec["stride"])
    if t == "avg_pool2d": return nn.AvgPool2d(spec["kernel"], spec["stride"])
    if t == "global_avg_pool2d": return GlobalAvgPool()
    if t in ("batch_norm1d", "batch_norm2d"):
        cls = nn.BatchNorm2d if t == "batch_norm2d" else nn.BatchNorm1d
        return cls(spec["features"], eps=spec["eps"], momentum=spec["momentum"])
    if t == "residual": return Res(spec["in"], spec["out"], spec["stride"])
    raise ValueError(f"unknown layer type {t}")


def load(path):
    """The network (evaluation mode, strict load) and the metadata of a SharpVision state_dict."""
    tensors, meta = read(path)
    net = nn.Sequential(*[layer(s) for s in json.loads(meta["architecture"])])
    net.load_state_dict({k: torch.from_numpy(v) for k, v in tensors.items()}, strict=True)
    return net.eval(), meta


def normalize(images, meta):
    """uint8 N×C×H×W -> the float input SharpVision's Normalizer gives: x/255, then − mean and · scale."""
    n = json.loads(meta["normalization"])
    x = torch.from_numpy(images.astype(np.float32)) * np.float32(1 / 255)
    if n["mode"] == "none": return x
    c, hw = x.shape[1], x.shape[2] * x.shape[3]
    mean, scale = np.asarray(n["mean"], np.float32), np.asarray(n["scale"], np.float32)
    shape = (1, c, 1, 1) if n["mode"] == "channel" else (1, c, x.shape[2], x.shape[3])
    return (x - torch.from_numpy(mean.reshape(shape))) * torch.from_numpy(scale.reshape(shape))


def save(path, net, meta):
    write(path, {k: v.detach().numpy() for k, v in net.state_dict().items()}, meta)


if __name__ == "__main__":
    torch.set_num_threads(1)
    command = sys.argv[1]
    net, meta = load(sys.argv[2])
    data, _ = read(sys.argv[3])
    x = normalize(data["images"], meta)
    lr = float(sys.argv[5]) if len(sys.argv) > 5 else 0.1

    def logits(path):
        with torch.no_grad():
            write(path, {"logits": net(x).numpy()}, {})

    def step(path):
        loss = F.cross_entropy(net(x), torch.from_numpy(data["labels"].astype(np.int64)))
        loss.backward()
        with torch.no_grad():
            for p in net.parameters(): p -= lr * p.grad
        save(path, net, meta)

    if command == "logits":
        logits(sys.argv[4])
    elif command == "step":
        step(sys.argv[4])
    elif command == "roundtrip":
        logits(sys.argv[4] + ".logits.safetensors")
        step(sys.argv[4] + ".stepped.safetensors")
        logits(sys.argv[4] + ".stepped_logits.safetensors")
    else:
        sys.exit(f"unknown command {command} (logits, step, roundtrip)")
