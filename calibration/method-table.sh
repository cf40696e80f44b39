#!/usr/bin/env bash
# The observer table of docs/quantization.md: every Fashion-MNIST model of the test fixtures and the
# real models of calibration/ (when fetched) quantized with each --method, auto included, and the
# output SQNR each gives on test images it never saw (Fashion-MNIST: the first --test of the 10,000
# test images; the real models: accuracy-table.sh's images). Prints one markdown row per model.
# Needs Debian's dataset-fashion-mnist and a release build (swift build -c release).
#   calibration/method-table.sh [--test N] [--methods auto,minmax,...]
# (default 2500 test images, every method: about 20 minutes on 2 cores; --methods auto re-measures
# only the default's column after a change to it)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
test=2500
methods=(auto minmax percentile mse entropy)
while [ $# -gt 0 ]; do
  case $1 in
    --test) test=$2; shift 2 ;;
    --methods) IFS=, read -r -a methods <<< "$2"; shift 2 ;;
    *) echo "usage: $0 [--test N] [--methods auto,minmax,percentile,mse,entropy]" >&2; exit 2 ;;
  esac
done
cq="$root/.build/release/cnn-quantize"
data=/usr/share/datasets/fashion-mnist
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The first $test test images and labels, as IDX files of their own.
python3 - "$data" "$work" "$test" <<'EOF'
import gzip, struct, sys
data, work, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
images = gzip.open(f"{data}/t10k-images-idx3-ubyte.gz").read()
labels = gzip.open(f"{data}/t10k-labels-idx1-ubyte.gz").read()
magic, _, rows, cols = struct.unpack(">IIII", images[:16])
open(f"{work}/images.idx", "wb").write(struct.pack(">IIII", magic, n, rows, cols) + images[16:16 + n * rows * cols])
magic, _ = struct.unpack(">II", labels[:8])
open(f"{work}/labels.idx", "wb").write(struct.pack(">II", magic, n) + labels[8:8 + n])
EOF

sqnr() { python3 -c "import json, sys; print('%.1f' % (json.load(sys.stdin).get('outputSQNRDB') or 0))"; }
# row NAME QUANTIZE-ARGS... -- EVAL-ARGS...: one quantization and evaluation per method.
row() {
  local name=$1; shift
  local quantize=() evaluate=()
  while [ "$1" != -- ]; do quantize+=("$1"); shift; done; shift
  evaluate=("$@")
  local cells="" chose=""
  for method in "${methods[@]}"; do
    "$cq" quantize "${quantize[@]}" --held-out 0 --method "$method" -o "$work/m.cnnq" > "$work/q.txt"
    cells+=" | $("$cq" eval "${quantize[0]}" "$work/m.cnnq" "${evaluate[@]}" --json | sqnr)"
    [ "$method" = auto ] && chose="$(grep -o 'auto chose [a-z]*' "$work/q.txt" | cut -d' ' -f3)\
$(grep -q 'auto chose [a-z]* without bias correction' "$work/q.txt" && echo ' uncorrected')\
$(grep -q 'auto chose [a-z]* with bias correction measured' "$work/q.txt" && echo ' measured'),\
 $(grep -o 'per tensor: [0-9]*' "$work/q.txt" | cut -d' ' -f3)"
  done
  echo "| $name ($chose)$cells |"
}

header="| model (auto's start, tensors changed)" rule="|---"
for method in "${methods[@]}"; do header+=" | $method"; rule+="|---"; done
echo "$header |"
echo "$rule|"
for onnx in "$root"/Tests/CNNQuantTests/Fixtures/fashion-mnist/*.onnx; do
  row "$(basename "$onnx" .onnx)" "$onnx" --calibration "$data/train-images-idx3-ubyte.gz" --preset fashion-mnist \
      --samples 200 -- --data "$work/images.idx" --labels "$work/labels.idx" --preset fashion-mnist
done
models="$root/calibration/models" images="$root/calibration/images" strips="$root/calibration/text-strips"
if [ -f "$models/mobilenet_v2_imagenet.onnx" ] && [ -d "$images/photos" ]; then
  row "MobileNet V2, ImageNet (20)" "$models/mobilenet_v2_imagenet.onnx" --calibration "$images/photos" \
      -- --data "$images/imagenet"
fi
if [ -f "$models/mobilenet_v1_tf_slim.onnx" ] && [ -d "$images/photos" ]; then
  row "MobileNet V1 TF-slim, ImageNet (20)" "$models/mobilenet_v1_tf_slim.onnx" --preset keras \
      --calibration "$images/photos" -- --preset keras --label-offset 1 --data "$images/imagenet"
fi
if [ -f "$models/ppocr_cls_v3_small.onnx" ] && [ -d "$strips/test" ]; then
  row "PaddleOCR text direction, strips (112)" "$models/ppocr_cls_v3_small.onnx" --preset paddleocr \
      --input-shape 1,3,48,192 --calibration "$strips/calibration" \
      -- --preset paddleocr --input-shape 1,3,48,192 --data "$strips/test"
fi
