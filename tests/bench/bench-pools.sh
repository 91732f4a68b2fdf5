#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Benchmark (on demand, not run by make check or CI): GET /v1/pools of nfsprovd with 100 shares,
# side by side in one run with nginx serving the same JSON (saved from nfsprovd's answer) as a
# static file on another loopback port, both measured with wrk (same threads, connections,
# duration). Prints requests/s, p50/p99 latency, the ratio nginx/nfsprovd, and nfsprovd's RSS
# (VmRSS and VmHWM from /proc/PID/status) before and after the load.
#
#   NP_TOP_SRCDIR=$PWD NP_TOP_BUILDDIR=$PWD/build tests/sandbox/sandbox-run tests/bench/bench-pools.sh
#
# Environment: BENCH_SHARES (100), BENCH_SECONDS (15 per server), BENCH_CONNECTIONS (100),
# BENCH_THREADS (2). Runs in the sandbox: image shares on loop devices under the scratch
# directory, nginx with its own temporary configuration and pid file, stopped by pid; every
# share is deleted again at the end.
: "${NP_TOP_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${NP_TOP_BUILDDIR:=$NP_TOP_SRCDIR/build}"
export NP_TOP_SRCDIR NP_TOP_BUILDDIR
. "$NP_TOP_SRCDIR/tests/integration/nfsprovd-lib.sh"
NP_FAULTS=off # the daemon as in production: no fault file read at every fault point
sb_require_cmd wrk wrk
sb_require_cmd nginx nginx
sb_require_cmd curl curl
SHARES=${BENCH_SHARES:-100}
DURATION=${BENCH_SECONDS:-15}
CONNS=${BENCH_CONNECTIONS:-100}
THREADS=${BENCH_THREADS:-2}

rss() { awk '/^VmRSS|^VmHWM/ {printf "%s %d MiB  ", $1, $2 / 1024}' "/proc/$DAEMON_PID/status"; }

# wrk_run NAME URL: wrk with latency distribution; sets RPS, P50, P99, MAX, ERRS (non-2xx
# responses plus socket errors: connect, read, write, timeout = no answer within wrk's 2 s)
wrk_run() {
    local out=$S/wrk-$1.txt
    wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --latency "$2" > "$out" 2>&1 || { cat "$out"; sb_fail "wrk $1 failed"; }
    RPS=$(awk '/^Requests\/sec:/ {print $2}' "$out")
    P50=$(awk '$1 == "50%" {print $2}' "$out")
    P99=$(awk '$1 == "99%" {print $2}' "$out")
    MAX=$(awk '$1 == "Latency" {print $4; exit}' "$out")
    ERRS=$(awk '/Non-2xx or 3xx responses:/ {n += $NF}
                /Socket errors:/ {gsub(/,/, ""); n += $4 + $6 + $8 + $10} END {print n + 0}' "$out")
    [ -n "$RPS" ] && [ -n "$P99" ] || { cat "$out"; sb_fail "cannot read wrk's output for $1"; }
    grep -E 'Socket errors|Non-2xx' "$out" >&2
}
# to_ms 1.23ms|456.00us|1.02s -> milliseconds
to_ms() { awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) ; else if (v ~ /s$/) n *= 1000; printf "%.2f", n }'; }

API_PORT=$(free_port)
write_config
sed -i "/^\[server\]/a listen = 127.0.0.1:$API_PORT" "$CONF"
start_daemon
grep -q "127.0.0.1:$API_PORT" "$S/nfsprovd.log" || sb_fail "this nfsprovd does not serve [server] listen = 127.0.0.1:$API_PORT"

t0=$(date +%s)
for i in $(seq -f '%03g' 1 "$SHARES"); do
    np create "Bench_$i" --size 32M > "$S/op.out" 2>&1 || { cat "$S/op.out"; sb_fail "create Bench_$i failed"; }
done
echo "created $SHARES shares in $(( $(date +%s) - t0 )) s"

API_URL=http://127.0.0.1:$API_PORT/v1/pools
mkdir -p "$S/www/v1" "$S/nginx/logs"
curl -sf "$API_URL" -o "$S/www/v1/pools" || sb_fail "GET /v1/pools over TCP failed"
n=$(jq '.pools | length' "$S/www/v1/pools")
assert_eq "$n" "$SHARES" "pools in nfsprovd's answer"
bytes=$(stat -c %s "$S/www/v1/pools")

NGINX_PORT=$(free_port)
cat > "$S/nginx/nginx.conf" <<EOT
daemon off;
master_process on;
user root;
worker_processes auto;
pid $S/nginx/nginx.pid;
error_log $S/nginx/logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    keepalive_requests 1000000;
    client_body_temp_path $S/nginx/body;
    proxy_temp_path $S/nginx/proxy;
    fastcgi_temp_path $S/nginx/fastcgi;
    uwsgi_temp_path $S/nginx/uwsgi;
    scgi_temp_path $S/nginx/scgi;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        root $S/www;
        default_type application/json;
    }
}
EOT
nginx -p "$S/nginx" -c "$S/nginx/nginx.conf" -e "$S/nginx/logs/error.log" &
NGINX_PID=$!
sb_track_pid "$NGINX_PID"
NGINX_URL=http://127.0.0.1:$NGINX_PORT/v1/pools
for _ in $(seq 100); do curl -sf -o /dev/null "$NGINX_URL" && break; sleep 0.05; done
curl -sf "$NGINX_URL" | cmp -s - "$S/www/v1/pools" || sb_fail "nginx does not serve the same JSON"

rss_before=$(rss)
wrk_run nfsprovd "$API_URL"
API_RPS=$RPS API_P50=$(to_ms "$P50") API_P99=$(to_ms "$P99") API_MAX=$(to_ms "$MAX") API_ERRS=$ERRS
rss_after=$(rss)
wrk_run nginx "$NGINX_URL"
NG_RPS=$RPS NG_P50=$(to_ms "$P50") NG_P99=$(to_ms "$P99") NG_MAX=$(to_ms "$MAX") NG_ERRS=$ERRS
kill -TERM "$NGINX_PID"; wait "$NGINX_PID" 2>/dev/null

echo
echo "GET /v1/pools, $SHARES shares ($bytes bytes of JSON), wrk -t$THREADS -c$CONNS -d${DURATION}s, $(nproc) CPUs, $(date -u '+%Y-%m-%d %H:%M UTC')"
printf '%-10s %12s %10s %10s %10s %8s\n' server 'requests/s' 'p50 ms' 'p99 ms' 'max ms' errors
printf '%-10s %12s %10s %10s %10s %8s\n' nfsprovd "$API_RPS" "$API_P50" "$API_P99" "$API_MAX" "$API_ERRS"
printf '%-10s %12s %10s %10s %10s %8s\n' nginx "$NG_RPS" "$NG_P50" "$NG_P99" "$NG_MAX" "$NG_ERRS"
awk -v a="$API_RPS" -v n="$NG_RPS" -v ap="$API_P99" -v np="$NG_P99" \
    'BEGIN { printf "ratio nginx/nfsprovd: %.1fx requests/s, %.1fx p99 latency (nfsprovd at %.1f%% of nginx)\n", n / a, ap / np, 100 * a / n }'
echo "nfsprovd RSS: before the load: $rss_before"
echo "nfsprovd RSS: after the load:  $rss_after"

t0=$(date +%s)
for i in $(seq -f '%03g' 1 "$SHARES"); do
    np delete "Bench_$i" > "$S/op.out" 2>&1 || { cat "$S/op.out"; sb_fail "delete Bench_$i failed"; }
done
echo "deleted $SHARES shares in $(( $(date +%s) - t0 )) s"
stop_daemon
sb_pass
