#!/usr/bin/env bash
# tests/e2e/examples.sh - the XDP examples (examples/*/) through `comb xdp`.
#
# Each example runs over its bundled pcap. The checks come from what the
# program is specified to do (per packet, by source, flow or port), and the
# same packets go through the kernel's BPF_PROG_TEST_RUN
# (tests/e2e/xdp_kernel_replay.py: the object loaded by libbpf, the same map
# contents) wherever the result does not depend on time: the verdicts, the
# load balancer's output bytes, the flow monitor's records. The kernel part is
# skipped (with a message) where bpf() is refused.
# The DDoS mitigator's token buckets refill with bpf_ktime_get_ns(); a replay
# takes milliseconds, so they do not refill before the pcap ends, but a slow
# run (sanitizers, a loaded machine) may add a token: the counts of the
# rate-limited sources allow for 5. Each example also runs in the
# interpreter (--engine interp): its time-independent results must equal
# the JIT's (the default engine).
# Usage: tests/e2e/examples.sh [BUILD]
set -uo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=assert.bash
source tests/e2e/assert.bash
e2e_setup examples "${1:-build}"
EX=$BUILD_DIR/examples
PY=/usr/bin/python3
REPLAY="$PY tests/e2e/xdp_kernel_replay.py"
PCAPTOOL="$PY tests/e2e/pcap_tool.py"

same_file() { cmp -s "$1" "$2"; }
# count FILE AWK-CONDITION: lines of FILE matching the condition.
count() { awk "$2 { n++ } END { print n + 0 }" "$1"; }
# between N LO HI
between() { [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; }

kernel=yes
if ! $REPLAY "$EX/flow-monitor/flowmon.bpf.o" examples/flow-monitor/traffic.pcap >/dev/null 2>"$TMP/kernel.err"; then
	kernel=no
	echo "SKIP: kernel comparison (BPF_PROG_TEST_RUN unavailable: $(tail -n 1 "$TMP/kernel.err"))"
fi

# percpu_sums MAP PIN: `MAP[KEY] = SUM` lines from `comb map dump PIN --json`.
percpu_sums() {
	"$COMB" map dump "$2" --json | $PY -c '
import json, sys
le = lambda hexes: int.from_bytes(bytes(int(h, 16) for h in hexes), "little")
for e in json.load(sys.stdin):
    total = sum(le(v["value"]) for v in e["values"])
    print("%s[%d] = %d" % (sys.argv[1], le(e["key"]), total))
' "$1"
}

# ---- DDoS mitigator ----------------------------------------------------
ddos=$EX/ddos-mitigator/ddos.bpf.o
pcap=examples/ddos-mitigator/attack.pcap
allow_key=20000000c00002c8   # 192.0.2.200/32
deny_key=18000000cb007100    # 203.0.113.0/24
pins=$TMP/ddos-pins
run_comb map pin "$ddos" --dir "$pins"
expect "ddos: comb map pin" 0
run_comb map update "$pins/allow_list" "$allow_key" 01000000
expect "ddos: allow list update" 0
run_comb map update "$pins/deny_list" "$deny_key" 01000000
expect "ddos: deny list update" 0
run_comb xdp "$ddos" --pin-maps "$pins" --pcap "$pcap" --verdicts "$TMP/ddos.v" --json
expect "ddos: comb xdp" 0 '"packets": 1070'
$PCAPTOOL summary "$pcap" >"$TMP/ddos.sum"
# joined: INDEX SRC DST PROTO SPORT DPORT FLAGS LEN  INDEX ACTION LEN
paste -d' ' "$TMP/ddos.sum" "$TMP/ddos.v" >"$TMP/ddos.j"
check "ddos: one verdict per packet" [ "$(wc -l <"$TMP/ddos.v")" = 1070 ]
check "ddos: allow-listed source never dropped (150 > burst)" \
	[ "$(count "$TMP/ddos.j" '$2 == "192.0.2.200" && $10 != "PASS"')" = 0 ]
check "ddos: allow-listed source seen" [ "$(count "$TMP/ddos.j" '$2 == "192.0.2.200"')" = 150 ]
check "ddos: deny-listed network always dropped" \
	[ "$(count "$TMP/ddos.j" '$2 ~ /^203\.0\.113\./ && $10 != "DROP"')" = 0 ]
check "ddos: DNS answers over 512 bytes of payload dropped" \
	[ "$(count "$TMP/ddos.j" '$4 == 17 && $5 == 53 && $8 - 42 > 512 && $10 != "DROP"')" = 0 ]
check "ddos: NTP replies over 200 bytes of payload dropped" \
	[ "$(count "$TMP/ddos.j" '$4 == 17 && $5 == 123 && $8 - 42 > 200 && $10 != "DROP"')" = 0 ]
check "ddos: amplification packets present" [ "$(count "$TMP/ddos.j" '$2 ~ /^198\.18\.[12]\./')" = 80 ]
check "ddos: small DNS answers from the resolver pass" \
	[ "$(count "$TMP/ddos.j" '$2 == "192.0.2.53" && $10 == "PASS"')" = 20 ]
check "ddos: legitimate TCP clients never dropped" \
	[ "$(count "$TMP/ddos.j" '$2 ~ /^192\.0\.2\.([1-9]|1[0-9]|20)$/ && $10 != "PASS"')" = 0 ]
check "ddos: non-IPv4 frames pass" [ "$(count "$TMP/ddos.j" '$2 == "-" && $10 != "PASS"')" = 0 ]
for i in 1 2 3 4; do
	n=$(count "$TMP/ddos.j" "\$2 == \"198.18.0.$i\" && \$10 == \"PASS\"")
	check "ddos: SYN flooder 198.18.0.$i passes its 20-SYN burst only ($n)" between "$n" 20 25
	first=$(awk -v s="198.18.0.$i" '$2 == s' "$TMP/ddos.j" | head -n 20 | count /dev/stdin '$10 != "PASS"')
	check "ddos: SYN flooder 198.18.0.$i: its first 20 SYNs pass" [ "$first" = 0 ]
done
n=$(count "$TMP/ddos.j" '$2 == "192.0.2.100" && $10 == "PASS"')
check "ddos: heavy client passes its 100-packet burst only ($n of 300)" between "$n" 100 105
percpu_sums reason_counters "$pins/reason_counters" >"$TMP/ddos.reasons"
check "ddos: reason counters add up to the packets" \
	[ "$(awk '{ n += $3 } END { print n }' "$TMP/ddos.reasons")" = 1070 ]
check "ddos: deny-list counter" grep -qx 'reason_counters\[3\] = 30' "$TMP/ddos.reasons"
check "ddos: amplification counter" grep -qx 'reason_counters\[4\] = 80' "$TMP/ddos.reasons"
check "ddos: allow-list counter" grep -qx 'reason_counters\[1\] = 150' "$TMP/ddos.reasons"
# Without the lists (a fresh load, nothing pinned): the allow-listed host is
# rate limited like any other, the deny-listed SYNs pass.
run_comb xdp "$ddos" --pcap "$pcap" --verdicts "$TMP/ddos-nolists.v"
expect "ddos: comb xdp without lists" 0
paste -d' ' "$TMP/ddos.sum" "$TMP/ddos-nolists.v" >"$TMP/ddos-nolists.j"
n=$(count "$TMP/ddos-nolists.j" '$2 == "192.0.2.200" && $10 == "DROP"')
check "ddos: without the allow list the monitoring host is rate limited ($n)" between "$n" 45 50
# The interpreter: the same verdicts (time-independent packets) as the JIT.
run_comb xdp "$ddos" --engine interp --pcap "$pcap" --verdicts "$TMP/ddos-interp.v"
expect "ddos: comb xdp --engine interp" 0
paste -d' ' "$TMP/ddos.sum" "$TMP/ddos-interp.v" >"$TMP/ddos-interp.j"
check "ddos: interpreter verdicts equal the JIT's (time-independent packets)" same_file \
	<(awk '$2 != "192.0.2.100" && $2 !~ /^198\.18\.0\./ && $2 != "192.0.2.200" { print $9, $10, $11 }' "$TMP/ddos-nolists.j") \
	<(awk '$2 != "192.0.2.100" && $2 !~ /^198\.18\.0\./ && $2 != "192.0.2.200" { print $9, $10, $11 }' "$TMP/ddos-interp.j")
if [ $kernel = yes ]; then
	$REPLAY "$ddos" "$pcap" --update allow_list "$allow_key" 01000000 --update deny_list "$deny_key" 01000000 \
		--percpu-sum reason_counters >"$TMP/ddos.kernel" 2>"$ERR"
	grep -E '^[0-9]+ ' "$TMP/ddos.kernel" >"$TMP/ddos.kv"
	paste -d' ' "$TMP/ddos.sum" "$TMP/ddos.kv" >"$TMP/ddos.kj"
	# Time-independent packets: not from the rate-limited sources.
	timeless='$2 != "192.0.2.100" && $2 !~ /^198\.18\.0\./ { print $9, $10, $11 }'
	check "ddos: verdicts equal the kernel's (time-independent packets)" \
		same_file <(awk "$timeless" "$TMP/ddos.j") <(awk "$timeless" "$TMP/ddos.kj")
	kdiff=$(diff "$TMP/ddos.v" "$TMP/ddos.kv" | grep -c '^<')
	check "ddos: verdicts of rate-limited sources within 5 of the kernel's ($kdiff differ)" between "$kdiff" 0 5
	check "ddos: deterministic reason counters equal the kernel's" same_file \
		<(grep -E '\[[1-4]\]' "$TMP/ddos.reasons") <(grep -E '^reason_counters\[[1-4]\]' "$TMP/ddos.kernel")
fi

# ---- L4 load balancer ----------------------------------------------------
lb=$EX/l4-load-balancer/lb.bpf.o
pcap=examples/l4-load-balancer/clients.pcap
backends=(198.51.100.11 198.51.100.12 198.51.100.13 198.51.100.14)
run_comb xdp "$lb" --pcap "$pcap" --verdicts "$TMP/lb.v" --out-tx "$TMP/lb-tx.pcap" --out-pass "$TMP/lb-pass.pcap"
expect "lb: comb xdp" 0
$PCAPTOOL summary "$pcap" >"$TMP/lb.sum"
paste -d' ' "$TMP/lb.sum" "$TMP/lb.v" >"$TMP/lb.j"
check "lb: every TCP/UDP packet to the VIP is sent out (TX) encapsulated, 20 bytes longer" \
	[ "$(count "$TMP/lb.j" '$3 == "198.51.100.100" && ($4 == 6 || $4 == 17) && $8 < 1400 && !($10 == "TX" && $11 == $8 + 20)')" = 0 ]
check "lb: 260 packets encapsulated" [ "$(count "$TMP/lb.j" '$10 == "TX"')" = 260 ]
check "lb: other traffic passes unchanged" \
	[ "$(count "$TMP/lb.j" '!($3 == "198.51.100.100" && ($4 == 6 || $4 == 17)) && !($10 == "PASS" && $11 == $8)')" = 0 ]
check "lb: a VIP packet too big to encapsulate passes" \
	[ "$(count "$TMP/lb.j" '$3 == "198.51.100.100" && $8 > 1400 && $10 == "PASS"')" = 1 ]
$PCAPTOOL ipip "$pcap" "$TMP/lb.v" "$TMP/lb-tx.pcap" 198.51.100.100 02:00:00:00:00:fe "${backends[@]}" >"$TMP/lb.flows" 2>&1
check "lb: outer headers (RFC 2003, checksum), inner packets intact, one backend per flow" \
	grep -qx 'checked 260, errors 0' "$TMP/lb.flows"
[ -s "$TMP/lb.flows" ] && grep -v '^checked' "$TMP/lb.flows" | grep -v ' -> ' | head -n 5
used=$(grep -c ' -> ' "$TMP/lb.flows")
check "lb: 60 flows" [ "$used" = 60 ]
for b in "${backends[@]}"; do
	check "lb: backend $b gets flows" grep -q " -> $b\$" "$TMP/lb.flows"
done
# Drain backend 2 (198.51.100.13) through the control plane: its flows move,
# every other flow keeps its backend.
pins=$TMP/lb-pins
run_comb map pin "$lb" --dir "$pins"
expect "lb: comb map pin" 0
run_comb map update "$pins/backend_down" 02000000 01000000
expect "lb: drain backend 2" 0
run_comb xdp "$lb" --pin-maps "$pins" --pcap "$pcap" --verdicts "$TMP/lb2.v" --out-tx "$TMP/lb2-tx.pcap"
expect "lb: comb xdp with backend 2 drained" 0
$PCAPTOOL ipip "$pcap" "$TMP/lb2.v" "$TMP/lb2-tx.pcap" 198.51.100.100 02:00:00:00:00:fe \
	198.51.100.11 198.51.100.12 198.51.100.14 >"$TMP/lb2.flows" 2>&1
check "lb: drained backend receives nothing" grep -qx 'checked 260, errors 0' "$TMP/lb2.flows"
kept=$(grep ' -> ' "$TMP/lb.flows" | grep -v ' -> 198.51.100.13$' | sort)
check "lb: only the drained backend's flows move" \
	[ -z "$(comm -23 <(echo "$kept") <(grep ' -> ' "$TMP/lb2.flows" | sort))" ]
run_comb xdp "$lb" --engine interp --pcap "$pcap" --verdicts "$TMP/lb-interp.v" --out-tx "$TMP/lb-interp-tx.pcap"
expect "lb: comb xdp --engine interp" 0
check "lb: interpreter verdicts and lengths equal the JIT's" same_file "$TMP/lb.v" "$TMP/lb-interp.v"
check "lb: interpreter's encapsulated bytes equal the JIT's" same_file \
	<($PCAPTOOL hex "$TMP/lb-tx.pcap" | cut -d' ' -f2) <($PCAPTOOL hex "$TMP/lb-interp-tx.pcap" | cut -d' ' -f2)
if [ $kernel = yes ]; then
	$REPLAY "$lb" "$pcap" --bytes >"$TMP/lb.kernel" 2>"$ERR"
	check "lb: verdicts and lengths equal the kernel's" same_file <(cut -d' ' -f1-3 "$TMP/lb.kernel") "$TMP/lb.v"
	check "lb: encapsulated bytes equal the kernel's" same_file \
		<(awk '$2 == "TX" { print $4 }' "$TMP/lb.kernel") <($PCAPTOOL hex "$TMP/lb-tx.pcap" | cut -d' ' -f2)
	$REPLAY "$lb" "$pcap" --update backend_down 02000000 01000000 >"$TMP/lb2.kernel" 2>"$ERR"
	check "lb: drained run equals the kernel's" same_file <(cut -d' ' -f1-3 "$TMP/lb2.kernel") "$TMP/lb2.v"
fi

# ---- Flow monitor ---------------------------------------------------------
fm=$EX/flow-monitor/flowmon.bpf.o
pcap=examples/flow-monitor/traffic.pcap
run_comb xdp "$fm" --pcap "$pcap" --verdicts "$TMP/fm.v" --records events
expect "flowmon: comb xdp --records events" 0
check "flowmon: every packet passes" [ "$(count "$TMP/fm.v" '$2 != "PASS"')" = 0 ]
grep -E '^48: ' "$OUT" | cut -c5-68 >"$TMP/fm.records"   # the time-independent first 32 bytes
check "flowmon: 32 records" [ "$(wc -l <"$TMP/fm.records")" = 32 ]
run_comb xdp "$fm" --pcap "$pcap" --records events:flow_record
expect "flowmon: NetFlow-like lines" 0 \
	'^saddr=198\.51\.100\.10 daddr=192\.0\.2\.50 sport=443 dport=43000 proto=6 tcp_flags=[0-9]+ reason=3 tos=0 packets=32 '
check "flowmon: the download is exported 3 times by count, then at its FIN" \
	[ "$(grep -c 'daddr=192.0.2.50 sport=443 dport=43000 .*reason=3 tos=0 packets=32 ' "$OUT")" = 3 ]
check "flowmon: reset connections are exported as RST" \
	[ "$(grep -c 'sport=8080 .*reason=2 ' "$OUT")" = 3 ]
check "flowmon: the 12 web connections end with FIN both ways" \
	[ "$(grep -E -c '(sport|dport)=80 .*reason=1 ' "$OUT")" = 24 ]
run_comb xdp "$fm" --pcap "$pcap" --records events:flow_record --json
expect "flowmon: JSON records" 0 '"saddr": "192\.0\.2\.1", "daddr": "198\.51\.100\.10", "sport": 41001, "dport": 80'
run_comb xdp "$fm" --engine interp --pcap "$pcap" --verdicts "$TMP/fm-interp.v" --records events
expect "flowmon: comb xdp --engine interp" 0
check "flowmon: interpreter verdicts equal the JIT's" same_file "$TMP/fm.v" "$TMP/fm-interp.v"
check "flowmon: interpreter records equal the JIT's (all but the timestamps)" same_file "$TMP/fm.records" \
	<(grep -E '^48: ' "$OUT" | cut -c5-68)
if [ $kernel = yes ]; then
	$REPLAY "$fm" "$pcap" --records events >"$TMP/fm.kernel" 2>"$ERR"
	check "flowmon: verdicts equal the kernel's" same_file <(grep -E '^[0-9]+ ' "$TMP/fm.kernel") "$TMP/fm.v"
	check "flowmon: records equal the kernel's (all but the timestamps)" same_file \
		<(awk '$1 == "record" { print substr($2, 1, 64) }' "$TMP/fm.kernel") "$TMP/fm.records"
fi

e2e_summary
