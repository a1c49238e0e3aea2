#!/usr/bin/env bash
# Looping demo news stream for tickerd: PUBLISHes a headline to Redis every
# 3-5 seconds until its parent process dies or it gets SIGTERM (or Ctrl-C).
#
#   deploy/dev/demo-feed.sh [redis-cli args...]     e.g. -p 6390   or   -u redis://127.0.0.1:6390
#   deploy/dev/demo-feed.sh --print                 print one cycle (channel TAB payload), publish nothing
#
# Environment: TICKERD_PREFIX  channel prefix (default ticker: channels ticker:<topic>)
#              DEMO_FEED_DELAY fixed delay in seconds between messages (default: random 3-5)
#
# All headlines are invented for this demo. They deliberately carry what real
# pages carry: accents, the typographic apostrophe ’ (U+2019), « » guillemets
# with no-break spaces (U+00A0) inside, U+00A0 before units, dates and French
# colons -- written below as literal UTF-8 characters.
# Every cycle uses fresh ids (suffix = cycle number), and plain-text items end
# with the cycle number, so each cycle is new to tickerd (no duplicates) and the
# correction (version 2) and the kill (status canceled) replay visibly.
# Needs only bash and redis-cli.
set -euo pipefail

me=${0##*/}
prefix=${TICKERD_PREFIX:-ticker}
delay=${DEMO_FEED_DELAY:-}

print_only=0
case ${1:-} in
-h | --help)
	sed -n '2,20s/^# \{0,1\}//p' "$0"
	exit 0
	;;
--print) print_only=1 ;;
esac
cli=("$@")

if ((!print_only)) && ! command -v redis-cli >/dev/null 2>&1; then
	echo "$me: redis-cli not found (Debian: apt-get install redis-tools, or run deploy/install-deps.sh)" >&2
	exit 1
fi
if [[ -n $delay && ! $delay =~ ^[0-9]+([.][0-9]+)?$ ]]; then
	echo "$me: DEMO_FEED_DELAY must be a number of seconds, got '$delay'" >&2
	exit 2
fi

# ---------------------------------------------------------------- the stream
# One entry per message: "topic|payload". @N@ is replaced by the cycle number,
# @NOW@ by the current UTC time, @NOW_PARIS@ by Paris local time with offset.
# The typographic apostrophes below are intended (shellcheck SC1112).
# shellcheck disable=SC1112
messages=(
	# A flash with an id; its correction (version 2) comes two messages later.
	'breaking|{"id":"demo-@N@-seisme","headline":"Séisme de magnitude 5,8 au large de la Crète : pas de victime signalée à ce stade","priority":"flash","label":"Alerte","lang":"fr","url":"https://example.org/monde/seisme-crete","source":"Rédaction démo"}'
	# Plain text: « » with no-break spaces inside, typographic apostrophe.
	'world|À Lyon, la Fête des lumières attire « plus de monde que jamais », selon l’office du tourisme (démo n° @N@)'
	# English JSON, urgent, with a time given with a +01:00/+02:00 offset.
	'sport|{"id":"demo-@N@-cup","headline":"Late penalty sends Harbourside FC into the cup final after a 2–1 win","priority":"urgent","label":"Live","lang":"en","time":"@NOW_PARIS@","url":"https://example.org/sport/harbourside-cup-final"}'
	# The correction of the flash above.
	'breaking|{"id":"demo-@N@-seisme","headline":"Séisme de magnitude 6,1 (et non 5,8 comme annoncé) au large de la Crète : pas de victime signalée","priority":"flash","label":"Corrigé","lang":"fr","url":"https://example.org/monde/seisme-crete","source":"Rédaction démo","version":2}'
	# Premium bulletin with related items.
	'world|{"id":"demo-@N@-sommet","headline":"Sommet européen : accord « historique » sur le stockage de l’énergie, annonce la présidence","priority":"bulletin","label":"Europe","lang":"fr","url":"https://example.org/europe/sommet-stockage-energie","premium":true,"related":[{"headline":"Ce que contient l’accord, point par point","url":"https://example.org/europe/accord-decryptage","premium":true},{"headline":"Les réactions des capitales","url":"https://example.org/europe/reactions"}]}'
	# Plain text: no-break spaces before a date and units.
	'sport|Cyclisme : le contre-la-montre du 24 juin raccourci à 31,5 km à cause de la canicule (démo n° @N@)'
	# An item that gets killed two messages later.
	'world|{"id":"demo-@N@-bridge","headline":"Officials say the Riverside bridge will reopen to traffic on Monday","priority":"urgent","lang":"en","url":"https://example.org/world/riverside-bridge","time":"@NOW@"}'
	# Plain English text with a typographic apostrophe.
	'breaking|Power is back in most of the city’s northern districts after a six-hour outage (demo #@N@)'
	# The kill.
	'world|{"id":"demo-@N@-bridge","status":"canceled"}'
	# IPTC ninjs field names: uri, headlines[0].value, language, urgency, versioncreated.
	'sport|{"uri":"urn:example:demo:@N@:marathon","headlines":[{"value":"Marathon de la côte : record de l’épreuve battu en 2 h 06 min 41 s, devant 12 000 coureurs"}],"language":"fr","urgency":4,"versioncreated":"@NOW@","copyrightholder":"Rédaction démo"}'
)

now_utc() { TZ=UTC0 printf '%(%Y-%m-%dT%H:%M:%SZ)T' -1; }
now_paris() { # POSIX TZ rule, so it works without tzdata; +0200 -> +02:00
	local t
	t=$(TZ='CET-1CEST,M3.5.0,M10.5.0/3' printf '%(%Y-%m-%dT%H:%M:%S%z)T' -1)
	printf '%s:%s' "${t:0:${#t}-2}" "${t:${#t}-2}"
}

expand() { # $1 = template, $2 = cycle -> sets $payload
	payload=${1//@N@/$2}
	[[ $payload != *@NOW@* ]] || payload=${payload//@NOW@/$(now_utc)}
	[[ $payload != *@NOW_PARIS@* ]] || payload=${payload//@NOW_PARIS@/$(now_paris)}
}

if ((print_only)); then
	for m in "${messages[@]}"; do
		expand "${m#*|}" 1
		printf '%s:%s\t%s\n' "$prefix" "${m%%|*}" "$payload"
	done
	exit 0
fi

# ------------------------------------------------------------- life cycle
parent=$PPID
sleep_pid=
stop() {
	[[ -z $sleep_pid ]] || kill "$sleep_pid" 2>/dev/null || true
	exit 0
}
trap stop TERM INT HUP

parent_alive() {
	local stat
	if [[ -r /proc/$$/stat ]]; then # current parent, after a possible re-parenting
		read -r stat <"/proc/$$/stat" || return 0
		stat=${stat##*) } # drop "pid (comm) "
		stat=${stat#* }   # drop state
		[[ ${stat%% *} == "$parent" ]]
	else
		kill -0 "$parent" 2>/dev/null
	fi
}

nap() { # sleep $1 seconds, interruptible by SIGTERM
	sleep "$1" &
	sleep_pid=$!
	wait "$sleep_pid" || true
	sleep_pid=
}

pause() {
	if [[ -n $delay ]]; then
		nap "$delay"
		parent_alive || exit 0
		return
	fi
	local i
	for ((i = 3 + RANDOM % 3; i > 0; i--)); do
		nap 1
		parent_alive || exit 0
	done
}

redis_ok=1
publish() { # $1 channel, $2 payload
	local out
	if out=$(redis-cli "${cli[@]}" PUBLISH "$1" "$2" 2>&1) && [[ $out =~ ^[0-9]+$ ]]; then
		if ((!redis_ok)); then
			echo "$me: publishing again" >&2
			redis_ok=1
		fi
		printf '%s → %s subscriber(s): %s\n' "$1" "$out" "${2:0:100}"
	elif ((redis_ok)); then
		echo "$me: PUBLISH $1 failed: ${out:-no reply}; will keep trying" >&2
		redis_ok=0
	fi
}

cycle=1
while :; do
	for m in "${messages[@]}"; do
		parent_alive || exit 0
		expand "${m#*|}" "$cycle"
		publish "$prefix:${m%%|*}" "$payload"
		pause
	done
	cycle=$((cycle + 1))
done
