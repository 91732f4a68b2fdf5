#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# nfsprov-client --nfs-check against a real NFSv3 server driven by a real nfsprovd: nfsprovd runs
# with [exports] server = ganesha and writes NFS-Ganesha's exports itself (its file, AddExport over
# D-Bus); Ganesha, rpcbind and the D-Bus bus are the test's own, in its own network namespace, with
# the private libvirtd "hosts" (this kernel has no NFS server). Shares: Good as nfsprovd exports it
# (rw, no_root_squash; a root write through libnfs is owned 0:0 on the server's ext4); Squashed
# and ReadOnly, whose exports an administrator changed in Ganesha behind nfsprovd's back
# (UpdateExport: root_squash, read-only); Lost, whose export was removed from Ganesha by hand.
# The preflight (libnfs: MOUNT3 + NFSv3 ACCESS as root) lets `sync --nfs-check` define and start
# only Good on a fresh host; the others fail with one line saying why and are not defined;
# `verify --nfs-check` shows the NFSv3 column; with Ganesha stopped every share fails the
# preflight and a fresh host defines nothing.
NP_EXPORT_SERVER=ganesha
. "$NP_TOP_SRCDIR/tests/integration/nfsprovd-lib.sh"
sb_require_cmd curl curl
np_nfs_init "$@"
. "$NP_TOP_SRCDIR/tests/integration/libvirtd-lib.sh"
[ -x "$NFSPROV_CLIENT" ] || sb_fail "$NFSPROV_CLIENT is not built"

SHARES="Good Squashed ReadOnly Lost"
# The root write of assert_exported makes a file at the share's root: the guard is off
# (nfsprovd-guard-nfs.sh tests the guard over NFS).
GUARD=off
lv_server $SHARES
for n in $SHARES; do assert_exported "$n"; done

# --- an administrator changes three exports in Ganesha behind nfsprovd ---
drift() { # NAME ACCESS SQUASH: UpdateExport of NAME's export: same Export_Id and path, other options
    local id path=$BASE/$1
    id=$(share_field "$1" export_id)
    cat > "$G/drift-$1.conf" <<EOT
EXPORT {
    Export_Id = $id; Path = "$path"; Pseudo = "$path"; Protocols = 3; SecType = sys;
    Access_Type = None; Attr_Expiration_Time = 0;
    CLIENT { Clients = *; Access_Type = $2; Squash = $3; }
    FSAL { Name = VFS; }
}
EOT
    gdbus call --system --dest org.ganesha.nfsd --object-path /org/ganesha/nfsd/ExportMgr \
        --method org.ganesha.nfsd.exportmgr.UpdateExport "$G/drift-$1.conf" "EXPORT(Export_Id=$id)" > /dev/null ||
        sb_fail "UpdateExport of $1 by hand failed"
}
drift Squashed RW Root_Squash
drift ReadOnly RO No_Root_Squash
echo probe > "$S/probe.txt"
assert_contains "$(nfs-cp "$S/probe.txt" "$(ganesha_url "$BASE/ReadOnly/probe.txt")" 2>&1)" "NFS3ERR_ROFS" \
    "an NFSv3 write to ReadOnly after UpdateExport"
gdbus call --system --dest org.ganesha.nfsd --object-path /org/ganesha/nfsd/ExportMgr \
    --method org.ganesha.nfsd.exportmgr.RemoveExport "$(share_field Lost export_id)" > /dev/null ||
    sb_fail "RemoveExport of Lost by hand failed"
wait_share_field Lost served false "Lost once Ganesha no longer serves it"

# --- sync --nfs-check on a fresh host: only Good is defined and started ---
lv_start A > /dev/null || exit 1
lv_run A --server "$SERVER" sync --nfs-check
lv_expect_rc 1 "sync --nfs-check"
lv_expect_line "$LV_OUT" "Good: define, autostart, build, start" "sync --nfs-check"
line=$(grep '^Squashed: ' <<< "$LV_OUT")
assert_contains "$line" "Squashed: failed: NFSv3 preflight: 127.0.0.1:$BASE/Squashed is mounted over NFSv3, but root on this host has r-x access" "sync --nfs-check: Squashed"
assert_contains "$(grep '^ReadOnly: ' <<< "$LV_OUT")" "ReadOnly: failed: NFSv3 preflight: 127.0.0.1:$BASE/ReadOnly is mounted over NFSv3, but root on this host has r-x access" "sync --nfs-check: ReadOnly"
assert_contains "$(grep '^Lost: ' <<< "$LV_OUT")" "Lost: failed: NFSv3 preflight: 127.0.0.1:$BASE/Lost cannot be mounted over NFSv3 from this host" "sync --nfs-check: Lost"
assert_eq "$(tail -1 <<< "$LV_OUT")" "sync: 4 pools: 1 changed, 0 in sync, 0 drift, 0 conflicts, 3 failed" "sync --nfs-check: summary"
assert_eq "$(lv_virsh A pool-list --all --name | awk 'NF {print $1}' | sort | tr '\n' ' ')" "Good " "pools defined on A"
assert_eq "$(lv_mnt_source A "$TARGETS/Good")" "127.0.0.1:$BASE/Good" "Good mounted on A"

# --- verify --nfs-check: the NFSv3 column ---
lv_run A --server "$SERVER" verify --nfs-check
lv_expect_rc 1 "verify --nfs-check"
assert_eq "$(head -1 <<< "$LV_OUT" | tr -s ' ' | sed 's/^ //')" "Name State Autostart Persistent Type UUID Host Source Target Mounted Volumes NFSv3 Verdict" "verify --nfs-check: header"
assert_eq "$(awk '$1 == "Good" {print $2, $12, $13}' <<< "$LV_OUT")" "active ok OK" "verify --nfs-check: Good"
assert_eq "$(awk '$1 == "Squashed" {print $2, $11, $12, $13}' <<< "$LV_OUT")" "undefined - FAIL FAIL" "verify --nfs-check: Squashed"
lv_run A --server "$SERVER" --json verify --nfs-check
assert_eq "$(jq -c '[.pools[] | {(.name): .checks.nfs3}] | add' <<< "$LV_OUT")" \
    '{"Good":true,"Lost":false,"ReadOnly":false,"Squashed":false}' "verify --json --nfs-check: nfs3 checks"
lv_run A --server "$SERVER" --json verify
assert_eq "$(jq -c '[.pools[].checks.nfs3] | unique' <<< "$LV_OUT")" "[null]" "verify without --nfs-check: nfs3 not checked"

# a dry run probes too, and changes nothing
snap=$(lv_snapshot A)
lv_run A --server "$SERVER" sync --nfs-check --dry-run
assert_contains "$(grep '^Squashed: ' <<< "$LV_OUT")" "failed: NFSv3 preflight" "sync --nfs-check --dry-run: Squashed"
assert_eq "$(lv_snapshot A)" "$snap" "sync --nfs-check --dry-run changed the host"

# --- Ganesha stopped: nothing passes the preflight, a fresh host B defines nothing ---
ganesha_stop
lv_start B > /dev/null || exit 1
lv_run B --server "$SERVER" sync --nfs-check
lv_expect_rc 1 "sync --nfs-check on B without Ganesha"
for n in $SHARES; do
    assert_contains "$(grep "^$n: " <<< "$LV_OUT")" "$n: failed: NFSv3 preflight: 127.0.0.1:$BASE/$n cannot be mounted over NFSv3 from this host" \
        "sync --nfs-check on B without Ganesha: $n"
done
assert_eq "$(lv_virsh B pool-list --all --name | awk NF)" "" "pools defined on B without Ganesha"
lv_run A --server "$SERVER" --json verify --nfs-check
assert_eq "$(jq -c '[.pools[] | select(.name == "Good") | .checks.nfs3]' <<< "$LV_OUT")" "[false]" \
    "verify --nfs-check on A without Ganesha: Good"

lv_stop_all
for n in $SHARES; do np delete "$n" > /dev/null || sb_fail "delete $n failed"; done
stop_daemon
sb_pass
