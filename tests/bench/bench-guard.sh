#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Benchmark (on demand, not CI): the guard with the real nfsprovd (image-backed shares, in the
# sandbox), [shares] audit_interval = 0 so the live watch alone triggers audits.
# 1. Detection latency end to end: tests/bench/guard-latency creates a foreign file at the root of
#    a share in mode detect (as root on the server), then polls GET /v1/shares/NAME/audit on one
#    kept-alive connection every millisecond until the finding names it (detected), unlinks it
#    and polls until no finding names it (resolved). Two passes of N creates:
#      back-to-back  the next create right after the previous resolution is seen
#      isolated      a pause of PAUSE_MS (default 300) after it, longer than the guard's
#                    coalescing sleep (GUARD_COALESCE_MS, 200 ms after every audit)
#    nfsprovd's RSS (ps -o rss) before and after, and its VmHWM.
# 2. The cost of enforce on vol-create: NV `nfsprov vol-create` of 64M volumes in each of three
#    shares of the same daemon, guard enforce, off and detect, interleaved (the order rotates
#    each round), timed per create in the shell (process start included); median and p90. And
#    the bare cost of lifting and restoring FS_IMMUTABLE_FL (guard-latency ioctl) on the enforced
#    share (watched by fanotify) and on the share with guard off (not watched).
# Run: tests/sandbox/sandbox-run tests/bench/bench-guard.sh [N [NV]]   (NP_TOP_SRCDIR,
# NP_TOP_BUILDDIR set; guard-latency built by make check or make tests/bench/guard-latency);
# defaults N=1000, NV=50; BENCH_PAUSE_MS sets the isolated pass's pause.
. "$NP_TOP_SRCDIR/tests/integration/nfsprovd-lib.sh"
NP_FAULTS=off # the daemon as in production: no fault file read at every fault point
sb_require_cmd qemu-img qemu-utils
sb_require_cmd curl curl
sb_require_cmd lsattr e2fsprogs
N=${1:-1000}
NV=${2:-50}
PAUSE=${BENCH_PAUSE_MS:-300}
driver=$NP_TOP_BUILDDIR/tests/bench/guard-latency
[ -x "$driver" ] || sb_fail "$driver is not built (make tests/bench/guard-latency)"

echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) CPUs; kernel $(uname -r); load:$(uptime | sed 's/.*load average://')"
write_config
sed -i 's/^\[shares\]$/[shares]\naudit_interval = 0/' "$CONF"
cat >> "$CONF" <<EOT
[volumes]
max_overcommit = 0
EOT
start_daemon
np create watch --size 128M --guard detect > /dev/null || sb_fail "create watch"
np create enf --size 256M --guard enforce > /dev/null || sb_fail "create enf"
np create off --size 256M --guard off > /dev/null || sb_fail "create off"
np create det --size 256M --guard detect > /dev/null || sb_fail "create det"
np vol-create watch base --capacity 64M > /dev/null || sb_fail "vol-create watch base"

api() { curl -sf --unix-socket "$SOCK" "http://localhost$1"; }
# wait_path SHARE PATH yes|no: until GET shows (or no longer shows) a finding for PATH
wait_path() {
    local n
    for _ in $(seq 200); do
        n=$(api "/v1/shares/$1/audit" | jq --arg p "$2" '[.findings[] | select(.path == $p)] | length')
        { [ "$3" = yes ] && [ "$n" = 1 ]; } || { [ "$3" = no ] && [ "$n" = 0 ]; } && return 0
        sleep 0.05
    done
    sb_fail "$1/$2: finding still $([ "$3" = yes ] && echo absent || echo present) after 10 s"
}
# the watch is live (it follows the snapshot within a second): one create seen, then removed
touch "$BASE/watch/warm-up"
wait_path watch warm-up yes
rm "$BASE/watch/warm-up"
wait_path watch warm-up no
sleep 0.5

# ---- 1. detection latency ----
rss() { ps -o rss= -p "$DAEMON_PID" | tr -d ' '; }
rss0=$(rss)
echo "N=$N foreign creates per pass in share watch (guard detect, audit_interval 0), polling every 1 ms"
echo "-- back-to-back (next create right after the resolution is seen)"
"$driver" latency "$SOCK" watch "$BASE/watch" "$N" 0 || sb_fail "guard-latency back-to-back"
rss1=$(rss)
echo "-- isolated (pause ${PAUSE} ms after each resolution)"
"$driver" latency "$SOCK" watch "$BASE/watch" "$N" "$PAUSE" || sb_fail "guard-latency isolated"
rss2=$(rss)
echo "nfsprovd RSS: ${rss0} KiB before, ${rss1} KiB after back-to-back, ${rss2} KiB after isolated;" \
    "VmHWM $(awk '/VmHWM/ {print $2}' "/proc/$DAEMON_PID/status") KiB"
echo "load after the latency passes:$(uptime | sed 's/.*load average://')"

# ---- 2. vol-create: enforce against off (and detect) ----
shares=(enf off det)
for s in "${shares[@]}"; do : > "$S/times.$s"; done
for i in $(seq 1 "$NV"); do
    for k in 0 1 2; do
        s=${shares[$(((i + k) % 3))]}
        t0=$EPOCHREALTIME
        np vol-create "$s" "v$i" --capacity 64M > /dev/null || sb_fail "vol-create $s v$i"
        t1=$EPOCHREALTIME
        echo "($t1 - $t0) * 1000" | bc -l >> "$S/times.$s"
    done
done
assert_contains "$(lsattr -d "$BASE/enf")" "i" "enf's root immutable after $NV vol-create"
stats() { # FILE: median p90 (nearest rank)
    sort -n "$1" | awk '{v[NR] = $1} END {
        m = int(NR * 0.5 + 0.999999); p = int(NR * 0.9 + 0.999999)
        printf "median %7.1f ms  p90 %7.1f ms  (min %.1f, max %.1f, n %d)", v[m], v[p], v[1], v[NR], NR }'
}
echo "NV=$NV nfsprov vol-create --capacity 64M per share, interleaved"
for s in "${shares[@]}"; do
    printf 'guard %-8s %s\n' "$(np --json show "$s" | jq -r .guard.mode)" "$(stats "$S/times.$s")"
done
for s in enf det; do
    echo "log lines 'guard $s:' during the creates: $(grep -c "guard $s:" "$S/nfsprovd.log")"
done
echo "-- FS_IMMUTABLE_FL lift+restore, 100000 pairs"
printf 'enf (watched): '; "$driver" ioctl "$BASE/enf" 100000 || sb_fail "guard-latency ioctl enf"
printf 'off (not watched): '; "$driver" ioctl "$BASE/off" 100000 || sb_fail "guard-latency ioctl off"
echo "load at the end:$(uptime | sed 's/.*load average://')"

for s in enf off det; do
    for i in $(seq 1 "$NV"); do np vol-delete "$s" "v$i" > /dev/null || sb_fail "vol-delete $s v$i"; done
done
np vol-delete watch base > /dev/null || sb_fail "vol-delete watch base"
for s in watch enf off det; do np delete "$s" > /dev/null || sb_fail "delete $s"; done
stop_daemon
sb_pass
