#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The Debian packages (debian/): built once from a copy of the source with
# `dpkg-buildpackage -us -uc -b` (the whole project is compiled again, without the test suite;
# DEB_BUILD_OPTIONS noopt and noautodbgsym: the packages' contents and scripts are what is
# checked, and they cut the build from 90 to 67 s of CPU), lintian with no error, then installed into a scratch root
# (`dpkg --root=DIR --force-script-chrootless`, the maintainer scripts run with DPKG_ROOT=DIR;
# --force-depends: the scratch root has no libraries, the programs run with the machine's):
# files, conffiles, the units enabled by deb-systemd-helper, the installed units verified; an
# upgrade (the same package as version 0.1.0+test1) keeps /var/lib/nfsprov and the admin's
# nfsprov.conf; remove keeps them and the client's cache (/var/cache/nfsprov); purge removes
# them all, but keeps the state while a loop device still uses an image in it. Nothing outside the scratch root and the sandbox is written.
. "$NP_TOP_SRCDIR/tests/sandbox/lib.sh"
# dpkg-buildpackage compiles the project itself with Debian's flags, whatever this build is: the
# sanitizer pass of scripts/test would build and check the very same packages a second time
[ "${NP_SANITIZERS:-no}" = yes ] &&
    sb_skip "the packages do not depend on this build (dpkg-buildpackage compiles with Debian's flags): checked in the pass without sanitizers"
sb_require_cmd dpkg-buildpackage dpkg-dev
sb_require_cmd dh debhelper
sb_require_cmd lintian lintian
sb_require_cmd deb-systemd-helper init-system-helpers
sb_require_cmd systemd-analyze systemd
S=$NP_SCRATCH

# --- build, once, from a copy of the source (the checkout is not written to)
mkdir -p "$S/pkg/src"
tar -C "$NP_SRC" -cf - --exclude=./.git --exclude='./build*' --exclude=./_build --exclude=./autom4te.cache \
    --exclude=./config.status --exclude=./config.log --exclude=./Makefile --exclude=./config.h \
    --exclude=./stamp-h1 --exclude=./run-state . | tar -C "$S/pkg/src" -xf - || sb_fail "copying the source"
start=$(date +%s)
(cd "$S/pkg/src" && DEB_BUILD_OPTIONS="parallel=2 nocheck noopt noautodbgsym" dpkg-buildpackage -us -uc -b) > "$S/build.log" 2>&1 ||
    { tail -40 "$S/build.log"; sb_fail "dpkg-buildpackage -us -uc -b failed"; }
echo "dpkg-buildpackage: $(($(date +%s) - start)) s"
V=$(dpkg-parsechangelog -l "$NP_SRC/debian/changelog" -S Version)
ARCH=$(dpkg --print-architecture)
SERVER=$S/pkg/nfsprov-server_${V}_$ARCH.deb
CLIENT=$S/pkg/nfsprov-client_${V}_$ARCH.deb
[ -f "$SERVER" ] && [ -f "$CLIENT" ] || { ls "$S/pkg"; sb_fail "the two packages were not built"; }

# --- lintian: no error (warnings are shown)
lintian --tag-display-limit 0 "$S/pkg/nfsprov_${V}_$ARCH.changes" > "$S/lintian.log" 2>&1
grep -v '^N:' "$S/lintian.log"
assert_eq "$(grep -c '^E:' "$S/lintian.log")" 0 "lintian errors"

# --- contents
contents() { dpkg-deb -c "$1" | awk '{print $6}' | sed 's|^\./|/|; /\/$/d' | LC_ALL=C sort | tr '\n' ' '; }
assert_eq "$(contents "$SERVER")" "/etc/nfsprov/nfsprov.conf /lib/systemd/system/nfsprovd.service /usr/bin/nfsprov /usr/sbin/nfsprovd /usr/share/bash-completion/completions/nfsprov /usr/share/doc/nfsprov-server/changelog.gz /usr/share/doc/nfsprov-server/copyright /usr/share/man/man5/nfsprov.conf.5.gz /usr/share/man/man8/nfsprov.8.gz /usr/share/man/man8/nfsprovd.8.gz " \
    "nfsprov-server's files"
assert_eq "$(contents "$CLIENT")" "/etc/nfsprov/client.conf /lib/systemd/system/nfsprov-client-watch.service /lib/systemd/system/nfsprov-client.service /lib/systemd/system/nfsprov-client.timer /usr/bin/nfsprov-client /usr/share/bash-completion/completions/nfsprov-client /usr/share/doc/nfsprov-client/changelog.gz /usr/share/doc/nfsprov-client/copyright /usr/share/man/man8/nfsprov-client.8.gz " \
    "nfsprov-client's files"

# --- a scratch root
ROOT=$S/root
mkdir -p "$ROOT/var/lib/dpkg/updates" "$ROOT/var/lib/dpkg/info"
: > "$ROOT/var/lib/dpkg/status"
dpkg_root() { dpkg --root="$ROOT" --force-script-chrootless --force-depends "$@"; }
status_of() { dpkg-query --root="$ROOT" -W -f='${db:Status-Abbrev}${Version}' "$1" 2>/dev/null | tr -s ' '; }

dpkg_root -i "$SERVER" "$CLIENT" > "$S/dpkg.log" 2>&1 || { cat "$S/dpkg.log"; sb_fail "dpkg -i into the scratch root"; }
assert_eq "$(status_of nfsprov-server)" "ii $V" "nfsprov-server installed"
assert_eq "$(status_of nfsprov-client)" "ii $V" "nfsprov-client installed"
assert_eq "$(dpkg-query --root="$ROOT" -W -f='${Conffiles}' nfsprov-server | awk 'NF {print $1}')" /etc/nfsprov/nfsprov.conf "server conffiles"
assert_eq "$(dpkg-query --root="$ROOT" -W -f='${Conffiles}' nfsprov-client | awk 'NF {print $1}')" /etc/nfsprov/client.conf "client conffiles"
assert_eq "$(readlink "$ROOT/etc/systemd/system/multi-user.target.wants/nfsprovd.service")" /lib/systemd/system/nfsprovd.service \
    "nfsprovd.service enabled"
assert_eq "$(readlink "$ROOT/etc/systemd/system/timers.target.wants/nfsprov-client.timer")" /lib/systemd/system/nfsprov-client.timer \
    "nfsprov-client.timer enabled"
# the watch is installed, not enabled (the admin enables it; the timer is the safety net)
[ -e "$ROOT/etc/systemd/system/multi-user.target.wants/nfsprov-client-watch.service" ] &&
    sb_fail "nfsprov-client-watch.service enabled by the install"
assert_eq "$(grep '^ExecStart=' "$ROOT/lib/systemd/system/nfsprov-client-watch.service")" "ExecStart=/usr/bin/nfsprov-client watch" \
    "nfsprov-client-watch.service ExecStart"
assert_eq "$("$ROOT/usr/sbin/nfsprovd" --version)" "nfsprovd $V" "the installed nfsprovd runs"
assert_eq "$(grep '^ExecStart=' "$ROOT/lib/systemd/system/nfsprovd.service")" "ExecStart=/usr/sbin/nfsprovd" "nfsprovd.service ExecStart"
assert_eq "$(grep '^ExecStart=' "$ROOT/lib/systemd/system/nfsprov-client.service")" "ExecStart=/usr/bin/nfsprov-client sync" \
    "nfsprov-client.service ExecStart"
# the installed units, verified with their programs as installed in the scratch root (a
# `systemd-analyze verify --root` wants a whole system there)
mkdir -p "$S/units"
for u in nfsprovd.service nfsprov-client.service nfsprov-client.timer nfsprov-client-watch.service; do
    sed "s|^ExecStart=/usr/|ExecStart=$ROOT/usr/|" "$ROOT/lib/systemd/system/$u" > "$S/units/$u"
done
out=$(cd "$S/units" && systemd-analyze verify --man=no ./nfsprovd.service ./nfsprov-client.service ./nfsprov-client.timer \
    ./nfsprov-client-watch.service 2>&1)
assert_eq "$out" "" "systemd-analyze verify on the installed units"
# the installed example configurations are read as the defaults, and with every "#key = value"
# line uncommented still
for f in nfsprov.conf; do
    out=$("$ROOT/usr/bin/nfsprov" --config "$ROOT/etc/nfsprov/$f" list 2>&1)
    assert_contains "$out" "cannot reach nfsprovd at /run/nfsprov/nfsprovd.sock" "nfsprov with the installed $f"
    sed 's/^#\([a-z_]* = \)/\1/' "$ROOT/etc/nfsprov/$f" > "$S/uncommented.conf"
    out=$("$ROOT/usr/bin/nfsprov" --config "$S/uncommented.conf" list 2>&1)
    assert_contains "$out" "cannot reach nfsprovd at /run/nfsprov/nfsprovd.sock" "nfsprov with $f's defaults uncommented"
done
sed 's/^#\([a-z_]* = \)/\1/' "$ROOT/etc/nfsprov/client.conf" > "$S/client-uncommented.conf"
out=$("$ROOT/usr/bin/nfsprov-client" --config "$S/client-uncommented.conf" --connect test:///default list 2>&1)
assert_not_contains "$out" "client.conf" "nfsprov-client with client.conf's defaults uncommented: $out"

# --- state and an admin's change, then an upgrade
mkdir -p "$ROOT/var/lib/nfsprov/images"
echo "the state database" > "$ROOT/var/lib/nfsprov/nfsprov.db"
truncate -s 1M "$ROOT/var/lib/nfsprov/images/Alpha.img"
printf '[shares]\nbase = /srv/nfs\n' >> "$ROOT/etc/nfsprov/nfsprov.conf"
conf_sum=$(sha256sum < "$ROOT/etc/nfsprov/nfsprov.conf")
dpkg-deb -R "$SERVER" "$S/up"
sed -i "s/^Version: .*/Version: $V+test1/" "$S/up/DEBIAN/control"
dpkg-deb -b "$S/up" "$S/nfsprov-server_up.deb" > /dev/null || sb_fail "repacking as $V+test1"
dpkg_root -i "$S/nfsprov-server_up.deb" > "$S/dpkg.log" 2>&1 || { cat "$S/dpkg.log"; sb_fail "upgrade to $V+test1"; }
assert_eq "$(status_of nfsprov-server)" "ii $V+test1" "upgraded"
assert_eq "$(cat "$ROOT/var/lib/nfsprov/nfsprov.db")" "the state database" "state kept across the upgrade"
[ -f "$ROOT/var/lib/nfsprov/images/Alpha.img" ] || sb_fail "an image was lost in the upgrade"
assert_eq "$(sha256sum < "$ROOT/etc/nfsprov/nfsprov.conf")" "$conf_sum" "the admin's nfsprov.conf kept across the upgrade"
# and a reinstall of the same version
dpkg_root -i "$S/nfsprov-server_up.deb" > "$S/dpkg.log" 2>&1 || { cat "$S/dpkg.log"; sb_fail "reinstall"; }
assert_eq "$(cat "$ROOT/var/lib/nfsprov/nfsprov.db")" "the state database" "state kept across a reinstall"

# --- remove: programs gone, configuration, state and the client's cache kept
mkdir -p "$ROOT/var/cache/nfsprov"   # what the client's units' CacheDirectory= and a sync make
echo '{"version":1,"servers":[]}' > "$ROOT/var/cache/nfsprov/client-pools.json"
: > "$ROOT/var/cache/nfsprov/client-pools.json.lock"
dpkg_root -r nfsprov-server nfsprov-client > "$S/dpkg.log" 2>&1 || { cat "$S/dpkg.log"; sb_fail "dpkg -r"; }
assert_eq "$(status_of nfsprov-server | cut -d' ' -f1)" rc "nfsprov-server removed, config left"
[ -e "$ROOT/usr/sbin/nfsprovd" ] && sb_fail "nfsprovd left after remove"
[ -f "$ROOT/etc/nfsprov/nfsprov.conf" ] || sb_fail "remove deleted nfsprov.conf"
assert_eq "$(cat "$ROOT/var/lib/nfsprov/nfsprov.db")" "the state database" "state kept after remove"
[ -f "$ROOT/var/cache/nfsprov/client-pools.json" ] || sb_fail "remove deleted the client's cache"

# --- purge while a loop device uses an image of the state: the state is kept, and said so
dev=$(sb_losetup "$ROOT/var/lib/nfsprov/images/Alpha.img") || sb_fail "losetup"
dpkg_root -P nfsprov-server > "$S/dpkg.log" 2>&1 || { cat "$S/dpkg.log"; sb_fail "dpkg -P with a loop device"; }
assert_contains "$(cat "$S/dpkg.log")" "/var/lib/nfsprov kept: loop devices still use" "purge says why it keeps the state"
[ -f "$ROOT/var/lib/nfsprov/nfsprov.db" ] || sb_fail "purge removed the state under an attached loop device"
losetup -d "$dev"

# --- install again (state still there), then purge: all gone
dpkg_root -i "$SERVER" > "$S/dpkg.log" 2>&1 || { cat "$S/dpkg.log"; sb_fail "install after purge"; }
assert_eq "$(cat "$ROOT/var/lib/nfsprov/nfsprov.db")" "the state database" "state found again by a new install"
dpkg_root -P nfsprov-server nfsprov-client > "$S/dpkg.log" 2>&1 || { cat "$S/dpkg.log"; sb_fail "dpkg -P"; }
assert_eq "$(status_of nfsprov-server)$(status_of nfsprov-client)" "" "both purged"
for p in /var/lib/nfsprov /var/cache/nfsprov /etc/nfsprov/nfsprov.conf /etc/nfsprov/client.conf \
         /etc/systemd/system/multi-user.target.wants/nfsprovd.service \
         /etc/systemd/system/timers.target.wants/nfsprov-client.timer /lib/systemd/system/nfsprovd.service; do
    [ -e "$ROOT$p" ] || [ -L "$ROOT$p" ] && sb_fail "$p left after purge"
done
sb_pass "built, lintian clean of errors, installed, upgraded, removed, purged"
