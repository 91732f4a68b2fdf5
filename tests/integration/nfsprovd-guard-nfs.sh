#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The guard over real NFS: NFS-Ganesha (userspace NFSv3 server, FSAL VFS) serves the directories
# of a real nfsprovd's shares, and libnfs (nfs-cp, and qemu-img/qemu-io through qemu's nfs
# driver) writes from a "host".
# - enforce (share E, the default): creating a file at the share's root over NFSv3 fails
#   (NFS3ERR_PERM) and nothing appears on the server; writing into an existing volume over NFSv3
#   succeeds and the data is on the server's ext4; nfsprov's vol-create, vol-clone and vol-delete
#   work while Ganesha serves the share; E's audit stays clean.
# - detect (share D): the same create over NFSv3 succeeds and the live watch (fanotify; the
#   writer is Ganesha's process, not a local shell) reports it with no periodic audit
#   (audit_interval = 0) and no on-demand audit: GET /v1/shares/D/audit, status tainted,
#   /metrics, the log.
# NFS is isolated per test: rpcbind and Ganesha run in a network namespace of their own (lo up,
# 127.0.0.2/8 on lo, a tmpfs on /run with /run/rpcbind owned by _rpc), held by a `sleep`
# process; the clients run in it through nsenter. Ports 111, 2049 and 20048 are then the test's
# own, so tests serving NFS in parallel, and the machine's rpcbind, are never disturbed.
. "$NP_TOP_SRCDIR/tests/integration/nfsprovd-lib.sh"
. "$NP_TOP_SRCDIR/tests/integration/ganesha-lib.sh"
sb_require_cmd curl curl
sb_require_cmd ganesha.nfsd nfs-ganesha
sb_require_cmd rpcbind rpcbind
sb_require_cmd rpcinfo rpcbind
sb_require_cmd nfs-cp libnfs-utils
sb_require_cmd nfs-ls libnfs-utils
sb_require_cmd qemu-img qemu-utils
sb_require_cmd qemu-io qemu-utils
sb_require_cmd ip iproute2
sb_require_cmd nsenter util-linux
sb_require_cmd lsattr e2fsprogs
compgen -G "/usr/lib/*/ganesha/libfsalvfs.so" > /dev/null ||
    sb_skip "needs ganesha's FSAL VFS (Debian package nfs-ganesha-vfs)"
compgen -G "/usr/lib/*/qemu/block-nfs.so" > /dev/null ||
    sb_skip "needs qemu's nfs block driver (Debian package qemu-block-extra)"
getent passwd _rpc > /dev/null || sb_skip "needs the _rpc account that rpcbind runs as (Debian package rpcbind)"
unshare --net --mount true 2> /dev/null || sb_skip "cannot create a network namespace here"

# audit_interval = 0: nothing but the live watch (and an explicit request) audits
write_config
sed -i 's/^\[shares\]$/[shares]\naudit_interval = 0/' "$CONF"
start_daemon
np create E --size 64M > /dev/null || { cat "$S/nfsprovd.log"; sb_fail "create E"; }
np create D --size 64M --guard detect > /dev/null || { cat "$S/nfsprovd.log"; sb_fail "create D"; }
np vol-create E vm1 --capacity 16M > /dev/null || { tail -5 "$S/nfsprovd.log"; sb_fail "vol-create E vm1"; }
E=$BASE/E D=$BASE/D
api() { curl -sf --unix-socket "$SOCK" "http://localhost$1"; }
immutable() { lsattr -d "$1" | cut -d' ' -f1 | grep -q i; }

# ---- the NFS namespace (after the shares are mounted: it gets a copy of the mount table) ----
unshare --net --mount --propagation private sleep 2147483647 < /dev/null > /dev/null 2>&1 &
NSPID=$!
sb_track_pid "$NSPID"
for _ in $(seq 200); do
    [ "$(readlink "/proc/$NSPID/ns/net")" != "$(readlink /proc/self/ns/net)" ] && break
    sleep 0.05
done
[ "$(readlink "/proc/$NSPID/ns/net")" != "$(readlink /proc/self/ns/net)" ] || sb_fail "no network namespace for NFS"
# nsenter without -p does not fork: "${NSX[@]}" CMD & gives CMD's own pid in $! (sb_track_pid); a
# shell function would put a subshell between (stopping it would leave CMD running in the namespace)
NSX=(nsenter -t "$NSPID" -n -m)
nsx() { "${NSX[@]}" "$@"; }
# glibc's address check ignores 127.0.0.1 alone (Ganesha: "No IP address found"): add 127.0.0.2
nsx sh -c 'ip link set lo up && ip addr add 127.0.0.2/8 dev lo &&
           mount -t tmpfs -o mode=0755 nfsprov-nfs-run /run && mkdir /run/rpcbind && chown _rpc: /run/rpcbind' ||
    sb_fail "cannot set up the NFS namespace"

G=$S/ganesha
mkdir -p "$G/recovery" "$G/run"
"${NSX[@]}" rpcbind -f > "$G/rpcbind.log" 2>&1 &   # never -h: rpcbind 1.2.6 aborts with it
RPCPID=$!
sb_track_pid "$RPCPID"
for _ in $(seq 200); do nsx rpcinfo -p 127.0.0.1 > /dev/null 2>&1 && break; sleep 0.05; done
nsx rpcinfo -p 127.0.0.1 > /dev/null 2>&1 || { cat "$G/rpcbind.log"; sb_fail "rpcbind does not answer in the NFS namespace"; }

ganesha_config "$G" "1:$E" "2:$D" > "$G/ganesha.conf"
"${NSX[@]}" ganesha.nfsd -F -f "$G/ganesha.conf" -L "$G/ganesha.log" -p "$G/run/ganesha.pid" -N NIV_EVENT < /dev/null \
    > "$G/stdout" 2>&1 &
GPID=$!
sb_track_pid "$GPID"
Q="version=3&nfsport=2049&mountport=20048"
for _ in $(seq 200); do
    nsx nfs-ls "nfs://127.0.0.1$D?$Q" > /dev/null 2>&1 && break
    kill -0 "$GPID" 2> /dev/null || { tail -20 "$G/ganesha.log"; sb_fail "ganesha exited at start"; }
    sleep 0.05
done
for s in "$E" "$D"; do
    nsx nfs-ls "nfs://127.0.0.1$s?$Q" > /dev/null 2>&1 || { tail -20 "$G/ganesha.log"; sb_fail "ganesha does not serve $s"; }
done

# ---- enforce (E): no create at the root over NFSv3, volumes writable ----
immutable "$E" || sb_fail "the root of E is not immutable in mode enforce: $(lsattr -d "$E")"
echo "foreign" > "$S/x.txt"
err=$(nsx nfs-cp "$S/x.txt" "nfs://127.0.0.1$E/x.txt?$Q" 2>&1) &&
    sb_fail "nfs-cp created $E/x.txt over NFSv3 in an enforced share: $err"
assert_contains "$err" "NFS3ERR_PERM" "nfs-cp to E's root"
err=$(nsx qemu-img create -f qcow2 "nfs://127.0.0.1$E/new.qcow2" 16M 2>&1) &&
    sb_fail "qemu-img created $E/new.qcow2 over NFSv3 in an enforced share: $err"
assert_contains "$err" "NFS3ERR_PERM" "qemu-img create in E's root"
assert_eq "$(ls -A "$E" | sort | tr '\n' ' ')" "lost+found vm1 " "E's root on the server after the refused creates"

# the volume takes writes over NFSv3 (qemu's nfs driver, the host's data path); the data is on
# the server's ext4
out=$(nsx qemu-io -f qcow2 -c 'write -P 0x5a 0 1M' "nfs://127.0.0.1$E/vm1" 2>&1) ||
    sb_fail "qemu-io write into E/vm1 over NFSv3 failed: $out"
assert_contains "$out" "wrote 1048576/1048576" "qemu-io write into E/vm1 over NFSv3"
out=$(qemu-io -f qcow2 -c 'read -P 0x5a 0 1M' "$E/vm1" 2>&1)
assert_contains "$out" "read 1048576/1048576" "E/vm1 read back on the server: $out"

# nfsprov's own volume operations while Ganesha serves the share
np vol-create E vm2 --capacity 16M > /dev/null || { tail -5 "$S/nfsprovd.log"; sb_fail "vol-create E vm2 while served"; }
np vol-clone E vm1 vm3 > /dev/null || { tail -5 "$S/nfsprovd.log"; sb_fail "vol-clone E vm1 vm3 while served"; }
np vol-delete E vm2 > /dev/null || { tail -5 "$S/nfsprovd.log"; sb_fail "vol-delete E vm2 while served"; }
immutable "$E" || sb_fail "the volume operations left E's root mutable"
assert_eq "$(ls -A "$E" | sort | tr '\n' ' ')" "lost+found vm1 vm3 " "E's root after the volume operations"
assert_contains "$(qemu-io -f qcow2 -c 'read -P 0x5a 0 1M' "$E/vm3" 2>&1)" "read 1048576/1048576" "the clone vm3 has vm1's data"
assert_contains "$(nsx nfs-ls "nfs://127.0.0.1$E?$Q" 2>&1)" "vm3" "the clone is visible over NFSv3"
out=$(np audit E); rc=$?
assert_eq "$rc" 0 "nfsprov audit E after the NFS writes: exit status ($out)"
assert_eq "$(share_field E status)" ready "E after the NFS writes"

# ---- detect (D): the create over NFSv3 succeeds and the live watch reports it ----
wait_audited D "D's audit before the NFS write"
assert_eq "$(api /v1/shares/D/audit | jq -c '[.audited, .counts]')" '[true,{"foreign":0,"changed":0,"missing":0}]' \
    "D's audit before the NFS write"
err=$(nsx nfs-cp "$S/x.txt" "nfs://127.0.0.1$D/x.txt?$Q" 2>&1) || sb_fail "nfs-cp to D (mode detect) failed: $err"
assert_eq "$(cat "$D/x.txt" 2> /dev/null)" "foreign" "D/x.txt on the server"
assert_eq "$(stat -c %u:%g "$D/x.txt")" "0:0" "owner of D/x.txt (a root write, no_root_squash)"
# Ganesha made the file: only its own fanotify event can start an audit (audit_interval = 0, no
# request). Poll up to ~10 s.
j=
for _ in $(seq 200); do
    j=$(api /v1/shares/D/audit) || sb_fail "GET /v1/shares/D/audit"
    [ "$(jq -r '.findings[] | select(.path == "x.txt") | .finding + " " + .kind' <<< "$j")" = "foreign file" ] && break
    sleep 0.05
done
assert_eq "$(jq -r '.findings[] | select(.path == "x.txt") | .finding + " " + .kind' <<< "$j")" "foreign file" \
    "D/x.txt written over NFSv3 reported by the live watch (GET /v1/shares/D/audit: $j)"
assert_eq "$(jq -c .counts <<< "$j")" '{"foreign":1,"changed":0,"missing":0}' "D's counts"
assert_contains "$(cat "$S/nfsprovd.log")" "guard D: foreign file x.txt: not in the manifest" "the log: x.txt"
assert_eq "$(share_field D status)" tainted "D with a file written over NFSv3"
assert_contains "$(api /metrics)" 'nfsprov_guard_findings{share="D",finding="foreign"} 1' "metrics: D foreign"
# and now the on-demand audit agrees
out=$(np audit D); rc=$?
assert_eq "$rc" 1 "nfsprov audit D: exit status"
assert_contains "$(grep ' x.txt ' <<< "$out")" "foreign" "nfsprov audit D: x.txt"
out=$(np audit E); rc=$?
assert_eq "$rc" 0 "nfsprov audit E at the end: exit status ($out)"

# ---- the end: Ganesha, then rpcbind, then the namespace; the shares ----
for p in "$GPID" "$RPCPID" "$NSPID"; do kill -TERM "$p" 2> /dev/null; wait "$p" 2> /dev/null; done
for p in "$GPID" "$RPCPID" "$NSPID"; do [ -e "/proc/$p" ] && sb_fail "pid $p ($(cat "/proc/$p/comm")) still runs after SIGTERM"; done
rm "$D/x.txt"
for n in E D; do np delete "$n" --force > /dev/null || { tail -5 "$S/nfsprovd.log"; sb_fail "delete $n failed"; }; done
stop_daemon
sb_pass "enforce refuses NFSv3 creates at the root, volumes writable over NFSv3; detect reports Ganesha's write"
