#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The sandbox keeps its promises: a test inside it sees temp files over /etc/exports, /etc/fstab,
# /etc/nfs.conf and /var/lib/nfs; its exit status comes through; and after it ends, pass or fail,
# its loop devices are detached, its mounts gone and its processes (tracked or leaked) stopped.
. "$NP_TOP_SRCDIR/tests/sandbox/lib.sh"
sb_require_cmd mkfs.ext4 e2fsprogs

out=$NP_SCRATCH/child.out
mkdir -p "$out"
cat > "$NP_SCRATCH/child.sh" <<'CHILD'
#!/bin/bash
. "$NP_TOP_SRCDIR/tests/sandbox/lib.sh"
out=$1
echo "$NP_SANDBOX" > "$out/sandbox"
# covered files are empty sandbox files, writable without touching the machine
[ -s /etc/exports ] && sb_fail "/etc/exports is not the sandbox's empty file"
echo "/tmp *(ro)" >> /etc/exports
echo "UUID=0 /x ext4 defaults 0 0" >> /etc/fstab
echo "junk" > /var/lib/nfs/etab
mkdir -p /etc/exports.d && echo "/tmp *(ro)" > /etc/exports.d/child.exports
truncate -s 64M "$NP_SCRATCH/disk.img"
dev=$(sb_losetup "$NP_SCRATCH/disk.img") || sb_fail "losetup -f failed"
echo "$dev" > "$out/dev"
mkfs.ext4 -q -F "$dev" || sb_fail "mkfs.ext4 failed"
mkdir -p "$NP_SCRATCH/mnt" && mount "$dev" "$NP_SCRATCH/mnt" || sb_fail "mount failed"
# a second loop device, not registered: found through its backing file in the sandbox
truncate -s 16M "$NP_SCRATCH/other.img"
losetup -f --show "$NP_SCRATCH/other.img" > "$out/dev2"
sleep 600 & sb_track_pid $!; echo $! > "$out/tracked"
sleep 600 & echo $! > "$out/leaked"
exit "${2:-0}"
CHILD
chmod +x "$NP_SCRATCH/child.sh"

for want in 0 3; do
    "$NP_TOP_SRCDIR/tests/sandbox/sandbox-run" "$NP_SCRATCH/child.sh" "$out" "$want" > "$out/log" 2>&1
    rc=$?
    [ "$rc" = "$want" ] || { cat "$out/log"; sb_fail "child exit status $want came back as $rc"; }
    dev=$(cat "$out/dev"); dev2=$(cat "$out/dev2"); child_sb=$(cat "$out/sandbox")
    for d in "$dev" "$dev2"; do
        # the number may already serve another test running in parallel: only the child's files count
        back=$(losetup -n -O BACK-FILE "$d" 2>/dev/null)
        case "$back" in "$child_sb"/*) sb_fail "$d still attached to $back after the child ended";; esac
    done
    [ -d "$child_sb" ] && sb_fail "the child's sandbox $child_sb was not removed"
    for p in "$(cat "$out/tracked")" "$(cat "$out/leaked")"; do
        st=$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)
        [ -z "$st" ] || [ "$st" = Z ] || sb_fail "process $p still running after the child ended"
    done
    grep -q "left running by the test" "$out/log" || sb_fail "the leaked process was not reported"
    # our own (outer) sandbox files are untouched by the child's writes
    [ -s /etc/exports ] && sb_fail "the child's write reached the parent's /etc/exports"
    [ -e /etc/exports.d/child.exports ] && sb_fail "the child's exports.d file reached the parent"
done

# a child that skips is reported as skipped (77) with its reason
cat > "$NP_SCRATCH/skipper.sh" <<'CHILD'
#!/bin/bash
. "$NP_TOP_SRCDIR/tests/sandbox/lib.sh"
sb_require_cmd nfsprov-no-such-tool some-package
CHILD
chmod +x "$NP_SCRATCH/skipper.sh"
msg=$("$NP_TOP_SRCDIR/tests/sandbox/sandbox-run" "$NP_SCRATCH/skipper.sh" 2>&1)
rc=$?
assert_eq "$rc" 77 "skip status"
assert_contains "$msg" "SKIP: skipper.sh: needs nfsprov-no-such-tool (Debian package some-package)"

# a child that skips after its checks ran fails: a test is skipped whole or not at all
cat > "$NP_SCRATCH/late-skipper.sh" <<'CHILD'
#!/bin/bash
. "$NP_TOP_SRCDIR/tests/sandbox/lib.sh"
assert_eq 1 1 "a check"
sb_skip "too late"
CHILD
chmod +x "$NP_SCRATCH/late-skipper.sh"
msg=$("$NP_TOP_SRCDIR/tests/sandbox/sandbox-run" "$NP_SCRATCH/late-skipper.sh" 2>&1)
rc=$?
assert_eq "$rc" 1 "status of a skip after checks"
assert_contains "$msg" "FAIL: late-skipper.sh: skips after its checks ran (a test is skipped whole or not at all): too late"
assert_not_contains "$msg" "SKIP:"
sb_pass
