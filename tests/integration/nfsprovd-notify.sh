#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# nfsprovd's readiness protocol (sd_notify, what systemd's Type=notify reads): with NOTIFY_SOCKET
# pointing at a datagram socket this test made, nfsprovd sends READY=1 only once reconcile is done
# and its admin socket answers - checked at the instant READY=1 arrives: GET /v1/health answers
# 200 and every share, unmounted by a simulated reboot, is mounted again -, RELOADING=1 then
# READY=1 around a SIGHUP reload (a good and a bad configuration), STOPPING=1 on SIGTERM, a
# STATUS= line with each, and nothing from its children (mkfs, exportfs, ...).
. "$NP_TOP_SRCDIR/tests/integration/nfsprovd-lib.sh"
sb_require_cmd python3 python3

NOTIFY=$S/notify.sock
NLOG=$S/notify.log
cat > "$S/listen.py" <<'PY'
import os, socket, sys
path, log, sock_path, base = sys.argv[1:5]
shares = sys.argv[5:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
open(path + ".bound", "w").close()
with open(log, "w", buffering=1) as out:
    while True:
        msg, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(12))
        pid = "?"
        for level, kind, data in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                pid = str(int.from_bytes(data[0:4], "little"))
        text = msg.decode(errors="replace")
        out.write("MSG pid=%s %s\n" % (pid, text.replace("\n", "|")))
        if "READY=1" in text.split("\n"):
            # what a client sees at the instant the manager is told "ready"
            try:
                c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                c.settimeout(5)
                c.connect(sock_path)
                c.sendall(b"GET /v1/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                status = c.recv(64).split(b"\r\n")[0].decode(errors="replace")
                c.close()
            except OSError as e:
                status = "error: %s" % e
            mounted = [n for n in shares if os.path.ismount(os.path.join(base, n))]
            out.write("PROBE status=[%s] mounted=[%s]\n" % (status, ",".join(mounted)))
        if "STOPPING=1" in text.split("\n"):
            break
PY

listen() {
    rm -f "$NOTIFY" "$NOTIFY.bound" "$NLOG"
    python3 "$S/listen.py" "$NOTIFY" "$NLOG" "$SOCK" "$BASE" Alpha Beta &
    LISTEN_PID=$!
    sb_track_pid "$LISTEN_PID"
    local i
    for i in $(seq 250); do [ -e "$NOTIFY.bound" ] && return 0; sleep 0.02; done
    sb_fail "the notify listener did not start"
}
# wait_msg PATTERN: until the notify log has a line matching PATTERN (10 s)
wait_msg() {
    local i
    for i in $(seq 500); do grep -qE "$1" "$NLOG" 2>/dev/null && return 0; sleep 0.02; done
    cat "$NLOG" 2>/dev/null; cat "$S/nfsprovd.log"; sb_fail "no notify message matching [$1] within 10 s"
}
count_msg() { grep -cE "$1" "$NLOG"; }
# msg N: the Nth message, without "MSG pid=..." (N=-1: the last)
msg() { grep '^MSG ' "$NLOG" | { [ "$1" = -1 ] && tail -1 || sed -n "$1p"; } | cut -d' ' -f3-; }

GUARD=off
write_config
start_daemon
for n in Alpha Beta; do np create "$n" --size 32M > /dev/null || sb_fail "create $n failed"; done
stop_daemon
# the "reboot": reconcile has work to do before nfsprovd may say it is ready
for n in Alpha Beta; do
    umount "$BASE/$n" || sb_fail "umount $BASE/$n"
    dev=$(losetup -j "$IMAGES/$n.img" -n -O NAME) && losetup -d $dev
done
: > /var/lib/nfs/etab

listen
NOTIFY_SOCKET=$NOTIFY "$NFSPROVD" --config "$CONF" >> "$S/nfsprovd.log" 2>&1 &
DAEMON_PID=$!
sb_track_pid "$DAEMON_PID"
wait_msg '^PROBE '
cat "$NLOG"
assert_eq "$(grep '^PROBE ' "$NLOG")" "PROBE status=[HTTP/1.1 200 OK] mounted=[Alpha,Beta]" \
    "at READY=1: the socket answers and reconcile has mounted both shares"
first=$(head -1 "$NLOG")
assert_contains "$first" "MSG pid=$DAEMON_PID READY=1|STATUS=ready on $SOCK; reconciled at start: " \
    "the first message is READY=1, from nfsprovd itself"
assert_contains "$first" "0 problems" "the status tells the reconcile's problems"
assert_eq "$(grep -c '^MSG ' "$NLOG")" 1 "one message at start (nothing from the programs it ran)"
assert_share_ready Alpha
assert_share_ready Beta

# reload with a good configuration: RELOADING=1 (with MONOTONIC_USEC), then READY=1
kill -HUP "$DAEMON_PID"
wait_msg 'READY=1\|STATUS=ready on .*; configuration reloaded$'
grep -qE "^MSG pid=$DAEMON_PID RELOADING=1\|MONOTONIC_USEC=[0-9]+\|STATUS=reloading the configuration$" "$NLOG" ||
    { cat "$NLOG"; sb_fail "no RELOADING=1 with MONOTONIC_USEC before the reload"; }

grep -q 'reloaded the configuration' "$S/nfsprovd.log" || sb_fail "the log does not say it reloaded"

# reload with a broken configuration: still READY=1 (running on the old one), and the status says so
cp "$CONF" "$S/good.conf"
echo "[shares]" >> "$CONF"; echo "mode = 0800" >> "$CONF"
kill -HUP "$DAEMON_PID"
wait_msg 'the last reload failed'
assert_eq "$(count_msg 'RELOADING=1')" 2 "a second RELOADING=1"
assert_eq "$(msg 4 | cut -d'|' -f1)" "RELOADING=1" "RELOADING=1 before the failed reload's READY=1"
assert_contains "$(msg 5)" "READY=1|STATUS=ready on $SOCK; the last reload failed" "READY=1 after a failed reload"
"$NFSPROV_BIN" --socket "$SOCK" list > /dev/null || sb_fail "nfsprovd does not answer after a failed reload"
cp "$S/good.conf" "$CONF"

# stop: STOPPING=1, then it exits 0
pid=$DAEMON_PID
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID"; rc=$?
DAEMON_PID=
assert_eq "$rc" 0 "exit status after SIGTERM"
wait_msg 'STOPPING=1'
assert_eq "$(grep '^MSG ' "$NLOG" | tail -1)" "MSG pid=$pid STOPPING=1|STATUS=stopping" "STOPPING=1 last, from nfsprovd"
assert_eq "$(count_msg '^MSG ')" 6 "six messages in all"
wait "$LISTEN_PID" 2>/dev/null
cat "$NLOG"
sb_pass
