#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Entries written by the exports library are accepted by the real exportfs and shown by
# `exportfs -v` with rw and no_root_squash; the admin's lines stay byte for byte; a broken admin
# line makes apply fail with exportfs's own message; a clash with an admin line is refused.
# (The sandbox checks that the machine's real /etc/exports is byte-identical afterwards.)
. "$NP_TOP_SRCDIR/tests/sandbox/lib.sh"
sb_require_cmd exportfs nfs-kernel-server
# the exports.d part at the end needs it: checked before any assertion, so the test runs whole
[ -d /etc/exports.d ] || sb_skip "no /etc/exports.d in the sandbox (overlayfs missing)"
tool=$NP_TOP_BUILDDIR/tests/integration/exports-tool
OPTS=rw,no_root_squash,sync,no_subtree_check

S=$NP_SCRATCH
mkdir -p "$S/NFS/NFSStorage_01" "$S/NFS/NFSStorage_02" "$S/NFS/with space" "$S/admin" "$S/admin2"

admin="# The admin's own exports, kept as they are
$S/admin	10.1.2.0/24(ro,sync,no_subtree_check)   # a comment
"
printf '%s' "$admin" > /etc/exports

entries="$S/NFS/NFSStorage_01	*($OPTS)
$S/NFS/NFSStorage_02	10.77.0.0/24($OPTS) 192.168.1.10($OPTS)
$S/NFS/with space	*($OPTS)"
r=$(echo "$entries" | "$tool" write /etc/exports) || sb_fail "write failed"
assert_eq "$r" changed "first write"
r=$(echo "$entries" | "$tool" write /etc/exports) || sb_fail "second write failed"
assert_eq "$r" unchanged "second write with the same entries"

text=$(cat /etc/exports; echo x)
assert_eq "${text:0:${#admin}}" "$admin" "admin's lines before the block"
assert_contains "$text" "$S/NFS/with\\040space *($OPTS)" "a path with a space is escaped as nfs-utils reads it"
# the sandbox's file behind the bind mount holds the same bytes (the in-place path of atomic_file)
cmp -s /etc/exports "$NP_SANDBOX/etc/exports" || sb_fail "/etc/exports and the sandbox file differ"

"$tool" apply > "$S/apply.out" 2>&1 || { cat "$S/apply.out"; sb_fail "apply failed"; }
exportfs -ra 2> "$S/ra.err" || { cat "$S/ra.err"; sb_fail "exportfs -ra rejected the file"; }
v=$(exportfs -v)
echo "$v"
check_export() { # PATH CLIENT [OPTIONS]: exportfs -v lists PATH for CLIENT with each of OPTIONS
    local line w
    line=$(echo "$v" | tr '\n' ' ' | sed 's/) /)\n/g' | grep -F "$1" | grep -F "$2(") ||
        sb_fail "exportfs -v does not list $1 for $2"
    for w in ${3:-rw no_root_squash}; do
        echo "$line" | grep -qE "[(,]$w[,)]" || sb_fail "exportfs -v: [$line] lacks option $w"
    done
}
check_export "$S/NFS/NFSStorage_01" "<world>"
check_export "$S/NFS/NFSStorage_02" "10.77.0.0/24"
check_export "$S/NFS/NFSStorage_02" "192.168.1.10"
check_export "$S/NFS/with" "<world>"
check_export "$S/admin" "10.1.2.0/24" "ro root_squash"
grep -q "NFSStorage_02.*10.77.0.0/24(.*rw,.*no_root_squash" /var/lib/nfs/etab ||
    sb_fail "etab lacks the CIDR client with rw,no_root_squash"

# read back what nfsprov owns
back=$("$tool" read /etc/exports) || sb_fail "read failed"
assert_eq "$(echo "$back" | wc -l)" 3 "entries read back"
assert_contains "$back" "$S/NFS/with space	*($OPTS)"

# a clash with an admin line: refused with the admin's line number, nothing written
cp /etc/exports "$S/before"
printf '%s\n' "$S/admin2 *(ro)" >> /etc/exports
cp /etc/exports "$S/before"
err=$(printf '%s\n' "$S/admin2	*($OPTS)" | "$tool" write /etc/exports 2>&1) && sb_fail "a clash was accepted"
lines=$(wc -l < /etc/exports)
assert_contains "$err" "/etc/exports:$lines: $S/admin2 is exported by an entry outside nfsprov's block"
cmp -s /etc/exports "$S/before" || sb_fail "a refused write changed /etc/exports"

# a broken admin line: the write succeeds (it is the admin's line), apply fails with exportfs's words
printf '%s\n' "$S/admin *(rw,bogus_option)" >> /etc/exports
lines=$(wc -l < /etc/exports)
echo "$entries" | "$tool" write /etc/exports > /dev/null || sb_fail "write failed"
err=$("$tool" apply 2>&1) && sb_fail "apply accepted a broken admin line"
echo "$err"
assert_contains "$err" "exportfs -r failed (exit status 1): "
# exportfs's own words; its line number skips lines that end in a comment (nfs-utils 2.6)
comments=$(head -n "$lines" /etc/exports | grep -c '#')
assert_contains "$err" "/etc/exports:$((lines - comments)): unknown keyword \"bogus_option\""
assert_not_contains "$err" "subtree_check" "apply error names the error, not exportfs's warnings"
assert_eq "$(echo "$err" | wc -l)" 1 "apply error is one line"

# damaged markers are refused with their line number and the file is kept
# (sed -i cannot rename over a bind-mounted file: rewrite it in place)
sed -e '$d' -e '/# END nfsprov/d' /etc/exports > "$S/damaged" && cat "$S/damaged" > /etc/exports
cp /etc/exports "$S/before"
err=$(echo "$entries" | "$tool" write /etc/exports 2>&1) && sb_fail "damaged markers were accepted"
assert_contains "$err" "has no \"# END nfsprov\" line after it"
cmp -s /etc/exports "$S/before" || sb_fail "a refused write changed /etc/exports"

# exports.d mode: the whole file is nfsprov's, exportfs reads it next to /etc/exports
printf '%s' "$admin" > /etc/exports
echo "$entries" | "$tool" write /etc/exports.d/nfsprov.exports > /dev/null || sb_fail "exports.d write failed"
assert_eq "$(cat /etc/exports)" "$(printf '%s' "$admin")" "exports.d mode leaves /etc/exports alone"
exportfs -ra 2> "$S/ra.err" || { cat "$S/ra.err"; sb_fail "exportfs -ra rejected the exports.d file"; }
v=$(exportfs -v)
check_export "$S/NFS/NFSStorage_01" "<world>"
check_export "$S/NFS/NFSStorage_02" "10.77.0.0/24"
check_export "$S/admin" "10.1.2.0/24" "ro root_squash"
"$tool" apply > /dev/null || sb_fail "apply failed in exports.d mode"
sb_pass
