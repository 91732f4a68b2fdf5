#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Benchmark (on demand, not CI): adding one export to a server that already has N (10, 100,
# 1,000), the kernel's path (nfsprov's /etc/exports block rewritten + `exportfs -r`, in the
# sandbox: exportfs parses and writes its etab, no nfsd here) beside NFS-Ganesha's (the share's
# own Ganesha file written + DisplayExport + AddExport over D-Bus, to a real Ganesha in the
# test's own network namespace), and deleting it again (Ganesha: the removal noted, DisplayExport
# + RemoveExport). Measured through the export-server table (tests/bench/export-add: the calls
# the engine makes for a new share and a deleted one) on N+1 directories of one ext4 filesystem,
# not with N real shares. Then, with BENCH_RECONCILE_SHARES real shares (default 0: off; each is a loop
# device), nfsprovd's reconcile at start after a simulated reboot (every share unmounted and
# detached, Ganesha restarted without them), for ganesha.
# BENCH_SIZES (default "10 100 1000"), BENCH_SERVERS (default "kernel ganesha"), BENCH_REPEAT
# (passes over the sizes, default 1).
# Run: tests/sandbox/sandbox-run tests/bench/bench-exports.sh [ROUNDS]   (from a build:
# NP_TOP_SRCDIR, NP_TOP_BUILDDIR set)
. "$NP_TOP_SRCDIR/tests/integration/nfsprovd-lib.sh"
NP_FAULTS=off # the daemon as in production: no fault file read at every fault point
. "$NP_TOP_SRCDIR/tests/integration/ganesha-lib.sh"
sb_require_cmd ganesha.nfsd nfs-ganesha
sb_require_cmd rpcbind rpcbind
sb_require_cmd dbus-daemon dbus-daemon
sb_require_cmd gdbus libglib2.0-bin
sb_require_cmd exportfs nfs-kernel-server
ganesha_netns "$@"
ROUNDS=${1:-20}
SIZES=${BENCH_SIZES:-10 100 1000}
TOOL=$NP_TOP_BUILDDIR/tests/bench/export-add
[ -x "$TOOL" ] || sb_fail "no $TOOL: make check_PROGRAMS first (make tests/bench/export-add)"

G=$S/ganesha
mkdir -p "$G/recovery" "$G/run"
ganesha_rpcbind "$G"
ganesha_bus "$G"
ganesha_config "$G" > "$G/ganesha.conf" # no export, no %include: AddExport reads nfsprovd's file
ganesha_start "$G"

# N+1 directories on one ext4 filesystem (FSAL VFS cannot export the sandbox's /tmp)
max=0
for n in $SIZES; do [ "$n" -gt "$max" ] && max=$n; done
truncate -s 256M "$S/dirs.img" && mkfs.ext4 -q -F "$S/dirs.img" || sb_fail "mkfs failed"
DEV=$(sb_losetup "$S/dirs.img") || sb_fail "losetup failed"
mkdir -p "$BASE"
mount "$DEV" "$BASE" || sb_fail "mount failed"
for i in $(seq 0 "$max"); do printf '%s/d%04d\n' "$BASE" "$i"; done | xargs mkdir -p

CLIENTS=127.0.0.1
write_config
cp "$CONF" "$S/kernel.conf"
sed -i "s|^file = /etc/exports$|server = ganesha\nganesha_config = $G/nfsprov.conf|" "$CONF"
cp "$CONF" "$S/ganesha.conf"

echo "one export added to a server with N exports, then deleted; $ROUNDS rounds each; ms (add: median, min, max;"
echo "medians of its set and apply; median of the delete: remove + apply_path, else apply)"
printf '%-8s %6s %9s %9s %9s %9s %9s %9s\n' server N add min max set apply delete
# BENCH_REPEAT passes over the sizes (default 1): this machine's speed drifts over minutes, so the
# sizes are interleaved and each compared by the median of its passes' medians
declare -A medians
SERVERS=${BENCH_SERVERS:-kernel ganesha}
for pass in $(seq "${BENCH_REPEAT:-1}"); do
    for n in $SIZES; do
        for server in $SERVERS; do
            out=$("$TOOL" "$S/$server.conf" "$n" "$ROUNDS") || sb_fail "export-add $server $n failed"
            read -r _ _ med lo hi set apply del <<< "$out"
            printf '%-8s %6s %9s %9s %9s %9s %9s %9s\n' "$server" "$n" "$med" "$lo" "$hi" "$set" "$apply" "$del"
            medians[$server:$n]+="$med "
        done
        kill -0 "$GANESHA_PID" || sb_fail "Ganesha died"
    done
done
median_of() { tr ' ' '\n' <<< "$1" | awk 'NF' | sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
first=${SIZES%% *} last=${SIZES##* }
for server in $SERVERS; do
    a=$(median_of "${medians[$server:$first]}") b=$(median_of "${medians[$server:$last]}")
    echo "$server: $last against $first: $(echo "scale=2; $b / $a" | bc)x (medians of ${BENCH_REPEAT:-1} passes: $a and $b ms)"
done
assert_eq "$(ganesha_show_exports | wc -l)" 0 "exports left in Ganesha"
umount "$BASE"

# ---- reconcile of BENCH_RECONCILE_SHARES real shares after a simulated reboot (ganesha) ----
NS=${BENCH_RECONCILE_SHARES:-0}
if [ "$NS" -gt 0 ]; then
    GUARD=off
    write_config
    sed -i "s|^file = /etc/exports$|server = ganesha\nganesha_config = $G/nfsprov.conf|" "$CONF"
    sed -i "s|^nfs_conf = /etc/nfs.conf$|nfs_conf = /etc/nfs.conf\nganesha_conf = $G/ganesha.conf|" "$CONF"
    start_daemon
    t0=$(date +%s.%N)
    for i in $(seq -w 1 "$NS"); do np create "S$i" --size 16M > /dev/null || sb_fail "create S$i failed"; done
    t1=$(date +%s.%N)
    echo "created $NS shares in $(echo "$t1 - $t0" | bc) s"
    assert_eq "$(ganesha_show_exports | wc -l)" "$NS" "ShowExports after the creates"
    # the reboot: nfsprovd and Ganesha gone, every share unmounted and its loop device detached
    stop_daemon
    ganesha_stop
    awk -v b="$BASE/" 'index($5, b) == 1 {print $5}' /proc/self/mountinfo | xargs -r -n1 umount
    for img in "$IMAGES"/*.img; do losetup -j "$img" -n -O NAME | xargs -r -n1 losetup -d; done
    ganesha_start "$G" # without the %include: nfsprovd's reconcile adds every export
    t0=$(date +%s.%N)
    start_daemon
    t1=$(date +%s.%N)
    assert_eq "$(ganesha_show_exports | wc -l)" "$NS" "ShowExports after the reconcile"
    echo "reconcile at start of $NS shares (attach, mount, fstab, $NS AddExport): $(echo "$t1 - $t0" | bc) s"
    grep "start: reconciled" "$S/nfsprovd.log" | tail -1
    for i in $(seq -w 1 "$NS"); do np delete "S$i" > /dev/null || sb_fail "delete S$i failed"; done
    stop_daemon
fi
ganesha_stop
sb_pass
