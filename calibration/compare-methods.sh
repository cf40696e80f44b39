#!/usr/bin/env bash
# Quantizes one model with every observer, with and without bias correction and cross-layer
# equalization, and prints output SQNR and top-1 agreement on held-out images for each:
# the measurement behind the default observer (docs/quantization.md).
# Usage: calibration/compare-methods.sh MODEL.onnx [extra quantize options, e.g. --preset paddleocr]
# Needs calibration/fetch-images.sh to have run, and a release build (swift build -c release).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
model="$1"; shift
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
printf '%-11s %-26s %s\n' method options result
for method in minmax percentile entropy mse; do
  for flags in "" "--bias-correction" "--cle" "--cle --bias-correction"; do
    # shellcheck disable=SC2086
    result=$("$root/.build/release/cnn-quantize" quantize "$model" --calibration "$root/calibration/images" -o "$out/m.cnnq" \
             --samples 64 --held-out 51 --method "$method" $flags "$@" | grep '^output SQNR')
    printf '%-11s %-26s %s\n' "$method" "${flags:--}" "$result"
  done
done
