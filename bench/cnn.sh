#!/usr/bin/env bash
# CNNs on full Fashion-MNIST: SharpVision against PyTorch's `torch_peers.py NET EPOCHS`, same recipe, in one run.
#   bash bench/cnn.sh [EPOCHS] [NETS]     # defaults: 2 epochs, "cnn2 resnet8"; needs dataset-fashion-mnist and python3-torch
#   CONV_MODES="auto managed" bash bench/cnn.sh 1 resnet8   # ours once per SHARPVISION_CONV mode, then PyTorch, in one run
# Recipe on both sides (torch_peers.py's): batch 128, SGD + Nesterov 0.9, weight decay 5e-4, one-cycle to 0.1, random
# horizontal flips, per-channel normalization, 2 threads, all 60,000 training images. Prints per-epoch training time,
# training and inference images/s, test accuracy, and the ratio ours/PyTorch (≤ 1.0: SharpVision at least as fast).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
peers="${PEERS:-$root/bench/peers}"
epochs="${1:-2}"
nets="${2:-cnn2 resnet8}"
modes="${CONV_MODES:-${SHARPVISION_CONV:-auto}}"
out="$(mktemp -d)"
"$root/sharpvision" --help >/dev/null   # builds once
for net in $nets; do
  for mode in $modes; do
    echo "== SharpVision $net, $epochs epochs, SHARPVISION_CONV=$mode" >&2
    SHARPVISION_CONV="$mode" "$root/sharpvision" train --dataset fashion-mnist --model "$net" --epochs "$epochs" --batch-size 128 --optimizer nesterov --momentum 0.9 \
      --weight-decay 5e-4 --lr 0.1 --schedule onecycle --flip true --preprocess channel --validation-fraction 0 --threads 2 \
      --out "$out/$net-$mode" --json > "$out/$net-$mode.json"
  done
  echo "== PyTorch $net (torch_peers.py $net $epochs)" >&2
  (cd "$peers" && /usr/bin/python3 torch_peers.py "$net" "$epochs") | tee "$out/$net.peer.txt" >&2
done
/usr/bin/python3 - "$out" "$modes" $nets <<'PY'
import json, re, statistics, sys
out, modes, nets = sys.argv[1], sys.argv[2].split(), sys.argv[3:]
print("net       conv backend (ours)            ours s/epoch (img/s)    PyTorch s/epoch (img/s)   ratio   ours infer img/s   PyTorch infer img/s   acc ours / PyTorch")
for net in nets:
    lines = open(f"{out}/{net}.peer.txt").read().splitlines()
    peer = statistics.median(float(m.group(1)) for m in (re.search(r"train ([\d.]+) s", l) for l in lines) if m)
    peval = statistics.median(float(m.group(1)) for m in (re.search(r"eval ([\d.]+) s", l) for l in lines) if m)
    pacc = [float(m.group(1)) for m in (re.search(r"test acc ([\d.]+)", l) for l in lines) if m][-1]
    for mode in modes:
        o = json.load(open(f"{out}/{net}-{mode}.json"))
        if o["dataset"]["is_sample"]: print("WARNING: ran on the shipped sample, not the full dataset")
        ours = statistics.median(e["seconds"] for e in o["metrics"]["epochs"])
        print(f"{net:8s}  {mode + ': ' + o['backend'].split('+conv-')[-1]:30s} {ours:6.1f} ({60000/ours:7,.0f})        {peer:6.1f} ({60000/peer:7,.0f})        {ours/peer:5.2f}   {o['throughput']['predict_images_per_s']:12,.0f}      {10000/peval:12,.0f}         {o['metrics']['test']['accuracy']:.4f} / {pacc:.4f}")
PY
