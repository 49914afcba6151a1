"""PyTorch's side of bench/finetune.sh: time per fine-tuning step of ML.NET's ImageNet ResNet-18 (resnet18_torch.py),
batch 32 of 3x224x224 preprocessed pixels: forward, cross-entropy, backward, one SGD step (Nesterov 0.9, weight decay
1e-4, head lr 0.01, backbone lr 0.001 as parameter groups), batch norms frozen; all layers, then the last stage + head.
Prints one JSON line per scope. Run with OMP_NUM_THREADS=2 OMP_WAIT_POLICY=passive /usr/bin/python3."""
import argparse, json, os, statistics, sys, time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import resnet18_torch

parser = argparse.ArgumentParser()
parser.add_argument("--batch", type=int, default=32)
parser.add_argument("--repeats", type=int, default=5)
parser.add_argument("--threads", type=int, default=2)
parser.add_argument("--only", default=None)
args = parser.parse_args()
torch.set_num_threads(args.threads)
torch.manual_seed(7)
x = torch.rand(args.batch, 3, 224, 224) * 255 - 128
labels = torch.arange(args.batch) % 10
print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {args.batch}", file=sys.stderr)
for scope in ("all", "last"):
    if args.only and args.only not in scope:
        continue
    model = resnet18_torch.pretrained(10)
    model.train()
    resnet18_torch.freeze_batch_norms(model)
    if scope == "last":  # the last stage (blocks 6-8, the 512-channel ones) and the head train
        for name, p in model.named_parameters():
            p.requires_grad = name.startswith("head.") or any(name.startswith(f"blocks.{b}.") for b in (6, 7, 8))
    body = [p for n, p in model.named_parameters() if p.requires_grad and not n.startswith("head.")]
    optimizer = torch.optim.SGD([{"params": body, "lr": 0.001}, {"params": model.head.parameters(), "lr": 0.01}],
                                lr=0.01, momentum=0.9, nesterov=True, weight_decay=1e-4)

    def step():
        start = time.perf_counter()
        optimizer.zero_grad()
        F.cross_entropy(model(x), labels).backward()
        optimizer.step()
        return (time.perf_counter() - start) * 1000

    step()
    times = sorted(step() for _ in range(args.repeats))
    median = statistics.median(times)
    print(json.dumps({"side": "pytorch", "scope": scope, "batch": args.batch, "threads": args.threads, "step_ms_median": round(median, 1),
                      "step_ms_min": round(times[0], 1), "images_per_s": round(args.batch * 1000 / median, 1),
                      "trainable_parameters": sum(p.numel() for p in model.parameters() if p.requires_grad)}))
