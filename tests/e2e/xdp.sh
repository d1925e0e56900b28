#!/usr/bin/env bash
# tests/e2e/xdp.sh - `comb xdp` on pcaps and `comb load --pin-maps`.
#
# Usage: tests/e2e/xdp.sh BUILD_DIR   (BUILD_DIR holds comb and progs/)
#
# Captures come from tests/e2e/xdp_pcapgen.py (written byte by byte); the
# program is tests/progs/xdp_cli.bpf.o, whose verdict per packet its header
# comment gives. Checks: the per-verdict pcaps (records, input timestamps,
# the bytes as the program changed them), the --verdicts lines, the text and
# --json summaries, pcapng input, --records (BTF struct, hex, JSON), --count,
# the engines; bad input (a record header or data cut short, a bad magic, a
# non-Ethernet link type, a 10-byte packet, an object without XDP program,
# bad command lines); pinned maps reused across invocations with `comb map
# update` in between changing the verdicts (xdp_cli and xdp-filter), and a
# pinned map whose definition differs; a devmap broadcast (BPF_F_BROADCAST,
# BPF_F_EXCLUDE_INGRESS) written to every entry's output. Everything lives in a mktemp -d
# directory removed at exit. Ends with `xdp: N passed, N failed`.
set -u
. "$(cd "$(dirname "$0")" && pwd)/assert.bash"

e2e_setup xdp "${1:-}"
PROG=$BUILD_DIR/progs/xdp_cli.bpf.o
SOCKET_PROG=$BUILD_DIR/progs/run_socket_filter.bpf.o
XDPFILT=/usr/lib/x86_64-linux-gnu/bpf/xdpfilt_alw_all.o
GEN="python3 $(cd "$(dirname "$0")" && pwd)/xdp_pcapgen.py"
e2e_require "$PROG"
cd "$TMP" || exit 1

# same NAME FILE EXPECTED_TEXT: FILE holds exactly the text.
same() {
	if [ "$(cat "$2" 2>/dev/null)" == "$3" ]; then pass; else
		fail "$1: $2 is not as expected"; diff <(echo "$3") "$2" | head -n 10 | sed 's/^/    /'; fi
}
# records FILE: the number of records of a pcap.
records() { $GEN dump "$1" | wc -l; }

for kind in basic pcapng trunc-hdr trunc-data bad-magic raw-ip short; do
	$GEN "$kind" "$kind.pcap" >/dev/null
done
$GEN many many.pcap 100 >/dev/null

# The verdicts of tests/progs/xdp_cli.bpf.c on the basic set, by its spec.
BASIC_VERDICTS="0 PASS 50
1 PASS 50
2 TX 50
3 DROP 54
4 PASS 54
5 ABORTED 42
6 REDIRECT 50
7 ABORTED 50
8 PASS 42
9 PASS 50"

# ---- outputs
mkdir out
run_comb xdp "$PROG" --pcap basic.pcap --out-pass out/pass.pcap --out-tx out/tx.pcap --out-drop out/drop.pcap \
	--out-aborted out/aborted.pcap --out-redirect out/redirect --verdicts out/verdicts.txt
expect "basic run" 0 'basic.pcap: program xdp_cli \(jit engine\): 10 packets, 492 bytes in .* packets/s'
expect "summary PASS line" 0 'PASS +5 packets +246 bytes'
expect "summary redirect target" 0 'ifindex-5 +1 packets'
same "verdict lines" out/verdicts.txt "$BASIC_VERDICTS"
[ "$(records out/pass.pcap)" = 5 ] && pass || fail "pass.pcap has $(records out/pass.pcap) records, expected 5"
[ "$(records out/drop.pcap)" = 1 ] && pass || fail "drop.pcap: expected 1 record"
[ "$(records out/aborted.pcap)" = 2 ] && pass || fail "aborted.pcap: expected 2 records"
[ -f out/redirect/ifindex-5.pcap ] && [ "$(records out/redirect/ifindex-5.pcap)" = 1 ] && pass ||
	fail "redirect/ifindex-5.pcap: expected 1 record"
# Timestamps and bytes: PASS packets unchanged with their input times.
$GEN dump basic.pcap >in.txt
same "pass.pcap = input packets 0,1,4,8,9" <($GEN dump out/pass.pcap) "$(sed -n '1p;2p;5p;9p;10p' in.txt)"
# TX: the echo packet with its MACs swapped, same time stamp.
read -r ts cap len hex < <(sed -n 3p in.txt)
swapped="${hex:12:12}${hex:0:12}${hex:24}"
same "tx.pcap: MACs swapped" <($GEN dump out/tx.pcap) "$ts $cap $len $swapped"

# ---- pcapng, json, engines, --count
run_comb xdp "$PROG" --pcap pcapng.pcap --verdicts ng.txt
expect "pcapng input" 0 '10 packets'
same "pcapng verdicts" ng.txt "$BASIC_VERDICTS"
run_comb xdp "$PROG" --pcap basic.pcap --json
expect "json summary" 0 '^\{"object"'
python3 - "$OUT" <<'EOF' && pass || fail "json summary content"
import json, sys
s = json.load(open(sys.argv[1]))
v = s["verdicts"]
assert s["packets"] == 10 and s["engine"] == "jit" and s["packets_per_second"] > 0, s
assert [v[a]["packets"] for a in ("ABORTED", "DROP", "PASS", "TX", "REDIRECT")] == [2, 1, 5, 1, 1], v
assert v["PASS"]["bytes"] == 246 and s["redirect"] == [{"target": "ifindex-5", "packets": 1, "bytes": 50}], s
EOF
for engine in interp checked; do
	run_comb xdp "$PROG" --pcap basic.pcap --engine "$engine" --verdicts "v-$engine.txt"
	expect "engine $engine" 0 "\\($engine engine\\)"
	same "engine $engine verdicts" "v-$engine.txt" "$BASIC_VERDICTS"
done
run_comb xdp "$PROG" --pcap basic.pcap --no-verify --verdicts v-nv.txt
expect "--no-verify runs checked" 0 '\(checked engine\)'
same "--no-verify verdicts" v-nv.txt "$BASIC_VERDICTS"
run_comb xdp "$PROG" --pcap many.pcap --count 3 --verdicts count.txt
expect "--count 3" 0 ': 3 packets'
[ "$(wc -l <count.txt)" = 3 ] && pass || fail "--count 3 wrote $(wc -l <count.txt) verdict lines"

# ---- ring buffer records
run_comb xdp "$PROG" --pcap basic.pcap --records events:flow_event
expect "records as fields" 0 '^saddr=10\.0\.0\.1 daddr=10\.0\.0\.2 sport=1234 dport=53 proto=17 pad=000000 len=50 tag=flow ip6addr=2001:db8::1$'
[ "$(grep -c '^saddr=' "$OUT")" = 8 ] && pass || fail "records: expected 8 records (every UDP/TCP packet)"
grep -q '^saddr=10\.0\.0\.3 .*dport=80 ' "$OUT" && pass || fail "records: second packet's record"
run_comb xdp "$PROG" --pcap basic.pcap --records events
expect "records in hex" 0 '^44: 0a0000010a00000204d20035'
run_comb xdp "$PROG" --pcap basic.pcap --records events:flow_event --json
python3 - "$OUT" <<'EOF' && pass || fail "records as JSON lines"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
recs, summary = lines[:-1], lines[-1]
assert len(recs) == 8 and summary["packets"] == 10, lines
assert recs[0] == {"saddr": "10.0.0.1", "daddr": "10.0.0.2", "sport": 1234, "dport": 53, "proto": 17,
                   "pad": "000000", "len": 50, "tag": "flow", "ip6addr": "2001:db8::1"}, recs[0]
EOF
run_comb xdp "$PROG" --pcap basic.pcap --records nosuchmap
expect "records: unknown map" 1 '' 'no map nosuchmap'
run_comb xdp "$PROG" --pcap basic.pcap --records port_verdict
expect "records: not a ring buffer" 1 '' 'port_verdict is a array map, not a ringbuf'
run_comb xdp "$PROG" --pcap basic.pcap --records events:nosuchstruct
expect "records: unknown struct" 1 '' 'no struct nosuchstruct'

# ---- bad captures: the packets before the damage are processed and written
run_comb xdp "$PROG" --pcap trunc-hdr.pcap --verdicts th.txt --out-pass th.pcap
expect "truncated record header" 1 '10 packets' 'trunc-hdr.pcap: packet 10: truncated dump file; tried to read 16 header bytes'
same "truncated header: verdicts before it" th.txt "$BASIC_VERDICTS"
[ "$(records th.pcap)" = 5 ] && pass || fail "truncated header: pass output has $(records th.pcap) records"
run_comb xdp "$PROG" --pcap trunc-data.pcap --verdicts td.txt
expect "truncated record data" 1 '' 'trunc-data.pcap: packet 10: .*only got 20'
same "truncated data: verdicts before it" td.txt "$BASIC_VERDICTS"
run_comb xdp "$PROG" --pcap bad-magic.pcap
expect "bad magic" 1 '' 'bad-magic.pcap: cannot read the capture: unknown file format'
run_comb xdp "$PROG" --pcap raw-ip.pcap
expect "non-Ethernet link type" 1 '' 'raw-ip.pcap: link type RAW .* is not Ethernet'
run_comb xdp "$PROG" --pcap short.pcap --verdicts short.txt --out-aborted short-ab.pcap
expect "10-byte packet" 0 'errors +1 packets' 'short.pcap: packet 1: .*10 bytes.*counted as ABORTED'
same "10-byte packet verdicts" short.txt "0 PASS 50
1 ABORTED 10
2 PASS 50"
[ "$(records short-ab.pcap)" = 1 ] && pass || fail "10-byte packet: not written to the ABORTED output"
run_comb xdp "$PROG" --pcap missing.pcap
expect "missing capture" 1 '' 'missing.pcap: cannot read the capture'

# ---- bad objects and command lines
if [ -f "$SOCKET_PROG" ]; then
	run_comb xdp "$SOCKET_PROG" --pcap basic.pcap
	expect "object without XDP program" 1 '' 'no XDP program in the object \(programs: '
fi
run_comb xdp "$PROG" --pcap basic.pcap --prog nope
expect "unknown --prog" 1 '' 'no program nope \(programs: xdp_cli \(section xdp\)\)'
run_comb xdp "$PROG"
expect "no packet source" 2 '' 'missing a packet source'
run_comb xdp "$PROG" --pcap basic.pcap --iface lo
expect "two packet sources" 2 '' 'choose one packet source'
run_comb xdp "$PROG" --pcap basic.pcap --no-verify --engine jit
expect "--no-verify with the JIT" 2 '' 'would trust an unverified program'
run_comb xdp "$PROG" --pcap basic.pcap --bogus
expect "unknown option" 2 '' "unknown option '--bogus'"

# ---- pinned maps: a control plane between two runs
run_comb load "$PROG" --pin-maps pins
expect "load pins the maps" 0 "^pinned +port_verdict +array +$TMP/pins/port_verdict"
[ -f pins/port_verdict ] && [ -f pins/tx_ports ] && [ -f pins/events ] && pass || fail "pins missing"
run_comb load "$PROG" --pin-maps pins --json
expect "second load reuses them" 0 '"name": "port_verdict", "type": "array", "state": "reused"'
run_comb xdp "$PROG" --pcap basic.pcap --pin-maps pins --verdicts pin1.txt
same "pinned, empty rules: same verdicts" pin1.txt "$BASIC_VERDICTS"
# port 53 -> DROP (action + 1 = 2); tx_ports[2] = ifindex 7
run_comb map update pins/port_verdict 35000000 02000000
expect "map update port_verdict" 0
run_comb map update pins/tx_ports 02000000 07000000
expect "map update tx_ports" 0
mkdir redir
run_comb xdp "$PROG" --pcap basic.pcap --pin-maps pins --verdicts pin2.txt --out-redirect redir
expect "run with the rules" 0 'tx_ports-2 +1 packets'
same "rules change verdicts" pin2.txt "0 DROP 50
1 PASS 50
2 TX 50
3 DROP 54
4 PASS 54
5 ABORTED 42
6 REDIRECT 50
7 REDIRECT 50
8 PASS 42
9 DROP 50"
[ -f redir/ifindex-5.pcap ] && [ "$(records redir/tx_ports-2.pcap)" = 1 ] && pass ||
	fail "redirect outputs ifindex-5.pcap and tx_ports-2.pcap"
run_comb map update pins/port_verdict 35000000 00000000
run_comb xdp "$PROG" --pcap basic.pcap --pin-maps pins --verdicts pin3.txt
grep -q '^0 PASS 50$' pin3.txt && pass || fail "rule removed: packet 0 passes again"
mv pins/tx_ports pins/port_verdict
run_comb xdp "$PROG" --pcap basic.pcap --pin-maps pins
expect "pinned map with another definition" 1 '' 'map port_verdict: cannot reuse the map pinned at .*/pins/port_verdict: its type is 14, the object.s is 2'
run_comb load "$PROG" --pin-maps pins
expect "load: pinned map with another definition" 1 '' 'its type is 14'

# ---- xdp-filter, configured the way the xdp-filter tool does (ports in network order, flags per CPU)
if [ -f "$XDPFILT" ]; then
	run_comb load "$XDPFILT" --pin-maps filt
	expect "load xdp-filter" 0 '^pinned +filter_ports +percpu_array'
	run_comb xdp "$XDPFILT" --pcap basic.pcap --pin-maps filt --verdicts f1.txt
	grep -q '^0 PASS 50$' f1.txt && pass || fail "xdp-filter without rules passes packet 0"
	# port 53, MAP_FLAG_DST|MAP_FLAG_UDP (0x0a): allow mode drops what matches
	run_comb map update filt/filter_ports 00350000 0a00000000000000
	expect "xdp-filter rule" 0
	run_comb xdp "$XDPFILT" --pcap basic.pcap --pin-maps filt --verdicts f2.txt
	same "xdp-filter drops port 53" <(grep -E '^(0|1|9) ' f2.txt) "0 DROP 50
1 PASS 50
9 DROP 50"
	run_comb map lookup filt/filter_ports 00350000
	# 2 hits (packets 0 and 9) << 6 | the flags 0x0a = 138 on the CPU slot that ran them
	expect "xdp-filter counts its hits" 0 '8a 00 00 00|"value": 138'
fi

# ---- REDIRECT broadcast: bpf_redirect_map(devmap, any key, BPF_F_BROADCAST
# [| BPF_F_EXCLUDE_INGRESS]) sends a copy to every entry of the devmap, less
# the ingress interface (ifindex 1 for a pcap) with EXCLUDE_INGRESS, as the
# kernel's dev_map_enqueue_multi() does. A small program built here.
BPF_CC=${BPF_CLANG:-clang-19}
if command -v "$BPF_CC" >/dev/null; then
	cat >bcast.bpf.c <<'BPF'
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ports SEC(".maps");
SEC("xdp")
int bcast(struct xdp_md *ctx)
{
	return bpf_redirect_map(&ports, 99, BPF_F_BROADCAST | FLAGS);
}
char LICENSE[] SEC("license") = "GPL";
BPF
	"$BPF_CC" -O2 -g -target bpf -I/usr/include/"$(uname -m)"-linux-gnu -DFLAGS=0 -c bcast.bpf.c -o bcast_all.bpf.o &&
		"$BPF_CC" -O2 -g -target bpf -I/usr/include/"$(uname -m)"-linux-gnu -DFLAGS=BPF_F_EXCLUDE_INGRESS -c bcast.bpf.c -o bcast_excl.bpf.o ||
		fail "cannot build the broadcast program"
	run_comb load bcast_all.bpf.o --pin-maps bpins
	expect "broadcast: load pins the devmap" 0 'ports'
	# keys 1, 2, 3 -> ifindex 1 (the ingress), 7, 9
	for kv in "01000000 01000000" "02000000 07000000" "03000000 09000000"; do
		run_comb map update bpins/ports $kv
		expect "broadcast: devmap entry $kv" 0
	done
	mkdir ball bexcl bnone
	run_comb xdp bcast_all.bpf.o --pcap basic.pcap --pin-maps bpins --out-redirect ball --verdicts bv.txt
	expect "broadcast run" 0 'REDIRECT +10 packets'
	[ "$(grep -c ' REDIRECT ' bv.txt)" = 10 ] && pass || fail "broadcast: every verdict is REDIRECT"
	for k in 1 2 3; do
		[ "$(records ball/ports-$k.pcap)" = 10 ] && pass || fail "broadcast: ball/ports-$k.pcap has not 10 records"
	done
	same "broadcast: the copies are the packets" <($GEN dump ball/ports-2.pcap) "$($GEN dump basic.pcap)"
	run_comb xdp bcast_excl.bpf.o --pcap basic.pcap --pin-maps bpins --out-redirect bexcl --json
	expect "broadcast, exclude ingress" 0 '"target": "ports-2", "packets": 10'
	[ ! -e bexcl/ports-1.pcap ] && [ "$(records bexcl/ports-3.pcap)" = 10 ] && pass ||
		fail "broadcast with BPF_F_EXCLUDE_INGRESS: ifindex 1 (ingress) excluded, the others get every packet"
	run_comb map delete bpins/ports 02000000
	run_comb map delete bpins/ports 03000000
	run_comb xdp bcast_excl.bpf.o --pcap basic.pcap --pin-maps bpins --out-redirect bnone
	expect "broadcast to no interface but the ingress" 0 'REDIRECT +10 packets'
	[ -z "$(ls bnone)" ] && pass || fail "broadcast to nowhere wrote an output"
else
	echo "xdp: $BPF_CC not found: broadcast checks skipped"
fi

e2e_summary
