#!/usr/bin/env bash
# `sharpvision serve` against the serving peer a Python user would write (bench/peers/serve_peer.py: FastAPI + uvicorn +
# PyTorch cnn2, one request per forward pass), driven by our load generator (bench/SharpVision.Bench serveload) with the
# same Fashion-MNIST test PNGs, in one run:
#   1. closed loop at concurrency 1, 8, 32, 128, ours then the peer at each level: requests/s, p50/p99, errors, peak RSS;
#   2. in-process batch prediction of the same model on the same PNGs (no HTTP): what the service's ratio is measured to;
#   3. overload: open loop at 4x our measured capacity (concurrency 32) for 60 s: statuses, p99 of accepted requests,
#      and the service's memory second by second;
#   4. SIGTERM to our service: it drains and must exit 0.
#   bash bench/serve.sh                 # needs dataset-fashion-mnist, python3-torch, python3-fastapi, python3-uvicorn, python3-pil
#   MODEL=runs/x/model.safetensors SECONDS_PER_RUN=10 OVERLOAD_SECONDS=60 bash bench/serve.sh
# Both services, and the load generator, run un-niced with 2 threads (the peer: OMP_NUM_THREADS=2, torch 2 threads; ours:
# --threads 2), on loopback only. The load generator shares the 2 cores with whichever service it drives, on both sides.
# Without MODEL, a cnn2 is trained once (2 epochs, niced) into bench/out/serve/cnn2; the peer's cnn2 has the same
# architecture with fresh weights (the work per request is what counts). Results: bench/out/serve/results.jsonl, summary.md.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
out="${OUT:-$root/bench/out/serve}"
seconds="${SECONDS_PER_RUN:-10}"
overload_seconds="${OVERLOAD_SECONDS:-60}"
concurrency="${CONCURRENCY:-1 8 32 128}"
model="${MODEL:-$out/cnn2/model.safetensors}"
ours_port="${OURS_PORT:-18080}"
peer_port="${PEER_PORT:-18090}"
mkdir -p "$out"
results="$out/results.jsonl"
: > "$results"

echo "== building (Release)" >&2
dotnet build src/SharpVision.Cli -c Release --nologo -v quiet -clp:NoSummary >&2
dotnet build bench/SharpVision.Bench -c Release --nologo -v quiet -clp:NoSummary >&2
cli=(dotnet "$root/src/SharpVision.Cli/bin/Release/net10.0/SharpVision.Cli.dll")
bench=(dotnet "$root/bench/SharpVision.Bench/bin/Release/net10.0/SharpVision.Bench.dll")

if [ ! -f "$model" ]; then
  echo "== training the served cnn2 (2 epochs, niced) into $(dirname "$model")" >&2
  nice -n 10 "${cli[@]}" train --dataset fashion-mnist --model cnn2 --epochs 2 --threads 2 --out "$(dirname "$model")" >&2
fi
[ -d "$out/png" ] || "${bench[@]}" pngs --count 1000 --out "$out/png"

echo "== starting both services" >&2
"${cli[@]}" serve --model "$model" --host 127.0.0.1 --port "$ours_port" --threads 2 --request-log "$out/requests.jsonl" 2> "$out/ours.stderr" &
ours=$!
(cd "$root/bench/peers" && OMP_NUM_THREADS=2 OMP_WAIT_POLICY=passive OPENBLAS_NUM_THREADS=2 exec /usr/bin/python3 serve_peer.py "$peer_port") 2> "$out/peer.stderr" &
peer=$!
trap 'kill "$ours" "$peer" 2>/dev/null || true' EXIT
for url in "http://127.0.0.1:$ours_port/readyz" "http://127.0.0.1:$peer_port/healthz"; do
  for _ in $(seq 1 240); do curl -fs "$url" >/dev/null 2>&1 && break; sleep 0.5; done
  curl -fs "$url" >/dev/null || { echo "error: $url never answered" >&2; exit 1; }
done

cpu="$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1)"
simd="$(grep -o -w -E 'avx512f|avx512_vnni|avx_vnni|avx2|fma' /proc/cpuinfo | sort -u | tr '\n' ' ')"
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
echo "== $cpu ($simd), $(nproc) cores, load average $load_before" >&2

for c in $concurrency; do
  echo "== concurrency $c: ours, then the peer ($seconds s each)" >&2
  "${bench[@]}" serveload --url "http://127.0.0.1:$ours_port/predict" --pngs "$out/png" --concurrency "$c" --seconds "$seconds" --warmup 2 \
    --pid "$ours" --label ours | tee -a "$results" >&2
  "${bench[@]}" serveload --url "http://127.0.0.1:$peer_port/predict" --pngs "$out/png" --concurrency "$c" --seconds "$seconds" --warmup 2 \
    --pid "$peer" --label peer | tee -a "$results" >&2
done

echo "== in-process batch prediction of the same model and PNGs" >&2
kill -STOP "$peer"   # the idle peer cannot take CPU anyway; stopped so nothing else runs during the in-process and overload runs
"${bench[@]}" inprocess --model "$model" --pngs "$out/png" --batches 1,32,64 --seconds 5 --threads 2 | tee -a "$results" >&2

capacity="$(/usr/bin/python3 -c "import json,sys; print(max(r['rps'] for r in map(json.loads, open(sys.argv[1])) if r['label']=='ours' and r['run']=='c32'))" "$results")"
rate="$(/usr/bin/python3 -c "print(round(4*$capacity))")"
echo "== overload: $rate requests/s (4 x $capacity) for $overload_seconds s, open loop" >&2
"${bench[@]}" serveload --url "http://127.0.0.1:$ours_port/predict" --pngs "$out/png" --rate "$rate" --seconds "$overload_seconds" \
  --max-outstanding 1024 --pid "$ours" --label ours | tee -a "$results" >&2
kill -CONT "$peer"

echo "== SIGTERM to our service" >&2
kill -TERM "$ours"
set +e
wait "$ours"
ours_exit=$?
set -e
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"
kill "$peer" 2>/dev/null || true
trap - EXIT

/usr/bin/python3 - "$results" "$cpu" "$simd" "$load_before" "$load_after" "$ours_exit" "$model" > "$out/summary.md" <<'PY'
import json, sys
path, cpu, simd, before, after, exit_code, model = sys.argv[1:]
rows = [json.loads(l) for l in open(path)]
get = lambda label, run: next((r for r in rows if r["label"] == label and r["run"] == run), None)
print(f"CPU: {cpu} ({simd.strip()}), 2 threads per side; load average before {before}, after {after} (machine shared).")
print(f"Model served: {model}. Same 1,000 Fashion-MNIST test PNGs on both sides; top-3 answers.\n")
print("| concurrency | ours req/s | peer req/s | ratio | ours p50 / p99 ms | peer p50 / p99 ms | errors ours / peer | peak RSS ours / peer MB "
      "| CPU µs/request ours / peer (generator ours / peer) |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
cpu = lambda r, key: f"{r[key]:,.0f}" if r.get(key) is not None else "?"
for r in rows:
    if r["label"] != "ours" or not r["run"].startswith("c"): continue
    p = get("peer", r["run"])
    print(f"| {r['run'][1:]} | {r['rps']:,.0f} | {p['rps']:,.0f} | {r['rps']/p['rps']:.2f}x | {r['p50_ms']} / {r['p99_ms']} | {p['p50_ms']} / {p['p99_ms']} "
          f"| {r['errors']} / {p['errors']} | {r['peak_rss_mb']:.0f} / {p['peak_rss_mb']:.0f} "
          f"| {cpu(r, 'service_cpu_us_per_request')} / {cpu(p, 'service_cpu_us_per_request')} "
          f"({cpu(r, 'generator_cpu_us_per_request')} / {cpu(p, 'generator_cpu_us_per_request')}) |")
inproc = {r["run"]: r for r in rows if r["label"] == "inprocess"}
c32 = get("ours", "c32")
if c32 and "batch32" in inproc:
    b32, b64 = inproc["batch32"], inproc.get("batch64")
    print(f"\nIn process, same model and PNGs: decode + prepare {inproc['decode']['us_per_image']} µs/image; batch prediction "
          + ", ".join(f"{k[5:]}: {v['images_per_s']:,.0f} images/s ({v['with_decode_images_per_s']:,.0f} with decoding; "
                      f"{v.get('cpu_us_per_image', '?')} µs CPU/image)" for k, v in inproc.items() if k.startswith("batch")))
    print(f"Served at concurrency 32: {c32['rps']:,.0f} requests/s = {c32['rps']/b32['with_decode_images_per_s']:.0%} of in-process decode + batch-32 prediction"
          + (f", {c32['rps']/b64['with_decode_images_per_s']:.0%} of batch 64" if b64 else "") + ".")
o = next((r for r in rows if r["run"].startswith("open")), None)
if o:
    print(f"\nOverload: offered {o['offered_rps']:,.0f} requests/s for {o['seconds']:.0f} s: {o['requests']:,} answered, statuses {o['status']}, "
          f"skipped by the generator's 1,024-outstanding bound {o.get('skipped_by_generator', 0):,}; accepted {o['rps']:,.0f}/s, "
          f"p50 {o['p50_ms']} ms, p99 {o['p99_ms']} ms, max {o['max_ms']} ms.")
    print("\n| second | sent | 200 | 503 | other | p99 of 200s ms | RSS MB |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for t in o["timeline"]:
        print(f"| {t['second']} | {t['sent']:,} | {t['ok']:,} | {t['rejected_503']:,} | {t['other']} | {t['p99_ok_ms']} | {t['rss_mb']} |")
print(f"\nSIGTERM: our service exited {exit_code}.")
PY
cat "$out/summary.md"
[ "$ours_exit" = "0" ] || { echo "error: serve exited $ours_exit after SIGTERM" >&2; exit 1; }
