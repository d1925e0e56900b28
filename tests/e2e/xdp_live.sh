#!/usr/bin/env bash
# tests/e2e/xdp_live.sh - `comb xdp` on live traffic: --iface, --bridge, --tap, --xsk.
#
# Usage: tests/e2e/xdp_live.sh BUILD_DIR   (BUILD_DIR holds comb and progs/)
#
# Builds its own topology in network namespaces named after this process
# (removed on every exit path by the trap, with anything comb left running):
#
#   ns A: a0 10.77.0.1 ==veth== a1 [ns C: comb] b1 ==veth== b0 10.77.0.2 :ns B
#
# and runs tests/progs/xdp_live_fw.bpf.o (UDP to a blocked port -> DROP, UDP
# to a redirect port -> bpf_redirect, ICMP echo to x.x.x.254 -> reply by
# XDP_TX, stats[action] counters) on it. Traffic comes from python3 raw and
# UDP sockets (a ping that checks the reply's checksum, a UDP sender and a
# counting receiver). Checks:
#   bridge (--iface a1 --bridge b1 --pin-maps DIR): TX replies arrive; B
#     answers pings through the bridge; UDP reaches B; `comb map dump` reads
#     the pinned counters while comb runs; `comb map update` blocking the
#     port makes B receive nothing (and DROP counts them), `comb map delete`
#     lets it through again; SIGINT ends the run with the summary.
#   --iface a1 alone: TX replies go back out of a1; UDP redirected (map
#     entry set while running) to b1's ifindex reaches B; --count stops.
#   --tap: the host's pings into a TAP device come back as TX replies.
#   --iface a1 --tap T and --xsk a1 --tap T (T moved to a host namespace H
#     after comb attaches): PASS reaches the host through the TAP, the host
#     answers through comb; blocked UDP never reaches the host.
#   --xsk a1: TX replies through the AF_XDP socket; libxdp's program is
#     attached while comb runs and gone after SIGTERM; --xsk on a bridge
#     device (no native XDP) falls back to generic mode and detaches too.
# Skips (with a message) only when network namespaces cannot be created.
# Ends with `xdp_live: N passed, N failed`; exits 1 on failure.
set -u
. "$(cd "$(dirname "$0")" && pwd)/assert.bash"

ID=$$
NA=combA$ID NB=combB$ID NC=combC$ID NH=combH$ID
NSES=()
COMB_PID=

# Run at exit by e2e_setup's trap, before TMP goes.
e2e_on_exit() {
	if [ -n "$COMB_PID" ]; then
		kill -TERM "$COMB_PID" 2>/dev/null
		wait "$COMB_PID" 2>/dev/null
	fi
	for ns in "${NSES[@]}"; do ip netns del "$ns" 2>/dev/null; done
}
e2e_setup xdp_live "${1:-}"
e2e_require "$BUILD_DIR/progs/xdp_live_fw.bpf.o"
OBJ=$BUILD_DIR/progs/xdp_live_fw.bpf.o
trap 'exit 1' INT TERM

if ! ip netns add "$NA" 2>"$TMP/netns.err"; then
	echo "xdp_live: SKIP: cannot create a network namespace ($(cat "$TMP/netns.err")); live tests need root"
	echo "xdp_live: 0 passed, 0 failed"
	exit 0
fi
NSES+=("$NA")
for ns in "$NB" "$NC" "$NH"; do ip netns add "$ns" && NSES+=("$ns"); done

# Traffic helpers in python3: ping DST N, udp-send DST PORT N, udp-recv PORT SECONDS READYFILE.
cat >"$TMP/traffic.py" <<'EOF'
import os, select, socket, struct, sys, time
def csum(b):
    if len(b) % 2: b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    s = (s & 0xffff) + (s >> 16); s += s >> 16
    return ~s & 0xffff
def ping(dst, count):
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    ident = os.getpid() & 0xffff; got = set(); body = b'comb-live' * 4
    for seq in range(count):
        head = struct.pack('!BBHHH', 8, 0, 0, ident, seq)
        s.sendto(struct.pack('!BBHHH', 8, 0, csum(head + body), ident, seq) + body, (dst, 0))
        end = time.time() + 1.0
        while seq not in got and time.time() < end:
            if not select.select([s], [], [], max(0, end - time.time()))[0]: break
            data, addr = s.recvfrom(4096)
            icmp = data[(data[0] & 15) * 4:]
            if addr[0] == dst and icmp[0] == 0 and icmp[4:6] == struct.pack('!H', ident) and csum(icmp) == 0:
                got.add(struct.unpack('!H', icmp[6:8])[0])
    print(len(got))
def udp_send(dst, port, count):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for i in range(count):
        s.sendto(b'comb %d' % i, (dst, port)); time.sleep(0.002)
def udp_raw_send(src, dst, port, count):
    # UDP with its checksum computed here: no checksum offload on the way.
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    sa, da = socket.inet_aton(src), socket.inet_aton(dst)
    for i in range(count):
        data = b'comb raw %d' % i
        udp = struct.pack('!HHHH', 40000, port, 8 + len(data), 0) + data
        c = csum(sa + da + struct.pack('!BBH', 0, 17, len(udp)) + udp) or 0xffff
        udp = udp[:6] + struct.pack('!H', c) + udp[8:]
        ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), i, 0, 64, 17, 0, sa, da)
        ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
        s.sendto(ip + udp, (dst, 0)); time.sleep(0.002)
def udp_recv(port, seconds, ready):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('0.0.0.0', port))
    open(ready, 'w').close(); n = 0; end = time.time() + seconds
    while time.time() < end:
        if select.select([s], [], [], max(0, end - time.time()))[0]: s.recv(4096); n += 1
    print(n)
a = sys.argv
if a[1] == 'ping': ping(a[2], int(a[3]))
elif a[1] == 'udp-send': udp_send(a[2], int(a[3]), int(a[4]))
elif a[1] == 'udp-raw-send': udp_raw_send(a[2], a[3], int(a[4]), int(a[5]))
elif a[1] == 'udp-recv': udp_recv(int(a[2]), float(a[3]), a[4])
EOF

in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
traffic() { local ns=$1; shift; in_ns "$ns" python3 "$TMP/traffic.py" "$@"; }

# udp_through SENDER_NS RECEIVER_NS DST PORT N [SRC]: how many of N datagrams
# arrive. With SRC, sent through a raw socket with the checksum filled in:
# AF_XDP cannot tell a veth peer's offloaded (partial) checksum from a bad one.
udp_through() {
	local sender=$1 receiver=$2 dst=$3 port=$4 n=$5 src=${6:-}
	rm -f "$TMP/ready"
	traffic "$receiver" udp-recv "$port" 1.5 "$TMP/ready" >"$TMP/recv" &
	local rpid=$!
	for _ in $(seq 50); do [ -e "$TMP/ready" ] && break; sleep 0.05; done
	if [ -n "$src" ]; then
		traffic "$sender" udp-raw-send "$src" "$dst" "$port" "$n"
	else
		traffic "$sender" udp-send "$dst" "$port" "$n"
	fi
	wait "$rpid"
	cat "$TMP/recv"
}

# check_eq NAME GOT WANT
check_eq() {
	if [ "$2" = "$3" ]; then pass; else fail "$1: got '$2', expected '$3'"; fi
}

# start_comb NAME ARGS...: comb xdp OBJ ARGS in ns C, in the background,
# output in COMB_OUT/COMB_ERR (OUT/ERR stay free for other commands); waits
# for its "ready" line. Returns 1 (and leaves no process) if it exits first.
start_comb() {
	local name=$1; shift
	COMB_OUT=$TMP/$name.out COMB_ERR=$TMP/$name.err
	OUT=$COMB_OUT ERR=$COMB_ERR
	# Not through a shell function: $! must be comb itself (ip execs it) for
	# the signals below to reach it. --duration bounds every run.
	ip netns exec "$NC" "$COMB" xdp "$OBJ" --duration 60 "$@" >"$OUT" 2>"$ERR" </dev/null &
	COMB_PID=$!
	for _ in $(seq 100); do
		grep -q 'ready' "$ERR" 2>/dev/null && return 0
		kill -0 "$COMB_PID" 2>/dev/null || break
		sleep 0.05
	done
	wait "$COMB_PID"; rc=$?
	COMB_PID=
	return 1
}
# After start_comb: other commands' output goes elsewhere.
started() { OUT=$TMP/cmd.out ERR=$TMP/cmd.err; }

# stop_comb SIGNAL: stop it, status in $rc, OUT/ERR its output.
stop_comb() {
	OUT=$COMB_OUT ERR=$COMB_ERR
	kill "-$1" "$COMB_PID"
	wait "$COMB_PID"; rc=$?
	COMB_PID=
}

# stat_of PIN ACTION: stats[ACTION] from `comb map dump --json` of a pinned map.
stat_of() {
	"$COMB" map dump "$1" --json 2>/dev/null | python3 -c '
import json, sys
for e in json.load(sys.stdin):
    key = int.from_bytes(bytes(int(b, 16) for b in e["key"]), "little")
    if key == int(sys.argv[1]):
        print(int.from_bytes(bytes(int(b, 16) for b in e["value"]), "little"))' "$2"
}

# --- topology ------------------------------------------------------------
# No IPv6: its autoconfiguration chatter would run the program at odd times.
for ns in "${NSES[@]}"; do
	in_ns "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
ip link add a0 netns "$NA" type veth peer name a1 netns "$NC"
ip link add b0 netns "$NB" type veth peer name b1 netns "$NC"
ip -n "$NA" addr add 10.77.0.1/24 dev a0
ip -n "$NB" addr add 10.77.0.2/24 dev b0
for l in "$NA a0" "$NB b0" "$NC a1" "$NC b1" "$NA lo" "$NB lo" "$NC lo" "$NH lo"; do
	ip -n ${l% *} link set ${l#* } up
done
ip -n "$NA" neigh add 10.77.0.254 lladdr 02:00:00:00:00:fe dev a0
B1_IFINDEX=$(in_ns "$NC" cat /sys/class/net/b1/ifindex)

# --- bridge, pinned maps, control plane while running ---------------------
PIN=$TMP/pins
if start_comb bridge --iface a1 --bridge b1 --pin-maps "$PIN"; then
	pass; started
	check_eq "bridge: TX replies to pings of .254" "$(traffic "$NA" ping 10.77.0.254 5)" 5
	check_eq "bridge: B answers pings through the bridge" "$(traffic "$NA" ping 10.77.0.2 3)" 3
	check_eq "bridge: UDP to port 9999 reaches B" "$(udp_through "$NA" "$NB" 10.77.0.2 9999 20)" 20
	tx=$(stat_of "$PIN/stats" 3)
	if [ -n "$tx" ] && [ "$tx" -ge 5 ]; then pass; else fail "bridge: pinned stats[TX] read while running: '$tx', expected >= 5"; fi
	run_comb map update "$PIN/blocked_ports" "27 0f" "01 00 00 00"
	expect "bridge: map update blocks port 9999 while running" 0
	check_eq "bridge: blocked UDP does not reach B" "$(udp_through "$NA" "$NB" 10.77.0.2 9999 20)" 0
	drops=$(stat_of "$PIN/stats" 1)
	check_eq "bridge: stats[DROP] counts the blocked datagrams" "$drops" 20
	check_eq "bridge: other ports still pass" "$(udp_through "$NA" "$NB" 10.77.0.2 9998 10)" 10
	run_comb map delete "$PIN/blocked_ports" "27 0f"
	expect "bridge: map delete unblocks" 0
	check_eq "bridge: unblocked UDP reaches B again" "$(udp_through "$NA" "$NB" 10.77.0.2 9999 10)" 10
	stop_comb INT
	expect "bridge: SIGINT ends with the summary" 0 'DROP +20 packets' 'stopped by signal 2'
	grep -Eq 'TX +5 packets' "$OUT" && pass || fail "bridge: summary counts 5 TX"
else
	fail "bridge: comb did not start"
fi

# --- --iface alone: TX and REDIRECT, --count -----------------------------
PIN2=$TMP/pins2
if start_comb iface --iface a1 --pin-maps "$PIN2" --count 1000000; then
	pass; started
	check_eq "iface: TX replies go back out of a1" "$(traffic "$NA" ping 10.77.0.254 4)" 4
	check_eq "iface: without --bridge nothing reaches B" "$(udp_through "$NA" "$NB" 10.77.0.2 7000 5)" 0
	key_value=$(printf '%08x' "$B1_IFINDEX" | sed -E 's/(..)(..)(..)(..)/\4 \3 \2 \1/')
	run_comb map update "$PIN2/redirect_ports" "1b 58" "$key_value"
	expect "iface: map update adds a redirect to b1" 0
	check_eq "iface: UDP redirected to b1 reaches B" "$(udp_through "$NA" "$NB" 10.77.0.2 7000 10)" 10
	redirects=$(stat_of "$PIN2/stats" 4)
	check_eq "iface: stats[REDIRECT]" "$redirects" 10
	stop_comb TERM
	expect "iface: SIGTERM ends with the summary" 0 'REDIRECT +10 packets'
else
	fail "iface: comb did not start"
fi
if start_comb count --iface a1 --count 3; then
	traffic "$NA" ping 10.77.0.254 5 >/dev/null
	for _ in $(seq 40); do kill -0 "$COMB_PID" 2>/dev/null || break; sleep 0.05; done
	if kill -0 "$COMB_PID" 2>/dev/null; then
		fail "count: comb still runs after --count 3"
		stop_comb TERM
	else
		wait "$COMB_PID"; rc=$?; COMB_PID=
		OUT=$COMB_OUT ERR=$COMB_ERR
		expect "count: --count 3 stops after 3 packets" 0 'TX +3 packets'
	fi
else
	fail "count: comb did not start"
fi

# --- --tap: the host's frames run the program ---------------------------
in_ns "$NC" ip tuntap add tc0 mode tap
in_ns "$NC" ip addr add 10.78.0.1/24 dev tc0
in_ns "$NC" ip link set tc0 up
in_ns "$NC" ip neigh add 10.78.0.254 lladdr 02:00:00:00:00:fe dev tc0
if start_comb tap --tap tc0; then
	pass; started
	check_eq "tap: TX replies come back into the TAP" "$(traffic "$NC" ping 10.78.0.254 4)" 4
	stop_comb INT
	expect "tap: summary" 0 'TX +4 packets'
else
	fail "tap: comb did not start"
fi

# --- inline: --iface or --xsk with --tap, the host in ns H ----------------
# inline_test NAME SOURCE_ARGS...: comb attaches to TAP th0 in C, which then
# moves to ns H (10.77.0.3): frames from A run the program, PASS goes to H.
inline_test() {
	local name=$1; shift
	in_ns "$NC" ip tuntap add th0 mode tap
	PIN3=$TMP/pins-$name
	if ! start_comb "$name" "$@" --tap th0 --pin-maps "$PIN3"; then
		if [ "$rc" = 2 ]; then
			echo "SKIP: $name: comb xdp refuses '$* --tap' (a usage error in the option checks)"
		else
			fail "$name: comb did not start"
		fi
		in_ns "$NC" ip link del th0 2>/dev/null
		return
	fi
	pass; started
	ip -n "$NC" link set th0 netns "$NH"
	ip -n "$NH" addr add 10.77.0.3/24 dev th0
	ip -n "$NH" link set th0 up
	check_eq "$name: the host behind the TAP answers pings" "$(traffic "$NA" ping 10.77.0.3 3)" 3
	check_eq "$name: TX replies still come from the program" "$(traffic "$NA" ping 10.77.0.254 3)" 3
	check_eq "$name: UDP reaches the host" "$(udp_through "$NA" "$NH" 10.77.0.3 9998 10 10.77.0.1)" 10
	if [ "$name" = inline-iface ]; then # offloaded checksums: comb completes them
		check_eq "$name: UDP with offloaded checksums reaches the host" "$(udp_through "$NA" "$NH" 10.77.0.3 9998 10)" 10
	fi
	run_comb map update "$PIN3/blocked_ports" "27 0e" "01 00 00 00"
	expect "$name: map update blocks port 9998" 0
	check_eq "$name: blocked UDP does not reach the host" "$(udp_through "$NA" "$NH" 10.77.0.3 9998 10 10.77.0.1)" 0
	stop_comb INT
	expect "$name: summary" 0 'TX +3 packets'
	ip -n "$NH" link del th0 2>/dev/null
	ip -n "$NA" neigh flush dev a0 2>/dev/null
	ip -n "$NA" neigh add 10.77.0.254 lladdr 02:00:00:00:00:fe dev a0 2>/dev/null
}
inline_test inline-iface --iface a1

# --- AF_XDP --------------------------------------------------------------
xdp_attached() { ip -n "$NC" link show "$1" | grep -q 'prog/xdp'; }
if start_comb xsk --xsk a1 --queue 0; then
	pass; started
	grep -Eq 'AF_XDP a1 queue 0 \((native|generic) mode' "$COMB_ERR" && pass || fail "xsk: the ready line names the mode"
	xdp_attached a1 && pass || fail "xsk: libxdp's program is attached to a1 while comb runs"
	check_eq "xsk: TX replies through the AF_XDP socket" "$(traffic "$NA" ping 10.77.0.254 5)" 5
	stop_comb TERM
	expect "xsk: SIGTERM ends with the summary" 0 'TX +5 packets'
	xdp_attached a1 && fail "xsk: an XDP program is still attached to a1 after exit" || pass
else
	fail "xsk: comb did not start"
fi
inline_test inline-xsk --xsk a1
xdp_attached a1 && fail "inline-xsk: an XDP program is still attached to a1 after exit" || pass

# A Linux bridge device has no native XDP: AF_XDP falls back to generic mode.
if ip -n "$NC" link add d0 type bridge 2>/dev/null; then
	ip -n "$NC" link set d0 up
	if start_comb xsk-generic --xsk d0; then
		grep -q 'generic mode, copy' "$COMB_ERR" && pass || fail "xsk-generic: a bridge device falls back to generic mode"
		xdp_attached d0 && pass || fail "xsk-generic: the program is attached to d0"
		stop_comb INT
		expect "xsk-generic: SIGINT" 0
		xdp_attached d0 && fail "xsk-generic: an XDP program is still attached to d0 after exit" || pass
	else
		fail "xsk-generic: comb did not start"
	fi
else
	echo "SKIP: xsk-generic: cannot create a bridge device to test generic mode"
fi

# --- bad input -------------------------------------------------------------
OUT=$TMP/bad.out ERR=$TMP/bad.err
in_ns "$NC" "$COMB" xdp "$OBJ" --iface nosuch0 >"$OUT" 2>"$ERR" </dev/null; rc=$?
expect "bad: unknown interface" 1 '' 'AF_PACKET nosuch0: no such interface'
in_ns "$NC" "$COMB" xdp "$OBJ" --tap a1 >"$OUT" 2>"$ERR" </dev/null; rc=$?
expect "bad: --tap on a veth" 1 '' 'TAP a1: TUNSETIFF'

e2e_summary
