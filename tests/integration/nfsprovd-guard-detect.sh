#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The guard's detection with the real nfsprovd: with no periodic audit ([shares] audit_interval
# = 0) every change made on the server behind nfsprov's back is reported by the live watch
# (fanotify) alone, read with GET (never the on-demand audit): foreign file, directory, nested
# file, symlink, fifo in a share in mode detect; volumes replaced by a raw file, truncated,
# resized with qemu-img, hard-linked, made setuid, removed; a file made in an enforced share after
# lifting the attribute by hand. Each shows in GET /v1/shares/NAME/audit, GET /v1/audit, the
# share's status (tainted), nfsprov audit (exit 1), /metrics and the log; once undone by hand,
# each is resolved (logged) and the share is ready again. nfsprovd's own changes (10 vol-creates
# back to back) are audited, once the operations pause (or every 500 ms). (Timing:
# tests/bench/bench-guard.sh.)
. "$NP_TOP_SRCDIR/tests/integration/nfsprovd-lib.sh"
sb_require_cmd qemu-img qemu-utils
sb_require_cmd chattr e2fsprogs
sb_require_cmd curl curl

write_config
sed -i 's/^\[shares\]$/[shares]\naudit_interval = 0/' "$CONF"
start_daemon
np create D --size 128M --guard detect > /dev/null || { cat "$S/nfsprovd.log"; sb_fail "create D"; }
np create E --size 64M > /dev/null || sb_fail "create E"
for v in v1 v2 v3 v4 v5 v6; do np vol-create D $v --capacity 16M > /dev/null || sb_fail "vol-create D $v"; done
np vol-create E e1 --capacity 16M > /dev/null || sb_fail "vol-create E e1"
D=$BASE/D E=$BASE/E
api() { curl -sf --unix-socket "$SOCK" "http://localhost$1"; }

# nfsprovd's own changes are audited too, a burst of them together (an operation's changes come
# in two deliveries of the watch; each was audited, and each audit made the next operation wait):
# the counter of D's audits (metrics come from a snapshot that a read older than 2 s rebuilds)
audits_of() { sleep 2.5; api /metrics | awk -v m="nfsprov_guard_audits_total{share=\"$1\"}" '$1 == m {print $2}'; }
a0=$(audits_of D)
[ -n "$a0" ] || sb_fail "no nfsprov_guard_audits_total for D in /metrics"
# ten creates from one client, back to back (one curl: no gap between them for an audit)
args=()
for i in $(seq 10); do
    [ ${#args[@]} -gt 0 ] && args+=(--next)
    args+=(-sf -o /dev/null --unix-socket "$SOCK" -H 'Content-Type: application/json'
           -d "{\"name\":\"burst$i\",\"capacity\":16777216}" 'http://localhost/v1/shares/D/volumes?wait=true')
done
t0=$(date +%s%N)
curl "${args[@]}" || sb_fail "10 vol-creates through the API"
t1=$(date +%s%N)
a1=$(audits_of D)
# while operations run, the audit of their changes waits (at most 500 ms at a time): at most one
# audit a 500 ms of the burst, and one after it (before: about one an operation)
allowed=$(( (t1 - t0) / 500000000 + 2 ))
[ "$a1" -gt "$a0" ] || sb_fail "D not audited after 10 vol-creates ($a0 audits before, $a1 after)"
[ "$((a1 - a0))" -le "$allowed" ] ||
    sb_fail "10 vol-creates in $(( (t1 - t0) / 1000000 )) ms audited $((a1 - a0)) times (more than $allowed)"
for i in $(seq 10); do np vol-delete D burst$i > /dev/null || sb_fail "vol-delete D burst$i"; done

# wait_finding SHARE PATH FINDING KIND: until GET shows it (the watch's audit, nothing asked)
wait_finding() {
    local j
    for _ in $(seq 200); do
        j=$(api "/v1/shares/$1/audit") || sb_fail "GET /v1/shares/$1/audit"
        [ "$(jq -r --arg p "$2" '.findings[] | select(.path == $p) | .finding + " " + .kind' <<< "$j")" = "$3 $4" ] &&
            return 0
        sleep 0.05
    done
    sb_fail "$1/$2 not reported as $3 $4 by the live watch: $j"
}
wait_gone() { # SHARE PATH
    for _ in $(seq 200); do
        api "/v1/shares/$1/audit" | jq -e --arg p "$2" '.findings | map(select(.path == $p)) | length == 0' \
            > /dev/null && return 0
        sleep 0.05
    done
    sb_fail "$1/$2 still reported after it was undone"
}

# ---- the start: clean ----
wait_audited D "D's audit at start"
wait_audited E "E's audit at start"
j=$(api /v1/shares/D/audit)
assert_eq "$(jq -c '[.audited, .counts]' <<< "$j")" '[true,{"foreign":0,"changed":0,"missing":0}]' "D's audit at start"
assert_eq "$(share_field D status)" ready "D at start"
out=$(np audit); rc=$?
assert_eq "$rc" 0 "nfsprov audit of clean shares: exit status"
assert_eq "$out" "audit: nothing but nfsprov's volumes in any share" "nfsprov audit of clean shares"

# ---- foreign entries in D (mode detect: nothing prevents them) ----
echo x > "$D/notes.txt";            wait_finding D notes.txt foreign file
mkdir "$D/dir";                     wait_finding D dir foreign directory
echo y > "$D/dir/nested";           wait_finding D dir/nested foreign file
ln -s /etc "$D/etc-link";           wait_finding D etc-link foreign symlink
mkfifo "$D/fifo";                   wait_finding D fifo foreign fifo
assert_eq "$(share_field D status)" tainted "D with foreign entries"
assert_contains "$(np list | grep '^D ')" "tainted" "list: D"

# ---- volumes changed behind nfsprov's back ----
cp --sparse=always "$D/v1" "$S/v1.copy" && mv "$S/v1.copy" "$D/v1.new" && mv "$D/v1.new" "$D/v1"  # replaced
wait_finding D v1 changed file
assert_contains "$(api /v1/shares/D/audit | jq -r '.findings[] | select(.path == "v1") | .detail')" "replaced" "v1's detail"
truncate -s 100 "$D/v2";            wait_finding D v2 changed file
qemu-img resize -q "$D/v3" 32M;     wait_finding D v3 changed file
assert_contains "$(api /v1/shares/D/audit | jq -r '.findings[] | select(.path == "v3") | .detail')" \
    "virtual size 33554432, manifest 16777216" "v3's detail"
ln "$D/v4" "$D/v4-link";            wait_finding D v4 changed file
wait_finding D v4-link foreign file
chmod u+s "$D/v5";                  wait_finding D v5 changed file
rm "$D/v6";                         wait_finding D v6 missing file

# ---- enforce: a file made after lifting the attribute by hand ----
chattr -i "$E" && touch "$E/sneaked" && chattr +i "$E" || sb_fail "cannot make $E/sneaked"
wait_finding E sneaked foreign file

# ---- what reports it ----
all=$(api /v1/audit) || sb_fail "GET /v1/audit"
assert_eq "$(jq -c '[.audits[] | [.share, .counts.foreign, .counts.changed, .counts.missing]]' <<< "$all")" \
    '[["D",6,5,1],["E",1,0,0]]' "GET /v1/audit counts"
out=$(np audit D); rc=$?
assert_eq "$rc" 1 "nfsprov audit D with findings: exit status"
assert_contains "$out" "SHARE" "nfsprov audit D: header"
assert_contains "$(grep ' notes.txt ' <<< "$out")" "foreign" "nfsprov audit D: notes.txt"
assert_contains "$(grep ' v6 ' <<< "$out")" "missing" "nfsprov audit D: v6"
assert_eq "$(np --json audit D | jq '.audits[0].findings | length')" 12 "nfsprov --json audit D: findings"
metrics=$(api /metrics) || sb_fail "GET /metrics"
assert_contains "$metrics" 'nfsprov_guard_findings{share="D",finding="foreign"} 6' "metrics: D foreign"
assert_contains "$metrics" 'nfsprov_guard_findings{share="D",finding="changed"} 5' "metrics: D changed"
assert_contains "$metrics" 'nfsprov_guard_findings{share="E",finding="foreign"} 1' "metrics: E foreign"
assert_contains "$(cat "$S/nfsprovd.log")" "guard D: foreign file notes.txt: not in the manifest" "the log: notes.txt"
assert_contains "$(cat "$S/nfsprovd.log")" "guard E: foreign file sneaked" "the log: sneaked"

# ---- undone by hand: resolved ----
rm -r "$D/notes.txt" "$D/dir" "$D/etc-link" "$D/fifo" "$D/v4-link"
chmod u-s "$D/v5"
for v in v1 v2 v3 v6; do np vol-delete D $v > /dev/null 2>&1; done
for p in notes.txt dir dir/nested etc-link fifo v4-link v4 v5; do wait_gone D "$p"; done
chattr -i "$E" && rm "$E/sneaked" && chattr +i "$E" || sb_fail "cannot remove $E/sneaked"
wait_gone E sneaked
assert_contains "$(cat "$S/nfsprovd.log")" "guard E: resolved: foreign file sneaked" "the log: sneaked resolved"
assert_eq "$(share_field E status)" ready "E once cleaned"

# ---- a storm of 10,000 creates: far fewer log lines than files, and the counts add up ----
base=$(api /v1/shares/D/audit | jq '.counts.foreign')   # what is left of the above (v1: vol-delete keeps a replaced file)
lines_before=$(wc -l < "$S/nfsprovd.log")
mkdir "$D/storm" && for i in $(seq 10000); do : > "$D/storm/f$i"; done
for _ in $(seq 400); do
    [ "$(api /v1/shares/D/audit | jq '.counts.foreign')" = $((base + 10001)) ] && break
    sleep 0.05
done
j=$(api /v1/shares/D/audit)
assert_eq "$(jq -c '[.counts.foreign, .omitted + (.findings | map(select(.finding == "foreign")) | length)]' <<< "$j")" \
    "[$((base + 10001)),$((base + 10001))]" "the storm in D's audit: counted, and listed or omitted"
storm=$(tail -n +$((lines_before + 1)) "$S/nfsprovd.log" | grep 'guard D: ')
assert_contains "$storm" "guard D: $((base + 10001)) foreign entries in all, $((base + 10001 - 1000)) beyond the 1000 listed" \
    "the storm's count in the log"
[ "$(grep -c 'guard D: resolved: .* storm' <<< "$storm")" = 0 ] ||
    sb_fail "the storm logged its files as resolved: $(grep 'resolved' <<< "$storm" | head -3)"
[ "$(wc -l <<< "$storm")" -lt 1000 ] || sb_fail "the storm gave $(wc -l <<< "$storm") log lines for 10,001 findings"
rm -r "$D/storm"
wait_gone D storm
assert_eq "$(api /v1/shares/D/audit | jq '[.counts.foreign, .omitted]' -c)" "[$base,0]" "D's audit after the storm was removed"

# ---- resolution: adopt, remove; delete of a tainted share refused ----
qemu-img create -q -f qcow2 "$D/byhand" 8M || sb_fail "qemu-img create byhand"
wait_finding D byhand foreign file
out=$(np audit --adopt D byhand) || sb_fail "audit --adopt D byhand: $out"
assert_eq "$out" "adopted D/byhand as a volume" "audit --adopt D byhand"
assert_eq "$(np --json vol-info D byhand | jq -r '[.status, .capacity] | join(" ")')" "ready 8388608" "byhand as a volume"
wait_gone D byhand
echo "not a qcow2" > "$D/junk"
wait_finding D junk foreign file
err=$(np audit --adopt D junk 2>&1); rc=$?
assert_eq "$rc" 2 "audit --adopt of a file that is no qcow2: exit status"
assert_contains "$err" "adopt junk" "audit --adopt D junk"
np vol-info D junk > /dev/null 2>&1 && sb_fail "a refused adopt left junk in the manifest"
assert_eq "$(cat "$D/junk")" "not a qcow2" "junk after the refused adopt"
mkdir -p "$D/tree/sub" && touch "$D/tree/a" "$D/tree/sub/b" && ln -s /etc "$D/tree/sub/etc"
wait_finding D tree foreign directory
out=$(np audit --remove D tree) || sb_fail "audit --remove D tree: $out"
assert_eq "$out" "removed D/tree" "audit --remove D tree"
[ -e "$D/tree" ] && sb_fail "D/tree is still there"
[ -f /etc/hostname ] || sb_fail "removing D/tree followed its symbolic link to /etc"
wait_gone D tree
err=$(np audit --remove D v4 2>&1); rc=$?
assert_eq "$rc" 2 "audit --remove of a volume: exit status"
assert_contains "$err" "it is a volume; use nfsprov vol-delete" "audit --remove D v4"
[ -f "$D/v4" ] || sb_fail "audit --remove of a volume removed it"
err=$(np audit --remove D ../E 2>&1); rc=$?
assert_eq "$rc" 2 "audit --remove D ../E: exit status"
assert_contains "$err" "no empty, . or .. components" "audit --remove D ../E"
chattr -i "$E" && touch "$E/sneaked2" && chattr +i "$E" || sb_fail "cannot make $E/sneaked2"
wait_finding E sneaked2 foreign file
np audit --remove E sneaked2 > /dev/null || sb_fail "audit --remove in an enforced share"
lsattr -d "$E" | cut -d' ' -f1 | grep -q i || sb_fail "audit --remove left E's root mutable"
np audit --remove D junk > /dev/null || sb_fail "audit --remove D junk"
np create T --size 32M --guard detect > /dev/null || sb_fail "create T"
touch "$BASE/T/stray"
wait_finding T stray foreign file
err=$(np delete T 2>&1); rc=$?
assert_eq "$rc" 1 "delete of a tainted share: exit status"
assert_contains "$err" "holds files (stray)" "delete of a tainted share"
out=$(np delete T --force) || sb_fail "delete T --force: $out"

# ---- guard off: no audit ----
np guard D off > /dev/null || sb_fail "guard D off"
assert_eq "$(api /v1/shares/D/audit | jq -r .audited)" false "D's audit with guard off"
sb_pass "foreign entries, changed and missing volumes reported by the live watch alone; reported everywhere; resolved"
