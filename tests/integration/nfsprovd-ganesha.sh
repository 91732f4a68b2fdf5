#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# nfsprovd with [exports] server = ganesha, against a real NFS-Ganesha in the test's own network
# namespace (own loopback, /run, rpcbind, D-Bus system bus): nfs-config --apply adds the %include;
# shares are served live over D-Bus (ShowExports) and really over NFSv3 (libnfs: a root write is
# owned 0:0 on the share's ext4 and reads back); a delete removes the export without restarting
# Ganesha; the Export_Id survives an nfsprovd restart; a share created while Ganesha is down is
# "not served" (show, list, metrics) until Ganesha starts, and nfsprovd, watching Ganesha's bus
# name, serves it then without `nfsprov reconcile` (also when Ganesha's config lacks the
# %include, and when nfsprovd started before the D-Bus system bus existed); a killed and restarted
# Ganesha serves every share again; an export Ganesha lost while
# running is added back by reconcile; a Ganesha error reply is
# one line and leaves nothing half made.
. "$NP_TOP_SRCDIR/tests/integration/nfsprovd-lib.sh"
. "$NP_TOP_SRCDIR/tests/integration/ganesha-lib.sh"
ganesha_require
sb_require_cmd curl curl
ganesha_netns "$@"

G=$S/ganesha
mkdir -p "$G/recovery" "$G/run"
# on failure, what Ganesha and nfsprovd said
trap 'rc=$?; if [ "$rc" != 0 ]; then tail -15 "$G/ganesha.log" "$G/ganesha.stdout" "$S/nfsprovd.log" 2>/dev/null; fi' EXIT
ganesha_rpcbind "$G"
ganesha_bus "$G"
# the bus's address without its guid, so that it stays valid for a bus restarted on the same socket
DBUS_SYSTEM_BUS_ADDRESS=unix:path=$G/bus.sock
ganesha_config "$G" > "$G/ganesha.conf" # no export, no %include yet: nfs-config --apply adds it
GFILE=$G/nfsprov.conf
Q="version=3&nfsport=2049&mountport=20048"

GUARD=off # the NFS writes below make files at the shares' roots
CLIENTS="127.0.0.1 10.9.8.0/24"
write_config
sed -i "s|^file = /etc/exports$|server = ganesha\nganesha_config = $GFILE|" "$CONF"
sed -i "s|^nfs_conf = /etc/nfs.conf$|nfs_conf = /etc/nfs.conf\nganesha_conf = $G/ganesha.conf|" "$CONF"
start_daemon

# --- nfs-config: the %include of nfsprovd's file, NFSv3 with MOUNT ---
out=$(np nfs-config)
assert_contains "$out" "server:       ganesha" "nfs-config names the server"
assert_contains "$out" "ok:           no" "nfs-config before --apply"
assert_contains "$out" "does not %include \"$GFILE\"" "nfs-config says what is missing"
np nfs-config --apply > /dev/null || sb_fail "nfs-config --apply failed"
assert_eq "$(grep -c "^%include \"$GFILE\"$" "$G/ganesha.conf")" 1 "nfs-config --apply added the %include"
assert_contains "$(np nfs-config)" "ok:           yes" "nfs-config after --apply"

ganesha_start "$G"
GPID0=$GANESHA_PID

served() { ganesha_show_exports | awk '{print $2}' | tr '\n' ' '; }
nfs_roundtrip() { # NAME: a root write over NFSv3 is owned 0:0 on the share and reads back
    local n=$1
    head -c 100000 /dev/urandom > "$S/data.$n"
    rm -f "$BASE/$n/probe" "$S/back.$n"
    nfs-cp "$S/data.$n" "nfs://127.0.0.1$BASE/$n/probe?$Q" > /dev/null 2>&1 || sb_fail "NFSv3 write to $n failed"
    assert_eq "$(stat -c %u:%g "$BASE/$n/probe")" "0:0" "owner of a root write over NFSv3 to $n"
    cmp -s "$S/data.$n" "$BASE/$n/probe" || sb_fail "$n: the NFS write is not on the share's ext4"
    nfs-cp "nfs://127.0.0.1$BASE/$n/probe?$Q" "$S/back.$n" > /dev/null 2>&1 || sb_fail "NFSv3 read from $n failed"
    cmp -s "$S/data.$n" "$S/back.$n" || sb_fail "$n: NFSv3 read back differs"
    rm -f "$BASE/$n/probe"
}

# --- two shares, served live ---
# Beta is exported to 10.9.8.0/24 only: this host (127.0.0.1) cannot mount it
np create Alpha --size 64M > "$S/out" 2>&1 || { cat "$S/out" "$S/nfsprovd.log"; sb_fail "create Alpha failed"; }
np create Beta --size 64M --clients "10.9.8.0/24" > "$S/out" 2>&1 || { cat "$S/out"; sb_fail "create Beta failed"; }
assert_eq "$(served)" "$BASE/Alpha $BASE/Beta " "ShowExports after two creates"
for n in Alpha Beta; do assert_eq "$(share_field "$n" served)" true "$n served"; done
nfs_roundtrip Alpha
IDA=$(share_field Alpha export_id)
IDB=$(share_field Beta export_id)
assert_eq "$IDA $IDB" "1000 1001" "Export_Ids"
assert_eq "$(ganesha_exports_text "$GFILE" | grep -c '^EXPORT {$')" 2 "EXPORT blocks in nfsprovd's Ganesha files"
assert_eq "$(grep -c '^EXPORT {$' "$GFILE")" 0 "EXPORT blocks in $GFILE itself (it has the %dir lines)"
GDIR=${GFILE%.conf}.d
for s in Alpha Beta; do
    f=$(grep -lF "Path = \"$BASE/$s\";" "$GDIR"/*/*.conf) || sb_fail "no file of $s below $GDIR"
    assert_eq "$(grep -c '^EXPORT {$' "$f")" 1 "EXPORT blocks in $s's file $f"
    assert_eq "$(basename "$f")" "$(echo "${BASE#/}/$s" | sed 's|-|%2D|g; s|/|-|g').conf" "$s's file name"
    grep -qxF "%dir \"$(dirname "$f")/*.conf\"" "$GFILE" || sb_fail "$GFILE does not %dir the directory of $f"
done
assert_contains "$(ganesha_exports_text "$GFILE")" "Clients = 127.0.0.1, 10.9.8.0/24;" "clients of Alpha's CLIENT block"
assert_contains "$(ganesha_exports_text "$GFILE")" "Clients = 10.9.8.0/24;" "clients of Beta's CLIENT block"
assert_contains "$(np show Alpha)" "served:       yes" "show Alpha"
# only the share's clients: the export itself admits nobody
assert_contains "$(nfs-ls "nfs://127.0.0.1$BASE/Alpha?$Q" 2>&1)" "lost+found" "nfs-ls of Alpha from 127.0.0.1"
assert_not_contains "$(nfs-ls "nfs://127.0.0.1$BASE/Beta?$Q" 2>&1)" "lost+found" "nfs-ls of Beta from outside its clients"

# --- delete: the export goes, live, Ganesha keeps running ---
np delete Beta > /dev/null || sb_fail "delete Beta failed"
assert_eq "$(served)" "$BASE/Alpha " "ShowExports after delete"
kill -0 "$GPID0" || sb_fail "Ganesha is not running after the delete"
assert_eq "$GANESHA_PID" "$GPID0" "Ganesha was not restarted"
nfs_roundtrip Alpha
ganesha_exports_text "$GFILE" | grep -q "$BASE/Beta" && sb_fail "nfsprovd's Ganesha files still have Beta"

# --- the Export_Id stays across an nfsprovd restart ---
stop_daemon
start_daemon
assert_eq "$(share_field Alpha export_id)" "$IDA" "Alpha's Export_Id after an nfsprovd restart"
assert_eq "$(ganesha_show_exports)" "$IDA $BASE/Alpha" "ShowExports after an nfsprovd restart"

# --- Ganesha not running at create: the share is made and "not served", then served ---
# nfsprovd watches org.ganesha.nfsd and reconciles the exports when Ganesha appears. Ganesha starts
# here from a ganesha.conf without the %include (as its package installs it): only nfsprovd's
# AddExport calls can serve Alpha and Gamma, without `nfsprov reconcile`.
appeared() { grep -c "export server ganesha appeared: exports reconciled" "$S/nfsprovd.log"; }
wait_appeared() { # N: nfsprovd logged N reconciles on Ganesha appearing
    local i
    for i in $(seq 600); do [ "$(appeared)" -ge "$1" ] && return 0; sleep 0.1; done
    sb_fail "nfsprovd did not log its reconcile when Ganesha appeared (logged $(appeared), want $1)"
}
ganesha_stop
np create Gamma --size 64M > "$S/out" 2>&1 || { cat "$S/out" "$S/nfsprovd.log"; sb_fail "create Gamma without Ganesha failed"; }
assert_eq "$(share_field Gamma status)" ready "Gamma status without Ganesha"
assert_eq "$(share_field Gamma served)" false "Gamma served without Ganesha"
assert_eq "$(share_field Gamma exported)" true "Gamma in nfsprovd's Ganesha file"
assert_contains "$(np show Gamma)" "served:       no" "show Gamma without Ganesha"
assert_contains "$(np list | grep '^Gamma ')" "$BASE/Gamma (not served)" "list Gamma without Ganesha"
assert_contains "$(curl -s --unix-socket "$SOCK" http://localhost/metrics)" 'nfsprov_share_served{share="Gamma"} 0' \
    "metrics: Gamma not served"
n0=$(appeared)
cp "$G/ganesha.conf" "$G/ganesha.conf.included"
ganesha_config "$G" > "$G/ganesha.conf"
ganesha_start "$G"
wait_share_field Gamma served true "Gamma served once Ganesha starts (nfsprovd's watch)"
wait_share_field Alpha served true "Alpha served once Ganesha starts (nfsprovd's watch)"
assert_eq "$(served)" "$BASE/Alpha $BASE/Gamma " "ShowExports once Ganesha starts"
wait_appeared $((n0 + 1))
assert_contains "$(grep "export server ganesha appeared" "$S/nfsprovd.log" | tail -1)" \
    "2 changes (exported $BASE/Alpha; exported $BASE/Gamma), 0 problems" "nfsprovd's line on Ganesha appearing"
nfs_roundtrip Gamma

# --- Ganesha killed and restarted: every share served again ---
# twice: with the %include (Ganesha reads the file itself; nfsprovd's reconcile finds nothing to
# do), then without (nfsprovd's reconcile adds every share back)
for conf in included bare; do
    ganesha_stop KILL
    wait_share_field Alpha served false "Alpha not served while Ganesha is down ($conf)"
    if [ "$conf" = included ]; then cp "$G/ganesha.conf.included" "$G/ganesha.conf"; else ganesha_config "$G" > "$G/ganesha.conf"; fi
    n0=$(appeared)
    ganesha_start "$G"
    for n in Alpha Gamma; do wait_share_field "$n" served true "$n served after Ganesha was killed and restarted ($conf)"; done
    assert_eq "$(served)" "$BASE/Alpha $BASE/Gamma " "ShowExports after Ganesha was killed and restarted ($conf)"
    wait_appeared $((n0 + 1))
    nfs_roundtrip Alpha
    nfs_roundtrip Gamma
done
assert_contains "$(grep "export server ganesha appeared" "$S/nfsprovd.log" | tail -2 | head -1)" \
    "0 changes, 0 problems" "nfsprovd's line when Ganesha served the file itself"
assert_contains "$(grep "export server ganesha appeared" "$S/nfsprovd.log" | tail -1)" \
    "2 changes (exported $BASE/Alpha; exported $BASE/Gamma)" "nfsprovd's line when Ganesha came back bare"

# --- no D-Bus system bus when nfsprovd starts: it looks for one every 5 s, then serves ---
stop_daemon
ganesha_stop
kill "$GANESHA_BUS_PID" && wait "$GANESHA_BUS_PID" 2> /dev/null
start_daemon
assert_eq "$(share_field Alpha served)" false "Alpha served without a bus"
grep -q "looking for NFS-Ganesha on the D-Bus system bus again every 5000 ms" "$S/nfsprovd.log" ||
    sb_fail "nfsprovd did not say it looks for the D-Bus system bus again"
rm -f "$G/bus.sock"
ganesha_bus "$G"
DBUS_SYSTEM_BUS_ADDRESS=unix:path=$G/bus.sock
n0=$(appeared)
ganesha_start "$G" # without the %include: only nfsprovd's AddExport serves the shares
for n in Alpha Gamma; do wait_share_field "$n" served true "$n served once the bus and Ganesha came"; done
wait_appeared $((n0 + 1))
grep -q "connected to the D-Bus system bus; watching for NFS-Ganesha" "$S/nfsprovd.log" ||
    sb_fail "nfsprovd did not log that it reached the bus"
nfs_roundtrip Alpha
cp "$G/ganesha.conf.included" "$G/ganesha.conf"

# --- an export Ganesha lacks (nfsprovd stopped between the file and the D-Bus call): reconcile ---
gdbus call --system --dest org.ganesha.nfsd --object-path /org/ganesha/nfsd/ExportMgr \
    --method org.ganesha.nfsd.exportmgr.RemoveExport "$IDA" > /dev/null || sb_fail "RemoveExport by hand failed"
wait_share_field Alpha served false "Alpha not served once Ganesha lost it"
out=$(np reconcile 2>&1) || sb_fail "reconcile failed: $out"
assert_contains "$out" "exported $BASE/Alpha" "reconcile reports the export it added"
assert_eq "$(served)" "$BASE/Alpha $BASE/Gamma " "ShowExports after reconcile"
nfs_roundtrip Alpha

# --- a Ganesha error reply: one line, nothing half made ---
# An export of the administrator's own with the Export_Id nfsprovd gives next (one above the
# highest in use; Beta's was free again once Beta was gone): AddExport fails.
NEXT=$(( $(np --json list | jq '[.shares[].export_id] | max') + 1 ))
# (on ext4 of its own: FSAL VFS cannot export the sandbox's /tmp)
mkdir -p "$S/admin-export"
truncate -s 16M "$S/admin.img" && mkfs.ext4 -q -F "$S/admin.img" || sb_fail "mkfs of the admin's export failed"
ADMIN_DEV=$(sb_losetup "$S/admin.img") || sb_fail "losetup failed"
mount "$ADMIN_DEV" "$S/admin-export" || sb_fail "mount of the admin's export failed"
ganesha_stop
ganesha_config "$G" "$NEXT:$S/admin-export" > "$G/ganesha.conf"
echo "%include \"$GFILE\"" >> "$G/ganesha.conf"
ganesha_start "$G"
before=$(snapshot)
err=$(np create Delta --size 64M 2>&1); rc=$?
[ "$rc" -ne 0 ] || sb_fail "create Delta succeeded although Ganesha refused its export"
assert_eq "$(echo "$err" | wc -l)" 1 "the create error is one line: $err"
assert_contains "$err" "NFS-Ganesha refused AddExport of Export_Id $NEXT" "the create error names Ganesha's refusal"
assert_eq "$(snapshot)" "$before" "a refused create left something behind"
ganesha_exports_text "$GFILE" | grep -q "$BASE/Delta" && sb_fail "nfsprovd's Ganesha files still have Delta"
assert_eq "$(ganesha_show_exports | awk '{print $2}' | tr '\n' ' ')" "$BASE/Alpha $BASE/Gamma $S/admin-export " \
    "ShowExports after the refused create"

for n in Alpha Gamma; do np delete "$n" > /dev/null || sb_fail "delete $n failed"; done
assert_eq "$(ganesha_show_exports | awk '{print $2}')" "$S/admin-export" "only the administrator's export is left"
stop_daemon
ganesha_stop
sb_pass
