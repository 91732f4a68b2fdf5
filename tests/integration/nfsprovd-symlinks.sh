#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Symbolic links planted where nfsprovd creates, mounts, exports or removes are never followed:
# BASE/NAME pointing elsewhere (before create, and in place of a share's mount point after a
# reboot), a symlink in the configured base, IMAGE_DIR/NAME.img pointing at another file (before
# create, and in place of a share's image after a reboot). Before the fix, `create evil` mounted
# the share over the link's target and exported that target rw,no_root_squash to *.
# And an undo removes only what its own step made: an admin's empty directory at BASE/NAME is
# used, and kept when the create fails or the share is deleted.
. "$NP_TOP_SRCDIR/tests/integration/nfsprovd-lib.sh"
# Writes data into its shares behind nfsprov's back (stand-ins for what VMs write): the guard is off.
GUARD=off
write_config
start_daemon
mkdir -p "$BASE" "$IMAGES" "$S/target"
echo "the admin's" > "$S/victim.img"
victim_sum=$(sha256sum < "$S/victim.img")

# never mounted on, exported, attached or written: $S/target and $S/victim.img
assert_untouched() {
    findmnt --mountpoint "$S/target" > /dev/null && sb_fail "$1: something was mounted on the link's target"
    exportfs -v | grep -qF "$S/target" && sb_fail "$1: the link's target was exported"
    grep -qF "$S/target" /etc/exports && sb_fail "$1: the link's target is in /etc/exports"
    [ -z "$(ls -A "$S/target")" ] || sb_fail "$1: the link's target is not empty"
    [ -z "$(losetup -j "$S/victim.img")" ] || sb_fail "$1: the link's target file was attached to a loop device"
    assert_eq "$(sha256sum < "$S/victim.img")" "$victim_sum" "$1: the link's target file"
}

echo "== BASE/NAME is a symbolic link before create"
ln -s "$S/target" "$BASE/evil"
before=$(snapshot)
err=$(np create evil --size 32M 2>&1); rc=$?
echo "$err"
assert_eq "$rc" 2 "create over a symlinked mount point: exit status"
assert_contains "$err" "$BASE/evil is a symbolic link (to $S/target)"
assert_eq "$(snapshot)" "$before" "a refused create changes nothing"
[ -L "$BASE/evil" ] || sb_fail "the admin's symlink was removed"
assert_untouched "create evil"
rm "$BASE/evil"

echo "== IMAGE_DIR/NAME.img is a symbolic link before create"
ln -s "$S/victim.img" "$IMAGES/vic.img"
ln -s "$S/nowhere.img" "$IMAGES/dangling.img"
before=$(snapshot)
for n in vic dangling; do
    err=$(np create "$n" --size 32M 2>&1); rc=$?
    echo "$err"
    assert_eq "$rc" 1 "create $n over a symlinked image: exit status"
    assert_contains "$err" "$IMAGES/$n.img already exists"
done
assert_eq "$(snapshot)" "$before" "refused creates change nothing"
[ -e "$S/nowhere.img" ] && sb_fail "a file was created through the dangling link"
assert_untouched "create vic"
rm "$IMAGES/vic.img" "$IMAGES/dangling.img"

echo "== a symbolic link in the configured base"
stop_daemon
mkdir -p "$S/realbase"; ln -s "$S/realbase" "$S/linkbase"
BASE=$S/linkbase write_config
start_daemon
err=$(np create viabase --size 32M 2>&1); rc=$?
echo "$err"
assert_eq "$rc" 2 "create under a symlinked base: exit status"
assert_contains "$err" "$S/linkbase is a symbolic link (to $S/realbase)"
[ -z "$(ls -A "$S/realbase")" ] || sb_fail "something was made through the symlinked base"
stop_daemon
write_config
start_daemon

echo "== after a reboot, a share's mount point and image were replaced by symbolic links"
np create A --size 32M > /dev/null || sb_fail "create A failed"
np create B --size 32M > /dev/null || sb_fail "create B failed"
echo A > "$BASE/A/marker"; echo B > "$BASE/B/marker"
stop_daemon
for n in A B; do
    umount "$BASE/$n" || sb_fail "umount $n"
    for dev in $(losetup -j "$IMAGES/$n.img" -n -O NAME); do losetup -d "$dev"; done
done
: > /var/lib/nfs/etab
rmdir "$BASE/A" && ln -s "$S/target" "$BASE/A"
mv "$IMAGES/B.img" "$S/B.img.saved" && ln -s "$S/victim.img" "$IMAGES/B.img"
: > "$S/nfsprovd.log"
start_daemon
log=$(cat "$S/nfsprovd.log"); echo "$log"
assert_contains "$log" "A: cannot mount"
assert_contains "$log" "$BASE/A is a symbolic link (to $S/target)"
assert_contains "$log" "B: cannot attach $IMAGES/B.img: image $IMAGES/B.img of share B is a symbolic link"
assert_untouched "reconcile"
for n in A B; do
    assert_eq "$(share_field "$n" mounted)" false "$n mounted"
    assert_eq "$(share_field "$n" exported)" false "$n exported"
done
[ -L "$BASE/A" ] || sb_fail "the planted link at $BASE/A was removed"
out=$(np reconcile 2>&1); rc=$?
assert_eq "$rc" 1 "reconcile with problems left: exit status"
assert_untouched "nfsprov reconcile"
echo "== links removed: reconcile brings both back"
rm "$BASE/A" "$IMAGES/B.img" && mv "$S/B.img.saved" "$IMAGES/B.img"
out=$(np reconcile) || sb_fail "reconcile after removing the links failed: $out"
for n in A B; do
    assert_share_ready "$n"
    assert_eq "$(cat "$BASE/$n/marker")" "$n" "$n data"
done
np delete A --force > /dev/null && np delete B --force > /dev/null || sb_fail "delete A, B failed"
assert_share_gone A
assert_share_gone B

echo "== an undo removes only what its own step made"
mkdir "$BASE/pre"   # the admin's empty directory: used, and kept
for n in pre made; do
    echo "UUID=$(cat /proc/sys/kernel/random/uuid) $BASE/$n ext4 defaults 0 2" >> /etc/fstab
    err=$(np create "$n" --size 32M 2>&1) && sb_fail "create $n succeeded despite the admin's fstab entry"
    assert_contains "$err" "step fstab failed"
    assert_contains "$err" "undone"
    findmnt --mountpoint "$BASE/$n" > /dev/null && sb_fail "$BASE/$n still mounted after the undo"
done
[ -d "$BASE/pre" ] || sb_fail "the undo removed the admin's directory $BASE/pre"
[ -e "$BASE/made" ] && sb_fail "the undo left the directory it made, $BASE/made"
assert_eq "$(grep -c " $BASE/pre \| $BASE/made " /etc/fstab)" 2 "the admin's fstab entries after the undos"
grep -vF "$BASE/pre " /etc/fstab > "$S/fstab.new"; cat "$S/fstab.new" > /etc/fstab   # (a bind mount: no rename)
np create pre --size 32M > /dev/null || sb_fail "create pre on the admin's directory failed"
assert_share_ready pre
np delete pre > /dev/null || sb_fail "delete pre failed"
[ -d "$BASE/pre" ] || sb_fail "delete removed the admin's directory $BASE/pre"
findmnt --mountpoint "$BASE/pre" > /dev/null && sb_fail "$BASE/pre still mounted after delete"
stop_daemon
sb_pass
