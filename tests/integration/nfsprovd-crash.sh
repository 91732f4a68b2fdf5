#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Crash at every step of create, delete and resize (NFSPROV_FAULT kills the daemon just before
# or just after a step), then restart: no half-made share, no orphan loop device, mount, fstab
# line or export; other shares untouched, still served.
# For both NFS servers (NP_EXPORT_SERVER, nfsprovd-lib.sh): kernel (this file: /etc/exports and
# the real exportfs parser) and ganesha (nfsprovd-crash-ganesha.sh: nfsprovd's Ganesha file,
# ShowExports and NFSv3 I/O through libnfs, in the test's own network namespace). Ganesha runs
# on through every nfsprovd crash: create:apply is the crash between writing the Ganesha file and
# the AddExport call.
. "$NP_TOP_SRCDIR/tests/integration/nfsprovd-lib.sh"
np_nfs_init "$@"
write_config
start_daemon
np create Keeper --size 32M > /dev/null || sb_fail "create Keeper failed"
# Keeper's data: a volume (the guard reports any other file, and the share would be tainted)
np vol-create Keeper data --capacity 1M > /dev/null || sb_fail "vol-create Keeper data"
keeper_sum=$(sha256sum < "$BASE/Keeper/data")
stop_daemon

crash() { # FAULT COMMAND...: run COMMAND against a daemon that dies at FAULT, then restart it
    local fault=$1; shift
    crash_at "$fault" "$@"
    start_daemon
}
keeper_ok() {
    assert_share_ready Keeper
    lsattr -d "$BASE/Keeper" | cut -d' ' -f1 | grep -q i || sb_fail "Keeper's root is not immutable"
    assert_eq "$(sha256sum < "$BASE/Keeper/data")" "$keeper_sum" "Keeper data"
}

# The steps of each operation, as nfsprovd runs them (its tables): every one is crashed at.
steps_of() { "$NFSPROVD" --steps | sed -n "s/^$1: //p"; }
create_steps=$(steps_of create) delete_steps=$(steps_of delete) resize_steps=$(steps_of resize)
repair_steps=$(steps_of reconcile)
[ -n "$create_steps" ] && [ -n "$delete_steps" ] && [ -n "$resize_steps" ] && [ -n "$repair_steps" ] ||
    sb_fail "nfsprovd --steps did not list the tables: $("$NFSPROVD" --steps)"

# NP_CRASH_STEPS (a wrapper's choice): only these OP:STEP points, each before and after; unset: all
wanted() { [ -z "${NP_CRASH_STEPS:-}" ] || [[ " $NP_CRASH_STEPS " == *" $1 "* ]]; }
for p in ${NP_CRASH_STEPS:-}; do
    op=${p%%:*} st=${p#*:}
    [[ " $(steps_of "$op") " == *" $st "* ]] || sb_fail "NP_CRASH_STEPS names $p, which is not a step of nfsprovd's tables"
done

for step in $create_steps; do
    wanted "create:$step" || continue
    for when in "" ":after"; do
        crash_sampled || continue
        crash "create:$step$when" create Victim --size 32M
        assert_share_gone Victim
        keeper_ok
        np create Victim --size 32M > /dev/null || sb_fail "create after a crash at $step$when failed"
        assert_share_ready Victim
        np delete Victim > /dev/null || sb_fail "delete Victim failed"
    done
done

for step in $delete_steps; do
    wanted "delete:$step" || continue
    for when in "" ":after"; do
        crash_sampled || continue
        np create Victim --size 32M > /dev/null || sb_fail "create Victim failed"
        crash "delete:$step$when" delete Victim
        assert_share_gone Victim
        keeper_ok
    done
done

np create Grower --size 32M > /dev/null || sb_fail "create Grower failed"
np vol-create Grower data --capacity 4M > /dev/null || sb_fail "vol-create Grower data"
grower_sum=$(sha256sum < "$BASE/Grower/data")
size=32
for step in $resize_steps; do
    wanted "resize:$step" || continue
    for when in "" ":after"; do
        size=$((size + 8))
        if [ "$step$when" = "resize-online:after" ]; then
            # reached only where the kernel grows a mounted ext4 (CAP_SYS_RESOURCE): find out
            np resize Grower --size ${size}M > "$S/probe.out" 2>&1 || sb_fail "resize to ${size}M failed"
            if grep -q "offline" "$S/probe.out"; then
                echo "not a crash point here: the kernel refuses the online resize, so resize-online never ends well"
                continue
            fi
            size=$((size + 8))
        fi
        crash_sampled || continue
        crash "resize:$step$when" resize Grower --size ${size}M
        assert_share_ready Grower
        assert_eq "$(share_field Grower size)" $((size * 1024 * 1024)) "Grower size after a crash at resize:$step$when"
        assert_eq "$(sha256sum < "$BASE/Grower/data")" "$grower_sum" "Grower data after a crash at resize:$step$when"
        keeper_ok
    done
done

# reconcile's repairs at start: after a "reboot" (the NFS server down, unmounted, loop detached,
# fstab line gone, the root's immutable attribute lifted; the NFS server back once nfsprovd runs)
# the daemon dies at each repair step; the next start repairs the share.
reboot_keeper() {
    stop_daemon
    nfs_server_down
    chattr -i "$BASE/Keeper" || sb_fail "chattr -i Keeper"   # the guard's repair is needed too
    umount "$BASE/Keeper" || sb_fail "umount Keeper"
    for dev in $(losetup -j "$IMAGES/Keeper.img" -n -O NAME); do losetup -d "$dev"; done
    grep -vF " $BASE/Keeper " /etc/fstab > "$S/fstab.new"; cat "$S/fstab.new" > /etc/fstab
}
for step in $repair_steps; do
    wanted "reconcile:$step" || continue
    for when in "" ":after"; do
        crash_sampled || continue
        reboot_keeper
        NFSPROV_FAULT="reconcile:$step$when" "$NFSPROVD" --config "$CONF" >> "$S/nfsprovd.log" 2>&1 &
        pid=$!
        sb_track_pid "$pid"
        wait "$pid"
        grep -q "NFSPROV_FAULT=reconcile:$step$when" "$S/nfsprovd.log" ||
            { cat "$S/nfsprovd.log"; sb_fail "reconcile:$step$when: fault point not reached"; }
        start_daemon
        nfs_server_up
        keeper_ok
    done
done
stop_daemon
sb_pass "$(crash_summary)"
