#!/usr/bin/env bash
# run.sh: tickerd's benchmark (`make bench`).  Runs each scenario against
# tickerd, the raw floor (tests/bench/floor_*.c), Nchan and the Node peers
# (tests/bench/peers: ws, Socket.IO), one after the other on the same
# private Redis, and prints one table.  The sse-* scenarios are EventSource
# readers, tickerd only (the others have none); the *2 scenarios run tickerd
# and the floor on two processes each (SO_REUSEPORT, one per core).  The
# storm runs --storm-rounds times against tickerd (once against the others);
# storm-haproxy is the same storm through deploy/haproxy/haproxy.cfg.
#
#   tests/bench/run.sh                 full run (installs nginx + Nchan if missing, npm ci
#                                      for the peers), raw output in tests/bench/results/<date>.txt
#   tests/bench/run.sh --smoke         tiny run: tickerd, floor, ws, sio (+ EventSource, 2 processes)
#   env: TICKERD_BIN=path (another build; TICKERD_COMMIT=what it was built from)
#   options: --targets "tickerd floor nchan ws sio"
#            --scenarios "steady sse-steady burst idle sse-idle storm storm-haproxy ingest idle2 steady2 compress"
#            --rounds N (steady, sse-steady, steady2 and burst, median shown; default 3)
#            --storm-rounds N (tickerd's storms, direct and through HAProxy; default 10)
#            --scale F (multiply client counts, for development)  --no-save  --out FILE
#
# Server on CPU 0, generator and Redis on CPU 1 (taskset), loopback only.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BENCH_BIN=$ROOT/build/bench
TICKERD=${TICKERD_BIN:-$ROOT/build/tickerd}
GEN=$BENCH_BIN/tickbench
FLOOR=$BENCH_BIN/floor

targets="tickerd floor nchan ws sio"
scenarios="steady sse-steady burst idle sse-idle storm storm-haproxy ingest idle2 steady2 compress"
storm_rounds=10 # tickerd's storms: how often each is all back within 1 s
PROCS2=2 # server and generator processes in the *2 scenarios
rounds=3 # for the scenarios judged against the floor (steady, burst)
scale=1
save=1
out=
smoke=0

usage() { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; }
while (($#)); do
	case $1 in
	--smoke) # the storms with 20 clients (scale), twice
		smoke=1; targets="tickerd floor ws sio"; scenarios="smoke sse-smoke smoke2 storm storm-haproxy compress"
		save=0; rounds=1; storm_rounds=2; scale=0.002 ;;
	--targets) targets=$2; shift ;;
	--scenarios) scenarios=$2; shift ;;
	--scale) scale=$2; shift ;;
	--rounds) rounds=$2; shift ;;
	--storm-rounds) storm_rounds=$2; shift ;;
	--no-save) save=0 ;;
	--out) out=$2; shift ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
	shift
done

say() { printf '%s\n' "bench: $*" >&2; }

# ---- build -----------------------------------------------------------------
if [[ ! -x $TICKERD ]]; then
	make -C "$ROOT" --no-print-directory all >&2
fi
make -C "$HERE" --no-print-directory -s >&2

# ---- Nchan (nginx + libnginx-mod-nchan), installed when missing -------------
nchan_installed() {
	[[ $(dpkg-query -W -f='${Status}\n' nginx libnginx-mod-nchan 2>/dev/null |
		grep -c 'install ok installed') == 2 ]]
}
ensure_nchan() {
	local sudo=
	nchan_installed && return 0
	command -v apt-get >/dev/null || return 1
	((EUID == 0)) || sudo=sudo
	say "installing nginx + libnginx-mod-nchan (the comparison server)"
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get install -y -q nginx libnginx-mod-nchan >&2 ||
		{ $sudo apt-get update -q >&2 && $sudo apt-get install -y -q nginx libnginx-mod-nchan >&2; } ||
		return 1
	# We only need the module: don't leave a system web server on port 80.
	if command -v systemctl >/dev/null && systemctl is-active --quiet nginx 2>/dev/null; then
		$sudo systemctl disable --now nginx >&2 || true
	fi
	nchan_installed
}
if [[ " $targets " == *" nchan "* ]] && ! ensure_nchan; then
	say "Nchan is not installed and could not be: its column will read n/a"
	targets=${targets//nchan/}
fi

# ---- processes we start, and their teardown --------------------------------
TMP=$(mktemp -d "${TMPDIR:-/tmp}/tickerd-bench.XXXXXX")
started=()
cleanup() {
	local pid
	for pid in "${started[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${started[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# stop PID: SIGTERM, up to 5 s, then SIGKILL; forget it.
stop() {
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	local keep=() p
	for p in "${started[@]}"; do [[ $p == "$pid" ]] || keep+=("$p"); done
	started=("${keep[@]}")
}

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A spare port below the ephemeral range (nothing listens on it).
spare_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 12000))
		listening "$p" || { echo "$p"; return; }
	done
}

wait_port() {
	local i
	for ((i = 0; i < 100; i++)); do
		listening "$1" && return 0
		sleep 0.05
	done
	return 1
}

# http_get PORT PATH: the response, headers and body (3 s at most).
http_get() {
	timeout 3 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0" &&
		printf "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n" "$1" >&3 &&
		cat <&3' "$1" "$2" 2>/dev/null || true
}

# ---- the Node peers (tests/bench/peers), installed with npm ci ---------------
# A peer that cannot be installed is reported as missing (a MISSING line in
# the raw output: its column reads "missing"), never silently dropped.
PEERS=$HERE/peers
missing_lines=()
ensure_peers() {
	local why=
	if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
		why="node and npm are not installed"
	elif ! (cd "$PEERS" && npm ci --no-audit --no-fund --loglevel=error) >"$TMP/npm.log" 2>&1; then
		why="npm ci in tests/bench/peers failed: $(grep -m1 -i 'err' "$TMP/npm.log" || tail -1 "$TMP/npm.log")"
	fi
	[[ -z $why ]] && return 0
	local t
	for t in ws sio; do
		if [[ " $targets " == *" $t "* ]]; then
			say "$t: missing: $why"
			missing_lines+=("MISSING $t $why")
			targets=${targets//$t/}
		fi
	done
	return 1
}
if [[ " $targets " == *" ws "* || " $targets " == *" sio "* ]]; then
	ensure_peers || true
fi

# ---- Redis, shared by every run (CPU 1) -------------------------------------
REDIS_PORT=$(spare_port)
taskset -c 1 redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' \
	--appendonly no --dir "$TMP" --loglevel warning >"$TMP/redis.log" 2>&1 &
started+=($!)
wait_port "$REDIS_PORT" || { say "redis-server did not start"; cat "$TMP/redis.log" >&2; exit 1; }

# ---- one server under test (CPU 0) ------------------------------------------
# start_target NAME [PROCS]: sets PORT, KILL_PIDS (what we stop), SAMPLE_PID
# (whose CPU and memory are measured; PROCS > 1: a comma list, summed), PUB,
# GREET, WSPATH, SSEPATH (EventSource, empty when the target has none) and
# GENFLAGS for the generator.  PROCS > 1 (tickerd and the floor only): that
# many processes on one port (SO_REUSEPORT), process i on CPU i % nproc.
NCPU=$(nproc)
start_target() {
	local procs=${2:-1} i reuse=() pids=()
	((procs > 1)) && reuse=(--reuse-port)
	PORT=$(spare_port)
	GENFLAGS=
	case $1 in
	tickerd)
		for ((i = 0; i < procs; i++)); do
			taskset -c $((i % NCPU)) "$TICKERD" --listen "127.0.0.1:$PORT" \
				--redis "redis://127.0.0.1:$REDIS_PORT" --web "$ROOT/web" \
				--log-level warn "${reuse[@]}" >>"$TMP/tickerd.log" 2>&1 &
			pids+=($!)
		done
		PUB=redis:$REDIS_PORT:ticker:bench GREET=2 WSPATH=/ws
		SSEPATH='/events?topics=bench' # the topic tickbench publishes on
		local i
		for ((i = 0; i < 100; i++)); do
			http_get "$PORT" /healthz | grep -q '"redis":"connected"' && break
			sleep 0.05
		done
		((procs > 1)) && sleep 0.5 # the others' Redis connections
		;;
	floor)
		for ((i = 0; i < procs; i++)); do
			taskset -c $((i % NCPU)) "$FLOOR" "$PORT" "$REDIS_PORT" 'ticker:*' \
				"${reuse[@]}" >>"$TMP/floor.log" 2>&1 &
			pids+=($!)
		done
		PUB=redis:$REDIS_PORT:ticker:bench GREET=0 WSPATH=/ws SSEPATH=
		wait_port "$PORT"
		((procs > 1)) && sleep 0.3
		;;
	nchan)
		mkdir -p "$TMP/nginx"
		sed -e "s|@TMP@|$TMP/nginx|g" -e "s|@PORT@|$PORT|g" \
			-e "s|@REDIS_PORT@|$REDIS_PORT|g" -e "s|@NOFILE@|$HARD_NOFILE|g" -e "s|@CONNS@|$((2 * HARD_NOFILE))|g" \
			"$HERE/nchan.conf.in" >"$TMP/nginx/nginx.conf"
		taskset -c 0 nginx -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" \
			-e "$TMP/nginx/error.log" >"$TMP/nchan.log" 2>&1 &
		pids=($!)
		PUB=http:$PORT:/pub GREET=0 WSPATH=/ws SSEPATH=
		wait_port "$PORT"
		SAMPLE_PID=$(awk '{print $1}' "/proc/${pids[0]}/task/${pids[0]}/children" 2>/dev/null)
		sleep 0.3 # its Redis connections
		;;
	ws | sio) # one node process, its soft fd limit raised to the hard one
		local js=ws-redis.mjs
		[[ $1 == sio ]] && js=socketio-redis.mjs
		(ulimit -Sn "$HARD_NOFILE" && exec taskset -c 0 node "$PEERS/$js" "$PORT" \
			"$REDIS_PORT" 'ticker:*') >"$TMP/$1.log" 2>&1 &
		pids=($!)
		PUB=redis:$REDIS_PORT:ticker:bench GREET=0 WSPATH=/ws SSEPATH=
		if [[ $1 == sio ]]; then # Engine.IO's open and Socket.IO's connect
			GREET=2 WSPATH='/socket.io/?EIO=4&transport=websocket' GENFLAGS=--sio
		fi
		wait_port "$PORT"
		for ((i = 0; i < 100; i++)); do
			grep -q subscribed "$TMP/$1.log" && break
			sleep 0.05
		done
		;;
	esac
	KILL_PIDS=("${pids[@]}")
	started+=("${pids[@]}")
	if [[ $1 != nchan ]]; then
		SAMPLE_PID=$(IFS=,; echo "${pids[*]}")
	fi
	local alive=1
	for i in "${pids[@]}"; do kill -0 "$i" 2>/dev/null || alive=0; done
	if ((!alive)) || ! listening "$PORT" || [[ -z ${SAMPLE_PID:-} ]]; then
		say "$1 did not start:"
		cat "$TMP/$1.log" "$TMP/nginx/error.log" 2>/dev/null | tail -20 >&2
		for i in "${pids[@]}"; do stop "$i"; done # what did start
		: >"$TMP/$1.log"
		return 1
	fi
}

# start_behind_haproxy: tickerd as deploy/haproxy/haproxy.cfg has it: two
# tickerd (--proxy-protocol, on CPUs 0 and 1) behind HAProxy, the file
# used as shipped with only its addresses and maxconn replaced.  Two HAProxy
# processes share the port (HAProxy sets SO_REUSEPORT itself): a proxied
# reader holds two descriptors in HAProxy, and this machine's per-process cap
# (HARD_NOFILE) is below 2 x 10,000.  Sets what start_target() sets; the CPU
# measured is tickerd's and HAProxy's together.
HAPROXY_CFG=$ROOT/deploy/haproxy/haproxy.cfg
start_behind_haproxy() {
	local i ups=() pids=() conns=$(((HARD_NOFILE - 100) / 2))
	if ! command -v haproxy >/dev/null; then
		say "haproxy is not installed (make deps installs it)"
		return 1
	fi
	for i in 0 1; do
		ups+=("$(spare_port)")
		taskset -c $((i % NCPU)) "$TICKERD" --listen "127.0.0.1:${ups[i]}" \
			--redis "redis://127.0.0.1:$REDIS_PORT" --web "$ROOT/web" \
			--proxy-protocol --log-level warn >>"$TMP/tickerd.log" 2>&1 &
		pids+=($!)
	done
	PORT=$(spare_port)
	sed -e "s/^\(\s*\)maxconn [0-9]*$/\1maxconn $conns/" \
		-e "s/^\(\s*\)bind :80$/\1bind 127.0.0.1:$PORT/" \
		-e "s/^\(\s*server t1\) 127.0.0.1:8080$/\1 127.0.0.1:${ups[0]}/" \
		-e "s/^\(\s*server t2\) 127.0.0.1:8081$/\1 127.0.0.1:${ups[1]}/" \
		"$HAPROXY_CFG" >"$TMP/haproxy.cfg"
	if ! grep -q "bind 127.0.0.1:$PORT" "$TMP/haproxy.cfg" ||
		grep -qE ':80$|:808[01]$' "$TMP/haproxy.cfg"; then
		say "deploy/haproxy/haproxy.cfg changed: its addresses were not all replaced"
		for i in "${pids[@]}"; do kill "$i"; wait "$i" 2>/dev/null; done
		return 1
	fi
	for i in 0 1; do
		wait_port "${ups[i]}" || true
	done
	for i in 0 1; do
		haproxy -f "$TMP/haproxy.cfg" >>"$TMP/haproxy.log" 2>&1 &
		pids+=($!)
	done
	KILL_PIDS=("${pids[@]}")
	started+=("${pids[@]}")
	SAMPLE_PID=$(IFS=,; echo "${pids[*]}")
	PUB=redis:$REDIS_PORT:ticker:bench GREET=2 WSPATH=/ws SSEPATH= GENFLAGS=
	wait_port "$PORT"
	# through HAProxy, both tickerd connected to Redis
	for ((i = 0; i < 100; i++)); do
		[[ $(http_get "$PORT" /healthz | grep -c '"redis":"connected"') -ge 1 ]] && break
		sleep 0.05
	done
	sleep 0.5
	for i in "${pids[@]}"; do
		kill -0 "$i" 2>/dev/null && continue
		say "tickerd or haproxy did not start:"
		tail -20 "$TMP/haproxy.log" "$TMP/tickerd.log" >&2
		for i in "${pids[@]}"; do stop "$i"; done
		return 1
	done
}

# ---- scenarios -----------------------------------------------------------------
HARD_NOFILE=$(ulimit -Hn)
[[ $HARD_NOFILE == unlimited ]] && HARD_NOFILE=1048576
# clients N: N scaled, and kept under the per-process fd cap (server and generator).
clients() {
	local n
	n=$(awk -v n="$1" -v s="$scale" 'BEGIN { n = int(n * s); print n < 1 ? 1 : n }')
	((n > HARD_NOFILE - 500)) && n=$((HARD_NOFILE - 500))
	echo "$n"
}
# clients2 N: the same for the *2 scenarios, over PROCS2 generator processes.
clients2() {
	local n
	n=$(awk -v n="$1" -v s="$scale" 'BEGIN { n = int(n * s); print n < 2 ? 2 : n }')
	((n > PROCS2 * (HARD_NOFILE - 500))) && n=$((PROCS2 * (HARD_NOFILE - 500)))
	echo "$n"
}
# scenario_args SCENARIO TARGET: the generator's flags.
scenario_args() {
	case $1 in
	smoke) echo "--clients 20 --items 20 --rate 50" ;;
	steady) echo "--clients $(clients 10000) --items 50 --rate 5" ;;
	burst) echo "--clients $(clients 10000) --items 100 --rate 50" ;;
	idle) echo "--clients $(clients 19000) --idle 5 --items 1 --rate 1" ;;
	storm | storm-haproxy) # tickerd resumes (since= its last seq: hello + the 5 missed items);
		# the floor and Nchan (plain WebSocket) just reconnect.
		echo "--clients $(clients 10000) --prefill 50 --storm --missed 5 --items 5 --rate 5" \
			"$([[ $2 == tickerd ]] && echo --resume)" ;;
	ingest) echo "--clients $(clients 100) --items 50000 --rate 5000" ;;
	# Two processes per server, one per core; the clients over as many
	# generator processes (each under the fd cap).
	smoke2) echo "--procs $PROCS2 --clients 40 --items 20 --rate 50 --idle 0.5" ;;
	idle2) echo "--procs $PROCS2 --clients $(clients2 38000) --idle 5 --items 1 --rate 1" ;;
	steady2) echo "--procs $PROCS2 --clients $(clients2 20000) --items 50 --rate 5" ;;
	# EventSource readers (tickerd only): the loads of smoke, steady and
	# idle's first part, as many readers as steady has clients.
	sse-smoke) echo "--sse --clients 20 --items 20 --rate 50" ;;
	sse-steady) echo "--sse --clients $(clients 10000) --items 50 --rate 5" ;;
	sse-idle) echo "--sse --clients $(clients 10000) --idle 5 --items 1 --rate 1" ;;
	*) say "unknown scenario $1"; return 1 ;;
	esac
}

# How busy the CPUs are with other work, over 1 s before we start ours (%).
busy_pct() {
	local a b
	read -r -a a < <(head -1 /proc/stat)
	sleep 1
	read -r -a b < <(head -1 /proc/stat)
	awk -v u="$((b[1] + b[2] + b[3] + b[6] + b[7] + b[8] - a[1] - a[2] - a[3] - a[6] - a[7] - a[8]))" \
		-v i="$((b[4] + b[5] - a[4] - a[5]))" 'BEGIN { printf "%.0f", u + i ? 100 * u / (u + i) : 0 }'
}

RAW=$TMP/raw.txt
busy_start=$(busy_pct)
{
	echo "# tickerd benchmark, $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
	commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
	if [[ -n ${TICKERD_BIN:-} ]]; then
		echo "# tickerd: TICKERD_BIN=$TICKERD, built from ${TICKERD_COMMIT:-an unstated commit (set TICKERD_COMMIT)}" \
			"(repository at $commit)"
	elif git -C "$ROOT" status --porcelain -- server include 2>/dev/null | grep -q .; then
		echo "# tickerd: build/tickerd from the work tree: commit $commit with server/ or include/ modified"
	else
		echo "# tickerd: build/tickerd, commit $commit"
	fi
	echo "# CPUs busy with other work just before the run: $busy_start % (load average $(cut -d' ' -f1-3 /proc/loadavg))"
	echo "# machine: nproc $(nproc), $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), $(uname -sr), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), fd limit $HARD_NOFILE"
	echo "# versions: libwebsockets $(pkg-config --modversion libwebsockets 2>/dev/null || echo ?)," \
		"$(redis-server --version | awk '{print $1, $3}')," \
		"$(dpkg-query -W -f='nginx ${Version}, nchan ' nginx 2>/dev/null || true)$(dpkg-query -W -f='${Version}' libnginx-mod-nchan 2>/dev/null || true)"
	echo "# peers: node $(node --version 2>/dev/null || echo missing)," \
		"$(sed -n 's/^ *"\(ws\|ioredis\|socket.io\|@socket.io\/redis-adapter\)": "\(.*\)".*/\1 \2/p' "$PEERS/package.json" | paste -sd, | sed 's/,/, /g')"
	echo "# server on CPU 0 (taskset -c 0); generator and Redis on CPU 1;" \
		"*2 scenarios: server process i on CPU i, generator processes and Redis unpinned"
	for line in "${missing_lines[@]}"; do echo "$line"; done
} >"$RAW"

failed=0
# run_one SCENARIO TARGET ROUND ROUNDS: start the target, run the generator
# (its RESULT line into $RAW), stop the target.
run_one() {
	local s=$1 t=$2 r=$3 n=$4 args path procs=1 pin=(taskset -c 1) p
	args=$(scenario_args "$s" "$t")
	if [[ $s == *2 || $s == storm-haproxy ]]; then # the whole machine
		procs=$PROCS2 pin=()
	fi
	say "$s / $t${n:+ (round $r of $n)}: $args"
	local up=0 # (a && b || true: set -e spares a failing start)
	if [[ $s == storm-haproxy ]]; then
		start_behind_haproxy && up=1 || true
	else
		start_target "$t" "$procs" && up=1 || true
	fi
	if ((!up)); then
		failed=1
		return
	fi
	path=$WSPATH
	if [[ $s == sse-* ]]; then
		path=$SSEPATH
	fi
	echo "# $s / $t, round $r: tickbench $args $GENFLAGS --path $path" >>"$RAW"
	# shellcheck disable=SC2086
	if ! "${pin[@]}" "$GEN" --scenario "$s" --target "$t" --port "$PORT" \
		--path "$path" --greet "$GREET" --pub "$PUB" --pid "$SAMPLE_PID" \
		$GENFLAGS $args >>"$RAW" 2>>"$TMP/gen.log"; then
		say "the generator failed on $s / $t:"
		tail -5 "$TMP/gen.log" >&2
		failed=1
	fi
	if [[ $t == tickerd ]]; then
		echo "# healthz: $(http_get "$PORT" /healthz | tail -1)" >>"$RAW"
	fi
	for p in "${KILL_PIDS[@]}"; do stop "$p"; done
	# what the server said (warnings and errors only), for the record
	{ cat "$TMP/$t.log"; [[ $t == nchan ]] && cat "$TMP/nginx/error.log"
		[[ $s == storm-haproxy ]] && cat "$TMP/haproxy.log" && : >"$TMP/haproxy.log"; } 2>/dev/null |
		grep -v '^\s*$' | tail -n 5 | sed "s/^/# $t log: /" >>"$RAW" || true
	: >"$TMP/$t.log"
	[[ $t == nchan ]] && : >"$TMP/nginx/error.log"
	redis-cli -p "$REDIS_PORT" flushall >/dev/null
}

# An EventSource scenario (sse-X) runs against tickerd only.  Asked for with
# its WebSocket counterpart X, it runs in X's rounds, right after X's
# targets, so tickerd's two protocols are measured side by side, round by
# round, under the same conditions on a shared machine.
has() { [[ " $1 " == *" $2 "* ]]; }
if [[ $scenarios == *sse-* ]] && ! has "$targets" tickerd; then
	say "the sse-* scenarios run against tickerd only, which is not among the targets"
fi
for s in $scenarios; do
	[[ $s == sse-* ]] && has "$scenarios" "${s#sse-}" && continue
	if [[ $s == compress ]]; then # tickerd alone: compress.mjs's own clients
		has "$targets" tickerd || continue
		c=$(clients 5000) && ((smoke)) && c=20
		TICKERD_BIN=$TICKERD node "$HERE/compress.mjs" --clients "$c" \
			--items $((smoke ? 5 : 50)) --rate $((smoke ? 20 : 5)) --rounds "$rounds" \
			>"$TMP/compress.txt" || { say "compress failed"; failed=1; }
		grep '^RESULT' "$TMP/compress.txt" >>"$RAW" || true
		continue
	fi
	n=1
	[[ $s == steady || $s == burst || $s == sse-steady || $s == steady2 ]] && n=$rounds
	[[ $s == storm || $s == storm-haproxy ]] && n=$storm_rounds
	for ((r = 1; r <= n; r++)); do
		for t in $targets; do
			[[ $s == sse-* && $t != tickerd ]] && continue
			# tickerd's storm, round after round: the others once
			[[ $s == storm && $t != tickerd && $r -gt 1 ]] && continue
			[[ $s == storm-haproxy && $t != tickerd ]] && continue
			# the whole machine: tickerd and the floor, several processes each
			[[ $s == *2 && $t != tickerd && $t != floor ]] && continue
			run_one "$s" "$t" "$r" "$n"
		done
		if [[ $s != sse-* ]] && has "$scenarios" "sse-$s" && has "$targets" tickerd; then
			run_one "sse-$s" tickerd "$r" "$n"
		fi
	done
done

{
	echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo
	awk -f "$HERE/table.awk" "$RAW"
	grep '^compress ' "$TMP/compress.txt" 2>/dev/null || true
	# taskset keeps our processes apart, not other people's off our CPUs
	if ((busy_start > 25)); then
		echo "NOTE: the CPUs were $busy_start % busy with other work when the run began:" \
			"latencies are unreliable; CPU per delivery holds up better"
	fi
} >>"$RAW"
sed -n '/^scenario /,$p' "$RAW"

if ((save)) || [[ -n $out ]]; then
	if [[ -z $out ]]; then
		out=$HERE/results/$(date -u +%Y-%m-%d).txt
		[[ -e $out ]] && out=$HERE/results/$(date -u +%Y-%m-%d-%H%M%S).txt
	fi
	mkdir -p "$(dirname "$out")"
	cp "$RAW" "$out"
	say "raw output and table saved in ${out#"$ROOT"/}"
fi
if ((smoke)); then
	cp "$RAW" "${BENCH_SMOKE_RAW:-/dev/null}" 2>/dev/null || true
fi
exit "$failed"
