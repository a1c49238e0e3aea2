#!/usr/bin/env bash
# smoke.sh: the benchmark's smoke test for `make test`.  A tiny run (20
# clients, 20 items, tickerd and the floor) that asserts only that every
# client received every item and that the table printed -- no timing.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
raw=$(mktemp "${TMPDIR:-/tmp}/tickerd-bench-smoke.XXXXXX")
trap 'rm -f "$raw"' EXIT

pass=0 fail=0
check() { # check NAME CONDITION...
	local name=$1
	shift
	if "$@"; then
		pass=$((pass + 1))
		echo "ok - $name"
	else
		fail=$((fail + 1))
		echo "not ok - $name"
	fi
}

status=0
BENCH_SMOKE_RAW=$raw timeout 60 "$HERE/run.sh" --smoke || status=$?
check "run.sh --smoke exited 0" test "$status" -eq 0

# every client got every item, in order, from each target
complete() {
	grep -q "^RESULT scenario=smoke target=$1 clients=20 items=20 .* complete=20 missing=0 disorder=0 " "$raw"
}
check "tickerd: 20 clients x 20 items delivered" complete tickerd
check "floor: 20 clients x 20 items delivered" complete floor
check "the table printed" grep -q '^smoke .*server CPU per delivery' "$raw"

echo "bench smoke: $pass passed, $fail failed"
((fail == 0))
