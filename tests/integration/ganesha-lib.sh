# SPDX-License-Identifier: LGPL-2.1-or-later
# NFS-Ganesha's configuration for the tests that serve nfsprovd's shares over NFSv3 (FSAL VFS,
# NFSv3 over TCP only, on 127.0.0.1, ports 2049 and 20048), sourced by client-nfs3.sh and
# nfsprovd-guard-nfs.sh; and the private NFS stack of the tests that run nfsprovd with
# [exports] server = ganesha (ganesha_netns, ganesha_rpcbind, ganesha_bus, ganesha_start, below).
#
# ganesha_config DIR ID:PATH[:ACCESS[:SQUASH]]...: the configuration on stdout; DIR holds its
# recovery/ and run/ directories; ACCESS defaults to RW, SQUASH to No_Root_Squash.
ganesha_config() {
    local dir=$1 spec id path access squash
    shift
    cat <<EOT
NFS_CORE_PARAM {
    Protocols = 3; Bind_Addr = 127.0.0.1; NFS_Port = 2049; MNT_Port = 20048;
    Enable_NLM = false; Enable_RQUOTA = false; Enable_UDP = false;
}
NFSv4 { RecoveryRoot = $dir/recovery; Graceless = true; }
NFS_KRB5 { Active_krb5 = false; CCacheDir = $dir/run; }
LOG { Default_Log_Level = EVENT; }
EOT
    for spec in "$@"; do
        IFS=: read -r id path access squash <<< "$spec"
        cat <<EOT
EXPORT {
    Export_Id = $id; Path = $path; Pseudo = $path;
    Access_Type = ${access:-RW}; Squash = ${squash:-No_Root_Squash};
    Attr_Expiration_Time = 0; Protocols = 3; Transports = TCP; SecType = sys;
    FSAL { Name = VFS; }
}
EOT
    done
}

# ---- a private NFS stack: own network namespace, rpcbind, D-Bus system bus, NFS-Ganesha ----
# ../shared recipes "NFS ports in parallel tests": Ganesha binds 2049 and 20048, and NFS clients
# ask rpcbind on :111, so each NFS-serving test runs in its own network namespace with its own
# loopback, /run (rpcbind's socket and state) and rpcbind; nothing touches the machine's.

# ganesha_netns "$@": first thing in a test: run the test again inside a new network namespace
# (same pid: exec), with lo up (127.0.0.2 too: glibc's address check ignores 127.0.0.1 alone, and
# Ganesha would fail "No IP address found for 127.0.0.1") and a private /run.
ganesha_netns() {
    if [ -z "${NP_GANESHA_NETNS:-}" ]; then
        unshare --net true 2>/dev/null || sb_skip "cannot create a network namespace here (unshare --net)"
        NP_GANESHA_NETNS=1 exec unshare --net bash "$0" "$@"
    fi
    ip link set lo up || sb_fail "cannot bring lo up in the test's network namespace"
    ip addr add 127.0.0.2/8 dev lo 2>/dev/null
    mount -t tmpfs -o mode=0755 nfsprov-test-run /run || sb_fail "cannot mount a private /run"
    mkdir -p /run/rpcbind && chown _rpc /run/rpcbind 2>/dev/null
    return 0
}

# ganesha_rpcbind DIR: rpcbind (never -h: rpcbind 1.2.6 aborts with it), tracked by the sandbox
ganesha_rpcbind() {
    rpcbind -f > "$1/rpcbind.log" 2>&1 &
    sb_track_pid $!
    GANESHA_RPCBIND_PID=$!
    local _i
    for _i in $(seq 100); do rpcinfo -p 127.0.0.1 > /dev/null 2>&1 && return 0; sleep 0.05; done
    sb_fail "rpcbind does not answer on 127.0.0.1"
}

# ganesha_bus DIR: a private D-Bus "system" bus where root may own and call org.ganesha.nfsd;
# exports DBUS_SYSTEM_BUS_ADDRESS (GDBus, gdbus and dbus-send use it)
ganesha_bus() {
    local dir=$1
    cat > "$dir/bus.conf" <<EOT
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$dir/bus.sock</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="root"/>
    <allow own="org.ganesha.nfsd"/>
    <allow send_destination="*"/>
    <allow receive_type="*"/>
  </policy>
</busconfig>
EOT
    rm -f "$dir/bus.address"
    dbus-daemon --config-file="$dir/bus.conf" --nofork --nopidfile --print-address=3 3> "$dir/bus.address" \
        2> "$dir/bus.log" &
    sb_track_pid $!
    GANESHA_BUS_PID=$!
    local _i
    for _i in $(seq 100); do [ -s "$dir/bus.address" ] && break; sleep 0.05; done
    [ -s "$dir/bus.address" ] || sb_fail "dbus-daemon did not start: $(cat "$dir/bus.log")"
    DBUS_SYSTEM_BUS_ADDRESS=$(head -1 "$dir/bus.address")
    export DBUS_SYSTEM_BUS_ADDRESS
}

# ganesha_start DIR: ganesha.nfsd -F on DIR/ganesha.conf (see ganesha_config), logging to
# DIR/ganesha.log; waits until it owns its D-Bus name. GANESHA_PID: its pid.
ganesha_start() {
    local dir=$1 _i
    ganesha.nfsd -F -f "$dir/ganesha.conf" -L "$dir/ganesha.log" -p "$dir/run/ganesha.pid" -N NIV_EVENT \
        < /dev/null > "$dir/ganesha.stdout" 2>&1 &
    GANESHA_PID=$!
    sb_track_pid "$GANESHA_PID"
    for _i in $(seq 200); do
        gdbus call --system --dest org.ganesha.nfsd --object-path /org/ganesha/nfsd/ExportMgr \
            --method org.ganesha.nfsd.exportmgr.ShowExports > /dev/null 2>&1 && return 0
        kill -0 "$GANESHA_PID" 2> /dev/null || { tail -20 "$dir/ganesha.log"; sb_fail "ganesha exited at start"; }
        sleep 0.05
    done
    tail -20 "$dir/ganesha.log"; sb_fail "ganesha does not answer on D-Bus within 10 s"
}

# ganesha_stop [SIGNAL]: stop the Ganesha ganesha_start started, by its pid (TERM by default)
ganesha_stop() {
    [ -n "${GANESHA_PID:-}" ] || return 0
    kill -"${1:-TERM}" "$GANESHA_PID" 2> /dev/null
    wait "$GANESHA_PID" 2> /dev/null
    GANESHA_PID=
}

# ganesha_show_exports: "ID PATH" per export Ganesha serves (ShowExports over D-Bus), sorted by
# path, without the pseudo-root
ganesha_show_exports() {
    gdbus call --system --dest org.ganesha.nfsd --object-path /org/ganesha/nfsd/ExportMgr \
        --method org.ganesha.nfsd.exportmgr.ShowExports |
        grep -oE "\((uint16 )?[0-9]+, '[^']*'" | sed -E "s/^\((uint16 )?([0-9]+), '(.*)'$/\2 \3/" |
        awk '$1 != 0' | sort -k2
}

# ---- nfsprovd driving Ganesha: the stack, and what a client sees ----

# ganesha_require: skip the test (whole: call it before any check) unless this machine can run a
# private Ganesha stack and reach it with libnfs
ganesha_require() {
    sb_require_cmd ganesha.nfsd nfs-ganesha
    sb_require_cmd rpcbind rpcbind
    sb_require_cmd rpcinfo rpcbind
    sb_require_cmd dbus-daemon dbus-daemon
    sb_require_cmd gdbus libglib2.0-bin
    sb_require_cmd nfs-cp libnfs-utils
    sb_require_cmd nfs-ls libnfs-utils
    sb_require_cmd ip iproute2
    compgen -G "/usr/lib/*/ganesha/libfsalvfs.so" > /dev/null ||
        sb_skip "needs ganesha's FSAL VFS (Debian package nfs-ganesha-vfs)"
    getent passwd _rpc > /dev/null || sb_skip "needs the _rpc account that rpcbind runs as (Debian package rpcbind)"
}

# ganesha_exports_text FILE: nfsprovd's NFS-Ganesha exports as one text: FILE ([exports]
# ganesha_config, its %dir lines) then each share's file below FILE.d (server/ganesha_store.h:
# what Ganesha's %dir reads, *.conf but not the dot files), sorted by name
ganesha_exports_text() {
    cat "$1"
    find "${1%.conf}.d" -type f -name '*.conf' ! -name '.*' -print0 2> /dev/null | sort -z | xargs -0r cat
}

# ganesha_stack DIR FILE: in the test's network namespace (ganesha_netns first): rpcbind, a private
# D-Bus system bus and Ganesha on DIR/ganesha.conf, which %includes FILE (nfsprovd's
# [exports] ganesha_config; made empty when missing: Ganesha refuses to start on an %include of a
# missing file). Ganesha runs (GANESHA_PID) once this returns.
ganesha_stack() {
    local dir=$1 file=$2
    mkdir -p "$dir/recovery" "$dir/run"
    ganesha_rpcbind "$dir"
    ganesha_bus "$dir"
    { ganesha_config "$dir"; echo "%include \"$file\""; } > "$dir/ganesha.conf"
    [ -e "$file" ] || : > "$file"
    ganesha_start "$dir"
}

# ganesha_url PATH: the libnfs URL of PATH on the test's Ganesha, NFSv3
GANESHA_Q="version=3&nfsport=2049&mountport=20048"
ganesha_url() { echo "nfs://127.0.0.1$1?$GANESHA_Q"; }

# ganesha_nfs_check DIR [write]: DIR, an export of the test's Ganesha that is also mounted here,
# seen over NFSv3 from 127.0.0.1 through libnfs: it mounts and lists the entries DIR has here, and
# its first regular file reads back the same. With `write`: a root write of a new file is owned
# 0:0 on the server's filesystem (no_root_squash), holds the data, and reads back; it is removed.
ganesha_nfs_check() {
    local dir=$1 tmp=$NP_SCRATCH/nfs-check list here f
    list=$(nfs-ls "$(ganesha_url "$dir")" 2>&1) || sb_fail "NFSv3 mount of $dir failed: $list"
    list=$(awk '{print $NF}' <<< "$list" | grep -vxE '\.|\.\.' | sort | tr '\n' ' ')
    here=$(ls -A "$dir" | sort | tr '\n' ' ')
    assert_eq "$list" "$here" "the entries of $dir over NFSv3"
    f=$(find "$dir" -mindepth 1 -maxdepth 1 -type f -printf '%f\n' | sort | head -1)
    if [ -n "$f" ]; then
        rm -f "$tmp.read"
        nfs-cp "$(ganesha_url "$dir/$f")" "$tmp.read" > /dev/null 2>&1 || sb_fail "NFSv3 read of $dir/$f failed"
        cmp -s "$tmp.read" "$dir/$f" || sb_fail "$dir/$f read over NFSv3 differs from the server's"
    fi
    [ "${2:-}" = write ] || return 0
    head -c 100000 /dev/urandom > "$tmp.data"
    rm -f "$dir/nfs-probe" "$tmp.back"
    nfs-cp "$tmp.data" "$(ganesha_url "$dir/nfs-probe")" > /dev/null 2>&1 || sb_fail "NFSv3 write to $dir failed"
    assert_eq "$(stat -c %u:%g "$dir/nfs-probe")" "0:0" "owner of a root write over NFSv3 to $dir"
    cmp -s "$tmp.data" "$dir/nfs-probe" || sb_fail "$dir: the NFSv3 write is not on the server's filesystem"
    nfs-cp "$(ganesha_url "$dir/nfs-probe")" "$tmp.back" > /dev/null 2>&1 || sb_fail "NFSv3 read from $dir failed"
    cmp -s "$tmp.data" "$tmp.back" || sb_fail "$dir: NFSv3 read back differs"
    rm -f "$dir/nfs-probe"
}
