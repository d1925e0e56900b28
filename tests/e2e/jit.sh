#!/usr/bin/env bash
# tests/e2e/jit.sh - end-to-end tests of `comb disasm --jit`.
#
# Usage: tests/e2e/jit.sh BUILD_DIR   (BUILD_DIR holds comb and progs/)
#
# A small assembled program is listed with its native code: every BPF line
# must appear once and in order, each followed by the x86-64 instructions
# the JIT emits for it (the mnemonics checked are those src/jit/jit.c
# chooses for these instructions: mov r32 imm, add r64 r64, movabs for an
# LDDW, cmp + cmov for a jump over one move, which the JIT if-converts, so
# the move has no code of its own, ret for exit). A compiled object
# with subprograms goes through the same listing, and a program the JIT
# does not compile gets a clear error. Ends with `jit: N passed, N failed`.
set -u
. "$(cd "$(dirname "$0")" && pwd)/assert.bash"

e2e_setup jit "${1:-}"
PROGS=$BUILD_DIR/progs
cd "$TMP" || exit 1

cat >small.s <<'EOF'
mov32 %r0, 42
mov %r1, 7
add %r0, %r1
lddw %r2, 0x123456789
jeq %r0, 49, +1
mov %r0, 0
exit
EOF

# native_after INDEX REGEX: the native lines right after BPF line INDEX
# (up to the next BPF line) contain REGEX.
native_after() {
	awk -v idx="$1" '
		/^ *[0-9]+:\t/ { split($0, f, ":"); cur = f[1] + 0; bpf = 1; next }
		/^\t\t/ { if (bpf && cur == idx) print }' "$OUT" | grep -Eq -- "$2"
}

run_comb disasm --jit small.s
expect "disasm --jit small program" 0 '^; native code: [0-9]+ bytes'
# BPF lines in order: slot indexes 0 1 2 3 5 6 7 (the LDDW takes two slots).
order=$(grep -E '^ *[0-9]+:'$'\t' "$OUT" | cut -d: -f1 | tr -d ' ' | tr '\n' ' ')
if [ "$order" = "0 1 2 3 5 6 7 " ]; then pass; else fail "BPF lines out of order: '$order'"; fi
for check in \
	'0|mov eax, 0x2A' \
	'1|mov edi, 0x07' \
	'2|add rax, rdi' \
	'3|mov rsi, 0x123456789' \
	'5|xor r11d, r11d' \
	'5|cmp rax, 0x31' \
	'5|cmovnz rax, r11' \
	'7|ret'; do
	if native_after "${check%%|*}" "${check#*|}"; then pass
	else fail "native code of insn ${check%%|*} lacks '${check#*|}'"; fi
done
if native_after 6 .; then fail "the if-converted move (insn 6) still has code"; else pass; fi
# Each native line: tabs, hex offset, bytes, Intel text.
if grep -P '^\t\t +[0-9a-f]+:  ([0-9a-f]{2} )+ +\S' "$OUT" | grep -q ret; then pass
else fail "native lines are not 'offset: bytes text'"; fi
# The entry stub comes before the first BPF line.
if awk '/^ *0:\t/ { exit found ? 0 : 1 } /push rbp/ { found = 1 }' "$OUT"; then pass
else fail "the entry stub is not listed before the program"; fi

# Without --jit nothing native is printed.
run_comb disasm small.s
if [ "$rc" = 0 ] && ! grep -q $'^\t\t' "$OUT"; then pass; else fail "plain disasm prints native code"; fi

# A compiled object with bpf-to-bpf calls: each function's call is a native call.
obj=$PROGS/run_xdp_parse.bpf.o
if [ -f "$obj" ]; then
	run_comb disasm --jit "$obj" --prog xdp_parse
	expect "disasm --jit object" 0 '^<xdp_parse>: section xdp'
	if grep -Eq $'^ *[0-9]+:\t.*call ' "$OUT" && grep -Eq $'^\t\t.*\tcall |^\t\t.* call 0x' "$OUT"
	then pass; else fail "object listing lacks the native call of a subprogram"; fi
else
	echo "SKIP: $obj not built"
fi

# Legacy packet loads run in the interpreter: no native code to show.
printf 'ldabsb 0\nexit\n' >ldabs.s
run_comb disasm --jit ldabs.s
expect "disasm --jit of an interpreted program" 1 '' 'JIT does not compile this program'

e2e_summary
