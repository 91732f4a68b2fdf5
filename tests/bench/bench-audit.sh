#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Benchmark (on demand, not CI): the audit scan of a share of DIRS x FILES foreign files (plus 4
# qcow2 volumes and lost+found) against `find SHARE -type f | wc -l` on the same tree, warm cache,
# RUNS runs of each alternated, median wall time of the whole command (process start included)
# and the ratio; the driver's peak RSS (and find's, with GNU time when installed). A second
# measure returns every foreign item (AUDIT_SCAN_MAX_FOREIGN above the count: each one stat'ed
# and allocated) to show the unbounded cost.
# Run: tests/bench/bench-audit.sh [DIRS [FILES [RUNS]]]  (NP_TOP_BUILDDIR: the build directory,
# default ./build; `make check` or `make tests/bench/audit-scan` builds the driver). No root
# needed; the tree goes under /var/tmp (TMPDIR_BENCH to change it) and is removed at the end.
set -euo pipefail
DIRS=${1:-100}
FILES=${2:-1000}
RUNS=${3:-7}
DRIVER=${NP_TOP_BUILDDIR:-$PWD/build}/tests/bench/audit-scan
[ -x "$DRIVER" ] || { echo "SKIP: $DRIVER not built (make tests/bench/audit-scan)"; exit 77; }
command -v qemu-img > /dev/null || { echo "SKIP: qemu-img not installed (qemu-utils)"; exit 77; }

W=$(mktemp -d "${TMPDIR_BENCH:-/var/tmp}/bench-audit.XXXXXX")
trap 'rm -rf "$W"' EXIT
S=$W/share
mkdir "$S" "$S/lost+found"
vols=()
for v in 1 2 3 4; do
    qemu-img create -q -f qcow2 -o compat=1.1 "$S/vm$v.qcow2" 20G
    vols+=("vm$v.qcow2:21474836480")
done
for d in $(seq -w 1 "$DIRS"); do
    mkdir "$S/d$d"
    seq -f "$S/d$d/f%04g" 1 "$FILES" | xargs touch
done
echo "tree: $W ($(df -T "$W" | awk 'NR == 2 {print $2 " on " $1}')), $DIRS x $FILES files + 4 volumes"

ms() { echo "($2 - $1) * 1000" | bc; }
median() { sort -n | awk '{a[NR] = $1} END {printf "%.1f", (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

run_find() { find "$S" -type f | wc -l; }
run_audit() { "$DRIVER" "$S" "${vols[@]}"; }
run_audit_all() { AUDIT_SCAN_MAX_FOREIGN=$((DIRS * FILES + DIRS + 1)) "$DRIVER" "$S" "${vols[@]}"; }

n=$(run_find)
[ "$n" = $((DIRS * FILES + 4)) ] || { echo "find counted $n files"; exit 1; }
run_audit > "$W/audit.out"
echo "audit-scan: $(cat "$W/audit.out")"
grep -q " foreign $((DIRS * FILES + DIRS)) " "$W/audit.out" || { echo "the scan did not count every foreign entry"; exit 1; }
run_audit_all > "$W/audit-all.out"
echo "audit-scan, every item returned: $(cat "$W/audit-all.out")"

echo "load before: $(uptime)"
: > "$W/find.ms"; : > "$W/audit.ms"; : > "$W/all.ms"
for i in $(seq "$RUNS"); do
    t0=$EPOCHREALTIME; run_find > /dev/null; t1=$EPOCHREALTIME; ms "$t0" "$t1" >> "$W/find.ms"
    t0=$EPOCHREALTIME; run_audit > /dev/null; t1=$EPOCHREALTIME; ms "$t0" "$t1" >> "$W/audit.ms"
    t0=$EPOCHREALTIME; run_audit_all > /dev/null; t1=$EPOCHREALTIME; ms "$t0" "$t1" >> "$W/all.ms"
done
echo "load after: $(uptime)"
f=$(median < "$W/find.ms"); a=$(median < "$W/audit.ms"); b=$(median < "$W/all.ms")
printf 'find -type f | wc -l      median %8s ms  (runs: %s)\n' "$f" "$(tr '\n' ' ' < "$W/find.ms")"
printf 'audit-scan (bounded)      median %8s ms  ratio %s  (runs: %s)\n' "$a" "$(echo "scale=2; $a / $f" | bc)" "$(tr '\n' ' ' < "$W/audit.ms")"
printf 'audit-scan (every item)   median %8s ms  ratio %s  (runs: %s)\n' "$b" "$(echo "scale=2; $b / $f" | bc)" "$(tr '\n' ' ' < "$W/all.ms")"
if [ -x /usr/bin/time ]; then
    /usr/bin/time -f 'peak RSS: find %M KiB' find "$S" -type f > /dev/null
    /usr/bin/time -f 'peak RSS: audit-scan (bounded) %M KiB' "$DRIVER" "$S" "${vols[@]}" > /dev/null
fi
