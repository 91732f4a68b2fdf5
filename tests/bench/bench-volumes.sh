#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Benchmark (on demand, not CI), side by side in one run:
# 1. N `nfsprov vol-create` (each a recorded operation: temporary name, qemu-img create, header
#    check, owner and mode, fsync, rename), and the same N through the API from one curl process a
#    round, in ROUNDS (default 10) rounds alternating the three ways,
#    against a loop of N `qemu-img create` in another share of the same kind (ext4 on a loop
#    device);
# 2. a qcow2 holding SIZE of random data uploaded with `nfsprov vol-upload` and downloaded with
#    `nfsprov vol-download`, against `curl -T` (PUT) to and `curl -o` from nginx serving a
#    directory on the same share (WebDAV PUT), with nfsprovd's and nginx's peak RSS.
# Run: tests/sandbox/sandbox-run tests/bench/bench-volumes.sh [N [SIZE_MIB]]   (NP_TOP_SRCDIR,
# NP_TOP_BUILDDIR set). Needs qemu-img, curl and nginx with the dav module (nginx-core).
. "$NP_TOP_SRCDIR/tests/integration/nfsprovd-lib.sh"
NP_FAULTS=off # the daemon as in production: no fault file read at every fault point
sb_require_cmd qemu-img qemu-utils
sb_require_cmd nginx nginx-core
N=${1:-100}
SIZE_MIB=${2:-2048}
now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc; }

write_config
cat >> "$CONF" <<EOT
[volumes]
max_overcommit = 0
EOT
start_daemon
np create bench --size $((SIZE_MIB * 3 + 1024))M > /dev/null || sb_fail "create bench"
# the baseline writes into its share with plain tools: no guard there (the bench share keeps the
# default, enforce, as a production share does)
np create baseline --size $((SIZE_MIB * 3 + 1024))M --guard off > /dev/null || sb_fail "create baseline"
B=$BASE/baseline

# ---- 1. vol-create against qemu-img create ----
# In ROUNDS rounds, each makes N/ROUNDS volumes three ways one after the other (qemu-img loop,
# nfsprov loop, one curl process), so that what drifts during the run (the new filesystems'
# lazy inode-table init, other load) weighs on the three alike; the times are summed per way.
ROUNDS=${ROUNDS:-10}
per=$(( (N + ROUNDS - 1) / ROUNDS ))
qemu_s=0 np_s=0 api_s=0
n=0
for r in $(seq 1 "$ROUNDS"); do
    names=()
    for _ in $(seq 1 "$per"); do
        [ "$n" -lt "$N" ] || break
        n=$((n + 1))
        names+=("$(printf 'vm%04d' "$n")")
    done
    [ ${#names[@]} -gt 0 ] || break
    sync
    t0=$(now)
    for v in "${names[@]}"; do qemu-img create -q -f qcow2 -o compat=1.1 "$B/$v" 20G || sb_fail "qemu-img create"; done
    t1=$(now)
    qemu_s=$(echo "$qemu_s + $t1 - $t0" | bc)
    sync
    t0=$(now)
    for v in "${names[@]}"; do np vol-create bench "$v" --capacity 20G > /dev/null || sb_fail "vol-create $v"; done
    t1=$(now)
    np_s=$(echo "$np_s + $t1 - $t0" | bc)
    # the same through the API from one client process (automation's way): one curl per round
    args=()
    for v in "${names[@]}"; do
        [ ${#args[@]} -gt 0 ] && args+=(--next)
        args+=(-s -o /dev/null -w '%{http_code}\n' --unix-socket "$SOCK" -H 'Content-Type: application/json'
               -d "{\"name\":\"api-$v\",\"capacity\":21474836480}" 'http://localhost/v1/shares/bench/volumes?wait=true')
    done
    sync
    t0=$(now)
    curl "${args[@]}" > "$S/codes" || sb_fail "curl"
    t1=$(now)
    api_s=$(echo "$api_s + $t1 - $t0" | bc)
    [ "$(sort -u "$S/codes")" = 201 ] || sb_fail "API creates answered $(sort "$S/codes" | uniq -c | tr '\n' ' ')"
done
assert_eq "$(np --json vol-list bench | jq '.volumes | length')" "$((2 * N))" "volumes made by nfsprov and through the API"
rm -f "$B"/vm*
np --json vol-list bench | jq -r '.volumes[].name' | while read -r v; do
    np vol-delete bench "$v" > /dev/null || sb_fail "vol-delete $v"
done

# ---- 2. upload and download against nginx ----
head -c "${SIZE_MIB}M" /dev/urandom > "$S/data.raw"
qemu-img convert -f raw -O qcow2 -o compat=1.1 "$S/data.raw" "$S/src.qcow2" || sb_fail "qemu-img convert"
rm -f "$S/data.raw"
bytes=$(stat -c %s "$S/src.qcow2")
mkdir -p "$B/dav" "$S/nginx/tmp"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$S/nginx/nginx.conf" <<EOT
user root root; # writes to the share as nfsprovd does
worker_processes 1;
pid $S/nginx/nginx.pid;
error_log $S/nginx/error.log;
events { worker_connections 64; }
http {
    access_log off;
    sendfile on;
    client_body_temp_path $B/dav/.tmp;
    server {
        listen 127.0.0.1:$port;
        root $B/dav;
        client_max_body_size 0;
        dav_methods PUT;
        create_full_put_path off;
    }
}
EOT
nginx -c "$S/nginx/nginx.conf" -p "$S/nginx" || sb_fail "nginx did not start"
for i in $(seq 100); do [ -s "$S/nginx/nginx.pid" ] && break; sleep 0.05; done
nginx_master=$(cat "$S/nginx/nginx.pid")
sb_track_pid "$nginx_master"
nginx_worker=$(pgrep -P "$nginx_master" | head -1)

sync; echo 3 > /proc/sys/vm/drop_caches
cat "$S/src.qcow2" > /dev/null # both read the source from the page cache
echo 5 > "/proc/$DAEMON_PID/clear_refs"
rss0=$(awk '/VmRSS/ {print $2}' "/proc/$DAEMON_PID/status")
t0=$(now)
np vol-upload bench big "$S/src.qcow2" > /dev/null || sb_fail "vol-upload"
t1=$(now)
up_np=$(secs "$t0" "$t1")
t0=$(now)
curl -sS -f -T "$S/src.qcow2" "http://127.0.0.1:$port/big" || { cat "$S/nginx/error.log"; sb_fail "PUT to nginx"; }
sync -f "$B/dav/big" # nginx does not fsync; nfsprovd does before it renames
t1=$(now)
up_nginx=$(secs "$t0" "$t1")
cmp -s "$B/dav/big" "$S/src.qcow2" || sb_fail "nginx stored something else"

sync; echo 3 > /proc/sys/vm/drop_caches
t0=$(now)
np vol-download bench big "$S/dl-np" > /dev/null || sb_fail "vol-download"
t1=$(now)
dl_np=$(secs "$t0" "$t1")
sync; echo 3 > /proc/sys/vm/drop_caches
t0=$(now)
curl -sf -o "$S/dl-nginx" "http://127.0.0.1:$port/big" || sb_fail "GET from nginx"
sync -f "$S/dl-nginx" # nfsprov fsyncs the file it downloaded before renaming it
t1=$(now)
dl_nginx=$(secs "$t0" "$t1")
cmp -s "$S/dl-np" "$S/src.qcow2" || sb_fail "vol-download differs"
rss_np=$(awk '/VmHWM/ {print $2}' "/proc/$DAEMON_PID/status")
rss_nginx=$(awk '/VmHWM/ {print $2}' "/proc/$nginx_worker/status")
kill -QUIT "$nginx_master"
for i in $(seq 100); do kill -0 "$nginx_master" 2>/dev/null || break; sleep 0.05; done
rm -rf "$B/dav" "$S/dl-np" "$S/dl-nginx"
np vol-delete bench big > /dev/null

mib() { echo "scale=1; $bytes / 1048576 / $1" | bc; }
echo "$(nproc) cores, $(date -u +%F), load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-44s %8.3f s  %6.1f ms/volume\n' "qemu-img create x $N" "$qemu_s" "$(echo "$qemu_s * 1000 / $N" | bc -l)"
printf '%-44s %8.3f s  %6.1f ms/volume\n' "nfsprov vol-create x $N" "$np_s" "$(echo "$np_s * 1000 / $N" | bc -l)"
printf '%-44s %8.3f s  %6.1f ms/volume\n' "POST .../volumes?wait=true x $N (one curl a round)" "$api_s" "$(echo "$api_s * 1000 / $N" | bc -l)"
echo "ratio to qemu-img create: nfsprov vol-create $(echo "scale=2; $np_s / $qemu_s" | bc), API $(echo "scale=2; $api_s / $qemu_s" | bc)"
echo "transfer: a qcow2 of $bytes bytes ($SIZE_MIB MiB of random data)"
printf '%-44s %8.3f s  %7s MiB/s\n' "upload: nfsprov vol-upload" "$up_np" "$(mib "$up_np")"
printf '%-44s %8.3f s  %7s MiB/s\n' "upload: curl -T to nginx (+ sync)" "$up_nginx" "$(mib "$up_nginx")"
printf '%-44s %8.3f s  %7s MiB/s\n' "download: nfsprov vol-download" "$dl_np" "$(mib "$dl_np")"
printf '%-44s %8.3f s  %7s MiB/s\n' "download: curl -o from nginx (+ sync)" "$dl_nginx" "$(mib "$dl_nginx")"
echo "throughput nfsprov / nginx: upload $(echo "scale=2; $up_nginx / $up_np" | bc), download $(echo "scale=2; $dl_nginx / $dl_np" | bc)"
echo "peak RSS: nfsprovd ${rss_np} KiB (${rss0} KiB before), nginx worker ${rss_nginx} KiB"
stop_daemon
sb_pass
