#!/usr/bin/env bash
# Checks that the hot loops of a device build compile to the instructions they were written for (see
# docs/kernels.md). A compiler or source change that loses one fails this check.
#   usage: targets/check-disassembly.sh out/x86_64/CNNQKernels.o
#          targets/check-disassembly.sh out/aarch64/CNNQKernels.o aarch64
#          targets/check-disassembly.sh out/x86_64/CNNQKernelsAVX2.o avx2   (one level's module)
#          PROFILE=small targets/check-disassembly.sh out/small/x86_64/CNNQKernels.o
set -euo pipefail
object=$1 arch=${2:-x86_64}
objdump=objdump; case "$arch" in aarch64|dotprod|i8mm|neon) objdump=aarch64-linux-gnu-objdump ;; esac
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

# The depthwise row bodies for 3×3 and 5×5 exist in the fast profile only (PROFILE=small has one for all).
specialised() { [ "${PROFILE:-fast}" = small ] || "$@"; }

case "$arch" in
  x86_64)
    # The baseline: SSE2, which every x86_64 CPU has; the same GEMM and depthwise bodies are compiled
    # again with AVX2 in that level's module.
    expect Int8GEMM4x8O pmaddwd "int16 pairs multiplied and summed exactly into int32"
    expect Int8GEMM4x8O cvtdq2ps "requantization: accumulators converted to float in vector lanes"
    expect Int8GEMM4x8O mulps "requantization: per-channel scales multiplied in vector lanes"
    expect Int8GEMM4x8O maxps "requantization: the lower clamp one maxps, not a compare and masks"
    refuse Int8GEMM4x8O pmaddubsw "saturating u8×s8 pairs would lose exactness"
    refuse Int8GEMM4x8O 'R_\S+\s+\S*loadUnaligned' "loads left as calls: the microkernel outgrew the SIL inliner's budget"
    refuse '' ':\s+v[a-z]|pmovsx|pshufb|pmulld|roundps|pminsd|pmaxsd|pblend' \
        "the baseline module must run on every x86_64 CPU: SSE2 only (no VEX, SSSE3 or SSE4.1)"
    specialised expect 9DepthwiseO4RowsV10runSliding pmaddwd "3×3: two kernel rows' taps of 8 channels multiplied and summed exactly"
    specialised expect 9DepthwiseO4RowsV10runRolling pmaddwd "5×5: two kernel rows' taps of 8 channels multiplied and summed exactly"
    expect 9DepthwiseO4RowsV3run pmullw "other geometries: 16 channels multiplied exactly in int16"
    refuse 9DepthwiseO 'vfn?m(add|sub)' "a fused multiply-add would round once where the reference rounds twice"
    ;;
  avx2)
    expect gemm_4x8_avx2 vpmaddwd "int16 pairs multiplied and summed exactly into int32, 256-bit"
    expect gemm_4x8_avx2 vpmovsxbw "weights and inputs widened to int16"
    expect gemm_4x8_avx2 vcvtdq2ps "requantization: accumulators converted to float in vector lanes"
    expect gemm_4x8_avx2 vmulps "requantization: per-channel scales multiplied in vector lanes"
    expect gemm_4x8_avx2 vmaxps "requantization: the lower clamp one vmaxps"
    refuse gemm_4x8_avx2 vblendvps "requantization: the lower clamp a compare and a blend (the stdlib's max)"
    refuse gemm_4x8_avx2 vpmaddubsw "saturating u8×s8 pairs would lose exactness"
    refuse gemm_4x8_avx2 vpmulld "a 32-bit multiply there means the vpmaddwd pattern was missed"
    refuse '' 'R_\S+\s+\S*(loadUnaligned|Int8GEMM4x8|runPaired|runLanes|runPixels|globalAverage_)' \
        "a portable body called in the baseline module (SSE2) instead of compiled here"
    expect add_avx2 vcvtdq2ps "residual add: 8 lanes converted to float in one register"
    expect multiply_avx2 vpmulld "squeeze-excite gate: 8 products in one instruction (SSE2 has none)"
    expect lookup_avx2 vpshufb "table lookup: 16-byte rows of the table picked by the low nibble"
    expect lookup_avx2 vpblendvb "table lookup: the high nibble's bits choose among the rows' results"
    expect 9DepthwiseO4RowsV10runSliding vpmaddwd "3×3: two kernel rows' taps of 8 channels multiplied and summed exactly"
    expect 9DepthwiseO4RowsV10runSliding vpunpcklbw "3×3: input rows interleaved into pairs before widening"
    expect 9DepthwiseO4RowsV10runSliding vmulps "3×3: requantization scales multiplied in vector lanes"
    expect 9DepthwiseO4RowsV10runSliding vpmovsxbd "3×3: row 2 widened to int32 lanes against zero weights, no partner"
    refuse 9DepthwiseO4RowsV10runSliding vpmulld "3×3: LLVM saw a zero or sign-extended half of a pair and split the vpmaddwd"
    expect 9DepthwiseO4RowsV10runRolling vpmaddwd "5×5: two kernel rows' taps of 8 channels multiplied and summed exactly"
    expect 9DepthwiseO4RowsV10runRolling vpunpcklbw "5×5: input rows interleaved into pairs before widening"
    expect 9DepthwiseO4RowsV10runRolling vmulps "5×5: requantization scales multiplied in vector lanes"
    expect 9DepthwiseO4RowsV10runRolling vpmovsxbd "5×5: row 4 widened to int32 lanes against zero weights, no partner"
    refuse 9DepthwiseO4RowsV10runRolling 'vpmulld|vpinsrw' "5×5: LLVM saw a constant half of a pair and built pairs lane by lane"
    refuse '' '%?zmm|vpdpbusd' "AVX2 CPUs need not have VNNI or AVX-512"
    refuse '' 'vfn?m(add|sub)' "a fused multiply-add would round once where the reference rounds twice"
    ;;
  aarch64)
    # Armv8.0 baseline: no sdot (an optional v8.2 extension), so widening multiplies.
    expect Int8GEMM4x8O 'smull\s+v\d+\.4s' "int16 × int16 widened into int32 lanes"
    expect Int8GEMM4x8O 'uzp[12]\s+v' "even and odd products de-interleaved to sum the input-channel pairs"
    expect Int8GEMM4x8O 'scvtf\s+v\d+\.4s' "requantization: accumulators converted to float in vector lanes"
    expect Int8GEMM4x8O 'fmul\s+v\d+\.4s' "requantization: per-channel scales multiplied in vector lanes"
    refuse Int8GEMM4x8O 'fml[as]\s' "a fused multiply-add would round once where the reference rounds twice"
    refuse '' 'sdot|smmla' "the baseline module must run on every Armv8.0 core"
    specialised expect 9DepthwiseO4RowsV7runTaps 'smull\s+v\d+\.8h' "3×3 and 5×5: int8 × int8 into int16, exact"
    specialised expect 9DepthwiseO4RowsV7runTaps 'smlal\s+v\d+\.8h' "3×3 and 5×5: a second tap's products added in int16 before widening"
    specialised expect 9DepthwiseO4RowsV7runTaps 'saddw2\s+v\d+\.4s' "3×3 and 5×5: products added straight into int32 accumulators"
    specialised expect 9DepthwiseO4RowsV7runTaps 'fmul\s+v\d+\.4s' "3×3 and 5×5: requantization scales multiplied in vector lanes"
    specialised refuse 9DepthwiseO4RowsV7runTaps 'uzp2\s' "x86's pairs-of-rows shape, which costs Arm a de-interleave per product (uzp1 alone narrows the output)"
    specialised refuse 9DepthwiseO4RowsV7runTaps 'R_AARCH64_CALL26\s+swift_' "a boxed capture or an unspecialised call in the row body"
    refuse 9DepthwiseO 'fml[as]\s' "a fused multiply-add would round once where the reference rounds twice"
    refuse 3AddO 'fml[as]\s' "the residual sum of two scaled inputs fused into one rounding"
    expect 9DepthwiseO4RowsV3run 'mul\s+v\d+\.8h' "other geometries: 16 channels multiplied exactly in int16"
    expect 9DepthwiseO4RowsV3run 'saddw2?\s+v\d+\.4s' "other geometries: int16 products added straight into int32 accumulators"
    refuse Int8GEMM4x8O 'mul\s+v\d+\.4s' "a 32-bit multiply there means the widening pattern was missed"
    refuse Int8GEMM4x8O 'R_\S+\s+\S*loadUnaligned' "loads left as calls: the microkernel outgrew the SIL inliner's budget"
    ;;
  avx-vnni)
    expect Int8GEMM4x16 'vpdpbusd\s+%ymm' "u8 × s8 quads summed into int32 lanes, 256-bit (VEX)"
    expect Int8GEMM4x16 vcvtdq2ps "requantization in vector lanes"
    refuse '' '%?zmm' "AVX-VNNI CPUs need not have AVX-512"
    refuse '' 'vfn?m(add|sub)' "a fused multiply-add would round once where the reference rounds twice"
    ;;
  avx512-vnni)
    expect Int8GEMM8x16 'vpdpbusd\s+.*%zmm' "u8 × s8 quads summed into int32 lanes, 512-bit"
    expect Int8GEMM8x16 vcvtdq2ps "requantization in vector lanes"
    expect O6run3x3 'vpdpbusd\s+.*%zmm' "3×3: a kernel column's three taps of 16 channels, u8 × s8, summed exactly"
    expect O6run3x3 'vperm([it]2)?b\s+.*%zmm' "3×3: an input column's three rows gathered into 4-byte lanes"
    expect O6run5x5 'vpdpbusd\s+.*%zmm' "5×5: four kernel rows' taps of 16 channels, u8 × s8, summed exactly"
    expect O6run5x5 'vpmovzxbd\s+.*%zmm' "5×5: the last kernel row alone in 4-byte lanes"
    expect O6run3x3 'vpmovdb' "3×3: requantized lanes narrowed and stored 16 at a time"
    refuse Int8Depthwise 'vpmulld' "a 32-bit multiply means LLVM split the pairs"
    expect lookup_avx512vnni 'vperm[it]2b\s+.*%zmm' "the table lookup, 64 bytes per two-table byte permute"
    refuse '' 'vfn?m(add|sub)' "a fused multiply-add would round once where the reference rounds twice"
    ;;
  neon)
    expect Int8GEMM2x16 'smull2?\s+v\d+\.8h, v\d+\.(8b|16b)' "int8 × int8 products in int16 lanes (exact: |w| ≤ 127)"
    expect Int8GEMM2x16 'smlal2\s+v\d+\.8h, v\d+\.16b' "a second group's products added in int16 (the high half by smlal2, not an ext copy)"
    expect Int8GEMM2x16 'sadalp\s+v\d+\.4s' "products added in pairs straight into int32 accumulators"
    expect Int8GEMM2x16 'scvtf\s+v\d+\.4s' "requantization in vector lanes"
    refuse '' 'sdot|smmla|fml[as]\s' "Armv8.0 instructions only, and no fused multiply-add"
    ;;
  i8mm)
    expect Int8GEMM4x16 'smmla\s+v\d+\.4s, v\d+\.16b, v\d+\.16b' "2 pixels × 8 inputs by 2 channels × 8 weights into int32"
    expect Int8GEMM4x16 'zip[12]\s+v\d+\.4s' "two groups' weights interleaved into channel pairs"
    expect Int8GEMM4x16 'scvtf\s+v\d+\.4s' "requantization in vector lanes"
    refuse '' 'fml[as]\s' "a fused multiply-add would round once where the reference rounds twice"
    ;;
  dotprod)
    expect Int8GEMM4x16 'sdot\s+v\d+\.4s, v\d+\.16b, v\d+\.4b\[' "s8 quads summed into int32 lanes by lane"
    expect Int8GEMM4x16 'scvtf\s+v\d+\.4s' "requantization in vector lanes"
    refuse '' 'fml[as]\s' "a fused multiply-add would round once where the reference rounds twice"
    ;;
  *) echo "unknown architecture $arch" >&2; exit 2 ;;
esac
exit $status
