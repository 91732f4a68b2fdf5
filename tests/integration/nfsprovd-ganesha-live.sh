#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# nfsprovd with [exports] server = ganesha, while a share is being read over NFSv3 (NFS-Ganesha,
# rpcbind and a D-Bus system bus of the test's own, in its own network namespace):
# - exports added and removed live (create and delete of other shares, AddExport and
#   RemoveExport) while a reader copies a file of share Reader over NFSv3 in a loop: every read
#   succeeds with the right data, and Ganesha is never restarted;
# - nfsprovd killed between writing its Ganesha file and the AddExport call (fault point
#   create:apply): the file has the half-made share, Ganesha does not serve it; the restarted
#   nfsprovd rolls the create back (the share is gone, from the file too), with the reader
#   reading on; and when Ganesha restarted in between and so serves the half-made share from the
#   file, the roll back removes that export live (RemoveExport);
# - then the same create succeeds and is served.
NP_EXPORT_SERVER=ganesha
. "$NP_TOP_SRCDIR/tests/integration/nfsprovd-lib.sh"
np_nfs_init "$@"

GUARD=off # the reader's file and the NFS writes of assert_exported are at the shares' roots
write_config
start_daemon
np create Reader --size 64M > "$S/out" 2>&1 || { cat "$S/out"; sb_fail "create Reader failed"; }
head -c 1000000 /dev/urandom > "$BASE/Reader/blob"
assert_exported Reader
GPID0=$GANESHA_PID

# ---- the reader: nfs-cp of Reader/blob over NFSv3 in a loop, one line per read in $S/reads ----
reader_loop() {
    local i=0
    while [ ! -e "$S/reader.stop" ]; do
        i=$((i + 1))
        rm -f "$S/read.copy"
        if ! err=$(nfs-cp "$(ganesha_url "$BASE/Reader/blob")" "$S/read.copy" 2>&1); then
            echo "error $i: $err" >> "$S/reads"
        elif ! cmp -s "$S/read.copy" "$BASE/Reader/blob"; then
            echo "error $i: the data read differs" >> "$S/reads"
        else
            echo "ok $i" >> "$S/reads"
        fi
    done
}
reader_start() {
    : > "$S/reads"
    rm -f "$S/reader.stop"
    reader_loop &
    READER_PID=$!
    sb_track_pid "$READER_PID"
    reads_at_least 1 "the reader's first read"
}
reads() { grep -c '^ok ' "$S/reads"; }
# reads_at_least N WHAT: until the reader made N good reads (60 s guard against a hang)
reads_at_least() {
    local _i
    for _i in $(seq 600); do [ "$(reads)" -ge "$1" ] && return 0; sleep 0.1; done
    sb_fail "$2: $(reads) reads, $1 expected (waited 60 s); errors: $(grep -m3 '^error' "$S/reads")"
}
# reader_stop WHAT: stop the loop (by its pid, after its current read); no read may have failed
reader_stop() {
    touch "$S/reader.stop"
    wait "$READER_PID"
    READER_PID=
    assert_eq "$(grep -c '^error' "$S/reads")" 0 "$1: failed reads ($(grep -m3 '^error' "$S/reads"))"
    echo "$1: $(reads) reads of Reader/blob over NFSv3, no error"
}

# ---- exports added and removed while Reader is read ----
# Cycles of create + delete of another share, until at least 3 reads completed during them (at
# least 2 cycles; 20 at most: a reader that makes no progress fails)
reader_start
cycles=0 during=0
while [ "$cycles" -lt 2 ] || [ "$during" -lt 3 ]; do
    [ "$cycles" -lt 20 ] || sb_fail "the reader made $during reads during $cycles create/delete cycles"
    cycles=$((cycles + 1))
    before=$(reads)
    np create Other --size 32M > "$S/out" 2>&1 || { cat "$S/out"; sb_fail "create Other (cycle $cycles) failed"; }
    assert_eq "$(ganesha_show_exports | awk '{print $2}' | tr '\n' ' ')" "$BASE/Other $BASE/Reader " \
        "ShowExports after create Other (cycle $cycles)"
    [ "$cycles" -gt 1 ] || assert_exported Other # the NFSv3 check once: the reader's loop is the point
    np delete Other > "$S/out" 2>&1 || { cat "$S/out"; sb_fail "delete Other (cycle $cycles) failed"; }
    assert_unexported "$BASE/Other"
    during=$((during + $(reads) - before))
done
reader_stop "$cycles create/delete cycles of Other ($during reads during them)"
assert_eq "$GANESHA_PID" "$GPID0" "Ganesha's pid (never restarted)"
kill -0 "$GPID0" || sb_fail "Ganesha no longer runs"
assert_eq "$(ganesha_show_exports)" "$(share_field Reader export_id) $BASE/Reader" "ShowExports after the cycles"

# ---- nfsprovd killed between the Ganesha file and AddExport; the reader reads on ----
reader_start
crash_at create:apply create Half --size 32M
ganesha_exports_text "$GFILE" | grep -qF "Path = \"$BASE/Half\";" || sb_fail "the crash at create:apply: no file has Half"
ganesha_show_exports | grep -q " $BASE/Half$" && sb_fail "the crash at create:apply: Ganesha already serves Half"
start_daemon # reconcile rolls the create back
assert_share_gone Half
reads_at_least $(($(reads) + 2)) "reads after the roll back"
reader_stop "a crash at create:apply and its roll back"
assert_exported Reader

# ---- the same, with Ganesha restarted in between: it serves the half-made share from the file ----
crash_at create:apply create Half --size 32M
ganesha_stop
ganesha_start "$G"
ganesha_show_exports | grep -q " $BASE/Half$" ||
    sb_fail "Ganesha restarted with Half's file does not serve it: $(ganesha_show_exports | tr '\n' ';')"
GPID1=$GANESHA_PID
start_daemon # the roll back removes the export Ganesha serves (RemoveExport), live
assert_share_gone Half
assert_eq "$GANESHA_PID" "$GPID1" "Ganesha's pid across the roll back"
assert_eq "$(ganesha_show_exports)" "$(share_field Reader export_id) $BASE/Reader" "ShowExports after the roll back"
assert_exported Reader

# ---- and the create, done again, is served ----
np create Half --size 32M > "$S/out" 2>&1 || { cat "$S/out"; sb_fail "create Half after the roll back failed"; }
assert_exported Half

for n in Half Reader; do np delete "$n" --force > /dev/null || sb_fail "delete $n failed"; done
assert_eq "$(ganesha_show_exports)" "" "ShowExports at the end"
stop_daemon
ganesha_stop
sb_pass "$cycles live create/delete cycles under an NFSv3 reader"
