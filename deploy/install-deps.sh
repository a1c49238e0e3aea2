#!/usr/bin/env bash
# Install the Debian 12 packages that tickerd's build, `make run` and
# `make test` need -- only the ones that are missing.
#
#   deploy/install-deps.sh           install what is missing (apt-get, via sudo when not root)
#   deploy/install-deps.sh --check   only list what is missing; exit 1 if anything is
#
# Fast no-op (one dpkg-query call, one `node --version`) when everything is present.
set -euo pipefail

PACKAGES=(
	gcc make pkg-config libc6-dev                       # toolchain
	libwebsockets-dev libuv1-dev # lws: log, SHA-1, base64; libuv: the loop
	libhiredis-dev libjansson-dev                       # Redis client, JSON
	zlib1g-dev                                          # gzip copies of the web files
	libsystemd-dev                                      # sd_notify: readiness, reload, watchdog
	libjwt-dev libssl-dev                               # readers' tokens: JWT (libjwt), key types (OpenSSL); SHA-256 of publisher keys (libcrypto)
	libcmocka-dev                                       # C unit tests
	groff-base                                          # the man page's test (groff -ww)
	redis-server redis-tools                            # make run / e2e tests
	haproxy                                             # e2e: tickerd behind HAProxy (PROXY protocol)
	chromium                                            # browser tests
	clang libclang-rt-14-dev                            # make fuzz (libFuzzer)
	nginx openssl                                       # e2e: tickerd behind nginx, with TLS
	python3-feedparser                                  # e2e: /feed.atom read by a real feed parser
)
NODE_MIN_MAJOR=18 # Debian 12 ships nodejs 18.20; tests/package.json pins playwright-core 1.61.1 for it (1.62+ need 20)

me=${0##*/}

usage() {
	cat <<EOF
usage: $me [--check]
  Installs the missing Debian packages tickerd needs to build, run and test:
    ${PACKAGES[*]}
  plus nodejs/npm when node (>= v$NODE_MIN_MAJOR) or npm is not on PATH.
  --check   only list what is missing; exit 1 if anything is, 0 otherwise
EOF
}

check_only=0
case $# in
0) ;;
1)
	case $1 in
	--check) check_only=1 ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
	;;
*) usage >&2; exit 2 ;;
esac

if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "$me: dpkg-query not found: this script installs Debian 12 packages; install the equivalents of: ${PACKAGES[*]} nodejs npm" >&2
	exit 1
fi

# Which packages are "install ok installed"?  One dpkg-query call for all of
# them (it exits 1 when some name is unknown; the known ones are still printed).
declare -A installed=()
scan_installed() {
	installed=()
	local pkg status
	while IFS=' ' read -r pkg status; do
		if [[ $status == "install ok installed" ]]; then installed[$pkg]=1; fi
	done < <(dpkg-query -W -f='${Package} ${Status}\n' "${PACKAGES[@]}" nodejs npm 2>/dev/null || true)
	return 0
}

node_note=""
missing=()
compute_missing() {
	missing=()
	node_note=""
	local pkg
	for pkg in "${PACKAGES[@]}"; do
		[[ -n ${installed[$pkg]:-} ]] || missing+=("$pkg")
	done

	local need_node=0 ver major
	if command -v node >/dev/null 2>&1; then
		ver=$(node --version 2>/dev/null || true) # e.g. v18.19.0
		major=${ver#v}
		major=${major%%.*}
		if [[ ! $major =~ ^[0-9]+$ ]] || ((major < NODE_MIN_MAJOR)); then
			need_node=1
			node_note="node on PATH ($(command -v node)) is ${ver:-unknown}, older than v$NODE_MIN_MAJOR"
		fi
	else
		need_node=1
	fi
	if ((need_node)); then
		[[ -n ${installed[nodejs]:-} ]] || missing+=(nodejs)
		[[ -n ${installed[npm]:-} ]] || missing+=(npm)
	elif ! command -v npm >/dev/null 2>&1; then
		[[ -n ${installed[npm]:-} ]] || missing+=(npm)
	fi
	if ((need_node)) && [[ -n $node_note && -n ${installed[nodejs]:-} ]]; then
		node_note+="; Debian's nodejs is installed as /usr/bin/node: put /usr/bin before $(dirname "$(command -v node)") in PATH"
	fi
	return 0
}

scan_installed
compute_missing

if ((check_only)); then
	[[ -z $node_note ]] || echo "$me: $node_note" >&2
	if ((${#missing[@]})); then
		echo "missing: ${missing[*]}"
		exit 1
	fi
	echo "all build and test dependencies present"
	exit 0
fi

if ((${#missing[@]} == 0)); then
	[[ -z $node_note ]] || echo "$me: warning: $node_note" >&2
	echo "all build and test dependencies present"
	exit 0
fi

if ((EUID == 0)); then
	as_root=()
elif command -v sudo >/dev/null 2>&1; then
	as_root=(sudo)
else
	echo "$me: missing packages: ${missing[*]}" >&2
	echo "$me: installing them needs root: run this script as root, or install and configure sudo" >&2
	exit 1
fi

log=$(mktemp "${TMPDIR:-/tmp}/tickerd-install-deps.XXXXXX")
# Debian starts a service when its package is installed (nginx would listen
# on every address, port 80).  The tests start their own, on loopback, in a
# temporary folder: while apt-get runs, a policy-rc.d says "not now" (exit
# 101), unless the machine already has one.
policy=/usr/sbin/policy-rc.d
own_policy=0
if [[ ! -e $policy ]]; then
	printf '#!/bin/sh\nexit 101\n' | "${as_root[@]}" tee "$policy" >/dev/null &&
		"${as_root[@]}" chmod 755 "$policy" && own_policy=1
fi
cleanup() {
	rm -f "$log"
	if ((own_policy)); then "${as_root[@]}" rm -f "$policy"; fi
}
trap cleanup EXIT
echo "$me: installing ${missing[*]} ..." >&2
apt_env=(env DEBIAN_FRONTEND=noninteractive)
if ! "${as_root[@]}" "${apt_env[@]}" apt-get update -q >"$log" 2>&1 ||
	! "${as_root[@]}" "${apt_env[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >>"$log" 2>&1; then
	tail -n 30 "$log" >&2
	echo "$me: apt-get failed (output above); wanted: ${missing[*]}" >&2
	exit 1
fi

wanted=("${missing[@]}")
hash -r
scan_installed
compute_missing
if ((${#missing[@]})); then
	echo "$me: installed ${wanted[*]}, but still missing: ${missing[*]}${node_note:+ ($node_note)}" >&2
	exit 1
fi
[[ -z $node_note ]] || echo "$me: warning: $node_note" >&2
echo "installed: ${wanted[*]}"
