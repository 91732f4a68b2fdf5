#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Self-check of tests/integration/libvirtd-lib.sh (private libvirtd daemons as KVM hosts), with
# only virsh and a real nfsprovd (no nfsprov-client): two daemons start in their own mount
# namespaces; the share base is propagated into them (a share nfsprovd mounts after they
# started is seen there, an unmount too) and nothing they mount leaks back; a netfs pool defined
# from nfsprovd's GET /v1/pools/NAME XML starts on host A through the NFS mount stand-in: its
# target is mounted with source HOST:DIR and shows the share's files (also one written after
# the pool started), only in A's namespace; storage/NAME.xml and the autostart link are in A's
# etc; the target dir exists only on A (LV_HOST_DIRS); a restart autostarts the pool again;
# after lv_stop no process of the daemon remains.
. "$NP_TOP_SRCDIR/tests/integration/nfsprovd-lib.sh"
sb_require_cmd curl curl
. "$NP_TOP_SRCDIR/tests/integration/libvirtd-lib.sh"

PORT=$(free_port)
TCP=http://127.0.0.1:$PORT
TARGETS=$S/pools
LV_HOST_DIRS=$TARGETS     # every host has its own target dirs, as real hosts do
# Writes data into its shares behind nfsprov's back (stand-ins for what VMs write): the guard is off.
GUARD=off
write_config
sed -i "/^\[server\]/a listen = 127.0.0.1:$PORT" "$CONF"
sed -i "s|^target_base = .*|target_base = $TARGETS|" "$CONF"
start_daemon

# the share base is a shared mount in the sandbox (made so when libvirtd-lib.sh was sourced)
assert_eq "$(findmnt -n -o PROPAGATION --mountpoint "$BASE")" shared "propagation of $BASE in the sandbox"

# --- two daemons: own mount namespaces, answering on their own sockets ---
t0=$(date +%s%N)
URI_A=$(lv_start A) || exit 1
URI_B=$(lv_start B) || exit 1
echo "two daemons up in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
assert_eq "$URI_A" "$(lv_uri A)" "lv_start prints the URI"
assert_eq "$URI_B" "$(lv_uri B)" "lv_start prints the URI"
assert_eq "$URI_A" "storage+unix:///system?socket=$(lv_dir A)/sock/libvirt-sock" "URI of A"
[ "$(readlink /proc/"$(lv_pid A)"/ns/mnt)" != "$(readlink /proc/"$(lv_pid B)"/ns/mnt)" ] ||
    sb_fail "hosts A and B share a mount namespace"
assert_eq "$(lv_virsh A pool-list --all --name | grep -c .)" 0 "pools on a fresh host A"
assert_eq "$(lv_in A findmnt -n -o PROPAGATION --mountpoint "$BASE")" "private,slave" "propagation of $BASE in A"
# the machine's libvirt files are covered inside the daemon's namespace
assert_contains "$(lv_in A findmnt -n -o SOURCE --mountpoint /etc/libvirt)" "$(lv_etc A)]" "A's /etc/libvirt"
assert_contains "$(lv_in A findmnt -n -o FSTYPE --mountpoint /run)" tmpfs "A's /run"

# --- propagation, generic: a mount made under $BASE in the sandbox reaches both daemons, its
#     unmount too; a mount made under $BASE in a daemon's namespace reaches neither the sandbox
#     nor the other daemon ---
mkdir -p "$BASE/probe"
mount -t tmpfs nfsprov-probe "$BASE/probe" || sb_fail "cannot mount a tmpfs at $BASE/probe"
for h in A B; do
    assert_eq "$(lv_mnt_source "$h" "$BASE/probe")" nfsprov-probe "sandbox mount seen by $h"
done
umount "$BASE/probe"
for h in A B; do
    assert_eq "$(lv_mnt_source "$h" "$BASE/probe")" "" "sandbox unmount seen by $h"
done
lv_in A mount -t tmpfs nfsprov-from-a "$BASE/probe" || sb_fail "cannot mount a tmpfs in A's namespace"
assert_eq "$(lv_mnt_source A "$BASE/probe")" nfsprov-from-a "A's own mount"
assert_eq "$(findmnt -n -o SOURCE --mountpoint "$BASE/probe")" "" "A's mount leaked into the sandbox"
assert_eq "$(lv_mnt_source B "$BASE/probe")" "" "A's mount leaked into B"
lv_in A umount "$BASE/probe" || sb_fail "cannot unmount A's tmpfs"
rmdir "$BASE/probe"

# --- a share created now (the daemons' namespaces exist already), with a file in it ---
np create Harness_01 --size 32M > "$S/out" 2>&1 || { cat "$S/out" "$S/nfsprovd.log"; sb_fail "create Harness_01 failed"; }
np create Harness_02 --size 32M > "$S/out" 2>&1 || { cat "$S/out" "$S/nfsprovd.log"; sb_fail "create Harness_02 failed"; }
SHARE=$BASE/Harness_01
echo "written before the pool started" > "$SHARE/before.img"
dev=$(findmnt -n -o SOURCE --mountpoint "$SHARE") || sb_fail "$SHARE is not mounted in the sandbox"
for h in A B; do
    assert_eq "$(lv_mnt_source "$h" "$SHARE")" "$dev" "share mount seen by $h"
done
assert_eq "$(lv_in A cat "$SHARE/before.img")" "written before the pool started" "share file seen in A's namespace"

# --- the pool, from nfsprovd's XML, with plain virsh on host A ---
curl -sf "$TCP/v1/pools" -o "$S/pools.json" || sb_fail "GET /v1/pools failed"
pj=$(jq -c '.pools[] | select(.name == "Harness_01")' "$S/pools.json")
[ -n "$pj" ] || sb_fail "Harness_01 is not in GET /v1/pools: $(cat "$S/pools.json")"
UUID=$(jq -r .uuid <<< "$pj")
TARGET=$(jq -r .target_path <<< "$pj")
assert_eq "$(jq -r .host <<< "$pj")" 127.0.0.1 "pool host"
assert_eq "$(jq -r .source_path <<< "$pj")" "$SHARE" "pool source"
assert_eq "$TARGET" "$TARGETS/Harness_01" "pool target (in the sandbox)"
curl -sf -H "Accept: application/xml" "$TCP/v1/pools/Harness_01" -o "$S/Harness_01.xml" || sb_fail "GET /v1/pools/Harness_01 as XML failed"
assert_contains "$(cat "$S/Harness_01.xml")" "<uuid>$UUID</uuid>"

lv_virsh A pool-define "$S/Harness_01.xml" > "$S/out" 2>&1 || { cat "$S/out"; sb_fail "pool-define on A failed"; }
lv_virsh A pool-autostart Harness_01 > "$S/out" 2>&1 || { cat "$S/out"; sb_fail "pool-autostart on A failed"; }
lv_in A test -e "$TARGET" && sb_fail "$TARGET exists on A before pool-start --build"
lv_virsh A pool-start --build Harness_01 > "$S/out" 2>&1 || { cat "$S/out" "$(lv_dir A)/mount.log" "$(lv_dir A)/libvirtd.log"; sb_fail "pool-start --build on A failed"; }
lv_in A test -d "$TARGET" || sb_fail "pool-start --build did not create $TARGET on A"
[ -e "$TARGET" ] && sb_fail "A's target dir $TARGET is seen in the sandbox"
lv_in B test -e "$TARGET" && sb_fail "A's target dir $TARGET is seen on B"
assert_contains "$(cat "$(lv_dir A)/mount.log")" "-t nfs 127.0.0.1:$SHARE $TARGET" "libvirt's mount call"

info=$(lv_virsh A pool-info Harness_01)
assert_eq "$(awk '/^State:/ {print $2}' <<< "$info")" running "pool state"
assert_eq "$(awk '/^Autostart:/ {print $2}' <<< "$info")" yes "pool autostart"
assert_eq "$(awk '/^Persistent:/ {print $2}' <<< "$info")" yes "pool persistent"
assert_eq "$(awk '/^UUID:/ {print $2}' <<< "$info")" "$UUID" "pool uuid (the server's)"
# mounted as libvirt wants it: source HOST:DIR; the share's files, read-only
assert_eq "$(lv_mnt_source A "$TARGET")" "127.0.0.1:$SHARE" "target's mount source in A"
assert_eq "$(lv_in A findmnt -n -o FSTYPE --mountpoint "$TARGET")" overlay "target's fstype in A"
assert_contains "$(lv_in A findmnt -n -o OPTIONS --mountpoint "$TARGET")" "ro," "target mounted read-only"
assert_eq "$(lv_in A cat "$TARGET/before.img")" "written before the pool started" "share file through the pool"
echo "written after the pool started" > "$SHARE/after.img"
assert_eq "$(lv_in A cat "$TARGET/after.img")" "written after the pool started" "file written after the pool started"
lv_virsh A pool-refresh Harness_01 > /dev/null || sb_fail "pool-refresh failed"
vols=$(lv_virsh A vol-list Harness_01 | awk '{print $1}' | sort | tr '\n' ' ')
assert_contains "$vols" "after.img before.img" "volumes of the pool"
# libvirt itself takes it as mounted: a refresh keeps it running, pool-dumpxml has the server's source
assert_eq "$(lv_virsh A pool-info Harness_01 | awk '/^State:/ {print $2}')" running "state after a refresh"
assert_contains "$(lv_virsh A pool-dumpxml Harness_01)" "<dir path='$SHARE'/>"
# only in A's namespace
assert_eq "$(findmnt -n -o SOURCE --mountpoint "$TARGET")" "" "the pool mount leaked into the sandbox"
assert_eq "$(lv_mnt_source B "$TARGET")" "" "the pool mount leaked into B"
assert_eq "$(lv_virsh B pool-list --all --name | grep -c .)" 0 "pools on host B"

# persistent definition and autostart link in A's etc, nothing in B's
ETC=$(lv_etc A)
[ -f "$ETC/storage/Harness_01.xml" ] || sb_fail "no $ETC/storage/Harness_01.xml"
assert_contains "$(cat "$ETC/storage/Harness_01.xml")" "<uuid>$UUID</uuid>"
[ -L "$ETC/storage/autostart/Harness_01.xml" ] || sb_fail "no autostart link $ETC/storage/autostart/Harness_01.xml"
# (libvirt writes it as the daemon sees it: /etc/libvirt/storage/NAME.xml)
assert_eq "$(readlink "$ETC/storage/autostart/Harness_01.xml")" /etc/libvirt/storage/Harness_01.xml "autostart link target"
assert_eq "$(find "$(lv_etc B)" -name '*.xml' | wc -l)" 0 "files in B's etc"

# --- a second share, defined and started on B, while A's pool is up ---
curl -sf -H "Accept: application/xml" "$TCP/v1/pools/Harness_02" -o "$S/Harness_02.xml" || sb_fail "GET /v1/pools/Harness_02 failed"
lv_virsh B pool-define "$S/Harness_02.xml" > /dev/null || sb_fail "pool-define on B failed"
lv_virsh B pool-start --build Harness_02 > "$S/out" 2>&1 || { cat "$S/out"; sb_fail "pool-start on B failed"; }
assert_eq "$(lv_mnt_source B "$TARGETS/Harness_02")" "127.0.0.1:$BASE/Harness_02" "B's pool mount"
assert_eq "$(lv_mnt_source A "$TARGETS/Harness_02")" "" "B's pool mount leaked into A"

# --- restart of A: the autostarted pool comes back, mounted ---
pid_a=$(lv_pid A)
lv_stop A
lv_alive "$pid_a" && sb_fail "libvirtd of A (pid $pid_a) still runs after lv_stop"
lv_start A > /dev/null || exit 1
assert_eq "$(lv_virsh A pool-info Harness_01 | awk '/^State:/ {print $2}')" running "autostarted pool after a restart"
assert_eq "$(lv_mnt_source A "$TARGET")" "127.0.0.1:$SHARE" "autostarted pool mounted after a restart"

# --- lv_stop: nothing of the daemon is left ---
for h in A B; do
    pid=$(lv_pid "$h")
    exec {nsfd}< "/proc/$pid/ns/mnt"     # keeps the namespace (and its id) while we look
    [ "/proc/$pid/ns/mnt" -ef "/proc/$$/fd/$nsfd" ] || sb_fail "the namespace check does not find libvirtd of $h itself"
    lv_stop "$h"
    lv_alive "$pid" && sb_fail "libvirtd of $h (pid $pid) still runs after lv_stop"
    for t in /proc/[0-9]*/task/[0-9]*; do
        [ "$t/ns/mnt" -ef "/proc/$$/fd/$nsfd" ] && sb_fail "thread $t ($(cat "$t/comm")) of $h's namespace still runs"
    done
    exec {nsfd}<&-
done
[ -S "$(lv_dir A)/sock/libvirt-sock" ] && virsh -q -c "$URI_A" uri > /dev/null 2>&1 && sb_fail "A still answers after lv_stop"
# the machine's libvirt state was never used
[ -e /var/lib/libvirt/nfsprov ] && sb_fail "/var/lib/libvirt/nfsprov exists on the machine"
stop_daemon
sb_pass
