# tests/e2e/assert.bash - assertions shared by the end-to-end CLI scripts.
#
# Sourced (not run: tests/run.sh runs only *.sh). The caller sets COMB (the
# comb binary), OUT and ERR (files for the last run's output) and the
# counters passed=0 failed=0, and prints "NAME: $passed passed, $failed
# failed" at the end.

fail() {
	failed=$((failed + 1))
	echo "FAIL: $1"
	[ -s "$OUT" ] && sed -n '1,5s/^/    stdout: /p' "$OUT"
	[ -s "$ERR" ] && sed -n '1,5s/^/    stderr: /p' "$ERR"
	return 0
}
pass() { passed=$((passed + 1)); }

# run_comb ARGS...: run comb, keep stdout/stderr in $OUT/$ERR, status in $rc.
run_comb() {
	"$COMB" "$@" >"$OUT" 2>"$ERR" </dev/null
	rc=$?
}

# expect NAME RC [STDOUT_REGEX [STDERR_REGEX [quiet]]]: check the last run.
# A failure must explain itself on stderr unless the 5th argument is "quiet".
expect() {
	local name=$1 want_rc=$2 out_re=${3:-} err_re=${4:-} quiet=${5:-}
	if [ "$rc" != "$want_rc" ]; then
		fail "$name: exit status $rc, expected $want_rc"
	elif [ -n "$out_re" ] && ! grep -Eq -- "$out_re" "$OUT"; then
		fail "$name: stdout does not match /$out_re/"
	elif [ -n "$err_re" ] && ! grep -Eq -- "$err_re" "$ERR"; then
		fail "$name: stderr does not match /$err_re/"
	elif [ "$want_rc" != 0 ] && [ -z "$quiet" ] && [ ! -s "$ERR" ]; then
		fail "$name: failed without a message on stderr"
	else
		pass
	fi
}

# check NAME COMMAND...: passes when COMMAND succeeds.
check() {
	local name=$1
	shift
	if "$@"; then pass; else fail "$name"; fi
}
