#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# nfsprov audit --remove with the real nfsprovd on an enforced image-backed share: a nested tree
# (files, directories, a fifo, symbolic links pointing outside the share: their targets survive)
# removed, the audit clean; a tree 10,000 levels deep removed with nfsprovd still answering;
# refusals with one line and nothing changed (a volume's name, a file swapped for a hard link of a
# volume since the audit, a symbolic link or a mount point on the way or at the path); a volume's hard link or a mount point inside a tree
# stops the removal, the volume and the mounted files kept; then a crash (NFSPROV_FAULT) before
# and after each step of guard-remove, and one while it runs: after the restart the tree is gone,
# the audit clean, the volumes' sha256 unchanged; a crash after which the path was swapped for a
# symbolic link to a volume leaves the link in place and says so. (A swap between the audit and
# the request, refused on the audit's kind, is tested in test_engine: the live watch re-audits
# within milliseconds here.)
. "$NP_TOP_SRCDIR/tests/integration/nfsprovd-lib.sh"
sb_require_cmd qemu-img qemu-utils
sb_require_cmd lsattr e2fsprogs
sb_require_cmd chattr e2fsprogs
sb_require_cmd python3 python3
sb_require_cmd mkfifo coreutils

write_config
sed -i 's/^\[shares\]$/[shares]\naudit_interval = 0/' "$CONF"
start_daemon
np create R --size 256M > /dev/null || { cat "$S/nfsprovd.log"; sb_fail "create R"; }
np vol-create R vol1 --capacity 16M > /dev/null || sb_fail "vol-create R vol1"
np vol-create R vol2 --capacity 16M > /dev/null || sb_fail "vol-create R vol2"
R=$BASE/R
sneak() { sneak_in "$R" "$@"; }
vol_sums() { sha256sum "$R/vol1" "$R/vol2"; }
sums=$(vol_sums)
immutable() { lsattr -d "$R" | cut -d' ' -f1 | grep -q i; }
clean() { # CONTEXT: the audit clean, the root immutable, the volumes unchanged
    local out
    out=$(np audit R) || sb_fail "$1: the audit is not clean: $out"
    immutable || sb_fail "$1: R's root is not immutable"
    assert_eq "$(vol_sums)" "$sums" "$1: the volumes' sha256"
    assert_eq "$(ls -A "$R" | tr '\n' ' ')" "lost+found vol1 vol2 " "$1: R's root"
}

# outside the share: what symbolic links in the share point at
OUT=$S/outside
mkdir -p "$OUT/dir" && echo keep > "$OUT/file" && echo keep > "$OUT/dir/inner" || sb_fail "cannot make $OUT"
outside_ok() { # CONTEXT
    assert_eq "$(cat "$OUT/file") $(cat "$OUT/dir/inner")" "keep keep" "$1: the files outside the share"
}
# plant_tree DIR: a nested tree of files, directories, a fifo and symbolic links out of the share
plant_tree() {
    local t=$1
    sneak mkdir "$t" || sb_fail "mkdir $t"
    mkdir -p "$t/a/b/c" "$t/empty" "$t/x y" &&
        echo one > "$t/f1" && echo two > "$t/a/f2" && echo three > "$t/a/b/c/f3" && head -c 1M /dev/urandom > "$t/x y/big" &&
        touch "$t/a/b/$(printf 'new\nline')" &&
        mkfifo "$t/a/fifo" && ln -s "$OUT" "$t/to-outside" && ln -s "$OUT/file" "$t/a/b/to-file" &&
        ln -s "$OUT/dir" "$t/a/b/c/to-dir" && ln -s ../../vol1 "$t/a/to-vol1" && ln -s /nowhere "$t/dangling" &&
        chmod 000 "$t/a/b" || sb_fail "cannot plant the tree $t"
}

# ---- a nested tree ----
plant_tree "$R/tree"
entries=$(find "$R/tree" -printf x | wc -c)
assert_contains "$(foreign_paths R)" "tree tree/a" "the tree is foreign"
out=$(np audit --remove R tree) || sb_fail "audit --remove R tree: $out"
assert_eq "$out" "removed R/tree" "audit --remove R tree"
[ -e "$R/tree" ] && sb_fail "R/tree is still there"
outside_ok "the nested tree"
clean "the nested tree"
grep -q "remove R/tree: removed, $entries entries" "$S/nfsprovd.log" || sb_fail "no log line for the tree: $(grep 'remove R' "$S/nfsprovd.log")"

# a single file, a fifo, a symbolic link at the root; a nested file, its directory kept
sneak sh -c "echo x > '$R/file' && mkfifo '$R/fifo' && ln -s '$OUT/file' '$R/link' && mkdir '$R/d' && echo y > '$R/d/f'" ||
    sb_fail "cannot plant single entries"
for p in file fifo link d/f; do
    out=$(np audit --remove R "$p") || sb_fail "audit --remove R $p: $out"
done
[ -d "$R/d" ] && [ -z "$(ls -A "$R/d")" ] || sb_fail "removing d/f did not leave d, empty"
np audit --remove R d > /dev/null || sb_fail "audit --remove R d"
outside_ok "single entries"
clean "single entries"
out=$(np audit --remove R nothing/there) || sb_fail "audit --remove of a path that is not there: $out"

# ---- 10,000 levels deep: removed, nfsprovd alive, a bounded number of descriptors ----
sneak mkdir "$R/deep" || sb_fail "mkdir deep"
python3 - "$R/deep" <<'EOT' || sb_fail "cannot make the deep tree"
import os, sys
os.chdir(sys.argv[1])
for i in range(10000):
    os.mkdir("d")
    os.chdir("d")
    if i % 1000 == 0:
        open("f", "w").write("level %d\n" % i)
open("bottom", "w").write("bottom\n")
EOT
np audit R > /dev/null 2>&1 # found (the scan reads 4096 levels)
fds_max=0
( while kill -0 "$DAEMON_PID" 2>/dev/null; do ls "/proc/$DAEMON_PID/fd" 2>/dev/null | wc -l; sleep 0.05; done ) > "$S/fds" &
watcher=$!
sb_track_pid "$watcher"
out=$(np audit --remove R deep 2>&1) || { tail -5 "$S/nfsprovd.log"; sb_fail "audit --remove R deep: $out"; }
assert_eq "$out" "removed R/deep" "audit --remove R deep"
np list > /dev/null || sb_fail "nfsprovd does not answer after removing the deep tree"
kill "$watcher" 2>/dev/null; wait "$watcher" 2>/dev/null
fds_max=$(sort -n "$S/fds" | tail -1)
fds_idle=$(ls "/proc/$DAEMON_PID/fd" | wc -l)
echo "nfsprovd's descriptors: $fds_idle idle, at most $fds_max seen while removing 10,000 levels"
[ "${fds_max:-0}" -lt $((fds_idle + 200)) ] || sb_fail "removing the deep tree held $fds_max descriptors ($fds_idle idle)"
grep -q "remove R/deep: removed, 10012 entries" "$S/nfsprovd.log" || sb_fail "no log line for deep: $(grep 'remove R/deep' "$S/nfsprovd.log")"
clean "the deep tree"

# ---- refusals: one line, exit status 2, nothing changed ----
tree_of() { find "$R" -path "$R/lost+found" -prune -o -printf '%P %y %i\n' | sort; }
refused() { # WHAT EXPECTED-TEXT PATH
    local what=$1 text=$2 err rc before
    before=$(tree_of)
    err=$(np audit --remove R "$3" 2>&1); rc=$?
    assert_eq "$rc" 2 "$what: exit status ($err)"
    assert_contains "$err" "$text" "$what"
    assert_eq "$(wc -l <<< "$err")" 1 "$what: one line"
    assert_eq "$(tree_of)" "$before" "$what: nothing changed"
    assert_eq "$(vol_sums)" "$sums" "$what: the volumes"
}
refused "a volume's name" "it is a volume; use nfsprov vol-delete" vol1
refused "lost+found" "the filesystem's or nfsprov's own" lost+found
# a file the audit found, swapped for a hard link of a volume (same kind: told by its inode)
sneak touch "$R/hl" || sb_fail "plant hl"
assert_contains "$(foreign_paths R)" "hl" "hl is foreign"
sneak sh -c "rm '$R/hl' && ln '$R/vol1' '$R/hl'" || sb_fail "swap hl"
refused "a file swapped for a hard link of a volume" "it is the volume vol1 (the same inode)" hl
# a symbolic link on the way: never followed
sneak ln -s "$OUT" "$R/out" || sb_fail "plant out"
refused "a symbolic link on the way" "out on the way is a symbolic link" out/file
outside_ok "a symbolic link on the way"
# a mount point at the path and on the way: never entered
sneak mkdir "$R/mnt" || sb_fail "mkdir mnt"
mount -t tmpfs -o size=1M nfsprov-test "$R/mnt" && echo keep > "$R/mnt/keep" || sb_fail "mount a tmpfs on R/mnt"
refused "a mount point" "it is a mount point; unmount it first" mnt
refused "a mount point on the way" "mnt on the way is a mount point" mnt/keep
# inside a tree: a volume's hard link and a mount point stop the removal; kept
sneak mkdir "$R/holds" && mkdir "$R/holds/m" && ln "$R/vol2" "$R/holds/v" || sb_fail "plant holds"
err=$(np audit --remove R holds 2>&1); rc=$?
assert_eq "$rc" 1 "a tree holding a volume's hard link: exit status ($err)"
assert_contains "$err" "R/holds/v is the volume vol2 (the same inode): not removed" "a tree holding a volume's hard link"
[ "$(stat -c %h "$R/vol2")" = 2 ] || sb_fail "the volume's hard link in holds was removed"
rm "$R/holds/v"
mount -t tmpfs -o size=1M nfsprov-test "$R/holds/m" && echo keep > "$R/holds/m/keep" || sb_fail "mount a tmpfs on holds/m"
err=$(np audit --remove R holds 2>&1); rc=$?
assert_eq "$rc" 1 "a tree holding a mount point: exit status ($err)"
assert_contains "$err" "R/holds/m is a mount point: not entered" "a tree holding a mount point"
assert_eq "$(cat "$R/holds/m/keep")" keep "the file on the mount point inside holds"
umount "$R/holds/m" "$R/mnt" || sb_fail "umount"
sneak rm "$R/hl" || sb_fail "rm hl" # a volume's hard link: nfsprov never removes one
for p in out mnt holds; do
    out=$(np audit --remove R "$p") || sb_fail "audit --remove R $p after the refusals: $out"
done
outside_ok "the refusals"
clean "the refusals"

# ---- crashes before and after each step, and while it runs ----
steps_of() { "$NFSPROVD" --steps | sed -n "s/^$1: //p"; }
remove_steps=$(steps_of guard-remove)
[ -n "$remove_steps" ] || sb_fail "nfsprovd --steps: $("$NFSPROVD" --steps)"
crash() { # FAULT COMMAND...
    crash_at "$@"
    chattr -i "$R" || sb_fail "$1: chattr -i" # as if it died while the attribute was lifted
}
sneak mkdir "$R/nest" && mkdir "$R/nest/x" || sb_fail "mkdir nest"
n=0
for step in $remove_steps; do
    for when in "" ":after"; do
        for victim in "victim$n" "nest/victim$n"; do
            plant_tree "$R/$victim"
            : > "$S/nfsprovd.log"
            crash "guard-remove:$step$when" audit --remove R "$victim"
            start_daemon
            [ -e "$R/$victim" ] && sb_fail "guard-remove:$step$when: $victim is still there after the restart"
            grep -q "finished the removal of $victim that stopped" "$S/nfsprovd.log" ||
                sb_fail "guard-remove:$step$when: no reconcile line for $victim: $(grep -i 'remov' "$S/nfsprovd.log")"
            outside_ok "guard-remove:$step$when $victim"
            assert_eq "$(foreign_paths R)" "nest nest/x" "guard-remove:$step$when $victim: the audit"
            assert_eq "$(vol_sums)" "$sums" "guard-remove:$step$when $victim: the volumes' sha256"
            immutable || sb_fail "guard-remove:$step$when $victim: R's root is not immutable"
        done
        n=$((n + 1))
    done
done
np audit --remove R nest > /dev/null || sb_fail "audit --remove R nest"
clean "the crashes"
# killed while it runs (timing decides how far it got; either way nothing is left half done)
plant_tree "$R/wide"
python3 - "$R/wide" <<'EOT' || sb_fail "cannot make the wide tree"
import os, sys
for d in range(300):
    p = os.path.join(sys.argv[1], "w%03d" % d)
    os.mkdir(p)
    for f in range(100):
        open(os.path.join(p, "f%03d" % f), "w").close()
EOT
total=$(find "$R/wide" | wc -l)
np audit --remove R wide > "$S/crash.out" 2>&1 &
remover=$!
for _ in $(seq 2000); do
    [ "$(ls "$R/wide" 2>/dev/null | wc -l)" -lt 290 ] && break
    sleep 0.005
done
kill -KILL "$DAEMON_PID"
wait_daemon_dead
wait "$remover"
left=$(find "$R/wide" 2>/dev/null | wc -l)
echo "killed while removing: $left of $total entries of wide left"
chattr -i "$R"
start_daemon
[ -e "$R/wide" ] && sb_fail "wide ($left of $total entries left at the kill) is still there after the restart"
clean "killed while removing"
# after a crash the path holds another entry (a symbolic link to a volume): left in place, and said
plant_tree "$R/again"
crash "guard-remove:remove" audit --remove R again
rm -r "$R/again" && ln -s vol1 "$R/again" || sb_fail "swap again for a symbolic link"
start_daemon
assert_eq "$(readlink "$R/again")" vol1 "the symbolic link put at the path after the crash"
grep -q "cannot finish the removal of again that stopped: .*no longer the entry whose removal was asked" "$S/nfsprovd.log" ||
    sb_fail "no reconcile problem for again: $(grep -i 'again' "$S/nfsprovd.log")"
assert_eq "$(vol_sums)" "$sums" "the volumes after a removal whose path was swapped"
out=$(np reconcile 2>&1)
assert_not_contains "$out" "again" "a second reconcile (the removal is over)"
np audit --remove R again > /dev/null || sb_fail "audit --remove R again"
clean "a path swapped after the crash"
stop_daemon
sb_pass "nested and 10,000-deep trees removed, refusals, $n crash points (at the root and nested) and a kill while removing"
