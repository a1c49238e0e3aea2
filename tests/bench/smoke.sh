#!/usr/bin/env bash
# smoke.sh: the benchmark's smoke test for `make test`.  A tiny run (20
# clients, 20 items, tickerd and the floor; then 20 EventSource readers of
# tickerd) that asserts only that every client received every item and that
# the table printed -- no timing.
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
complete() { # complete TARGET [SCENARIO]
	grep -q "^RESULT scenario=${2:-smoke} target=$1 clients=20 items=20 .* complete=20 missing=0 disorder=0 " "$raw"
}
check "tickerd: 20 clients x 20 items delivered" complete tickerd
check "floor: 20 clients x 20 items delivered" complete floor
check "tickerd EventSource: 20 readers x 20 items delivered" complete tickerd sse-smoke
# each response was a 200 text/event-stream, each event named as its data
check "tickerd EventSource: heads and event names as expected" \
	grep -q '^RESULT scenario=sse-smoke .* proto=sse bad_head=0 sse_comments=[0-9]* sse_mismatch=0$' "$raw"
check "the table printed" grep -q '^smoke .*server CPU per delivery' "$raw"
check "the EventSource rows printed" grep -q '^sse-smoke .*server CPU per delivery' "$raw"
# permessage-deflate (compress.mjs): the snapshot went compressed, the rows printed
check "compress: deflate clients got a compressed snapshot" \
	grep -q '^RESULT scenario=compress kind=deflate .* snapshot_rsv1=1 ' "$raw"
check "compress: plain clients got plain frames" \
	grep -q '^RESULT scenario=compress kind=plain .* snapshot_rsv1=0 .* item_rsv1=0 ' "$raw"
check "the compress rows printed" grep -q '^compress  bytes per 50-item snapshot' "$raw"

echo "bench smoke: $pass passed, $fail failed"
((fail == 0))
