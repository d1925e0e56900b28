# tests/e2e/assert.bash - assertions shared by the end-to-end CLI scripts.
#
# Sourced (not run: tests/run.sh runs only *.sh). A script starts with
# `e2e_setup NAME BUILD_DIR` (COMB, TMP, OUT, ERR, the counters, cleanup at
# exit), names the files it needs with `e2e_require FILE...`, and ends with
# `e2e_summary`, which prints "NAME: N passed, N failed" and is the exit
# status.

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

# e2e_setup NAME BUILD_DIR: the common start of a script. Sets BUILD_DIR
# (made absolute), COMB (which must be an executable, else the script exits
# 1), TMP (a private mktemp -d directory), OUT and ERR ($TMP/stdout and
# $TMP/stderr: the last run's output) and passed=0 failed=0. At exit,
# e2e_on_exit runs when the script defines it (to stop processes, remove
# namespaces), then TMP is removed unless KEEP is set (to look at it after a
# failure).
e2e_setup() {
	E2E_NAME=$1
	BUILD_DIR=$(cd "${2:?usage: $0 BUILD_DIR}" && pwd) || exit 1
	COMB=$BUILD_DIR/comb
	[ -x "$COMB" ] || { echo "$E2E_NAME: $COMB is not an executable (make it first)" >&2; exit 1; }
	TMP=$(mktemp -d "${TMPDIR:-/tmp}/comb-$E2E_NAME.XXXXXX") || exit 1
	trap e2e_exit EXIT
	OUT=$TMP/stdout
	ERR=$TMP/stderr
	passed=0
	failed=0
}

e2e_exit() {
	declare -F e2e_on_exit >/dev/null && e2e_on_exit
	if [ -n "${KEEP:-}" ]; then echo "$E2E_NAME: kept $TMP"; else rm -rf "$TMP"; fi
}

# e2e_require FILE...: exit 1 with a message when a file the script needs
# (an object built by make) is missing.
e2e_require() {
	local f
	for f in "$@"; do
		[ -e "$f" ] || { echo "$E2E_NAME: $f is missing (make it first)" >&2; exit 1; }
	done
}

# e2e_summary: the last line, "NAME: N passed, N failed"; fails when any did.
e2e_summary() {
	echo "$E2E_NAME: $passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}
