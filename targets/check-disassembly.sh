#!/usr/bin/env bash
# Checks that the hot loops of a device build compile to the instructions they were written for (see
# docs/kernels.md). A compiler or source change that loses one fails this check.
#   usage: targets/check-disassembly.sh out/x86_64/CNNQKernels.o
#          targets/check-disassembly.sh out/aarch64/CNNQKernels.o aarch64
set -euo pipefail
object=$1 arch=${2:-x86_64}
objdump=objdump; [ "$arch" = aarch64 ] && objdump=aarch64-linux-gnu-objdump
dump=$(mktemp); trap 'rm -f "$dump"' EXIT
"$objdump" -dr --no-show-raw-insn "$object" > "$dump"   # -r: calls name their target

# Prints the body of every function whose mangled name contains $1.
body() { awk -v pattern="$1" '/^[0-9a-f]+ <.*>:$/ { keep = index($0, pattern) > 0 } keep' "$dump"; }

status=0
expect() {  # expect SYMBOL-PART INSTRUCTION-REGEX WHY
  if body "$1" | grep -cP "\\b$2" > /dev/null; then
    echo "ok: $arch $1 uses $2 ($3)"
  else
    echo "MISSING: $arch $1 has no $2 ($3)"; status=1
  fi
}
refuse() {  # refuse SYMBOL-PART INSTRUCTION-REGEX WHY
  if body "$1" | grep -cP "\\b$2" > /dev/null; then
    echo "FOUND: $arch $1 uses $2 ($3)"; status=1
  else
    echo "ok: $arch $1 avoids $2 ($3)"
  fi
}

case "$arch" in
  x86_64)
    expect 4GEMMO vpmaddwd "int16 pairs multiplied and summed exactly into int32"
    expect 4GEMMO vpbroadcastd "input pairs broadcast straight from the widened row"
    expect 4GEMMO vpmovsxbw "weights widened from memory"
    expect 4GEMMO vcvtdq2ps "requantization: accumulators converted to float in vector lanes"
    expect 4GEMMO vmulps "requantization: per-channel scales multiplied in vector lanes"
    refuse 4GEMMO 'vfn?m(add|sub)' "a fused multiply-add would round once where the reference rounds twice"
    refuse 4GEMMO vpmaddubsw "saturating u8×s8 pairs would lose exactness"
    refuse 4GEMMO 'R_\S+\s+\S*loadUnaligned' "loads left as calls: the microkernel outgrew the SIL inliner's budget"
    expect 9DepthwiseO4RowsV10runSliding vpmaddwd "3×3: two kernel rows' taps of 8 channels multiplied and summed exactly"
    expect 9DepthwiseO4RowsV10runSliding vpunpcklbw "3×3: input rows interleaved into pairs before widening"
    expect 9DepthwiseO4RowsV10runSliding vmulps "3×3: requantization scales multiplied in vector lanes"
    refuse 9DepthwiseO4RowsV10runSliding vpmulld "3×3: LLVM saw a zero or sign-extended half of a pair and split the vpmaddwd"
    expect 9DepthwiseO4RowsV8runPairs vpmaddwd "5×5: two kernel rows' taps of 8 channels multiplied and summed exactly"
    expect 9DepthwiseO4RowsV8runPairs vpunpcklbw "5×5: input rows interleaved into pairs before widening"
    expect 9DepthwiseO4RowsV8runPairs vmulps "5×5: requantization scales multiplied in vector lanes"
    expect 9DepthwiseO4RowsV3run vpmullw "other geometries: 16 channels multiplied exactly in int16"
    expect 9DepthwiseO4RowsV3run vpmovsxwd "other geometries: products widened to int32 accumulators"
    refuse 4GEMMO vpmulld "a 32-bit multiply there means the vpmaddwd pattern was missed"
    refuse 9DepthwiseO 'vfn?m(add|sub)' "a fused multiply-add would round once where the reference rounds twice"
    refuse 3AddO 'vfn?m(add|sub)' "the residual sum of two scaled inputs fused into one rounding"
    ;;
  aarch64)
    # Armv8.0 baseline: no sdot (an optional v8.2 extension), so int16 widening multiplies.
    expect 4GEMMO 'smull\s+v\d+\.4s' "int16 × int16 widened into int32 lanes"
    expect 4GEMMO 'uzp[12]\s+v' "even and odd products de-interleaved to sum the input-channel pairs"
    expect 4GEMMO 'scvtf\s+v\d+\.4s' "requantization: accumulators converted to float in vector lanes"
    expect 4GEMMO 'fmul\s+v\d+\.4s' "requantization: per-channel scales multiplied in vector lanes"
    refuse 4GEMMO 'fml[as]\s' "a fused multiply-add would round once where the reference rounds twice"
    expect 9DepthwiseO4RowsV10runSliding 'smull2?\s+v\d+\.4s' "3×3 paired taps: int16 × int16 widened into int32 lanes"
    expect 9DepthwiseO4RowsV10runSliding 'fmul\s+v\d+\.4s' "3×3: requantization scales multiplied in vector lanes"
    expect 9DepthwiseO4RowsV8runPairs 'smull2?\s+v\d+\.4s' "5×5 paired taps: int16 × int16 widened into int32 lanes"
    expect 9DepthwiseO4RowsV8runPairs 'fmul\s+v\d+\.4s' "5×5: requantization scales multiplied in vector lanes"
    refuse 9DepthwiseO 'fml[as]\s' "a fused multiply-add would round once where the reference rounds twice"
    refuse 3AddO 'fml[as]\s' "the residual sum of two scaled inputs fused into one rounding"
    expect 9DepthwiseO4RowsV3run 'mul\s+v\d+\.8h' "other geometries: 16 channels multiplied exactly in int16"
    expect 9DepthwiseO4RowsV3run 'saddw2?\s+v\d+\.4s' "other geometries: int16 products added straight into int32 accumulators"
    refuse 4GEMMO 'mul\s+v\d+\.4s' "a 32-bit multiply there means the widening pattern was missed"
    refuse 4GEMMO 'R_\S+\s+\S*loadUnaligned' "loads left as calls: the microkernel outgrew the SIL inliner's budget"
    ;;
  *) echo "unknown architecture $arch" >&2; exit 2 ;;
esac
exit $status
