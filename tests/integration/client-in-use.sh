#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# `nfsprov-client sync --fix` never restarts a pool a running domain uses, however the domain
# spells its path: on a private libvirtd WITH the qemu driver (libvirtd-lib.sh, LV_QEMU=1) running
# real TCG domains (qemu-system-x86_64; no guest OS is needed: qemu opens its disks and shares at
# start and holds them while it runs), one pool per spelling:
#   U_Slash  a disk at TARGETS//U_Slash/./vm.qcow2
#   U_Link   a disk reached through a symbolic link to the target
#   U_Fs     a 9p <filesystem> whose source is the target
#   U_Back   a disk outside every pool whose qcow2 backing file lives in the pool (the backing
#            chain libvirt reports for the running domain)
#   Control  no domain
# Every pool runs on the host with drift that needs a restart (it is mounted from another source
# directory than the server's), so sync --fix redefines all five and restarts Control only: the
# four others are left mounted (same mount id), each line names the domain and the path that
# uses it, and every domain keeps its qemu process (same pid, still running).
. "$NP_TOP_SRCDIR/tests/integration/nfsprovd-lib.sh"
sb_require_cmd curl curl
sb_require_cmd qemu-img qemu-utils
. "$NP_TOP_SRCDIR/tests/integration/libvirtd-lib.sh"
lv_qemu_check
[ -x "$NFSPROV_CLIENT" ] || sb_fail "$NFSPROV_CLIENT is not built"

USED="U_Slash U_Link U_Fs U_Back"
POOLS="$USED Control"
lv_server $POOLS
curl -sf "$SERVER/v1/pools" -o "$S/pools.json" || sb_fail "GET $SERVER/v1/pools failed"
uuid_of() { lv_server_def "$S/pools.json" "$1" | cut -d' ' -f2; }

# the drifted sources the pools run with on the host, with the domains' files in them
for n in $POOLS; do
    mkdir -p "$S/old/$n"
    echo "$n" > "$S/old/$n/README"
done
for n in U_Slash U_Link; do
    qemu-img create -q -f qcow2 "$S/old/$n/vm.qcow2" 16M || sb_fail "qemu-img create $n/vm.qcow2 failed"
done
qemu-img create -q -f qcow2 "$S/old/U_Back/base.qcow2" 16M || sb_fail "qemu-img create base.qcow2 failed"
mkdir -p "$S/images"
# the overlay outside every pool names its backing file by its path on the host (in the pool)
qemu-img create -q -f qcow2 -u -F qcow2 -b "$TARGETS/U_Back/base.qcow2" "$S/images/overlay.qcow2" 16M ||
    sb_fail "qemu-img create overlay.qcow2 failed"
ln -s "$TARGETS/U_Link" "$S/link-to-pool"

t0=$SECONDS
LV_QEMU=1 lv_start H > /dev/null || exit 1
echo "libvirtd with the qemu driver answered after $((SECONDS - t0)) s"
for n in $POOLS; do
    cat > "$S/$n.xml" <<EOT
<pool type='netfs'>
  <name>$n</name>
  <uuid>$(uuid_of "$n")</uuid>
  <source>
    <host name='127.0.0.1'/>
    <dir path='$S/old/$n'/>
    <format type='nfs'/>
    <protocol ver='3'/>
  </source>
  <target>
    <path>$TARGETS/$n</path>
  </target>
</pool>
EOT
    lv_virsh H pool-define "$S/$n.xml" > "$S/out" 2>&1 || { cat "$S/out"; sb_fail "pool-define $n failed"; }
    lv_virsh H pool-start --build "$n" > "$S/out" 2>&1 || { cat "$S/out"; sb_fail "pool-start $n failed"; }
    lv_virsh H pool-autostart "$n" > /dev/null || sb_fail "pool-autostart $n failed"
    assert_eq "$(lv_mnt_source H "$TARGETS/$n")" "127.0.0.1:$S/old/$n" "$n runs with the old source"
done

# domain NAME DEVICES: a transient TCG domain (64 MiB, no guest OS)
domain() {
    cat > "$S/$1.dom.xml" <<EOT
<domain type='qemu'>
  <name>$1</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <features><acpi/></features>
  <devices>
    <emulator>$(command -v qemu-system-x86_64)</emulator>
    $2
    <memballoon model='none'/>
  </devices>
</domain>
EOT
    lv_virsh H create "$S/$1.dom.xml" > "$S/out" 2>&1 || {
        cat "$S/out" "$(lv_dir H)/var-log/qemu/$1.log" 2>/dev/null; sb_fail "domain $1 did not start"; }
    sb_track_pid "$(cat "$(lv_dir H)/run/qemu/$1.pid")"   # stopped at exit, whatever happens
}
disk() { echo "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='$1'/><target dev='vda' bus='virtio'/><readonly/></disk>"; }
domain vm_slash "$(disk "$TARGETS//U_Slash/./vm.qcow2")"
domain vm_link "$(disk "$S/link-to-pool/vm.qcow2")"
domain vm_fs "<filesystem type='mount' accessmode='passthrough'><source dir='$TARGETS/U_Fs'/><target dir='share'/><readonly/></filesystem>"
domain vm_back "$(disk "$S/images/overlay.qcow2")"
assert_contains "$(lv_virsh H dumpxml vm_back)" "<source file='$TARGETS/U_Back/base.qcow2'" "vm_back's backing chain as libvirt reports it"

pids() {
    local v
    for v in vm_slash vm_link vm_fs vm_back; do
        echo "$v $(cat "$(lv_dir H)/run/qemu/$v.pid" 2>/dev/null) $(lv_virsh H domstate "$v" | head -1)"
    done
}
mounts() { local n; for n in $POOLS; do echo "$n $(lv_in H findmnt -n -o ID,SOURCE --mountpoint "$TARGETS/$n")"; done; }
echo "four domains running after $((SECONDS - t0)) s"
pids_before=$(pids)
mounts_before=$(mounts)
for v in vm_slash vm_link vm_fs vm_back; do
    pid=$(cat "$(lv_dir H)/run/qemu/$v.pid")
    assert_contains "$(tr '\0' ' ' < "/proc/$pid/cmdline")" "qemu-system-x86_64" "$v's qemu process"
    assert_eq "$(grep "^$v " <<< "$pids_before" | awk '{print $3}')" running "$v's state"
done

# without --fix: drift reported, nothing done
lv_run H --server "$SERVER" sync
lv_expect_rc 1 "sync without --fix"
assert_eq "$(tail -1 <<< "$LV_OUT")" "sync: 5 pools: 0 changed, 0 in sync, 5 drift, 0 conflicts, 0 failed" "sync without --fix: summary"

# --fix: every pool is redefined; Control is restarted, the pools in use are not
lv_run H --server "$SERVER" sync --fix
lv_expect_rc 1 "sync --fix"
out=$LV_OUT
lv_expect_line "$out" "Control: redefine, restart" "sync --fix"
expect_use() {   # POOL DOMAIN WHAT
    local line
    line=$(grep "^$1: " <<< "$out")
    assert_contains "$line" "$1: redefine; drift: " "sync --fix: the line of $1"
    assert_contains "$line" "needs a restart, but running domain $2 uses it: $3" "sync --fix: why $1 was not restarted"
    assert_not_contains "$line" "failed" "sync --fix: the line of $1"
}
expect_use U_Slash vm_slash "disk $TARGETS/U_Slash/vm.qcow2"
expect_use U_Link vm_link "disk $S/link-to-pool/vm.qcow2 (that is $TARGETS/U_Link/vm.qcow2)"
expect_use U_Fs vm_fs "filesystem $TARGETS/U_Fs"
expect_use U_Back vm_back "backing file $TARGETS/U_Back/base.qcow2"
assert_eq "$(tail -1 <<< "$out")" "sync: 5 pools: 1 changed, 0 in sync, 4 drift, 0 conflicts, 0 failed" "sync --fix: summary"

# the pools in use are still mounted as before (same mount, same source), Control from the server
mounts_after=$(mounts)
for n in $USED; do
    assert_eq "$(grep "^$n " <<< "$mounts_after")" "$(grep "^$n " <<< "$mounts_before")" "$n's mount after sync --fix"
done
assert_eq "$(lv_mnt_source H "$TARGETS/Control")" "127.0.0.1:$BASE/Control" "Control after sync --fix"
# every domain keeps its qemu process
assert_eq "$(pids)" "$pids_before" "the domains' qemu pids and states after sync --fix"
for v in vm_slash vm_link vm_fs vm_back; do
    pid=$(cat "$(lv_dir H)/run/qemu/$v.pid")
    [ -d "/proc/$pid" ] || sb_fail "$v's qemu (pid $pid) is gone"
done

# once the domains are gone, the same sync --fix restarts the four pools
for v in vm_slash vm_link vm_fs vm_back; do lv_virsh H destroy "$v" > /dev/null || sb_fail "destroy $v failed"; done
lv_run H --server "$SERVER" sync --fix
lv_expect_rc 0 "sync --fix without domains"
for n in $USED; do
    lv_expect_line "$LV_OUT" "$n: restart" "sync --fix without domains"
    assert_eq "$(lv_mnt_source H "$TARGETS/$n")" "127.0.0.1:$BASE/$n" "$n after sync --fix without domains"
done

lv_stop_all
stop_daemon
sb_pass
