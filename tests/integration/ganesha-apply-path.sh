#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The Ganesha export server's apply_path (server/export_ganesha.c), what create and resize call
# after setting a share's export: one export looked at (DisplayExport) and handed over as its own
# file (server/ganesha_store.h: one file a share), whatever the number served. Driven
# through the table by tests/integration/export-tool against a real NFS-Ganesha in the test's own
# network namespace: added when not served; nothing done when served as the file says; a changed
# block ("update pending" in the share's file) updated live and the note cleared; an export lost
# by Ganesha added back; the id serving another path under base (an earlier share) replaced, as
# apply does; Ganesha down: success, served when it starts; an export Ganesha refuses: one line,
# no file but the shares' own left, the next apply_path serves it once it can.
. "$NP_TOP_SRCDIR/tests/integration/nfsprovd-lib.sh"
. "$NP_TOP_SRCDIR/tests/integration/ganesha-lib.sh"
ganesha_require
ganesha_netns "$@"
TOOL=$NP_TOP_BUILDDIR/tests/integration/export-tool
[ -x "$TOOL" ] || sb_fail "$TOOL is not built"

G=$S/ganesha
mkdir -p "$G/recovery" "$G/run"
trap 'rc=$?; if [ "$rc" != 0 ]; then tail -15 "$G/ganesha.log" 2>/dev/null; fi' EXIT
ganesha_rpcbind "$G"
ganesha_bus "$G"
ganesha_config "$G" > "$G/ganesha.conf" # no %include: only what the table hands over is served
ganesha_start "$G"

# exportable directories on one ext4 filesystem (FSAL VFS cannot export the sandbox's /tmp)
truncate -s 64M "$S/dirs.img" && mkfs.ext4 -q -F "$S/dirs.img" || sb_fail "mkfs failed"
DEV=$(sb_losetup "$S/dirs.img") || sb_fail "losetup failed"
mkdir -p "$BASE" && mount "$DEV" "$BASE" || sb_fail "mount failed"
mkdir -p "$BASE/a" "$BASE/b"
CLIENTS=127.0.0.1
write_config
sed -i "s|^file = /etc/exports$|server = ganesha\nganesha_config = $G/nfsprov.conf|" "$CONF"
GFILE=$G/nfsprov.conf
et() { "$TOOL" "$CONF" "$@"; }
mgr() { gdbus call --system --dest org.ganesha.nfsd --object-path /org/ganesha/nfsd/ExportMgr \
    --method "org.ganesha.nfsd.exportmgr.$1" "${@:2}"; }
# display ID: "PATH CLIENT..." of Ganesha's export ID (DisplayExport), or "none"
display() {
    local out
    out=$(mgr DisplayExport "$1" 2>/dev/null) || { echo none; return; }
    echo "$out" | sed -E "s/^\(uint16 [0-9]+, '([^']*)'.*/\1/"
}
clients_of() { mgr DisplayExport "$1" | grep -oE "\('[^']*', " | tr -d "(', " | sort | tr '\n' ' '; }
# no_one_left WHAT: below CONFIG.d, the files of the exports set and nothing else (a temporary or
# handed-over file left behind)
no_one_left() {
    assert_eq "$(find "${GFILE%.conf}.d" -type f | wc -l)" "$(ganesha_exports_text "$GFILE" | grep -c '^EXPORT {$')" \
        "$1: files below ${GFILE%.conf}.d against the exports in them"
}

# added when not served
et set "$BASE/a" 1000 127.0.0.1 || sb_fail "set a"
assert_eq "$(display 1000)" "none" "before apply_path, Ganesha does not serve a"
et apply-path "$BASE/a" || sb_fail "apply-path a"
assert_eq "$(display 1000)" "$BASE/a" "a served under its Export_Id"
assert_eq "$(clients_of 1000)" "127.0.0.1/32 " "a's clients"
no_one_left "add"
assert_eq "$(ganesha_show_exports)" "1000 $BASE/a" "ShowExports after the add"

# served as the file says: nothing to do
et apply-path "$BASE/a" || sb_fail "apply-path a again"
assert_eq "$(ganesha_show_exports)" "1000 $BASE/a" "ShowExports after a second apply_path"

# a changed block: noted pending in nfsprovd's file, updated live, the note cleared
et set "$BASE/a" 1000 127.0.0.2 || sb_fail "set a with another client"
ganesha_exports_text "$GFILE" | grep -q "^# nfsprov: update pending 1000$" ||
    sb_fail "no update pending note after the change: $(ganesha_exports_text "$GFILE" | grep -v '^%dir' | head -5)"
assert_eq "$(clients_of 1000)" "127.0.0.1/32 " "a's clients before apply_path"
et apply-path "$BASE/a" || sb_fail "apply-path a after the change"
assert_eq "$(clients_of 1000)" "127.0.0.2/32 " "a's clients after UpdateExport"
ganesha_exports_text "$GFILE" | grep -q "update pending" && sb_fail "the update pending note is still there"
no_one_left "update"

# a removal: noted beside the share's file (NAME.removed) and served until apply_path, which
# removes that one export (RemoveExport) and the note
et remove "$BASE/a" || sb_fail "remove a"
notes() { find "${GFILE%.conf}.d" -name '*.removed' | wc -l; }
assert_eq "$(notes)" 1 "removal notes after remove"
assert_eq "$(display 1000)" "$BASE/a" "a still served before apply_path"
et apply-path "$BASE/a" || sb_fail "apply-path of the removed a"
assert_eq "$(display 1000)" "none" "a after apply_path of its removal"
assert_eq "$(notes)" 0 "removal notes after apply_path"
et apply-path "$BASE/a" || sb_fail "apply-path of a, removed and applied"
et set "$BASE/a" 1000 127.0.0.2 && et apply-path "$BASE/a" || sb_fail "a made again"
assert_eq "$(display 1000)" "$BASE/a" "a served again"

# an export Ganesha lost (removed behind nfsprovd's back) is added back
mgr RemoveExport 1000 > /dev/null || sb_fail "RemoveExport by hand"
et apply-path "$BASE/a" || sb_fail "apply-path a after the loss"
assert_eq "$(display 1000)" "$BASE/a" "a served again"

# the id serving another path under base (as an earlier share could): replaced, as apply does
mgr RemoveExport 1000 > /dev/null || sb_fail "RemoveExport by hand"
cat > "$S/b.conf" <<EOT
EXPORT {
	Export_Id = 1000;
	Path = "$BASE/b";
	Pseudo = "$BASE/b";
	Protocols = 3;
	Access_Type = None;
	FSAL { Name = VFS; }
}
EOT
mgr AddExport "$S/b.conf" "EXPORT(Export_Id=1000)" > /dev/null || sb_fail "AddExport of b under 1000 by hand"
assert_eq "$(display 1000)" "$BASE/b" "1000 serves b"
et apply-path "$BASE/a" || sb_fail "apply-path a while 1000 serves b"
assert_eq "$(ganesha_show_exports)" "1000 $BASE/a" "ShowExports after the replacement"

# Ganesha down: success (served when it starts); then an export it refuses: one line, nothing left
ganesha_stop
et set "$BASE/b" 1001 127.0.0.1 || sb_fail "set b"
et apply-path "$BASE/b" > "$S/out" 2>&1 || sb_fail "apply-path with Ganesha down: $(cat "$S/out")"
no_one_left "Ganesha down"
ganesha_start "$G"
assert_eq "$(display 1001)" "none" "b before apply_path (no %include)"
rmdir "$BASE/b"
et apply-path "$BASE/b" > "$S/out" 2>&1 && sb_fail "apply-path of a missing directory succeeded"
assert_eq "$(wc -l < "$S/out")" 1 "lines of the refusal: $(cat "$S/out")"
grep -q "^export-tool: EIO: NFS-Ganesha refused AddExport of Export_Id 1001" "$S/out" || sb_fail "refusal: $(cat "$S/out")"
no_one_left "refused"
mkdir "$BASE/b"
et apply-path "$BASE/b" || sb_fail "apply-path b once the directory is back"
assert_eq "$(display 1001)" "$BASE/b" "b served"

# a removal whose id serves another path by then (ids are given again once a share is gone):
# that export is left alone, the note goes
mkdir -p "$BASE/c"
et apply-path "$BASE/a" || sb_fail "apply-path a after Ganesha's restart"
assert_eq "$(display 1000)" "$BASE/a" "a served after Ganesha's restart"
et remove "$BASE/a" || sb_fail "remove a"
mgr RemoveExport 1000 > /dev/null || sb_fail "RemoveExport by hand"
sed "s|$BASE/b|$BASE/c|g" "$S/b.conf" > "$S/c.conf"
mgr AddExport "$S/c.conf" "EXPORT(Export_Id=1000)" > /dev/null || sb_fail "AddExport of c under 1000 by hand"
et apply-path "$BASE/a" || sb_fail "apply-path of a while 1000 serves c"
assert_eq "$(display 1000)" "$BASE/c" "1000 still serves c"
assert_eq "$(notes)" 0 "removal notes after apply_path"
mgr RemoveExport 1000 > /dev/null || sb_fail "RemoveExport of c by hand"
# a removal while Ganesha is down: the note stays until Ganesha is back
ganesha_stop
et remove "$BASE/b" && et apply-path "$BASE/b" || sb_fail "remove and apply-path of b with Ganesha down"
assert_eq "$(notes)" 1 "removal notes while Ganesha is down"
ganesha_start "$G"
et apply-path "$BASE/b" || sb_fail "apply-path of b once Ganesha is back"
assert_eq "$(notes)" 0 "removal notes once Ganesha is back"
et set "$BASE/a" 1000 127.0.0.1 && et set "$BASE/b" 1001 127.0.0.1 || sb_fail "a and b set again"

# everything out again through the table
et remove "$BASE/a" && et remove "$BASE/b" && et apply || sb_fail "remove and apply"
assert_eq "$(ganesha_show_exports)" "" "ShowExports at the end"
ganesha_stop
umount "$BASE"
sb_pass
