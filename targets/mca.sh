#!/usr/bin/env bash
# Arm speed without a board: runs llvm-mca (Debian's llvm) on the innermost loop of each hot kernel
# in the device objects (make -C targets aarch64 armv7 first) and prints, per core, the estimated
# cycles per iteration, the int8 multiply-accumulates one iteration does (lanes of its integer
# multiplies: smull 4 or 8, sdot 16, smmla 32, vmull.s8 8) and so MACs per cycle, with the loop's
# instruction mix. Cores: Cortex-A53, A55, A72, A76 for aarch64 code (A53 and A72 have no dotprod or
# i8mm: those rows only compare loop shapes); LLVM has no AArch32 model of those cores, so armv7
# code is estimated on Cortex-A57's AArch32 model.
#   usage: targets/mca.sh [--markdown]
set -euo pipefail
cd "$(dirname "$0")"
command -v llvm-mca > /dev/null || { echo "error: llvm-mca not found (apt-get install llvm)" >&2; exit 2; }
markdown=${1:-}

# board object symbol-part key-instruction label
kernels=(
  "aarch64 CNNQKernelsNEON.o Int8GEMM2x16 smull GEMM 2×16 NEON (baseline)"
  "aarch64 CNNQKernelsDotProd.o Int8GEMM4x16 sdot GEMM 4×16 dotprod"
  "aarch64 CNNQKernelsI8MM.o Int8GEMM4x16 smmla GEMM 4×16 i8mm"
  "aarch64 CNNQKernels.o runSliding smull depthwise 3×3 (runSliding)"
  "aarch64 CNNQKernels.o runPairs smull depthwise 5×5 (runPairs)"
  "armv7 CNNQKernelsNEON.o Int8GEMM2x16 vmull GEMM 2×16 NEON (baseline)"
  "armv7 CNNQKernels.o runSliding vmull depthwise 3×3 (runSliding)"
)

[ -n "$markdown" ] && printf '| kernel | board | core | cycles/iteration | MACs/iteration | MACs/cycle | instructions (most frequent) |\n|---|---|---|---|---|---|---|\n'
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
lines, keep = [], False
for l in sys.stdin:
    m = re.match(r"^([0-9a-f]+) <(.*)>:$", l.strip())
    if m:
        keep = symbol in m.group(2)
        continue
    m = re.match(r"^\s*([0-9a-f]+):\s+(.*)$", l) if keep else None
    if m:
        lines.append((int(m.group(1), 16), re.split(r"\s*(//|@|;)", m.group(2))[0].strip()))
best = None
for addr, ins in lines:
    m = re.match(r"^b(\.\w+|ne|eq|lt|gt|le|ge|cc|cs|hi|ls|mi|pl)?\s+([0-9a-f]+)\b", ins)
    if m and m.group(1) and int(m.group(2), 16) < addr:
        body = [x for a, x in lines if int(m.group(2), 16) <= a <= addr]
        if any(x.startswith(key) for x in body) and (best is None or len(body) < len(best)):
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
    cycles=$(llvm-mca -mtriple="$triple" -mcpu="$core" -iterations=200 "$loop" 2> /dev/null | awk '/Total Cycles/ {print $3}')
    per=$(python3 -c "print(f'{$cycles / 200:.1f}', f'{$macs / ($cycles / 200):.1f}')")
    read -r iteration rate <<< "$per"
    if [ -n "$markdown" ]; then
      echo "| $label | $board | ${core#cortex-} | $iteration | $macs | $rate | $count: $mix |"
    else
      printf '%-34s %-8s %-11s %6s cycles/iter %5s MACs/iter %5s MACs/cycle  (%s instructions: %s)\n' \
          "$label" "$board" "$core" "$iteration" "$macs" "$rate" "$count" "$mix"
    fi
  done
  rm -f "$loop"
done
