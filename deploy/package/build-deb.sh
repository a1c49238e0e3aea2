#!/usr/bin/env bash
# Build tickerd's Debian 12 package (what `make deb` runs):
#
#   deploy/package/build-deb.sh
#
# Copies the source tree (git's tracked and untracked-but-not-ignored files,
# or everything but build output without git) into build/deb/tickerd-<version>/
# and runs `dpkg-buildpackage -us -uc -b` there, so that its ../ is build/deb/
# and the tree's own build/ is not used.  Installs the build dependencies
# (debian/control) with apt-get when some are missing, as root or via sudo.
# The .deb is copied to build/; prints its path and the time the build took.
set -euo pipefail

me=build-deb.sh
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo"
version=$(dpkg-parsechangelog -S Version 2>/dev/null || sed -n '1s/.*(\(.*\)).*/\1/p' debian/changelog)
out=$repo/build/deb
tree=$out/tickerd-$version
start=$(date +%s%N)

say() { printf '%s: %s\n' "$me" "$*" >&2; }

as_root=()
if ((EUID != 0)); then as_root=(sudo); fi

# The tools, then the build dependencies.
if ! command -v dpkg-buildpackage >/dev/null || ! command -v dh >/dev/null; then
	say "installing dpkg-dev, debhelper"
	"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		dpkg-dev debhelper >/dev/null
fi
if ! missing=$(dpkg-checkbuilddeps 2>&1); then
	pkgs=$(sed -n 's/.*Unmet build dependencies: //p' <<<"$missing" | sed 's/([^)]*)//g; s/<[^>]*>//g; s/|[^ ]*//g')
	say "installing the build dependencies: $pkgs"
	# shellcheck disable=SC2086 # one word per package
	"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $pkgs >/dev/null
fi

rm -rf -- "$out"
mkdir -p -- "$tree"
if git -C "$repo" rev-parse --git-dir >/dev/null 2>&1; then
	git -C "$repo" ls-files -z --cached --others --exclude-standard |
		grep -zv '^tests/node_modules' |
		while IFS= read -r -d '' f; do [[ -e $f ]] && printf '%s\0' "$f"; done |
		xargs -0 cp --parents -a -t "$tree"
else
	tar -C "$repo" --exclude=./build --exclude='./build-*' --exclude=./.run \
		--exclude=./tests/node_modules -cf - . | tar -C "$tree" -xf -
fi

say "building tickerd $version in ${tree#"$repo"/}"
if ! (cd "$tree" && dpkg-buildpackage -us -uc -b) >"$out/build.log" 2>&1; then
	tail -n 40 "$out/build.log" >&2
	say "dpkg-buildpackage failed; the whole log: ${out#"$repo"/}/build.log"
	exit 1
fi
deb=$(ls "$out"/tickerd_"$version"_*.deb)
cp -- "$deb" "$repo/build/"
ms=$((($(date +%s%N) - start) / 1000000))
say "built build/${deb##*/} in $((ms / 1000)).$((ms % 1000 / 100)) s (log: ${out#"$repo"/}/build.log)"
echo "build/${deb##*/}"
