#!/usr/bin/env bash
# Transfer learning on Fashion-MNIST (docs/transfer.md): with 10 and 100 training images per class (--train-limit 100
# and 1000, stratified, seed 0), evaluated on all 10,000 test images:
#   the ImageNet ResNet-18's frozen features + softmax (the default head), + exact linear SVM, + k-NN (k = 5);
#   cnn2 from scratch (its default recipe: 20 epochs, flips, one-cycle, flip averaging);
#   HOG + exact linear SVM (C chosen on a 10 % validation split).
# Every model uses its default recipe; 2 threads, nice -n 10. The ResNet-18 rows share one feature cache: the
# first row pays for the 10,000 test images' features (ResNet-18 at 224×224, tens of ms per image on 2 cores), the
# others read them back; each row's time says what it computed.
#   bash bench/transfer.sh               # all rows
#   LIMITS=100 bash bench/transfer.sh    # only 10 images per class
#   SHARPVISION="dotnet /tmp/sv/SharpVision.Cli.dll" bash bench/transfer.sh   # a build frozen elsewhere
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
sv="${SHARPVISION:-$root/sharpvision}"
out="${OUT:-$(mktemp -d)}"
export SHARPVISION_CACHE="${SHARPVISION_CACHE:-$out/cache}"
$sv --help >/dev/null   # builds once
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
run() { # label, then train flags
  local label="$1"; shift
  local dir="$out/run-$RANDOM"
  nice -n 10 $sv train --dataset fashion-mnist --threads 2 --seed 0 --out "$dir" --json "$@" 2>/dev/null \
    | /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); t=d['timings_s']; print(f\"{'$label':34s} train {d['train_count']:5d} acc {d['metrics']['test']['accuracy']:.4f}  fit {t['fit']:7.1f} s  predict {t['predict']:7.1f} s  total {t['total']:7.1f} s\")"
  rm -rf "$dir"
}
for limit in ${LIMITS:-100 1000}; do
  echo "--train-limit $limit ($((limit / 10)) images per class), 10,000 test images"
  run "resnet18 features + softmax" --model resnet18 --pretrained --train-limit "$limit"
  run "resnet18 features + svm (dual)" --model resnet18 --pretrained --head svm --train-limit "$limit"
  run "resnet18 features + knn (k=5)" --model resnet18 --pretrained --head knn --train-limit "$limit"
  run "cnn2 from scratch" --model cnn2 --train-limit "$limit"
  run "hog + svm (dual)" --model svm --solver dual --features hog --train-limit "$limit"
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
