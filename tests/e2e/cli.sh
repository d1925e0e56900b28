#!/usr/bin/env bash
# tests/e2e/cli.sh - end-to-end tests of the comb command-line tool.
#
# Usage: tests/e2e/cli.sh BUILD_DIR   (BUILD_DIR holds the comb binary)
#
# Each check runs comb as a user would and asserts its exit status, stdout
# and stderr. Bad input must give a message and exit 1 (2 for usage), never
# a crash. With the conformance suite present ($CONFORMANCE_DIR or
# /work/shared/conformance) every file's program also goes through the
# asm -> disasm --syntax conformance -> asm round trip, and the suite runs
# in both engines. Ends with `cli: N passed, N failed`; exits 1 on failure.
set -u
. "$(cd "$(dirname "$0")" && pwd)/assert.bash"

e2e_setup cli "${1:-}"
CONF_DIR=${CONFORMANCE_DIR:-/work/shared/conformance}
cd "$TMP" || exit 1

# --- assertion helpers (and tests/e2e/assert.bash) ------------------------

run_comb_stdin() { # INPUT ARGS...
	local input=$1
	shift
	printf '%s' "$input" | "$COMB" "$@" >"$OUT" 2>"$ERR"
	rc=$?
}

# expect_stdout NAME RC EXACT_STDOUT
expect_stdout() {
	local name=$1 want_rc=$2 want_out=$3
	if [ "$rc" != "$want_rc" ]; then
		fail "$name: exit status $rc, expected $want_rc"
	elif [ "$(cat "$OUT")" != "$want_out" ]; then
		fail "$name: stdout '$(head -c 200 "$OUT")', expected '$want_out'"
	else
		pass
	fi
}


hexdump_file() { od -An -tx1 -v "$1" | tr -s ' \n' ' ' | sed 's/^ //; s/ $//'; }

# --- test programs ------------------------------------------------------

printf 'mov32 %%r0, 42\nexit\n' >answer.s
printf 'ldxb %%r0, [%%r1+2]\nexit\n' >load2.s
printf 'mov %%r0, %%r2\nexit\n' >memlen.s
printf 'mov %%r0, %%r1\nexit\n' >memptr.s
printf 'stb [%%r1], 7\nldxb %%r0, [%%r1]\nexit\n' >store.s
printf 'ldxb %%r0, [%%r1+100]\nexit\n' >oob.s
printf 'call 5\nmov %%r0, 1\nexit\n' >ktime.s
printf 'call 99\nexit\n' >nohelper.s
printf 'mov32 %%r0, 1\nfrobnicate %%r1\nexit\n' >bad.s
: >empty.s
: >empty.bin
printf '\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00' >object.o
printf '\xb4\x00\x00\x00\x2a\x00\x00\x00\x95\x00\x00\x00\x00' >truncated.bin
printf '\xff\x00\x00\x00\x00\x00\x00\x00\x95\x00\x00\x00\x00\x00\x00\x00' >badop.bin
printf '\x00\x01\xff' >mem3.bin
ANSWER_HEX="b4 00 00 00 2a 00 00 00 95 00 00 00 00 00 00 00"

# --- help and version ---------------------------------------------------

run_comb --version;            expect "--version" 0 '^comb [0-9]+\.[0-9]+\.[0-9]+$'
run_comb help;                 expect "help lists commands" 0 'conformance-plugin'
run_comb --help;               expect "--help" 0 'disasm'
run_comb help run;             expect "help run" 0 '--repeat'
run_comb run --help;           expect "run --help" 0 '--mem-file'
run_comb asm --help;           expect "asm --help" 0 'comb asm'
run_comb help nosuch;          expect "help unknown command" 2 '' 'unknown command'
run_comb;                      expect "no command" 2 '' 'usage'
run_comb frobnicate;           expect "unknown command" 2 '' "unknown command 'frobnicate'"

# --- asm ----------------------------------------------------------------

run_comb asm answer.s -o answer.bin; expect "asm -o" 0
check "asm writes 16 bytes" test "$(wc -c <answer.bin)" -eq 16
check "asm bytes are little-endian slots" test "$(hexdump_file answer.bin)" = "$ANSWER_HEX"
run_comb asm answer.s;          expect "asm to a pipe" 0
check "asm to stdout equals -o" cmp -s "$OUT" answer.bin
"$COMB" asm - -o stdin.bin <answer.s >"$OUT" 2>"$ERR"; rc=$?
expect "asm from stdin" 0
check "asm from stdin equals file" cmp -s stdin.bin answer.bin
run_comb asm bad.s -o bad.bin;  expect "asm bad line" 1 '' '^comb: bad\.s: line 2, column [0-9]+: '
check "asm error leaves no output file" test ! -e bad.bin
run_comb asm missing.s -o x.bin; expect "asm missing file" 1 '' '^comb: missing\.s: cannot open'
run_comb asm empty.s -o x.bin;  expect "asm empty file" 1 '' 'empty\.s'
run_comb asm badop.bin -o x.bin; expect "asm binary input" 1 '' 'badop\.bin'
run_comb asm;                   expect "asm without input" 2 '' 'missing the input'
run_comb asm answer.s -o;       expect "asm -o without file" 2 '' 'needs a file'
run_comb asm answer.s --bogus;  expect "asm unknown option" 2 '' "unknown option '--bogus'"
run_comb asm answer.s bad.s;    expect "asm two inputs" 2
if command -v script >/dev/null 2>&1; then
	script -qec "$COMB asm answer.s" /dev/null >"$OUT" 2>"$ERR" </dev/null; rc=$?
	if [ "$rc" = 2 ] && grep -q 'terminal' "$OUT"; then pass; else fail "asm refuses a terminal (rc $rc)"; fi
fi

# --- disasm -------------------------------------------------------------

run_comb disasm answer.bin
expect "disasm llvm style" 0 $'^       0:\tb4 00 00 00 2a 00 00 00\t'
check "disasm llvm: one line per insn" test "$(wc -l <"$OUT")" -eq 2
check "disasm llvm: exit" grep -Eq $'^       1:\t95 00 00 00 00 00 00 00\texit$' "$OUT"
run_comb disasm answer.s;       expect "disasm of .s assembles first" 0 $'^       0:\tb4 00 00 00 2a'
run_comb disasm answer.bin --syntax conformance
expect "disasm conformance" 0 '^mov32 %r0, (42|0x2a)$'
check "disasm conformance has no index" test "$(wc -l <"$OUT")" -eq 2
cp "$OUT" answer_rt.s
run_comb asm answer_rt.s -o answer_rt.bin; expect "reassemble disasm output" 0
check "disasm/asm round trip" cmp -s answer.bin answer_rt.bin
run_comb disasm answer.bin --syntax=llvm; expect "disasm --syntax=llvm" 0 'exit'
run_comb disasm truncated.bin;  expect "disasm truncated .bin" 1 '' '^comb: truncated\.bin: .*multiple of 8'
run_comb disasm empty.bin;      expect "disasm empty .bin" 1 '' 'empty\.bin: empty'
run_comb disasm badop.bin;      expect "disasm invalid opcode" 1 '' '^comb: badop\.bin: insn 0: '
run_comb disasm object.o;       expect "disasm broken ELF" 1 '' '^comb: object\.o: '
run_comb disasm missing.bin;    expect "disasm missing file" 1 '' 'missing\.bin: cannot open'
run_comb disasm bad.s;          expect "disasm bad assembly" 1 '' 'bad\.s: line 2'
run_comb disasm answer.bin --syntax intel; expect "disasm bad syntax" 2 '' "unknown syntax 'intel'"
run_comb disasm answer.bin --syntax; expect "disasm --syntax without value" 2
run_comb disasm;                expect "disasm without input" 2
run_comb disasm "$TMP";         expect "disasm a directory" 1 '' 'is a directory'

# --- run ----------------------------------------------------------------

run_comb run answer.s;          expect_stdout "run .s" 0 "0x2a"
run_comb run answer.bin;        expect_stdout "run .bin" 0 "0x2a"
cp answer.bin answer.noext
run_comb run answer.noext;      expect_stdout "run detects raw content" 0 "0x2a"
for engine in checked interp jit; do
	run_comb run answer.s --engine $engine; expect_stdout "run --engine $engine" 0 "0x2a"
done
# r1 = the memory, r2 = its length: unverified programs in the checked engine.
run_comb run load2.s --no-verify --mem "00 01 ff"; expect_stdout "run --mem spaced" 0 "0xff"
run_comb run store.s --no-verify --engine checked --mem 00; expect_stdout "run writes memory" 0 "0x7"
run_comb run load2.s --no-verify --mem 0001ff;        expect_stdout "run --mem packed" 0 "0xff"
run_comb run load2.s --no-verify --mem=0x00,0x01,0xfe; expect_stdout "run --mem=0x.." 0 "0xfe"
run_comb run load2.s --no-verify --mem-file mem3.bin; expect_stdout "run --mem-file" 0 "0xff"
run_comb run memlen.s --no-verify --mem "00 01 02 03"; expect_stdout "run r2 = memory length" 0 "0x4"
run_comb run memptr.s --no-verify;                    expect_stdout "run r1 = 0 without memory" 0 "0x0"
run_comb run memlen.s --no-verify;                    expect_stdout "run r2 = 0 without memory" 0 "0x0"
run_comb run ktime.s;                     expect_stdout "run calls helper 5" 0 "0x1"
# Verified first: the default engine of a verified program is the JIT.
run_comb run answer.s --json
check "run --json: verified program runs in the jit" grep -q '"engine": "jit", "verified": true' "$OUT"
run_comb run answer.s --json --no-verify
check "run --json --no-verify: checked engine" grep -q '"engine": "checked", "verified": false' "$OUT"
run_comb run memlen.s;          expect "run rejects an unverifiable program" 1 '' '^comb: memlen\.s: verifier: insn 0: .*r2'
run_comb run store.s --mem 00 --type kprobe; expect "run --type kprobe: context is read-only" 1 '' '^comb: store\.s: verifier: insn 0: '
run_comb run load2.s --no-verify --engine interp; expect "run --no-verify --engine interp" 2 '' 'no-verify runs only in the checked interpreter'
run_comb run load2.s --no-verify --engine jit;    expect "run --no-verify --engine jit" 2 '' 'no-verify runs only in the checked interpreter'
run_comb run answer.s --type nosuch;              expect "run --type unknown" 2 '' '--type takes a program type'
run_comb run answer.s --repeat 5
expect "run --repeat" 0 '^ns_per_run: [0-9]+$'
check "run --repeat prints r0 first" test "$(head -1 "$OUT")" = "0x2a"
check "run --repeat prints two lines" test "$(wc -l <"$OUT")" -eq 2
run_comb run answer.s --json --repeat 3 --engine interp
expect "run --json" 0 '"r0": "0x2a"'
check "run --json: one line" test "$(wc -l <"$OUT")" -eq 1
check "run --json fields" grep -q '"runs": 3.*"ns_per_run": [0-9]*.*"engine": "interp"' "$OUT"
if command -v python3 >/dev/null 2>&1; then
	check "run --json is valid JSON" python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["r0"]=="0x2a" and d["runs"]==3' "$OUT"
fi

run_comb run oob.s --no-verify --mem 00; expect "run out-of-bounds load" 1 '' '^comb: oob\.s: insn 0: '
run_comb run load2.s --no-verify; expect "run null memory access" 1 '' '^comb: load2\.s: insn 0: '
run_comb run nohelper.s;        expect "run unknown helper" 1 '' '^comb: nohelper\.s: (verifier: )?insn 0'
run_comb run object.o;          expect "run broken ELF" 1 '' '^comb: object\.o: '
run_comb run missing.s;         expect "run missing file" 1 '' 'missing\.s: cannot open'
run_comb run empty.s;           expect "run empty .s" 1 '' 'empty\.s'
run_comb run empty.bin;         expect "run empty .bin" 1 '' 'empty\.bin'
run_comb run truncated.bin;     expect "run truncated .bin" 1 '' 'multiple of 8'
run_comb run badop.bin;         expect "run invalid opcode" 1 '' 'badop\.bin: insn 0'
run_comb run bad.s;             expect "run bad assembly" 1 '' 'bad\.s: line 2, column'
run_comb run load2.s --mem zz;  expect "run bad hex" 1 '' "bad hex digit 'z'"
run_comb run load2.s --mem 001; expect "run odd hex" 1 '' 'odd number of hex digits'
run_comb run load2.s --mem-file missing.bin; expect "run missing --mem-file" 1 '' 'missing\.bin'
run_comb run load2.s --mem 00 --mem-file mem3.bin; expect "run --mem and --mem-file" 2
run_comb run answer.s --repeat 0;   expect "run --repeat 0" 2 '' '--repeat'
run_comb run answer.s --repeat abc; expect "run --repeat abc" 2 '' '--repeat'
run_comb run answer.s --repeat 99999999999999999999999; expect "run huge --repeat" 2 '' '--repeat'
run_comb run answer.s --repeat -5;  expect "run negative --repeat" 2
run_comb run answer.s --repeat;     expect "run --repeat without value" 2
run_comb run answer.s --engine turbo; expect "run unknown engine" 2 '' 'interp, checked or jit'
run_comb run answer.s --frob;       expect "run unknown option" 2 '' "unknown option '--frob'"
run_comb run;                       expect "run without program" 2
run_comb run answer.s load2.s;      expect "run two programs" 2

# --- conformance ----------------------------------------------------------

mkdir suite empty_suite
cat >suite/a_pass.data <<'T'
# a comment
-- asm
mov %r0, 3
add %r0, 4
exit
-- result
0x7
T
cat >suite/b_mem.data <<'T'
-- asm
ldxh %r0, [%r1]
exit
-- mem
34 12
-- result
0x1234
T
cat >suite/c_raw.data <<'T'
-- asm
this is not assembly and is ignored because raw wins
-- raw
0x00000005000000b7
0x0000000000000095
-- result
5
T
cat >suite/d_error.data <<'T'
-- asm
ldxb %r0, [%r1+8]
exit
-- mem
00
-- error
memory access out of bounds
T
cat >suite/e_wrong.data <<'T'
-- asm
mov %r0, 1
exit
-- result
0x2
T
cat >suite/f_badasm.data <<'T'
-- asm
mov %r0, 1
bogus %r9
exit
-- result
0x1
T
echo "not a test" >suite/README.md
run_comb conformance suite
expect "conformance tally" 1 '^4 passed, 2 failed$' '' quiet
check "conformance: tally is the last line" test "$(tail -1 "$OUT")" = "4 passed, 2 failed"
check "conformance: sorted PASS lines" test "$(grep -c '^PASS ' "$OUT")" = 4
check "conformance: first test" test "$(head -1 "$OUT")" = "PASS a_pass"
check "conformance: raw overrides asm" grep -qx 'PASS c_raw' "$OUT"
check "conformance: -- error" grep -qx 'PASS d_error' "$OUT"
check "conformance: wrong result" grep -qx 'FAIL e_wrong: expected 0x2, got 0x1' "$OUT"
check "conformance: assembly error" grep -q '^FAIL f_badasm: .*line 3' "$OUT"
run_comb conformance suite --verbose
expect "conformance --verbose" 1 '^PASS a_pass \(' '' quiet
check "conformance --verbose shows the failing program" grep -q '^ *0: mov' "$OUT"
rm suite/e_wrong.data suite/f_badasm.data
run_comb conformance suite;     expect "conformance all pass" 0 '^4 passed, 0 failed$'
# The interpreter trusts programs: no out-of-bounds test for it.
rm suite/d_error.data
run_comb conformance suite --engine interp; expect "conformance --engine interp" 0 '^3 passed, 0 failed$'
run_comb conformance empty_suite; expect "conformance empty dir" 1 '' 'no \*\.data'
run_comb conformance nosuchdir; expect "conformance missing dir" 1 '' 'nosuchdir: cannot read'
run_comb conformance;           expect "conformance without dir" 2
run_comb conformance suite --engine x; expect "conformance bad engine" 2

# --- conformance-plugin ---------------------------------------------------

run_comb_stdin "$ANSWER_HEX" conformance-plugin
expect_stdout "plugin: program on stdin" 0 "2a"
run_comb_stdin "b40000002a0000009500000000000000" conformance-plugin --engine interp
expect_stdout "plugin: packed hex, --engine interp" 0 "2a"
LOAD2_HEX="71 10 02 00 00 00 00 00 95 00 00 00 00 00 00 00"
run_comb_stdin "$LOAD2_HEX"$'\n' conformance-plugin "00 01 ff"
expect_stdout "plugin: memory as one argument" 0 "ff"
run_comb_stdin "$LOAD2_HEX" conformance-plugin 00 01 fe --jit --unknown-option
expect_stdout "plugin: memory as arguments, unknown options ignored" 0 "fe"
run_comb_stdin "$LOAD2_HEX" conformance-plugin "00"
expect "plugin: memory fault" 1 '' 'insn 0'
run_comb_stdin "zz 00" conformance-plugin;  expect "plugin: bad program hex" 1 '' 'bad hex digit'
run_comb_stdin "" conformance-plugin;       expect "plugin: empty program" 1 '' 'empty'
run_comb_stdin "b4 00 00" conformance-plugin; expect "plugin: truncated program" 1 '' 'multiple of 8'
run_comb_stdin "$ANSWER_HEX" conformance-plugin "0g"; expect "plugin: bad memory hex" 1 '' 'memory'

# --- the conformance suite: round trip and both engines --------------------

if [ -d "$CONF_DIR" ]; then
	rt_ok=0
	for data in "$CONF_DIR"/*.data; do
		name=$(basename "$data" .data)
		awk '/^--/ { in_asm = ($0 ~ /^-- *asm *$/); print ""; next }
		     { print (in_asm && $0 !~ /^#/) ? $0 : "" }' "$data" >rt.s
		if ! "$COMB" asm rt.s -o rt1.bin 2>"$ERR" >"$OUT"; then
			fail "round trip $name: asm failed"; continue
		fi
		if ! "$COMB" disasm rt1.bin >"$OUT" 2>"$ERR"; then
			fail "round trip $name: disasm (llvm) failed"; continue
		fi
		if ! "$COMB" disasm --syntax conformance rt1.bin >rt2.s 2>"$ERR"; then
			fail "round trip $name: disasm --syntax conformance failed"; continue
		fi
		if ! "$COMB" asm rt2.s -o rt2.bin 2>"$ERR" >"$OUT"; then
			cp rt2.s "$OUT"; fail "round trip $name: reassembling the disassembly failed"; continue
		fi
		if ! cmp -s rt1.bin rt2.bin; then
			diff <(od -An -tx1 rt1.bin) <(od -An -tx1 rt2.bin) >"$OUT"
			fail "round trip $name: bytes differ"; continue
		fi
		rt_ok=$((rt_ok + 1))
	done
	check "round trip: every conformance file ($rt_ok ok)" test "$rt_ok" -gt 0
	for engine in checked interp; do
		run_comb conformance "$CONF_DIR" --engine $engine
		expect "conformance suite ($engine)" 0 '^[0-9]+ passed, 0 failed$'
		grep '^FAIL' "$OUT" | head -20 | sed "s/^/    $engine: /"
	done
else
	echo "cli: skipping the conformance suite checks: $CONF_DIR not found"
fi

e2e_summary
