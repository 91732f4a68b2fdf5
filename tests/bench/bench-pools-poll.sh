#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Benchmark (on demand, not run by make check or CI): what KVM hosts polling GET /v1/pools cost
# nfsprovd. With BENCH_SHARES shares (20), measured with wrk (Debian package wrk):
#  1. idle: nfsprovd's CPU over BENCH_WINDOW seconds (60) with no request;
#  2. the idle poll of 1,000 hosts a minute: ~16.7 requests/s of GET /v1/pools?sizes=false with
#     If-None-Match: the current tag (304), each on a new connection (Connection: close: a host's
#     poll every few minutes reuses nothing), paced by tests/bench/pools-poll.lua; nfsprovd's CPU
#     time (utime + stime of /proc/PID/stat) over the same window, as % of one core;
#  3. the same rate answered 200 (no If-None-Match), for comparison, and the 304 poll on kept-alive
#     connections (what a connection costs beside the request);
#  4. the max rate of each (wrk, BENCH_CONNECTIONS (50) keep-alive connections, BENCH_SECONDS (15)),
#     with nfsprovd's CPU per request;
#  5. BENCH_WAITERS (2000) long polls (?wait=300, the current tag) held open for BENCH_SECONDS:
#     nfsprovd's threads, RSS and CPU meanwhile (tests/integration/client-watch.sh shows that a
#     change answers them).
# nfsprovd's threads that used CPU in the idle window are listed (name: ticks).
#
#   NP_TOP_SRCDIR=$PWD NP_TOP_BUILDDIR=$PWD/build tests/sandbox/sandbox-run tests/bench/bench-pools-poll.sh
: "${NP_TOP_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${NP_TOP_BUILDDIR:=$NP_TOP_SRCDIR/build}"
export NP_TOP_SRCDIR NP_TOP_BUILDDIR
. "$NP_TOP_SRCDIR/tests/integration/nfsprovd-lib.sh"
NP_FAULTS=off # the daemon as in production: no fault file read at every fault point
sb_require_cmd wrk wrk
sb_require_cmd curl curl
SHARES=${BENCH_SHARES:-20}
WINDOW=${BENCH_WINDOW:-60}
DURATION=${BENCH_SECONDS:-15}
CONNS=${BENCH_CONNECTIONS:-50}
WAITERS=${BENCH_WAITERS:-2000}
LUA=$NP_TOP_SRCDIR/tests/bench/pools-poll.lua
HZ=$(getconf CLK_TCK)
ulimit -n 65536 2> /dev/null || ulimit -n "$(ulimit -Hn)"

# cpu_ticks: nfsprovd's utime + stime (clock ticks)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$DAEMON_PID/stat"; }
status_of() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$DAEMON_PID/status"; }
# pct TICKS SECONDS: % of one core
pct() { awk -v t="$1" -v s="$2" -v hz="$HZ" 'BEGIN { printf "%.3f", 100 * t / hz / s }'; }

API_PORT=$(free_port)
write_config
sed -i "/^\[server\]/a listen = 127.0.0.1:$API_PORT" "$CONF"
start_daemon
for i in $(seq -f '%03g' 1 "$SHARES"); do
    np create "Poll_$i" --size 32M > "$S/op.out" 2>&1 || { cat "$S/op.out"; sb_fail "create Poll_$i failed"; }
done
URL="http://127.0.0.1:$API_PORT/v1/pools?sizes=false"
ETAG=$(curl -sf -D - -o "$S/pools.json" "$URL" | awk 'tolower($1) == "etag:" { print $2 }' | tr -d '\r')
[ -n "$ETAG" ] || sb_fail "no ETag from $URL"
assert_eq "$(jq '.pools | length' "$S/pools.json")" "$SHARES" "pools"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $ETAG" "$URL")
assert_eq "$code" 304 "If-None-Match with the current tag"
echo "nfsprovd with $SHARES shares; answer $(stat -c %s "$S/pools.json") bytes; ETag $ETAG"
sleep 10   # the audits of the new shares end, the snapshot refresher settles

# thread_ticks: "TID NAME TICKS" of each of nfsprovd's threads
thread_ticks() {
    local t
    for t in /proc/"$DAEMON_PID"/task/*; do
        awk -v tid="${t##*/}" '{ sub(/^[0-9]+ \(/, ""); split($0, a, ") "); split(a[2], f, " "); print tid, a[1], f[12] + f[13] }' "$t/stat" 2> /dev/null
    done
}
# by_thread: the ticks of each thread name between $S/threads0 and $S/threads1 (threads that ended
# meanwhile are not counted)
by_thread() {
    awk 'NR == FNR { a[$1] = $3; next } { d[$2] += $3 - a[$1] } END { for (n in d) if (d[n] > 0) printf "%s%s: %d", (k++ ? ", " : ""), n, d[n] }' \
        "$S/threads0" "$S/threads1"
}

# rate_run NAME [wrk -H args]: WINDOW seconds paced at 1,000 hosts a minute (16.7/s: 10
# connections, each a request every 600 ms); prints requests, non-2xx, CPU. RATE_CLOSE=0: the
# connections are kept alive.
rate_run() {
    local name=$1 t0 t1 out; shift
    out=$S/wrk-rate-$(tr -c "a-z0-9\n" _ <<< "$name").txt
    thread_ticks > "$S/threads0"
    t0=$(cpu_ticks)
    local close=(-H 'Connection: close')
    [ "${RATE_CLOSE:-1}" = 1 ] || close=()
    wrk -t1 -c10 -d"${WINDOW}s" -s "$LUA" "${close[@]}" "$@" "$URL" > "$out" 2>&1 || { cat "$out"; sb_fail "wrk $name failed"; }
    t1=$(cpu_ticks)
    thread_ticks > "$S/threads1"
    local n rps
    n=$(awk '/requests in/ { print $1 }' "$out")
    rps=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
    printf '%-28s %6s requests (%s/s), %s, nfsprovd CPU %s ticks = %s %% of a core (%s)\n' "$name" "$n" "$rps" \
        "$(grep -q 'Non-2xx' "$out" && grep 'Non-2xx' "$out" | sed 's/^ *//' || echo 'all 2xx')" \
        "$((t1 - t0))" "$(pct $((t1 - t0)) "$WINDOW")" "$(by_thread)"
}
# max_run NAME [wrk -H args]: the max rate over DURATION s, CPU per request
max_run() {
    local name=$1 t0 t1 out; shift
    out=$S/wrk-max-$(tr -c "a-z0-9\n" _ <<< "$name").txt
    t0=$(cpu_ticks)
    wrk -t2 -c"$CONNS" -d"${DURATION}s" --latency "$@" "$URL" > "$out" 2>&1 || { cat "$out"; sb_fail "wrk $name failed"; }
    t1=$(cpu_ticks)
    local n rps p99
    n=$(awk '/requests in/ { print $1 }' "$out")
    rps=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
    p99=$(awk '$1 == "99%" { print $2 }' "$out")
    printf '%-28s %8s requests/s, p99 %s, nfsprovd CPU %s %% of a core, %s us CPU a request%s\n' "$name" "$rps" "$p99" \
        "$(pct $((t1 - t0)) "$DURATION")" "$(awk -v t=$((t1 - t0)) -v n="$n" -v hz="$HZ" 'BEGIN { printf "%.1f", 1e6 * t / hz / n }')" \
        "$(grep -q 'Non-2xx' "$out" && echo ", $(grep 'Non-2xx' "$out" | sed 's/^ *//')" || true)"
}

thread_ticks > "$S/threads0"
t0=$(cpu_ticks); sleep "$WINDOW"; t1=$(cpu_ticks)
thread_ticks > "$S/threads1"
printf '%-28s %6s requests, nfsprovd CPU %s ticks = %s %% of a core (%s)\n' "idle" 0 "$((t1 - t0))" "$(pct $((t1 - t0)) "$WINDOW")" \
    "$(by_thread)"
rate_run "1,000 hosts/min, 304" -H "If-None-Match: $ETAG"
rate_run "1,000 hosts/min, 200"
RATE_CLOSE=0 rate_run "same, 304, kept alive" -H "If-None-Match: $ETAG"
max_run "max rate, 304" -H "If-None-Match: $ETAG"
max_run "max rate, 200"

# idle waiters: long polls held open, then all answered by one change
threads0=$(status_of Threads)
rss0=$(status_of VmRSS)
wrk -t2 -c"$WAITERS" -d"$((DURATION + 20))s" --timeout 300s -H "If-None-Match: $ETAG" "$URL&wait=300" > "$S/wrk-wait.txt" 2>&1 &
wpid=$!
sb_track_pid "$wpid"
est=0
for i in $(seq 600); do
    est=$(ss -Htn state established "( sport = :$API_PORT )" | wc -l)
    [ "$est" -ge "$WAITERS" ] && break
    sleep 0.1
done
[ "$est" -ge "$WAITERS" ] || sb_fail "only $est of $WAITERS long polls connected"
sleep 2
t0=$(cpu_ticks); sleep "$DURATION"; t1=$(cpu_ticks)
printf '%-28s %6s connections parked: nfsprovd threads %s (before %s), VmRSS %s kB (before %s), CPU %s %% of a core\n' \
    "long polls" "$est" "$(status_of Threads)" "$threads0" "$(status_of VmRSS)" "$rss0" "$(pct $((t1 - t0)) "$DURATION")"
wait "$wpid"
stop_daemon
sb_pass
