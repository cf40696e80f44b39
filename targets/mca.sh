#!/usr/bin/env bash
# Arm speed without a board: runs llvm-mca (Debian's llvm) on the innermost loop of each hot kernel
# in the device objects (make -C targets aarch64 armv7 first) and prints, per core, the estimated
# cycles per iteration, the int8 multiply-accumulates one iteration does (lanes of its integer
# multiplies: smull 4 or 8, sdot 16, smmla 32, vmull.s8 8) and so MACs per cycle, with the loop's
# instruction mix, beside the core's ideal: its widest int8 multiply-accumulate for that instruction
# set (smlal .8h, sdot, smmla; vmlal.s8 on armv7) issued alone into 8 independent accumulators, as
# llvm-mca's model of the core (built from Arm's optimization guides) schedules it. Cores: Cortex-A53,
# A55, A72, A76 for aarch64 code (A53 and A72 have no dotprod or i8mm: those rows only compare loop
# shapes); LLVM has no AArch32 model of those cores, so armv7 code is estimated on Cortex-A57's.
#
# --model m.cnnq adds a latency estimate per core: each layer's MACs (`cnn-quantize inspect --ops`)
# at the MACs/cycle of the kernel that runs it (1×1 and im2col convolutions: the GEMM of the best
# level the core has; depthwise 3×3 and 5×5: their row kernels), summed, at a typical board clock.
# Inner loops only: packing, requantization, memory stalls and the ops without MACs are not counted,
# so it is a lower bound on a real board's time.
#   usage: targets/mca.sh [--markdown] [--model m.cnnq]   (CNN_QUANTIZE: the tool, default .build/release)
set -euo pipefail
cd "$(dirname "$0")"
command -v llvm-mca > /dev/null || { echo "error: llvm-mca not found (apt-get install llvm)" >&2; exit 2; }
markdown='' model=''
while [ $# -gt 0 ]; do
  case "$1" in
    --markdown) markdown=1 ;;
    --model) model=${2:?--model needs a .cnnq file}; shift ;;
    *) echo "usage: targets/mca.sh [--markdown] [--model m.cnnq]" >&2; exit 2 ;;
  esac
  shift
done
tool=${CNN_QUANTIZE:-../.build/release/cnn-quantize}
[ -z "$model" ] || [ -x "$tool" ] || tool=../.build/debug/cnn-quantize
[ -z "$model" ] || [ -x "$tool" ] || { echo "error: no cnn-quantize: swift build -c release, or set CNN_QUANTIZE" >&2; exit 2; }
[ -z "$model" ] || model=$(realpath "$OLDPWD/$model" 2> /dev/null || realpath "$model")

# The ideal of key instruction $2 on core $1 (triple $3): "MACs/cycle", from 8 independent copies.
declare -A ideals
ideal() {
  local core=$1 key=$2 triple=$3 line macs
  case "$key" in
    smull) line='smlal v%d.8h, v20.8b, v21.8b' macs=8 ;;   # Armv8.0: 8 products into int16 lanes
    sdot) line='sdot v%d.4s, v20.16b, v21.16b' macs=16 ;;
    smmla) line='smmla v%d.4s, v20.16b, v21.16b' macs=32 ;;
    vmull) line='vmlal.s8 q%d, d20, d21' macs=8 ;;
  esac
  # Only for an instruction the core has: dotprod on A55 and A76, i8mm on none of the four.
  case "$core:$key" in
    cortex-a53:sdot|cortex-a72:sdot|*:smmla) echo "—"; return ;;
  esac
  if [ -z "${ideals[$core$key]:-}" ]; then
    local file cycles
    file=$(mktemp --suffix=.s)
    for r in 0 1 2 3 4 5 6 7; do printf "$line\n" "$r"; done > "$file"
    cycles=$(llvm-mca -mtriple="$triple" -mcpu="$core" -iterations=200 "$file" 2> /dev/null | awk '/Total Cycles/ {print $3}')
    ideals[$core$key]=$(python3 -c "print(f'{8 * $macs / ($cycles / 200):.1f}')")
    rm -f "$file"
  fi
  echo "${ideals[$core$key]}"
}
declare -A rates   # "label|core" → MACs/cycle, for the estimate

# board object symbol-regex key-instruction[:least count in the loop] label
kernels=(
  "aarch64 CNNQKernelsNEON.o Int8GEMM2x16 smull GEMM 2×16 NEON (baseline)"
  "aarch64 CNNQKernelsDotProd.o Int8GEMM4x16 sdot GEMM 4×16 dotprod"
  "aarch64 CNNQKernelsI8MM.o Int8GEMM4x16 smmla GEMM 4×16 i8mm"
  "aarch64 CNNQKernels.o runTaps.*K3S1 smull:12 depthwise 3×3 (runTaps)"
  "aarch64 CNNQKernels.o runTaps.*K5S1 smull:6 depthwise 5×5 (runTaps)"
  "armv7 CNNQKernelsNEON.o Int8GEMM2x16 vmull GEMM 2×16 NEON (baseline)"
  "armv7 CNNQKernels.o runTaps.*K3S1 vmull:12 depthwise 3×3 (runTaps)"
)

[ -n "$markdown" ] && printf '| kernel | board | core | cycles/iteration | MACs/iteration | MACs/cycle | ideal MACs/cycle | instructions (most frequent) |\n|---|---|---|---|---|---|---|---|\n'
for spec in "${kernels[@]}"; do
  read -r board object symbol key label <<< "$spec"
  [ -f "out/$board/$object" ] || { echo "error: out/$board/$object missing: make -C targets $board" >&2; exit 2; }
  objdump=aarch64-linux-gnu-objdump triple=aarch64 cores=(cortex-a53 cortex-a55 cortex-a72 cortex-a76)
  if [ "$board" = armv7 ]; then objdump=arm-linux-gnueabihf-objdump triple=armv7-linux-gnueabihf cores=(cortex-a57); fi
  loop=$(mktemp --suffix=.s)
  # The smallest loop (a backward branch and its target) of the symbol that contains the key
  # instruction, as assembly llvm-mca reads; then its MACs and instruction mix.
  # --show-all-symbols: armv7 objdump hides names that begin with $ (ARM mapping symbols), as Swift's do.
  info=$("$objdump" -d --no-show-raw-insn --show-all-symbols "out/$board/$object" | python3 -c '
import re, sys
symbol, key, out = sys.argv[1], sys.argv[2], sys.argv[3]
key, _, least = key.partition(":")
lines, keep = [], False
for l in sys.stdin:
    m = re.match(r"^([0-9a-f]+) <(.*)>:$", l.strip())
    if m:
        keep = re.search(symbol, m.group(2)) is not None
        continue
    m = re.match(r"^\s*([0-9a-f]+):\s+(.*)$", l) if keep else None
    if m:
        lines.append((int(m.group(1), 16), re.split(r"\s*(//|@|;)", m.group(2))[0].strip()))
best = None
for addr, ins in lines:
    m = re.match(r"^b(\.\w+|ne|eq|lt|gt|le|ge|cc|cs|hi|ls|mi|pl)?\s+([0-9a-f]+)\b", ins)
    if m and m.group(1) and int(m.group(2), 16) < addr:
        body = [x for a, x in lines if int(m.group(2), 16) <= a <= addr]
        if sum(x.startswith(key) for x in body) >= int(least or 1) and (best is None or len(body) < len(best)):
            best = body
if best is None:
    sys.exit(f"no loop with {key} in {symbol}")
def lanes(ins):
    op = ins.split()[0]
    if op in ("sdot", "udot"): return 16
    if op in ("smmla", "ummla"): return 32
    if re.match(r"^(smull2?|umull2?|smlal2?|mul|mla)$", op):
        return 8 if ".8h" in ins.split(",")[0] else 4 if ".4s" in ins.split(",")[0] else 0
    if re.match(r"^vmull\.s8|^vmlal\.s8", op): return 8
    if re.match(r"^vmull\.s16|^vmlal\.s16", op): return 4
    if re.match(r"^vmul\.i16|^vmla\.i16", op): return 8 if ins.split()[1].startswith("q") else 4
    return 0
with open(out, "w") as f:
    f.write(".Lloop:\n")
    for ins in best:
        ins = re.sub(r"\s+<[^>]*>", "", ins)
        if re.match(r"^b(\.\w+|ne|eq|lt|gt|le|ge|cc|cs|hi|ls|mi|pl)?\s", ins):
            ins = re.sub(r"\s+[0-9a-f]+$", " .Lloop", ins)
        f.write(ins + "\n")
mix = {}
for ins in best:
    mix[ins.split()[0]] = mix.get(ins.split()[0], 0) + 1
top = ", ".join(f"{n} {op}" for op, n in sorted(mix.items(), key=lambda kv: -kv[1])[:6])
print(sum(lanes(x) for x in best), len(best), top, sep="\t")
' "$symbol" "$key" "$loop")
  IFS=$'\t' read -r macs count mix <<< "$info"
  for core in "${cores[@]}"; do
    # -mattr: a loop of an extension the core lacks is still scheduled, to compare loop shapes.
    attr=; [ "$board" = aarch64 ] && attr=-mattr=+dotprod,+i8mm
    cycles=$(llvm-mca -mtriple="$triple" -mcpu="$core" $attr -iterations=200 "$loop" 2> /dev/null | awk '/Total Cycles/ {print $3}')
    per=$(python3 -c "print(f'{$cycles / 200:.1f}', f'{$macs / ($cycles / 200):.1f}')")
    read -r iteration rate <<< "$per"
    rates["$label|$core"]=$rate
    best=$(ideal "$core" "${key%%:*}" "$triple")
    if [ -n "$markdown" ]; then
      echo "| $label | $board | ${core#cortex-} | $iteration | $macs | $rate | $best | $count: $mix |"
    else
      printf '%-34s %-8s %-11s %6s cycles/iter %5s MACs/iter %5s MACs/cycle (ideal %s)  (%s instructions: %s)\n' \
          "$label" "$board" "$core" "$iteration" "$macs" "$rate" "$best" "$count" "$mix"
    fi
  done
  rm -f "$loop"
done

[ -n "$model" ] || exit 0
# The estimate: per core, a typical board's clock and the GEMM of the best level the core has.
estimate=(
  "cortex-a53 1.4 Raspberry-Pi-3B+ GEMM 2×16 NEON (baseline)"
  "cortex-a55 1.8 Rockchip-RK3566 GEMM 4×16 dotprod"
  "cortex-a72 1.5 Raspberry-Pi-4 GEMM 2×16 NEON (baseline)"
  "cortex-a76 2.4 Raspberry-Pi-5 GEMM 4×16 dotprod"
)
ops=$("$tool" inspect "$model" --ops)
echo
[ -n "$markdown" ] && printf '| core | clock (board) | GEMM | MACs estimated | Mcycles | ms | ms at the ideal |\n|---|---|---|---|---|---|---|\n'
for spec in "${estimate[@]}"; do
  read -r core clock board gemm <<< "$spec"
  key=smull; [[ "$gemm" == *dotprod* ]] && key=sdot
  OPS="$ops" python3 - "$core" "$clock" "${board//-/ }" "$gemm" "${rates["$gemm|$core"]}" \
      "${rates["depthwise 3×3 (runTaps)|$core"]}" "${rates["depthwise 5×5 (runTaps)|$core"]}" \
      "$(ideal "$core" "$key" aarch64)" "$(ideal "$core" smull aarch64)" "$markdown" <<'PY'
import os, sys
core, clock, board, gemm, gemm_rate, dw3, dw5, ideal_gemm, ideal_dw, markdown = sys.argv[1:]
lines = os.environ["OPS"].splitlines()
header = lines[0]
starts = [header.index(name) for name in ("op kind", "kernel", "ops", "MACs")]
total = covered = cycles = ideal = 0
for line in lines[2:]:
    if not line.strip():
        break
    kind, kernel = line[starts[0]:starts[1]].strip(), line[starts[1]:starts[2]].strip()
    macs = int(line[starts[3] - 8:].strip().replace(",", "") or 0)  # right-aligned under "MACs"
    total += macs
    rate = None
    if kind in ("pointwise", "convolution", "groupedConvolution"):
        rate, best = float(gemm_rate), float(ideal_gemm)
    elif kind == "depthwise" and kernel.startswith("3×3"):
        rate, best = float(dw3), float(ideal_dw)
    elif kind == "depthwise" and kernel.startswith("5×5"):
        rate, best = float(dw5), float(ideal_dw)
    if rate:
        covered += macs
        cycles += macs / rate
        ideal += macs / best
ms = cycles / (float(clock) * 1e6)
row = [core, f"{clock} GHz ({board})", gemm, f"{covered / 1e6:.0f} M of {total / 1e6:.0f} M",
       f"{cycles / 1e6:.0f}", f"{ms:.0f}", f"{ideal / (float(clock) * 1e6):.0f}"]
if markdown:
    print("| " + " | ".join(row) + " |")
else:
    print(f"{row[0]:<11} {row[1]:<30} {row[2]:<26} MACs {row[3]:<14} {row[4]:>6} Mcycles {row[5]:>5} ms (ideal {row[6]} ms)")
PY
done
