#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Volumes end to end with the real nfsprovd, nfsprov and qemu-img on an image-backed share: every
# operation; qemu-img check on every volume nfsprov made; thin files; a linked clone reads its
# backing's data; resize, shrink; delete of a backing refused; wipe reads zeros and the old data
# is gone from the share's block device; [volumes] owner/group/mode; over-commit refused with the
# numbers; bad names and capacities refused with nothing left; share delete refused while volumes
# exist. Uploads, downloads and bad uploads: nfsprovd-volumes-transfer.sh.
. "$NP_TOP_SRCDIR/tests/integration/nfsprovd-lib.sh"
sb_require_cmd qemu-img qemu-utils
sb_require_cmd qemu-io qemu-utils

write_config
cat >> "$CONF" <<EOT
[volumes]
owner = nobody
group = nogroup
mode = 0640
max_capacity = 64G
max_overcommit = 4
EOT
start_daemon
np create web --size 1G > /dev/null || { cat "$S/nfsprovd.log"; sb_fail "create web failed"; }
W=$BASE/web

# the share's files: volumes and lost+found, nothing else (no temporary file)
files() { ls -A "$W" | grep -v '^lost+found$' | sort | tr '\n' ' '; }
vol() { np --json vol-info web "$1" | jq -r ".$2"; }
check_qcow2() { # NAME CAPACITY [BACKING]
    local info
    info=$(qemu-img info -U --output=json "$W/$1") || sb_fail "qemu-img info $1 failed"
    assert_eq "$(echo "$info" | jq -r .format)" qcow2 "$1 format"
    assert_eq "$(echo "$info" | jq -r '."virtual-size"')" "$2" "$1 virtual size"
    assert_eq "$(echo "$info" | jq -r '."format-specific".data.compat')" 1.1 "$1 compat"
    assert_eq "$(echo "$info" | jq -r '."backing-filename" // "none"')" "${3:-none}" "$1 backing file in the header"
    qemu-img check -U -q "$W/$1" || sb_fail "qemu-img check $1 found errors"
}

# ---- create ----
out=$(np vol-create web vm1 --capacity 512M 2>&1) || { cat "$S/nfsprovd.log"; sb_fail "vol-create vm1: $out"; }
assert_contains "$out" "created web/vm1: 512 MiB qcow2"
check_qcow2 vm1 536870912
assert_eq "$(vol vm1 status)" ready "vm1 status"
assert_eq "$(vol vm1 capacity)" 536870912 "vm1 capacity in the manifest"
assert_eq "$(vol vm1 format)" qcow2 "vm1 format in the manifest"
assert_eq "$(stat -c '%U:%G %a' "$W/vm1")" "nobody:nogroup 640" "vm1 owner, group, mode from [volumes]"
alloc=$(( $(stat -c %b "$W/vm1") * 512 ))
[ "$alloc" -lt $((2 * 1024 * 1024)) ] || sb_fail "vm1 is not thin: $alloc bytes allocated for 512 MiB"
assert_eq "$(vol vm1 allocation)" "$alloc" "vm1 allocation reported = the file's blocks"
# the same again: refused, the file untouched
ino=$(stat -c %i "$W/vm1")
out=$(np vol-create web vm1 --capacity 512M 2>&1); rc=$?
assert_eq "$rc" 1 "vol-create of an existing volume: exit status"
assert_contains "$out" "vm1"
assert_eq "$(stat -c %i "$W/vm1")" "$ino" "vm1 kept its inode"

# put data in vm1 (as a VM would), for the clones
qemu-io -f qcow2 -c 'write -P 0x5a 0 4M' -c 'write -P 0xa5 100M 1M' "$W/vm1" > /dev/null || sb_fail "qemu-io write to vm1"

# ---- full clone: thin, independent, same data ----
out=$(np vol-clone web vm1 vm2 2>&1) || sb_fail "vol-clone vm1 vm2: $out"
check_qcow2 vm2 536870912
alloc=$(( $(stat -c %b "$W/vm2") * 512 ))
[ "$alloc" -lt $((12 * 1024 * 1024)) ] || sb_fail "full clone vm2 is not thin: $alloc bytes for 5 MiB of data"
qemu-io -f qcow2 -c 'read -P 0x5a 0 4M' -c 'read -P 0xa5 100M 1M' -c 'read -P 0 4M 96M' "$W/vm2" > "$S/io" ||
    { cat "$S/io"; sb_fail "full clone vm2 does not read vm1's data"; }
grep -q "Pattern verification failed" "$S/io" && { cat "$S/io"; sb_fail "full clone vm2 data differs"; }

# ---- linked clone: backing by bare name, reads the backing's data ----
out=$(np vol-clone web vm1 vm3 --linked 2>&1) || sb_fail "vol-clone --linked: $out"
assert_contains "$out" "backing vm1"
check_qcow2 vm3 536870912 vm1
assert_eq "$(vol vm3 backing)" vm1 "vm3 backing in the manifest"
qemu-io -f qcow2 -c 'read -P 0x5a 0 4M' "$W/vm3" > "$S/io" || sb_fail "linked clone vm3 cannot read"
grep -q "Pattern verification failed" "$S/io" && { cat "$S/io"; sb_fail "linked clone vm3 does not read vm1's data"; }
# vol-create --backing: the same, capacity from the backing
np vol-create web vm4 --backing vm1 > /dev/null || sb_fail "vol-create --backing failed"
check_qcow2 vm4 536870912 vm1

# ---- list ----
out=$(np vol-list web)
assert_eq "$(echo "$out" | head -1 | tr -s ' ')" "NAME STATUS CAPACITY ALLOCATION FORMAT BACKING" "vol-list header"
assert_eq "$(echo "$out" | awk 'NR > 1 {print $1 "," $2 "," $3 $4 "," $(NF-1) "," $NF}' | tr '\n' ' ')" \
    "vm1,ready,512MiB,qcow2,- vm2,ready,512MiB,qcow2,- vm3,ready,512MiB,qcow2,vm1 vm4,ready,512MiB,qcow2,vm1 " "vol-list rows"
assert_eq "$(files)" "vm1 vm2 vm3 vm4 " "files in the share"

# ---- the share reports provisioned and over-commit ----
j=$(np --json show web)
assert_eq "$(echo "$j" | jq -r .volume_count)" 4 "volume_count"
assert_eq "$(echo "$j" | jq -r .provisioned)" $((4 * 536870912)) "provisioned = sum of capacities"
cap=$(echo "$j" | jq -r .capacity)
want=$(awk -v p=$((4 * 536870912)) -v c="$cap" 'BEGIN { printf "%.4f", p / c }')
assert_eq "$(echo "$j" | jq -r '.overcommit * 10000 | round / 10000' | awk '{ printf "%.4f", $1 }')" "$want" "overcommit ratio"
assert_contains "$(np show web)" "provisioned:  2 GiB in 4 volumes"
m=$(curl -s --unix-socket "$SOCK" http://localhost/metrics)
assert_contains "$m" "nfsprov_share_provisioned_bytes{share=\"web\"} $((4 * 536870912))"
assert_contains "$m" "nfsprov_share_volumes{share=\"web\"} 4"

# ---- over-commit: refused past [volumes] max_overcommit, with the numbers; nothing made ----
before=$(files)
out=$(np vol-create web big --capacity 2G 2>&1); rc=$?
assert_eq "$rc" 1 "over-committing vol-create: exit status"
assert_contains "$out" "would be over-committed"
assert_contains "$out" "provisioned 2 GiB + 2 GiB"
assert_contains "$out" "max_overcommit is 4.00x"
code=$(curl -s -o "$S/body" -w '%{http_code}' --unix-socket "$SOCK" -H 'Content-Type: application/json' \
    -d '{"name":"big","capacity":2147483648}' 'http://localhost/v1/shares/web/volumes?wait=true')
assert_eq "$code" 409 "over-committing create over HTTP: status"
assert_eq "$(files)" "$before" "no file after refused creates"
np vol-info web big > /dev/null 2>&1 && sb_fail "a refused volume is in the manifest"

# ---- resize ----
np vol-resize web vm2 --capacity 768M > /dev/null || sb_fail "vol-resize up failed"
check_qcow2 vm2 805306368
assert_eq "$(vol vm2 capacity)" 805306368 "vm2 capacity after resize"
out=$(np vol-resize web vm2 --capacity 256M 2>&1); rc=$?
assert_eq "$rc" 2 "shrink without --shrink: exit status"
assert_contains "$out" "--shrink"
check_qcow2 vm2 805306368
np vol-resize web vm2 --capacity 256M --shrink > /dev/null || sb_fail "vol-resize --shrink failed"
check_qcow2 vm2 268435456
out=$(np vol-resize web vm2 --capacity 10G 2>&1); rc=$?
assert_eq "$rc" 1 "resize past the over-commit limit: exit status"
assert_contains "$out" "over-committed"
out=$(np vol-resize web vm2 --capacity 65G 2>&1); rc=$?
assert_eq "$rc" 2 "resize past max_capacity: exit status"
assert_contains "$out" "max_capacity"
check_qcow2 vm2 268435456

# ---- delete of a backing refused, naming its users ----
out=$(np vol-delete web vm1 2>&1); rc=$?
assert_eq "$rc" 1 "deleting a backing: exit status"
assert_contains "$out" "vm3"
assert_contains "$out" "vm4"
[ -f "$W/vm1" ] || sb_fail "vm1 deleted although it backs vm3 and vm4"
out=$(np vol-wipe web vm1 2>&1); rc=$?
assert_eq "$rc" 1 "wiping a backing: exit status"
assert_contains "$out" "vm3"

# ---- wipe: zeros, same capacity, a valid qcow2, the old data gone from the device ----
marker="nfsprov-wipe-marker-$RANDOM$RANDOM-$$"
yes "$marker" | head -c 1M > "$S/marker"
qemu-io -f qcow2 -c "write -s $S/marker 8M 1M" "$W/vm2" > /dev/null || sb_fail "qemu-io write marker"
sync
dev=$(share_field web device)
found() { dd if="$dev" iflag=direct bs=4M status=none | grep -a -c -F "$marker"; }
[ "$(found)" -gt 0 ] || sb_fail "the marker is not on $dev before the wipe (the check cannot see data)"
out=$(np vol-wipe web vm2 2>&1) || sb_fail "vol-wipe: $out"
check_qcow2 vm2 268435456
qemu-io -f qcow2 -c 'read -P 0 0 256M' "$W/vm2" > "$S/io" || sb_fail "cannot read vm2 after wipe"
grep -q "Pattern verification failed" "$S/io" && sb_fail "vm2 does not read as zeros after the wipe"
sync
assert_eq "$(found)" 0 "blocks of $dev holding the old data after the wipe"
assert_eq "$(files)" "vm1 vm2 vm3 vm4 " "files after the wipe"
assert_eq "$(stat -c '%U:%G %a' "$W/vm2")" "nobody:nogroup 640" "vm2 owner after the wipe"

# ---- bad names and capacities: exit 2, one line, nothing sent or made ----
before=$(files)
for bad in ".hidden" "lost+found" "a/b" "x y" "name*" "$(printf 'a%.0s' $(seq 256))" "vm%"; do
    out=$(np vol-create web "$bad" --capacity 1G 2>&1); rc=$?
    assert_eq "$rc" 2 "vol-create '$bad': exit status"
    assert_eq "$(echo "$out" | wc -l)" 1 "vol-create '$bad': one line"
done
for bad in 0 -1 1X 1000 ""; do
    out=$(np vol-create web ok --capacity "$bad" 2>&1); rc=$?
    assert_eq "$rc" 2 "vol-create --capacity '$bad': exit status"
done
out=$(np vol-create web ok --capacity 65G 2>&1); rc=$?
assert_eq "$rc" 2 "capacity above max_capacity: exit status"
assert_contains "$out" "max_capacity"
out=$(np vol-create web ok 2>&1); rc=$?
assert_eq "$rc" 2 "vol-create without --capacity: exit status"
out=$(np vol-create web ok --capacity 1G --backing nosuch 2>&1); rc=$?
assert_eq "$rc" 2 "vol-create with a missing backing: exit status"
code=$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" -H 'Content-Type: application/json' \
    -d '{"name":"../etc","capacity":1048576}' 'http://localhost/v1/shares/web/volumes?wait=true')
assert_eq "$code" 400 "a volume name with / over HTTP"
code=$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" -H 'Content-Type: application/json' \
    -d '{"name":"ok","capacity":1048576,"preallocation":"full"}' 'http://localhost/v1/shares/web/volumes?wait=true')
assert_eq "$code" 400 "an unknown key (no preallocation: volumes are thin)"
assert_eq "$(files)" "$before" "no file after refused requests"

# ---- a name already taken by a file nfsprov did not make is not overwritten ----
# (planted as an admin could: the share's root is immutable in mode enforce, lifted by hand)
chattr -i "$W" && echo "not a volume" > "$W/planted" && chattr +i "$W" || sb_fail "cannot plant $W/planted"
out=$(np vol-create web planted --capacity 1M 2>&1); rc=$?
assert_eq "$rc" 1 "vol-create over a planted file: exit status"
assert_eq "$(cat "$W/planted")" "not a volume" "the planted file is untouched"
np vol-info web planted > /dev/null 2>&1 && sb_fail "a refused volume is in the manifest"
lsattr -d "$W" | cut -d' ' -f1 | grep -q i || sb_fail "the refused vol-create left the root mutable"
chattr -i "$W" && rm "$W/planted" && chattr +i "$W" || sb_fail "cannot remove $W/planted"

# ---- restart: the manifest and the files survive ----
stop_daemon
start_daemon
assert_eq "$(np --json vol-list web | jq -r '[.volumes[] | .name + ":" + .status] | join(" ")')" \
    "vm1:ready vm2:ready vm3:ready vm4:ready" "volumes after a restart"

# ---- share delete refused while volumes exist, naming them ----
out=$(np delete web 2>&1); rc=$?
assert_eq "$rc" 1 "delete of a share with volumes: exit status"
assert_contains "$out" "vm1, vm2, vm3, vm4"
assert_share_ready web

# ---- delete ----
np vol-delete web vm3 > /dev/null || sb_fail "vol-delete vm3"
np vol-delete web vm4 > /dev/null || sb_fail "vol-delete vm4"
np vol-delete web vm1 > /dev/null || sb_fail "vol-delete vm1 once nothing uses it"
assert_eq "$(files)" "vm2 " "files after the deletes"
out=$(np vol-delete web vm1 2>&1); rc=$?
assert_eq "$rc" 1 "vol-delete of a deleted volume: exit status"
assert_contains "$out" "no such volume"
np delete web --force > /dev/null || sb_fail "delete --force of a share with a volume"
assert_share_gone web
stop_daemon
sb_pass
