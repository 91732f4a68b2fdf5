#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Load test, loopback only: the real nfsprovd with [server] listen = 127.0.0.1:PORT, 100
# concurrent clients (api-load-tool, libcurl) polling GET /v1/pools for NP_LOAD_SECONDS (20)
# seconds (at most NP_LOAD_MAX_REQUESTS requests) while this script creates and deletes shares
# through nfsprov, one after the other, following a plan the tool also reads. Passes when no
# request failed and every response was a consistent snapshot: valid JSON, every pool with all
# its keys and values, each name with one uuid throughout (the one nfsprov shows), the set of
# pools always one that existed at some point of the plan, never older than one the same client
# saw before; and when operations really ran during the load. Prints requests, req/s, p50/p99.
# NP_LOAD_TRANSPORT=tcp|unix (default tcp). The TCP listener is required either way: the test
# fails when nfsprovd does not listen on [server] listen.
. "$NP_TOP_SRCDIR/tests/integration/nfsprovd-lib.sh"
sb_require_cmd curl curl
sb_require_cmd ss iproute2
TOOL=$NP_TOP_BUILDDIR/tests/integration/api-load-tool
[ -x "$TOOL" ] || sb_fail "$TOOL is not built (make check builds it)"
LOAD_SECONDS=${NP_LOAD_SECONDS:-20}
LOAD_CLIENTS=${NP_LOAD_CLIENTS:-100}
LOAD_MAX=${NP_LOAD_MAX_REQUESTS:-500000}
TRANSPORT=${NP_LOAD_TRANSPORT:-tcp}
INITIAL=4

# a free loopback port (nothing listens on it now)
port=
for p in $(shuf -i 20000-60999 -n 50); do
    ss -Hltn "sport = :$p" 2>/dev/null | grep -q . || { port=$p; break; }
done
[ -n "$port" ] || sb_fail "no free TCP port found on 127.0.0.1"

write_config
sed -i "/^\[server\]/a listen = 127.0.0.1:$port" "$CONF"
start_daemon
# nfsprovd answers only after it listens everywhere it should: [server] listen must be served
ss -Hltn "src 127.0.0.1:$port" | grep -q . ||
    { tail -20 "$S/nfsprovd.log" >&2; sb_fail "nfsprovd does not listen on 127.0.0.1:$port ([server] listen)"; }
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v1/pools") ||
    sb_fail "GET /v1/pools over TCP failed"
assert_eq "$code" 200 "GET /v1/pools over TCP"
case "$TRANSPORT" in
tcp) target=(--url "http://127.0.0.1:$port") ;;
unix) target=(--unix "$SOCK") ;;
*) sb_fail "NP_LOAD_TRANSPORT=$TRANSPORT: allowed: tcp, unix" ;;
esac

# The plan: INITIAL shares first, then create one and delete the oldest, in turn; every name once.
plan=$S/plan
: > "$plan"
for i in $(seq 0 $((INITIAL - 1))); do printf 'create Load_%03d\n' "$i" >> "$plan"; done
for i in $(seq 0 199); do
    printf 'create Load_%03d\ndelete Load_%03d\n' $((INITIAL + i)) "$i" >> "$plan"
done

# run_op LINE: perform one line of the plan ("create NAME" / "delete NAME") through nfsprov;
# record the uuid of a new pool
run_op() {
    local op name
    read -r op name <<< "$1"
    case "$op" in
    create)
        np create "$name" --size 32M > "$S/op.out" 2>&1 || { cat "$S/op.out"; sb_fail "create $name failed"; }
        echo "$name $(share_field "$name" pool_uuid)" >> "$S/uuids.expected" ;;
    delete)
        np delete "$name" > "$S/op.out" 2>&1 || { cat "$S/op.out"; sb_fail "delete $name failed"; } ;;
    esac
}

: > "$S/uuids.expected"
done_ops=0
mapfile -t lines < "$plan"
for ((k = 0; k < INITIAL; k++)); do run_op "${lines[k]}"; done_ops=$((done_ops + 1)); done

"$TOOL" "${target[@]}" --plan "$plan" --clients "$LOAD_CLIENTS" --seconds "$LOAD_SECONDS" \
    --max-requests "$LOAD_MAX" --host 127.0.0.1 --base "$BASE" --target-base /var/lib/libvirt/nfsprov \
    --uuids "$S/uuids.seen" > "$S/tool.out" 2> "$S/tool.err" &
tool=$!
sb_track_pid "$tool"
during=0
while kill -0 "$tool" 2>/dev/null; do
    [ "$done_ops" -lt "${#lines[@]}" ] || break
    run_op "${lines[done_ops]}"
    done_ops=$((done_ops + 1))
    during=$((during + 1))
done
wait "$tool"; rc=$?
cat "$S/tool.out"; cat "$S/tool.err" >&2
[ "$rc" = 0 ] || { tail -20 "$S/nfsprovd.log" >&2; sb_fail "the load found failed or inconsistent responses (exit $rc)"; }
kill -0 "$DAEMON_PID" 2>/dev/null || sb_fail "nfsprovd died under load"
[ "$during" -ge 4 ] || sb_fail "only $during operations ran during the load; it proves nothing"
seen=$(sed -n 's/.* \([0-9]*\) of the plan.s [0-9]* sets of pools seen.*/\1/p' "$S/tool.out")
[ -n "$seen" ] && [ "$seen" -ge 3 ] || sb_fail "the clients saw only ${seen:-?} different sets of pools while $during operations ran"

# every pool the clients saw had the uuid nfsprov shows for that share
while read -r name uuid; do
    want=$(awk -v n="$name" '$1 == n {print $2}' "$S/uuids.expected")
    assert_eq "$uuid" "$want" "uuid of $name seen by the clients"
done < "$S/uuids.seen"

# the end state is what the plan says after the operations that ran
final=$(np --json list | jq -r '.shares[].name' | sort | tr '\n' ' ')
expect=$(head -n "$done_ops" "$plan" | awk '$1 == "create" {s[$2] = 1} $1 == "delete" {delete s[$2]} END {for (n in s) print n}' | sort | tr '\n' ' ')
assert_eq "$final" "$expect" "shares after the load"

for name in $final; do np delete "$name" > /dev/null || sb_fail "delete $name failed"; done
stop_daemon
sb_pass "$done_ops operations ($during during the load), $(sed 's/^api-load-tool: //' "$S/tool.out")"
