#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Benchmark (on demand, not run by make check or CI): making N netfs pools exist on a KVM host,
# `nfsprov-client sync` against the plain virsh procedure, side by side in one run.
#
#   NP_TOP_SRCDIR=$PWD NP_TOP_BUILDDIR=$PWD/build tests/sandbox/sandbox-run tests/bench/bench-client-sync.sh
#
# nfsprovd (image backend, [server] listen on 127.0.0.1) with N shares in the sandbox; every
# "host" is a fresh private storage-only libvirtd (tests/integration/libvirtd-lib.sh: own mount
# namespace, own /etc/libvirt, the NFS mount stand-in that turns `mount -t nfs` into an overlay).
# Per run: on one fresh host, `nfsprov-client sync` of the N pools (under /usr/bin/time for its
# peak RSS); on another fresh host, a shell loop of `virsh pool-define FILE; virsh pool-autostart
# NAME; virsh pool-start --build NAME` over the same N XML documents (fetched beforehand from
# GET /v1/pools/NAME). Both end with N pools persistent, autostarted, active and mounted (checked,
# not timed). Prints both wall times, the ratio, the client's peak RSS, and what a periodic run
# costs on the synced host: a second sync (nothing to do) and a verify.
# Environment: BENCH_SHARES (100), BENCH_RUNS (3).
: "${NP_TOP_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${NP_TOP_BUILDDIR:=$NP_TOP_SRCDIR/build}"
export NP_TOP_SRCDIR NP_TOP_BUILDDIR
. "$NP_TOP_SRCDIR/tests/integration/nfsprovd-lib.sh"
NP_FAULTS=off # the daemon as in production: no fault file read at every fault point
sb_require_cmd curl curl
. "$NP_TOP_SRCDIR/tests/integration/libvirtd-lib.sh"
[ -x "$NFSPROV_CLIENT" ] || sb_fail "$NFSPROV_CLIENT is not built"
TIME=/usr/bin/time
[ -x "$TIME" ] || TIME=   # GNU time (Debian package time) for the peak RSS; without it, none
SHARES=${BENCH_SHARES:-100}
RUNS=${BENCH_RUNS:-3}
now() { date +%s.%N; }

PORT=$(lv_free_port)
SERVER=http://127.0.0.1:$PORT
TARGETS=$S/pools
LV_HOST_DIRS=$TARGETS
lv_nfsprovd_config "$PORT" "$TARGETS"
start_daemon
t0=$(date +%s)
names=()
for i in $(seq -f '%03g' 1 "$SHARES"); do
    np create "Bench_$i" --size 32M > "$S/op.out" 2>&1 || { cat "$S/op.out"; sb_fail "create Bench_$i failed"; }
    names+=("Bench_$i")
done
echo "created $SHARES shares in $(( $(date +%s) - t0 )) s"
mkdir -p "$S/xml"
for n in "${names[@]}"; do
    curl -sf -H "Accept: application/xml" "$SERVER/v1/pools/$n" -o "$S/xml/$n.xml" || sb_fail "GET /v1/pools/$n failed"
done

# check_host HOST: every pool persistent, autostarted, running, mounted from HOST:DIR
check_host() {
    local h=$1 n
    assert_eq "$(lv_virsh "$h" pool-list --all --name | grep -c .)" "$SHARES" "pools on $h"
    assert_eq "$(lv_virsh "$h" pool-list --autostart --name | grep -c .)" "$SHARES" "autostarted pools on $h"
    assert_eq "$(lv_virsh "$h" pool-list --name | grep -c .)" "$SHARES" "active pools on $h"
    assert_eq "$(find "$(lv_etc "$h")/storage" -maxdepth 1 -name '*.xml' | wc -l)" "$SHARES" "storage/*.xml on $h"
    assert_eq "$(lv_in "$h" cat /proc/self/mountinfo | grep -c " 127.0.0.1:$BASE/Bench_")" "$SHARES" "mounted targets on $h"
}

declare -a C_S V_S N_S W_S C_RSS
for r in $(seq "$RUNS"); do
    lv_start "client$r" > /dev/null || exit 1
    lv_start "virsh$r" > /dev/null || exit 1

    uri=$(lv_uri "client$r")
    t0=$(now)
    nsenter -t "$(lv_pid "client$r")" -m -- ${TIME:+$TIME -f %M -o "$S/rss.$r"} \
        "$NFSPROV_CLIENT" --connect "$uri" --server "$SERVER" sync > "$S/sync.$r" 2>&1 ||
        { cat "$S/sync.$r"; sb_fail "nfsprov-client sync failed (run $r)"; }
    t1=$(now)
    C_S[r]=$(echo "$t1 - $t0" | bc)
    C_RSS[r]=$([ -n "$TIME" ] && tail -1 "$S/rss.$r" || echo "?")
    assert_eq "$(tail -1 "$S/sync.$r")" "sync: $SHARES pools: $SHARES changed, 0 in sync, 0 drift, 0 conflicts, 0 failed" "client sync, run $r"
    check_host "client$r"
    # and then what a periodic run costs: a sync with nothing to do, a verify
    t0=$(now)
    lv_client "client$r" --server "$SERVER" sync > "$S/sync2.$r" 2>&1 || { cat "$S/sync2.$r"; sb_fail "second sync failed (run $r)"; }
    t1=$(now)
    assert_eq "$(cat "$S/sync2.$r")" "sync: nothing to do, $SHARES pools in sync" "second sync, run $r"
    N_S[r]=$(echo "$t1 - $t0" | bc)
    t0=$(now)
    lv_client "client$r" --server "$SERVER" verify > "$S/verify.$r" 2>&1 || { cat "$S/verify.$r"; sb_fail "verify failed (run $r)"; }
    t1=$(now)
    W_S[r]=$(echo "$t1 - $t0" | bc)

    uri=$(lv_uri "virsh$r")
    t0=$(now)
    for n in "${names[@]}"; do
        virsh -q -c "$uri" pool-define "$S/xml/$n.xml" > /dev/null &&
            virsh -q -c "$uri" pool-autostart "$n" > /dev/null &&
            virsh -q -c "$uri" pool-start --build "$n" > /dev/null || sb_fail "virsh procedure failed for $n (run $r)"
    done
    t1=$(now)
    V_S[r]=$(echo "$t1 - $t0" | bc)
    check_host "virsh$r"
    # the two hosts end up with the same definitions
    for n in Bench_001 "Bench_$(printf %03d "$SHARES")"; do
        assert_eq "$(lv_pool_def "client$r" "$n")" "$(lv_pool_def "virsh$r" "$n")" "$n on both hosts"
    done

    printf 'run %d: nfsprov-client sync %6.2f s, virsh loop %6.2f s, ratio virsh/client %.2f, client peak RSS %s KiB; second sync %.2f s, verify %.2f s\n' \
        "$r" "${C_S[r]}" "${V_S[r]}" "$(echo "${V_S[r]} / ${C_S[r]}" | bc -l)" "${C_RSS[r]}" "${N_S[r]}" "${W_S[r]}"
    lv_stop_all
done

med() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
cm=$(med "${C_S[@]}") vm=$(med "${V_S[@]}") nm=$(med "${N_S[@]}") wm=$(med "${W_S[@]}")
secs() { printf '%.2f ' "$@"; }
echo
echo "$SHARES netfs pools on a fresh private libvirtd $(libvirtd --version | awk '{print $NF}') (storage driver only, NFS mount stand-in), $(nproc) CPUs, $(date -u '+%Y-%m-%d %H:%M UTC')"
printf '%-44s %s\n' "procedure" "wall s (runs 1..$RUNS; median)"
printf '%-44s %s; %.2f\n' "nfsprov-client sync" "$(secs "${C_S[@]}")" "$cm"
printf '%-44s %s; %.2f\n' "virsh pool-define/-autostart/-start --build" "$(secs "${V_S[@]}")" "$vm"
printf '%-44s %s; %.2f\n' "nfsprov-client sync again (nothing to do)" "$(secs "${N_S[@]}")" "$nm"
printf '%-44s %s; %.2f\n' "nfsprov-client verify" "$(secs "${W_S[@]}")" "$wm"
printf 'ratio virsh loop / nfsprov-client (median): %.2fx; per pool: %.1f ms vs %.1f ms\n' \
    "$(echo "$vm / $cm" | bc -l)" "$(echo "$cm * 1000 / $SHARES" | bc -l)" "$(echo "$vm * 1000 / $SHARES" | bc -l)"
echo "nfsprov-client peak RSS (GNU time %M): $(printf '%s ' "${C_RSS[@]}")KiB"

t0=$(date +%s)
for n in "${names[@]}"; do
    np delete "$n" > "$S/op.out" 2>&1 || { cat "$S/op.out"; sb_fail "delete $n failed"; }
done
echo "deleted $SHARES shares in $(( $(date +%s) - t0 )) s"
stop_daemon
sb_pass
