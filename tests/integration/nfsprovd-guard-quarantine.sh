#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The guard's quarantine with the real nfsprovd: a foreign file (content kept byte for byte, gone
# from the share, the audit clean, listed by audit --quarantined, root 0600 in a 0700 directory),
# a symbolic link (copied as a link, never followed), a nested file, a 64 MiB file (the
# operation's progress), restore (back at its path with its owner and mode, foreign again);
# refusals (a volume, lost+found, ../x, a fifo, a directory holding one, an unknown item, a
# missing directory) with exit 2 and nothing changed; then a crash (NFSPROV_FAULT) before and after each step of
# quarantine and restore, and a restart: never both copies lost, never a half copy listed, the
# audit consistent and the root immutable again.
. "$NP_TOP_SRCDIR/tests/integration/quarantine-lib.sh"

# ---- a file ----
sneak sh -c "head -c 100000 /dev/urandom > '$Q/notes.bin' && chown 1234:5678 '$Q/notes.bin' && chmod 0640 '$Q/notes.bin'" ||
    sb_fail "cannot make notes.bin"
sum=$(sha256sum < "$Q/notes.bin")
assert_eq "$(foreign_of)" "notes.bin" "notes.bin is foreign"
out=$(np audit --quarantine Q notes.bin) || sb_fail "audit --quarantine Q notes.bin: $out"
assert_eq "$out" "quarantined Q/notes.bin as notes.bin ($QD/Q/notes.bin)" "audit --quarantine Q notes.bin"
[ -e "$Q/notes.bin" ] && sb_fail "notes.bin is still in the share"
assert_eq "$(sha256sum < "$QD/Q/notes.bin")" "$sum" "the quarantined copy, byte for byte"
assert_eq "$(stat -c '%u:%g %a' "$QD/Q/notes.bin")" "0:0 600" "the quarantined copy: root, 0600"
assert_eq "$(stat -c '%a' "$QD" "$QD/Q" | tr '\n' ' ')" "700 700 " "the quarantine's directories: 0700"
np audit Q > "$S/audit.out" || sb_fail "the audit is not clean after the quarantine: $(cat "$S/audit.out")"
root_immutable || sb_fail "the quarantine left Q's root mutable"
j=$(np --json audit --quarantined) || sb_fail "audit --quarantined"
assert_eq "$(jq -c '[.quarantined[] | [.share, .name, .path, .kind, .size, .uid, .gid, .mode, .status]]' <<< "$j")" \
    '[["Q","notes.bin","notes.bin","file",100000,1234,5678,"0640","ready"]]' "audit --quarantined (JSON)"
assert_contains "$(np audit --quarantined Q)" "notes.bin" "audit --quarantined Q (table)"
assert_eq "$(api '/v1/quarantine?share=Q' | jq '.quarantined | length')" 1 "GET /v1/quarantine?share=Q"

# ---- a symbolic link: copied as a link, never followed ----
sneak ln -s /etc/hostname "$Q/link" || sb_fail "cannot make link"
out=$(np audit --quarantine Q link) || sb_fail "audit --quarantine Q link: $out"
[ -L "$QD/Q/link" ] || sb_fail "the quarantined link is not a symbolic link"
assert_eq "$(readlink "$QD/Q/link")" /etc/hostname "the quarantined link's target"
[ -f /etc/hostname ] || sb_fail "quarantining a link touched its target"
[ -e "$Q/link" ] || [ -L "$Q/link" ] && sb_fail "link is still in the share"

# ---- a nested file, and a name taken already ----
sneak mkdir "$Q/dir" || sb_fail "mkdir dir"
echo nested > "$Q/dir/notes.bin"
out=$(np audit --quarantine Q dir/notes.bin) || sb_fail "audit --quarantine Q dir/notes.bin: $out"
assert_contains "$out" "as notes.bin.1" "a second notes.bin gets another name"
assert_eq "$(cat "$QD/Q/notes.bin.1")" nested "the nested file's copy"
[ -d "$Q/dir" ] || sb_fail "the nested file's directory went with it"

# ---- a large file: the operation completes, with progress ----
sneak sh -c "head -c 64M /dev/urandom > '$Q/big'" || sb_fail "cannot make big"
bigsum=$(sha256sum < "$Q/big")
o=$(api_quarantine big)
assert_eq "$(jq -r .state <<< "$o")" succeeded "the 64 MiB quarantine: $(jq -c .error <<< "$o")"
assert_eq "$(jq -r '.result.name + " " + .kind + " " + (.progress.done|tostring) + "/" + (.progress.total|tostring)' <<< "$o")" \
    "big quarantine 2/2" "the 64 MiB quarantine's result"
assert_eq "$(sha256sum < "$QD/Q/big")" "$bigsum" "the 64 MiB copy, byte for byte"
[ -e "$Q/big" ] && sb_fail "big is still in the share"
grep -q "quarantine Q/big: moved to" "$S/nfsprovd.log" || sb_fail "no log line for big"

# ---- restore: back at its path, foreign again ----
out=$(np audit --restore Q notes.bin) || sb_fail "audit --restore Q notes.bin: $out"
assert_eq "$out" "restored Q/notes.bin from the quarantine (notes.bin)" "audit --restore Q notes.bin"
assert_eq "$(sha256sum < "$Q/notes.bin")" "$sum" "the restored file, byte for byte"
assert_eq "$(stat -c '%u:%g %a' "$Q/notes.bin")" "1234:5678 640" "the restored file's owner and mode"
[ -e "$QD/Q/notes.bin" ] && sb_fail "the quarantined copy is still there after the restore"
assert_eq "$(foreign_of)" "dir notes.bin" "notes.bin is foreign again"
root_immutable || sb_fail "the restore left Q's root mutable"
np audit --restore Q link > /dev/null || sb_fail "audit --restore Q link"
assert_eq "$(readlink "$Q/link")" /etc/hostname "the restored link"
np audit --restore Q big > /dev/null || sb_fail "audit --restore Q big"
assert_eq "$(sha256sum < "$Q/big")" "$bigsum" "big restored, byte for byte"

# ---- refusals: exit 2, nothing changed ----
mkfifo "$Q/dir/pipe" || sb_fail "mkfifo dir/pipe"
before=$(ls -A "$Q" | tr '\n' ' ')$(ls -A "$QD/Q" | tr '\n' ' ')
refused() { # WHAT EXPECTED-TEXT ARGS...
    local what=$1 text=$2 err rc; shift 2
    err=$(np audit "$@" 2>&1); rc=$?
    assert_eq "$rc" 2 "$what: exit status ($err)"
    assert_contains "$err" "$text" "$what"
    assert_eq "$(ls -A "$Q" | tr '\n' ' ')$(ls -A "$QD/Q" | tr '\n' ' ')" "$before" "$what: nothing changed"
}
refused "quarantine of a volume" "it is a volume" --quarantine Q vol1
refused "quarantine of lost+found" "the filesystem's or nfsprov's own" --quarantine Q lost+found
refused "quarantine of ../x" "no empty, . or .. components" --quarantine Q ../x
refused "quarantine of a fifo" "it is a special file" --quarantine Q dir/pipe
refused "quarantine of a directory holding a fifo" "Q/dir/pipe is a fifo" --quarantine Q dir
refused "quarantine of nothing" "no such entry" --quarantine Q nothing
refused "restore of an unknown item" "no quarantined item" --restore Q nothing
rm "$Q/dir/pipe"
np audit --quarantine Q dir/notes.bin > /dev/null 2>&1 && sb_fail "dir/notes.bin is no longer there: quarantined twice"
echo again > "$Q/dir/again"
np audit --quarantine Q dir/again > /dev/null || sb_fail "quarantine dir/again"
sneak rmdir "$Q/dir" || sb_fail "rmdir dir"
before=$(ls -A "$Q" | tr '\n' ' ')$(ls -A "$QD/Q" | tr '\n' ' ')
refused "restore into a directory gone" "no longer exists" --restore Q again
np audit --remove Q notes.bin > /dev/null && np audit --remove Q link > /dev/null && np audit --remove Q big > /dev/null ||
    sb_fail "cleaning up"

# ---- crashes at every step, before and after ----
same_sum() { assert_eq "$(sha256sum < "$2")" "$vsum" "$1"; }
sneak sh -c "head -c 3M /dev/urandom > '$Q/victim'" || sb_fail "cannot make victim"
vsum=$(sha256sum < "$Q/victim")
crash_every_step victim same_sum victim
grep -q "undid a quarantine of victim that stopped at step copy" "$S/nfsprovd.log" || sb_fail "no reconcile line for the copy"
grep -q "finished the quarantine of victim" "$S/nfsprovd.log" || sb_fail "no reconcile line for the removal"
grep -q "finished the restore of victim" "$S/nfsprovd.log" || sb_fail "no reconcile line for the restore"

# ---- a share deleted: its items stay, listed ----
[ -e "$Q/victim" ] || np audit --restore Q victim > /dev/null || sb_fail "restore victim at the end"
np audit --quarantine Q victim > /dev/null || sb_fail "quarantine victim at the end"
np delete Q --force > /dev/null || sb_fail "delete Q"
assert_contains "$(np audit --quarantined)" "victim" "a deleted share's items are still listed"
[ -f "$QD/Q/victim" ] || sb_fail "a deleted share's quarantined file is gone"
sb_pass "quarantine and restore of files and symbolic links, refusals, and crashes at every step"
