#!/bin/bash
# run.sh: build the libFuzzer targets with clang and fuzz each for a while.
#
#   tests/fuzz/run.sh [SECONDS] [TARGET...]    default: 60 s, every target
#
# Compiles the server's sources (all but main.c) and each tests/fuzz/fuzz_*.c
# with clang -fsanitize=fuzzer,address,undefined into build-fuzz/, then runs
# each target for SECONDS on build-fuzz/work/<target>/ (the seed corpus
# copied in, plus whatever earlier runs found).  Crashes land in
# build-fuzz/crashes/; their paths are printed and the exit status is 1.
# FUZZ_FLAGS adds libFuzzer flags, e.g. "-fork=2 -ignore_crashes=1" to go on
# past a known crash.  Needs clang and libFuzzer's runtime (Debian: clang,
# libclang-rt-14-dev).
# Flag and file lists are split on purpose (no file names with blanks).
# shellcheck disable=SC2086,SC2046
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=$root/build-fuzz
secs=${1:-60}
shift || true
cc=${FUZZ_CC:-clang}
# The libraries: the Makefile's list (PKGS), asked for, not copied.
pkgs=$(make -s --no-print-directory -C "$root" print-pkgs)
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
cflags="-std=gnu11 -O1 -g -Wall -Wextra -fno-omit-frame-pointer $san -I$root/include
	$(pkg-config --cflags $pkgs)"

command -v "$cc" >/dev/null || {
	echo "run.sh: $cc not found (apt-get install clang libclang-rt-14-dev)" >&2
	exit 2
}

# Compile src to obj (instrumented for coverage) unless obj is newer than
# src and every header.
compile() {
	local src=$1 obj=$2
	if [ -f "$obj" ] && [ "$obj" -nt "$src" ] &&
		[ -z "$(find "$root/include" "$here" "$root/tests/helpers" -name '*.h' -newer "$obj")" ]; then
		return 0
	fi
	$cc $cflags -fsanitize=fuzzer-no-link -c -o "$obj" "$src" ||
		{ rm -f "$obj"; touch "$out/build-failed"; }
}

mkdir -p "$out/server" "$out/gen" "$out/crashes" "$out/work"
rm -f "$out/build-failed"
lua=$root/deploy/redis/tickerd.lua
if [ ! -f "$out/gen/tickerd_lua.c" ] || [ "$lua" -nt "$out/gen/tickerd_lua.c" ]; then
	{ echo "/* generated from deploy/redis/tickerd.lua */"
	  echo 'const char tickerd_lua[] ='
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/\t"/' -e 's/$/\\n"/' "$lua"
	  printf '\t;\n'; } >"$out/gen/tickerd_lua.c"
fi
objs=("$out/gen/tickerd_lua.o")
compile "$out/gen/tickerd_lua.c" "$out/gen/tickerd_lua.o" &
for src in "$root"/server/*.c; do
	name=$(basename "$src" .c)
	[ "$name" = main ] && continue
	objs+=("$out/server/$name.o")
	compile "$src" "$out/server/$name.o" &
	while [ "$(jobs -rp | wc -l)" -ge "$(nproc)" ]; do wait -n || true; done
done
wait
[ ! -e "$out/build-failed" ] || { echo "run.sh: build failed" >&2; exit 2; }

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
	for d in "$here"/corpus/*/; do targets+=("$(basename "$d")"); done
fi
for t in "${targets[@]}"; do
	$cc $cflags -fsanitize=fuzzer -o "$out/fuzz_$t" "$here/fuzz_$t.c" \
		"${objs[@]}" $(pkg-config --libs $pkgs)
done

status=0
for t in "${targets[@]}"; do
	work=$out/work/$t
	mkdir -p "$work"
	cp -n "$here/corpus/$t/"* "$work/" 2>/dev/null || true
	dict=()
	[ -f "$here/$t.dict" ] && dict=("-dict=$here/$t.dict")
	before=$(find "$out/crashes" -name "$t-*" | wc -l)
	echo "== fuzz $t for ${secs}s on ${work#"$root"/}"
	# Past the largest payload, or request head (REQ_HEAD_MAX), by a bit.
	case $t in
	item) max_len=16384 ;;
	request) max_len=9216 ;;
	proxy) max_len=4200 ;; # past PROXY_V2_HEAD + PROXY_V2_LEN_MAX
	api) max_len=4096 ;;   # a request head and a small body
	*) max_len=512 ;;
	esac
	"$out/fuzz_$t" "$work" "${dict[@]}" -max_total_time="$secs" \
		-max_len="$max_len" \
		-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$out/crashes/$t-" ${FUZZ_FLAGS:-} >"$out/fuzz_$t.log" 2>&1 || true
	# The last status line (cov: edges, ft: features), then the totals.
	grep -E '^#[0-9]+:?[[:space:]]' "$out/fuzz_$t.log" | tail -n 1 | sed 's/^/   /' || true
	grep -E 'stat::(number_of_executed_units|average_exec_per_sec)' \
		"$out/fuzz_$t.log" | sed 's/^/   /' || true
	if [ "$(find "$out/crashes" -name "$t-*" | wc -l)" -gt "$before" ] ||
		grep -q 'ERROR: libFuzzer\|==ERROR\|runtime error' "$out/fuzz_$t.log"; then
		status=1
		echo "   CRASH: see ${out#"$root"/}/fuzz_$t.log"
		find "$out/crashes" -name "$t-*" -newer "$out/fuzz_$t" | sed 's/^/   /'
	else
		echo "   no crash (log: ${out#"$root"/}/fuzz_$t.log)"
	fi
done
exit $status
