#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Crash at every step of every volume operation (NFSPROV_FAULT kills nfsprovd just before or
# just after the step), and during an upload's body; then restart: no temporary file, no record
# without a file, no file without a record, every file a volume qemu-img finds whole with the
# recorded capacity and backing; the other volumes untouched; the share's root immutable again
# (guard enforce: the crash is taken as one inside the instant the attribute is lifted) and the
# guard's audit clean.
. "$NP_TOP_SRCDIR/tests/integration/nfsprovd-lib.sh"
sb_require_cmd qemu-img qemu-utils
sb_require_cmd qemu-io qemu-utils
sb_require_cmd lsattr e2fsprogs

write_config
start_daemon
np create web --size 512M > /dev/null || sb_fail "create web failed"
W=$BASE/web
np vol-create web base --capacity 64M > /dev/null || sb_fail "vol-create base failed"
qemu-io -f qcow2 -c 'write -P 0x33 0 2M' "$W/base" > /dev/null || sb_fail "qemu-io write base"
base_sum=$(sha256sum < "$W/base")
qemu-img create -q -f qcow2 "$S/up.qcow2" 32M
qemu-io -f qcow2 -c 'write -P 0x44 0 1M' "$S/up.qcow2" > /dev/null || sb_fail "qemu-io write up.qcow2"

crash() { # FAULT COMMAND...: run COMMAND against a daemon that dies at FAULT, then restart it
    local fault=$1; shift
    crash_at "$fault" "$@"
    # as if it died in the instant the guard's attribute is lifted (inside place, unlink, ...)
    chattr -i "$W" || sb_fail "$fault: chattr -i"
    start_daemon
}

# The manifest and the share's root agree, file by file.
consistent() { # CONTEXT
    local ctx=$1 j names files v
    j=$(np --json vol-list web) || sb_fail "$ctx: vol-list failed"
    assert_eq "$(echo "$j" | jq -r '[.volumes[] | select(.status != "ready") | .name] | join(" ")')" "" \
        "$ctx: volumes left in the middle of an operation"
    names=$(echo "$j" | jq -r '.volumes[].name' | sort | tr '\n' ' ')
    files=$(ls -A "$W" | grep -v '^lost+found$' | sort | tr '\n' ' ')
    assert_eq "$files" "$names" "$ctx: files in the share vs the manifest"
    for v in $names; do
        qemu-img check -q "$W/$v" || sb_fail "$ctx: qemu-img check $v found errors"
        assert_eq "$(qemu-img info --output=json "$W/$v" | jq -r '."virtual-size"')" \
            "$(echo "$j" | jq -r --arg v "$v" '.volumes[] | select(.name == $v) | .capacity')" "$ctx: $v capacity"
        assert_eq "$(qemu-img info --output=json "$W/$v" | jq -r '."backing-filename" // "-"')" \
            "$(echo "$j" | jq -r --arg v "$v" '.volumes[] | select(.name == $v) | .backing // "-"')" "$ctx: $v backing"
    done
    assert_eq "$(sha256sum < "$W/base")" "$base_sum" "$ctx: base untouched"
    lsattr -d "$W" | cut -d' ' -f1 | grep -q i || sb_fail "$ctx: the share's root is not immutable after the restart"
    np audit web > "$S/audit.out" 2>&1 || sb_fail "$ctx: the guard's audit is not clean: $(cat "$S/audit.out")"
}
# After a crash in a create-like operation the volume is either made whole or not at all.
made_or_not() { # CONTEXT VOL
    consistent "$1"
    if np vol-info web "$2" > /dev/null 2>&1; then
        np vol-delete web "$2" > /dev/null || sb_fail "$1: vol-delete $2 after the crash"
    fi
}

steps_of() { "$NFSPROVD" --steps | sed -n "s/^$1: //p"; }
for op in vol-create vol-clone vol-upload vol-delete vol-resize vol-wipe vol-adopt; do
    [ -n "$(steps_of $op)" ] || sb_fail "nfsprovd --steps lists no $op table: $("$NFSPROVD" --steps)"
done

for step in $(steps_of vol-create); do
    for when in "" ":after"; do
        crash_sampled || continue
        crash "vol-create:$step$when" vol-create web victim --capacity 16M
        made_or_not "vol-create:$step$when" victim
        crash "vol-create:$step$when" vol-create web victim --backing base
        made_or_not "vol-create:$step$when (linked)" victim
        np vol-create web victim --capacity 16M > /dev/null || sb_fail "vol-create after a crash at $step$when"
        np vol-delete web victim > /dev/null || sb_fail "vol-delete victim"
    done
done

for step in $(steps_of vol-clone); do
    for when in "" ":after"; do
        crash_sampled || continue
        crash "vol-clone:$step$when" vol-clone web base victim
        made_or_not "vol-clone:$step$when" victim
    done
done

for step in $(steps_of vol-upload); do
    for when in "" ":after"; do
        crash_sampled || continue
        crash "vol-upload:$step$when" vol-upload web victim "$S/up.qcow2"
        made_or_not "vol-upload:$step$when" victim
    done
done

# killed while the body arrives (a slow client: 1 MiB/s)
CRASH_SEEN=$((CRASH_SEEN + 1)) CRASH_RUN=$((CRASH_RUN + 1))   # run in both passes
qemu-img create -q -f qcow2 "$S/big.qcow2" 64M
qemu-io -f qcow2 -c 'write -P 0x55 0 32M' "$S/big.qcow2" > /dev/null || sb_fail "qemu-io write big.qcow2"
"$NFSPROV_BIN" --config "$CONF" vol-upload web victim "$S/big.qcow2" --limit-rate 1M > "$S/up.out" 2>&1 &
up=$!
sb_track_pid "$up"
for i in $(seq 500); do
    ls -A "$W" | grep -q '^\.nfsprov-' && [ "$(stat -c %s "$W"/.nfsprov-* 2>/dev/null | head -1)" -gt 1048576 ] && break
    sleep 0.02
done
ls -A "$W" | grep -q '^\.nfsprov-' || sb_fail "no temporary file while the upload's body arrives"
kill -KILL "$DAEMON_PID"
wait_daemon_dead
wait "$up" && sb_fail "the upload succeeded although the daemon died"
start_daemon
made_or_not "killed during an upload" victim

for step in $(steps_of vol-delete); do
    for when in "" ":after"; do
        crash_sampled || continue
        np vol-create web victim --capacity 16M > /dev/null || sb_fail "vol-create victim"
        crash "vol-delete:$step$when" vol-delete web victim
        consistent "vol-delete:$step$when"
        np vol-info web victim > /dev/null 2>&1 && sb_fail "vol-delete:$step$when: victim still there after the restart"
    done
done

np vol-create web grower --capacity 16M > /dev/null || sb_fail "vol-create grower"
cap=16
for step in $(steps_of vol-resize); do
    for when in "" ":after"; do
        crash_sampled || continue
        cap=$((cap + 8))
        crash "vol-resize:$step$when" vol-resize web grower --capacity ${cap}M
        consistent "vol-resize:$step$when"
    done
done

np vol-create web wiped --capacity 16M > /dev/null || sb_fail "vol-create wiped"
for step in $(steps_of vol-wipe); do
    for when in "" ":after"; do
        crash_sampled || continue
        qemu-io -f qcow2 -c 'write -P 0x66 0 1M' "$W/wiped" > /dev/null || sb_fail "qemu-io write wiped"
        crash "vol-wipe:$step$when" vol-wipe web wiped
        consistent "vol-wipe:$step$when"
        np vol-info web wiped > /dev/null || sb_fail "vol-wipe:$step$when: the volume is gone"
        # once the scrub began the data must be gone: the wipe is finished, never undone
        if [ "$step$when" != "scrub" ]; then
            qemu-io -f qcow2 -c 'read -P 0 0 16M' "$W/wiped" > "$S/io" || sb_fail "read wiped"
            grep -q "Pattern verification failed" "$S/io" && sb_fail "vol-wipe:$step$when: old data readable after the restart"
        fi
    done
done
# adopt: a qcow2 made by hand (planted as an admin could) is either a volume or left as it was
for step in $(steps_of vol-adopt); do
    for when in "" ":after"; do
        crash_sampled || continue
        chattr -i "$W" && qemu-img create -q -f qcow2 "$W/byhand" 8M && chattr +i "$W" || sb_fail "plant byhand"
        crash "vol-adopt:$step$when" audit --adopt web byhand
        assert_eq "$(np --json vol-list web | jq -r '[.volumes[] | select(.status != "ready") | .name] | join(" ")')" \
            "" "vol-adopt:$step$when: volumes left in the middle of an operation"
        [ -f "$W/byhand" ] || sb_fail "vol-adopt:$step$when: the file is gone"
        if np vol-info web byhand > /dev/null 2>&1; then
            np vol-delete web byhand > /dev/null || sb_fail "vol-adopt:$step$when: vol-delete byhand"
        else
            np audit --remove web byhand > /dev/null || sb_fail "vol-adopt:$step$when: audit --remove byhand"
        fi
        consistent "vol-adopt:$step$when"
    done
done
stop_daemon
sb_pass "$(crash_summary)"
