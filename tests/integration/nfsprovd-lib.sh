# SPDX-License-Identifier: LGPL-2.1-or-later
# Helpers for tests that run the real nfsprovd and nfsprov in the sandbox.
# shellcheck shell=bash
. "$NP_TOP_SRCDIR/tests/sandbox/lib.sh"
sb_require_cmd exportfs nfs-kernel-server
sb_require_cmd mkfs.ext4 e2fsprogs
sb_require_cmd jq jq

NFSPROVD=$NP_TOP_BUILDDIR/nfsprovd
NFSPROV_BIN=$NP_TOP_BUILDDIR/nfsprov
S=$NP_SCRATCH
CONF=$S/nfsprov.conf
SOCK=$S/run/nfsprovd.sock
BASE=$S/NFS
IMAGES=$S/images
DAEMON_PID=

# The NFS server nfsprovd drives: NP_EXPORT_SERVER=kernel (the default: nfsprov's block in
# /etc/exports, checked with the real exportfs parser) or ganesha (NFS-Ganesha in the test's own
# network namespace, checked with ShowExports and real NFSv3 I/O through libnfs). A test body that
# runs for both calls np_nfs_init "$@" first and uses assert_exported, assert_unexported,
# export_clients and snapshot; a thin wrapper per server sets NP_EXPORT_SERVER and sources it
# (nfsprovd-shares-ganesha.sh).
NP_EXPORT_SERVER=${NP_EXPORT_SERVER:-kernel}
case "$NP_EXPORT_SERVER" in kernel|ganesha) ;; *) sb_fail "NP_EXPORT_SERVER=$NP_EXPORT_SERVER: kernel or ganesha";; esac
. "$NP_TOP_SRCDIR/tests/integration/ganesha-lib.sh"
G=$S/ganesha          # Ganesha's files (ganesha_stack)
GFILE=$G/nfsprov.conf # nfsprovd's Ganesha file of EXPORT blocks

# write_config [EXTRA "[section] key = value" lines appended raw]
# GUARD: [shares] guard (unset: the default, enforce). A test that writes into a share behind
# nfsprov's back, as data or as a foreign file, sets GUARD=off or detect.
write_config() {
    cat > "$CONF" <<EOT
[server]
address = 127.0.0.1
state_dir = $S/state
socket = $SOCK
[shares]
base = $BASE
backend = ${BACKEND:-image}
image_dir = $IMAGES
disks = ${DISKS:-}
clients = ${CLIENTS:-*}
${GUARD:+guard = $GUARD}
[exports]
$(if [ "$NP_EXPORT_SERVER" = ganesha ]; then printf 'server = ganesha\nganesha_config = %s' "$GFILE"
  else echo "file = /etc/exports"; fi)
[pools]
target_base = /var/lib/libvirt/nfsprov
[system]
fstab = /etc/fstab
nfs_conf = /etc/nfs.conf
$([ "$NP_EXPORT_SERVER" = kernel ] || echo "ganesha_conf = $G/ganesha.conf")
EOT
}

# np_nfs_init "$@": first thing in a test body that runs for both servers (before anything else
# is set up: for ganesha it runs the test again in its own network namespace). ganesha: rpcbind,
# a private D-Bus system bus and NFS-Ganesha serving nfsprovd's file (ganesha_stack).
np_nfs_init() {
    [ "$NP_EXPORT_SERVER" = ganesha ] || return 0
    ganesha_require
    ganesha_netns "$@"
    ganesha_stack "$G" "$GFILE"
}

# nfs_server_down: the NFS server stops as in a power cut (kernel: its export table is forgotten;
# ganesha: SIGKILL); nfs_server_up: it starts again (ganesha: reads nfsprovd's file, as at boot)
nfs_server_down() {
    if [ "$NP_EXPORT_SERVER" = ganesha ]; then ganesha_stop KILL; else : > /var/lib/nfs/etab; fi
}
nfs_server_up() {
    [ "$NP_EXPORT_SERVER" = kernel ] || ganesha_start "$G"
}

# free_port: a TCP port nobody listens on (for [server] listen = 127.0.0.1:PORT)
free_port() {
    local p
    for p in $(shuf -i 20000-60999 -n 50); do
        ss -Hltn "sport = :$p" 2>/dev/null | grep -q . || { echo "$p"; return 0; }
    done
    sb_fail "no free TCP port on 127.0.0.1"
}

# On a failure: whether nfsprovd still runs, and the end of its log.
sb_on_fail() {
    [ -n "${S:-}" ] && [ -f "$S/nfsprovd.log" ] || return 0
    if [ -n "${DAEMON_PID:-}" ]; then
        kill -0 "$DAEMON_PID" 2> /dev/null && echo "nfsprovd (pid $DAEMON_PID) is running" ||
            echo "nfsprovd (pid $DAEMON_PID) is not running"
    fi
    echo "--- the last 40 lines of $S/nfsprovd.log:"
    tail -n 40 "$S/nfsprovd.log"
    [ "$NP_EXPORT_SERVER" = kernel ] || { echo "--- the last 15 lines of $G/ganesha.log:"; tail -n 15 "$G/ganesha.log"; }
}

# start_daemon: start nfsprovd and wait until its socket answers (it answers only after reconcile;
# 120 s guard against a hang: a loaded CI machine running the sanitizer build is slow)
# (NFSPROV_FAULT_FILE: crash_at names a fault point there, read at every fault point; NP_FAULTS=off,
# for benchmarks, starts it without)
start_daemon() {
    : > "$S/fault"
    if [ "${NP_FAULTS:-on}" = off ]; then # benchmarks: no fault file read at every fault point
        "$NFSPROVD" --config "$CONF" >> "$S/nfsprovd.log" 2>&1 &
    else
        NFSPROV_FAULT_FILE=$S/fault "$NFSPROVD" --config "$CONF" >> "$S/nfsprovd.log" 2>&1 &
    fi
    DAEMON_PID=$!
    sb_track_pid "$DAEMON_PID"
    local i
    for i in $(seq 6000); do
        [ -S "$SOCK" ] && np list >/dev/null 2>&1 && return 0
        kill -0 "$DAEMON_PID" 2>/dev/null || sb_fail "nfsprovd exited at start"
        sleep 0.02
    done
    sb_fail "nfsprovd did not answer within 120 s"
}

# stop_daemon: SIGTERM by pid, wait for it
stop_daemon() {
    [ -n "$DAEMON_PID" ] || return 0
    kill -TERM "$DAEMON_PID" 2>/dev/null
    wait "$DAEMON_PID" 2>/dev/null
    DAEMON_PID=
}

# wait_daemon_dead: after a fault-injected crash
wait_daemon_dead() {
    wait "$DAEMON_PID" 2>/dev/null
    DAEMON_PID=
}

np() { "$NFSPROV_BIN" --config "$CONF" "$@"; }

# share_json NAME KEY
share_field() { np --json show "$1" | jq -r ".$2"; }

# wait_share_field NAME KEY VALUE WHAT: until nfsprovd's reads show it. Reads come from a
# snapshot the daemon rebuilds in the background once it is a second old (server/snapshot.h),
# so a change made outside nfsprovd shows after one or two rebuilds; 60 s guard against a hang.
wait_share_field() {
    local v i
    for i in $(seq 600); do
        v=$(share_field "$1" "$2")
        [ "$v" = "$3" ] && { SB_CHECKED=1; return 0; }
        sleep 0.1
    done
    sb_fail "$4: expected [$3], got [$v] (waited 60 s)"
}

# wait_audited SHARE WHAT: the guard audits a share it starts watching asynchronously (its watch
# set follows the snapshot, checked every second); wait for that first audit before reading it
wait_audited() {
    local i
    for i in $(seq 600); do
        [ "$(curl -sf --unix-socket "$SOCK" "http://localhost/v1/shares/$1/audit" | jq -r .audited)" = true ] &&
            return 0
        sleep 0.1
    done
    sb_fail "$2: share $1 never audited (waited 60 s)"
}

# the state a test compares before/after an operation that must change nothing
snapshot() {
    {
        echo "== exports"; exports_state
        echo "== fstab"; cat /etc/fstab
        echo "== mounts"; awk -v b="$BASE" 'index($5, b) == 1 {print $5}' /proc/self/mountinfo | sort
        echo "== loops"; losetup -l -n --raw -O BACK-FILE | grep -F "$S" | sort
        echo "== images"; ls -1 "$IMAGES" 2>/dev/null
        echo "== base"; ls -1 "$BASE" 2>/dev/null
        echo "== shares"; np --json list | jq -c '[.shares[] | {name, status, size}]'
    }
}

# assert_share_ready NAME: attached, ext4 mounted at BASE/NAME by its UUID, in fstab by UUID,
# exported with rw and no_root_squash
assert_share_ready() {
    local name=$1 j dev uuid path
    j=$(np --json show "$name") || sb_fail "show $name failed"
    # one jq for the three fields (jq 1.6 takes ~25 ms to start; this runs at every crash point)
    local status export_path
    IFS=$'\t' read -r status export_path uuid < <(jq -r '[.status, .export_path, .fs_uuid] | @tsv' <<< "$j")
    assert_eq "$status" ready "$name status"
    path=$BASE/$name
    assert_eq "$export_path" "$path" "$name export path"
    local fstype
    read -r dev fstype < <(findmnt -n -o SOURCE,FSTYPE --mountpoint "$path") || sb_fail "$path is not a mount point"
    assert_eq "$fstype" ext4 "$name fstype"
    # blkid -p: probe the device; the plain `blkid` answers from /run/blkid, which can still name
    # the previous user of a loop device that a parallel test freed (it re-probes only after 2 s)
    assert_eq "$(blkid -p -o value -s UUID "$dev")" "$uuid" "$name mounted filesystem UUID"
    grep -qE "^UUID=$uuid[[:space:]]+$path[[:space:]]+ext4[[:space:]]" /etc/fstab ||
        sb_fail "fstab has no UUID=$uuid entry for $path"
    assert_exported "$name"
}

# assert_exported NAME: the share is exported rw with no_root_squash by the test's NFS server.
# kernel: exportfs -v (the real parser of /etc/exports) lists it so. ganesha: ShowExports serves
# it under the share's Export_Id, and over NFSv3 (ganesha_nfs_check) a root write is owned 0:0 on
# the share's ext4 and reads back (guard off), or the root lists and a volume reads back (guard
# detect or enforce: a new file would be a foreign one).
assert_exported() {
    local name=$1 path=$BASE/$1 line id
    if [ "$NP_EXPORT_SERVER" = ganesha ]; then
        id=$(share_field "$name" export_id)
        ganesha_show_exports | grep -qxF "$id $path" ||
            sb_fail "ShowExports does not serve $path as Export_Id $id: $(ganesha_show_exports | tr '\n' ';')"
        ganesha_nfs_check "$path" "$([ "$(share_field "$name" guard.mode)" = off ] && echo write)"
        return 0
    fi
    line=$(exportfs -v | tr '\n' ' ' | sed 's/) /)\n/g' | grep -F "$path") || sb_fail "exportfs -v does not list $path"
    echo "$line" | grep -qE '[(,]rw[,)]' || sb_fail "$path not exported rw: $line"
    echo "$line" | grep -qE '[(,]no_root_squash[,)]' || sb_fail "$path not exported no_root_squash: $line"
}

# assert_unexported PATH: the test's NFS server neither lists nor serves PATH (kernel: /etc/exports
# and exportfs -v; ganesha: nfsprovd's files, ShowExports and an NFSv3 mount)
assert_unexported() {
    local path=$1
    if [ "$NP_EXPORT_SERVER" = ganesha ]; then
        ganesha_exports_text "$GFILE" | grep -qF "Path = \"$path\";" && sb_fail "nfsprovd's Ganesha files still have $path"
        ganesha_show_exports | grep -q " $path\$" && sb_fail "ShowExports still lists $path"
        nfs-ls "$(ganesha_url "$path")" > /dev/null 2>&1 && sb_fail "$path can still be mounted over NFSv3"
        return 0
    fi
    grep -qF "$path " /etc/exports && sb_fail "/etc/exports still has $path"
    exportfs -v | grep -qF "$path" && sb_fail "exportfs still lists $path"
    return 0
}

# export_clients PATH: the clients the test's NFS server is told to export PATH to, sorted, on one
# line (kernel: exportfs -v; ganesha: the CLIENT block of PATH in nfsprovd's files)
export_clients() {
    if [ "$NP_EXPORT_SERVER" = ganesha ]; then
        awk -v p="Path = \"$1\";" '$0 ~ /^EXPORT \{/ {on = 0} index($0, p) {on = 1}
            on && /Clients = / {sub(/.*Clients = /, ""); sub(/;$/, ""); gsub(/, /, "\n"); print}' \
            <(ganesha_exports_text "$GFILE")
    else
        exportfs -v | tr '\n' ' ' | sed 's/) /)\n/g' | awk -v p="$1" '$1 == p {for (i = 2; i <= NF; i++) print $i}' |
            sed 's/(.*//'
    fi | sort | tr '\n' ' ' | sed 's/ $//'
}

# exports_state: what the test's NFS server is told and serves (for snapshot)
exports_state() {
    if [ "$NP_EXPORT_SERVER" = ganesha ]; then ganesha_exports_text "$GFILE"; ganesha_show_exports; else cat /etc/exports; fi
}

# assert_share_gone NAME: no trace of the share anywhere
assert_share_gone() {
    local name=$1 path=$BASE/$1
    np show "$name" >/dev/null 2>&1 && sb_fail "$name still listed"
    findmnt --mountpoint "$path" >/dev/null && sb_fail "$path still mounted"
    grep -qF " $path " /etc/fstab && sb_fail "fstab still has $path"
    assert_unexported "$path"
    [ -e "$IMAGES/$name.img" ] && sb_fail "image $IMAGES/$name.img left behind"
    losetup -l -n --raw -O BACK-FILE | grep -qF "$IMAGES/$name.img" && sb_fail "loop device of $name left attached"
    [ -e "$path" ] && sb_fail "mount point $path left behind"
    return 0
}

# sneak_in DIR COMMAND...: run COMMAND with the immutable attribute of DIR (an enforced share's
# root) lifted, as an admin planting an entry there would, and set again after
sneak_in() {
    local dir=$1 rc; shift
    chattr -i "$dir" || return 1
    "$@"; rc=$?
    chattr +i "$dir"
    return $rc
}

# foreign_paths SHARE: the paths of the share's foreign findings (an audit now), sorted, one line
foreign_paths() { np --json audit "$1" | jq -r '[.audits[0].findings[] | select(.finding == "foreign") | .path] | sort | join(" ")'; }

# crash_sampled: whether the crash test runs its next crash point (call once per point, in
# order). The pass without sanitizers runs every point; the sanitizer pass (NP_SANITIZERS=yes)
# every NP_CRASH_EVERY-th (default 3: the 1st, 4th, 7th, ...), which is what CI's time allows
# for the recovery paths under ASan and UBSan. NP_CRASH_EVERY=1 runs all in either pass.
# CRASH_SEEN counts the points met, CRASH_RUN those run.
CRASH_SEEN=0 CRASH_RUN=0 CRASH_EVERY=${NP_CRASH_EVERY:-1}
[ "${NP_SANITIZERS:-no}" = yes ] && CRASH_EVERY=${NP_CRASH_EVERY:-3}
crash_sampled() {
    [[ "$CRASH_EVERY" =~ ^[1-9][0-9]*$ ]] || sb_fail "NP_CRASH_EVERY=$CRASH_EVERY: a positive whole number is allowed"
    CRASH_SEEN=$((CRASH_SEEN + 1))
    (( (CRASH_SEEN - 1) % CRASH_EVERY == 0 )) || return 1
    CRASH_RUN=$((CRASH_RUN + 1))
}
# crash_summary: "N crash points", or "N of M crash points (one in K: ...)" where some were left out
crash_summary() {
    if [ "$CRASH_RUN" = "$CRASH_SEEN" ]; then echo "$CRASH_RUN crash points"
    else echo "$CRASH_RUN of $CRASH_SEEN crash points (one in ${CRASH_EVERY}: NP_CRASH_EVERY=1 runs all)"; fi
}

# crash_at FAULT COMMAND...: name FAULT as the fault point of the running daemon (started by
# start_daemon, which reads its NFSPROV_FAULT_FILE at every fault point; started now if none
# runs: no restart per point), run `np COMMAND` (it must fail: the daemon dies at the fault
# point) and wait for the daemon's death; the caller restarts it
crash_at() {
    local fault=$1; shift
    { [ -n "$DAEMON_PID" ] && kill -0 "$DAEMON_PID" 2>/dev/null; } || start_daemon
    echo "$fault" > "$S/fault"
    np "$@" > "$S/crash.out" 2>&1 && { : > "$S/fault"; sb_fail "$fault: the command succeeded although the daemon died"; }
    wait_daemon_dead
    : > "$S/fault"
    grep -q "NFSPROV_FAULT=$fault" "$S/nfsprovd.log" || sb_fail "$fault: fault point not reached"
}
