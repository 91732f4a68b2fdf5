#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# nfsprov-client --nfs-check against a real NFSv3 server. This kernel has no NFS server, so
# NFS-Ganesha (userspace, FSAL VFS, NFSv3 only, on 127.0.0.1) serves the directories of a real
# nfsprovd's shares (ext4 on loop devices): Good as nfsprovd exports it (rw, no_root_squash),
# Squashed with root_squash, ReadOnly read-only; Unexported is not served at all.
# The preflight (libnfs: MOUNT3 + NFSv3 ACCESS as root) lets `sync --nfs-check` define and start
# only Good on a private libvirtd host; the others fail with one line saying why and are not
# defined; `verify --nfs-check` shows the NFSv3 column. A root write through libnfs to Good is
# owned 0:0 on the server's ext4 (no_root_squash seen from the client side).
. "$NP_TOP_SRCDIR/tests/integration/nfsprovd-lib.sh"
. "$NP_TOP_SRCDIR/tests/integration/ganesha-lib.sh"
sb_require_cmd curl curl
sb_require_cmd ganesha.nfsd nfs-ganesha
sb_require_cmd rpcbind rpcbind
sb_require_cmd rpcinfo rpcbind
sb_require_cmd nfs-cp libnfs-utils
[ -e /usr/lib/x86_64-linux-gnu/ganesha/libfsalvfs.so ] || sb_skip "needs ganesha's FSAL VFS (Debian package nfs-ganesha-vfs)"
. "$NP_TOP_SRCDIR/tests/integration/libvirtd-lib.sh"
[ -x "$NFSPROV_CLIENT" ] || sb_fail "$NFSPROV_CLIENT is not built"

# --- rpcbind (ganesha registers MOUNT and NFS there; libnfs asks it for the ports) ---
# First, before any assertion: with another NFS server registered the test cannot run at all.
if ! rpcinfo -p 127.0.0.1 > /dev/null 2>&1; then
    rpcbind -f > "$S/rpcbind.log" 2>&1 &   # never -h: rpcbind 1.2.6 aborts with it
    sb_track_pid $!
    for _ in $(seq 100); do rpcinfo -p 127.0.0.1 > /dev/null 2>&1 && break; sleep 0.05; done
fi
rpcinfo -p 127.0.0.1 > /dev/null 2>&1 || sb_fail "rpcbind does not answer on 127.0.0.1"
rpcinfo -p 127.0.0.1 2>/dev/null | grep -qw nfs && sb_skip "an NFS server is already registered with rpcbind here"

SHARES="Good Squashed ReadOnly Unexported"
# The root write below makes a file at the share's root: the guard is off (nfsprovd-guard-nfs.sh
# tests the guard over NFS).
GUARD=off
lv_server $SHARES
assert_contains "$(cat /etc/exports)" "$BASE/Good" "nfsprovd's exports block"
assert_contains "$(exportfs -v)" "no_root_squash" "nfsprovd exports rw,no_root_squash"

# --- NFS-Ganesha: the three exports ---
G=$S/ganesha
mkdir -p "$G/recovery" "$G/run"
ganesha_config "$G" "1:$BASE/Good:RW:No_Root_Squash" "2:$BASE/Squashed:RW:Root_Squash" \
    "3:$BASE/ReadOnly:RO:No_Root_Squash" > "$G/ganesha.conf"
ganesha.nfsd -F -f "$G/ganesha.conf" -L "$G/ganesha.log" -p "$G/run/ganesha.pid" -N NIV_EVENT < /dev/null \
    > "$G/stdout" 2>&1 &
GPID=$!
sb_track_pid "$GPID"
Q="version=3&nfsport=2049&mountport=20048"
for _ in $(seq 200); do
    nfs-ls "nfs://127.0.0.1$BASE/Good?$Q" > /dev/null 2>&1 && break
    kill -0 "$GPID" 2>/dev/null || { tail -20 "$G/ganesha.log"; sb_fail "ganesha exited at start"; }
    sleep 0.05
done
nfs-ls "nfs://127.0.0.1$BASE/Good?$Q" > /dev/null 2>&1 || { tail -20 "$G/ganesha.log"; sb_fail "ganesha does not serve $BASE/Good"; }

# a root write through libnfs lands as 0:0 on the server's ext4: no_root_squash, end to end
echo "probe" > "$S/probe.txt"
nfs-cp "$S/probe.txt" "nfs://127.0.0.1$BASE/Good/probe.txt?$Q" > /dev/null || sb_fail "nfs-cp to Good failed"
assert_eq "$(stat -c %u:%g "$BASE/Good/probe.txt")" "0:0" "owner of a root write over NFSv3"
rm "$BASE/Good/probe.txt"

# --- sync --nfs-check on a fresh host: only Good is defined and started ---
lv_start A > /dev/null || exit 1
lv_run A --server "$SERVER" sync --nfs-check
lv_expect_rc 1 "sync --nfs-check"
lv_expect_line "$LV_OUT" "Good: define, autostart, build, start" "sync --nfs-check"
line=$(grep '^Squashed: ' <<< "$LV_OUT")
assert_contains "$line" "Squashed: failed: NFSv3 preflight: 127.0.0.1:$BASE/Squashed is mounted over NFSv3, but root on this host has r-x access" "sync --nfs-check: Squashed"
assert_contains "$(grep '^ReadOnly: ' <<< "$LV_OUT")" "ReadOnly: failed: NFSv3 preflight: 127.0.0.1:$BASE/ReadOnly is mounted over NFSv3, but root on this host has r-x access" "sync --nfs-check: ReadOnly"
assert_contains "$(grep '^Unexported: ' <<< "$LV_OUT")" "Unexported: failed: NFSv3 preflight: 127.0.0.1:$BASE/Unexported cannot be mounted over NFSv3 from this host" "sync --nfs-check: Unexported"
assert_eq "$(tail -1 <<< "$LV_OUT")" "sync: 4 pools: 1 changed, 0 in sync, 0 drift, 0 conflicts, 3 failed" "sync --nfs-check: summary"
assert_eq "$(lv_virsh A pool-list --all --name | awk 'NF {print $1}' | sort | tr '\n' ' ')" "Good " "pools defined on A"
assert_eq "$(lv_mnt_source A "$TARGETS/Good")" "127.0.0.1:$BASE/Good" "Good mounted on A"

# --- verify --nfs-check: the NFSv3 column ---
lv_run A --server "$SERVER" verify --nfs-check
lv_expect_rc 1 "verify --nfs-check"
assert_eq "$(head -1 <<< "$LV_OUT" | tr -s ' ' | sed 's/^ //')" "Name State Autostart Persistent Type UUID Host Source Target Mounted Volumes NFSv3 Verdict" "verify --nfs-check: header"
assert_eq "$(awk '$1 == "Good" {print $2, $12, $13}' <<< "$LV_OUT")" "active ok OK" "verify --nfs-check: Good"
assert_eq "$(awk '$1 == "Squashed" {print $2, $11, $12, $13}' <<< "$LV_OUT")" "undefined - FAIL FAIL" "verify --nfs-check: Squashed"
lv_run A --server "$SERVER" --json verify --nfs-check
assert_eq "$(jq -c '[.pools[] | {(.name): .checks.nfs3}] | add' <<< "$LV_OUT")" \
    '{"Good":true,"ReadOnly":false,"Squashed":false,"Unexported":false}' "verify --json --nfs-check: nfs3 checks"
lv_run A --server "$SERVER" --json verify
assert_eq "$(jq -c '[.pools[].checks.nfs3] | unique' <<< "$LV_OUT")" "[null]" "verify without --nfs-check: nfs3 not checked"

# a dry run probes too, and changes nothing
snap=$(lv_snapshot A)
lv_run A --server "$SERVER" sync --nfs-check --dry-run
assert_contains "$(grep '^Squashed: ' <<< "$LV_OUT")" "failed: NFSv3 preflight" "sync --nfs-check --dry-run: Squashed"
assert_eq "$(lv_snapshot A)" "$snap" "sync --nfs-check --dry-run changed the host"

lv_stop_all
kill -TERM "$GPID"; wait "$GPID" 2>/dev/null
for n in $SHARES; do np delete "$n" > /dev/null || sb_fail "delete $n failed"; done
stop_daemon
sb_pass
