#!/usr/bin/env bash
# Prints the README's accuracy table: every Fashion-MNIST MobileNet of Tests/CNNQuantTests/Fixtures/
# fashion-mnist quantized with the default recipe (auto, bias correction, 200 training images)
# and evaluated on the 10,000 test images; then, when fetch-images.sh, export_models.py and
# make_text_strips.py have run, the real models: the ImageNet MobileNet V2 and V1 on the 20 labelled
# ImageNet images (calibrated on the 95 other photos), and PaddleOCR's MobileNetV3-Small on the text
# strips of the odd lines (calibrated on the even ones). It also draws the per-layer SQNR of one
# model of each version into docs/plots/ (eval --plot). Needs Debian's dataset-fashion-mnist and a
# release build (swift build -c release).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cq="$root/.build/release/cnn-quantize"
data=/usr/share/datasets/fashion-mnist
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$root/docs/plots"

row() {  # row MODEL-NAME ALPHA RHO DATA-DESCRIPTION EVAL-OUTPUT
  local top1 agree sqnr
  top1=$(grep '^top-1:' <<< "$5")
  agree=$(grep -oE 'agreement [0-9.]+%' <<< "$5" | cut -d' ' -f2)
  sqnr=$(grep -oE 'output SQNR [0-9.]+ dB' <<< "$5" | cut -d' ' -f3)
  read -r float int8 drop <<< "$(sed -E 's/top-1: float ([0-9.]+)%, int8 ([0-9.]+)%, drop (-?[0-9.]+) pts/\1 \2 \3/' <<< "$top1")"
  printf '| %s | %s | %s | %s | %s%% | %s%% | %s | %s | %s dB |\n' "$1" "$2" "$3" "$4" "$float" "$int8" "$drop" "$agree" "$sqnr"
}

echo '| model | α | ρ | data | float top-1 | int8 top-1 | drop (pts) | agreement | output SQNR |'
echo '|---|---|---|---|---|---|---|---|---|'
for onnx in "$root"/Tests/CNNQuantTests/Fixtures/fashion-mnist/*.onnx; do
  name=$(basename "$onnx" .onnx)                         # mobilenet_ARCH_ALPHA_RHO
  case "$name" in mobilenet_*) ;; *) continue ;; esac     # the others: architecture-table.sh
  rho=${name##*_} rest=${name%_*}
  alpha=${rest##*_} arch=${rest%_*} arch=${arch#mobilenet_}
  [ "$arch" = v2_same ] && arch='v2, TF "same" padding computed at run time'
  "$cq" quantize "$onnx" --calibration "$data/train-images-idx3-ubyte.gz" --preset fashion-mnist --samples 200 --held-out 0 \
      --bias-correction -o "$work/m.cnnq" > /dev/null
  out=$("$cq" eval "$onnx" "$work/m.cnnq" --data "$data/t10k-images-idx3-ubyte.gz" --labels "$data/t10k-labels-idx1-ubyte.gz" \
        --preset fashion-mnist)
  row "MobileNet $arch" "$alpha" "$rho" "Fashion-MNIST test (10,000)" "$out"
done
models="$root/calibration/models" images="$root/calibration/images" strips="$root/calibration/text-strips"
if [ -f "$models/mobilenet_v2_imagenet.onnx" ] && [ -d "$images/photos" ]; then
  "$cq" quantize "$models/mobilenet_v2_imagenet.onnx" --calibration "$images/photos" --held-out 0 --bias-correction -o "$work/v2.cnnq" > /dev/null
  out=$("$cq" eval "$models/mobilenet_v2_imagenet.onnx" "$work/v2.cnnq" --data "$images/imagenet" --plot "$root/docs/plots/mobilenet_v2_imagenet.svg")
  row "MobileNet v2 (torchvision ImageNet weights)" 1.0 224 "ImageNet val (20), calibrated on 95 other photos" "$out"
fi
if [ -f "$models/mobilenet_v1_tf_slim.onnx" ] && [ -d "$images/photos" ]; then
  "$cq" quantize "$models/mobilenet_v1_tf_slim.onnx" --preset keras --calibration "$images/photos" --held-out 0 --bias-correction \
      -o "$work/v1.cnnq" > /dev/null
  out=$("$cq" eval "$models/mobilenet_v1_tf_slim.onnx" "$work/v1.cnnq" --preset keras --label-offset 1 --data "$images/imagenet" \
        --plot "$root/docs/plots/mobilenet_v1_tf_slim.svg")
  row "MobileNet v1 (TF-slim ImageNet)" 1.0 224 "ImageNet val (20), calibrated on 95 other photos" "$out"
fi
if [ -f "$models/ppocr_cls_v3_small.onnx" ] && [ -d "$strips/test" ]; then
  ocr=("$models/ppocr_cls_v3_small.onnx" --preset paddleocr --input-shape 1,3,48,192)
  "$cq" quantize "${ocr[@]}" --calibration "$strips/calibration" --held-out 0 --bias-correction -o "$work/ocr.cnnq" > /dev/null
  out=$("$cq" eval "${ocr[0]}" "$work/ocr.cnnq" "${ocr[@]:1}" --data "$strips/test" --plot "$root/docs/plots/ppocr_cls_v3_small.svg")
  row "MobileNet v3s (PaddleOCR text direction)" 0.35 "48×192" "text strips, 0° or 180° (112), calibrated on 112 others" "$out"
fi
