#!/usr/bin/env bash
# Linear classifiers on full Fashion-MNIST: SharpVision's softmax and SVM against scikit-learn, measured in one run.
#   bash bench/linear.sh          # needs Debian's dataset-fashion-mnist and python3-sklearn
# Both sides train on all 60,000 standardized training images with 2 threads and are scored on the 10,000 test images.
# Ours: median of 3 runs of `sharpvision train` (its default recipe, --validation-fraction 0); "fit" is the training
# loop, as the peer's time is its .fit(); "total" adds loading, standardization, prediction and writing the run folder.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
peers="${PEERS:-$root/bench/peers}"
out="$(mktemp -d)"
"$root/sharpvision" --help >/dev/null   # builds once
for model in softmax svm; do
  for run in 1 2 3; do
    "$root/sharpvision" train --dataset fashion-mnist --model "$model" --validation-fraction 0 --threads 2 --out "$out/$model-$run" --json 2>/dev/null \
      | /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print(json.dumps({'model': '$model', 'accuracy': d['metrics']['test']['accuracy'], 'fit': d['timings_s']['fit'], 'total': d['timings_s']['total'], 'epochs': len(d['metrics']['epochs']), 'backend': d['backend'], 'sample': d['dataset']['is_sample']}))" \
      | tee -a "$out/ours.jsonl"
  done
done
echo "== scikit-learn (classic_peers.py linear)" >&2
(cd "$peers" && OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 /usr/bin/python3 classic_peers.py linear) | tee "$out/peers.txt"
/usr/bin/python3 - "$out/ours.jsonl" "$out/peers.txt" <<'PY'
import json, re, statistics, sys
ours = {}
for line in open(sys.argv[1]):
    r = json.loads(line); ours.setdefault(r["model"], []).append(r)
peers = {}
for line in open(sys.argv[2]):
    m = re.match(r"(sklearn .*?)\s+([\d.]+) s\s+acc=([\d.]+)", line)
    if m: peers[m.group(1).strip()] = (float(m.group(2)), float(m.group(3)))
pairs = [("softmax", "sklearn LogisticRegression multinomial lbfgs 100 it"), ("svm", "sklearn SGDClassifier hinge (20 epochs, OvR)")]
print("\nmodel     ours fit s  ours total s  acc      | peer                                              time s   acc     | peer time / ours fit  (/ ours total)")
for model, peer in pairs:
    runs = ours[model]
    if any(r["sample"] for r in runs): print("WARNING: ran on the shipped sample, not the full dataset")
    fit = statistics.median(r["fit"] for r in runs); total = statistics.median(r["total"] for r in runs)
    acc = runs[0]["accuracy"]
    pt, pa = peers[peer]
    print(f"{model:8s}  {fit:9.2f}  {total:11.2f}   {acc:.4f}   | {peer:48s} {pt:7.2f}   {pa:.4f}  | {pt/fit:6.1f}x  ({pt/total:.1f}x)")
PY
