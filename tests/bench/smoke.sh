#!/usr/bin/env bash
# smoke.sh: the benchmark's smoke test for `make test`.  A tiny run (20
# clients, 20 items, tickerd, the floor and the Node peers ws and Socket.IO;
# then 20 EventSource readers of tickerd; then 40 clients from two generator
# processes to tickerd and the floor on two processes each; a storm of 20,
# also through HAProxy as deploy/ configures it) that asserts
# only that every client received every item and that the table printed --
# no timing.
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
BENCH_SMOKE_RAW=$raw timeout 170 "$HERE/run.sh" --smoke || status=$?
check "run.sh --smoke exited 0" test "$status" -eq 0

# every client got every item, in order, from each target
complete() { # complete TARGET [SCENARIO]
	grep -q "^RESULT scenario=${2:-smoke} target=$1 clients=${3:-20} items=20 .* complete=${3:-20} missing=0 disorder=0 " "$raw"
}
check "tickerd: 20 clients x 20 items delivered" complete tickerd
check "floor: 20 clients x 20 items delivered" complete floor
# the peers: installed by npm ci, or the run failed above and they are missing here
check "ws (Node ws + ioredis): 20 clients x 20 items delivered" complete ws
check "sio (Socket.IO + redis-adapter): 20 Socket.IO clients x 20 items delivered" complete sio
check "no peer reported missing" bash -c '! grep -q "^MISSING " "$0"' "$raw"
# two server processes on one port, clients from two generator processes
two_procs() { # two_procs TARGET
	complete "$1" smoke2 40 && grep -q "^RESULT scenario=smoke2 target=$1 .* gen_procs=2 server_procs=2$" "$raw"
}
check "tickerd on 2 processes: 40 clients (2 generator processes) x 20 items delivered" two_procs tickerd
check "floor on 2 processes: 40 clients (2 generator processes) x 20 items delivered" two_procs floor
# SO_REUSEPORT spread them: each floor process served some (it says so as it exits)
served_by_both() {
	test "$(awk '/^# smoke2 \/ floor,/ { on = 1; next }
		on && /^# [a-z0-9-]+ \/ / { on = 0 }
		on && /^# floor log: floor: exiting with [0-9]+ clients, [1-9][0-9]* served$/ { n++ }
		END { print n + 0 }' "$raw")" -eq 2
}
check "both floor processes served clients in smoke2" served_by_both
check "tickerd EventSource: 20 readers x 20 items delivered" complete tickerd sse-smoke
# each response was a 200 text/event-stream, each event named as its data
check "tickerd EventSource: heads and event names as expected" \
	grep -q '^RESULT scenario=sse-smoke .* proto=sse bad_head=0 sse_comments=[0-9]* sse_mismatch=0$' "$raw"
# the storm: every client back (resumed: no snapshot) and then every item,
# tickerd twice (--storm-rounds 2), the others once; and through HAProxy
stormed() { # stormed SCENARIO TARGET RUNS
	test "$(grep -c "^RESULT scenario=$1 target=$2 clients=20 .* storm_ready=20 storm_snapshots=0 .* complete=20 missing=0 disorder=0 " "$raw")" -eq "$3"
}
check "tickerd: 20 clients back after a storm, resumed, twice" stormed storm tickerd 2
for t in floor ws sio; do
	check "$t: 20 clients back after a storm, once" stormed storm $t 1
done
check "tickerd behind deploy/haproxy/haproxy.cfg: 20 clients back after a storm, resumed, twice" \
	stormed storm-haproxy tickerd 2
check "the storm rows printed (runs within 1 s)" grep -q '^storm/hap  runs all back within 1000 ms ' "$raw"
check "the table printed" grep -q '^smoke .*server CPU per delivery' "$raw"
check "the EventSource rows printed" grep -q '^sse-smoke .*server CPU per delivery' "$raw"
# permessage-deflate (compress.mjs): the snapshot went compressed, the rows printed
check "compress: deflate clients got a compressed snapshot" \
	grep -q '^RESULT scenario=compress kind=deflate .* snapshot_rsv1=1 ' "$raw"
check "compress: plain clients got plain frames" \
	grep -q '^RESULT scenario=compress kind=plain .* snapshot_rsv1=0 .* item_rsv1=0 ' "$raw"
check "the compress rows printed" grep -q '^compress  bytes per 50-item snapshot' "$raw"
check "the table has the peers' columns" grep -q '^scenario .* ws  *sio .* t/ws  *t/sio ' "$raw"
check "the two-process rows printed" grep -q '^smoke2 .*server CPU per delivery' "$raw"

echo "bench smoke: $pass passed, $fail failed"
((fail == 0))
