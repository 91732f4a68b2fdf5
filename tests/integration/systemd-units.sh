#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The systemd units (systemd/): `systemd-analyze verify` on each, with the programs and man pages
# they name taken from this build and checkout (it checks every ExecStart= is executable and every
# Documentation=man: page exists), and no warning allowed; nfsprovd.service sets no file system
# namespace (its mounts must reach the host's namespace, where the NFS server looks them up); the
# units `make` generated name the installed programs; nfsprov-client-watch.service restarts on
# failure, can be enabled, and is hardened as nfsprov-client.service. Running the units:
# systemd-boot.sh.
. "$NP_TOP_SRCDIR/tests/sandbox/lib.sh"
sb_require_cmd systemd-analyze systemd
sb_require_cmd man man-db

U=$NP_SCRATCH/units
mkdir -p "$U" "$NP_SCRATCH/man/man5" "$NP_SCRATCH/man/man8"
ln -s "$NP_SRC"/man/*.8 "$NP_SCRATCH/man/man8/"
ln -s "$NP_SRC"/man/*.5 "$NP_SCRATCH/man/man5/"
for f in "$NP_SRC"/systemd/*.in; do
    sed -e "s|@sbindir@|$NP_BUILD|g" -e "s|@bindir@|$NP_BUILD|g" "$f" > "$U/$(basename "$f" .in)"
done
cp "$NP_SRC"/systemd/*.timer "$U/"
units=(nfsprovd.service nfsprov-client.service nfsprov-client.timer nfsprov-client-watch.service)
assert_eq "$(cd "$U" && ls | LC_ALL=C sort | tr '\n' ' ')" \
    "nfsprov-client-watch.service nfsprov-client.service nfsprov-client.timer nfsprovd.service " "the units in systemd/"

for u in "${units[@]}"; do
    out=$(cd "$U" && MANPATH=$NP_SCRATCH/man SYSTEMD_LOG_LEVEL=info systemd-analyze verify "./$u" 2>&1)
    rc=$?
    echo "systemd-analyze verify $u: exit $rc${out:+: $out}"
    assert_eq "$rc" 0 "systemd-analyze verify $u: exit status"
    assert_eq "$out" "" "systemd-analyze verify $u: warnings"
done

# A mistake must be seen: an unknown key, a missing program, a missing man page.
sed 's/^Type=notify/Tpye=notify/' "$U/nfsprovd.service" > "$U/broken.service"
out=$(cd "$U" && MANPATH=$NP_SCRATCH/man systemd-analyze verify ./broken.service 2>&1)
assert_contains "$out" "'Tpye'" "verify reports an unknown key"
sed "s|^ExecStart=$NP_BUILD/nfsprovd|ExecStart=$NP_BUILD/no-such-nfsprovd|" "$U/nfsprovd.service" > "$U/broken.service"
out=$(cd "$U" && MANPATH=$NP_SCRATCH/man systemd-analyze verify ./broken.service 2>&1) &&
    sb_fail "verify passed a unit whose program does not exist: $out"
sed "s|man:nfsprovd(8)|man:nfsprovd-nothere(8)|" "$U/nfsprovd.service" > "$U/broken.service"
out=$(cd "$U" && MANPATH=$NP_SCRATCH/man systemd-analyze verify ./broken.service 2>&1) &&
    sb_fail "verify passed a unit whose man page does not exist: $out"
rm -f "$U/broken.service"

# nfsprovd.service: no setting that makes a file system namespace (systemd.exec(5): any of them
# turns mount propagation towards the host off, whatever MountFlags= says).
ns_keys='ProtectSystem|ProtectHome|ReadWritePaths|ReadOnlyPaths|InaccessiblePaths|ExecPaths|NoExecPaths|PrivateTmp|PrivateDevices|PrivateMounts|MountFlags|ProtectKernelTunables|ProtectKernelModules|ProtectKernelLogs|ProtectControlGroups|ProtectProc|ProcSubset|BindPaths|BindReadOnlyPaths|TemporaryFileSystem|RootDirectory|RootImage|MountAPIVFS|PrivateNetwork|NetworkNamespacePath|DynamicUser|ProtectHostname|LogNamespace|MountImages|ExtensionImages|ExtensionDirectories|PrivateIPC|IPCNamespacePath'
found=$(grep -E "^($ns_keys)=" "$U/nfsprovd.service")
assert_eq "$found" "" "nfsprovd.service settings that make a mount namespace"
assert_eq "$(grep -c -E '^(Type=notify|ExecReload=/bin/kill -HUP \$MAINPID|RuntimeDirectory=nfsprov)$' "$U/nfsprovd.service")" 3 \
    "nfsprovd.service: Type=notify, ExecReload, RuntimeDirectory"
# the client: a drift (exit 1) must leave the unit failed
assert_eq "$(grep -c '^SuccessExitStatus=' "$U/nfsprov-client.service")" 0 "nfsprov-client.service: no exit status but 0 is success"
# the watch: a long-running service, started again when it fails, that an admin can enable;
# the same hardening as the client's oneshot (it runs the same syncs)
assert_eq "$(grep -c -E '^(Type=exec|ExecStart=.*/nfsprov-client watch|Restart=on-failure|WantedBy=multi-user.target|After=libvirtd.service network-online.target|Wants=libvirtd.service network-online.target)$' \
    "$U/nfsprov-client-watch.service")" 6 "nfsprov-client-watch.service: Type, ExecStart, Restart, WantedBy, After, Wants"
hardening() { sed -n '/^# ---- Hardening/,/^$/p' "$1" | grep -E '^[A-Z][A-Za-z]*='; }
assert_eq "$(hardening "$U/nfsprov-client-watch.service")" "$(hardening "$U/nfsprov-client.service")" \
    "nfsprov-client-watch.service: the hardening of nfsprov-client.service"

# What make generated for make install: the installed programs' paths, nothing left to substitute.
for u in nfsprovd.service nfsprov-client.service nfsprov-client-watch.service; do
    g=$NP_BUILD/systemd/$u
    [ -f "$g" ] || sb_fail "make did not generate systemd/$u"
    grep -qE '@[a-z_]+@' "$g" && sb_fail "systemd/$u: $(grep -E '@[a-z_]+@' "$g" | head -1)"
    grep -qE '^ExecStart=/[^ ]*/(nfsprovd|nfsprov-client)( sync| watch)?$' "$g" || sb_fail "systemd/$u: $(grep ExecStart= "$g")"
done
sb_pass "verify: ${units[*]}"
