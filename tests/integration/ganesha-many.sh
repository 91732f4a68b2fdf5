#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A real NFS-Ganesha started on nfsprovd's files of 1,100 shares serves all of them, with the
# usual limit of 1,024 open files. nfsprovd keeps one file per share in 256 directories
# (server/ganesha_store.h) because Ganesha's %dir opens every file of a directory before it
# parses the first: 1,100 files in one directory made Ganesha 4.3 exit at start ("Too many open
# files"). The files are written through the export-server table (tests/integration/export-tool
# fill: set, as the engine calls it for each new share), in the test's own network namespace.
. "$NP_TOP_SRCDIR/tests/integration/nfsprovd-lib.sh"
. "$NP_TOP_SRCDIR/tests/integration/ganesha-lib.sh"
ganesha_require
ganesha_netns "$@"
TOOL=$NP_TOP_BUILDDIR/tests/integration/export-tool
[ -x "$TOOL" ] || sb_fail "$TOOL is not built"
N=1100

G=$S/ganesha
GFILE=$G/nfsprov.conf
mkdir -p "$G"
trap 'rc=$?; if [ "$rc" != 0 ]; then grep -E "CRIT|FATAL" "$G/ganesha.log" 2>/dev/null | tail -5; fi' EXIT

# N exportable directories on one ext4 filesystem (FSAL VFS cannot export the sandbox's /tmp)
truncate -s 128M "$S/dirs.img" && mkfs.ext4 -q -F "$S/dirs.img" || sb_fail "mkfs failed"
DEV=$(sb_losetup "$S/dirs.img") || sb_fail "losetup failed"
mkdir -p "$BASE" && mount "$DEV" "$BASE" || sb_fail "mount failed"
for i in $(seq 0 $((N - 1))); do printf '%s/d%04d\n' "$BASE" "$i"; done | xargs mkdir
CLIENTS=127.0.0.1
write_config
sed -i "s|^file = /etc/exports$|server = ganesha\nganesha_config = $GFILE|" "$CONF"
"$TOOL" "$CONF" fill "$BASE" "$N" 1000 127.0.0.1 || sb_fail "export-tool fill failed"
assert_eq "$(find "${GFILE%.conf}.d" -type f -name '*.conf' | wc -l)" "$N" "share files written"
assert_eq "$(grep -c '^%dir ' "$GFILE")" 256 "%dir lines in $GFILE"

# Ganesha with the usual limit of open files, %including nfsprovd's file
ulimit -n 1024 || sb_fail "cannot set the limit of open files"
ganesha_stack "$G" "$GFILE"
assert_eq "$(awk '/^Max open files/ {print $4}' "/proc/$GANESHA_PID/limits")" 1024 "Ganesha's limit of open files"
assert_eq "$(ganesha_show_exports | wc -l)" "$N" "exports Ganesha serves"
assert_eq "$(ganesha_show_exports | awk '{print $2}' | sort | head -1) $(ganesha_show_exports | awk '{print $2}' | sort | tail -1)" \
    "$BASE/d0000 $BASE/d$(printf %04d $((N - 1)))" "the first and last exports"
assert_contains "$(nfs-ls "$(ganesha_url "$BASE/d$(printf %04d $((N - 1)))")" 2>&1; echo rc=$?)" "rc=0" \
    "an NFSv3 listing of the last share"
ganesha_stop
umount "$BASE"
sb_pass
