#!/usr/bin/env bash
# tests/e2e/objects.sh - the comb CLI on clang-built ELF objects.
#
# Usage: tests/e2e/objects.sh BUILD_DIR   (BUILD_DIR holds comb and progs/)
#
# Runs `comb prog list`, `comb map list`, `comb run` and `comb disasm` on
# the objects built from tests/progs/run_*.bpf.c and checks exit status,
# stdout and stderr: program and map listings (text and JSON), packet
# programs run on --mem/--mem-file packets (r0 as BPF_PROG_TEST_RUN gives
# it), disassembly with source lines, and errors for a missing --prog name,
# several programs without --prog, a truncated object, a corrupted section
# header offset and a file that is not ELF. Ends with
# `objects: N passed, N failed`; exits 1 on failure.
set -u
. "$(cd "$(dirname "$0")" && pwd)/assert.bash"

e2e_setup objects "${1:-}"
PROGS=$BUILD_DIR/progs
cd "$TMP" || exit 1

# expect_json NAME: the last stdout is one valid JSON document.
expect_json() {
	if ! command -v python3 >/dev/null; then
		pass
	elif python3 -c 'import json, sys; json.load(sys.stdin)' <"$OUT" 2>/dev/null; then
		pass
	else
		fail "$1: stdout is not valid JSON"
	fi
}

# expect_lines NAME REGEX MIN: at least MIN stdout lines match REGEX.
expect_lines() {
	local n
	n=$(grep -Ec -- "$2" "$OUT")
	if [ "$n" -ge "$3" ]; then pass; else fail "$1: $n lines match /$2/, expected >= $3"; fi
}

XDP=$PROGS/run_xdp_parse.bpf.o
GLOBALS=$PROGS/run_xdp_globals.bpf.o
SOCKET=$PROGS/run_socket_filter.bpf.o
TC=$PROGS/run_tc_ttl.bpf.o
for o in "$XDP" "$GLOBALS" "$SOCKET" "$TC"; do
	[ -f "$o" ] || { echo "objects: $o is missing (build it with make)"; echo "objects: 0 passed, 1 failed"; exit 1; }
done

# Ethernet + IPv4 (valid checksum) + UDP 12345 -> PORT, payload "hi".
udp_to() { # PORT_HEX_BYTES
	echo "02 00 00 00 00 02 02 00 00 00 00 01 08 00 45 00 00 1e 00 01 00 00 40 11 66 cc" \
	     "0a 00 00 01 0a 00 00 02 30 39 $1 00 0a 00 00 68 69"
}
UDP_DNS=$(udp_to "00 35")
UDP_ECHO=$(udp_to "00 07")
UDP_8080=$(udp_to "1f 90")
UDP_TTL1="02 00 00 00 00 02 02 00 00 00 00 01 08 00 45 00 00 1e 00 01 00 00 01 11 a5 cc 0a 00 00 01 0a 00 00 02 30 39 1f 90 00 0a 00 00 68 69"
ARP="ff ff ff ff ff ff 02 00 00 00 00 01 08 06 00 01 08 00 06 04 00 01"

# --- help -------------------------------------------------------------------

run_comb help;                 expect "help lists prog" 0 '^  prog +list the programs'
run_comb help;                 expect "help lists map" 0 '^  map +list the maps'
run_comb help prog;            expect "help prog" 0 'comb prog list FILE.o'
run_comb map --help;           expect "map --help" 0 'comb map list FILE.o'
run_comb help run;             expect "help run mentions --prog" 0 '--prog NAME'

# --- prog list ----------------------------------------------------------------

run_comb prog list "$XDP";     expect "prog list xdp" 0 '^0: xdp  name xdp_parse  section xdp  insns [0-9]+$'
run_comb prog list "$GLOBALS"; expect "prog list two programs in one section" 0 '^1: xdp  name xdp_count  section xdp  insns [0-9]+$'
expect_lines "prog list lists both" '^[01]: xdp  name xdp_(hash|count)' 2
run_comb prog list "$SOCKET";  expect "prog list socket" 0 '^0: socket_filter  name socket_snap  section socket  insns'
run_comb prog list "$TC";      expect "prog list tc" 0 '^0: sched_cls  name tc_ttl  section tc  insns'
run_comb prog show "$TC";      expect "prog show is list" 0 'name tc_ttl'
run_comb prog list "$GLOBALS" --json
expect "prog list --json" 0 '"name": "xdp_count", "section": "xdp", "type": "xdp", "type_id": 6'
expect_json "prog list --json"

# --- map list -----------------------------------------------------------------

run_comb map list "$XDP";      expect "map list array" 0 '^[0-9]+: array  name verdicts  key 4B  value 8B  max_entries 4  flags 0x0$'
run_comb map list "$XDP";      expect "map list hash" 0 '^[0-9]+: hash  name ports  key 2B  value 16B  max_entries 64  flags 0x0$'
run_comb map list "$XDP";      expect "map list percpu" 0 '^[0-9]+: percpu_array  name proto_bytes  key 4B  value 8B  max_entries 2'
run_comb map list "$XDP";      expect "map list .rodata" 0 'array  name \.rodata  key 4B  value 8B  max_entries 1  flags 0x480  global_data'
run_comb map list "$XDP";      expect "map list .bss" 0 'name \.bss  key 4B  value 22B  max_entries 1 .*global_data'
run_comb map list "$XDP";      expect "map list .data" 0 'name \.data  key 4B  value 16B'
expect_lines "map list: six maps" '^[0-9]+: ' 6
run_comb map list "$SOCKET" --json
expect "map list --json" 0 '"name": "sources", "type": "hash", "type_id": 1, "key_size": 4, "value_size": 4, "max_entries": 32'
expect_json "map list --json"

# --- run ------------------------------------------------------------------------

# Each program in both engines: the JIT (the default) and the interpreter.
for engine in jit interp; do
	E=(--engine "$engine")
	run_comb run "$XDP" --mem "$UDP_DNS" "${E[@]}";  expect "run xdp ($engine): blocked port drops" 0 '^0x1$'
	run_comb run "$XDP" --mem "$UDP_ECHO" "${E[@]}"; expect "run xdp ($engine): echo port transmits" 0 '^0x3$'
	run_comb run "$XDP" --mem "$UDP_8080" "${E[@]}"; expect "run xdp ($engine): other port passes" 0 '^0x2$'
	run_comb run "$XDP" --mem "$ARP" "${E[@]}";      expect "run xdp ($engine): non-IP passes" 0 '^0x2$'
	# Socket filters see the packet from the network header: skb->len = 44 - 14.
	run_comb run "$SOCKET" --mem "$UDP_8080" "${E[@]}"; expect "run socket filter ($engine): keep all of UDP" 0 '^0x1e$'
	run_comb run "$SOCKET" --mem "$ARP" "${E[@]}";      expect "run socket filter ($engine): drop non-IP" 0 '^0x0$'
	run_comb run "$TC" --mem "$UDP_8080" "${E[@]}";     expect "run tc ($engine): TC_ACT_OK" 0 '^0x0$'
	run_comb run "$TC" --mem "$UDP_TTL1" "${E[@]}";     expect "run tc ($engine): TTL 1 is TC_ACT_SHOT" 0 '^0x2$'
	run_comb run "$GLOBALS" --prog xdp_count --mem "$UDP_8080" "${E[@]}"
	expect "run --prog in a shared section ($engine)" 0 '^0x1$'
	run_comb run "$GLOBALS" --prog xdp_hash --mem "$UDP_8080" "${E[@]}"
	expect "run --prog xdp_hash ($engine)" 0 '^0x[123]$'
done
run_comb run "$XDP" --prog xdp_parse --mem "$UDP_ECHO" --json
expect "run --json" 0 '^\{"r0": "0x3", "runs": 1, "ns_per_run": [0-9]+, "engine": "jit", "verified": true\}$'
expect_json "run --json"
run_comb run "$XDP" --mem "$UDP_ECHO" --repeat 5
expect "run --repeat" 0 '^ns_per_run: [0-9]+$'
printf '%s' "$UDP_8080" | xxd -r -p >udp8080.bin 2>/dev/null || python3 -c "import sys; sys.stdout.buffer.write(bytes.fromhex(sys.argv[1]))" "$UDP_8080" >udp8080.bin
run_comb run "$XDP" --mem-file udp8080.bin; expect "run --mem-file" 0 '^0x2$'

run_comb run "$GLOBALS" --mem "$UDP_8080"
expect "run: several programs need --prog" 1 '' "run_xdp_globals\.bpf\.o: .*2 programs \(xdp_hash, xdp_count\).*--prog"
run_comb run "$XDP" --prog nope --mem "$UDP_8080"
expect "run: unknown --prog" 1 '' "run_xdp_parse\.bpf\.o: no program named 'nope'; the object has: xdp_parse"
run_comb run "$XDP"
expect "run xdp without a packet" 1 '' 'run_xdp_parse\.bpf\.o: program xdp_parse: .*Ethernet header'
run_comb run "$XDP" --prog;    expect "run --prog without a name" 2 '' '--prog needs a program name'
printf 'mov %%r0, 1\nexit\n' >one.s
# Verified before running: a rejected object fails with the verifier's message
# (instruction and source line); --no-verify runs it in the checked engine,
# which catches the fault; a verified program runs in the JIT by default.
UNSAFE=$PROGS/verify_unsafe.bpf.o SAFE=$PROGS/verify_safe.bpf.o
run_comb run "$UNSAFE" --prog unsafe_null_deref --mem "$UDP_8080"
expect "run: a rejected object fails" 1 '' 'verify_unsafe\.bpf\.o: prog unsafe_[a-z_]+ \(section [a-z/_]+\): verifier: verify_unsafe\.bpf\.c:[0-9]+: insn [0-9]+: .*\[.+\]$'
run_comb run "$UNSAFE" --prog unsafe_null_deref --mem "$UDP_8080" --no-verify
expect "run --no-verify: the checked engine catches the fault" 1 '' 'program unsafe_null_deref: insn [0-9]+: read of 8 bytes at 0x0 is outside the stack'
run_comb run "$UNSAFE" --prog unsafe_null_deref --no-verify --engine jit
expect "run --no-verify --engine jit is refused" 2 '' 'no-verify runs only in the checked interpreter'
run_comb run "$SAFE" --prog safe_xdp_pass --mem "$UDP_8080" --json
expect "run: verified object" 0 '"verified": true'
check "run: a verified program's default engine is the jit" grep -q '"engine": "jit"' "$OUT"
run_comb run "$SAFE" --prog safe_xdp_pass --mem "$UDP_8080" --json --engine interp
check "run --engine interp on a verified program" grep -q '"engine": "interp", "verified": true' "$OUT"

run_comb run one.s --prog x;   expect "run --prog on assembly" 1 '' 'one\.s: --prog selects a program of an ELF object'
run_comb run one.s;            expect "run assembly still works" 0 '^0x1$'

# --- disasm ---------------------------------------------------------------------

run_comb disasm "$XDP";        expect "disasm object" 0 '^<xdp_parse>: section xdp$'
expect_lines "disasm: source lines from line_info" '^; .*run_xdp_parse\.bpf\.c:[0-9]+' 10
expect_lines "disasm: the source text itself" '^; .*bpf_map_lookup_elem\(&verdicts' 1
expect_lines "disasm: instructions" '^ +[0-9]+:	[0-9a-f]{2} ' 100
expect_lines "disasm: helper calls" '	call (0x)?[0-9a-f]+$|call bpf_map|call 0x1$' 1
first=$(grep -nE '^ +0:' "$OUT" | head -n 1 | cut -d: -f1)
if [ -n "$first" ] && [ "$first" -gt 1 ] && sed -n "$((first - 1))p" "$OUT" | grep -q '^; '; then
	pass
else
	fail "disasm: a source line comes before instruction 0"
fi
run_comb disasm "$GLOBALS" --prog xdp_count; expect "disasm --prog" 0 '^<xdp_count>: section xdp$'
if grep -q '<xdp_hash>' "$OUT"; then fail "disasm --prog shows only that program"; else pass; fi
run_comb disasm "$GLOBALS";    expect "disasm every program" 0 '^<xdp_hash>'
expect_lines "disasm every program: both headings" '^<xdp_(hash|count)>' 2
run_comb disasm "$GLOBALS" --syntax conformance --prog xdp_hash
expect "disasm --syntax conformance on an object" 0 '^exit$'
run_comb disasm "$GLOBALS" --prog nope
expect "disasm: unknown --prog" 1 '' "no program named 'nope'; the object has: xdp_hash, xdp_count"

# --- bad objects ------------------------------------------------------------------

head -c 3000 "$XDP" >truncated.o
for cmd in "prog list" "map list" "run" "disasm"; do
	# shellcheck disable=SC2086
	run_comb $cmd truncated.o
	expect "$cmd on a truncated object" 1 '' '^comb: truncated\.o: '
done
# e_shoff (offset 40, 8 bytes) far beyond the end of the file.
cp "$XDP" badshoff.o
printf '\xff\xff\xff\x7f\x00\x00\x00\x00' | dd of=badshoff.o bs=1 seek=40 conv=notrunc status=none
run_comb prog list badshoff.o; expect "prog list: section headers out of the file" 1 '' '^comb: badshoff\.o: '
run_comb run badshoff.o --mem "$UDP_8080"; expect "run: section headers out of the file" 1 '' '^comb: badshoff\.o: '
# Section names pointing nowhere: overwrite e_shstrndx (offset 62) with a bad index.
cp "$XDP" badstrndx.o
printf '\xf0\x00' | dd of=badstrndx.o bs=1 seek=62 conv=notrunc status=none
run_comb map list badstrndx.o; expect "map list: bad section name table" 1 '' '^comb: badstrndx\.o: '
echo "this is not an object" >notelf.o
run_comb prog list notelf.o;   expect "prog list on a non-ELF file" 1 '' 'notelf\.o: not an ELF object'
run_comb map list notelf.o;    expect "map list on a non-ELF file" 1 '' 'notelf\.o: not an ELF object'
run_comb prog list missing.o;  expect "prog list on a missing file" 1 '' 'missing\.o: cannot open'

# --- usage errors ------------------------------------------------------------------

run_comb prog;                 expect "prog without an action" 2 '' 'missing the action'
run_comb prog frob "$XDP";     expect "prog with an unknown action" 2 '' "unknown action 'frob'"
run_comb map list;             expect "map list without a file" 2 '' 'missing the object file'
run_comb map list "$XDP" "$TC"; expect "map list with two files" 2 '' 'more than one object'
run_comb prog list "$XDP" --frob; expect "prog list with an unknown option" 2 '' "unknown option '--frob'"

e2e_summary
