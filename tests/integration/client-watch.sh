#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Hosts kept in sync without cost: GET /v1/pools answers with a strong ETag (the hash of its body)
# and honours If-None-Match (304 without a body for a match, a list, a weak tag, "*"; 200 for
# another tag; 400 for a malformed header or a bad ?wait=); a changed definition gives 200 with a
# new ETag, while a restart of nfsprovd keeps the tag of unchanged definitions; other routes and
# methods answer as before. nfsprov-client sync with its cache (on a private libvirtd "KVM host",
# tests/integration/libvirtd-lib.sh): the first sync fetches, the next gets 304 and does no
# definition work (no action, no refresh, the host untouched) yet still finds the host's drift (a
# pool stopped by hand is started, a target unmounted behind libvirt's back is reported); a
# corrupt cache is ignored. The long poll (?wait=) is still waiting when a share is created and
# then answers 200 with the new pool. `watch` defines a new share's pool and lists a new volume
# with no other prompt, keeps going while the server is down, and ends with exit status 0 on
# SIGTERM.
. "$NP_TOP_SRCDIR/tests/integration/nfsprovd-lib.sh"
sb_require_cmd curl curl
. "$NP_TOP_SRCDIR/tests/integration/libvirtd-lib.sh"
[ -x "$NFSPROV_CLIENT" ] || sb_fail "$NFSPROV_CLIENT is not built"

LV_CACHE=1
lv_server Watch_01 Watch_02
Q="$SERVER/v1/pools?sizes=false"

# get URL [curl args...]: status in $CODE, headers in $S/h, body in $S/b, the ETag in $ETAG
get() {
    : > "$S/b"
    CODE=$(curl -s -D "$S/h" -o "$S/b" -w '%{http_code}' "$@") || sb_fail "curl $* failed"
    ETAG=$(awk 'tolower($1) == "etag:" { print $2 }' "$S/h" | tr -d '\r')
}
# wait_for WHAT CMD...: until CMD succeeds (60 s hang guard)
wait_for() {
    local what=$1 i; shift
    for i in $(seq 600); do "$@" && return 0; sleep 0.1; done
    [ -f "$S/watch.err" ] && { echo "--- watch's output:"; cat "$S/watch.out" "$S/watch.err"; }
    sb_fail "$what: not within 60 s"
}

# --- ETag and If-None-Match ---
get "$Q"
assert_eq "$CODE" 200 "GET /v1/pools?sizes=false"
[[ $ETAG =~ ^\"[0-9a-f]{32}\"$ ]] || sb_fail "ETag [$ETAG] is not a strong quoted tag of 32 hex digits"
E1=$ETAG
assert_eq "$(jq -r '[.pools[].name] | join(" ")' "$S/b")" "Watch_01 Watch_02" "pools"
assert_eq "$(jq -c '[.pools[] | has("capacity"), has("allocation")] | unique' "$S/b")" "[false]" "?sizes=false: no live sizes"
assert_eq "$(jq -r '.pools[0].xml | contains("<capacity")' "$S/b")" false "?sizes=false: no sizes in the XML either"
get "$Q" -H "If-None-Match: $E1"
assert_eq "$CODE" 304 "If-None-Match with the current tag"
assert_eq "$(stat -c %s "$S/b")" 0 "304: no body"
assert_eq "$ETAG" "$E1" "304: the same ETag"
get "$Q" -H "If-None-Match: \"0123\", W/$E1"
assert_eq "$CODE" 304 "If-None-Match: a list with the weak form of the tag"
get "$Q" -H "If-None-Match: \"0123\"" -H "If-None-Match: $E1"
assert_eq "$CODE" 304 "If-None-Match over two header lines"
get "$Q" -H "If-None-Match: *"
assert_eq "$CODE" 304 "If-None-Match: *"
get "$Q" -H "If-None-Match: \"0123\""
assert_eq "$CODE" 200 "If-None-Match with another tag"
assert_eq "$ETAG" "$E1" "200: the same ETag"
get "$Q" -H "If-None-Match: 0123"
assert_eq "$CODE" 400 "If-None-Match: an unquoted tag"
assert_contains "$(jq -r .error.message "$S/b")" "invalid If-None-Match header" "400: the message"
for w in abc -1 301 1.5 ""; do
    get "$Q&wait=$w" -H "If-None-Match: $E1"
    assert_eq "$CODE" 400 "?wait=$w"
    assert_eq "$(jq -r .error.message "$S/b")" "invalid query argument wait=\"$w\"; allowed: whole seconds, 0 to 300" "?wait=$w: the message"
done
get "$Q&wait=1" -H "If-None-Match: $E1"
assert_eq "$CODE" 304 "?wait=1 with nothing changed: 304 at the end of the wait"
get "$Q&wait=5" -H "If-None-Match: \"0123\""
assert_eq "$CODE" 200 "?wait=5 with another tag: 200 at once"
# the full answer has its own tag; other routes and methods are as they were
get "$SERVER/v1/pools"
assert_eq "$CODE" 200 "GET /v1/pools"
[ -n "$ETAG" ] && [ "$ETAG" != "$E1" ] || sb_fail "GET /v1/pools (with sizes): ETag [$ETAG], expected one other than $E1"
assert_eq "$(jq -c '[.pools[] | has("capacity")] | unique' "$S/b")" "[true]" "GET /v1/pools: the live sizes"
get "$SERVER/v1/pools/Watch_01" -H "If-None-Match: $E1"
assert_eq "$CODE $ETAG" "200 " "GET /v1/pools/NAME: no ETag, If-None-Match ignored"
CODE=$(curl -s -I -o /dev/null -w '%{http_code}' "$Q")
assert_eq "$CODE" 405 "HEAD /v1/pools"
CODE=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$SERVER/v1/pools")
assert_eq "$CODE" 405 "POST /v1/pools"

# --- sync with the cache: fetched, then 304 and no definition work ---
lv_start A > /dev/null || exit 1
lv_run A --server "$SERVER" sync --json
lv_expect_rc 0 "first sync on A"
assert_eq "$(jq -r .definitions <<< "$LV_OUT")" fetched "first sync: definitions"
assert_eq "$(jq -c '[.pools[].status] | unique' <<< "$LV_OUT")" '["changed"]' "first sync: statuses"
[ -f "$(lv_cache A)" ] || sb_fail "no cache file $(lv_cache A) after the first sync"
assert_eq "$(jq -r '.servers[0].etag' "$(lv_cache A)")" "$E1" "the cached ETag"
before=$(lv_snapshot A)
sleep 0.01   # a rewrite would get another mtime
lv_run A --server "$SERVER" sync --json
lv_expect_rc 0 "sync on A, definitions unchanged"
assert_eq "$(jq -r .definitions <<< "$LV_OUT")" unchanged "second sync: definitions"
assert_eq "$(jq -c '[.pools[] | [.status, (.actions | length), .refreshed]] | unique' <<< "$LV_OUT")" '[["in-sync",0,false]]' \
    "second sync: in sync, no action, no refresh"
assert_eq "$(lv_snapshot A)" "$before" "a sync on 304 changed the host"
lv_run A --server "$SERVER" sync
lv_expect_rc 0 "sync on A (text), definitions unchanged"
assert_eq "$LV_OUT" "sync: nothing to do, 2 pools in sync (definitions unchanged)" "sync on 304: output"

# drift on 304: a pool stopped by hand is found and started; a target unmounted is reported
lv_virsh A pool-destroy Watch_01 > /dev/null || sb_fail "pool-destroy Watch_01 on A failed"
lv_run A --server "$SERVER" sync --json
lv_expect_rc 0 "sync on 304 with Watch_01 stopped"
assert_eq "$(jq -r .definitions <<< "$LV_OUT")" unchanged "sync with Watch_01 stopped: definitions"
assert_eq "$(jq -c '.pools[] | select(.name == "Watch_01") | [.status, .actions]' <<< "$LV_OUT")" '["changed",["start"]]' \
    "sync on 304: the stopped pool is started"
assert_eq "$(lv_pool_info A Watch_01 State)" running "Watch_01 on A after the sync on 304"
lv_in A umount "$TARGETS/Watch_02" || sb_fail "cannot unmount Watch_02's target on A"
lv_run A --server "$SERVER" sync
lv_expect_rc 1 "sync on 304 with Watch_02 unmounted"
assert_contains "$LV_OUT" "Watch_02: drift: " "sync on 304: the unmounted target"
assert_eq "$(tail -1 <<< "$LV_OUT")" "sync: definitions unchanged; 2 pools: 0 changed, 1 in sync, 1 drift, 0 conflicts, 0 failed" \
    "sync on 304 with drift: summary"
lv_run A --server "$SERVER" sync --fix
lv_expect_rc 0 "sync --fix on 304"
lv_expect_line "$LV_OUT" "Watch_02: restart" "sync --fix on 304"

# a corrupt cache is ignored, and replaced
echo '{"version":1,"servers":[{"url":' > "$(lv_cache A)"
lv_run A --server "$SERVER" sync --json
lv_expect_rc 0 "sync with a corrupt cache"
assert_eq "$(jq -r .definitions <<< "$LV_OUT")" fetched "sync with a corrupt cache: definitions"
assert_eq "$(jq -r '.servers[0].etag' "$(lv_cache A)")" "$E1" "the cache after a corrupt one"

# --- a changed definition: 200 with a new ETag; a restart keeps the tag of what did not change ---
np create Watch_03 --size 32M > "$S/out" 2>&1 || { cat "$S/out"; sb_fail "create Watch_03 failed"; }
get "$Q" -H "If-None-Match: $E1"
assert_eq "$CODE" 200 "If-None-Match with the old tag after a create"
E2=$ETAG
[ -n "$E2" ] && [ "$E2" != "$E1" ] || sb_fail "ETag after a create: [$E2], expected a new one (old $E1)"
assert_eq "$(jq -r '[.pools[].name] | join(" ")' "$S/b")" "Watch_01 Watch_02 Watch_03" "pools after the create"
stop_daemon
start_daemon
get "$Q" -H "If-None-Match: $E2"
assert_eq "$CODE" 304 "If-None-Match after a restart of nfsprovd, nothing changed"
lv_run A --server "$SERVER" sync --json
lv_expect_rc 0 "sync after the create"
assert_eq "$(jq -r .definitions <<< "$LV_OUT")" fetched "sync after the create: definitions"
assert_eq "$(jq -c '.pools[] | select(.name == "Watch_03") | .actions' <<< "$LV_OUT")" '["define","autostart","build","start"]' \
    "sync after the create: Watch_03"

# --- the long poll: still waiting when the share is created, then 200 with it ---
: > "$S/lp.body"
curl -s -o "$S/lp.body" -D "$S/lp.h" -w '%{http_code}' -H "If-None-Match: $E2" "$Q&wait=300" > "$S/lp.code" &
lp=$!
sb_track_pid "$lp"
sleep 1   # let it reach the server (not a bound: whatever the delay, the order is asserted below)
kill -0 "$lp" 2> /dev/null || sb_fail "the long poll answered before any change: $(cat "$S/lp.code")"
np create Watch_04 --size 32M > "$S/out" 2>&1 || { cat "$S/out"; sb_fail "create Watch_04 failed"; }
wait_for "the long poll's answer after the create" eval '! kill -0 "$lp" 2> /dev/null'
wait "$lp"
assert_eq "$(cat "$S/lp.code")" 200 "the long poll after the create"
assert_eq "$(jq -r '[.pools[].name] | join(" ")' "$S/lp.body")" "Watch_01 Watch_02 Watch_03 Watch_04" "the long poll's pools"
E3=$(awk 'tolower($1) == "etag:" { print $2 }' "$S/lp.h" | tr -d '\r')
[ -n "$E3" ] && [ "$E3" != "$E2" ] || sb_fail "the long poll's ETag [$E3], expected a new one"

# --- watch: a new share's pool and a new volume reach the host with no other prompt ---
pid=$(lv_pid A)
: > "$S/watch.err"   # before the grep below (the background command opens it itself)
nsenter -t "$pid" -m -- "$NFSPROV_CLIENT" --connect "$(lv_uri A)" --cache "$(lv_cache A)" --server "$SERVER" watch \
    > "$S/watch.out" 2> "$S/watch.err" &
wpid=$!
sb_track_pid "$wpid"
wait_for "watch's first sync" grep -q "watch: waiting for changes" "$S/watch.err"
assert_contains "$(cat "$S/watch.out")" "Watch_04: define, autostart, build, start" "watch's first sync"
np create Watch_05 --size 32M > "$S/out" 2>&1 || { cat "$S/out"; sb_fail "create Watch_05 failed"; }
wait_for "Watch_05 running on A (watch)" eval '[ "$(lv_pool_info A Watch_05 State)" = running ]'
assert_eq "$(lv_pool_info A Watch_05 Autostart)" yes "Watch_05 on A: autostart (watch)"
np vol-create Watch_01 v1.qcow2 --capacity 1M > "$S/out" 2>&1 || { cat "$S/out"; sb_fail "vol-create failed"; }
wait_for "v1.qcow2 listed by libvirt on A (watch)" eval 'lv_virsh A vol-list Watch_01 | grep -q v1.qcow2'
# the server goes away and comes back: watch retries, then follows again
stop_daemon
wait_for "watch's retry while the server is down" grep -q "trying again in" "$S/watch.err"
start_daemon
np create Watch_06 --size 32M > "$S/out" 2>&1 || { cat "$S/out"; sb_fail "create Watch_06 failed"; }
wait_for "Watch_06 running on A (watch, after the restart)" eval '[ "$(lv_pool_info A Watch_06 State)" = running ]'
kill -0 "$wpid" 2> /dev/null || sb_fail "watch exited: $(cat "$S/watch.err")"
kill -TERM "$wpid"
wait_for "watch's end after SIGTERM" eval '! kill -0 "$wpid" 2> /dev/null'
wait "$wpid"
rc=$?
assert_eq "$rc" 0 "watch's exit status after SIGTERM"
assert_contains "$(tail -1 "$S/watch.err")" "watch: stopped" "watch's last line"
lv_run A --server "$SERVER" verify
lv_expect_rc 0 "verify on A after watch"

lv_stop_all
stop_daemon
sb_pass
