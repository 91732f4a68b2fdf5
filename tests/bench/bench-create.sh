#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Benchmark (on demand, not CI): provisioning N image shares with nfsprov, side by side in one
# run with the plain shell procedure an admin follows by hand (seed 000): truncate, losetup,
# mkfs.ext4, mkdir, mount, an fstab line, an /etc/exports line, exportfs -r.
# Run: tests/sandbox/sandbox-run tests/bench/bench-create.sh [N]   (from a build: NP_TOP_SRCDIR,
# NP_TOP_BUILDDIR set; scripts/bench-env does it)
. "$NP_TOP_SRCDIR/tests/integration/nfsprovd-lib.sh"
NP_FAULTS=off # the daemon as in production: no fault file read at every fault point
N=${1:-20}
now() { date +%s.%N; }
ms() { echo "($2 - $1) * 1000 / $N" | bc; }

# 1. the shell procedure, per share
mkdir -p "$S/shell/img" "$S/shell/NFS"
t0=$(now)
for i in $(seq -w 1 "$N"); do
    img=$S/shell/img/share_$i.img
    truncate -s 10G "$img"
    dev=$(losetup -f --show "$img")
    mkfs.ext4 -q -F -E lazy_itable_init=1,lazy_journal_init=1 "$dev"
    mkdir -p "$S/shell/NFS/share_$i"
    mount "$dev" "$S/shell/NFS/share_$i"
    echo "UUID=$(blkid -o value -s UUID "$dev") $S/shell/NFS/share_$i ext4 defaults,nofail 0 2" >> /etc/fstab
    echo "$S/shell/NFS/share_$i *(rw,no_root_squash,sync,no_subtree_check)" >> /etc/exports
    exportfs -r
done
t1=$(now)
shell_ms=$(ms "$t0" "$t1")
for i in $(seq -w 1 "$N"); do umount "$S/shell/NFS/share_$i"; done
: > /etc/exports; : > /etc/fstab; exportfs -r

# 2. nfsprov, per share (each create is a full, recorded, undoable operation)
write_config
start_daemon
t0=$(now)
for i in $(seq -w 1 "$N"); do np create "Share_$i" --size 10G > /dev/null || sb_fail "create Share_$i"; done
t1=$(now)
np_ms=$(ms "$t0" "$t1")
rss=$(awk '/VmHWM/ {print $2}' "/proc/$DAEMON_PID/status")
t0=$(now)
np list > /dev/null
t1=$(now)
list_ms=$(echo "($t1 - $t0) * 1000" | bc)
t0=$(now)
for i in $(seq -w 1 "$N"); do np delete "Share_$i" > /dev/null || sb_fail "delete Share_$i"; done
t1=$(now)
del_ms=$(ms "$t0" "$t1")
stop_daemon

echo "shares: $N x 10 GiB image, $(nproc) cores, $(date -u +%F)"
printf '%-40s %8s ms/share\n' "shell procedure (seed 000, by hand)" "$shell_ms"
printf '%-40s %8s ms/share\n' "nfsprov create" "$np_ms"
printf '%-40s %8s ms/share\n' "nfsprov delete" "$del_ms"
printf '%-40s %8s ms (all %s shares)\n' "nfsprov list" "$list_ms" "$N"
printf '%-40s %8s KiB\n' "nfsprovd peak RSS (VmHWM)" "$rss"
echo "ratio create/shell: $(echo "scale=2; $np_ms / $shell_ms" | bc)"
sb_pass
