#!/usr/bin/env bash
# Developer sandbox for tickerd; what `make run` calls:
#
#   deploy/dev/run.sh <path-to-tickerd-binary> <web-dir> [extra tickerd args]
#
# Settings: tickerd's own, asked with --print-config (its defaults, --config
# file, TICKERD_* variables and the extra args), so this script never parses
# tickerd's flags: it takes the listen address, the Redis URL and the prefix.
# Redis: the configured one (--redis, TICKERD_REDIS or the --config file) when it
# answers PING; otherwise (none configured, or it does not answer) a private
# redis-server on 127.0.0.1 (first free port from 6390), run from
# <repo>/.run/redis-<port>/ and thrown away on exit.
# Demo feed (deploy/dev/demo-feed.sh): on with the private Redis only, so a real
# Redis is never written to; TICKERD_DEMO=1 forces it on, TICKERD_DEMO=0 off.
# Ctrl-C, SIGTERM or tickerd exiting stops everything this script started (by
# pid) and removes the private Redis folder. Exit status: tickerd's (0 on Ctrl-C).
set -euo pipefail

me=run.sh
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
run_root=$repo/.run
first_port=6390
last_port=6489
sample_headline='Le tramway de nuit circulera dès vendredi'

say() { printf '%s: %s\n' "$me" "$*" >&2; }
die() {
	say "$*"
	exit 1
}
usage() { # the comment at the top
	sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"
}

if (($# < 2)); then
	usage >&2
	exit 2
fi
bin=$1
web=$2
shift 2

[[ -f $bin && -x $bin ]] || die "tickerd binary '$bin' not found or not executable (build it first: make)"
[[ -d $web ]] || die "web directory '$web' not found"

# ------------------------------------------------------------ configuration
# tickerd prints its settings as a --config file, defaults commented out; a bad
# setting is its error (on stderr) and exit status 2, which is ours too.
config=$("$bin" --print-config --web "$web" "$@" </dev/null) || exit
setting() { # name -> its value (set or default)
	sed -n "s/^\(# \)\{0,1\}$1 = //p" <<<"$config"
}
listen=$(setting listen)
if [[ -z $listen ]]; then # --help, --version: tickerd printed that instead
	printf '%s\n' "$config"
	exit 0
fi
redis_url=$(sed -n 's/^redis = //p' <<<"$config") # empty: left at its default
prefix=$(setting prefix)
demo=${TICKERD_DEMO:-}
case $demo in
'' | 0 | 1) ;;
*) die "TICKERD_DEMO must be 1 (force the demo feed on), 0 (off) or unset (on with the private Redis only), got '$demo'" ;;
esac

command -v redis-cli >/dev/null 2>&1 || die "redis-cli not found (run deploy/install-deps.sh)"

listen_host=${listen%:*} # as tickerd prints it: HOST:PORT, [V6]:PORT or *:PORT
listen_port=${listen##*:}
case $listen_host in
'*') url_host=127.0.0.1 ;;
'[::]') url_host='[::1]' ;;
*) url_host=$listen_host ;;
esac
open_url="http://$url_host:$listen_port/"

# ------------------------------------------------------------ helpers
redact() { # hide a password in a redis URL: redis://:secret@h:p -> redis://:***@h:p
	local u=$1
	if [[ $u =~ ^([a-z]+://[^:@/]*:)[^@/]*@(.*)$ ]]; then
		u="${BASH_REMATCH[1]}***@${BASH_REMATCH[2]}"
	fi
	printf '%s' "$u"
}

cli_for_url() { # redis URL -> redis-cli connection args in cli_args
	case $1 in
	unix://*) cli_args=(-s "${1#unix://}") ;;
	# tickerd AUTHs with the password alone (the default user); redis-cli 7.0
	# would send AUTH "" <password> for an empty user name.
	redis://:*) cli_args=(-u "redis://default:${1#redis://:}") ;;
	*) cli_args=(-u "$1") ;;
	esac
}

ping_reply=
redis_ping() { # redis-cli connection args...; true when the server answers PONG
	local rc=0
	ping_reply=$(timeout --foreground 3 redis-cli --no-auth-warning "$@" PING 2>&1 </dev/null) || rc=$?
	ping_reply=${ping_reply//$'\n'/ }
	((rc != 124)) || ping_reply="no reply within 3 s"
	[[ $ping_reply == PONG ]]
}

port_listening() { # port -> true when something listens on it (TCP)
	if command -v ss >/dev/null 2>&1; then
		[[ -n $(ss -Hltn "sport = :$1" 2>/dev/null) ]]
	else
		(: <"/dev/tcp/127.0.0.1/$1") 2>/dev/null
	fi
}

port_users() { # port -> short description of who listens there (best effort)
	if command -v ss >/dev/null 2>&1; then
		ss -Hltnp "sport = :$1" 2>/dev/null | awk '{print $4, $6}' | tr '\n' ' '
	fi
}

alive() { [[ -n ${1:-} ]] && kill -0 "$1" 2>/dev/null; }

# A short sleep that may be cut by Ctrl-C (it reaches our foreground children
# too) without set -e ending the script: the traps decide what happens.
nap() { sleep "$1" || true; }

is_live_redis() { # pid from an old run's folder: still a running redis-server?
	alive "${1:-}" || return 1
	[[ -r /proc/$1/stat ]] || return 0 # no /proc: trust kill -0
	local stat
	read -r stat <"/proc/$1/stat" || return 1
	[[ $stat == *"(redis-server) "[!Z]* ]]
}

stop_pid() { # pid name signal seconds: signal, wait, then SIGKILL
	local pid=$1 name=$2 sig=$3 tenths=$(($4 * 10))
	alive "$pid" || return 0
	kill -s "$sig" "$pid" 2>/dev/null || true
	while alive "$pid" && ((tenths-- > 0)); do nap 0.1; done
	if alive "$pid"; then
		say "$name (pid $pid) did not stop after SIG$sig; killing it"
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
}

# Processes in their own session (setsid) do not get the terminal's Ctrl-C:
# this script stops them itself, in order (tickerd, demo feed, Redis).
detach=()
command -v setsid >/dev/null 2>&1 && detach=(setsid)

# ------------------------------------------------------------ cleanup
tickerd_pid=
demo_pid=
redis_pid=
run_dir=
stopping=0
signals=0

# shellcheck disable=SC2317 # called from traps
cleanup() {
	set +e
	trap '' INT TERM HUP
	stop_pid "$tickerd_pid" tickerd TERM 10
	stop_pid "$demo_pid" "demo feed" TERM 5
	stop_pid "$redis_pid" redis-server TERM 5
	if [[ -n $run_dir && $run_dir == "$run_root"/redis-* ]]; then
		rm -rf -- "$run_dir"
		rmdir -- "$run_root" 2>/dev/null
	fi
}
trap cleanup EXIT

# shellcheck disable=SC2317 # called from traps
on_signal() {
	stopping=1
	signals=$((signals + 1))
	if alive "$tickerd_pid"; then
		if ((signals == 1)); then
			say "stopping (SIG$1)..."
			kill -s "$1" "$tickerd_pid" 2>/dev/null || true
		else
			say "second signal: killing tickerd"
			kill -KILL "$tickerd_pid" 2>/dev/null || true
		fi
	else
		exit 0 # not started yet: the EXIT trap cleans up
	fi
}
trap 'on_signal INT' INT
trap 'on_signal TERM' TERM
trap 'on_signal HUP' HUP

# ------------------------------------------------------------ Redis
start_private_redis() {
	command -v redis-server >/dev/null 2>&1 || die "redis-server not found (run deploy/install-deps.sh)"
	mkdir -p -- "$run_root"
	local port dir pid failures=0 i
	for ((port = first_port; port <= last_port; port++)); do
		dir=$run_root/redis-$port
		if [[ -e $dir ]]; then
			# Another run's: still in use, or left by a run that was SIGKILLed?
			[[ -f $dir/owner.pid ]] || continue # being set up right now
			alive "$(<"$dir/owner.pid")" && continue
			pid=$(cat -- "$dir/redis.pid" 2>/dev/null) || pid=
			if is_live_redis "$pid"; then
				say "note: ${dir#"$repo"/} is left from a run that was killed; its redis-server (pid $pid) still runs: stop it with 'kill $pid', then 'rm -r ${dir#"$repo"/}'"
				continue
			fi
			rm -rf -- "$dir"
		fi
		port_listening "$port" && continue
		mkdir -- "$dir" 2>/dev/null || continue
		echo "$$" >"$dir/owner.pid"
		run_dir=$dir
		"${detach[@]}" redis-server --port "$port" --bind 127.0.0.1 \
			--save '' --appendonly no --daemonize no \
			--dir "$dir" --logfile "$dir/redis.log" </dev/null &
		redis_pid=$!
		echo "$redis_pid" >"$dir/redis.pid"
		for ((i = 0; i < 100; i++)); do # 10 s
			if redis_ping -p "$port"; then
				redis_port=$port
				return 0
			fi
			alive "$redis_pid" || break
			nap 0.1
		done
		say "private redis-server on port $port did not come up:"
		tail -n 5 "$dir/redis.log" >&2 2>/dev/null || true
		stop_pid "$redis_pid" redis-server TERM 2
		redis_pid=
		rm -rf -- "$dir"
		run_dir=
		((++failures < 3)) || die "could not start a private redis-server (log above)"
	done
	die "no free port for a private redis-server in $first_port-$last_port"
}

private=0
redis_port=
if [[ -n $redis_url ]]; then
	cli_for_url "$redis_url"
	if redis_ping "${cli_args[@]}"; then
		say "using the configured Redis $(redact "$redis_url") (it answers PING)"
	else
		say "the configured Redis $(redact "$redis_url") does not answer PING (${ping_reply:-no reply}); starting a private redis-server instead"
		private=1
	fi
else
	say "no Redis configured (--redis, TICKERD_REDIS or the --config file): starting a private redis-server"
	private=1
fi
if ((private)); then
	start_private_redis
	redis_url=redis://127.0.0.1:$redis_port
	cli_args=(-p "$redis_port")
	say "private Redis $redis_url (pid $redis_pid, folder ${run_dir#"$repo"/}, thrown away on exit)"
fi
[[ -n $demo ]] || demo=$private

# ------------------------------------------------------------ tickerd
port_was_busy=0
if port_listening "$listen_port"; then
	port_was_busy=1
	say "warning: port $listen_port is already in use ($(port_users "$listen_port")); tickerd will probably fail to listen"
fi

redis_arg=() # the configured Redis is tickerd's own; a private one is a last flag
if ((private)); then redis_arg=(--redis "$redis_url"); fi
"${detach[@]}" "$bin" --web "$web" "$@" "${redis_arg[@]}" </dev/null &
tickerd_pid=$!

# Wait (at most 5 s) until it listens, or dies.
for ((i = 0; i < 100; i++)); do
	if ((stopping)) || ! alive "$tickerd_pid"; then break; fi
	if ((port_was_busy)); then
		((i < 20)) || break # give it a second to fail
	elif port_listening "$listen_port"; then
		break
	fi
	nap 0.05
done

if ((!stopping && demo)) && alive "$tickerd_pid"; then
	# Let tickerd subscribe first (at most 5 s) so the first items are not lost.
	for ((i = 0; i < 50; i++)); do
		n=$(redis-cli --no-auth-warning "${cli_args[@]}" PUBSUB NUMPAT 2>/dev/null </dev/null) || true
		[[ $n =~ ^[0-9]+$ ]] && ((n > 0)) && break
		if ((stopping)) || ! alive "$tickerd_pid"; then break; fi
		nap 0.1
	done
	TICKERD_PREFIX=$prefix "$here/demo-feed.sh" "${cli_args[@]}" >/dev/null </dev/null &
	demo_pid=$!
fi

if ((!stopping)) && alive "$tickerd_pid"; then
	shown_cli="redis-cli"
	for a in "${cli_args[@]}"; do shown_cli+=" $(printf '%q' "$(redact "$a")")"; done
	if ((demo)); then
		demo_line="on: a headline every 3-5 s (TICKERD_DEMO=0 turns it off)"
	elif ((private)); then
		demo_line="off (TICKERD_DEMO=0)"
	else
		demo_line="off: never on a configured Redis unless TICKERD_DEMO=1"
	fi
	if ((private)); then redis_line="$redis_url (private, thrown away on exit)"; else redis_line=$(redact "$redis_url"); fi
	stops=tickerd
	if ((demo && private)); then
		stops+=", the demo feed and the private Redis"
	elif ((demo)); then
		stops+=" and the demo feed"
	elif ((private)); then
		stops+=" and the private Redis"
	fi
	cat <<EOF

  ---------------------------------------------------------------------------
  tickerd is running:  open $open_url
  health:              ${open_url}healthz
  Redis:               $redis_line
  demo feed:           $demo_line
  publish a headline:
    $shown_cli PUBLISH $prefix:breaking "$sample_headline"
  watch what is published:
    $shown_cli PSUBSCRIBE '$prefix:*'
  Ctrl-C stops $stops.
  ---------------------------------------------------------------------------

EOF
fi

# ------------------------------------------------------------ wait
ticks=0
while alive "$tickerd_pid"; do
	if ((stopping)); then
		nap 0.1
		if ((++ticks == 100)); then
			say "tickerd did not stop within 10 s; killing it"
			kill -KILL "$tickerd_pid" 2>/dev/null || true
		fi
	else
		wait "$tickerd_pid" || true # returns early when a trapped signal arrives
	fi
done
set +e
wait "$tickerd_pid"
status=$?
set -e
tickerd_pid=

if ((stopping)); then
	((status == 0)) || say "tickerd exited with status $status while stopping"
	say "stopped"
	exit 0
fi
if ((status != 0)); then
	say "tickerd exited with status $status"
	if port_listening "$listen_port"; then
		say "port $listen_port is in use ($(port_users "$listen_port")): stop that process or pick another address, e.g. TICKERD_LISTEN=127.0.0.1:8081 (or --listen)"
	fi
else
	say "tickerd exited (status 0)"
fi
exit "$status"
