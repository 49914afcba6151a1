#!/usr/bin/env bash
# Each hand-crafted feature in a pipeline on full Fashion-MNIST: test accuracy and time of `train --features X`
# with a linear SVM (and an MLP and k-NN for HOG), 2 threads, fresh feature cache, all 60,000 training images.
#   bash bench/features_accuracy.sh          # every row
#   bash bench/features_accuracy.sh knn      # only the rows whose model is knn (any model name works)
#   bash bench/features_accuracy.sh dual     # only the exact linear SVM rows (--solver dual, C = 0.003 for every feature)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$(mktemp -d)"
only="${1:-}"
"$root/sharpvision" --help >/dev/null   # builds once
run() { # model spec [flags...]: gradient-trained models extract while loading (timings_s.load), then fit
  [ -z "$only" ] || [ "$only" = "$1" ] || [ "$only" = dual -a "${3:-}" = --solver ] || return 0
  [ "$only" != "$1" ] || [ "${3:-}" != --solver ] || return 0
  local model="$1" spec="$2"; shift 2
  [ "${1:-}" != --solver ] || model="svm-dual"
  SHARPVISION_CACHE="$out/cache-$RANDOM" "$root/sharpvision" train --dataset fashion-mnist --model "${model%-dual}" --features "$spec" --validation-fraction 0 --threads 2 \
    --out "$out/run-$RANDOM" --json "$@" 2>/dev/null | /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); t=d['timings_s']; print(f\"{'$model':8s} {'$spec':28s} acc {d['metrics']['test']['accuracy']:.4f}  extract+standardize {t['load']:6.1f} s  train {t['fit']:6.1f} s  total {t['total']:6.1f} s\")"
}
knn() { # spec [flags...]: k-NN extracts and standardizes the training split in fit, the test split and the search in predict
  [ -z "$only" ] || [ "$only" = knn ] || return 0
  local spec="$1"; shift
  local dir="$out/run-$RANDOM"
  SHARPVISION_CACHE="$out/cache-$RANDOM" "$root/sharpvision" train --dataset fashion-mnist --model knn --features "$spec" --threads 2 --out "$dir" --json "$@" 2>/dev/null \
    | /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); t=d['timings_s']; m=d['model']; print(f\"knn k={m['k']} {m['metric']} {'$spec':21s} acc {d['metrics']['test']['accuracy']:.4f}  train features + standardize {t['fit']:6.1f} s  test features + search {t['predict']:6.1f} s  total {t['total']:6.1f} s\")"
  rm -rf "$dir"   # the model holds 60,000 × D floats (311 MB for HOG)
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
knn hog --k 5 --metric l2
knn hog --k 5 --metric l1
for spec in pixels color lbp gabor sift hog hog+color hog+lbp hog:norm=L1-sqrt hog:norm=L1-sqrt+lbp; do
  run svm "$spec" --solver dual --c 0.003
done
