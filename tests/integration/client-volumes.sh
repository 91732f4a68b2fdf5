#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# KVM hosts see the share's volumes: volumes made with `nfsprov vol-create` on a real nfsprovd are
# listed by libvirt on a private libvirtd host (libvirtd-lib.sh) after `nfsprov-client sync`, with
# libvirt's own capacity equal to the virtual size and format qcow2; `verify`'s Volumes check
# passes, then fails (naming the volume) when a volume is added on the server, until the next
# sync refreshes the pool; `volumes` shows libvirt's view beside the server's (text and JSON);
# a file nfsprov did not make is named as not on the server.
# Skipped whole while this build's nfsprov has no vol-create (the server's volumes come in
# another change).
. "$NP_TOP_SRCDIR/tests/integration/nfsprovd-lib.sh"
sb_require_cmd curl curl
"$NFSPROV_BIN" --help 2>&1 | grep -qw vol-create || sb_skip "nfsprov vol-create is not available in this build"
. "$NP_TOP_SRCDIR/tests/integration/libvirtd-lib.sh"
[ -x "$NFSPROV_CLIENT" ] || sb_fail "$NFSPROV_CLIENT is not built"

GIB=1073741824
# thin volumes of GiBs on a 32 MiB share: over-commit without a limit
LV_CONF_EXTRA=$'[volumes]\nmax_overcommit = 0'
lv_server Vols
vol_create() { np vol-create Vols "$1" --capacity "$2" > "$S/out" 2>&1 || { cat "$S/out" "$S/nfsprovd.log"; sb_fail "vol-create $1 failed"; }; }
vol_create vm1.qcow2 1G
vol_create vm2.qcow2 2G
curl -sf "$SERVER/v1/pools" -o "$S/pools.json" || sb_fail "GET $SERVER/v1/pools failed"
assert_eq "$(jq -c '.pools[] | select(.name == "Vols") | [.volumes[] | [.name, .capacity, .format]]' "$S/pools.json")" \
    "[[\"vm1.qcow2\",$GIB,\"qcow2\"],[\"vm2.qcow2\",$((2 * GIB)),\"qcow2\"]]" "GET /v1/pools: the share's volumes"

lv_start A > /dev/null || exit 1
lv_run A --server "$SERVER" sync
lv_expect_rc 0 "sync on A"
assert_eq "$(lv_virsh A vol-list Vols | awk '{print $1}' | grep -v '^lost+found$' | sort | tr '\n' ' ')" "vm1.qcow2 vm2.qcow2 " "libvirt's volumes of Vols after sync"
for v in vm1.qcow2:$GIB vm2.qcow2:$((2 * GIB)); do
    n=${v%%:*} cap=${v#*:}
    assert_eq "$(lv_virsh A vol-info --bytes --pool Vols "$n" | awk '$1 == "Capacity:" {print $2}')" "$cap" "libvirt's capacity of $n"
    assert_contains "$(lv_virsh A vol-dumpxml --pool Vols "$n")" "<format type='qcow2'/>" "libvirt's format of $n"
done

lv_run A --server "$SERVER" verify
lv_expect_rc 0 "verify on A"
assert_eq "$(lv_words "$(awk '$1 == "Vols"' <<< "$LV_OUT")")" "Vols active yes yes ok ok ok ok ok ok ok OK" "verify on A: row of Vols"
lv_run A --server "$SERVER" volumes
lv_expect_rc 0 "volumes on A"
assert_eq "$(lv_words "$(head -1 <<< "$LV_OUT")")" "Pool Volume Server capacity Libvirt capacity Allocation Format State" "volumes: header"
assert_eq "$(awk '$1 == "Vols" && $2 == "vm1.qcow2" {print $3, $4, $6, $7}' <<< "$LV_OUT")" "$GIB $GIB qcow2 ok" "volumes: row of vm1.qcow2"

# a volume made on the server: verify fails, naming it, until the next sync refreshes the pool
vol_create vm3.qcow2 1G
lv_run A --server "$SERVER" verify
lv_expect_rc 1 "verify after vol-create vm3.qcow2"
assert_eq "$(awk '$1 == "Vols" {print $(NF-1), $NF}' <<< "$LV_OUT")" "FAIL FAIL" "verify: Volumes and verdict of Vols"
lv_expect_line "$LV_OUT" "Vols: volume vm3.qcow2 is on the server but libvirt does not list it" "verify after vol-create"
lv_run A --server "$SERVER" --json verify
assert_eq "$(jq -c '.pools[] | select(.name == "Vols") | .checks.volumes' <<< "$LV_OUT")" false "verify --json: checks.volumes"
lv_run A --server "$SERVER" volumes Vols --json
lv_expect_rc 1 "volumes Vols --json"
assert_eq "$(jq -c '.pools[0].volumes | map([.name, .state])' <<< "$LV_OUT")" \
    '[["vm1.qcow2","ok"],["vm2.qcow2","ok"],["vm3.qcow2","missing on host"]]' "volumes --json after vol-create"
lv_run A --server "$SERVER" sync
lv_expect_rc 0 "sync after vol-create"
assert_eq "$LV_OUT" "sync: nothing to do, 1 pools in sync" "sync after vol-create: a refresh is not a change"
lv_run A --server "$SERVER" verify
lv_expect_rc 0 "verify after the sync"
assert_contains "$(lv_virsh A vol-list Vols)" vm3.qcow2 "libvirt lists vm3.qcow2 after sync"

# a file nfsprov did not make is named as not on the server (planted as an admin could: the
# share's root is immutable in mode enforce, lifted by hand)
chattr -i "$BASE/Vols" && echo "not a volume" > "$BASE/Vols/foreign.img" && chattr +i "$BASE/Vols" ||
    sb_fail "cannot plant $BASE/Vols/foreign.img"
lv_run A --server "$SERVER" sync
lv_run A --server "$SERVER" verify
lv_expect_rc 1 "verify with a foreign file"
lv_expect_line "$LV_OUT" "Vols: volume foreign.img is listed by libvirt but not on the server" "verify with a foreign file"
chattr -i "$BASE/Vols" && rm -f "$BASE/Vols/foreign.img" && chattr +i "$BASE/Vols" || sb_fail "cannot remove foreign.img"

lv_stop_all
stop_daemon
sb_pass
