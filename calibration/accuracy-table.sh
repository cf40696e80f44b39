#!/usr/bin/env bash
# Prints the README's accuracy table: every Fashion-MNIST MobileNet of Tests/CNNQuantTests/Fixtures/
# fashion-mnist quantized with the default recipe (percentile, bias correction, 200 training images)
# and evaluated on the 10,000 test images; and, when calibration/models has it (export_models.py),
# the ImageNet MobileNet V2 on the 20 labelled ImageNet images, calibrated on the other photos.
# Needs Debian's dataset-fashion-mnist and a release build (swift build -c release).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cq="$root/.build/release/cnn-quantize"
data=/usr/share/datasets/fashion-mnist
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

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
  IFS=_ read -r _ arch alpha rho <<< "$name"
  "$cq" quantize "$onnx" --calibration "$data/train-images-idx3-ubyte.gz" --preset fashion-mnist --samples 200 --held-out 0 \
      --bias-correction -o "$work/m.cnnq" > /dev/null
  out=$("$cq" eval "$onnx" "$work/m.cnnq" --data "$data/t10k-images-idx3-ubyte.gz" --labels "$data/t10k-labels-idx1-ubyte.gz" --preset fashion-mnist)
  row "MobileNet $arch" "$alpha" "$rho" "Fashion-MNIST test (10,000)" "$out"
done
v2="$root/calibration/models/mobilenet_v2_imagenet.onnx"
if [ -f "$v2" ] && [ -d "$root/calibration/images/imagenet" ]; then
  mkdir -p "$work/photos"
  cp -r "$root/calibration/images/skimage" "$root/calibration/images/opencv" "$work/photos/"
  "$cq" quantize "$v2" --calibration "$work/photos" --samples 200 --held-out 0 --bias-correction -o "$work/v2.cnnq" > /dev/null
  out=$("$cq" eval "$v2" "$work/v2.cnnq" --data "$root/calibration/images/imagenet")
  row "MobileNet v2 (torchvision ImageNet weights)" 1.0 224 "ImageNet val (20), calibrated on 95 other photos" "$out"
fi
