#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Reboot: stop the daemon and the NFS server, unmount everything, detach the loop devices; start
# them again (the NFS server first, as at boot, while no share is mounted): every share is back,
# mounted before exported, served with its data, and the daemon answers only after that.
# For both NFS servers (NP_EXPORT_SERVER, nfsprovd-lib.sh): kernel (this file: the kernel's export
# table forgotten, the real exportfs parser) and ganesha (nfsprovd-reboot-ganesha.sh: NFS-Ganesha
# killed and started again in the test's own network namespace; ShowExports and NFSv3 I/O).
. "$NP_TOP_SRCDIR/tests/integration/nfsprovd-lib.sh"
np_nfs_init "$@"
# Writes data into its shares behind nfsprov's back (stand-ins for what VMs write): the guard is off.
GUARD=off
write_config
start_daemon
for n in Alpha Beta Gamma; do
    np create "$n" --size 32M > /dev/null || sb_fail "create $n failed"
    echo "$n" > "$BASE/$n/marker"
done
stop_daemon

# the "reboot"
nfs_server_down
for n in Alpha Beta Gamma; do
    umount "$BASE/$n" || sb_fail "umount $BASE/$n"
    dev=$(losetup -j "$IMAGES/$n.img" -n -O NAME) && losetup -d $dev
done
[ -z "$(losetup -j "$IMAGES/Alpha.img")" ] || sb_fail "loop still attached"
# take a loop device first so the images come back under other names
truncate -s 16M "$S/decoy.img"; sb_losetup "$S/decoy.img" > /dev/null

: > "$S/nfsprovd.log"
nfs_server_up
start_daemon   # returns once the daemon answers
for n in Alpha Beta Gamma; do
    assert_share_ready "$n"
    assert_eq "$(cat "$BASE/$n/marker")" "$n" "$n data after the reboot"
done
# mounted before exported: in the reconcile report every mount precedes the exports
log=$(cat "$S/nfsprovd.log")
echo "$log"
last_mount=$(grep -n 'mounted ' "$S/nfsprovd.log" | tail -1 | cut -d: -f1)
first_export=$(grep -n 'exported ' "$S/nfsprovd.log" | head -1 | cut -d: -f1)
[ -n "$last_mount" ] && [ -n "$first_export" ] || sb_fail "reconcile did not report mounts and exports"
[ "$last_mount" -lt "$first_export" ] || sb_fail "an export was reported before a mount"
assert_eq "$(grep -c 'mounted ' "$S/nfsprovd.log")" 3 "three shares mounted by reconcile"

# a second start changes nothing
stop_daemon
: > "$S/nfsprovd.log"
start_daemon
out=$(np reconcile) || sb_fail "reconcile failed"
assert_not_contains "$out" "mounted" "reconcile on a healthy server"
stop_daemon
sb_pass
