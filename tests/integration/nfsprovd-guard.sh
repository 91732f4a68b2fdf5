#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The guard's prevention with the real nfsprovd, nfsprov and qemu-img on image-backed shares:
# in mode enforce (the default) the share's root carries the immutable attribute (lsattr -d), so
# root on the server cannot create, rename or remove an entry there, while volumes stay writable
# and nfsprov's own vol-create, clone, resize, wipe and delete still work and leave the attribute
# set; create --guard, `nfsprov guard` (recorded, shown in show, list, the API and /metrics);
# bad modes refused with one line and nothing changed; the attribute lifted by hand (chattr -i)
# is set again by reconcile; a crash between recording a mode and applying it is finished by
# reconcile at restart. (NFS clients through NFS-Ganesha, and detection: later tests.)
. "$NP_TOP_SRCDIR/tests/integration/nfsprovd-lib.sh"
sb_require_cmd qemu-img qemu-utils
sb_require_cmd qemu-io qemu-utils
sb_require_cmd lsattr e2fsprogs
sb_require_cmd chattr e2fsprogs

write_config
start_daemon
np create G --size 128M > /dev/null || { cat "$S/nfsprovd.log"; sb_fail "create G failed"; }
G=$BASE/G
immutable() { lsattr -d "$1" | cut -d' ' -f1 | grep -q i; }
guard_json() { np --json show "$1" | jq -c '.guard | {mode, active, protected}'; }

# ---- enforce, the default ----
immutable "$G" || sb_fail "the root of G is not immutable in mode enforce: $(lsattr -d "$G")"
assert_eq "$(guard_json G)" '{"mode":"enforce","active":"enforce","protected":true}' "G's guard in the API"
assert_contains "$(np show G)" "guard:        enforce (root immutable: yes)" "show G"
assert_contains "$(np list | grep '^G ')" " enforce " "list: G's guard"
for make in "touch $G/foreign" "mkdir $G/dir" "ln -s /etc $G/link" "mkfifo $G/fifo" "mv $G/lost+found $G/lf"; do
    err=$($make 2>&1) && sb_fail "root could run '$make' in an enforced share"
    assert_contains "$err" "Operation not permitted" "$make"
done
assert_eq "$(ls -A "$G")" "lost+found" "G's root after the refused changes"

# nfsprov's own volume operations work and leave the attribute set
np vol-create G vm1 --capacity 64M > /dev/null || { tail -5 "$S/nfsprovd.log"; sb_fail "vol-create in an enforced share"; }
immutable "$G" || sb_fail "vol-create left the root mutable"
qemu-io -f qcow2 -c 'write -P 0x5a 0 1M' "$G/vm1" > /dev/null || sb_fail "writing into a volume of an enforced share"
assert_contains "$(qemu-io -f qcow2 -c 'read -P 0x5a 0 1M' "$G/vm1")" "read 1048576/1048576" "the volume's data"
chown nobody "$G/vm1" || sb_fail "chown of a volume (as libvirt does) in an enforced share"
np vol-clone G vm1 vm2 > /dev/null || sb_fail "vol-clone in an enforced share"
np vol-clone G vm1 vm3 --linked > /dev/null || sb_fail "linked vol-clone in an enforced share"
np vol-resize G vm2 --capacity 96M > /dev/null || sb_fail "vol-resize in an enforced share"
np vol-wipe G vm2 > /dev/null || sb_fail "vol-wipe in an enforced share"
np vol-delete G vm3 > /dev/null || sb_fail "vol-delete in an enforced share"
immutable "$G" || sb_fail "the volume operations left the root mutable"
assert_eq "$(ls -A "$G" | sort | tr '\n' ' ')" "lost+found vm1 vm2 " "G's root after the volume operations"

# ---- bad modes: one line, nothing changed ----
err=$(np guard G strict 2>&1); rc=$?
assert_eq "$rc" 2 "nfsprov guard G strict: exit status"
assert_eq "$err" 'nfsprov: "strict" is not a guard mode; allowed: enforce, detect or off' "nfsprov guard G strict"
err=$(np create Bad --size 32M --guard Enforce 2>&1); rc=$?
assert_eq "$rc" 2 "create --guard Enforce: exit status"
assert_contains "$err" '"Enforce" is not a guard mode; allowed: enforce, detect or off' "create --guard Enforce"
code=$(curl -s -o "$S/out.json" -w '%{http_code}' --unix-socket "$SOCK" -X POST -H 'Content-Type: application/json' \
    -d '{"mode": 1}' http://localhost/v1/shares/G/guard)
assert_eq "$code" 400 "POST guard with a number"
assert_eq "$(jq -r .error.message "$S/out.json")" '"mode" must be a string' "POST guard with a number"
code=$(curl -s -o "$S/out.json" -w '%{http_code}' --unix-socket "$SOCK" -X POST -H 'Content-Type: application/json' \
    -d '{"name":"Bad","size":"32M","guard":"none"}' http://localhost/v1/shares)
assert_eq "$code" 400 "create with guard none"
assert_contains "$(np --json list | jq -r '.shares[].name' | tr '\n' ' ')" "G " "shares after the refusals"
assert_not_contains "$(np --json list | jq -r '.shares[].name' | tr '\n' ' ')" "Bad" "shares after the refusals"
[ -e "$BASE/Bad" ] && sb_fail "a refused create left $BASE/Bad"
immutable "$G" || sb_fail "a refused guard change touched the attribute"

# ---- nfsprov guard: detect, off, enforce ----
out=$(np guard G detect) || sb_fail "nfsprov guard G detect: $out"
assert_eq "$out" "guard of G: detect" "nfsprov guard G detect"
immutable "$G" && sb_fail "mode detect left the root immutable"
touch "$G/foreign" || sb_fail "creating a file in a share in mode detect"
np guard G off > /dev/null || sb_fail "nfsprov guard G off"
assert_eq "$(guard_json G)" '{"mode":"off","active":"off","protected":false}' "G's guard after guard off"
rm "$G/foreign"
out=$(np guard G enforce) || sb_fail "nfsprov guard G enforce: $out"
assert_eq "$out" "guard of G: enforce (root immutable: yes)" "nfsprov guard G enforce"
immutable "$G" || sb_fail "guard enforce did not set the attribute"

# ---- create --guard ----
np create D --size 32M --guard detect > /dev/null || sb_fail "create D --guard detect"
immutable "$BASE/D" && sb_fail "a share created with --guard detect is immutable"
assert_eq "$(np --json show D | jq -r .guard.mode)" detect "D's guard"

# ---- /metrics ----
metrics=$(curl -sf --unix-socket "$SOCK" http://localhost/metrics) || sb_fail "GET /metrics"
assert_contains "$metrics" 'nfsprov_guard_mode{share="G",mode="enforce"} 1' "metrics: G enforce"
assert_contains "$metrics" 'nfsprov_guard_mode{share="D",mode="detect"} 1' "metrics: D detect"
assert_contains "$metrics" 'nfsprov_guard_mode{share="D",mode="enforce"} 0' "metrics: D not enforce"
assert_contains "$metrics" 'nfsprov_guard_active{share="G",mode="enforce"} 1' "metrics: G runs enforce"

# ---- the attribute lifted by hand: reconcile sets it again ----
chattr -i "$G"
out=$(np reconcile) || sb_fail "reconcile: $out"
assert_contains "$out" "G: set the immutable attribute of its root (guard enforce)" "reconcile's report"
immutable "$G" || sb_fail "reconcile did not set the attribute again"
out=$(np reconcile) || sb_fail "reconcile: $out"
assert_not_contains "$out" "immutable attribute" "a second reconcile"

# ---- a crash after the mode is recorded, before the attribute follows ----
stop_daemon
NFSPROV_FAULT=guard:guard start_daemon
np guard G off > /dev/null 2>&1
wait_daemon_dead
grep -q "NFSPROV_FAULT=guard:guard" "$S/nfsprovd.log" || { tail -5 "$S/nfsprovd.log"; sb_fail "fault point guard:guard not reached"; }
immutable "$G" || sb_fail "the crash at guard:guard happened after the attribute changed"
start_daemon
immutable "$G" && sb_fail "the restart's reconcile did not finish the guard change (mode off recorded)"
assert_eq "$(np --json show G | jq -r .guard.mode)" off "G's guard after the crash and restart"

# ---- volumes kept G from being deleted; delete works once they are gone ----
np guard G enforce > /dev/null
np vol-delete G vm1 > /dev/null && np vol-delete G vm2 > /dev/null || sb_fail "vol-delete before delete"
np delete G > /dev/null || { tail -5 "$S/nfsprovd.log"; sb_fail "delete of an enforced, empty share"; }
assert_share_gone G
np delete D > /dev/null || sb_fail "delete D"
sb_pass "enforce (root immutable, volumes writable, nfsprov's operations work), guard modes, refusals, metrics, reconcile and a crash"
