#!/usr/bin/env bash
# Checks that the hot loops of the x86_64 device build compile to the instructions they were written
# for (see docs/kernels.md). A compiler or source change that loses one fails this check.
#   usage: targets/check-disassembly.sh out/x86_64/CNNQKernels.o
set -euo pipefail
object=$1
dump=$(mktemp); trap 'rm -f "$dump"' EXIT
objdump -d --no-show-raw-insn "$object" > "$dump"

# Prints the body of every function whose mangled name contains $1.
body() { awk -v pattern="$1" '/^[0-9a-f]+ <.*>:$/ { keep = index($0, pattern) > 0 } keep' "$dump"; }

status=0
expect() {  # expect SYMBOL-PART INSTRUCTION WHY
  if body "$1" | grep -cw "$2" > /dev/null; then
    echo "ok: $1 uses $2 ($3)"
  else
    echo "MISSING: $1 has no $2 ($3)"; status=1
  fi
}
refuse() {  # refuse SYMBOL-PART INSTRUCTION WHY
  if body "$1" | grep -cw "$2" > /dev/null; then
    echo "FOUND: $1 uses $2 ($3)"; status=1
  else
    echo "ok: $1 avoids $2 ($3)"
  fi
}

expect 9PointwiseO vpmaddwd "int16 pairs multiplied and summed exactly into int32"
expect 9PointwiseO vpbroadcastd "input pairs broadcast straight from the widened row"
expect 9PointwiseO vpmovsxbw "weights widened from memory"
expect 9PointwiseO vpmuldq "requantization high multiply in vector lanes"
refuse 9PointwiseO vpmaddubsw "saturating u8×s8 pairs would lose exactness"
expect 9DepthwiseO4Rows vpmullw "16 channels multiplied exactly in int16"
expect 9DepthwiseO4Rows vpmovsxwd "products widened to int32 accumulators"
expect 9DepthwiseO4Rows vpmuldq "requantization high multiply in vector lanes"
refuse 9PointwiseO vpmulld "a 32-bit multiply there means the vpmaddwd pattern was missed"
exit $status
