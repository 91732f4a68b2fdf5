#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A database failure is an error, never "no such share": with the shares table gone from under
# a running nfsprovd, show, list, delete and resize answer 500 / exit status 1 with SQLite's
# message and change nothing; once the table is back, everything answers as before.
. "$NP_TOP_SRCDIR/tests/integration/nfsprovd-lib.sh"
sb_require_cmd sqlite3 sqlite3
sb_require_cmd curl curl
write_config
start_daemon
np create Kept --size 32M > /dev/null || sb_fail "create Kept failed"
assert_share_ready Kept
DB=$S/state/nfsprov.db
before=$(snapshot)

sqlite3 "$DB" "ALTER TABLE shares RENAME TO shares_away" || sb_fail "cannot rename the table"
# reads are served from a snapshot at most ~2 s old: wait until it is rebuilt
for i in $(seq 100); do
    out=$(np show Kept 2>&1) || break
    sleep 0.1
done
echo "$out"
assert_contains "$out" "no such table: shares" "show with the table gone"
assert_not_contains "$out" "no such share"
np show Kept > /dev/null 2>&1; assert_eq "$?" 1 "show with the table gone: exit status"
code=$(curl -s -o "$S/body" -w '%{http_code}' --unix-socket "$SOCK" http://localhost/v1/shares/Kept)
assert_eq "$code" 500 "GET /v1/shares/Kept with the table gone"
assert_contains "$(cat "$S/body")" "no such table: shares"
code=$(curl -s -o "$S/body" -w '%{http_code}' --unix-socket "$SOCK" http://localhost/v1/shares)
assert_eq "$code" 500 "GET /v1/shares with the table gone"
for cmd in "delete Kept --force" "resize Kept --size 64M"; do
    # shellcheck disable=SC2086
    out=$(np $cmd 2>&1); rc=$?
    echo "$out"
    assert_eq "$rc" 1 "$cmd with the table gone: exit status"
    assert_contains "$out" "no such table: shares" "$cmd with the table gone"
    assert_not_contains "$out" "no such share"
done
out=$(np create Other --size 32M 2>&1); rc=$?
echo "$out"
assert_eq "$rc" 1 "create with the table gone: exit status"
assert_contains "$out" "no such table: shares" "create with the table gone"

sqlite3 "$DB" "ALTER TABLE shares_away RENAME TO shares" || sb_fail "cannot rename the table back"
for i in $(seq 100); do np show Kept > /dev/null 2>&1 && break; sleep 0.1; done
assert_eq "$(snapshot)" "$before" "the failed operations changed nothing"
assert_share_ready Kept
stop_daemon
sb_pass
