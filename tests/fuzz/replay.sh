#!/bin/sh
# replay.sh: replay every fuzz corpus (and saved crash) through its target,
# built with the normal compiler against a build's server objects.
#
#   tests/fuzz/replay.sh BUILD_DIR      e.g. build, build-sanitize
#
# Links BUILD_DIR/server/*.o (all but main.o) and BUILD_DIR/gen/tickerd_lua.o,
# so `make` (or `make SANITIZE=address,undefined`) must have built them.  If
# they were built with sanitizers, the drivers are linked with the same ones.
# Drivers go to BUILD_DIR/fuzz/.  Prints one line per target, then
# "N passed, M failed"; exits 1 if any input failed.
# Flag and file lists are split on purpose (no file names with blanks).
# shellcheck disable=SC2086,SC2046
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
[ $# -eq 1 ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
case $1 in /*) build=$1 ;; *) build=$root/$1 ;; esac
cc=${CC:-cc}
# The libraries: the Makefile's list (PKGS), asked for, not copied.
pkgs=$(make -s --no-print-directory -C "$root" print-pkgs)

# The library objects: one per server source but main.c (stale objects of
# removed sources stay out), plus the compiled-in Redis function library.
objs=
for src in "$root"/server/*.c; do
	name=$(basename "$src" .c)
	[ "$name" = main ] && continue
	objs="$objs $build/server/$name.o"
done
objs="$objs $build/gen/tickerd_lua.o"
for o in $objs; do
	[ -f "$o" ] || { echo "replay: $o is missing: build $1 first (make)" >&2; exit 2; }
done

# Link with the sanitizers the objects were compiled with.
san=
syms=$(nm -u $objs 2>/dev/null || true)
case $syms in *__asan_*) san="address" ;; esac
case $syms in *__ubsan_handle_*) san="${san:+$san,}undefined" ;; esac
[ -n "$san" ] && san="-fsanitize=$san -fno-omit-frame-pointer"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"

mkdir -p "$build/fuzz"
passed=0 failed=0
for dir in "$here"/corpus/*/; do
	t=$(basename "$dir")
	bin=$build/fuzz/replay_$t
	$cc -std=gnu11 -O1 -g -Wall -Wextra -Werror $san -I"$root/include" \
		$(pkg-config --cflags $pkgs) -o "$bin" "$here/fuzz_$t.c" \
		"$here/replay.c" $objs $(pkg-config --libs $pkgs)
	inputs=$(find "$dir" -type f | sort)
	if [ -d "$here/crashes" ]; then
		inputs="$inputs $(find "$here/crashes" -type f -name "$t-*" | sort)"
	fi
	n=$(echo $inputs | wc -w)
	# One process for the whole corpus; if it dies, find out which inputs.
	if "$bin" $inputs >/dev/null 2>"$build/fuzz/replay_$t.log"; then
		echo "fuzz $t: $n passed"
		passed=$((passed + n))
		continue
	fi
	bad=0
	for f in $inputs; do
		if ! "$bin" "$f" >/dev/null 2>>"$build/fuzz/replay_$t.log"; then
			bad=$((bad + 1))
			echo "fuzz $t: FAILED ${f#"$root"/}"
		fi
	done
	if [ "$bad" -eq 0 ]; then # fails together only: count the run
		bad=1
		echo "fuzz $t: FAILED when replayed together"
	fi
	passed=$((passed + n - bad))
	failed=$((failed + bad))
	echo "fuzz $t: $((n - bad)) passed, $bad failed (see ${build#"$root"/}/fuzz/replay_$t.log)"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
