#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# End to end, the whole product in one test: a virtual machine whose disk is a volume made by
# `nfsprov vol-create`, reached over NFSv3 through the NFS-Ganesha that nfsprovd drives
# ([exports] server = ganesha), by qemu's own NFS client (qemu-block-extra's block-nfs, libnfs).
# - In the test's own network namespace (ganesha-lib.sh): rpcbind, a private D-Bus system bus,
#   Ganesha; nfsprovd (guard enforce, the default) makes share VM and the qcow2 vm.qcow2.
# - A tiny guest: Debian's kernel (`apt-get download` of linux-image-amd64's dependency; the
#   kernel, uncompressed and booted through its PVH entry, and its virtio modules kept in
#   $NP_TEST_CACHE, default /var/cache/nfsprov-tests, between runs; skipped with the reason when it
#   can be neither downloaded nor found there) and a busybox (busybox-static) initramfs made here,
#   whose /init loads virtio_pci and virtio_blk, prints the 512 bytes at sector np.check, writes
#   np.marker at sector np.sector of /dev/vda with dd and powers off. TCG only (recipes: Debian's
#   kernel hangs under this machine's paravirtual KVM).
# - qemu-system-x86_64 with -drive file=nfs://127.0.0.1/SHARE/vm.qcow2: the guest's marker is in
#   the qcow2 on the server's ext4 (qemu-img convert of the file there), `qemu-img check` passes,
#   `nfsprov audit VM` is clean, and `qemu-img create` of a new qcow2 over NFS into the share is
#   refused (the guard's immutable root) with nothing left in the share.
# - The same through a private libvirtd with the qemu driver (libvirtd-lib.sh, LV_QEMU=1): a TCG
#   domain with direct kernel boot and <disk type='network'><source protocol='nfs' ...>; the
#   guest reads the first marker over NFS and writes a second one, found on the server.
# Every process is stopped by pid (qemu before Ganesha: a qemu whose NFS server went away
# retries forever); the share is deleted, so no mount or loop device is left.
. "$NP_TOP_SRCDIR/tests/integration/nfsprovd-lib.sh"
. "$NP_TOP_SRCDIR/tests/integration/ganesha-lib.sh"
ganesha_require
sb_require_cmd qemu-img qemu-utils
sb_require_cmd qemu-system-x86_64 qemu-system-x86
sb_require_cmd apt-get apt
sb_require_cmd dpkg-deb dpkg
sb_require_cmd gzip gzip
compgen -G "/usr/lib/*/qemu/block-nfs.so" > /dev/null ||
    sb_skip "needs qemu's nfs block driver (Debian package qemu-block-extra)"
BUSYBOX=/bin/busybox
if ! { [ -x "$BUSYBOX" ] && "$BUSYBOX" cpio --help 2>&1 | grep -q -- '-o' && "$BUSYBOX" depmod --help > /dev/null 2>&1; }; then
    sb_skip "needs a busybox with cpio -o and depmod (Debian package busybox-static)"
fi
ldd "$BUSYBOX" > /dev/null 2>&1 && sb_skip "needs a static busybox for the guest (Debian package busybox-static)"
# libvirtd-lib.sh binds $BASE on itself now, before nfsprovd mounts a share under it (in the first
# pass too: the second, in the network namespace, runs in the same mount namespace)
. "$NP_TOP_SRCDIR/tests/integration/libvirtd-lib.sh"

# ---- the guest's kernel: Debian's, downloaded once, kept between runs ----
# vm_vmlinux BZIMAGE OUT: the uncompressed kernel (ELF) of a bzImage whose payload is xz (Debian's
# amd64 kernels): at (setup_sects + 1) * 512 + payload_offset, payload_length bytes of which the
# last 4 are the uncompressed size (boot protocol 2.08, Documentation/x86/boot.rst). qemu boots
# the ELF directly through its PVH entry (CONFIG_PVH): under TCG the bzImage's own decompression
# took 20-27 s of a 30 s boot here, the whole PVH boot 8-13 s.
vm_vmlinux() {
    local setup off len
    setup=$(od -An -tu1 -j $((0x1f1)) -N1 "$1" | tr -d ' ')
    read -r off len < <(od -An -tu4 -j $((0x248)) -N8 "$1")
    [ -n "$setup" ] && [ -n "$len" ] && [ "$len" -gt 4 ] || return 1
    off=$(( (setup + 1) * 512 + off ))
    [ "$(od -An -tx1 -j "$off" -N6 "$1" | tr -d ' ')" = fd377a585a00 ] || return 1 # xz's magic
    tail -c +$((off + 1)) "$1" | head -c $((len - 4)) | xz -dc > "$2" || return 1
    [ "$(od -An -tx1 -N4 "$2" | tr -d ' ')" = 7f454c46 ] # ELF
}

# vm_kernel: sets NP_VM_KERNEL to a directory of $NP_TEST_CACHE/kernel holding vmlinux (the
# guest's kernel), VERSION and lib/modules/VERSION/kernel/drivers/{virtio,block/virtio_blk.ko}.
# A kernel an earlier run fetched is used as it is; else apt-get download of the package
# linux-image-amd64 depends on. Runs before the test enters its network namespace (the download
# needs the machine's network).
vm_kernel() {
    local cache=${NP_TEST_CACHE:-/var/cache/nfsprov-tests} pkg ver dir tmp newest err lock kver images
    mkdir -p "$cache/kernel" 2> /dev/null || sb_skip "cannot create the kernel cache $cache/kernel"
    newest=$(printf '%s\n' "$cache"/kernel/linux-image-*/vmlinux | sort -V | tail -1)
    if [ -e "$newest" ]; then # (apt-cache alone takes seconds on a loaded machine)
        NP_VM_KERNEL=${newest%/vmlinux}
        return 0
    fi
    sb_require_cmd xz xz-utils
    pkg=$(apt-cache depends linux-image-amd64 2> /dev/null | awk '$1 == "Depends:" && $2 ~ /^linux-image-/ {print $2; exit}')
    ver=$(apt-cache policy "$pkg" 2> /dev/null | awk '$1 == "Candidate:" {print $2}')
    if [ -z "$pkg" ] || [ -z "$ver" ] || [ "$ver" = "(none)" ]; then
        sb_skip "no Debian kernel: apt knows no linux-image-amd64 (apt-get update?) and $cache/kernel is empty"
    fi
    dir=$cache/kernel/${pkg}_$ver
    # one download at a time; a finished directory appears whole (rename)
    exec {lock}> "$cache/kernel/.lock"
    flock "$lock"
    if [ ! -e "$dir/vmlinux" ]; then
        rm -rf "$cache"/kernel/.fetch.* "$dir" # what a run killed while it fetched left (we hold the lock)
        tmp=$(mktemp -d "$cache/kernel/.fetch.XXXXXX")
        chown _apt "$tmp" 2> /dev/null # apt-get download runs as _apt (else it warns and runs as root)
        echo "vm-nfs: downloading $pkg $ver into $cache/kernel (once)"
        if ! err=$(cd "$tmp" && apt-get download -q "$pkg=$ver" 2>&1); then
            rm -rf "$tmp"
            sb_skip "cannot download Debian's kernel $pkg $ver: $(tail -1 <<< "$err")"
        fi
        mkdir "$tmp/x" "$tmp/k"
        dpkg-deb --fsys-tarfile "$tmp"/*.deb | tar -x -C "$tmp/x" --wildcards './boot/vmlinuz-*' \
            '*/kernel/drivers/virtio/*' '*/kernel/drivers/block/virtio_blk.ko*' ||
            { rm -rf "$tmp"; sb_fail "cannot unpack $pkg"; }
        images=("$tmp"/x/boot/vmlinuz-*)
        kver=${images[0]##*/vmlinuz-}
        if [ ! -e "${images[0]}" ] || [ ! -d "$tmp/x/lib/modules/$kver/kernel/drivers/virtio" ]; then
            rm -rf "$tmp"; sb_fail "$pkg has no vmlinuz or no virtio modules"
        fi
        vm_vmlinux "${images[0]}" "$tmp/k/vmlinux" ||
            { rm -rf "$tmp"; sb_fail "cannot take the xz-compressed kernel out of $pkg's ${images[0]##*/}"; }
        mkdir -p "$tmp/k/lib/modules/$kver/kernel/drivers/block"
        mv "$tmp/x/lib/modules/$kver/kernel/drivers/virtio" "$tmp/k/lib/modules/$kver/kernel/drivers/"
        mv "$tmp/x/lib/modules/$kver/kernel/drivers/block/"virtio_blk.ko* "$tmp/k/lib/modules/$kver/kernel/drivers/block/"
        echo "$kver" > "$tmp/k/VERSION"
        mv "$tmp/k" "$dir" || { rm -rf "$tmp"; sb_fail "cannot move the kernel into $dir"; }
        rm -rf "$tmp"
    fi
    exec {lock}>&-
    NP_VM_KERNEL=$dir
}

if [ -z "${NP_GANESHA_NETNS:-}" ]; then
    lv_qemu_check
    vm_kernel
    export NP_VM_KERNEL
fi
ganesha_netns "$@"
[ -e "${NP_VM_KERNEL:-}/vmlinux" ] || sb_fail "no guest kernel in [${NP_VM_KERNEL:-}]"

# ---- the guest's initramfs: busybox, the virtio modules, /init ----
GUEST=$S/guest
KVER=$(cat "$NP_VM_KERNEL/VERSION")
mkdir -p "$GUEST/root/bin" "$GUEST/root/dev" "$GUEST/root/proc" "$GUEST/root/sys" "$GUEST/root/lib/modules"
cp "$BUSYBOX" "$GUEST/root/bin/busybox"
ln -s busybox "$GUEST/root/bin/sh"
mknod -m 600 "$GUEST/root/dev/console" c 5 1 || sb_fail "mknod /dev/console for the initramfs"
cp -r "$NP_VM_KERNEL/lib/modules/$KVER" "$GUEST/root/lib/modules/"
"$BUSYBOX" depmod -b "$GUEST/root" "$KVER" || sb_fail "depmod of the guest's modules"
cat > "$GUEST/root/init" <<'EOT'
#!/bin/sh
# nfsprov's vm-nfs test guest: np.check=SECTOR (print what is there), np.marker=TEXT,
# np.sector=SECTOR (write TEXT there), then power off
export PATH=/bin
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for w in $(cat /proc/cmdline); do
    case $w in
        np.marker=*) marker=${w#*=} ;;
        np.sector=*) sector=${w#*=} ;;
        np.check=*) check=${w#*=} ;;
    esac
done
modprobe virtio_pci && modprobe virtio_blk || echo "nfsprov-guest: modprobe failed"
i=0
while [ ! -b /dev/vda ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
[ -b /dev/vda ] || echo "nfsprov-guest: no /dev/vda"
if [ -n "$check" ]; then
    echo "nfsprov-guest: at $check: [$(dd if=/dev/vda bs=512 skip="$check" count=1 2>/dev/null | tr -d '\000')]"
fi
if printf '%s' "$marker" | dd of=/dev/vda bs=512 seek="$sector" conv=fsync 2>/dev/null; then
    echo "nfsprov-guest: wrote $marker at $sector"
fi
sync
poweroff -f
EOT
chmod 755 "$GUEST/root/init"
(cd "$GUEST/root" && find . | "$BUSYBOX" cpio -o -H newc 2> /dev/null | gzip -1 > "$GUEST/initrd.gz") ||
    sb_fail "cannot make the guest's initramfs"

# ---- the NFS stack and nfsprovd with server = ganesha ----
G=$S/ganesha
mkdir -p "$G/recovery" "$G/run"
QEMU_PIDS=()
# shellcheck disable=SC2317 # the EXIT trap
on_exit() {
    local rc=$? p f
    # qemu first: with Ganesha gone it would retry forever. The domain's qemu runs in libvirtd's
    # mount namespace, where the sandbox does not look, and libvirtd leaves it running when it
    # stops: its pid file (there while the domain runs) names it even before the test read it.
    f=$(lv_dir H)/run/qemu/nfsprov-e2e.pid
    [ -s "$f" ] && QEMU_PIDS+=("$(cat "$f")")
    for p in "${QEMU_PIDS[@]}"; do
        [ "$(cat "/proc/$p/comm" 2> /dev/null)" = qemu-system-x86 ] && kill -KILL "$p"
    done
    if [ "$rc" != 0 ]; then
        tail -15 "$G/ganesha.log" "$S"/vm*.console "$S"/libvirt/H/var-log/qemu/*.log 2> /dev/null
    fi
}
trap on_exit EXIT
ganesha_rpcbind "$G"
ganesha_bus "$G"
ganesha_config "$G" > "$G/ganesha.conf"
write_config # guard enforce: the default
sed -i "s|^file = /etc/exports$|server = ganesha\nganesha_config = $G/nfsprov.conf|" "$CONF"
sed -i "s|^nfs_conf = /etc/nfs.conf$|nfs_conf = /etc/nfs.conf\nganesha_conf = $G/ganesha.conf|" "$CONF"
start_daemon
np nfs-config --apply > /dev/null || sb_fail "nfs-config --apply failed"
ganesha_start "$G"

np create VM --size 64M > "$S/out" 2>&1 || { cat "$S/out"; sb_fail "create VM failed"; }
np vol-create VM vm.qcow2 --capacity 32M > "$S/out" 2>&1 || { cat "$S/out"; sb_fail "vol-create VM vm.qcow2 failed"; }
wait_share_field VM served true "share VM served by Ganesha"
wait_audited VM "VM's first audit"
assert_eq "$(np --json show VM | jq -c '.guard | [.mode, .active, .protected]')" '["enforce","enforce",true]' "VM's guard"
VOL=$BASE/VM/vm.qcow2
URL=nfs://127.0.0.1$BASE/VM/vm.qcow2

# marker SECTOR: the text at SECTOR of the volume, read from the qcow2 on the server's ext4
marker() {
    qemu-img convert -f qcow2 -O raw "$VOL" "$S/vm.raw" || sb_fail "qemu-img convert of $VOL on the server"
    dd if="$S/vm.raw" bs=512 skip="$1" count=1 2> /dev/null | tr -d '\000'
    rm -f "$S/vm.raw"
}
# wait_gone PID WHAT: until PID (qemu) ended; a hang guard of 600 s, not a timing
wait_gone() {
    local i
    for i in $(seq 3000); do
        kill -0 "$1" 2> /dev/null || return 0
        sleep 0.2
    done
    sb_fail "$2: still running after 600 s"
}
# server_checks WHAT: the volume is a sound qcow2 and the guard's audit of VM is clean
server_checks() {
    local out rc
    out=$(qemu-img check "$VOL" 2>&1) || sb_fail "qemu-img check $VOL $1: $out"
    out=$(np audit VM 2>&1); rc=$?
    assert_eq "$rc" 0 "nfsprov audit VM $1: exit status ($out)"
    assert_eq "$(share_field VM status)" ready "VM's status $1"
}
assert_eq "$(marker 2048)" "" "sector 2048 of the new volume"

# ---- qemu, its disk over NFSv3 through nfsprovd's Ganesha ----
M1=nfsprov-e2e-qemu-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
t0=$SECONDS
qemu-system-x86_64 -accel tcg -machine pc -m 128 -nodefaults -display none -no-reboot \
    -serial "file:$S/vm1.console" -kernel "$NP_VM_KERNEL/vmlinux" -initrd "$GUEST/initrd.gz" \
    -append "console=ttyS0 panic=1 quiet np.marker=$M1 np.sector=2048" \
    -drive "file=$URL,format=qcow2,if=virtio" < /dev/null > "$S/vm1.out" 2>&1 &
QPID=$!
QEMU_PIDS+=("$QPID")
sb_track_pid "$QPID"
wait_gone "$QPID" "qemu (pid $QPID) with its disk $URL"
wait "$QPID"; rc=$?
echo "vm-nfs: qemu booted, wrote and powered off in $((SECONDS - t0)) s"
assert_eq "$rc" 0 "qemu's exit status ($(cat "$S/vm1.out"))"
assert_contains "$(cat "$S/vm1.console")" "nfsprov-guest: wrote $M1 at 2048" "the guest's console"
assert_eq "$(marker 2048)" "$M1" "the guest's marker in $VOL on the server's ext4"
server_checks "after the qemu guest"

# a new file over NFS into the share: refused (enforce: immutable root), nothing appears
before=$(ls -A "$BASE/VM" | sort | tr '\n' ' ')
assert_eq "$before" "lost+found vm.qcow2 " "VM's root before the create over NFS"
out=$(qemu-img create -f qcow2 "nfs://127.0.0.1$BASE/VM/new.qcow2" 16M 2>&1) &&
    sb_fail "qemu-img created new.qcow2 over NFS in an enforced share: $out"
assert_contains "$out" "NFS3ERR_PERM" "qemu-img create over NFS into VM"
assert_eq "$(ls -A "$BASE/VM" | sort | tr '\n' ' ')" "$before" "VM's root after the refused create"
server_checks "after the refused create"

# ---- the same through libvirt: a private libvirtd with the qemu driver ----
# libvirt's qemu capabilities, probed at the first domain start (seconds of qemu runs), kept in
# the cache next to the kernel: libvirt checks them (qemu's and libvirtd's ctimes, the kernel)
# and probes again when they do not fit
CAPS=${NP_TEST_CACHE:-/var/cache/nfsprov-tests}/libvirt-qemu-capabilities
mkdir -p "$(lv_dir H)/var-cache/qemu/capabilities"
cp "$CAPS"/*.xml "$(lv_dir H)/var-cache/qemu/capabilities/" 2> /dev/null
LV_QEMU=1 lv_start H > /dev/null || exit 1
M2=nfsprov-e2e-libvirt-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
cat > "$S/vm2.xml" <<EOT
<domain type='qemu'>
  <name>nfsprov-e2e</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$NP_VM_KERNEL/vmlinux</kernel>
    <initrd>$GUEST/initrd.gz</initrd>
    <cmdline>console=ttyS0 panic=1 quiet np.check=2048 np.marker=$M2 np.sector=4096</cmdline>
  </os>
  <features><acpi/></features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>$(command -v qemu-system-x86_64)</emulator>
    <disk type='network' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source protocol='nfs' name='$BASE/VM/vm.qcow2'>
        <host name='127.0.0.1'/>
      </source>
      <target dev='vda' bus='virtio'/>
    </disk>
    <serial type='file'><source path='$S/vm2.console'/><target port='0'/></serial>
    <memballoon model='none'/>
  </devices>
</domain>
EOT
t0=$SECONDS
lv_virsh H create "$S/vm2.xml" > "$S/out" 2>&1 || { cat "$S/out"; sb_fail "virsh create of the domain failed"; }
echo "vm-nfs: virsh create returned after $((SECONDS - t0)) s"
QPID=$(cat "$(lv_dir H)/run/qemu/nfsprov-e2e.pid") || sb_fail "no pid file of the domain's qemu"
QEMU_PIDS+=("$QPID")
sb_track_pid "$QPID"
wait_gone "$QPID" "the domain's qemu (pid $QPID)"
for _ in $(seq 300); do
    lv_virsh H list --all --name | grep -qx nfsprov-e2e || break
    sleep 0.1
done
assert_eq "$(lv_virsh H list --all --name | grep -x nfsprov-e2e)" "" "the domain once its guest powered off"
echo "vm-nfs: the libvirt domain booted, wrote and powered off in $((SECONDS - t0)) s"
# (a whole directory replaces the last one: a parallel run reads the old one or the new one)
if tmp=$(mktemp -d "$CAPS.XXXXXX"); then
    if cp "$(lv_dir H)"/var-cache/qemu/capabilities/*.xml "$tmp/" 2> /dev/null; then
        rm -rf "$CAPS"
        mv -T "$tmp" "$CAPS" 2> /dev/null # fails when a parallel run was quicker: then its copy stays
    fi
    rm -rf "$tmp"
fi
# libvirt gave qemu the disk as a -blockdev of qemu's nfs driver, not as a local file (the
# command line in the domain's log)
qlog=$(cat "$(lv_dir H)/var-log/qemu/nfsprov-e2e.log")
assert_contains "$qlog" '{"driver":"nfs","server":{"host":"127.0.0.1"' "the domain's qemu: an nfs blockdev"
assert_contains "$qlog" "\"path\":\"$BASE/VM/vm.qcow2\"" "the domain's qemu: the volume's path on the server"
console=$(cat "$S/vm2.console")
assert_contains "$console" "nfsprov-guest: at 2048: [$M1]" "the libvirt guest reads the first marker over NFS"
assert_contains "$console" "nfsprov-guest: wrote $M2 at 4096" "the libvirt guest's console"
assert_eq "$(marker 4096)" "$M2" "the libvirt guest's marker in $VOL on the server's ext4"
assert_eq "$(marker 2048)" "$M1" "the first marker, still there"
server_checks "after the libvirt guest"

# ---- the end: libvirtd, then Ganesha, rpcbind, the bus; the share (its mount and loop device) ----
lv_stop_all
ganesha_stop
for p in "$GANESHA_RPCBIND_PID" "$GANESHA_BUS_PID"; do kill -TERM "$p" 2> /dev/null; wait "$p" 2> /dev/null; done
for p in "${QEMU_PIDS[@]}" "$GANESHA_RPCBIND_PID" "$GANESHA_BUS_PID"; do
    [ -e "/proc/$p" ] && sb_fail "pid $p ($(cat "/proc/$p/comm" 2> /dev/null)) still runs"
done
QEMU_PIDS=()
np vol-delete VM vm.qcow2 > /dev/null || sb_fail "vol-delete VM vm.qcow2 failed"
np delete VM > /dev/null || sb_fail "delete VM failed"
findmnt --mountpoint "$BASE/VM" > /dev/null && sb_fail "$BASE/VM still mounted"
assert_eq "$(losetup -l -n --raw -O BACK-FILE | grep -cF "$S/")" 0 "loop devices left attached"
stop_daemon
sb_pass "a guest on a vol-create volume over NFSv3 through nfsprovd's Ganesha, by qemu and by libvirt"
