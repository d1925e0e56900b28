#!/usr/bin/env bash
# examples/demo.sh - the main demo (`make demo`): assemble, inspect and run an
# eBPF program that computes an IPv4 header checksum, in every engine, then
# show the checked engine stopping a program that reads out of bounds, and an
# application embedding libcomb with its own helper.
set -euo pipefail
comb=${1:-build/comb}
here=$(dirname "$0")
prog=$here/ipv4-checksum/checksum.s
header_zero="45 00 00 73 00 00 40 00 40 11 00 00 c0 a8 00 01 c0 a8 00 c7"
header_full="45 00 00 73 00 00 40 00 40 11 b8 61 c0 a8 00 01 c0 a8 00 c7"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "1. Assemble $prog and disassemble it the way llvm-objdump would"
"$comb" asm "$prog" -o "$tmp/checksum.bin"
echo "$(( $(stat -c %s "$tmp/checksum.bin") / 8 )) instructions"
"$comb" disasm "$tmp/checksum.bin"

step "2. Checksum of an IPv4 header whose checksum field is zero"
echo "header: $header_zero"
sum=$("$comb" run "$tmp/checksum.bin" --mem "$header_zero")
echo "checksum to store: $sum   (the real header carries 0xb861)"

step "3. Verify the complete header: 0 means valid (in each engine)"
for engine in checked interp jit; do
	printf '%-8s %s\n' "$engine:" "$("$comb" run "$tmp/checksum.bin" --mem "$header_full" --engine "$engine")"
done

step "4. Speed: the same run 100000 times, interpreter and JIT"
for engine in interp jit; do
	"$comb" run "$tmp/checksum.bin" --mem "$header_full" --engine "$engine" --repeat 100000 --json
done

step "5. Safety: a program that reads past its memory is stopped, not crashed"
cat > "$tmp/overrun.s" <<'ASM'
        mov %r0, 0
        mov %r3, 0
loop:
        mov %r4, %r1            # sums 4096 bytes, but only 20 were given
        add %r4, %r3
        ldxb %r5, [%r4]
        add %r0, %r5
        add %r3, 1
        jlt %r3, 4096, loop
        exit
ASM
if "$comb" run "$tmp/overrun.s" --mem "$header_full" --engine checked; then
	echo "unexpected: the overrun was not caught" >&2
	exit 1
fi
echo "(exit status 1, with the instruction and the address)"

step "6. Embedding: an application runs a program that calls the application's own helper"
make --no-print-directory -s -C "$here/embed" BUILD="$(cd "$(dirname "$comb")" && pwd)"
"$here/embed/embed"
