#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Crash at every step of create, delete and resize (NFSPROV_FAULT kills the daemon just before
# or just after a step), then restart: no half-made share, no orphan loop device, mount, fstab
# line or exports entry; other shares untouched.
. "$NP_TOP_SRCDIR/tests/integration/nfsprovd-lib.sh"
write_config
start_daemon
np create Keeper --size 32M > /dev/null || sb_fail "create Keeper failed"
head -c 1M /dev/urandom > "$BASE/Keeper/data"
keeper_sum=$(sha256sum < "$BASE/Keeper/data")
stop_daemon

crash() { # FAULT COMMAND...: run COMMAND against a daemon that dies at FAULT, then restart it
    local fault=$1; shift
    stop_daemon
    NFSPROV_FAULT=$fault start_daemon
    np "$@" > "$S/crash.out" 2>&1 && sb_fail "$fault: the command succeeded although the daemon died"
    wait_daemon_dead
    grep -q "NFSPROV_FAULT=$fault" "$S/nfsprovd.log" || { cat "$S/nfsprovd.log"; sb_fail "$fault: fault point not reached"; }
    start_daemon
}
keeper_ok() {
    assert_share_ready Keeper
    assert_eq "$(sha256sum < "$BASE/Keeper/data")" "$keeper_sum" "Keeper data"
}

n=0
for step in allocate mkfs mkdir mount chown fstab export apply; do
    for when in "" ":after"; do
        n=$((n + 1))
        crash "create:$step$when" create Victim --size 32M
        assert_share_gone Victim
        keeper_ok
        np create Victim --size 32M > /dev/null || sb_fail "create after a crash at $step$when failed"
        assert_share_ready Victim
        np delete Victim > /dev/null || sb_fail "delete Victim failed"
    done
done

for step in unexport umount fstab release rmdir; do
    for when in "" ":after"; do
        n=$((n + 1))
        np create Victim --size 32M > /dev/null || sb_fail "create Victim failed"
        crash "delete:$step$when" delete Victim
        assert_share_gone Victim
        keeper_ok
    done
done

np create Grower --size 32M > /dev/null || sb_fail "create Grower failed"
head -c 4M /dev/urandom > "$BASE/Grower/data"
grower_sum=$(sha256sum < "$BASE/Grower/data")
size=32
for step in grow unexport umount e2fsck resize2fs mount export; do
    for when in "" ":after"; do
        [ "$step$when" = "e2fsck:after" ] && continue # no point between e2fsck and resize2fs
        n=$((n + 1))
        size=$((size + 8))
        crash "resize:$step$when" resize Grower --size ${size}M
        assert_share_ready Grower
        assert_eq "$(share_field Grower size)" $((size * 1024 * 1024)) "Grower size after a crash at resize:$step$when"
        assert_eq "$(sha256sum < "$BASE/Grower/data")" "$grower_sum" "Grower data after a crash at resize:$step$when"
        keeper_ok
    done
done
stop_daemon
sb_pass "$n crash points"
