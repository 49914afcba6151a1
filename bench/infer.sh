#!/usr/bin/env bash
# In-process CNN inference: SharpVision (bench/SharpVision.Bench infer) against PyTorch (bench/peers/infer_peer.py: the
# same architecture in eval mode under torch.inference_mode, 2 threads), images/s at batch 1, 32 and 64, in one run.
#   bash bench/infer.sh                        # cnn2; needs python3-torch
#   NET=resnet8 BATCHES=1,32,64 ROUNDS=3 SECONDS_PER_CELL=5 bash bench/infer.sh
# The two sides alternate ROUNDS times (ours, then PyTorch, per round) and the load average is printed before each side,
# so a shared machine shows in the log; the summary takes the median of the rounds. Ours reports three forms: "fused"
# (the inference form predictions use: batch norm folded, conv + ReLU + max pool fused), "folded" (batch norm folded,
# every layer its own pass: the inference form before the fused blocks) and "predict" (a frozen model's Predict on
# bytes: normalization, forward, softmax, ranking). PyTorch's figure is net(x) on floats, comparable with "fused".
# Results: bench/out/infer/results.jsonl and summary.md.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
out="${OUT:-$root/bench/out/infer}"
net="${NET:-cnn2}"
batches="${BATCHES:-1,32,64}"
rounds="${ROUNDS:-3}"
seconds="${SECONDS_PER_CELL:-5}"
mkdir -p "$out"
results="$out/results.jsonl"
: > "$results"
dotnet build bench/SharpVision.Bench -c Release --nologo -v quiet -clp:NoSummary >&2
bench=(dotnet "$root/bench/SharpVision.Bench/bin/Release/net10.0/SharpVision.Bench.dll")
cpu="$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1)"
simd="$(grep -o -w -E 'avx512f|avx512_vnni|avx_vnni|avx2|fma' /proc/cpuinfo | sort -u | tr '\n' ' ')"
for round in $(seq 1 "$rounds"); do
  echo "== round $round: ours (load average $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  "${bench[@]}" infer --net "$net" --batches "$batches" --seconds "$seconds" --repeats 5 --threads 2 \
    | sed "s/^{/{\"round\":$round,/" | tee -a "$results" >&2
  echo "== round $round: PyTorch (load average $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  (cd bench/peers && OMP_NUM_THREADS=2 OMP_WAIT_POLICY=passive /usr/bin/python3 infer_peer.py "$net" "$batches" "$seconds" 5) \
    | sed "s/^{/{\"round\":$round,/" | tee -a "$results" >&2
done
/usr/bin/python3 - "$results" "$cpu" "$simd" "$net" > "$out/summary.md" <<'PY'
import json, statistics, sys
path, cpu, simd, net = sys.argv[1:]
rows = [json.loads(l) for l in open(path)]
def median(label, form, batch):
    v = [r["images_per_s"] for r in rows if r["label"] == label and r["form"] == form and r["batch"] == batch]
    return statistics.median(v) if v else None
print(f"CPU: {cpu} ({simd.strip()}); 2 threads per side; {net}; median of {max(r['round'] for r in rows)} alternating rounds (machine shared).\n")
print("| batch | ours fused img/s | ours folded img/s | ours predict img/s | PyTorch img/s | fused / PyTorch | fused / folded |")
print("|---:|---:|---:|---:|---:|---:|---:|")
for batch in sorted({r["batch"] for r in rows}):
    f, o, p = (median("ours", "fused", batch), median("ours", "folded", batch), median("ours", "predict", batch))
    t = median("pytorch", "eager", batch)
    print(f"| {batch} | {f:,.0f} | {o:,.0f} | {p:,.0f} | {t:,.0f} | {f/t:.2f}x | {f/o:.2f}x |")
PY
cat "$out/summary.md"
