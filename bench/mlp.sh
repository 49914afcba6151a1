#!/usr/bin/env bash
# MLP (784-256-10, ReLU) on full Fashion-MNIST: SharpVision against PyTorch's `torch_peers.py mlp`, in one run.
#   bash bench/mlp.sh [EPOCHS]    # default 5; needs Debian's dataset-fashion-mnist and python3-torch
# Same recipe on both sides: batch 128, SGD Nesterov momentum 0.9, weight decay 5e-4, one-cycle to 0.1, per-channel
# normalization, 2 threads, all 60,000 training images. Compares the median training time per epoch, then runs our
# default MLP recipe (Adam, cosine, 20 epochs, 10% validation) for its test accuracy.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
peers="${PEERS:-$root/bench/peers}"
epochs="${1:-5}"
out="$(mktemp -d)"
"$root/sharpvision" --help >/dev/null   # builds once
echo "== SharpVision, torch_peers.py's recipe, $epochs epochs" >&2
"$root/sharpvision" train --dataset fashion-mnist --model mlp --hidden 256 --epochs "$epochs" --batch-size 128 --optimizer nesterov --momentum 0.9 \
  --weight-decay 5e-4 --lr 0.1 --schedule onecycle --preprocess channel --validation-fraction 0 --threads 2 --out "$out/same-recipe" --json > "$out/ours.json"
echo "== PyTorch (torch_peers.py mlp $epochs)" >&2
(cd "$peers" && /usr/bin/python3 torch_peers.py mlp "$epochs") | tee "$out/peer.txt"
echo "== SharpVision, default MLP recipe" >&2
"$root/sharpvision" train --dataset fashion-mnist --model mlp --threads 2 --out "$out/default" --json > "$out/default.json"
/usr/bin/python3 - "$out/ours.json" "$out/peer.txt" "$out/default.json" <<'PY'
import json, re, statistics, sys
o = json.load(open(sys.argv[1])); d = json.load(open(sys.argv[3]))
if o["dataset"]["is_sample"]: print("WARNING: ran on the shipped sample, not the full dataset")
ours = [e["seconds"] for e in o["metrics"]["epochs"]]
peer = [float(m.group(1)) for m in (re.search(r"train ([\d.]+) s", l) for l in open(sys.argv[2])) if m]
pacc = [float(m.group(1)) for m in (re.search(r"test acc ([\d.]+)", l) for l in open(sys.argv[2])) if m]
mo, mp = statistics.median(ours), statistics.median(peer)
print(f"\nper-epoch training time (median of {len(ours)}), 60,000 images, batch 128, 2 threads")
print(f"  SharpVision ({o['backend']}): {mo:.2f} s ({60000/mo:,.0f} images/s)   epochs: {', '.join(f'{x:.2f}' for x in ours)}")
print(f"  PyTorch:                       {mp:.2f} s ({60000/mp:,.0f} images/s)   epochs: {', '.join(f'{x:.1f}' for x in peer)}")
print(f"  ratio ours/PyTorch: {mo/mp:.2f}  (≤ 1.0 means SharpVision is at least as fast)")
print(f"  test accuracy after {len(ours)} epochs: SharpVision {o['metrics']['test']['accuracy']:.4f}, PyTorch {pacc[-1]:.4f}")
print(f"  inference: SharpVision {o['throughput']['predict_images_per_s']:,.0f} images/s on the test set")
print(f"default recipe (`sharpvision train --model mlp`): test accuracy {d['metrics']['test']['accuracy']:.4f} in {d['timings_s']['fit']:.1f} s of training ({len(d['metrics']['epochs'])} epochs)")
PY
