#!/usr/bin/env bash
# The vision transformer on full Fashion-MNIST: SharpVision against PyTorch's `torch_peers.py vit EPOCHS`, same network
# and recipe, in one run.
#   bash bench/vit.sh [EPOCHS]      # default 1; needs dataset-fashion-mnist and python3-torch (~3 min per epoch pair)
# Network on both sides: 4×4 patches → 49 tokens + a class token, width 64, 6 pre-norm blocks of 4 heads, GELU MLP of
# 128, learned position embeddings, LayerNorm + linear head (205,962 parameters). Recipe (torch_peers.py's): batch 128,
# AdamW weight decay 0.05 on every parameter, one-cycle to 1e-3, random horizontal flips, one normalization for the
# whole image, no label smoothing, no test-time augmentation, 2 threads, all 60,000 training images. Prints the CPU,
# per-epoch training time, training and inference images/s, test accuracy, and the ratio ours/PyTorch (goal ≤ 0.5).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
peers="${PEERS:-$root/bench/peers}"
epochs="${1:-1}"
out="$(mktemp -d)"
"$root/sharpvision" --help >/dev/null   # builds once
cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
flags="$(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -E '^(avx2|fma|avx512f|avx512bw|avx512_vnni|avx_vnni|avx512_bf16)$' | tr '\n' ' ')"
echo "CPU: $cpu; flags: $flags; load: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
echo "== SharpVision vit, $epochs epoch(s)" >&2
"$root/sharpvision" train --dataset fashion-mnist --model vit --epochs "$epochs" --batch-size 128 --optimizer adamw --lr 1e-3 \
  --weight-decay 0.05 --weight-decay-on all --schedule onecycle --warmup 0 --flip --crop-padding 0 --label-smoothing 0 \
  --preprocess channel --validation-fraction 0 --tta none --threads 2 --out "$out/vit" --json > "$out/vit.json"
echo "== PyTorch vit (torch_peers.py vit $epochs)" >&2
(cd "$peers" && OMP_NUM_THREADS=2 OMP_WAIT_POLICY=passive /usr/bin/python3 torch_peers.py vit "$epochs") | tee "$out/vit.peer.txt" >&2
/usr/bin/python3 - "$out" "$cpu" "$flags" <<'PY'
import json, re, statistics, sys
out, cpu, flags = sys.argv[1:4]
lines = open(f"{out}/vit.peer.txt").read().splitlines()
peer = statistics.median(float(m.group(1)) for m in (re.search(r"train ([\d.]+) s", l) for l in lines) if m)
peval = statistics.median(float(m.group(1)) for m in (re.search(r"eval ([\d.]+) s", l) for l in lines) if m)
pacc = [float(m.group(1)) for m in (re.search(r"test acc ([\d.]+)", l) for l in lines) if m][-1]
o = json.load(open(f"{out}/vit.json"))
if o["dataset"]["is_sample"]: print("WARNING: ran on the shipped sample, not the full dataset")
ours = statistics.median(e["seconds"] for e in o["metrics"]["epochs"])
print(f"CPU {cpu} ({flags.strip()}), 2 threads")
print("net   ours s/epoch (img/s)    PyTorch s/epoch (img/s)   ratio   ours infer img/s   PyTorch infer img/s   acc ours / PyTorch")
print(f"vit   {ours:6.1f} ({60000/ours:7,.0f})        {peer:6.1f} ({60000/peer:7,.0f})        {ours/peer:5.2f}   {o['throughput']['predict_images_per_s']:12,.0f}"
      f"      {10000/peval:12,.0f}         {o['metrics']['test']['accuracy']:.4f} / {pacc:.4f}")
PY
echo "files: $out" >&2
