#!/usr/bin/env bash
# examples/demo.sh - the main demo (`make demo`): an unmodified XDP DDoS
# mitigator (examples/ddos-mitigator/) in user space over a recorded attack,
# configured through its maps the way a control plane would: verdicts,
# packets/s, the program's own per-reason counters, and the same run in each
# of comb's engines.
# Usage: examples/demo.sh [COMB]   (the programs are looked up beside COMB,
# in BUILD/examples/, where `make demo` builds them)
set -euo pipefail
comb=${1:-build/comb}
here=$(dirname "$0")
build=$(dirname "$comb")
ddos=$build/examples/ddos-mitigator/ddos.bpf.o
pcap=$here/ddos-mitigator/attack.pcap
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; }

# sum_le BYTES...: the little-endian number the hex bytes spell.
sum_le() { local h="" b; for b in "$@"; do h=$b$h; done; echo $((16#$h)); }

# reason_table PIN: the per-CPU counters of the pinned reason_counters map,
# summed over CPUs, one line per reason (enum reason in ddos.bpf.c).
reason_table() {
	local names=("passed all rules" "passed: allow list" "passed: not IPv4"
		"dropped: deny list" "dropped: UDP amplification" "dropped: SYN flood"
		"dropped: rate limit")
	local -a sums=()
	local key=0 line
	while read -r line; do
		case $line in
		key:) ;;
		"value (CPU"*) sums[key]=$(( ${sums[key]:-0} + $(sum_le ${line#*: }) )) ;;
		[0-9a-f][0-9a-f]\ *) key=$(sum_le $line) ;;
		esac
	done < <("$comb" map dump --hex "$1")
	for key in "${!names[@]}"; do
		printf '  %-28s %6d\n' "${names[key]}" "${sums[key]:-0}"
	done
}

# configure DIR: pin the mitigator's maps in DIR and fill its lists:
# allow 192.0.2.200/32, deny 203.0.113.0/24.
configure() {
	local run=()
	[ -n "${show_commands:-}" ] && run=(show)
	"$comb" map pin "$ddos" --dir "$1" >/dev/null
	"${run[@]}" "$comb" map update "$1/allow_list" 20000000c00002c8 01000000
	"${run[@]}" "$comb" map update "$1/deny_list" 18000000cb007100 01000000
}

step "1. The attack: $(basename "$pcap") ($(( $(stat -c %s "$pcap") / 1024 )) KiB)"
cat <<'EOF'
  20 web clients, a DNS resolver and a monitoring host (192.0.2.0/24), a client
  sending far above its rate, a SYN flood from 198.18.0.1-4, DNS and NTP
  amplification from 198.18.1.0/24 and 198.18.2.0/24, and a network on the
  deny list (203.0.113.0/24), all to one server.
EOF

step "2. Control plane: load the mitigator, pin its maps, fill the allow and deny lists"
echo "(an LPM key: the prefix length, little-endian, then the IPv4 address)"
show_commands=yes configure "$tmp/maps"

step "3. Run it over the capture (the JIT; dropped packets go to a pcap)"
show "$comb" xdp "$ddos" --pin-maps "$tmp/maps" --pcap "$pcap" --out-drop "$tmp/dropped.pcap"

step "4. Why: the program's per-reason counters, read from its map"
reason_table "$tmp/maps/reason_counters"

step "5. The same run in each of comb's engines (fresh maps each time)"
for engine in jit interp checked; do
	configure "$tmp/maps-$engine"
	json=$("$comb" xdp "$ddos" --pin-maps "$tmp/maps-$engine" --pcap "$pcap" --engine "$engine" --json)
	drop=$(grep -o '"DROP": {"packets": [0-9]*' <<<"$json" | grep -o '[0-9]*$')
	pps=$(grep -o '"packets_per_second": [0-9]*' <<<"$json" | grep -o '[0-9]*$')
	printf '  %-8s %4d of 1070 packets dropped, %9d packets/s\n' "$engine" "$drop" "$pps"
done
echo
echo "More: examples/*/README.md (DDoS mitigator, L4 load balancer, flow monitor)."
