#!/usr/bin/env bash
# Prints the README's architecture table: every Fashion-MNIST model of Tests/CNNQuantTests/Fixtures/
# fashion-mnist that is not a MobileNet (calibration/classic_cnns.py, trained by train_fashion_mnist.py)
# quantized with the default recipe (auto, bias correction, 200 training images), evaluated
# against the float model on the 10,000 test images, and timed on one thread (`cnn-quantize bench`,
# 200 runs, median). Needs Debian's dataset-fashion-mnist, jq, and a release build
# (swift build -c release --product cnn-quantize). Latency is this machine's; run it on an idle one.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cq="$root/.build/release/cnn-quantize"
data=/usr/share/datasets/fashion-mnist
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo '| architecture | α | ρ | params | MACs | file | arena | int8 latency, 1 thread | float top-1 | int8 top-1 | agreement | output SQNR |'
echo '|---|---|---|---|---|---|---|---|---|---|---|---|'
for onnx in "$root"/Tests/CNNQuantTests/Fixtures/fashion-mnist/*.onnx; do
  name=$(basename "$onnx" .onnx)                         # ARCH_ALPHA_RHO
  case "$name" in mobilenet_*) continue ;; esac
  rho=${name##*_}; rest=${name%_*}; alpha=${rest##*_}; arch=${rest%_*}
  wrote=$("$cq" quantize "$onnx" --calibration "$data/train-images-idx3-ubyte.gz" --preset fashion-mnist --samples 200 \
      --held-out 0 --bias-correction -o "$work/m.cnnq" | grep '^wrote')
  params=$(grep -oE '[0-9,]+ params' <<< "$wrote" | cut -d' ' -f1)
  out=$("$cq" eval "$onnx" "$work/m.cnnq" --data "$data/t10k-images-idx3-ubyte.gz" --labels "$data/t10k-labels-idx1-ubyte.gz" \
      --preset fashion-mnist)
  read -r float int8 <<< "$(sed -nE 's/^top-1: float ([0-9.]+)%, int8 ([0-9.]+)%.*/\1 \2/p' <<< "$out")"
  agree=$(grep -oE 'agreement [0-9.]+%' <<< "$out" | cut -d' ' -f2)
  sqnr=$(grep -oE 'output SQNR [0-9.]+ dB' <<< "$out" | cut -d' ' -f3)
  bench=$("$cq" bench "$work/m.cnnq" --threads 1 --runs 200 --json)
  printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s%% | %s%% | %s | %s dB |\n' "$arch" "$alpha" "$rho" "$params" \
    "$(jq -r '.macs / 1e6 * 100 | round / 100 | "\(.) M"' <<< "$bench")" \
    "$(jq -r '.modelBytes / 1000 | round | "\(.) kB"' <<< "$bench")" \
    "$(jq -r '.arenaBytes / 1000 | round | "\(.) kB"' <<< "$bench")" \
    "$(jq -r '.medianSeconds * 1e5 | round / 100 | "\(.) ms"' <<< "$bench")" "$float" "$int8" "$agree" "$sqnr"
done
