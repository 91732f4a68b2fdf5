#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vol-upload and vol-download with the real nfsprovd, nfsprov, curl and qemu-img: a round trip of
# a qcow2 holding 256 MiB of random data (sha256 of `qemu-img convert -O raw` equal on both sides)
# with nfsprovd's peak RSS; a download interrupted and continued (Range + If-Range), and one that
# starts over because the volume changed; every bad upload refused (by nfsprov before sending,
# exit 2, and by nfsprovd itself, HTTP 4xx) with nothing left behind.
. "$NP_TOP_SRCDIR/tests/integration/nfsprovd-lib.sh"
sb_require_cmd qemu-img qemu-utils
sb_require_cmd qemu-io qemu-utils
sb_require_cmd curl curl

write_config
cat >> "$CONF" <<EOT
[volumes]
max_capacity = 8G
max_overcommit = 0
EOT
start_daemon
np create web --size 3G > /dev/null || { cat "$S/nfsprovd.log"; sb_fail "create web failed"; }
W=$BASE/web
files() { ls -A "$W" | grep -v '^lost+found$' | sort | tr '\n' ' '; }
manifest() { np --json vol-list web | jq -r '[.volumes[].name] | sort | join(" ")'; }
put() { # FILE NAME [CURL ARGS...]: the API's upload, straight from curl; prints the HTTP status
    local file=$1 name=$2; shift 2
    curl -s -o "$S/put.body" -w '%{http_code}' --unix-socket "$SOCK" -X PUT --data-binary "@$file" \
        -H 'Content-Type: application/octet-stream' "$@" "http://localhost/v1/shares/web/volumes/$name/content"
}
raw_sum() { qemu-img convert -U -f qcow2 -O raw "$1" "$S/raw.tmp" && sha256sum < "$S/raw.tmp" && rm -f "$S/raw.tmp"; }
kib() { awk -v k="$2" '$1 == k ":" {print $2}' "/proc/$1/status"; }

# ---- round trip: 256 MiB of random data ----
head -c 256M /dev/urandom > "$S/data.raw"
data_sum=$(sha256sum < "$S/data.raw")
qemu-img convert -f raw -O qcow2 -o compat=1.1 "$S/data.raw" "$S/src.qcow2" || sb_fail "qemu-img convert"
rm -f "$S/data.raw"
assert_eq "$(raw_sum "$S/src.qcow2")" "$data_sum" "the source image holds the data"

rss_before=$(kib "$DAEMON_PID" VmRSS)
echo 5 > "/proc/$DAEMON_PID/clear_refs" # reset the peak (VmHWM) to the current RSS
out=$(np vol-upload web disk1 "$S/src.qcow2" 2>&1) || { cat "$S/nfsprovd.log"; sb_fail "vol-upload: $out"; }
assert_contains "$out" "created web/disk1: 256 MiB qcow2"
out=$(np vol-download web disk1 "$S/dl.qcow2" 2>&1) || sb_fail "vol-download: $out"
assert_contains "$out" "downloaded web/disk1 to $S/dl.qcow2"
peak=$(kib "$DAEMON_PID" VmHWM)
echo "nfsprovd RSS: ${rss_before} KiB before, peak ${peak} KiB during a 256 MiB upload and download"
[ $((peak - rss_before)) -lt 16384 ] ||
    sb_fail "nfsprovd's peak RSS grew by $((peak - rss_before)) KiB for 256 MiB moved; the body must stream"
qemu-img check -q "$W/disk1" || sb_fail "qemu-img check of the uploaded volume"
assert_eq "$(raw_sum "$W/disk1")" "$data_sum" "the uploaded volume's data"
assert_eq "$(raw_sum "$S/dl.qcow2")" "$data_sum" "the downloaded file's data"
cmp "$S/dl.qcow2" "$W/disk1" || sb_fail "the download differs from the volume's file"
[ -e "$S/dl.qcow2.part" ] && sb_fail "the partial file is left after a complete download"
assert_eq "$(np --json vol-info web disk1 | jq -r .capacity)" 268435456 "capacity from the uploaded header"
assert_eq "$(files)" "disk1 " "files after the upload"
rm -f "$S/dl.qcow2"

# ---- an interrupted download continues where it stopped ----
"$NFSPROV_BIN" --config "$CONF" vol-download web disk1 "$S/dl.qcow2" --limit-rate 32M > /dev/null 2>&1 &
dl=$!
sb_track_pid "$dl"
for i in $(seq 1000); do
    [ "$(stat -c %s "$S/dl.qcow2.part" 2>/dev/null || echo 0)" -gt $((64 * 1024 * 1024)) ] && break
    sleep 0.02
done
kill -TERM "$dl"
wait "$dl" && sb_fail "the interrupted download succeeded"
part=$(stat -c %s "$S/dl.qcow2.part") || sb_fail "no partial file after an interrupted download"
[ "$part" -gt 0 ] && [ "$part" -lt "$(stat -c %s "$W/disk1")" ] || sb_fail "partial file of $part bytes"
out=$(np vol-download web disk1 "$S/dl.qcow2" 2>&1) || sb_fail "continued vol-download: $out"
assert_contains "$out" "(continued at"
cmp "$S/dl.qcow2" "$W/disk1" || sb_fail "the continued download differs from the volume"
rm -f "$S/dl.qcow2"
# a Range without If-Range answers 206 with the exact bytes
curl -sS -o "$S/range" -w '%{http_code}' --unix-socket "$SOCK" -H 'Range: bytes=1000-1999' \
    http://localhost/v1/shares/web/volumes/disk1/content > "$S/code" 2> "$S/curl.err"
rc=$?
assert_eq "$(cat "$S/code")" 206 "a ranged GET (curl exit status $rc: $(cat "$S/curl.err"))"
cmp "$S/range" <(tail -c +1001 "$W/disk1" | head -c 1000) || sb_fail "the range's bytes differ"
code=$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" -H 'Range: bytes=99999999999-' \
    http://localhost/v1/shares/web/volumes/disk1/content)
assert_eq "$code" 416 "a range past the end"
assert_eq "$(curl -s --unix-socket "$SOCK" -H 'Range: bytes=99999999999-' http://localhost/v1/shares/web/volumes/disk1/content |
    jq -r .error.code)" range_not_satisfiable "the error code of a 416"

# ... and starts over when the volume changed meanwhile (a wipe replaces its file)
"$NFSPROV_BIN" --config "$CONF" vol-download web disk1 "$S/dl.qcow2" --limit-rate 32M > /dev/null 2>&1 &
dl=$!
sb_track_pid "$dl"
for i in $(seq 1000); do
    [ "$(stat -c %s "$S/dl.qcow2.part" 2>/dev/null || echo 0)" -gt $((16 * 1024 * 1024)) ] && break
    sleep 0.02
done
kill -TERM "$dl"
wait "$dl"
np vol-wipe web disk1 > /dev/null || sb_fail "vol-wipe disk1"
out=$(np vol-download web disk1 "$S/dl.qcow2" 2>&1) || sb_fail "vol-download after the wipe: $out"
assert_not_contains "$out" "continued"
cmp "$S/dl.qcow2" "$W/disk1" || sb_fail "a download across a change mixes old and new content"
rm -f "$S/dl.qcow2"

# ---- a backing file that is a volume of the share is taken and recorded ----
qemu-img create -q -f qcow2 -o compat=1.1 -b disk1 -F qcow2 -u "$S/overlay.qcow2" 1G
np vol-upload web overlay "$S/overlay.qcow2" > /dev/null || sb_fail "upload of an overlay of disk1"
assert_eq "$(np --json vol-info web overlay | jq -r .backing)" disk1 "the overlay's recorded backing"
out=$(np vol-delete web disk1 2>&1); rc=$?
assert_eq "$rc" 1 "deleting the uploaded overlay's backing: exit status"

# ---- a preallocated (thick) image lands thin: blocks of zeros stay holes ----
qemu-img create -q -f qcow2 -o compat=1.1,preallocation=full "$S/thick.qcow2" 64M
[ "$(( $(stat -c %b "$S/thick.qcow2") * 512 ))" -gt $((60 * 1024 * 1024)) ] || sb_fail "thick.qcow2 is not thick"
np vol-upload web thick "$S/thick.qcow2" > /dev/null || sb_fail "upload of a preallocated image"
alloc=$(( $(stat -c %b "$W/thick") * 512 ))
[ "$alloc" -lt $((2 * 1024 * 1024)) ] || sb_fail "the uploaded preallocated image takes $alloc bytes on the share"
cmp "$S/thick.qcow2" "$W/thick" || sb_fail "the thin copy of thick.qcow2 differs from it"
qemu-img check -q "$W/thick" || sb_fail "qemu-img check thick"

# ---- bad uploads: refused, one line, nothing left ----
qemu-img create -q -f qcow2 -o compat=1.1 "$S/good.qcow2" 64M
qemu-io -f qcow2 -c 'write -P 0x77 0 8M' "$S/good.qcow2" > /dev/null
head -c 1M /dev/urandom > "$S/bad-raw"
head -c 300000 "$S/good.qcow2" > "$S/bad-truncated"
qemu-img create -q -f qcow2 -o compat=1.1 -b /etc/shadow -F raw -u "$S/bad-backing-abs" 64M
qemu-img create -q -f qcow2 -o compat=1.1 -b ../x -F qcow2 -u "$S/bad-backing-up" 64M
qemu-img create -q -f qcow2 -o compat=1.1 -b nosuch -F qcow2 -u "$S/bad-backing-missing" 64M
qemu-img create -q -f qcow2 -o compat=1.1,data_file="$S/bad-data.raw" "$S/bad-datafile" 64M
cp "$S/good.qcow2" "$S/bad-incompat"
printf '\x80' | dd of="$S/bad-incompat" bs=1 seek=72 conv=notrunc status=none # incompatible bit 63
qemu-img create -q -f qcow2 -o compat=1.1 "$S/bad-too-big" 16G
qemu-img create -q -f qcow2 -o compat=0.10 "$S/bad-v2" 64M
# an encrypted image: qemu-img's LUKS creation times its PBKDF on the CPU and fails under load ("Unable to
# get accurate CPU usage"), so the header field nfsprov decides on is written directly: crypt_method
# (bytes 32-35, big-endian) = 2, LUKS
cp "$S/good.qcow2" "$S/bad-luks"
printf '\x00\x00\x00\x02' | dd of="$S/bad-luks" bs=1 seek=32 conv=notrunc status=none
assert_eq "$(od -An -tx1 -j32 -N4 "$S/bad-luks" | tr -d ' ')" 00000002 "bad-luks: crypt_method in its header"
for f in bad-raw bad-truncated bad-backing-abs bad-backing-up bad-backing-missing bad-datafile bad-incompat \
         bad-too-big bad-v2 bad-luks; do
    [ -s "$S/$f" ] || sb_fail "setup: $S/$f was not made"
done
before_files=$(files) before_manifest=$(manifest)
declare -A why=(
    [bad-raw]="qcow2" [bad-truncated]="" [bad-backing-abs]="/etc/shadow" [bad-backing-up]="../x"
    [bad-backing-missing]="nosuch" [bad-datafile]="data file" [bad-incompat]="incompatible"
    [bad-too-big]="max_capacity" [bad-v2]="version" [bad-luks]="encrypt"
)
for f in "${!why[@]}"; do
    # nfsprov checks the header first (nothing sent); the truncated file's header is whole and a
    # missing backing is nfsprovd's to know, so those two reach nfsprovd
    out=$(np vol-upload web "$f" "$S/$f" 2>&1); rc=$?
    case "$f" in
    bad-truncated|bad-backing-missing|bad-too-big) assert_eq "$rc" 2 "nfsprov vol-upload $f: exit status (nfsprovd's 400)" ;;
    *) assert_eq "$rc" 2 "nfsprov vol-upload $f: exit status" ;;
    esac
    assert_eq "$(echo "$out" | wc -l)" 1 "nfsprov vol-upload $f: one line"
    [ -n "${why[$f]}" ] && assert_contains "$out" "${why[$f]}" "nfsprov vol-upload $f: message"
    # nfsprovd's own check, whatever the client does
    code=$(put "$S/$f" "$f")
    assert_eq "$code" 400 "PUT $f: HTTP status ($(cat "$S/put.body"))"
    [ -n "${why[$f]}" ] && assert_contains "$(cat "$S/put.body")" "${why[$f]}" "PUT $f: message"
    assert_eq "$(files)" "$before_files" "files after the refused upload of $f"
    assert_eq "$(manifest)" "$before_manifest" "manifest after the refused upload of $f"
done
assert_contains "$(put "$S/bad-truncated" x >/dev/null; cat "$S/put.body")" "corrupt"

# a body larger than announced: nfsprovd reads what was announced, and that is not a whole qcow2
size=$(stat -c %s "$S/good.qcow2")
code=$(put "$S/good.qcow2" larger -H "Content-Length: 200000")
case "$code" in 4??) ;; *) sb_fail "a body larger than announced: HTTP status $code";; esac
# a body cut short: the client stops sending and goes away
code=$(put "$S/good.qcow2" shorter -H "Content-Length: $((size + 100000))" --max-time 2)
for i in $(seq 250); do [ "$(files)" = "$before_files" ] && break; sleep 0.02; done
# no length announced
code=$(curl -s -o "$S/put.body" -w '%{http_code}' --unix-socket "$SOCK" -X PUT -H 'Transfer-Encoding: chunked' \
    --data-binary "@$S/good.qcow2" http://localhost/v1/shares/web/volumes/chunked/content)
assert_eq "$code" 411 "an upload without Content-Length"
assert_eq "$(jq -r .error.code "$S/put.body")" length_required "the error code of a 411"
# over an existing volume: refused before the body (Expect: 100-continue)
code=$(put "$S/good.qcow2" overlay -H 'Expect: 100-continue')
assert_eq "$code" 409 "an upload over an existing volume"
assert_eq "$(files)" "$before_files" "files after the bad bodies"
assert_eq "$(manifest)" "$before_manifest" "manifest after the bad bodies"
# a good one still goes through
np vol-upload web good "$S/good.qcow2" > /dev/null || sb_fail "the good upload after the bad ones"
qemu-img check -q "$W/good" || sb_fail "qemu-img check good"
stop_daemon
sb_pass
