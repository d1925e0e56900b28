#!/usr/bin/env bash
# tests/e2e/ringbuf.sh - `comb ringbuf PIN` against producers in other processes.
#
# Usage: tests/e2e/ringbuf.sh BUILD_DIR   (BUILD_DIR holds comb, progs/ and e2e/)
#
# Pins the RINGBUF map `events` of progs/ringbuf_out.bpf.o with `comb map
# pin`, then runs `comb ringbuf PIN --count N` in the background while
# e2e/ringbuf-producer (another process, which opens the same pin by path)
# runs the object's program N times: every record must be printed, in
# order, each {seq, "combring"} as the program wrote it, and the consumer
# must finish in bounded time (it sleeps until a producer wakes it through
# PIN.wake, never polls). Also: records written while no consumer runs wait
# in the pinned ring; a lone record wakes a consumer that is asleep;
# SIGINT ends a consumer; a pin that is not a ring buffer and a missing pin
# are refused. Ends with `ringbuf: N passed, N failed`; exits 1 on failure.
set -u

BUILD_DIR=${1:?usage: tests/e2e/ringbuf.sh BUILD_DIR}
BUILD_DIR=$(cd "$BUILD_DIR" && pwd)
COMB=$BUILD_DIR/comb
OBJ=$BUILD_DIR/progs/ringbuf_out.bpf.o
PRODUCER=$BUILD_DIR/e2e/ringbuf-producer
for f in "$COMB" "$PRODUCER"; do
	[ -x "$f" ] || { echo "ringbuf: $f is not an executable (make it first)" >&2; exit 1; }
done
[ -f "$OBJ" ] || { echo "ringbuf: $OBJ is missing (make it first)" >&2; exit 1; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/comb-ringbuf.XXXXXX")
consumer_pid=
trap '[ -n "$consumer_pid" ] && kill "$consumer_pid" 2>/dev/null; rm -rf "$TMP"' EXIT
PIN=$TMP/events
OUT=$TMP/out
ERR=$TMP/err
passed=0
failed=0

fail() {
	failed=$((failed + 1))
	echo "FAIL: $1"
	[ -s "$OUT" ] && sed -n '1,3s/^/    stdout: /p' "$OUT"
	[ -s "$ERR" ] && sed -n '1,3s/^/    stderr: /p' "$ERR"
	return 0
}
pass() { passed=$((passed + 1)); }
check() { # NAME CONDITION-EXIT-STATUS
	if [ "$2" = 0 ]; then pass; else fail "$1"; fi
}

# start_consumer ARGS...: `comb ringbuf PIN ARGS` in the background, killed
# after 30 s; returns once it has registered its FIFO (PIN.wake).
start_consumer() {
	rm -f "$OUT" "$ERR"
	timeout 30 "$COMB" ringbuf "$PIN" "$@" >"$OUT" 2>"$ERR" </dev/null &
	consumer_pid=$!
	for _ in $(seq 100); do
		[ -p "$PIN.wake" ] && return 0
		sleep 0.05
	done
	return 1
}

# wait_consumer: its exit status in rc.
wait_consumer() {
	wait "$consumer_pid"
	rc=$?
	consumer_pid=
}

# records_in_order FIRST COUNT: OUT holds exactly COUNT records, seq FIRST
# on, each "16: <seq as 8 little-endian bytes>676e6972626d6f63".
records_in_order() {
	awk -v first="$1" -v count="$2" '
		function le64(n,   s, b) { s = ""; for (b = 0; b < 8; b++) { s = s sprintf("%02x", n % 256); n = int(n / 256) } return s }
		{ want = "16: " le64(first + NR - 1) "676e6972626d6f63"; if ($0 != want) { print "line " NR ": " $0 " (want " want ")"; bad = 1; exit } }
		END { if (!bad && NR != count) { print NR " records, want " count; bad = 1 } exit bad }' "$OUT"
}

# --- pin the ring ---------------------------------------------------------

"$COMB" map pin "$OBJ" --dir "$TMP" events >"$OUT" 2>"$ERR"
check "comb map pin of a RINGBUF map" $?
[ -f "$PIN" ] || { fail "no pinned file at $PIN"; echo "ringbuf: $passed passed, $failed failed"; exit 1; }

# --- a producer process at full speed, a consumer process asleep between wakeups

N=20000 # the 16 KiB ring holds ~680 records: it fills and drains many times
start_consumer --count "$N"
check "consumer registers PIN.wake" $?
sleep 0.2 # asleep by now: only a wakeup gets it going
"$PRODUCER" "$OBJ" events "$PIN" "$N" 2>"$TMP/producer.err"
check "producer process writes $N records through the pinned ring" $?
wait_consumer
check "consumer exits 0 after $N records (not killed by the 30 s timeout)" "$rc"
records_in_order 0 "$N" >"$TMP/why"
check "all $N records, in order, as written ($(cat "$TMP/why"))" $?

# --- records wait in the pinned ring while no consumer runs --------------------

"$PRODUCER" "$OBJ" events "$PIN" 10
check "producer with no consumer running" $?
start_consumer --count 10
wait_consumer
check "consumer started later exits 0" "$rc"
records_in_order 0 10 >"$TMP/why"
check "records kept in the pinned ring ($(cat "$TMP/why"))" $?

# --- one record wakes a sleeping consumer -----------------------------------

start_consumer --count 1 --json
sleep 0.5
start=$(date +%s%N)
"$PRODUCER" "$OBJ" events "$PIN" 1
wait_consumer
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
check "lone record: consumer exits 0" "$rc"
grep -qx '{"size": 16, "data": "0000000000000000676e6972626d6f63"}' "$OUT"
check "lone record printed as JSON" $?
[ "$elapsed_ms" -lt 5000 ]
check "sleeping consumer woken within 5 s (took ${elapsed_ms} ms)" $?

# --- SIGINT ends a consumer that waits forever ------------------------------

start_consumer
sleep 0.2
kill -INT "$consumer_pid"
wait_consumer
check "SIGINT ends comb ringbuf with status 0" "$rc"

# --- pins that are not ring buffers -----------------------------------------

"$COMB" map pin "$OBJ" --dir "$TMP" .bss >/dev/null 2>&1
"$COMB" ringbuf "$TMP/.bss" --count 1 >"$OUT" 2>"$ERR" </dev/null
rc=$?
[ "$rc" = 1 ] && grep -q "ring buffer" "$ERR"
check "an array pin is refused with a message" $?
"$COMB" ringbuf "$TMP/missing" --count 1 >"$OUT" 2>"$ERR" </dev/null
rc=$?
[ "$rc" = 1 ] && [ -s "$ERR" ]
check "a missing pin is refused with a message" $?

echo "ringbuf: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
