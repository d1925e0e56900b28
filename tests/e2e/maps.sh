#!/usr/bin/env bash
# tests/e2e/maps.sh - `comb map` on pinned maps.
#
# Usage: tests/e2e/maps.sh BUILD_DIR   (BUILD_DIR holds comb and progs/)
#
# Pins the maps of run_xdp_parse.bpf.o (array, hash, per-CPU array, global
# data), obj_globals.bpf.o and helpers_maps.bpf.o (queue) into a private
# pin directory (mktemp -d, always passed as --dir or absolute paths), then
# drives them through `comb map`: list --pinned (text and JSON), pin
# without and with --force, update/lookup/delete in every key syntax with
# BPF_ANY/NOEXIST/EXIST, dump (text in bpftool's format, --json parsed with
# python3), per-CPU values (one for all CPUs and one per CPU), a full hash
# map, an array index out of range, wrong key/value sizes, bad hex, a
# missing pin, and pins that are not comb maps (text file, truncated file,
# bad magic, corrupted data, FIFO, symlink to a device). Checks exit status,
# stdout and stderr. Ends with `maps: N passed, N failed`; exits 1 on failure.
set -u
. "$(cd "$(dirname "$0")" && pwd)/assert.bash"

e2e_setup maps "${1:-}"
XDP=$BUILD_DIR/progs/run_xdp_parse.bpf.o
GLOBALS=$BUILD_DIR/progs/obj_globals.bpf.o
QUEUES=$BUILD_DIR/progs/helpers_maps.bpf.o
TYPED=$BUILD_DIR/progs/map_typed.bpf.o
e2e_require "$XDP" "$GLOBALS" "$QUEUES" "$TYPED"
PIN=$TMP/pins
CPUS=$(getconf _NPROCESSORS_CONF)

# expect_stdout NAME TEXT: the last run's whole stdout is TEXT.
expect_stdout() {
	if [ "$rc" != 0 ]; then
		fail "$1: exit status $rc"
	elif [ "$(cat "$OUT")" != "$2" ]; then
		fail "$1: stdout differs"
		printf '%s\n' "$2" | sed 's/^/    expected: /'
	else
		pass
	fi
}

# expect_python NAME CODE: python3 CODE reads the last stdout as JSON in
# `d` and must exit 0.
expect_python() {
	if python3 -c "import json,sys; d=json.load(open(sys.argv[1])); $2" "$OUT" 2>"$TMP/py"; then
		pass
	else
		fail "$1: python check failed: $(tail -n 1 "$TMP/py")"
	fi
}

zeros() { printf '%0*d' $(($1 * 2)) 0; } # N zero bytes in hex

# --- pin -------------------------------------------------------------------

run_comb map pin "$XDP" --dir "$PIN"
expect "pin all maps" 0 '^pinned ports at '"$PIN"'/ports$'
expect "pin: global data too" 0 '^pinned \.rodata at '
[ "$(grep -c '^pinned ' "$OUT")" = 6 ] && pass || fail "pin: six maps pinned"
[ -f "$PIN/verdicts" ] && [ -f "$PIN/proto_bytes" ] && pass || fail "pin: files exist"

run_comb map pin "$XDP" --dir "$PIN"
expect "pin again refuses" 1 '' 'proto_bytes: a pin with this name exists; not overwriting it \(use --force'
run_comb map pin "$XDP" --dir "$PIN" --force ports
expect "pin --force NAME" 0 '^pinned ports at '
[ "$(grep -c '^pinned ' "$OUT")" = 1 ] && pass || fail "pin --force NAME: only the named map"
run_comb map pin "$XDP" --dir "$PIN" nosuchmap
expect "pin an unknown NAME" 1 '' "no map named 'nosuchmap'"
run_comb map pin "$TMP/missing.o" --dir "$PIN"
expect "pin a missing object" 1 '' 'missing\.o'
run_comb map pin "$GLOBALS" --dir "$PIN/globals" obj_hash
expect "pin one map into a new dir" 0 "^pinned obj_hash at $PIN/globals/obj_hash\$"
[ "$(ls "$PIN/globals")" = obj_hash ] && pass || fail "pin NAME: only obj_hash pinned"
run_comb map pin
expect "pin without an object" 2 '' 'missing the object file'

# --- list --pinned -----------------------------------------------------------

run_comb map list --pinned "$PIN"
expect "list --pinned hash" 0 '^ports: hash  name ports  key 2B  value 16B  max_entries 64  flags 0x0$'
expect "list --pinned percpu" 0 '^proto_bytes: percpu_array  name proto_bytes  key 4B  value 8B  max_entries 2'
expect "list --pinned .rodata" 0 '^\.rodata: array  name \.rodata  key 4B  value 8B  max_entries 1  flags 0x480$'
[ "$(wc -l <"$OUT")" = 6 ] && pass || fail "list --pinned: six lines (subdirectory skipped)"
run_comb map list --pinned "$PIN" --json
expect_python "list --pinned --json" \
	"m={x['pin']:x for x in d}; assert len(d)==6; assert m['verdicts']['type']=='array'; assert m['ports']['max_entries']==64 and m['ports']['key_size']==2; assert m['proto_bytes']['path']=='$PIN/proto_bytes'"
run_comb map list --pinned "$TMP/nodir"
expect "list --pinned a missing dir" 1 '' 'cannot read the directory'
run_comb map list "$XDP"
expect "list FILE.o still works" 0 '^[0-9]+: hash  name ports  key 2B  value 16B'

# --- update, lookup, delete on a hash --------------------------------------

V1=0100000000000000ff00000000000000
run_comb map update "$PIN/ports" 3500 "$V1"
expect "update hex words" 0
run_comb map lookup --hex "$PIN/ports" 3500
expect_stdout "lookup (bpftool format)" "key: 35 00  value: 01 00 00 00 00 00 00 00  ff 00 00 00 00 00 00 00"
run_comb map lookup --hex "$PIN/ports" "35 00"
expect "lookup spaced bytes" 0 '^key: 35 00  value: 01 '
run_comb map lookup --hex "$PIN/ports" 0x35,0x00
expect "lookup 0x bytes" 0 '^key: 35 00  value: 01 '
run_comb map lookup --hex "$PIN/ports" key hex 35 0
expect "lookup bpftool key hex" 0 '^key: 35 00  value: 01 '
run_comb map lookup --hex "$PIN/ports" key 53 0
expect "lookup bpftool key decimal" 0 '^key: 35 00  value: 01 '
run_comb map lookup --hex "$PIN/ports" 3500 --json
expect_python "lookup --json" "assert d=={'key':['0x35','0x00'],'value':['0x01']+['0x00']*7+['0xff']+['0x00']*7}"
run_comb map update "$PIN/ports" key 7 0 value hex 2 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 noexist
expect "update bpftool form with noexist" 0
run_comb map lookup --hex "$PIN/ports" 0700
expect "lookup after bpftool update" 0 '^key: 07 00  value: 02 00 '
run_comb map update "$PIN/ports" 3500 "$V1" --flags noexist
expect "update noexist on an existing key" 1 '' 'key 35 00 already exists'
run_comb map update "$PIN/ports" 3600 "$V1" --flags exist
expect "update exist on a missing key" 1 '' 'key 36 00 not found'
run_comb map update "$PIN/ports" 3500 "$(zeros 16)" --flags exist
expect "update exist on an existing key" 0
run_comb map lookup --hex "$PIN/ports" 3500
expect "update exist changed the value" 0 '^key: 35 00  value: 00 00 00 00 00 00 00 00  00 '
run_comb map update "$PIN/ports" 3500 "$V1" --flags sometimes
expect "update with bad --flags" 2 '' "bad --flags 'sometimes'"
run_comb map delete "$PIN/ports" 3500
expect "delete" 0
run_comb map lookup --hex "$PIN/ports" 3500
expect "lookup a deleted key" 1 '' 'ports: key 35 00 not found'
run_comb map delete "$PIN/ports" 3500
expect "delete a missing key" 1 '' 'key 35 00 not found'

# --- dump ------------------------------------------------------------------

run_comb map dump --hex "$PIN/ports"
expect_stdout "dump hash" "key: 07 00  value: 02 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00
Found 1 element"
run_comb map dump --hex "$PIN/verdicts"
expect "dump array: every index" 0 '^key: 03 00 00 00  value: 00 00 00 00 00 00 00 00$'
expect "dump array: count" 0 '^Found 4 elements$'
run_comb map update "$PIN/verdicts" 02000000 2a00000000000000
run_comb map dump --hex "$PIN/verdicts" --json
expect_python "dump --json array" "assert len(d)==4; assert d[2]=={'key':['0x02','0x00','0x00','0x00'],'value':['0x2a']+['0x00']*7}"
run_comb map dump --hex "$PIN/.rodata"
expect "dump .rodata: globals filled in" 0 '^key: 00 00 00 00  value: 35 00 07 00 03 00 00 00$'
run_comb map update "$PIN/.rodata" 00000000 0000000000000000
expect "update .rodata refused: frozen at load" 1 '' 'map \.rodata is frozen: read-only from user space'
run_comb map freeze "$PIN/.rodata"
expect "freeze .rodata again" 1 '' 'already frozen'
( cd "$PIN" && "$COMB" map dump --hex ./verdicts >"$OUT" 2>"$ERR" ); rc=$?
expect "dump a relative path" 0 '^Found 4 elements$'
run_comb map dump --hex "$PIN/globals/obj_hash" --json
expect_python "dump --json empty" "assert d==[]"
run_comb map dump
expect "dump without a map" 2 '' 'missing the map'

# --- per-CPU -------------------------------------------------------------------

run_comb map update "$PIN/proto_bytes" 01000000 0807060504030201
expect "percpu: one value for every CPU" 0
run_comb map lookup --hex "$PIN/proto_bytes" 01000000
expect "percpu lookup: CPU 00" 0 '^value \(CPU 00\): 08 07 06 05 04 03 02 01$'
[ "$(grep -c '^value (CPU [0-9]*): 08 07 06 05 04 03 02 01$' "$OUT")" = "$CPUS" ] && pass ||
	fail "percpu lookup: every CPU's slot set"
head -n 2 "$OUT" | tr '\n' '|' | grep -q '^key:|01 00 00 00|$' && pass || fail "percpu lookup: key on its own line"
per_cpu=""
for ((c = 0; c < CPUS; c++)); do per_cpu+=$(printf '%02x00000000000000 ' $((c + 1))); done
run_comb map update "$PIN/proto_bytes" 00000000 "$per_cpu"
expect "percpu: one value per CPU" 0
run_comb map dump --hex "$PIN/proto_bytes" --json
expect_python "percpu dump --json" \
	"assert len(d)==2; v=d[0]['values']; assert len(v)==$CPUS; assert all(x['cpu']==i and x['value'][0]=='0x%02x'%(i+1) for i,x in enumerate(v)); assert d[1]['values'][-1]['value']==['0x08','0x07','0x06','0x05','0x04','0x03','0x02','0x01']"
run_comb map dump --hex "$PIN/proto_bytes"
expect "percpu dump text" 0 '^Found 2 elements$'
run_comb map update "$PIN/proto_bytes" 00000000 01020304
expect "percpu: wrong value size" 1 '' 'VALUE is 4 bytes, per-CPU map proto_bytes needs 8 \(for every CPU\)'

# --- sizes, hex, arrays -------------------------------------------------------------

run_comb map lookup --hex "$PIN/ports" 350000
expect "key too long" 1 '' 'KEY is 3 bytes, map ports needs exactly 2'
run_comb map update "$PIN/ports" 3500 0100
expect "value too short" 1 '' 'VALUE is 2 bytes, map ports needs exactly 16'
run_comb map lookup --hex "$PIN/ports" 3g00
expect "bad hex digit" 1 '' "bad KEY: bad hex digit 'g'"
run_comb map lookup --hex "$PIN/ports" 350
expect "odd number of digits" 1 '' 'odd number of hex digits'
run_comb map lookup --hex "$PIN/ports" key 300 0
expect "bpftool decimal byte too big" 1 '' "'300' is not a byte"
run_comb map lookup --hex "$PIN/ports"
expect "lookup without KEY" 2 '' 'missing the KEY'
run_comb map update "$PIN/ports" 3500
expect "update without VALUE" 2 '' 'update needs KEY and VALUE'
run_comb map update "$PIN/verdicts" 04000000 "$(zeros 8)"
expect "array index out of range" 1 '' 'index out of range: verdicts has max_entries 4'
run_comb map delete "$PIN/verdicts" 00000000
expect "array delete refused" 1 '' 'cannot be deleted'

# --- a full map --------------------------------------------------------------

run_comb map delete "$PIN/ports" 0700
expect "delete before filling" 0
full_ok=1
for ((i = 0; i < 64; i++)); do
	"$COMB" map update "$PIN/ports" "$(printf '%02x01' "$i")" "$V1" 2>"$ERR" || full_ok=0
done
[ $full_ok = 1 ] && pass || fail "fill the hash map (64 entries)"
run_comb map update "$PIN/ports" ffff "$V1"
expect "update a full map" 1 '' 'map is full \(max_entries 64\)'
run_comb map update "$PIN/ports" 0501 "$(zeros 16)"
expect "update an existing key of a full map" 0
run_comb map dump --hex "$PIN/ports"
expect "dump a full map" 0 '^Found 64 elements$'

# --- queue (no keys) -------------------------------------------------------

run_comb map pin "$QUEUES" --dir "$PIN/q" fifo
expect "pin a queue" 0 '^pinned fifo at '
run_comb map update "$PIN/q/fifo" 0900000000000000
expect "queue push" 0
run_comb map lookup --hex "$PIN/q/fifo"
expect_stdout "queue peek" "value: 09 00 00 00 00 00 00 00"
run_comb map dump --hex "$PIN/q/fifo"
expect "queue dump refused" 1 '' 'fifo is a queue: it has no keys'

# --- missing and foreign pins ---------------------------------------------------

run_comb map dump --hex "$PIN/nothing"
expect "missing pin" 1 '' 'no such pinned map'
run_comb map lookup --hex "$PIN/nothing" 00000000
expect "missing pin (lookup)" 1 '' 'no such pinned map'
run_comb map dump --hex "comb-e2e-missing-$$"
expect "missing NAME in the pin directory" 1 '' "comb-e2e-missing-$$: no such pinned map"
echo "hello, not a map" >"$PIN/text"
run_comb map dump --hex "$PIN/text"
expect "text file" 1 '' 'text: not a comb map'
cp "$PIN/verdicts" "$PIN/truncated" && truncate -s 5000 "$PIN/truncated"
run_comb map dump --hex "$PIN/truncated"
expect "truncated file" 1 '' 'truncated: not a comb map.*truncated or corrupted'
cp "$PIN/verdicts" "$PIN/badmagic" && printf 'XXXX' | dd of="$PIN/badmagic" conv=notrunc status=none
run_comb map lookup --hex "$PIN/badmagic" 00000000
expect "bad magic" 1 '' 'badmagic: not a comb map.*bad magic'
cp "$PIN/ports" "$PIN/baddata"
head -c 4096 /dev/urandom | dd of="$PIN/baddata" bs=4096 seek=1 conv=notrunc status=none
run_comb map dump --hex "$PIN/baddata"
expect "corrupted data" 1 '' 'baddata: not a comb map.*corrupted'
mkfifo "$PIN/fifo"
run_comb map dump --hex "$PIN/fifo"
expect "FIFO" 1 '' 'fifo: not a comb map \(not a regular file\)'
ln -s /dev/zero "$PIN/device"
run_comb map update "$PIN/device" 00000000 "$(zeros 8)"
expect "symlink to a device" 1 '' 'device: not a comb map \(not a regular file\)'
run_comb map list --pinned "$PIN"
expect "list --pinned skips foreign files" 0 '^ports: hash' 'text: skipped, not a comb map'
[ "$(wc -l <"$OUT")" = 6 ] && pass || fail "list --pinned: still six maps"
cp "$PIN/text" "$PIN/q/lifo"
run_comb map pin "$QUEUES" --dir "$PIN/q" --force lifo
expect "--force never replaces a foreign file" 1 '' 'exists and is not a comb map; not replacing it'
grep -q 'hello, not a map' "$PIN/q/lifo" && pass || fail "foreign file left as it was"

# --- typed keys and values through BTF (map_typed.bpf.o) ----------------------
# The loader keeps each map's key/value BTF with its pin; `comb map` prints
# and reads typed entries. Every output is compared with bpftool's for the
# same contents in the kernel (the object loaded with `bpftool prog load ...
# pinmaps` into a private bpffs mounted under $TMP, unmounted at exit).

TP=$PIN/typed
run_comb map pin "$TYPED" --dir "$TP"
expect "typed: pin" 0 '^pinned flows at '
run_comb map update "$TP/flows" '{"saddr": 16777226, "port": 80, "proto": 6, "zone": -1}' \
	'{"packets": 1, "delta": -2, "comm": "curl", "state": "FLOW_CLOSED", "tag": {"word": 67305985}, "range": {"lo": 5, "hi": 6}, "hist": [1, 2, -1]}'
expect "typed: update struct key and value" 0
run_comb map update "$TP/counters" 1 5
expect "typed: update int key and value" 0
run_comb map update "$TP/pairs" 1 '{"a": 3, "b": -3}'
expect "typed: update per-CPU with one value" 0
run_comb map update "$TP/by_state" '"FLOW_CLOSED"' -100
expect "typed: update enum key by name" 0
run_comb map update "$TP/by_state" 5 1
expect "typed: update enum key by number" 0
run_comb map update "$TP/bitmap" 0 '{"lo": 5, "mid": 100, "neg": -3, "on": true, "byte": 254, "port": 8080, "tiny": [-128, 127], "raw": [97, 0, 1], "big": 18446744073709551615}'
expect "typed: update bit fields, bool, anonymous union" 0
run_comb map update "$TP/.data" 0 '{".data": [{"seen": 9}, {"banner": "hi"}]}'
expect "typed: update global data (bpftool's shape)" 0
run_comb map update "$TP/.bss" 0 '{"drops": 77}'
expect "typed: update global data (short form)" 0
run_comb map lookup "$TP/counters" 1
expect_stdout "typed: lookup int" '{
    "key": 1,
    "value": 5
}'
run_comb map lookup "$TP/counters" 01000000 --hex
expect_stdout "typed: --hex lookup" "key: 01 00 00 00  value: 05 00 00 00 00 00 00 00"
run_comb map lookup "$TP/flows" '{"saddr": 16777226, "port": 80, "proto": 6, "zone": -1}' --json
expect_python "typed: lookup --json has formatted and hex" \
	"f=d['formatted']; assert f['key']['port']==80 and f['value']['comm']=='curl' and f['value']['hist']==[1,2,-1]; assert d['key'][:4]==['0x0a','0x00','0x00','0x01']"
run_comb map dump "$TP/flows" --json
python3 -c "import json,sys; v=json.load(open(sys.argv[1]))[0]['formatted']['value']; print(json.dumps(v))" "$OUT" >"$TMP/flowval" 2>/dev/null
run_comb map update "$TP/flows" '{"saddr": 16777226, "port": 80, "proto": 6, "zone": -1}' "$(cat "$TMP/flowval")" --flags exist
expect "typed: dump --json's formatted value reads back" 0
run_comb map dump "$TP/flows" --json
expect_python "typed: read back unchanged" "assert d[0]['formatted']['value']['state']=='FLOW_CLOSED' and d[0]['value'][:2]==['0x01','0x00'] and len(d)==1"
run_comb map delete "$TP/by_state" 5
expect "typed: delete with an enum number" 0
run_comb map lookup "$TP/flows" '{"sadr": 1}'
expect "typed: unknown member" 1 '' "bad KEY for the map's BTF type: .*no member 'sadr'"
run_comb map update "$TP/counters" 1 '[1]'
expect "typed: wrong shape" 1 '' "bad VALUE for the map's BTF type"
run_comb map update "$TP/flows" '{"port": 70000}' '{}'
expect "typed: number too big for its field" 1 '' 'does not fit 16 bits'
run_comb map update "$TP/by_state" '"FLOW_GONE"' 1
expect "typed: unknown enum name" 1 '' "'FLOW_GONE' is not a value of this enum"
run_comb map lookup "$TP/counters" 1 --typed --hex
expect "typed: --typed with --hex" 2 '' 'exclude each other'
run_comb map lookup "$PIN/globals/obj_hash" 1 --typed
expect "typed: --typed reads 1 as a u32 key" 1 "" "key 01 00 00 00 not found"
run_comb map pin "$TYPED" --dir "$TP" --force counters
run_comb map dump "$TP/counters"
expect "typed: a replaced pin keeps its types" 0 '"key": 3,'
run_comb map update "$TP/counters" 1 5

# The same contents in the kernel, and bpftool's output next to comb's.
# (libbpf turns every '.' of a pin path into '_': the mount point has none.)
KB=$(mktemp -d /tmp/comb_bpffs_XXXXXX)
if [ "$(id -u)" != 0 ] || ! command -v bpftool >/dev/null || ! mount -t bpf bpf "$KB" 2>/dev/null; then
	echo "maps: skipping the bpftool comparisons (needs root, bpftool and a bpffs mount)"
	rmdir "$KB"
else
	trap 'umount "$KB" 2>/dev/null; rmdir "$KB" 2>/dev/null; rm -rf "$TMP"' EXIT
	if bpftool prog load "$TYPED" "$KB/prog" type xdp pinmaps "$KB/maps" 2>"$TMP/bpftool.err"; then
		km() { bpftool map "$@" 2>>"$TMP/bpftool.err"; }
		kdata=$(ls -d "$KB"/maps/*data | head -n 1)
		kbss=$(ls -d "$KB"/maps/*bss | head -n 1)
		km update pinned "$KB/maps/flows" key hex 0a 00 00 01 50 00 06 ff value hex \
			01 00 00 00 00 00 00 00 fe ff ff ff 63 75 72 6c 00 00 00 00 07 00 00 00 \
			01 02 03 04 05 00 06 00 01 00 00 00 02 00 00 00 ff ff ff ff 00 00 00 00
		km update pinned "$KB/maps/counters" key 1 0 0 0 value 5 0 0 0 0 0 0 0
		km update pinned "$KB/maps/pairs" key 1 0 0 0 value hex 03 00 00 00 fd ff ff ff
		km update pinned "$KB/maps/by_state" key 7 0 0 0 value hex 9c ff ff ff ff ff ff ff
		km update pinned "$KB/maps/bitmap" key 0 0 0 0 value hex 25 37 01 fe 90 1f 80 7f \
			61 00 01 00 00 00 00 00 ff ff ff ff ff ff ff ff
		km update pinned "$kdata" key 0 0 0 0 value hex 09 00 00 00 68 69 00 00 00 00
		km update pinned "$kbss" key 0 0 0 0 value hex 4d 00 00 00 00 00 00 00
		same_as_bpftool() { # NAME COMB-ARGS... -- BPFTOOL-ARGS...
			local name=$1 i
			shift
			for ((i = 1; i <= $#; i++)); do [ "${!i}" = -- ] && break; done
			"$COMB" "${@:1:i-1}" >"$TMP/c.out" 2>&1
			bpftool "${@:i+1}" >"$TMP/k.out" 2>&1
			if cmp -s "$TMP/c.out" "$TMP/k.out"; then
				pass
			else
				fail "$name: differs from bpftool"
				diff "$TMP/k.out" "$TMP/c.out" | head -n 12 | sed 's/^/    /'
			fi
		}
		for m in flows counters pairs by_state bitmap; do
			same_as_bpftool "bpftool: dump $m" map dump "$TP/$m" -- map dump pinned "$KB/maps/$m"
			same_as_bpftool "bpftool: dump --json $m" map dump "$TP/$m" --json -- -j map dump pinned "$KB/maps/$m"
		done
		same_as_bpftool "bpftool: dump .data" map dump "$TP/.data" -- map dump pinned "$kdata"
		same_as_bpftool "bpftool: dump --json .data" map dump "$TP/.data" --json -- -j map dump pinned "$kdata"
		same_as_bpftool "bpftool: dump .bss" map dump "$TP/.bss" -- map dump pinned "$kbss"
		same_as_bpftool "bpftool: dump .rodata" map dump "$TP/.rodata" -- map dump pinned "$(ls -d "$KB"/maps/*rodata)"
		same_as_bpftool "bpftool: lookup struct key" map lookup "$TP/flows" 0a000001500006ff \
			-- map lookup pinned "$KB/maps/flows" key hex 0a 00 00 01 50 00 06 ff
		same_as_bpftool "bpftool: lookup per-CPU" map lookup "$TP/pairs" 1 \
			-- map lookup pinned "$KB/maps/pairs" key 1 0 0 0
		same_as_bpftool "bpftool: lookup --json" map lookup "$TP/flows" 0a000001500006ff --json \
			-- -j map lookup pinned "$KB/maps/flows" key hex 0a 00 00 01 50 00 06 ff
	else
		fail "bpftool could not load $TYPED: $(tail -n 1 "$TMP/bpftool.err")"
	fi
	rm -rf "$KB/prog" "$KB/maps"
	umount "$KB" && rmdir "$KB"
fi

# --- the data outlives every comb process ----------------------------------------

run_comb map lookup --hex "$PIN/verdicts" 02000000
expect "value kept across processes" 0 '^key: 02 00 00 00  value: 2a 00'

# --- freeze: user space can no longer change the map; reads go on ---------------

run_comb map freeze "$PIN/verdicts"
expect "freeze a pinned map" 0 ''
run_comb map update "$PIN/verdicts" 02000000 0100000000000000
expect "update a frozen map refused" 1 '' 'map verdicts is frozen'
run_comb map lookup --hex "$PIN/verdicts" 02000000
expect "lookup a frozen map" 0 '^key: 02 00 00 00  value: 2a 00'
run_comb map freeze
expect "freeze without a map" 2 '' 'freeze: give exactly one map'

e2e_summary
