#!/usr/bin/env bash
# make install PREFIX=/usr after a plain make (PREFIX=/usr/local), into a
# temporary DESTDIR (what `make install-test` runs, from the repository):
# the installed binary must look for its web files under /usr/share/tickerd
# (the build rebuilt config.o for the new PREFIX), and the man page, the
# systemd units, the config, the Redis library and tickerctl (and its man
# page) must be where they belong,
# naming /usr/bin/tickerd and /etc/tickerd.  Then a plain make again gives back
# a binary for /usr/local.  Exit 1 with the reason on the first failure.
set -euo pipefail

me=install-test.sh
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo"
dest=$(mktemp -d "${TMPDIR:-/tmp}/tickerd-install-test.XXXXXX")
trap 'rm -rf -- "$dest"' EXIT

fail() { printf '%s: FAIL: %s\n' "$me" "$*" >&2; exit 1; }
web_dir() { "$1" --print-config </dev/null | sed -n 's/^# web = //p'; }

make --no-print-directory -s all >/dev/null
[[ $(web_dir build/tickerd) == /usr/local/share/tickerd/web ]] ||
	fail "a plain make builds for $(web_dir build/tickerd), not /usr/local/share/tickerd/web"

make --no-print-directory -s install PREFIX=/usr DESTDIR="$dest" >/dev/null
bin=$dest/usr/bin/tickerd
[[ -x $bin ]] || fail "no $bin"
[[ $(web_dir "$bin") == /usr/share/tickerd/web ]] ||
	fail "make install PREFIX=/usr installed a binary that looks in $(web_dir "$bin")"
for f in usr/share/tickerd/web/index.html usr/share/tickerd/web/ticker.js \
	usr/share/tickerd/redis/tickerd.lua usr/share/man/man8/tickerd.8 \
	usr/lib/systemd/system/tickerd.service usr/lib/systemd/system/tickerd@.service \
	usr/lib/sysctl.d/60-tickerd.conf etc/tickerd/tickerd.conf usr/share/man/man1/tickerctl.1; do
	[[ -f $dest/$f ]] || fail "make install PREFIX=/usr did not install /$f"
done
[[ -x $dest/usr/bin/tickerctl ]] || fail "make install PREFIX=/usr did not install /usr/bin/tickerctl"
[[ $("$dest/usr/bin/tickerctl" --version) == "$("$bin" --version | sed 's|^tickerd/|tickerctl/|')" ]] ||
	fail "the installed tickerctl is not of the installed tickerd's release"
cmp -s "$dest/usr/share/man/man1/tickerctl.1" ctl/tickerctl.1 ||
	fail "the installed tickerctl(1) is not ctl/tickerctl.1"
cmp -s "$dest/usr/share/man/man8/tickerd.8" <("$bin" --help-man) ||
	fail "the installed man page is not what the installed binary prints (--help-man)"
grep -q '^\\fB/usr/share/tickerd\\fR\\fB/web/' "$dest/usr/share/man/man8/tickerd.8" ||
	fail "the man page does not name /usr/share/tickerd/web"
grep -q '^\\fB/etc/tickerd\\fR\\fB/tickerd.conf' "$dest/usr/share/man/man8/tickerd.8" ||
	fail "the man page does not name /etc/tickerd/tickerd.conf"
grep -qx 'ExecStart=/usr/bin/tickerd --config /etc/tickerd/tickerd.conf' "$dest/usr/lib/systemd/system/tickerd.service" ||
	fail "the installed tickerd.service does not run /usr/bin/tickerd --config /etc/tickerd/tickerd.conf"
cmp -s "$dest/etc/tickerd/tickerd.conf" deploy/tickerd.conf.example ||
	fail "/etc/tickerd/tickerd.conf is not deploy/tickerd.conf.example"
"$bin" --print-config --config "$dest/etc/tickerd/tickerd.conf" >/dev/null ||
	fail "the installed binary refuses the installed config"

# An existing config is kept; elsewhere, the units name where things are.
echo 'max-clients = 7' >"$dest/etc/tickerd/tickerd.conf"
make --no-print-directory -s install PREFIX=/usr DESTDIR="$dest" >/dev/null
[[ $(cat "$dest/etc/tickerd/tickerd.conf") == 'max-clients = 7' ]] || fail "make install overwrote an existing config"
make --no-print-directory -s install PREFIX=/opt/tickerd DESTDIR="$dest" >/dev/null
grep -qx 'ExecStart=/opt/tickerd/bin/tickerd --config /opt/tickerd/etc/tickerd/tickerd.conf' \
	"$dest/opt/tickerd/lib/systemd/system/tickerd.service" ||
	fail "with PREFIX=/opt/tickerd, tickerd.service does not name /opt/tickerd/bin/tickerd and /opt/tickerd/etc"
[[ $(web_dir "$dest/opt/tickerd/bin/tickerd") == /opt/tickerd/share/tickerd/web ]] ||
	fail "PREFIX=/opt/tickerd: the binary looks in $(web_dir "$dest/opt/tickerd/bin/tickerd")"

# And back: a plain make rebuilds for /usr/local.
make --no-print-directory -s all >/dev/null
[[ $(web_dir build/tickerd) == /usr/local/share/tickerd/web ]] ||
	fail "make after make install PREFIX=/usr left a binary for $(web_dir build/tickerd)"
echo "$me: ok: make install PREFIX=/usr and PREFIX=/opt/tickerd after make: the binaries find their files"
