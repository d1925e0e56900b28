#!/usr/bin/env bash
# tests/run.sh - run every test suite and add up their counts.
#
# Each suite prints a line "NAME: N passed, N failed"; this script prints
# them as they come and ends with the total "N passed, N failed".
# Environment: BUILD (build directory), CONFORMANCE_DIR (the BPF conformance
# suite; skipped, with a message, when it does not exist).
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
CONFORMANCE_DIR=${CONFORMANCE_DIR:-../shared/conformance}
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
passed=0 failed=0 broken=()

run_suite() { # name command...
	local name=$1; shift
	echo "== $name"
	"$@" >"$log/$name.out" 2>&1
	local rc=$?
	local counts
	counts=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$log/$name.out" | tail -n 1)
	if [[ -z $counts ]]; then
		cat "$log/$name.out"
		echo "$name: did not report its counts (exit $rc)"
		failed=$((failed + 1)); broken+=("$name"); return
	fi
	# Show failures and skips, keep passing noise out.
	grep -E '^FAIL|^  |skipped|SKIP' "$log/$name.out" | head -n 50
	echo "$counts"
	local p f
	p=$(grep -oE '[0-9]+ passed' <<<"$counts" | grep -oE '[0-9]+')
	f=$(grep -oE '[0-9]+ failed' <<<"$counts" | grep -oE '[0-9]+')
	passed=$((passed + p)); failed=$((failed + f))
	if [[ $rc -ne 0 && $f -eq 0 ]]; then
		echo "$name: exited $rc"; failed=$((failed + 1)); broken+=("$name")
	fi
	[[ $f -ne 0 ]] && broken+=("$name")
}

# Nothing a test loads into the kernel may stay pinned in bpffs.
bpffs_before=$(ls -A /sys/fs/bpf 2>/dev/null | sort)

run_suite unit "$BUILD/unit-tests"
if [[ -d $CONFORMANCE_DIR ]]; then
	for engine in interp checked jit; do
		run_suite "conformance-$engine" "$BUILD/comb" conformance "$CONFORMANCE_DIR" --engine "$engine"
	done
else
	echo "== conformance: skipped ($CONFORMANCE_DIR does not exist)"
fi
for script in tests/e2e/*.sh; do
	[[ -e $script ]] || continue
	run_suite "e2e-$(basename "$script" .sh)" env CONFORMANCE_DIR="$CONFORMANCE_DIR" "$script" "$BUILD"
done
run_suite kernel-diff "$BUILD/kernel-diff"
run_suite kernel-progs "$BUILD/kernel-progs" "$BUILD/progs"
run_suite object-compare "$BUILD/object-compare"
run_suite core-compare "$BUILD/core-compare"
run_suite kernel-maptypes "$BUILD/kernel-maptypes"
run_suite kernel-maps "$BUILD/kernel-maps"
run_suite kernel-ctx "$BUILD/kernel-ctx"
run_suite kernel-verdicts "$BUILD/kernel-verdicts" "$BUILD/progs"
run_suite kernel-xdp "$BUILD/kernel-xdp" "$BUILD/progs"
run_suite xdp-filter-compare "$BUILD/xdp-filter-compare"
run_suite kernel-fib "$BUILD/kernel-fib"
run_suite real-verdicts "$BUILD/real-verdicts"
run_suite verifier-soundness "$BUILD/verifier-soundness"

echo "== bpffs left clean"
left=$(comm -13 <(echo "$bpffs_before") <(ls -A /sys/fs/bpf 2>/dev/null | sort))
if [[ -n $left ]]; then
	echo "FAIL: the tests left pins in /sys/fs/bpf: $(echo $left)"
	failed=$((failed + 1))
	broken+=(bpffs-clean)
else
	passed=$((passed + 1))
fi

echo
[[ ${#broken[@]} -gt 0 ]] && echo "failing suites: ${broken[*]}"
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
