#!/usr/bin/env bash
# tests/e2e/btf.sh - `comb btf dump` against bpftool, the reference.
#
# Usage: tests/e2e/btf.sh BUILD_DIR   (BUILD_DIR holds comb and progs/)
#
# For the test objects, Debian's xdp-tools objects and the running kernel's
# /sys/kernel/btf/vmlinux, `comb btf dump FILE --format c|raw` must print
# exactly what `bpftool btf dump file FILE format c|raw` prints. Bad input
# (a missing file, a file with no BTF, a truncated BTF blob) must give an
# error naming the file and exit 1. Ends with `btf: N passed, N failed`.
set -u
BUILD_DIR=$(cd "${1:?usage: tests/e2e/btf.sh BUILD_DIR}" && pwd)
COMB=$BUILD_DIR/comb
TMP=$(mktemp -d "${TMPDIR:-/tmp}/comb-btf.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
passed=0 failed=0

pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }

same_as_bpftool() { # file format
	local file=$1 format=$2
	if ! "$COMB" btf dump "$file" --format "$format" >"$TMP/comb.out" 2>"$TMP/comb.err"; then
		fail "comb btf dump $file --format $format: exit $? ($(head -c 200 "$TMP/comb.err"))"
		return
	fi
	bpftool btf dump file "$file" format "$format" >"$TMP/bpftool.out" 2>/dev/null
	if cmp -s "$TMP/comb.out" "$TMP/bpftool.out"; then
		pass
	else
		fail "comb btf dump $file --format $format differs from bpftool: $(diff "$TMP/bpftool.out" "$TMP/comb.out" | head -n 4 | tr '\n' ' ')"
	fi
}

expect_error() { # description args...
	local what=$1; shift
	if "$COMB" btf dump "$@" >"$TMP/out" 2>"$TMP/err"; then
		fail "$what: exit 0, expected an error"
	elif [[ ! -s $TMP/err ]] || ! grep -q "comb" "$TMP/err"; then
		fail "$what: no error message"
	else
		pass
	fi
}

if ! command -v bpftool >/dev/null; then
	echo "btf: skipped (bpftool is not installed)"
	echo "btf: 0 passed, 0 failed"
	exit 0
fi

files=("$BUILD_DIR"/progs/*.bpf.o)
for f in /usr/lib/x86_64-linux-gnu/bpf/*.o; do [[ -e $f ]] && files+=("$f"); done
[[ -r /sys/kernel/btf/vmlinux ]] && files+=(/sys/kernel/btf/vmlinux)
for f in "${files[@]}"; do
	for format in c raw; do
		same_as_bpftool "$f" "$format"
	done
done

expect_error "missing file" "$TMP/does-not-exist.o"
printf 'not an object\n' >"$TMP/text.o"
expect_error "file that is neither ELF nor BTF" "$TMP/text.o"
head -c 100 /sys/kernel/btf/vmlinux >"$TMP/truncated.btf" 2>/dev/null && \
	expect_error "truncated BTF" "$TMP/truncated.btf"
expect_error "unknown format" "${files[0]}" --format yaml

echo "btf: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
