#!/usr/bin/env bash
# Install tickerd's .deb in a Debian 12 chroot and serve from what it installed
# (what `make package-test` runs; root only: chroot, mount):
#
#   deploy/package/package-test.sh [--chroot DIR] [--keep]
#
#   --chroot DIR  copy this prepared bookworm chroot (left untouched) instead
#                 of debootstrapping a minimal one (minutes, needs the mirror
#                 $MIRROR, default http://deb.debian.org/debian)
#   --keep        leave the chroot in place at the end (its path is printed)
#
# Uses build/tickerd_*.deb (runs deploy/package/build-deb.sh when there is
# none).  In the chroot: no service is started by a package (policy-rc.d) and
# systemd does not run; `apt-get install ./tickerd_*.deb` pulls the
# dependencies and redis-server (Recommends).  Then it checks what the package
# installed (files, conffile, the tickerd user, the config's group and mode, the
# unit enabled, the man page is `tickerd --help-man`), runs redis-server and
# /usr/bin/tickerd (as the users redis and tickerd, with
# /etc/tickerd/tickerd.conf, on spare 127.0.0.1 ports), fetches / and /healthz
# and publishes a headline with redis-cli and with tickerctl.  Every process it started is stopped by pid, /proc
# unmounted and the chroot removed, whatever happens.  Prints the time each
# step took.
set -euo pipefail

me=package-test.sh
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
mirror=${MIRROR:-http://deb.debian.org/debian}
src=
keep=0
while (($#)); do
	case $1 in
	--chroot) src=${2:?--chroot needs a folder}; shift 2 ;;
	--keep) keep=1; shift ;;
	*) sed -n '2,/^set -e/s/^# \{0,1\}//p' "$0" | sed '$d' >&2; exit 2 ;;
	esac
done

say() { printf '%s: %s\n' "$me" "$*" >&2; }
die() { say "FAIL: $*"; exit 1; }
((EUID == 0)) || die "needs root (chroot, mount)"
t_all=$(date +%s%N)
t_step=$t_all
step() { # name: the time since the last step
	local now ms
	now=$(date +%s%N)
	ms=$(((now - t_step) / 1000000))
	t_step=$now
	say "$(printf '%-28s %4d.%d s' "$1" $((ms / 1000)) $((ms % 1000 / 100)))"
}

deb=$(ls -t "$repo"/build/tickerd_*.deb 2>/dev/null | head -n 1) || true
if [[ -z $deb ]]; then
	"$repo/deploy/package/build-deb.sh" >/dev/null
	deb=$(ls -t "$repo"/build/tickerd_*.deb | head -n 1)
	step "make deb"
fi

work=$(mktemp -d /var/tmp/tickerd-package-test.XXXXXX)
root=$work/root
pids=()

# shellcheck disable=SC2317 # the EXIT trap
cleanup() {
	set +e
	local pid i
	for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
	for pid in "${pids[@]}"; do
		for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	for m in $(awk -v r="$root" '$2 == r || index($2, r"/") == 1 {print $2}' /proc/mounts | sort -r); do
		umount "$m" || umount -l "$m"
	done
	if ((keep)); then
		say "kept the chroot: $root"
	elif awk -v r="$root" 'index($2, r) == 1 {found = 1} END {exit !found}' /proc/mounts; then
		say "something is still mounted under $root: not removing it"
	else
		rm -rf --one-file-system -- "$work"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [[ -n $src ]]; then
	[[ -x $src/bin/sh && -d $src/etc/apt ]] || die "$src is not a Debian chroot"
	cp -a --one-file-system -- "$src" "$root" # not what is mounted in it
	step "copy the chroot"
else
	command -v debootstrap >/dev/null || die "debootstrap is not installed (apt-get install debootstrap), or give --chroot DIR"
	debootstrap --variant=minbase bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 ||
		{ tail -n 20 "$work/debootstrap.log" >&2; die "debootstrap failed"; }
	step "debootstrap bookworm"
fi
in_root() { chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 \
	PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"; }

mount -t proc proc "$root/proc"
# No package may start a service here (redis-server's would bind port 6379).
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
cp -- "$deb" "$root/tmp/"
in_root apt-get update -q >"$work/apt.log" 2>&1 || { tail -n 20 "$work/apt.log" >&2; die "apt-get update failed"; }
step "apt-get update"
in_root sh -c "cd /tmp && DEBIAN_FRONTEND=noninteractive apt-get install -y -q ./${deb##*/}" >>"$work/apt.log" 2>&1 ||
	{ tail -n 30 "$work/apt.log" >&2; die "apt-get install ./${deb##*/} failed"; }
step "apt-get install ./${deb##*/}"

# ------------------------------------------------------------ what it installed
files=$(in_root dpkg -L tickerd)
for f in /usr/bin/tickerd /usr/share/tickerd/web/index.html /usr/share/tickerd/web/ticker.js \
	/usr/share/tickerd/redis/tickerd.lua /usr/share/man/man8/tickerd.8.gz \
	/lib/systemd/system/tickerd.service /lib/systemd/system/tickerd@.service /etc/tickerd/tickerd.conf \
	/usr/lib/sysctl.d/60-tickerd.conf /usr/bin/tickerctl /usr/share/man/man1/tickerctl.1.gz; do
	grep -qxF "$f" <<<"$files" || die "the package does not install $f"
done
in_root dpkg-query -W -f='${Conffiles}\n' tickerd | grep -q '^ /etc/tickerd/tickerd.conf ' ||
	die "/etc/tickerd/tickerd.conf is not a conffile"
in_root getent passwd tickerd >/dev/null || die "no user tickerd"
perm=$(in_root stat -c '%a %U:%G' /etc/tickerd/tickerd.conf)
[[ $perm == "640 root:tickerd" ]] || die "/etc/tickerd/tickerd.conf is $perm, not 640 root:tickerd"
[[ -L $root/etc/systemd/system/multi-user.target.wants/tickerd.service ]] ||
	die "tickerd.service is not enabled (multi-user.target.wants)"
grep -qx 'ExecStart=/usr/bin/tickerd --config /etc/tickerd/tickerd.conf' "$root/lib/systemd/system/tickerd.service" ||
	die "tickerd.service does not start /usr/bin/tickerd --config /etc/tickerd/tickerd.conf"
cmp -s <(zcat "$root/usr/share/man/man8/tickerd.8.gz") <(in_root /usr/bin/tickerd --help-man) ||
	die "the installed man page is not what /usr/bin/tickerd --help-man prints"
in_root /usr/bin/tickerd --print-config | grep -qx '# web = /usr/share/tickerd/web' ||
	die "/usr/bin/tickerd does not look for its web files in /usr/share/tickerd/web"
step "check the installed files"

# ------------------------------------------------------------ serve from it
free_port() { # a port nothing listens on, from a random start
	local p=$((20000 + RANDOM % 20000))
	while [[ -n $(ss -Hltn "sport = :$p" 2>/dev/null) ]]; do p=$((p + 1)); done
	echo "$p"
}
rport=$(free_port)
chroot "$root" setpriv --reuid=redis --regid=redis --init-groups -- \
	redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no --daemonize no --dir /tmp \
	>"$work/redis.log" 2>&1 &
pids+=($!)
for ((i = 0; i < 100; i++)); do
	[[ $(in_root redis-cli -p "$rport" PING 2>/dev/null) == PONG ]] && break
	sleep 0.1
done
[[ $(in_root redis-cli -p "$rport" PING 2>/dev/null) == PONG ]] || { cat "$work/redis.log" >&2; die "redis-server did not start"; }
port=$(free_port)
while [[ $port == "$rport" ]]; do port=$(free_port); done
chroot "$root" setpriv --reuid=tickerd --regid=tickerd --init-groups -- \
	/usr/bin/tickerd --config /etc/tickerd/tickerd.conf --listen "127.0.0.1:$port" --redis "redis://127.0.0.1:$rport" \
	>"$work/tickerd.log" 2>&1 &
tickerd_pid=$!
pids=("$tickerd_pid" "${pids[@]}")
health=
for ((i = 0; i < 100; i++)); do
	health=$(curl -fsS "http://127.0.0.1:$port/healthz" 2>/dev/null) && break
	kill -0 "$tickerd_pid" 2>/dev/null || break
	sleep 0.1
done
[[ $health == *'"status":"ok"'* && $health == *'"redis":"connected"'* ]] ||
	{ cat "$work/tickerd.log" >&2; die "/healthz: ${health:-no answer}"; }
curl -fsS "http://127.0.0.1:$port/" | cmp -s - "$repo/web/index.html" ||
	die "GET / is not web/index.html"
curl -fsS "http://127.0.0.1:$port/ticker.js" | cmp -s - "$repo/web/ticker.js" ||
	die "GET /ticker.js is not web/ticker.js"
in_root redis-cli -p "$rport" PUBLISH ticker:breaking "Paquet installé, ticker en service" >/dev/null
for ((i = 0; i < 50; i++)); do
	health=$(curl -fsS "http://127.0.0.1:$port/healthz")
	[[ $health =~ \"items\":1[,}] ]] && break
	sleep 0.1
done
[[ $health =~ \"items\":1[,}] ]] || die "the published headline is not an item: $health"
# The installed tickerctl: a refusal in tickerd's words (exit 1), then a seq.
out=$(in_root tickerctl --redis "redis://127.0.0.1:$rport" publish --url ftp://example.org/ "Refusé" 2>&1) && rc=0 || rc=$?
[[ $rc == 1 && $out == 'tickerctl: bad_url: url must be an http or https URL' ]] ||
	die "tickerctl publish --url ftp://...: exit $rc, $out"
seq=$(in_root tickerctl --redis "redis://127.0.0.1:$rport" publish --topic world "Publié avec tickerctl") ||
	die "tickerctl publish failed"
[[ $seq =~ ^[0-9]+-[0-9]+$ ]] || die "tickerctl publish printed \"$seq\", not a seq"
for ((i = 0; i < 50; i++)); do
	health=$(curl -fsS "http://127.0.0.1:$port/healthz")
	[[ $health =~ \"items\":2[,}] ]] && break
	sleep 0.1
done
[[ $health =~ \"items\":2[,}] ]] || die "the item tickerctl published is not an item: $health"
kill -TERM "$tickerd_pid"
rc=0
wait "$tickerd_pid" || rc=$?
((rc == 0)) || { cat "$work/tickerd.log" >&2; die "tickerd exited $rc on SIGTERM"; }
step "serve / and /healthz"

ms=$((($(date +%s%N) - t_all) / 1000000))
say "ok: ${deb##*/} installs and serves in a Debian 12 chroot ($((ms / 1000)).$((ms % 1000 / 100)) s in all)"
