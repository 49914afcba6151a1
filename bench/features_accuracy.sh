#!/usr/bin/env bash
# Each hand-crafted feature in a pipeline on full Fashion-MNIST: test accuracy and time of `train --features X`
# with a linear SVM (and an MLP for HOG), 2 threads, fresh feature cache, all 60,000 training images.
#   bash bench/features_accuracy.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$(mktemp -d)"
"$root/sharpvision" --help >/dev/null   # builds once
run() { # model spec
  SHARPVISION_CACHE="$out/cache" "$root/sharpvision" train --dataset fashion-mnist --model "$1" --features "$2" --validation-fraction 0 --threads 2 \
    --out "$out/run-$RANDOM" --json 2>/dev/null | /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); t=d['timings_s']; print(f\"{'$1':8s} {'$2':28s} acc {d['metrics']['test']['accuracy']:.4f}  extract+standardize {t['load']:6.1f} s  train {t['fit']:6.1f} s  total {t['total']:6.1f} s\")"
}
run svm pixels
run svm color
run svm lbp
run svm gabor
run svm sift
run svm hog
run svm hog+color
run svm hog+lbp
run mlp hog
