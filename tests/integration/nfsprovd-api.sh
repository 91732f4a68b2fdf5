#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# nfsprovd's API on TCP and on the Unix socket, driven with curl against the real daemon:
# every endpoint, every error status, token auth (missing, wrong, right, token file checks),
# idempotent create, 202 + polling of operations, reads served while an operation runs, body and
# header limits, a stalled client that must not delay others, metrics, health, TLS, and the pool
# allowlist seen from two client network namespaces (10.77.0.2 and 10.77.0.3 on veth pairs to a
# bridge holding 10.77.0.1; nothing else is touched). Everything it needs is checked first: it
# runs whole or is skipped whole.
. "$NP_TOP_SRCDIR/tests/integration/nfsprovd-lib.sh"
sb_require_cmd curl curl
sb_require_cmd ip iproute2
sb_require_cmd openssl openssl
sb_require_cmd qemu-img qemu-utils
probe=npbp$$
{ ip link add "$probe" type bridge && ip link del "$probe"; } > /dev/null 2>&1 ||
    sb_skip "cannot create a bridge here (ip link add type bridge)"
{ ip netns add "$probe" && ip netns del "$probe"; } > /dev/null 2>&1 ||
    sb_skip "cannot create network namespaces here (ip netns add)"

PORT=$((20000 + RANDOM % 20000))
TOKEN=tok-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
TCP=http://127.0.0.1:$PORT
printf '%s\n' "$TOKEN" > "$S/token"
chmod 600 "$S/token"

# Writes data into its shares behind nfsprov's back (stand-ins for what VMs write): the guard is off.
GUARD=off
# no [server] address: the pool host is the address each client reached
api_config() {
    write_config
    sed -i "/^address = /d; s|^\[server\]|[server]\nlisten = 0.0.0.0:$PORT${TOKEN_FILE:+\ntoken_file = $TOKEN_FILE}${TLS:+\ntls_cert = $S/cert.pem\ntls_key = $S/key.pem}|" "$CONF"
}

# req METHOD URL [curl args...]: prints "STATUS" on the first line, then the body
req() {
    local m=$1 u=$2; shift 2
    curl -s -S -o "$S/body" -w '%{http_code}\n' -X "$m" --max-time 20 "$@" "$u" || echo "curl-failed"
    cat "$S/body" 2>/dev/null
}
status_of() { head -1 <<< "$1"; }
body_of() { tail -n +2 <<< "$1"; }
auth=(-H "Authorization: Bearer $TOKEN")
json=(-H "Content-Type: application/json")
usock=(--unix-socket "$SOCK")

# expect STATUS CODE "what" RESPONSE: the status and the error code of the JSON error body
expect_error() {
    local st=$1 code=$2 what=$3 out=$4
    assert_eq "$(status_of "$out")" "$st" "$what: status"
    assert_eq "$(body_of "$out" | jq -r .error.code)" "$code" "$what: error code"
    [ -n "$(body_of "$out" | jq -r .error.message)" ] || sb_fail "$what: no error message"
}

# poll ID [over...]: wait until the operation ended, print its JSON
poll() {
    local id=$1; shift
    local i out
    for i in $(seq 600); do
        out=$(req GET "$@")
        [ "$(body_of "$out" | jq -r .state)" != running ] && { body_of "$out"; return 0; }
        sleep 0.05
    done
    sb_fail "operation $id still running after 30 s"
}

# --- the token file is checked at start ---
TOKEN_FILE=$S/token api_config
chmod 644 "$S/token"
out=$("$NFSPROVD" --config "$CONF" 2>&1); rc=$?
assert_eq "$rc" 1 "token file readable by others: exit status"
assert_contains "$out" "must not be accessible by group or others"
chmod 600 "$S/token"
[ -e "$SOCK" ] && sb_fail "nfsprovd opened its socket with a bad token file"

start_daemon

# --- health and metrics: on TCP without a token for health, with one for metrics ---
out=$(req GET "$TCP/v1/health")
assert_eq "$(status_of "$out")" 200 "health over TCP"
assert_eq "$(body_of "$out" | jq -c '[.status,.reconciled,.state_writable,.exports_applied]')" '["ok",true,true,true]' "health fields"
out=$(req GET "http://localhost/v1/health" "${usock[@]}")
assert_eq "$(status_of "$out")" 200 "health over the Unix socket"

# --- token auth: missing, wrong, right; the 401 asks for a bearer token ---
out=$(req GET "$TCP/v1/shares")
expect_error 401 forbidden "admin without a token" "$out"
curl -s -D - -o /dev/null "$TCP/v1/shares" | grep -qi '^WWW-Authenticate: Bearer' || sb_fail "401 without WWW-Authenticate: Bearer"
out=$(req GET "$TCP/v1/shares" -H "Authorization: Bearer wrong-$TOKEN")
expect_error 401 forbidden "admin with a wrong token" "$out"
out=$(req GET "$TCP/metrics")
expect_error 401 forbidden "metrics without a token" "$out"
out=$(req GET "$TCP/v1/shares" "${auth[@]}")
assert_eq "$(status_of "$out")" 200 "admin with the right token"
assert_eq "$(body_of "$out" | jq -c .shares)" "[]" "no shares yet"

# --- create over TCP: 202, Location, polling until it succeeded ---
hdrs=$(curl -s -D - -o "$S/body" -X POST "${auth[@]}" "${json[@]}" -d '{"name":"NetA","size":"64M"}' "$TCP/v1/shares")
assert_contains "$hdrs" "HTTP/1.1 202"
loc=$(grep -i '^Location:' <<< "$hdrs" | tr -d '\r' | awk '{print $2}')
id=$(jq -r .id "$S/body")
assert_eq "$loc" "/v1/operations/$id" "Location of the operation"
assert_eq "$(jq -r '[.kind,.share] | join(" ")' "$S/body")" "create NetA" "operation kind and share"
op=$(poll "$id" "$TCP$loc" "${auth[@]}")
assert_eq "$(jq -r .state <<< "$op")" succeeded "create NetA: state"
assert_eq "$(jq -r '.progress.done == .progress.total and .progress.total > 0' <<< "$op")" true "create NetA: progress"
assert_eq "$(jq -r .result.name <<< "$op")" NetA "create NetA: result"
assert_eq "$(jq -r .status <<< "$op")" 201 "create NetA: result status"
assert_share_ready NetA
out=$(req GET "$TCP/v1/shares/NetA" "${auth[@]}")
assert_eq "$(status_of "$out")" 200 "one share over TCP"
assert_eq "$(body_of "$out" | jq -r '[.name,.status] | join(" ")')" "NetA ready" "one share over TCP: body"

# the same over the Unix socket (peer credentials, no token), and ?wait=true answers synchronously
out=$(req POST "http://localhost/v1/shares?wait=true" "${usock[@]}" "${json[@]}" -d '{"name":"Only2","size":"64M","clients":["10.77.0.2/32"]}')
assert_eq "$(status_of "$out")" 201 "create with wait over the Unix socket"
assert_eq "$(body_of "$out" | jq -r .status)" ready "created share is ready"
out=$(req POST "http://localhost/v1/shares" "${usock[@]}" "${json[@]}" -d '{"name":"ByName","size":"64M","clients":["client.example.com"]}')
assert_eq "$(status_of "$out")" 202 "create over the Unix socket"
op=$(poll x "http://localhost$(body_of "$out" | jq -r '"/v1/operations/" + .id')" "${usock[@]}")
assert_eq "$(jq -r .state <<< "$op")" succeeded "create ByName"

# idempotent create: same spec 200 at once, another spec 409, invalid 400
out=$(req POST "$TCP/v1/shares" "${auth[@]}" "${json[@]}" -d '{"name":"NetA","size":"64M"}')
assert_eq "$(status_of "$out")" 200 "same create again"
assert_eq "$(body_of "$out" | jq -r .name)" NetA "same create again: the share"
out=$(req POST "$TCP/v1/shares" "${auth[@]}" "${json[@]}" -d '{"name":"NetA","size":"128M"}')
expect_error 409 conflict "create with another spec" "$out"
assert_contains "$(body_of "$out" | jq -r .error.message)" "exists with another"
out=$(req POST "$TCP/v1/shares" "${auth[@]}" "${json[@]}" -d '{"name":"Bad Name","size":"64M"}')
expect_error 400 invalid_input "invalid name" "$out"
assert_contains "$(body_of "$out" | jq -r .error.message)" "blank space"
out=$(req POST "$TCP/v1/shares" "${auth[@]}" "${json[@]}" -d '{"name":"X1","size":"64M","color":"red"}')
expect_error 400 invalid_input "unknown key" "$out"
out=$(req POST "$TCP/v1/shares" "${auth[@]}" "${json[@]}" -d '{"name":"X1",')
expect_error 400 invalid_input "malformed JSON" "$out"
out=$(req GET "$TCP/v1/shares/Nope" "${auth[@]}")
expect_error 404 not_found "unknown share" "$out"
out=$(req GET "$TCP/v1/operations/999999" "${auth[@]}")
expect_error 404 not_found "unknown operation" "$out"
out=$(req PUT "$TCP/v1/shares/NetA" "${auth[@]}")
expect_error 405 invalid_input "wrong method" "$out"
out=$(req GET "$TCP/v1/nothing" "${auth[@]}")
expect_error 404 not_found "unknown path" "$out"

# body limit: 413 (announced by Content-Length); header limit: refused, daemon alive
head -c 2000000 /dev/zero | tr '\0' ' ' > "$S/big"
out=$(req POST "$TCP/v1/shares" "${auth[@]}" "${json[@]}" --data-binary @"$S/big")
expect_error 413 too_large "2 MB body" "$out"
big_header=$(head -c 100000 /dev/zero | tr '\0' a)
st=$(curl -s -o /dev/null -w '%{http_code}' "${auth[@]}" -H "X-Big: $big_header" "$TCP/v1/shares")
case "$st" in 413|431) ;; *) sb_fail "a 100 kB header: status $st, expected 413 or 431";; esac
kill -0 "$DAEMON_PID" || sb_fail "nfsprovd died of a big header"
# the documented header limits (server/http.c): ~31 KiB on TCP (the connection's memory is kept
# at 32 KiB, malloc'ed), ~63 KiB on the Unix socket (64 KiB)
big_header=$(head -c 30000 /dev/zero | tr '\0' a)
st=$(curl -s -o /dev/null -w '%{http_code}' "${auth[@]}" -H "X-Big: $big_header" "$TCP/v1/shares")
assert_eq "$st" 200 "a 30 kB header on TCP"
big_header=$(head -c 60000 /dev/zero | tr '\0' a)
st=$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" -H "X-Big: $big_header" http://localhost/v1/shares)
assert_eq "$st" 200 "a 60 kB header on the Unix socket"

# --- resize and delete: 202 + polling; a failed operation carries the error ---
out=$(req POST "$TCP/v1/shares/NetA/resize" "${auth[@]}" "${json[@]}" -d '{"size":"32M"}')
assert_eq "$(status_of "$out")" 202 "shrink: accepted"
op=$(poll x "$TCP/v1/operations/$(body_of "$out" | jq -r .id)" "${auth[@]}")
assert_eq "$(jq -r '[.state,.status,.error.code] | join(" ")' <<< "$op")" "failed 400 invalid_input" "shrink: failed"
assert_contains "$(jq -r .error.message <<< "$op")" "only grow"
# reads never wait for the running operation: a read that starts while a resize runs (it takes
# several steps: unexport, umount, e2fsck, ...) is answered while the resize still runs. A read
# only counts when the operation was running before it began and after it was answered; when a
# loaded machine lets the resize end before any read could be placed, the share is grown again
# (at most 5 resizes; the test fails if no read was ever answered inside one).
head -c 16M /dev/urandom > "$BASE/NetA/data"
running() { curl -s "${auth[@]}" "$TCP/v1/operations/$1" | grep -q '"state":"running"'; }
served=0 gib=3
while [ "$served" = 0 ] && [ "$gib" -lt 8 ]; do
    gib=$((gib + 1))
    curl -s -o "$S/body" -X POST "${auth[@]}" "${json[@]}" -d "{\"size\":\"${gib}G\"}" "$TCP/v1/shares/NetA/resize"
    rid=$(sed -n 's/.*"id":"\([0-9]*\)".*/\1/p' "$S/body")
    [ -n "$rid" ] || sb_fail "grow: no operation id in $(cat "$S/body")"
    while running "$rid"; do
        ms=$(curl -s -o "$S/list" -w '%{time_total}' "${auth[@]}" "$TCP/v1/shares")
        assert_eq "$(jq -r '.shares | length' "$S/list")" 3 "list during the resize"
        curl -s -o "$S/still" "${auth[@]}" "$TCP/v1/operations/$rid"
        grep -q '"state":"running"' "$S/still" || break
        served=$((served + 1))
        echo "GET /v1/shares during the running resize to ${gib}G (step $(jq -r .step "$S/still"), progress $(jq -r '"\(.progress.done)/\(.progress.total)"' "$S/still")): $ms s"
    done
    op=$(poll "$rid" "$TCP/v1/operations/$rid" "${auth[@]}")
    assert_eq "$(jq -r .state <<< "$op")" succeeded "grow to ${gib}G: succeeded"
    assert_eq "$(jq -r .result.share.size <<< "$op")" $((gib * 1024 * 1024 * 1024)) "grow to ${gib}G: new size"
done
[ "$served" -gt 0 ] || sb_fail "no read was answered while a resize ran (5 resizes): reads wait for operations"
echo data > "$BASE/NetA/vm.qcow2"
out=$(req DELETE "$TCP/v1/shares/NetA" "${auth[@]}")
assert_eq "$(status_of "$out")" 202 "delete non-empty: accepted"
op=$(poll x "$TCP/v1/operations/$(body_of "$out" | jq -r .id)" "${auth[@]}")
assert_eq "$(jq -r '[.state,.status,.error.code] | join(" ")' <<< "$op")" "failed 409 conflict" "delete non-empty"
assert_contains "$(jq -r .error.message <<< "$op")" "vm.qcow2"
out=$(req DELETE "$TCP/v1/shares/NetA?force=maybe" "${auth[@]}")
expect_error 400 invalid_input "bad force value" "$out"

# --- metrics (the same over the Unix socket, without a token) ---
out=$(req GET "http://localhost/metrics" "${usock[@]}")
assert_eq "$(status_of "$out")" 200 "metrics over the Unix socket"
assert_contains "$(body_of "$out")" "# TYPE nfsprov_shares gauge"
out=$(req GET "$TCP/metrics" "${auth[@]}")
assert_eq "$(status_of "$out")" 200 "metrics"
m=$(body_of "$out")
cap=$(df -B1 --output=size "$BASE/NetA" | tail -1 | tr -d ' ')
assert_contains "$m" "nfsprov_share_capacity_bytes{share=\"NetA\"} $cap"
assert_contains "$m" "nfsprov_shares{state=\"ready\"} 3"
assert_contains "$m" "nfsprov_operations_total{kind=\"create\",result=\"succeeded\"} 4"
assert_contains "$m" "nfsprov_operations_total{kind=\"resize\",result=\"failed\"} 1"
assert_contains "$m" "nfsprov_operations_total{kind=\"delete\",result=\"failed\"} 1"
assert_contains "$m" "nfsprov_last_reconcile_timestamp_seconds "
grep -q '^nfsprov_share_used_bytes{share="Only2"} [0-9]' <<< "$m" || sb_fail "no used bytes for Only2"

# --- pools over TCP on 127.0.0.1: no token needed; a peer not in the clients sees nothing ---
out=$(req GET "$TCP/v1/pools")
assert_eq "$(status_of "$out")" 200 "pools over TCP"
assert_eq "$(body_of "$out" | jq -r '[.pools[].name] | join(" ")')" "NetA" "pools 127.0.0.1 may mount (clients *)"
assert_eq "$(body_of "$out" | jq -r '.pools[0].host')" 127.0.0.1 "pool host = the address reached"
out=$(req GET "$TCP/v1/pools/Only2")
expect_error 403 forbidden "pool of a share not exported to 127.0.0.1" "$out"
out=$(req GET "$TCP/v1/pools/NetA" -H "Accept: application/xml")
assert_eq "$(status_of "$out")" 200 "pool XML"
assert_contains "$(body_of "$out")" "<host name='127.0.0.1'/>"
out=$(req GET "http://localhost/v1/pools" "${usock[@]}")
expect_error 400 invalid_input "pools over the socket without an address" "$out"

# --- a slow client (half a request, then silence) does not delay another client ---
# The other request is answered while the stalled connection stays open (nfsprovd keeps an idle
# connection 30 s, req gives up after 20 s); then the stalled client completes its request and is
# answered on the same connection, so it was open all along.
exec 7<>/dev/tcp/127.0.0.1/$PORT
printf 'GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Slow: ' >&7
out=$(req GET "$TCP/v1/health")
assert_eq "$(status_of "$out")" 200 "health while a client stalls"
printf '1\r\nConnection: close\r\n\r\n' >&7
IFS= read -r -t 20 line <&7 || sb_fail "the stalled client got no answer after completing its request"
assert_eq "${line%$'\r'}" "HTTP/1.1 200 OK" "the stalled client, answered after the other request"
exec 7>&-

# --- the allowlist from two client network namespaces ---
sfx=$$
BR=npbr$sfx NS2=np2c$sfx NS3=np3c$sfx
cleanup_net() {
    ip netns del "$NS2" 2>/dev/null
    ip netns del "$NS3" 2>/dev/null
    ip link del "npv2$sfx" 2>/dev/null
    ip link del "npv3$sfx" 2>/dev/null
    ip link del "$BR" 2>/dev/null
}
trap cleanup_net EXIT
{ ip link add "$BR" type bridge && ip addr add 10.77.0.1/24 dev "$BR" && ip link set "$BR" up; } ||
    sb_fail "cannot set up the bridge $BR with 10.77.0.1/24"
for n in 2 3; do
    ns=np${n}c$sfx
    { ip netns add "$ns" &&
      ip link add "npv$n$sfx" type veth peer name "npp$n$sfx" &&
      ip link set "npp$n$sfx" netns "$ns" &&
      ip link set "npv$n$sfx" master "$BR" up &&
      ip netns exec "$ns" ip addr add "10.77.0.$n/24" dev "npp$n$sfx" &&
      ip netns exec "$ns" ip link set "npp$n$sfx" up &&
      ip netns exec "$ns" ip link set lo up; } || sb_fail "cannot set up the client namespace $ns (10.77.0.$n)"
done
for n in 2 3; do
    ok=
    for _ in $(seq 50); do
        ip netns exec "np${n}c$sfx" curl -s -o /dev/null --max-time 1 "http://10.77.0.1:$PORT/v1/health" && { ok=1; break; }
        sleep 0.1
    done
    [ -n "$ok" ] || sb_fail "client 10.77.0.$n cannot reach 10.77.0.1:$PORT"
done
out=$(ip netns exec "$NS2" curl -s "http://10.77.0.1:$PORT/v1/pools")
assert_eq "$(jq -r '[.pools[].name] | join(" ")' <<< "$out")" "NetA Only2" "pools seen from 10.77.0.2"
assert_eq "$(jq -r '[.pools[].host] | unique | join(" ")' <<< "$out")" "10.77.0.1" "pool host seen from 10.77.0.2"
st=$(ip netns exec "$NS2" curl -s -o "$S/p2" -w '%{http_code}' "http://10.77.0.1:$PORT/v1/pools/Only2")
assert_eq "$st" 200 "10.77.0.2 gets the pool of Only2"
assert_eq "$(jq -r .host "$S/p2")" 10.77.0.1 "Only2 host from 10.77.0.2"
out=$(ip netns exec "$NS3" curl -s "http://10.77.0.1:$PORT/v1/pools")
assert_eq "$(jq -r '[.pools[].name] | join(" ")' <<< "$out")" "NetA" "pools seen from 10.77.0.3"
st=$(ip netns exec "$NS3" curl -s -o "$S/p3" -w '%{http_code}' "http://10.77.0.1:$PORT/v1/pools/Only2")
assert_eq "$st" 403 "10.77.0.3 is refused the pool of Only2"
assert_eq "$(jq -r .error.code "$S/p3")" forbidden "10.77.0.3: error code"
st=$(ip netns exec "$NS2" curl -s -o /dev/null -w '%{http_code}' "http://10.77.0.1:$PORT/v1/pools/ByName")
assert_eq "$st" 403 "a host-name client spec admits nobody over the API"
st=$(ip netns exec "$NS3" curl -s -o /dev/null -w '%{http_code}' "http://10.77.0.1:$PORT/v1/shares")
assert_eq "$st" 401 "admin from a client namespace without a token"
cleanup_net
trap - EXIT

# --- no token file: admin over TCP is off (403), pools still served ---
stop_daemon
TOKEN_FILE= api_config
start_daemon
out=$(req GET "$TCP/v1/shares" "${auth[@]}")
expect_error 403 forbidden "admin over TCP without a token file" "$out"
out=$(req GET "$TCP/v1/pools")
assert_eq "$(status_of "$out")" 200 "pools without a token file"

# --- TLS ---
stop_daemon
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$S/key.pem" -out "$S/cert.pem" -days 1 \
    -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" > /dev/null 2>&1 || sb_fail "openssl req failed"
chmod 600 "$S/key.pem"
TLS=1 TOKEN_FILE=$S/token api_config
start_daemon
out=$(req GET "https://127.0.0.1:$PORT/v1/shares" --cacert "$S/cert.pem" "${auth[@]}")
assert_eq "$(status_of "$out")" 200 "admin over TLS"
assert_eq "$(body_of "$out" | jq -r '[.shares[].name] | join(" ")')" "ByName NetA Only2" "shares over TLS"
out=$(req GET "https://127.0.0.1:$PORT/v1/pools/NetA" --cacert "$S/cert.pem" -H "Accept: application/xml")
assert_contains "$(body_of "$out")" "<host name='127.0.0.1'/>"
st=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$PORT/v1/health")
[ "$st" = 200 ] && sb_fail "plain HTTP answered on the TLS port"
kill -0 "$DAEMON_PID" || sb_fail "nfsprovd died of a plain HTTP request on its TLS port"
HTTPS=https://127.0.0.1:$PORT
# the nfsprov CLI over HTTPS: --url with --token-file and --ca-file; without the token it is refused
out=$("$NFSPROV_BIN" --url "$HTTPS" --token-file "$S/token" --ca-file "$S/cert.pem" create NetCli --size 32M 2>&1) || sb_fail "nfsprov --url create: $out"
assert_share_ready NetCli
out=$("$NFSPROV_BIN" --url "$HTTPS/" --token-file "$S/token" --ca-file "$S/cert.pem" --json show NetCli) || sb_fail "nfsprov --url show: $out"
assert_eq "$(jq -r '[.name,.status] | join(" ")' <<< "$out")" "NetCli ready" "nfsprov --url show"
out=$("$NFSPROV_BIN" --url "$HTTPS" --ca-file "$S/cert.pem" list 2>&1); rc=$?
assert_eq "$rc" 1 "nfsprov --url without a token: exit status"
assert_eq "$(wc -l <<< "$out")" 1 "nfsprov --url without a token: one line"
assert_contains "$out" "token" "nfsprov --url without a token"
out=$("$NFSPROV_BIN" --url "$HTTPS" --token-file "$S/token" list 2>&1); rc=$?
assert_eq "$rc" 1 "nfsprov --url to a self-signed server without --ca-file: exit status"
assert_contains "$out" "certificate" "nfsprov --url to a self-signed server without --ca-file"
out=$("$NFSPROV_BIN" --url "$HTTPS" --socket "$SOCK" list 2>&1); rc=$?
assert_eq "$rc" 2 "nfsprov --url with --socket: exit status"
# a volume streamed up and down over HTTPS (libcurl's read callback, offsets counted by nfsprov):
# byte for byte the file sent, and back
head -c 12M /dev/urandom > "$S/data.raw"
qemu-img convert -f raw -O qcow2 -o compat=1.1 "$S/data.raw" "$S/up.qcow2" || sb_fail "qemu-img convert"
cli=("$NFSPROV_BIN" --url "$HTTPS" --token-file "$S/token" --ca-file "$S/cert.pem")
out=$("${cli[@]}" vol-upload NetCli up "$S/up.qcow2" 2>&1) || sb_fail "nfsprov --url vol-upload: $out"
cmp "$S/up.qcow2" "$BASE/NetCli/up" || sb_fail "the volume uploaded over --url differs from the file sent"
out=$("${cli[@]}" vol-download NetCli up "$S/down.qcow2" 2>&1) || sb_fail "nfsprov --url vol-download: $out"
cmp "$S/up.qcow2" "$S/down.qcow2" || sb_fail "the volume downloaded over --url differs from the file sent"
"${cli[@]}" vol-delete NetCli up > /dev/null || sb_fail "nfsprov --url vol-delete"
out=$("${cli[@]}" delete NetCli 2>&1) || sb_fail "nfsprov --url delete: $out"
assert_share_gone NetCli

# the CLI keeps working synchronously (it waits for the operation)
np delete NetA --force > /dev/null || sb_fail "nfsprov delete --force failed"
assert_share_gone NetA
for n in Only2 ByName; do np delete "$n" > /dev/null || sb_fail "delete $n failed"; done
stop_daemon
sb_pass
