#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# nfsprovd + nfsprov end to end on the image backend: three shares, each an ext4 on its own loop
# device, mounted at BASE/NAME, in fstab by UUID, exported rw,no_root_squash; pool-xml; idempotent
# create; forbidden names; delete refusing a non-empty share; resize; SIGHUP.
# For both NFS servers (NP_EXPORT_SERVER, nfsprovd-lib.sh): kernel (this file: the real exportfs
# parser) and ganesha (nfsprovd-shares-ganesha.sh: NFS-Ganesha in the test's own network
# namespace; ShowExports and NFSv3 I/O through libnfs).
. "$NP_TOP_SRCDIR/tests/integration/nfsprovd-lib.sh"
np_nfs_init "$@"
# Writes data into its shares behind nfsprov's back (stand-ins for what VMs write): the guard is off.
GUARD=off
write_config
# the address given to clients must be one of this machine's (TEST-NET-2 is not)
sed 's/^address = .*/address = 198.51.100.77/' "$CONF" > "$S/bad.conf"
out=$("$NFSPROVD" --config "$S/bad.conf" 2>&1); rc=$?
assert_eq "$rc" 1 "nfsprovd with a foreign address: exit status"
assert_contains "$out" "198.51.100.77 is not an address of this machine"
[ -e "$SOCK" ] && sb_fail "nfsprovd opened its socket with a bad configuration"
start_daemon

for n in NFSStorage_01 NFSStorage_02 NFSStorage_03; do
    np create "$n" --size 64M > "$S/out" 2>&1 || { cat "$S/out" "$S/nfsprovd.log"; sb_fail "create $n failed"; }
done
devs=""
for n in NFSStorage_01 NFSStorage_02 NFSStorage_03; do
    assert_share_ready "$n"
    dev=$(share_field "$n" device)
    assert_eq "$(losetup -n -O BACK-FILE "$dev" | sed 's/ *$//')" "$IMAGES/$n.img" "$n backing file"
    devs="$devs $dev"
done
assert_eq "$(echo $devs | tr ' ' '\n' | sort -u | wc -l)" 3 "three distinct loop devices"
assert_eq "$(np list | grep -c NFSStorage_0)" 3 "list shows three shares"

# pool-xml: the recorded uuid and paths, in the design's shape
uuid=$(share_field NFSStorage_02 pool_uuid)
np pool-xml NFSStorage_02 > "$S/pool.xml" || sb_fail "pool-xml failed"
cat > "$S/expect.xml" <<EOT
<pool type='netfs'>
  <name>NFSStorage_02</name>
  <uuid>$uuid</uuid>
  <capacity unit='bytes'>N</capacity>
  <allocation unit='bytes'>N</allocation>
  <available unit='bytes'>N</available>
  <source>
    <host name='127.0.0.1'/>
    <dir path='$BASE/NFSStorage_02'/>
    <format type='nfs'/>
    <protocol ver='3'/>
  </source>
  <target>
    <path>/var/lib/libvirt/nfsprov/NFSStorage_02</path>
    <permissions><mode>0700</mode><owner>-1</owner><group>-1</group></permissions>
  </target>
</pool>
EOT
sed -E "/<(capacity|allocation|available) /s/>[0-9]+</>N</" "$S/pool.xml" | diff "$S/expect.xml" - || sb_fail "pool-xml is not in the design's shape"
cap=$(sed -n 's/.*<capacity unit=.bytes.>\([0-9]*\)<.*/\1/p' "$S/pool.xml")
assert_eq "$cap" "$(df -B1 --output=size "$BASE/NFSStorage_02" | tail -1 | tr -d ' ')" "pool capacity = df size"

# idempotent create; a different spec is refused
np create NFSStorage_01 --size 64M > /dev/null 2>&1 || sb_fail "same create again failed"
before=$(snapshot)
err=$(np create NFSStorage_01 --size 128M 2>&1); rc=$?
assert_eq "$rc" 1 "create with another size: exit status"
assert_contains "$err" "exists with another"
assert_eq "$(echo "$err" | wc -l)" 1 "one error line"
assert_eq "$(snapshot)" "$before" "a refused create changes nothing"

# every forbidden character class of seed 000: exit 2, one line, nothing changed
for bad in "NFS Storage" "NFS日本" 'NFS\x' "NFS¥x" 'NFS"x' "NFS'x" "NFS;x" "NFS(x" "NFS)x" "NFS/x" ""; do
    err=$(np create "$bad" --size 64M 2>&1); rc=$?
    assert_eq "$rc" 2 "create [$bad]: exit status"
    assert_eq "$(echo "$err" | wc -l)" 1 "create [$bad]: one error line"
done
err=$(np create "NFS Storage" --size 64M 2>&1)
assert_contains "$err" "blank space"
err=$(np create "NFS日本" --size 64M 2>&1)
assert_contains "$err" "double-byte"
err=$(np create "NFS¥x" --size 64M 2>&1)
assert_contains "$err" "yen mark"
for bad in 0 -5G 10X 1.5.G; do
    np create Good_Name --size "$bad" > /dev/null 2>&1; rc=$?
    assert_eq "$rc" 2 "create with size [$bad]: exit status"
done
assert_eq "$(snapshot)" "$before" "refused names and sizes change nothing"

# delete refuses a non-empty share, unless forced
echo data > "$BASE/NFSStorage_03/vm1.qcow2"
err=$(np delete NFSStorage_03 2>&1); rc=$?
assert_eq "$rc" 1 "delete of a non-empty share: exit status"
assert_contains "$err" "vm1.qcow2"
assert_share_ready NFSStorage_03
np delete NFSStorage_03 --force > /dev/null || sb_fail "delete --force failed"
assert_share_gone NFSStorage_03
rm -f "$BASE/NFSStorage_01/none"
np delete NFSStorage_01 > /dev/null || sb_fail "delete of an empty share failed"
assert_share_gone NFSStorage_01

# resize grows with data intact (offline here: the kernel refuses online resize2fs)
head -c 8M /dev/urandom > "$BASE/NFSStorage_02/disk.qcow2"
sum=$(sha256sum < "$BASE/NFSStorage_02/disk.qcow2")
size_before=$(df -B1 --output=size "$BASE/NFSStorage_02" | tail -1)
out=$(np resize NFSStorage_02 --size 128M 2>&1) || { echo "$out"; sb_fail "resize failed"; }
echo "$out"
size_after=$(df -B1 --output=size "$BASE/NFSStorage_02" | tail -1)
[ "$size_after" -gt $((size_before + 50 * 1024 * 1024)) ] || sb_fail "filesystem did not grow: $size_before -> $size_after"
assert_eq "$(sha256sum < "$BASE/NFSStorage_02/disk.qcow2")" "$sum" "data after resize"
assert_eq "$(share_field NFSStorage_02 size)" $((128 * 1024 * 1024)) "recorded size"
assert_share_ready NFSStorage_02
err=$(np resize NFSStorage_02 --size 64M 2>&1); rc=$?
assert_eq "$rc" 2 "shrinking: exit status"
assert_contains "$err" "only grow"

# SIGHUP re-reads the configuration: new shares get the new clients; a bad file keeps the old one
CLIENTS="10.77.0.0/24 192.168.7.7 127.0.0.1" write_config
kill -HUP "$DAEMON_PID"
for _ in $(seq 100); do grep -q "reload" "$S/nfsprovd.log" && break; sleep 0.05; done
np create AfterHup --size 32M > /dev/null || sb_fail "create after SIGHUP failed"
assert_eq "$(share_field AfterHup 'clients | join(" ")')" "10.77.0.0/24 192.168.7.7 127.0.0.1" "clients after SIGHUP"
assert_share_ready AfterHup
assert_eq "$(export_clients "$BASE/AfterHup")" "10.77.0.0/24 127.0.0.1 192.168.7.7" "the clients AfterHup is exported to"
echo "[shares]" >> "$CONF"; echo "bogus = 1" >> "$CONF"
kill -HUP "$DAEMON_PID"
for _ in $(seq 100); do grep -q "bogus" "$S/nfsprovd.log" && break; sleep 0.05; done
grep -q "bogus" "$S/nfsprovd.log" || sb_fail "a bad configuration on SIGHUP was not reported"
kill -0 "$DAEMON_PID" || sb_fail "nfsprovd died of a bad configuration on SIGHUP"
"$NFSPROV_BIN" --socket "$SOCK" list > /dev/null || sb_fail "nfsprovd stopped answering after a bad SIGHUP"

stop_daemon
sb_pass
