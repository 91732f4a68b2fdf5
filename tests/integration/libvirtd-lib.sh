# SPDX-License-Identifier: LGPL-2.1-or-later
# "KVM hosts" for integration tests: private, root, storage-driver-only libvirtd daemons inside
# the test's sandbox. Source after tests/integration/nfsprovd-lib.sh (or tests/sandbox/lib.sh).
# shellcheck shell=bash
#
# Each host HOST is one libvirtd in its own mount namespace (unshare --mount), where
#   - a fresh tmpfs covers /run, HOST's etc/ is bound over /etc/libvirt, HOST's run/ over
#     /run/libvirt, empty dirs over /var/lib/libvirt and /var/cache/libvirt (nothing of the
#     machine's libvirt is read or written);
#   - the daemon loads only the storage driver (LIBVIRT_DRIVER_DIR = a dir holding a symlink
#     to libvirt_driver_storage.so); its sockets live in HOST's sock/ (outside those binds, so
#     virsh in the sandbox reaches it): URI storage+unix:///system?socket=.../libvirt-sock;
#   - each dir named in LV_HOST_DIRS (e.g. nfsprovd's [pools] target_base, in the sandbox) is
#     covered by an empty dir of the host's own, so every host has its own pool target dirs
#     (`pool-start --build` on one host creates nothing another host or the sandbox sees);
#   - a `mount` stand-in is bound over /usr/bin/mount (libvirt runs /bin/mount, the same file
#     on Debian 12): `mount ... -t nfs HOST:DIR TARGET` becomes a read-only overlay mount whose
#     source is HOST:DIR and whose lower layers are DIR and an empty dir. The kernel has no NFS
#     client; libvirt 9 takes a netfs pool as mounted only when the mount table has TARGET with
#     the source exactly HOST:DIR, which the overlay gives, with the share's files in it. DIR is
#     the server's share directory: nfsprovd runs in the same sandbox, so it is a local path.
#     Every other mount call goes to the real mount. Each call is logged in HOST's mount.log.
#
# Mount propagation. nfsprovd mounts each share (ext4 on a loop device) at $BASE/NAME in the
# sandbox's namespace, possibly after a daemon's namespace was created; the sandbox's mounts are
# all private, so a daemon would not see those mounts and its overlay would show an empty dir.
# Hence: when sourced, this file bind-mounts $BASE (nfsprovd's [shares] base, or $LV_SHARED_DIR)
# on itself and makes it a shared mount (its own peer group, living only in the sandbox's
# namespace: nothing reaches the machine), before nfsprovd mounts anything under it. Each daemon's
# namespace is created with --propagation slave: the copy of $BASE there is a slave of the
# sandbox's, so share mounts and unmounts made later by nfsprovd propagate into every daemon,
# while nothing a daemon mounts (pool targets, the /run tmpfs, the binds) ever propagates back.
# libvirtd-harness.sh checks both directions.
#
# A host started with LV_QEMU=1 (LV_QEMU=1 lv_start HOST) also loads the qemu driver, so it runs
# real domains (TCG: qemu-system-x86_64, no /dev/kvm needed) next to its pools: qemu.conf in its
# etc/ runs qemu as root without cgroups, security driver, ownership changes, per-domain mount
# namespaces or virtlogd (recipes: "full libvirtd with the qemu driver"); the `libvirt-qemu`
# account the driver looks up is added to the sandbox's /etc overlay; /var/log/libvirt is the
# host's own var-log/ (domain logs: var-log/qemu/NAME.log; where /var/lib/libvirt,
# /var/cache/libvirt or /var/log/libvirt do not exist, their parents get an overlay in the
# daemon's namespace whose upper layer is the host's, so nothing is created on the machine). Its URI is qemu+unix:///system?socket=...
# (the same socket; pools and domains on one connection). lv_qemu_check (before the test's first
# assertion) skips the test when qemu-system-x86_64 or libvirt's qemu driver is missing or
# qemu cannot run a TCG machine here.
#
# Functions:
#   lv_start HOST        start the daemon, wait until `virsh uri` answers, print the URI
#   lv_stop HOST         SIGTERM by pid, wait until no process is left in its mount namespace
#   lv_stop_all          lv_stop every running host (call it before sb_pass)
#   lv_uri HOST, lv_pid HOST, lv_dir HOST, lv_etc HOST (etc/: storage/NAME.xml, storage/autostart/)
#   lv_virsh HOST ARGS...   virsh -c URI ARGS (from the sandbox's namespace)
#   lv_in HOST CMD...       run CMD in the daemon's mount namespace (nsenter -t PID -m)
#   lv_client HOST ARGS...  $NP_TOP_BUILDDIR/nfsprov-client --connect URI ARGS, in the daemon's
#                           mount namespace (the client reads /proc/self/mountinfo, as on a host
#                           where it and libvirtd share one namespace)
#   lv_mnt_source HOST PATH  the source of the mount at PATH in the daemon's namespace (or nothing)
# and for the nfsprov-client tests: lv_free_port, lv_nfsprovd_config PORT TARGET_BASE,
#   lv_run HOST ARGS (-> LV_OUT, LV_ERR, LV_RC), lv_expect_rc N WHAT, lv_expect_line TEXT LINE WHAT,
#   lv_pool_def HOST POOL / lv_server_def POOLS.JSON POOL (the fields to compare), lv_pool_info
#   HOST POOL KEY, lv_snapshot HOST (what a no-op must leave alone), lv_volumes_state POOLS.JSON.
# Env: LV_ROOT (default $NP_SCRATCH/libvirt), LV_SHARED_DIR (default $BASE), LV_HOST_DIRS
# (space-separated absolute paths in the sandbox, each private to every host; read by lv_start).

[ -n "${NP_SANDBOX:-}" ] || . "$NP_TOP_SRCDIR/tests/sandbox/lib.sh"
sb_require_cmd libvirtd libvirt-daemon
sb_require_cmd virsh libvirt-clients
sb_require_cmd nsenter util-linux
sb_require_cmd findmnt util-linux

LV_DRIVER=${LV_DRIVER:-/usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_storage.so}
[ -e "$LV_DRIVER" ] || LV_DRIVER=$(find /usr/lib* -name libvirt_driver_storage.so -path '*connection-driver*' 2>/dev/null | head -1)
if [ -z "$LV_DRIVER" ] || [ ! -e "$LV_DRIVER" ]; then
    sb_skip "needs libvirt's storage driver libvirt_driver_storage.so (Debian package libvirt-daemon)"
fi
grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null
grep -qw overlay /proc/filesystems || sb_skip "needs overlayfs in the kernel (the NFS mount stand-in)"

LV_ROOT=${LV_ROOT:-$NP_SCRATCH/libvirt}
declare -A LV_PIN      # host -> fd holding its mount namespace (lv_stop)
NFSPROV_CLIENT=${NFSPROV_CLIENT:-$NP_TOP_BUILDDIR/nfsprov-client}
mkdir -p "$LV_ROOT"

lv__check_name() {
    case "$1" in ''|*[!A-Za-z0-9_-]*) sb_fail "libvirtd-lib: bad host name [$1]";; esac
}
lv_dir() { lv__check_name "$1"; echo "$LV_ROOT/$1"; }
lv_etc() { echo "$(lv_dir "$1")/etc"; }
lv_uri() {
    local d
    d=$(lv_dir "$1")
    if [ -e "$d/qemu" ]; then echo "qemu+unix:///system?socket=$d/sock/libvirt-sock"
    else echo "storage+unix:///system?socket=$d/sock/libvirt-sock"; fi
}
lv_pid() {
    local f
    f=$(lv_dir "$1")/pid
    [ -s "$f" ] || sb_fail "libvirtd of host $1 is not running"
    cat "$f"
}

# lv_share_dir DIR: make DIR a shared mount point (bound on itself) in the sandbox's namespace.
# Must run before anything is mounted under DIR (a later bind would hide those mounts).
lv_share_dir() {
    local d=$1 prop
    mkdir -p "$d"
    d=$(realpath "$d")
    case "$d/" in "$NP_SANDBOX"/*) ;; *) sb_fail "lv_share_dir: $d is outside the sandbox";; esac
    if ! findmnt -n --mountpoint "$d" > /dev/null; then
        awk -v d="$d/" 'index($5, d) == 1 {found = 1} END {exit !found}' /proc/self/mountinfo &&
            sb_fail "lv_share_dir: $d already has mounts under it; call it before nfsprovd starts"
        mount --bind "$d" "$d" || sb_fail "cannot bind $d on itself"
    fi
    mount --make-shared "$d" || sb_fail "cannot make $d a shared mount"
    prop=$(findmnt -n -o PROPAGATION --mountpoint "$d")
    # a setup check, not an assertion: a test may still skip after sourcing this file
    [ "$prop" = shared ] || sb_fail "propagation of $d: expected [shared], got [$prop]"
    LV_SHARED=$d
}
LV_SHARED_DIR=${LV_SHARED_DIR:-${BASE:-}}
LV_SHARED=
[ -n "$LV_SHARED_DIR" ] && lv_share_dir "$LV_SHARED_DIR"

LV_QEMU_DRIVER=$(dirname "$LV_DRIVER")/libvirt_driver_qemu.so

# lv_qemu_check: skip the test (whole: call it before the first assertion) when this machine
# cannot run TCG domains under a private libvirtd
lv_qemu_check() {
    sb_require_cmd qemu-system-x86_64 qemu-system-x86
    [ -e "$LV_QEMU_DRIVER" ] || sb_skip "needs libvirt's qemu driver libvirt_driver_qemu.so (Debian package libvirt-daemon-driver-qemu)"
    local out
    out=$(printf '%s\n' '{"execute":"qmp_capabilities"}' '{"execute":"quit"}' |
          timeout 20 qemu-system-x86_64 -machine pc -accel tcg -m 32 -nodefaults -display none -S -qmp stdio 2>&1) ||
        sb_skip "qemu-system-x86_64 cannot start a TCG machine here: $(tail -1 <<< "$out")"
}

# the files of one host: etc, run, sock, drivers, an empty lower layer, the mount stand-in
lv__prepare() {
    local h=$1 d
    d=$(lv_dir "$h")
    mkdir -p "$d/etc" "$d/run" "$d/sock" "$d/drivers" "$d/empty" "$d/var-lib" "$d/var-cache"
    rm -rf "${d:?}/run/"*       # libvirt autostarts pools once per "boot": when run/ is fresh
    ln -sf "$LV_DRIVER" "$d/drivers/"
    rm -f "$d/qemu"
    if [ -n "${LV_QEMU:-}" ]; then
        [ -e "$LV_QEMU_DRIVER" ] || sb_fail "LV_QEMU: no $LV_QEMU_DRIVER (call lv_qemu_check first)"
        ln -sf "$LV_QEMU_DRIVER" "$d/drivers/"
        mkdir -p "$d/var-log/qemu"
        cat > "$d/etc/qemu.conf" <<EOT
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
cgroup_controllers = [ ]
namespaces = [ ]
stdio_handler = "file"
EOT
        # the driver looks the account up at start; /etc is the sandbox's overlay
        getent group libvirt-qemu > /dev/null || echo "libvirt-qemu:x:64055:" >> /etc/group
        getent passwd libvirt-qemu > /dev/null ||
            echo "libvirt-qemu:x:64055:64055:Libvirt Qemu:/var/lib/libvirt:/usr/sbin/nologin" >> /etc/passwd
        touch "$d/qemu"
    fi
    cat > "$d/libvirtd.conf" <<EOT
unix_sock_dir = "$d/sock"
unix_sock_rw_perms = "0700"
unix_sock_ro_perms = "0700"
unix_sock_admin_perms = "0700"
log_outputs = "3:file:$d/libvirtd.log"
EOT
    [ -x "$d/mount.real" ] || cp /usr/bin/mount "$d/mount.real"
    cat > "$d/mount" <<EOT
#!/bin/sh
# nfsprov test harness: "mount -t nfs HOST:DIR TARGET" -> read-only overlay of DIR named HOST:DIR
echo "mount \$*" >> "$d/mount.log"
nfs= prev=
for a in "\$@"; do
    case "\$a" in -tnfs|-tnfs4|--types=nfs|--types=nfs4) nfs=1 ;; nfs|nfs4) [ "\$prev" = -t ] && nfs=1 ;; esac
    prev=\$a
done
[ -n "\$nfs" ] || exec "$d/mount.real" "\$@"
src= dst=
for a in "\$@"; do src=\$dst; dst=\$a; done
case "\$src" in \[*\]:/*) dir=\${src#*]:} ;; *:/*) dir=\${src#*:} ;; *) echo "mount.nfs: bad source \$src" >&2; exit 32 ;; esac
[ -d "\$dir" ] || { echo "mount.nfs: access denied by server while mounting \$src" >&2; exit 32; }
exec "$d/mount.real" -t overlay -o "ro,lowerdir=\$dir:$d/empty" "\$src" "\$dst"
EOT
    chmod 755 "$d/mount"
}

# lv_start HOST: start HOST's daemon; print its URI once it answers
lv_start() {
    local h=$1 d pid uri i ns
    d=$(lv_dir "$h")
    if [ -s "$d/pid" ] && lv_alive "$(cat "$d/pid")"; then
        sb_fail "lv_start $h: already running (pid $(cat "$d/pid"))"
    fi
    if [ -n "$LV_SHARED" ]; then
        assert_eq "$(findmnt -n -o PROPAGATION --mountpoint "$LV_SHARED")" shared "lv_start $h: propagation of $LV_SHARED"
    fi
    lv__prepare "$h"
    rm -f "$d/libvirtd.pid" "$d/pid" "$d/mntns"
    uri=$(lv_uri "$h")
    [ -d /etc/libvirt ] || mkdir -p /etc/libvirt   # /etc is the sandbox's overlay
    local hd i=0 own=()
    for hd in ${LV_HOST_DIRS:-}; do
        case "$hd/" in "$NP_SANDBOX"/*) ;; *) sb_fail "LV_HOST_DIRS: $hd is outside the sandbox";; esac
        i=$((i + 1))
        mkdir -p "$hd" "$d/host-dirs/$i"
        own+=("$d/host-dirs/$i" "$hd")
    done
    # shellcheck disable=SC2016 # the script expands its own arguments
    unshare --mount --propagation slave sh -c '
        d=$1; shift
        while [ $# -ge 2 ]; do mount --bind "$1" "$2" || exit 1; shift 2; done
        mount -t tmpfs "nfsprov-lv-run" /run && mkdir -p /run/libvirt &&
        mount --bind "$d/etc" /etc/libvirt &&
        mount --bind "$d/run" /run/libvirt &&
        if [ -e "$d/qemu" ]; then
            # the qemu driver creates /var/lib/libvirt, /var/cache/libvirt and /var/log/libvirt:
            # over overlays whose upper layers are the host'"'"'s, where they are missing here
            for v in lib cache log; do
                [ ! -d "/var/$v/libvirt" ] || continue
                mkdir -p "$d/ov-$v/upper" "$d/ov-$v/work" &&
                mount -t overlay "nfsprov-lv-var-$v" -o "lowerdir=/var/$v,upperdir=$d/ov-$v/upper,workdir=$d/ov-$v/work" "/var/$v" &&
                mkdir -p "/var/$v/libvirt" || exit 1
            done
            mount --bind "$d/var-log" /var/log/libvirt || exit 1
        fi
        { [ ! -d /var/lib/libvirt ] || mount --bind "$d/var-lib" /var/lib/libvirt; } &&
        { [ ! -d /var/cache/libvirt ] || mount --bind "$d/var-cache" /var/cache/libvirt; } &&
        mount --bind "$d/mount" /usr/bin/mount &&
        exec env LIBVIRT_DRIVER_DIR="$d/drivers" libvirtd -d -f "$d/libvirtd.conf" -p "$d/libvirtd.pid"
    ' lv-start "$d" "${own[@]}" >> "$d/libvirtd.out" 2>&1 || { cat "$d/libvirtd.out" "$d/libvirtd.log" 2>/dev/null; sb_fail "libvirtd of host $h did not start"; }
    for i in $(seq 500); do
        [ -s "$d/libvirtd.pid" ] && break
        sleep 0.02
    done
    pid=$(cat "$d/libvirtd.pid" 2>/dev/null)
    [ -n "$pid" ] || { cat "$d/libvirtd.out" "$d/libvirtd.log" 2>/dev/null; sb_fail "libvirtd of host $h wrote no pid file"; }
    sb_track_pid "$pid"
    echo "$pid" > "$d/pid"     # libvirtd removes its own pid file when it exits
    ns=$(readlink "/proc/$pid/ns/mnt") || sb_fail "libvirtd of host $h (pid $pid) is gone"
    [ "$ns" != "$(readlink /proc/self/ns/mnt)" ] || sb_fail "libvirtd of host $h runs in the sandbox's mount namespace"
    echo "$ns" > "$d/mntns"
    for i in $(seq 500); do
        virsh -q -c "$uri" uri > /dev/null 2>&1 && { echo "$uri"; return 0; }
        lv_alive "$pid" || break
        sleep 0.02
    done
    cat "$d/libvirtd.out" "$d/libvirtd.log" 2>/dev/null
    sb_fail "libvirtd of host $h (pid $pid) does not answer on $uri"
}

# lv_alive PID: some thread of PID runs (is not a zombie). A daemon whose main thread exited
# is a zombie leader while its other threads still run; a stopped daemon is reparented to
# pid 1, which may take a moment to reap it.
lv_alive() {
    local t st
    for t in /proc/"$1"/task/[0-9]*; do
        st=$(awk '{print $3}' "$t/stat" 2>/dev/null) || continue
        [ -n "$st" ] && [ "$st" != Z ] && return 0
    done
    return 1
}

# lv_procs HOST: pids of processes in HOST's mount namespace (the daemon, anything it left),
# looking at every thread (a zombie leader has no namespace link, its threads do); only while
# lv_stop holds the namespace (see below), else nothing. `-ef` compares the namespaces' inodes
# without a fork per process.
lv_procs() {
    local ref p t
    [ -n "${LV_PIN[$1]:-}" ] || return 0
    ref=/proc/$$/fd/${LV_PIN[$1]}
    for p in /proc/[0-9]*; do
        for t in "$p" "$p"/task/[0-9]*; do
            [ "$t/ns/mnt" -ef "$ref" ] && { echo "${p#/proc/}"; break; }
        done
    done
}

# Namespace ids (mnt:[INODE]) are reused once a namespace is gone, possibly at once by another
# test's, so lv_stop looks for processes of a host's namespace only while it holds the namespace
# open (an fd on /proc/PID/ns/mnt keeps it, and its id, alive).
lv__pin() {
    local h=$1 d pid fd
    d=$(lv_dir "$h")
    [ -z "${LV_PIN[$h]:-}" ] || return 0
    pid=$(cat "$d/pid" 2>/dev/null) || return 0
    [ -n "$pid" ] && lv_alive "$pid" || return 0
    exec {fd}< "/proc/$pid/ns/mnt" || return 0
    if [ "$(readlink "/proc/$$/fd/$fd")" = "$(cat "$d/mntns")" ]; then
        LV_PIN[$h]=$fd
    else
        exec {fd}<&-
    fi
}
lv__unpin() {
    local fd=${LV_PIN[$1]:-}
    [ -n "$fd" ] || return 0
    exec {fd}<&-
    unset "LV_PIN[$1]"
}

# lv_stop HOST: SIGTERM by pid; wait until the daemon and every process of its namespace ended
lv_stop() {
    local h=$1 d pid i left
    d=$(lv_dir "$h")
    [ -s "$d/pid" ] || return 0
    pid=$(cat "$d/pid")
    lv__pin "$h"
    kill -TERM "$pid" 2>/dev/null
    for i in $(seq 500); do
        if ! lv_alive "$pid"; then
            [ -z "${LV_PIN[$h]:-}" ] && break
            [ -z "$(lv_procs "$h")" ] && break
        fi
        sleep 0.02
    done
    lv_alive "$pid" && sb_fail "lv_stop $h: libvirtd (pid $pid) still runs 10 s after SIGTERM"
    if [ -n "${LV_PIN[$h]:-}" ]; then
        left=$(lv_procs "$h")
        for i in $left; do
            echo "lv_stop $h: left: pid $i: $(tr '\0' ' ' < "/proc/$i/cmdline" 2>/dev/null) ($(awk '{print "state " $3 ", ppid " $4}' "/proc/$i/stat" 2>/dev/null))" >&2
        done
        [ -z "$left" ] || sb_fail "lv_stop $h: processes left in its namespace after 10 s: $(lv_words "$left")"
    fi
    lv__unpin "$h"
    rm -f "$d/pid"
}

# lv_stop_all: SIGTERM to every running host at once, then wait for each
lv_stop_all() {
    local d hosts=()
    for d in "$LV_ROOT"/*/; do
        [ -s "$d/pid" ] || continue
        hosts+=("$(basename "$d")")
        lv__pin "$(basename "$d")"
    done
    for d in "${hosts[@]}"; do kill -TERM "$(cat "$LV_ROOT/$d/pid")" 2>/dev/null; done
    for d in "${hosts[@]}"; do lv_stop "$d"; done
    return 0
}

lv_virsh() { local h=$1; shift; virsh -q -c "$(lv_uri "$h")" "$@"; }
lv_in() { local h=$1 pid; shift; pid=$(lv_pid "$h") || return 1; nsenter -t "$pid" -m -- "$@"; }
# lv_client HOST ARGS...: nfsprov-client ARGS on HOST. Without a cache of the servers' definitions
# (every sync as a host's first), unless LV_CACHE=1: then HOST's own cache file (lv_cache HOST).
lv_cache() { echo "$(lv_dir "$1")/client-pools.json"; }
lv_client() {
    local h=$1 pid uri cache=(--no-cache); shift
    pid=$(lv_pid "$h") || return 1
    uri=$(lv_uri "$h")
    [ "${LV_CACHE:-0}" = 1 ] && cache=(--cache "$(lv_cache "$h")")
    nsenter -t "$pid" -m -- "$NFSPROV_CLIENT" --connect "$uri" "${cache[@]}" "$@"
}
lv_mnt_source() { lv_in "$1" findmnt -n -o SOURCE --mountpoint "$2"; }

# ---- helpers for the nfsprov-client tests ----

# lv_free_port: a TCP port nobody listens on
lv_free_port() { free_port; }

# lv_nfsprovd_config PORT TARGET_BASE: nfsprovd-lib.sh's write_config, plus
# [server] listen = 127.0.0.1:PORT and [pools] target_base = TARGET_BASE (in the sandbox)
lv_nfsprovd_config() {
    write_config
    sed -i "/^\[server\]/a listen = 127.0.0.1:$1" "$CONF"
    sed -i "s|^target_base = .*|target_base = $2|" "$CONF"
}

# lv_server SHARE...: the server of a client test: nfsprovd (image backend) listening on
# 127.0.0.1:$PORT with pool targets under $TARGETS (each host gets its own copy: LV_HOST_DIRS),
# started, with a 32M share per name. Sets PORT, SERVER, TARGETS and LV_HOST_DIRS. LV_CONF_EXTRA: lines
# appended to its nfsprov.conf before it starts.
lv_server() {
    local n
    PORT=$(lv_free_port)
    SERVER=http://127.0.0.1:$PORT
    TARGETS=$S/pools
    LV_HOST_DIRS=$TARGETS
    lv_nfsprovd_config "$PORT" "$TARGETS"
    [ -z "${LV_CONF_EXTRA:-}" ] || printf '%s\n' "$LV_CONF_EXTRA" >> "$CONF" # a test's own settings
    start_daemon
    for n in "$@"; do
        np create "$n" --size 32M > "$S/out" 2>&1 || { cat "$S/out" "$S/nfsprovd.log"; sb_fail "create $n failed"; }
    done
}

# lv_run HOST ARGS...: lv_client HOST ARGS with stdout in $LV_OUT, stderr in $LV_ERR and the exit
# status in $LV_RC; lv_expect_rc N WHAT: fail with both outputs when the status is not N
lv_run() {
    lv_client "$@" > "$LV_ROOT/run.out" 2> "$LV_ROOT/run.err"
    LV_RC=$?
    LV_OUT=$(cat "$LV_ROOT/run.out")
    LV_ERR=$(cat "$LV_ROOT/run.err")
    LV_CMD="on host $1: nfsprov-client ${*:2}"
}
lv_expect_rc() {
    [ "$LV_RC" = "$1" ] && return 0
    printf '%s\n--- stdout:\n%s\n--- stderr:\n%s\n' "$LV_CMD" "$LV_OUT" "$LV_ERR" >&2
    sb_fail "$2: exit status $LV_RC, expected $1"
}
# lv_words TEXT: the words of TEXT on one line, separated by one blank (a table row, compared)
lv_words() { tr -s ' \t\n' '   ' <<< "$1" | sed 's/^ //; s/ $//'; }
# lv_expect_line TEXT LINE WHAT: TEXT has LINE as a whole line
lv_expect_line() {
    grep -qxF -- "$2" <<< "$1" || sb_fail "${3:-output}: no line [$2] in:
$1"
}

# lv_pool_def HOST POOL: the persistent definition as libvirt keeps it, one line:
# "name uuid host source format protocol target" (same order as lv_server_def). Not the target's
# permissions: libvirt replaces them in its definition with the mode and owner it finds on the
# target directory once the pool started (0755 0 0: the mounted share's root).
lv_pool_def() {
    lv_virsh "$1" pool-dumpxml --inactive "$2" | awk '
        /<name>/ && !name  { name = $0; gsub(/.*<name>|<\/name>.*/, "", name) }
        /<uuid>/           { uuid = $0; gsub(/.*<uuid>|<\/uuid>.*/, "", uuid) }
        /<host /           { host = $0; sub(/.*name=./, "", host); sub(/[\x27"].*/, "", host) }
        /<dir /            { dir = $0; sub(/.*path=./, "", dir); sub(/[\x27"].*/, "", dir) }
        /<format /         { fmt = $0; sub(/.*type=./, "", fmt); sub(/[\x27"].*/, "", fmt) }
        /<protocol /       { ver = $0; sub(/.*ver=./, "", ver); sub(/[\x27"].*/, "", ver) }
        /<target>/         { intarget = 1 }
        intarget && /<path>/ { path = $0; gsub(/.*<path>|<\/path>.*/, "", path) }
        END { print name, uuid, host, dir, fmt, ver, path }'
}
# lv_server_def JSONFILE POOL: the same fields from a GET /v1/pools answer
lv_server_def() {
    jq -r --arg n "$2" '.pools[] | select(.name == $n) |
        "\(.name) \(.uuid) \(.host) \(.source_path) \(.format) \(.protocol_version) \(.target_path)"' "$1"
}
# lv_volumes_state POOLS.JSON: the Volumes cell verify shows for an active pool whose share holds
# only the server's volumes: "ok" when the server reports volumes (every pool has "volumes"),
# "unknown" when it does not (an nfsprovd without volumes); lv_volumes_json is the same for
# --json (true or "unknown")
lv_volumes_state() { jq -r 'if all(.pools[]; has("volumes")) then "ok" else "unknown" end' "$1"; }
lv_volumes_json() { jq -c 'if all(.pools[]; has("volumes")) then true else "unknown" end' "$1"; }
# lv_pool_info HOST POOL KEY: a field of `virsh pool-info --bytes` (State, Autostart, Capacity, ...)
lv_pool_info() {
    lv_virsh "$1" pool-info --bytes "$2" 2>/dev/null | awk -v k="$3:" '$1 == k {print $2}'
}

# lv_snapshot HOST: everything a no-op must leave alone on HOST: its storage/ files (size, mtime,
# content or link), every pool's state, autostart, persistent and live definitions, the mounts
# of its pool targets with their mount ids, the target dirs (LV_HOST_DIRS)
lv_snapshot() {
    local h=$1 etc f p
    etc=$(lv_etc "$h")
    echo "== files"
    (cd "$etc" && find . -path ./storage -o -path './storage/*' | sort) | while read -r f; do
        if [ -L "$etc/$f" ]; then echo "$f -> $(readlink "$etc/$f")"
        elif [ -f "$etc/$f" ]; then echo "$f $(stat -c '%s %y' "$etc/$f") $(sha256sum < "$etc/$f")"
        else echo "$f/"; fi
    done
    echo "== pools"
    # one virsh for all pools (each virsh costs a start and a connection): per pool its
    # pool-info (which names it), the persistent and the live XML, without the figures that change
    local cmds="" out
    for p in $(lv_virsh "$h" pool-list --all --name | sort); do
        cmds+="pool-info $p; pool-dumpxml --inactive $p; pool-dumpxml $p; "
    done
    if [ -n "$cmds" ]; then
        # a snapshot that could not be read never equals another one (it runs in $(...): no sb_fail)
        out=$(lv_virsh "$h" "$cmds" 2>&1) || echo "== virsh failed at $(date +%s.%N): $out"
        grep -vE '<(capacity|allocation|available)|^(Capacity|Allocation|Available):' <<< "$out"
    fi
    echo "== mounts"
    lv_in "$h" cat /proc/self/mountinfo | awk '{ for (i = 7; $i != "-"; i++) ; fs = $(i + 1); src = $(i + 2) }
        fs == "overlay" || src ~ /:\// {print $1, $5, fs, src}' | sort
    echo "== target dirs"
    for f in ${LV_HOST_DIRS:-}; do lv_in "$h" find "$f" -maxdepth 1 | sort; done
}
