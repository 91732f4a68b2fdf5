#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# nfsprov-client and drift, on private libvirtd daemons (tests/integration/libvirtd-lib.sh) and
# two real nfsprovd in the sandbox (server 1: eight shares; server 2: one share named like one
# of server 1's, defined differently).
# Host A, conflicts, never touched: a pool of the same name with another uuid, a pool with the
# server's uuid under another name, another pool on the same HOST:DIR (all three defined with
# virsh beforehand: their XML stays byte for byte), and a name two servers define differently;
# exit 1; a dry run and a second sync change nothing.
# Host B, drift: an inactive pool is started, autostart off is turned on; a target unmounted
# behind libvirt's back is found by verify (Mounted FAIL), reported by sync, restarted by
# sync --fix; a pool whose definition has another source is reported as drift and left alone
# without --fix, redefined and restarted with it; a dry run changes nothing; then verify passes
# and a second sync has nothing to do. Then the server's own definitions change (its address
# moves, SIGHUP): drift on all eight without --fix, redefine + restart with it, mounted from the
# new address.
. "$NP_TOP_SRCDIR/tests/integration/nfsprovd-lib.sh"
sb_require_cmd curl curl
. "$NP_TOP_SRCDIR/tests/integration/libvirtd-lib.sh"
[ -x "$NFSPROV_CLIENT" ] || sb_fail "$NFSPROV_CLIENT is not built"

SHARES="C_Dir C_Name C_Uuid D_Auto D_Src D_Stop D_Umount Dup"
lv_server $SHARES

# server 2: its own state, socket, base, images, fstab and exports file (/etc/exports.d is the
# sandbox's); one share "Dup", which server 1 has too (another uuid, another source dir)
PORT2=$(lv_free_port)
SERVER2=http://127.0.0.1:$PORT2
CONF2=$S/nfsprov2.conf
: > "$S/fstab2"
cat > "$CONF2" <<EOT
[server]
address = 127.0.0.1
listen = 127.0.0.1:$PORT2
state_dir = $S/state2
socket = $S/run2/nfsprovd.sock
[shares]
base = $S/NFS2
backend = image
image_dir = $S/images2
clients = *
[exports]
file = /etc/exports.d/nfsprov-second.exports
[pools]
target_base = $TARGETS
[system]
fstab = $S/fstab2
nfs_conf = /etc/nfs.conf
EOT
"$NFSPROVD" --config "$CONF2" >> "$S/nfsprovd2.log" 2>&1 &
DAEMON2_PID=$!
sb_track_pid "$DAEMON2_PID"
for _ in $(seq 500); do
    "$NFSPROV_BIN" --config "$CONF2" list > /dev/null 2>&1 && break
    kill -0 "$DAEMON2_PID" 2>/dev/null || { cat "$S/nfsprovd2.log"; sb_fail "second nfsprovd exited at start"; }
    sleep 0.02
done
"$NFSPROV_BIN" --config "$CONF2" create Dup --size 32M > "$S/out" 2>&1 || { cat "$S/out" "$S/nfsprovd2.log"; sb_fail "create Dup on server 2 failed"; }

curl -sf "$SERVER/v1/pools" -o "$S/pools.json" || sb_fail "GET $SERVER/v1/pools failed"
curl -sf "$SERVER2/v1/pools" -o "$S/pools2.json" || sb_fail "GET $SERVER2/v1/pools failed"
assert_eq "$(jq -r '[.pools[].name] | sort | join(" ")' "$S/pools.json")" "$SHARES" "pools of server 1"
assert_eq "$(jq -r '[.pools[].name] | join(" ")' "$S/pools2.json")" "Dup" "pools of server 2"
[ "$(lv_server_def "$S/pools.json" Dup)" != "$(lv_server_def "$S/pools2.json" Dup)" ] || sb_fail "the two servers define Dup the same way"
uuid_of() { lv_server_def "$S/pools.json" "$1" | cut -d' ' -f2; }

# netfs_xml NAME UUID DIR TARGET: a pool definition of someone else's
netfs_xml() {
    cat <<EOT
<pool type='netfs'>
  <name>$1</name>
  <uuid>$2</uuid>
  <source>
    <host name='127.0.0.1'/>
    <dir path='$3'/>
    <format type='nfs'/>
  </source>
  <target>
    <path>$4</path>
  </target>
</pool>
EOT
}
new_uuid() { cat /proc/sys/kernel/random/uuid; }

# ============ host A: conflicts (servers 1 and 2) ============
lv_start A > /dev/null || exit 1
mkdir -p "$S/foreign/name" "$S/foreign/uuid"
U_NAME=$(new_uuid)
netfs_xml C_Name "$U_NAME" "$S/foreign/name" "$S/foreign-t/name" > "$S/c_name.xml"
netfs_xml Someone_Else "$(uuid_of C_Uuid)" "$S/foreign/uuid" "$S/foreign-t/uuid" > "$S/c_uuid.xml"
netfs_xml Squatter "$(new_uuid)" "$BASE/C_Dir" "$S/foreign-t/dir" > "$S/c_dir.xml"
for f in c_name c_uuid c_dir; do
    lv_virsh A pool-define "$S/$f.xml" > "$S/out" 2>&1 || { cat "$S/out"; sb_fail "pool-define $f.xml on A failed"; }
done
foreign() {   # the foreign pools' files, bytes and mtimes, and libvirt's view of them
    local etc n
    etc=$(lv_etc A)
    for n in C_Name Someone_Else Squatter; do
        echo "$n: $(stat -c '%s %y' "$etc/storage/$n.xml") $(sha256sum < "$etc/storage/$n.xml")"
        lv_virsh A pool-dumpxml --inactive "$n"
        lv_virsh A pool-info "$n" | grep -E '^(UUID|State|Autostart):'
    done
    find "$etc/storage/autostart" -name 'C_Name*' -o -name 'Someone_Else*' -o -name 'Squatter*' 2>/dev/null | sort
}
foreign_before=$(foreign)

both=(--server "$SERVER" --server "$SERVER2")
lv_run A "${both[@]}" sync
lv_expect_rc 1 "sync with conflicts on A"
out=$LV_OUT
# the contract's example line, "NAME: conflict: a pool named NAME already exists on this host with
# uuid U (server's uuid V)": its wording up to U, and V somewhere after it
line=$(grep '^C_Name: ' <<< "$out")
assert_contains "$line" "C_Name: conflict: a pool named C_Name already exists on this host with uuid $U_NAME " "sync on A: the line of C_Name"
assert_contains "$line" "$(uuid_of C_Name)" "sync on A: the line of C_Name names the server's uuid"
for c in "C_Uuid:Someone_Else" "C_Dir:Squatter" "Dup:"; do
    n=${c%%:*} other=${c#*:}
    line=$(grep "^$n: " <<< "$out")
    assert_contains "$line" "$n: conflict: " "sync on A: the line of $n"
    [ -z "$other" ] || assert_contains "$line" "$other" "sync on A: the conflict of $n names the pool in the way"
done
for n in D_Auto D_Src D_Stop D_Umount; do lv_expect_line "$out" "$n: define, autostart, build, start" "sync on A"; done
assert_eq "$(tail -1 <<< "$out")" "sync: 8 pools: 4 changed, 0 in sync, 0 drift, 4 conflicts, 0 failed" "sync on A: summary"
assert_eq "$(foreign)" "$foreign_before" "sync on A touched the pools in the way"
assert_eq "$(lv_virsh A pool-list --all --name | awk "{print \$1}" | sort | tr '\n' ' ')" "C_Name D_Auto D_Src D_Stop D_Umount Someone_Else Squatter " "pools on A after the sync"
for n in C_Uuid C_Dir Dup; do
    [ -e "$(lv_etc A)/storage/$n.xml" ] && sb_fail "sync on A defined the conflicting pool $n"
done
for n in D_Auto D_Src D_Stop D_Umount; do
    assert_eq "$(lv_pool_def A "$n")" "$(lv_server_def "$S/pools.json" "$n")" "$n on A"
    assert_eq "$(lv_pool_info A "$n" State)" running "$n on A: state"
done

# JSON: the four conflicts, no actions
lv_run A "${both[@]}" sync --json
lv_expect_rc 1 "sync --json with conflicts on A"
j=$LV_OUT
assert_eq "$(jq -c '[.pools[] | select(.status == "conflict") | .name] | sort' <<< "$j")" '["C_Dir","C_Name","C_Uuid","Dup"]' "sync --json on A: conflicts"
assert_eq "$(jq -c '[.pools[] | select(.status == "conflict") | .actions // [] | length] | add' <<< "$j")" 0 "sync --json on A: actions of conflicts"
assert_eq "$(jq -c ".summary | {pools, changed, in_sync, drift, conflict, failed}" <<< "$j")" '{"pools":8,"changed":0,"in_sync":4,"drift":0,"conflict":4,"failed":0}' "sync --json on A: summary"

# verify: the conflicts fail, the rest passes
lv_run A "${both[@]}" verify
lv_expect_rc 1 "verify with conflicts on A"
for n in C_Dir C_Name C_Uuid Dup; do
    assert_eq "$(awk -v n="$n" '$1 == n {print $NF}' <<< "$LV_OUT")" FAIL "verify on A: verdict of $n"
done
for n in D_Auto D_Src D_Stop D_Umount; do
    assert_eq "$(awk -v n="$n" '$1 == n {print $NF}' <<< "$LV_OUT")" OK "verify on A: verdict of $n"
done
assert_eq "$(awk '$1 == "C_Name" {print $6}' <<< "$LV_OUT")" FAIL "verify on A: UUID check of C_Name"
lv_run A "${both[@]}" verify --json
lv_expect_rc 1 "verify --json with conflicts on A"
assert_eq "$(jq -r .ok <<< "$LV_OUT")" false "verify --json on A: ok"
assert_eq "$(jq -c '.pools[] | select(.name == "C_Name") | [.checks.defined, .checks.uuid]' <<< "$LV_OUT")" '[true,false]' "verify --json on A: C_Name"
assert_eq "$(jq -c '.pools[] | select(.name == "Dup") | [.state, .checks.defined]' <<< "$LV_OUT")" '["undefined",false]' "verify --json on A: Dup"

# a dry run (even with --fix) and a second sync change nothing
snap=$(lv_snapshot A)
sleep 0.01
lv_run A "${both[@]}" sync --dry-run --fix
case "$LV_RC" in 0|1) ;; *) lv_expect_rc 1 "sync --dry-run --fix on A";; esac
assert_eq "$(lv_snapshot A)" "$snap" "sync --dry-run --fix on A changed the host"
lv_run A "${both[@]}" sync
lv_expect_rc 1 "second sync on A"
assert_eq "$(tail -1 <<< "$LV_OUT")" "sync: 8 pools: 0 changed, 4 in sync, 0 drift, 4 conflicts, 0 failed" "second sync on A: summary"
assert_eq "$(grep -vc ': conflict: ' <<< "$LV_OUT")" 1 "second sync on A: lines other than the conflicts and the summary"
assert_eq "$(lv_snapshot A)" "$snap" "second sync on A changed the host"
lv_run A "${both[@]}" sync --fix
lv_expect_rc 1 "sync --fix with conflicts on A"
assert_eq "$(lv_snapshot A)" "$snap" "sync --fix on A touched a conflict"
lv_stop A

# ============ host B: drift (server 1) ============
lv_start B > /dev/null || exit 1
lv_run B --server "$SERVER" sync
lv_expect_rc 0 "first sync on B"
assert_eq "$(tail -1 <<< "$LV_OUT")" "sync: 8 pools: 8 changed, 0 in sync, 0 drift, 0 conflicts, 0 failed" "first sync on B: summary"

# the drift: stopped, autostart off, unmounted behind libvirt's back, another source
lv_virsh B pool-destroy D_Stop > /dev/null || sb_fail "pool-destroy D_Stop failed"
lv_virsh B pool-autostart --disable D_Auto > /dev/null || sb_fail "pool-autostart --disable D_Auto failed"
lv_in B umount "$TARGETS/D_Umount" || sb_fail "umount of D_Umount's target in B's namespace failed"
assert_eq "$(lv_pool_info B D_Umount State)" running "D_Umount: libvirt still says running"
assert_eq "$(lv_mnt_source B "$TARGETS/D_Umount")" "" "D_Umount's target after umount"
mkdir -p "$S/old-src"
echo old > "$S/old-src/old-only.img"
lv_virsh B pool-destroy D_Src > /dev/null || sb_fail "pool-destroy D_Src failed"
lv_virsh B pool-dumpxml --inactive D_Src | sed "s|<dir path='[^']*'/>|<dir path='$S/old-src'/>|" > "$S/d_src_old.xml"
assert_contains "$(cat "$S/d_src_old.xml")" "<dir path='$S/old-src'/>" "D_Src's changed definition"
lv_virsh B pool-define "$S/d_src_old.xml" > /dev/null || sb_fail "redefining D_Src with another source failed"
lv_virsh B pool-start D_Src > "$S/out" 2>&1 || { cat "$S/out"; sb_fail "starting D_Src with the old source failed"; }
assert_eq "$(lv_mnt_source B "$TARGETS/D_Src")" "127.0.0.1:$S/old-src" "D_Src runs with the old source"
assert_eq "$(lv_pool_info B D_Src Autostart)" yes "D_Src keeps autostart across the redefinition"

# verify finds all four
lv_run B --server "$SERVER" verify
lv_expect_rc 1 "verify with drift on B"
out=$LV_OUT
row() { lv_words "$(awk -v n="$1" '$1 == n' <<< "$out")"; }
VOLS=$(lv_volumes_state "$S/pools.json")   # ok, or unknown (a server without volumes)
assert_eq "$(row D_Stop)" "D_Stop inactive yes yes ok ok ok ok ok FAIL - FAIL" "verify: row of D_Stop"
assert_eq "$(row D_Auto)" "D_Auto active no yes ok ok ok ok ok ok $VOLS FAIL" "verify: row of D_Auto"
assert_eq "$(row D_Umount)" "D_Umount active yes yes ok ok ok ok ok FAIL $VOLS FAIL" "verify: row of D_Umount (Mounted FAIL)"
assert_eq "$(row D_Src | awk '{print $2, $3, $8, $NF}')" "active yes FAIL FAIL" "verify: row of D_Src (Source FAIL)"
for n in C_Dir C_Name C_Uuid Dup; do assert_eq "$(row "$n" | awk '{print $NF}')" OK "verify: verdict of $n"; done
lv_expect_line "$out" "D_Stop: not active" "verify on B"
for n in D_Auto D_Umount D_Src; do grep -q "^$n: " <<< "$out" || sb_fail "verify on B: no line naming the failed check of $n:
$out"; done
lv_run B --server "$SERVER" --json verify
lv_expect_rc 1 "verify --json with drift on B"
j=$LV_OUT
assert_eq "$(jq -r .ok <<< "$j")" false "verify --json on B: ok"
chk() { jq -c --arg n "$1" ".pools[] | select(.name == \$n) | $2" <<< "$j"; }
# the contract's JSON example: an inactive pool has "active":false,"mounted":false
assert_eq "$(chk D_Stop '[.state, .checks.active, .checks.mounted]')" '["inactive",false,false]' "verify --json: D_Stop"
assert_eq "$(chk D_Auto '[.autostart, .checks.autostart, .checks.active]')" '[false,false,true]' "verify --json: D_Auto"
assert_eq "$(chk D_Umount '[.state, .checks.active, .checks.mounted, .verdict]')" '["active",true,false,"FAIL"]' "verify --json: D_Umount"
assert_eq "$(chk D_Src '[.state, .checks.source, .checks.uuid, .verdict]')" '["active",false,true,"FAIL"]' "verify --json: D_Src"

# a dry run, even with --fix, plans and changes nothing
snap=$(lv_snapshot B)
d_src_file=$(stat -c '%s %y' "$(lv_etc B)/storage/D_Src.xml")$(sha256sum < "$(lv_etc B)/storage/D_Src.xml")
sleep 0.01
lv_run B --server "$SERVER" sync --dry-run --fix
case "$LV_RC" in 0|1) ;; *) lv_expect_rc 1 "sync --dry-run --fix on B";; esac
lv_expect_line "$LV_OUT" "D_Stop: would start" "sync --dry-run --fix on B"
lv_expect_line "$LV_OUT" "D_Auto: would autostart" "sync --dry-run --fix on B"
lv_expect_line "$LV_OUT" "D_Umount: would restart" "sync --dry-run --fix on B"
lv_expect_line "$LV_OUT" "D_Src: would redefine, restart" "sync --dry-run --fix on B"
assert_eq "$(lv_snapshot B)" "$snap" "sync --dry-run --fix on B changed the host"

# sync without --fix: starts, autostarts; reports the unmounted target and the drift, leaves them
lv_run B --server "$SERVER" sync
lv_expect_rc 1 "sync without --fix on B"
out=$LV_OUT
lv_expect_line "$out" "D_Stop: start" "sync on B"
lv_expect_line "$out" "D_Auto: autostart" "sync on B"
# the contract's example: "NAME: drift: source: server has X, host has Y (run sync --fix to redefine)"
line=$(grep '^D_Src: ' <<< "$out")
assert_contains "$line" "D_Src: drift: source: server has $BASE/D_Src, host has $S/old-src" "sync on B: the line of D_Src"
assert_contains "$line" "sync --fix" "sync on B: the line of D_Src says how to fix it"
line=$(grep '^D_Umount: ' <<< "$out")
assert_contains "$line" "mounted" "sync on B: the line of D_Umount"
assert_eq "$(tail -1 <<< "$out")" "sync: 8 pools: 2 changed, 4 in sync, 2 drift, 0 conflicts, 0 failed" "sync on B: summary"
assert_eq "$(lv_pool_info B D_Stop State)" running "D_Stop after sync"
assert_eq "$(lv_mnt_source B "$TARGETS/D_Stop")" "127.0.0.1:$BASE/D_Stop" "D_Stop mounted after sync"
assert_eq "$(lv_pool_info B D_Auto Autostart)" yes "D_Auto after sync"
assert_eq "$(lv_mnt_source B "$TARGETS/D_Umount")" "" "sync without --fix remounted D_Umount"
assert_eq "$(stat -c '%s %y' "$(lv_etc B)/storage/D_Src.xml")$(sha256sum < "$(lv_etc B)/storage/D_Src.xml")" "$d_src_file" "sync without --fix touched storage/D_Src.xml"
assert_eq "$(lv_mnt_source B "$TARGETS/D_Src")" "127.0.0.1:$S/old-src" "sync without --fix restarted D_Src"
lv_run B --server "$SERVER" verify
lv_expect_rc 1 "verify after sync without --fix"

# sync --fix: restarts the unmounted pool, redefines and restarts the drifted one
lv_run B --server "$SERVER" sync --fix
lv_expect_rc 0 "sync --fix on B"
lv_expect_line "$LV_OUT" "D_Umount: restart" "sync --fix on B"
lv_expect_line "$LV_OUT" "D_Src: redefine, restart" "sync --fix on B"
assert_eq "$(tail -1 <<< "$LV_OUT")" "sync: 8 pools: 2 changed, 6 in sync, 0 drift, 0 conflicts, 0 failed" "sync --fix on B: summary"
assert_eq "$(lv_mnt_source B "$TARGETS/D_Umount")" "127.0.0.1:$BASE/D_Umount" "D_Umount mounted after sync --fix"
assert_eq "$(lv_pool_def B D_Src)" "$(lv_server_def "$S/pools.json" D_Src)" "D_Src's definition after sync --fix"
assert_contains "$(cat "$(lv_etc B)/storage/D_Src.xml")" "<dir path='$BASE/D_Src'/>" "storage/D_Src.xml after sync --fix"
assert_contains "$(lv_virsh B pool-dumpxml D_Src)" "<dir path='$BASE/D_Src'/>" "D_Src's running definition after sync --fix"
assert_eq "$(lv_pool_info B D_Src State) $(lv_pool_info B D_Src Autostart)" "running yes" "D_Src after sync --fix"
assert_eq "$(lv_mnt_source B "$TARGETS/D_Src")" "127.0.0.1:$BASE/D_Src" "D_Src mounted with the server's source"
lv_in B test -e "$TARGETS/D_Src/old-only.img" && sb_fail "D_Src still shows the old source's files"

lv_run B --server "$SERVER" verify --json
lv_expect_rc 0 "verify after sync --fix"
assert_eq "$(jq -c '[.ok, ([.pools[].verdict] | unique)]' <<< "$LV_OUT")" '[true,["OK"]]' "verify --json after sync --fix"
snap=$(lv_snapshot B)
sleep 0.01
lv_run B --server "$SERVER" sync
lv_expect_rc 0 "second sync on B"
assert_eq "$LV_OUT" "sync: nothing to do, 8 pools in sync" "second sync on B"
assert_eq "$(lv_snapshot B)" "$snap" "second sync on B changed the host"

# ============ host B: the server's definitions change (the server moves to another address) ============
# A real server-side change: [server] address goes from 127.0.0.1 to 10.77.9.1 (held by a bridge
# this test creates, so libnl finds it local) and nfsprovd re-reads its configuration on SIGHUP.
# Every pool's <source><host> changes on the server; the pools on B still mount 127.0.0.1:DIR.
NEWADDR=10.77.9.1
BR=npcd$$
cleanup_net() { ip link del "$BR" 2>/dev/null; }
trap cleanup_net EXIT
ip link add "$BR" type bridge || sb_fail "cannot create a bridge for the server's new address"
ip addr add "$NEWADDR/32" dev "$BR" || sb_fail "cannot add $NEWADDR to $BR"
sed -i "s|^address = .*|address = $NEWADDR|" "$CONF"
kill -HUP "$DAEMON_PID"
for _ in $(seq 200); do
    [ "$(curl -s "$SERVER/v1/pools" | jq -r '[.pools[].host] | unique | join(" ")')" = "$NEWADDR" ] && break
    sleep 0.05
done
curl -sf "$SERVER/v1/pools" -o "$S/pools2.json" || sb_fail "GET /v1/pools after SIGHUP failed"
assert_eq "$(jq -r '[.pools[].host] | unique | join(" ")' "$S/pools2.json")" "$NEWADDR" "pool hosts after the server moved"

snap=$(lv_snapshot B)
sleep 0.01
lv_run B --server "$SERVER" sync
lv_expect_rc 1 "sync on B after the server moved, without --fix"
assert_eq "$(tail -1 <<< "$LV_OUT")" "sync: 8 pools: 0 changed, 0 in sync, 8 drift, 0 conflicts, 0 failed" "sync after the server moved: summary"
line=$(grep '^D_Stop: ' <<< "$LV_OUT")
assert_contains "$line" "D_Stop: drift: host: server has $NEWADDR, host has 127.0.0.1" "sync after the server moved: the line of D_Stop"
assert_eq "$(lv_snapshot B)" "$snap" "sync without --fix after the server moved changed the host"
lv_run B --server "$SERVER" verify
lv_expect_rc 1 "verify after the server moved"
assert_eq "$(lv_words "$(awk '$1 == "D_Stop"' <<< "$LV_OUT")")" "D_Stop active yes yes ok ok FAIL ok ok FAIL $VOLS FAIL" "verify after the server moved: row of D_Stop (Host FAIL)"

lv_run B --server "$SERVER" sync --fix
lv_expect_rc 0 "sync --fix on B after the server moved"
for n in $SHARES; do lv_expect_line "$LV_OUT" "$n: redefine, restart" "sync --fix after the server moved"; done
for n in $SHARES; do
    assert_eq "$(lv_pool_def B "$n")" "$(lv_server_def "$S/pools2.json" "$n")" "$n's definition after the server moved and sync --fix"
    assert_eq "$(lv_mnt_source B "$TARGETS/$n")" "$NEWADDR:$BASE/$n" "$n mounted from the server's new address"
done
lv_run B --server "$SERVER" verify
lv_expect_rc 0 "verify after sync --fix, server moved"
lv_run B --server "$SERVER" sync
assert_eq "$LV_OUT" "sync: nothing to do, 8 pools in sync" "sync again after the server moved"

lv_stop_all
kill -TERM "$DAEMON2_PID"; wait "$DAEMON2_PID" 2>/dev/null
stop_daemon
sb_pass
