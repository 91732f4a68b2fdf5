#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# nfsprov-client against its CLI contract, on "KVM hosts" that are private libvirtd daemons
# (tests/integration/libvirtd-lib.sh) and a real nfsprovd (image backend, TCP listener on
# 127.0.0.1, three shares): `sync` on hosts A and B makes every pool exist with the server's
# name, uuid, host, source and target (libvirt's persistent XML compared between the hosts and
# with GET /v1/pools), persistent (storage/NAME.xml), autostarted (the link), active and mounted
# from HOST:DIR in the host's mount namespace; `verify` says OK for all (table and JSON); a second
# `sync` has nothing to do and touches nothing; `sync --dry-run` on a fresh host C plans the
# actions and changes nothing; `list` and `resources` (text and JSON; odd names rewritten, a
# duplicate gets _1, a multi-byte name skipped); on host D, which cannot reach the server's
# directory, every start fails with libvirt's own text and the pools stay defined and autostarted
# until a later sync starts them; the config file; exit statuses 2 (bad usage) and 3 (server or
# libvirt unreachable).
. "$NP_TOP_SRCDIR/tests/integration/nfsprovd-lib.sh"
sb_require_cmd curl curl
. "$NP_TOP_SRCDIR/tests/integration/libvirtd-lib.sh"
[ -x "$NFSPROV_CLIENT" ] || sb_fail "$NFSPROV_CLIENT is not built"

POOLS="NFSStorage_01 NFSStorage_02 NFSStorage_03"
lv_server $POOLS
curl -sf "$SERVER/v1/pools" -o "$S/pools.json" || sb_fail "GET $SERVER/v1/pools failed"
VOLS=$(lv_volumes_state "$S/pools.json")   # the Volumes check: ok, or unknown (a server without volumes)
if [ "$VOLS" = ok ]; then
    np vol-create NFSStorage_01 vm1.qcow2 --capacity 1M > "$S/out" 2>&1 || { cat "$S/out"; sb_fail "vol-create vm1.qcow2 failed"; }
else
    echo "a disk image" > "$BASE/NFSStorage_01/vm1.qcow2"
fi
curl -sf "$SERVER/v1/pools" -o "$S/pools.json" || sb_fail "GET $SERVER/v1/pools failed"
assert_eq "$(jq -r '[.pools[].name] | sort | join(" ")' "$S/pools.json")" "$POOLS" "pools the server offers"

lv_start A > /dev/null || exit 1
lv_start B > /dev/null || exit 1

# --- sync on A (text), on B (JSON, options after the command) ---
lv_run A --server "$SERVER" sync
lv_expect_rc 0 "sync on A"
for n in $POOLS; do lv_expect_line "$LV_OUT" "$n: define, autostart, build, start" "sync on A"; done
assert_eq "$(tail -1 <<< "$LV_OUT")" "sync: 3 pools: 3 changed, 0 in sync, 0 drift, 0 conflicts, 0 failed" "sync on A: summary"
assert_eq "$(wc -l <<< "$LV_OUT")" 4 "sync on A: lines of output"

lv_run B sync --json --server "$SERVER"
lv_expect_rc 0 "sync --json on B"
j=$LV_OUT
jq -e . <<< "$j" > /dev/null || sb_fail "sync --json on B: not JSON: $j"
assert_eq "$(jq -c '[.dry_run, .changed]' <<< "$j")" "[false,true]" "sync --json on B: dry_run, changed"
assert_eq "$(jq -c ".summary | {pools, changed, in_sync, drift, conflict, failed}" <<< "$j")" '{"pools":3,"changed":3,"in_sync":0,"drift":0,"conflict":0,"failed":0}' "sync --json on B: summary"
assert_eq "$(jq -r '[.pools[].name] | sort | join(" ")' <<< "$j")" "$POOLS" "sync --json on B: pools"
for n in $POOLS; do
    p=$(jq -c --arg n "$n" '.pools[] | select(.name == $n)' <<< "$j")
    assert_eq "$(jq -r .status <<< "$p")" changed "sync --json on B: $n status"
    assert_eq "$(jq -c .actions <<< "$p")" '["define","autostart","build","start"]' "sync --json on B: $n actions"
    assert_eq "$(jq -r .uuid <<< "$p")" "$(jq -r --arg n "$n" '.pools[] | select(.name == $n) | .uuid' "$S/pools.json")" "sync --json on B: $n uuid"
    assert_eq "$(jq -r .server <<< "$p")" "$SERVER" "sync --json on B: $n server"
    assert_eq "$(jq -c '.problems // []' <<< "$p")" "[]" "sync --json on B: $n problems"
done

# --- every pool on both hosts: as the server defines it, persistent, autostarted, active, mounted ---
for n in $POOLS; do
    want=$(lv_server_def "$S/pools.json" "$n")
    read -r _ uuid host src _ _ target <<< "$want"
    assert_eq "$target" "$TARGETS/$n" "$n target from the server"
    for h in A B; do
        assert_eq "$(lv_pool_def "$h" "$n")" "$want" "$n on $h: name uuid host source format protocol target (libvirt's XML vs GET /v1/pools)"
        etc=$(lv_etc "$h")
        [ -f "$etc/storage/$n.xml" ] || sb_fail "$n on $h: no storage/$n.xml"
        assert_contains "$(cat "$etc/storage/$n.xml")" "<uuid>$uuid</uuid>" "$n on $h: storage/$n.xml"
        [ -L "$etc/storage/autostart/$n.xml" ] || sb_fail "$n on $h: no autostart link storage/autostart/$n.xml"
        assert_eq "$(readlink "$etc/storage/autostart/$n.xml")" "/etc/libvirt/storage/$n.xml" "$n on $h: autostart link"
        assert_eq "$(lv_pool_info "$h" "$n" State)" running "$n on $h: state"
        assert_eq "$(lv_pool_info "$h" "$n" Autostart)" yes "$n on $h: autostart"
        assert_eq "$(lv_pool_info "$h" "$n" Persistent)" yes "$n on $h: persistent"
        assert_eq "$(lv_mnt_source "$h" "$target")" "$host:$src" "$n on $h: mount source of $target"
    done
    assert_eq "$(lv_pool_def A "$n")" "$(lv_pool_def B "$n")" "$n: the same definition on A and B"
done
[ -e "$TARGETS/NFSStorage_01" ] && sb_fail "a host's target dir appeared in the sandbox"
vols=$(lv_virsh B vol-list NFSStorage_01 | awk '{print $1}')
assert_contains "$vols" vm1.qcow2 "volumes of NFSStorage_01 on B (the share's files)"

# --- verify: every check ok (table and JSON) ---
lv_run A --server "$SERVER" verify
lv_expect_rc 0 "verify on A"
hdr=$(head -1 <<< "$LV_OUT")
assert_eq "$(lv_words "$hdr")" "Name State Autostart Persistent Type UUID Host Source Target Mounted Volumes Verdict" "verify: table header"
for n in $POOLS; do
    row=$(awk -v n="$n" '$1 == n' <<< "$LV_OUT")
    assert_eq "$(lv_words "$row")" "$n active yes yes ok ok ok ok ok ok $VOLS OK" "verify: row of $n"
done
assert_eq "$(grep -c ': ' <<< "$LV_OUT")" 0 "verify: lines naming a failed check"
lv_run B verify --json --server "$SERVER"
lv_expect_rc 0 "verify --json on B"
j=$LV_OUT
assert_eq "$(jq -r .ok <<< "$j")" true "verify --json: ok"
assert_eq "$(jq -r '[.pools[].name] | sort | join(" ")' <<< "$j")" "$POOLS" "verify --json: pools"
for n in $POOLS; do
    p=$(jq -c --arg n "$n" '.pools[] | select(.name == $n)' <<< "$j")
    assert_eq "$(jq -c '[.verdict, .state, .autostart, .persistent, .problems]' <<< "$p")" '["OK","active",true,true,[]]' "verify --json: $n"
    assert_eq "$(jq -c '.checks | [.defined, .persistent, .type, .uuid, .host, .source, .target, .autostart, .active, .mounted]' <<< "$p")" \
        '[true,true,true,true,true,true,true,true,true,true]' "verify --json: $n checks"
    assert_eq "$(jq -c '[.checks | del(.volumes)[] | select(. != true)]' <<< "$p")" "[]" "verify --json: $n, a check that is not true"
    assert_eq "$(jq -c '.checks.volumes' <<< "$p")" "$(lv_volumes_json "$S/pools.json")" "verify --json: $n, the Volumes check"
    assert_eq "$(jq -r .uuid <<< "$p")" "$(lv_server_def "$S/pools.json" "$n" | cut -d' ' -f2)" "verify --json: $n uuid"
    assert_eq "$(jq -r .server <<< "$p")" "$SERVER" "verify --json: $n server"
done

# --- a second sync has nothing to do and touches nothing ---
before_a=$(lv_snapshot A)
before_b=$(lv_snapshot B)
sleep 0.01   # a rewrite would get another mtime
lv_run A --server "$SERVER" sync
lv_expect_rc 0 "second sync on A"
assert_eq "$LV_OUT" "sync: nothing to do, 3 pools in sync" "second sync on A: output"
assert_eq "$(lv_snapshot A)" "$before_a" "second sync on A changed the host"
lv_run B --server "$SERVER" --json sync
lv_expect_rc 0 "second sync --json on B"
j=$LV_OUT
assert_eq "$(jq -c '[.dry_run, .changed]' <<< "$j")" "[false,false]" "second sync --json: dry_run, changed"
assert_eq "$(jq -c ".summary | {pools, changed, in_sync, drift, conflict, failed}" <<< "$j")" '{"pools":3,"changed":0,"in_sync":3,"drift":0,"conflict":0,"failed":0}' "second sync --json: summary"
assert_eq "$(jq -c '[.pools[] | [.status, (.actions // [] | length)]] | unique' <<< "$j")" '[["in-sync",0]]' "second sync --json: statuses and actions"
assert_eq "$(lv_snapshot B)" "$before_b" "second sync on B changed the host"

# --- dry run on a fresh host C: the plan, and nothing changed ---
lv_start C > /dev/null || exit 1
before_c=$(lv_snapshot C)
lv_run C --server "$SERVER" sync --dry-run
dry_rc=$LV_RC
case "$LV_RC" in 0|1) ;; *) lv_expect_rc 0 "sync --dry-run on C";; esac
for n in $POOLS; do lv_expect_line "$LV_OUT" "$n: would define, autostart, build, start" "sync --dry-run on C"; done
assert_contains "$(tail -1 <<< "$LV_OUT")" "sync: 3 pools" "sync --dry-run on C: summary"
lv_run C -n --json --server "$SERVER" sync
case "$LV_RC" in 0|1) ;; *) lv_expect_rc 0 "sync -n --json on C";; esac
j=$LV_OUT
assert_eq "$(jq -c '[.dry_run, .changed]' <<< "$j")" "[true,false]" "sync -n --json: dry_run, changed"
assert_eq "$(jq -c '[.pools[] | [.status, .actions]] | unique' <<< "$j")" '[["would-change",["define","autostart","build","start"]]]' "sync -n --json: statuses and actions"
assert_eq "$(lv_snapshot C)" "$before_c" "sync --dry-run on C changed the host"
assert_eq "$(find "$(lv_etc C)" -name '*.xml' | wc -l)" 0 "storage/*.xml on C after a dry run"
assert_eq "$(lv_virsh C pool-list --all --name | grep -c .)" 0 "pools on C after a dry run"
assert_eq "$(lv_in C ls -A "$TARGETS")" "" "target dirs on C after a dry run"
echo "sync --dry-run with 3 pools to create: exit status $dry_rc"

# --- list: every pool of the host, all types (a dir pool besides the three netfs pools) ---
mkdir -p "$S/localdir"
cat > "$S/local.xml" <<EOT
<pool type='dir'>
  <name>Local_images</name>
  <target><path>$S/localdir</path></target>
</pool>
EOT
lv_virsh A pool-define "$S/local.xml" > /dev/null || sb_fail "cannot define a dir pool on A"
lv_virsh A pool-start Local_images > /dev/null || sb_fail "cannot start the dir pool on A"
lv_virsh A pool-autostart Local_images > /dev/null || sb_fail "cannot autostart the dir pool on A"
lv_run A list --json
lv_expect_rc 0 "list --json on A"
j=$LV_OUT
assert_eq "$(jq -r '[.pools[].name] | sort | join(" ")' <<< "$j")" "Local_images $POOLS" "list --json: pools"
for n in $POOLS; do
    assert_eq "$(jq -c --arg n "$n" '.pools[] | select(.name == $n) | [.uuid, .type, .state, .autostart, .persistent, .mounted, .verdict, .problems]' <<< "$j")" \
        "[\"$(lv_server_def "$S/pools.json" "$n" | cut -d' ' -f2)\",\"netfs\",\"active\",true,true,true,\"OK\",[]]" "list --json: $n"
done
assert_eq "$(jq -c '.pools[] | select(.name == "Local_images") | [.type, .state, .autostart, .persistent, .mounted, .verdict]' <<< "$j")" \
    '["dir","active",true,true,null,"OK"]' "list --json: the dir pool"
lv_run A list
lv_expect_rc 0 "list on A"
assert_eq "$(lv_words "$(head -1 <<< "$LV_OUT")")" "Name State Autostart Persistent Type Mounted Verdict" "list: header"
for n in $POOLS; do
    row=$(awk -v n="$n" '$1 == n' <<< "$LV_OUT")
    assert_eq "$(awk '{print $2, $3, $4, $5, $NF}' <<< "$row")" "active yes yes netfs OK" "list: row of $n"
done
row=$(awk '$1 == "Local_images"' <<< "$LV_OUT")
assert_eq "$(awk '{print $2, $3, $4, $5, $NF}' <<< "$row")" "active yes yes dir OK" "list: row of the dir pool"
# a local check failing: autostart off (exit status 1: something is not as it should be)
lv_virsh A pool-autostart --disable Local_images > /dev/null || sb_fail "cannot disable autostart of the dir pool"
lv_run A list --json
lv_expect_rc 1 "list --json with a pool whose autostart is off"
assert_eq "$(jq -c '.pools[] | select(.name == "Local_images") | [.autostart, .verdict, (.problems | length > 0)]' <<< "$LV_OUT")" \
    '[false,"FAIL",true]' "list --json: the dir pool with autostart off"
lv_virsh A pool-autostart Local_images > /dev/null || sb_fail "cannot autostart the dir pool on A"
# the dir pool is none of the server's business: sync still has nothing to do
lv_run A --server "$SERVER" sync
lv_expect_rc 0 "sync with a dir pool on A"
assert_eq "$LV_OUT" "sync: nothing to do, 3 pools in sync" "sync with a dir pool on A"

# --- resources: the netfs pools under the orchestrator's names (= pool names here), with sizes ---
lv_run A resources --json
lv_expect_rc 0 "resources --json on A"
j=$LV_OUT
assert_eq "$(jq -r '[.resources[].resource] | join(" ")' <<< "$j")" "$POOLS" "resources --json: names (sorted)"
assert_eq "$(jq -c '.skipped // []' <<< "$j")" "[]" "resources --json: skipped"
for n in $POOLS; do
    r=$(jq -c --arg n "$n" '.resources[] | select(.pool == $n)' <<< "$j")
    assert_eq "$(jq -r .resource <<< "$r")" "$n" "resources --json: resource name of $n"
    assert_eq "$(jq -r .uuid <<< "$r")" "$(lv_server_def "$S/pools.json" "$n" | cut -d' ' -f2)" "resources --json: uuid of $n"
    assert_eq "$(jq -r '.capacity > 0 and .available > 0 and .allocation >= 0 and .allocation <= .capacity' <<< "$r")" true "resources --json: sizes of $n: $r"
    assert_eq "$(jq -r .capacity <<< "$r")" "$(lv_pool_info A "$n" Capacity)" "resources --json: capacity of $n = virsh pool-info"
    assert_eq "$(jq -r .capacity <<< "$r")" "$(df -B1 --output=size "$BASE/$n" | tail -1 | tr -d ' ')" "resources --json: capacity of $n = the share's size"
done
lv_run A resources
lv_expect_rc 0 "resources on A"
assert_eq "$(lv_words "$(head -1 <<< "$LV_OUT")")" "Resource Pool Capacity Allocation Available" "resources: header"
for n in $POOLS; do
    row=$(awk -v n="$n" '$2 == n' <<< "$LV_OUT")
    assert_eq "$(awk '{print $1, $2}' <<< "$row")" "$n $n" "resources: row of $n"
    assert_eq "$(awk '{print $3}' <<< "$row")" "$(lv_pool_info A "$n" Capacity)" "resources: capacity of $n"
done
assert_not_contains "$LV_OUT" "Local_images" "resources lists only netfs pools"
assert_not_contains "$LV_OUT" "skipped" "resources: nothing skipped"

# --- the config file: servers and connect from [client] ---
cat > "$S/client.conf" <<EOT
[client]
servers = $SERVER
connect = $(lv_uri B)
timeout = 5
EOT
lv_in B "$NFSPROV_CLIENT" -c "$S/client.conf" verify > "$S/out" 2>&1 || { cat "$S/out"; sb_fail "verify on B with only a config file failed"; }
assert_contains "$(cat "$S/out")" "NFSStorage_03" "verify with a config file"

# --- resources on real libvirt: names the orchestrator rewrites, duplicates, a multi-byte name ---
for pn in 'rcx.nfs' 'rcx+nfs' 'データ'; do
    u=$(cat /proc/sys/kernel/random/uuid)
    cat > "$S/odd.xml" <<EOT
<pool type='netfs'><name>$pn</name><uuid>$u</uuid>
<source><host name='192.0.2.77'/><dir path='/srv/odd/$u'/><format type='nfs'/></source>
<target><path>$S/odd/$u</path></target></pool>
EOT
    lv_virsh A pool-define "$S/odd.xml" > "$S/out" 2>&1 || { cat "$S/out"; sb_fail "pool-define $pn on A failed"; }
done
lv_run A resources --json
lv_expect_rc 0 "resources --json with odd names"
j=$LV_OUT
res_of() { jq -r --arg p "$1" '.resources[] | select(.pool == $p) | .resource' <<< "$j"; }
assert_eq "$(res_of 'rcx+nfs')" "rcx-nfs" "resource of rcx+nfs (first in name order)"
assert_eq "$(res_of 'rcx.nfs')" "rcx-nfs_1" "resource of rcx.nfs (a duplicate gets _1)"
assert_eq "$(jq -r '.skipped[] | .pool' <<< "$j")" "データ" "the multi-byte name is skipped"
assert_contains "$(jq -r '.skipped[] | .reason' <<< "$j")" "multi-byte character" "why データ is skipped"
lv_run A resources
assert_contains "$LV_OUT" "skipped: データ: " "resources (text): the skipped pool"
for pn in 'rcx.nfs' 'rcx+nfs' 'データ'; do lv_virsh A pool-undefine "$pn" > /dev/null || sb_fail "pool-undefine $pn failed"; done

# --- a pool that fails to start: libvirt's own error text, the pool stays defined and autostarted ---
# Host D cannot reach the server's directory (its view of the share base is hidden under an empty
# tmpfs, so the mount stand-in fails as mount.nfs would for an unreachable export).
lv_start D > /dev/null || exit 1
lv_in D mount -t tmpfs -o size=1m lv-hide "$BASE" || sb_fail "cannot hide the share base in D's namespace"
lv_run D --server "$SERVER" sync
lv_expect_rc 1 "sync on a host that cannot mount"
for n in $POOLS; do
    line=$(grep "^$n: " <<< "$LV_OUT") || sb_fail "sync on D: no line for $n: $LV_OUT"
    assert_contains "$line" "$n: define, autostart, build; failed: start: " "sync on D: $n"
    assert_contains "$line" "-t nfs 127.0.0.1:$BASE/$n $TARGETS/$n) unexpected exit status 32" "sync on D: $n: libvirt's text names the mount that failed"
done
assert_eq "$(tail -1 <<< "$LV_OUT")" "sync: 3 pools: 0 changed, 0 in sync, 0 drift, 0 conflicts, 3 failed" "sync on D: summary"
for n in $POOLS; do
    assert_eq "$(lv_pool_info D "$n" State) $(lv_pool_info D "$n" Autostart) $(lv_pool_info D "$n" Persistent)" "inactive yes yes" "$n on D after the failed start"
done
lv_in D umount "$BASE" || sb_fail "cannot unhide the share base in D's namespace"
lv_run D --server "$SERVER" sync
lv_expect_rc 0 "sync on D once the server is reachable"
for n in $POOLS; do lv_expect_line "$LV_OUT" "$n: start" "sync on D after the failure"; done
lv_run D --server "$SERVER" verify
lv_expect_rc 0 "verify on D"

# --- exit statuses: 2 bad usage, 3 server or libvirt unreachable ---
lv_run A frobnicate
lv_expect_rc 2 "an unknown command"
lv_run A --server "$SERVER" sync --no-such-option
lv_expect_rc 2 "an unknown option"
lv_run A -c "$S/no-such.conf" --server "$SERVER" verify
lv_expect_rc 2 "a config file that does not exist"
before_a=$(lv_snapshot A)
lv_run A --server "http://127.0.0.1:$(lv_free_port)" sync
lv_expect_rc 3 "sync with an unreachable server"
assert_eq "$(lv_snapshot A)" "$before_a" "sync with an unreachable server changed the host"
nsenter -t "$(lv_pid A)" -m -- "$NFSPROV_CLIENT" --connect "storage+unix:///system?socket=$S/no-such-sock" --server "$SERVER" verify > "$S/out" 2>&1
rc=$?
[ "$rc" = 3 ] || { cat "$S/out"; sb_fail "verify with an unreachable libvirt: exit status $rc, expected 3"; }

lv_stop_all
stop_daemon
sb_pass
