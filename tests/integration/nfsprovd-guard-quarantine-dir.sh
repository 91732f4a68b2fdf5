#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The guard's quarantine of directory trees with the real nfsprovd: a tree of nested directories
# (one chain 100 deep, past the walk's open descriptors), files, a symbolic link in and one out
# of it, owners, modes and mtimes, quarantined (its copy and manifest in STATE_DIR, root's, the
# audit clean), listed, restored identical (contents, link targets, modes, owners, mtimes) and
# foreign again; a fifo inside and a mount point inside refused with one line and nothing
# changed; a restore over an occupied path answers 409 (exit 1) and changes nothing, for a
# directory and a file; an original changed between the copy and the removal (nfsprovd killed at
# quarantine:copy:after and at quarantine:remove, the original changed, nfsprovd started) is kept,
# for a file and a directory, and reconcile says so; a removal that a crash cut short is
# finished by reconcile; a crash before and after every step of quarantine and restore of a
# directory leaves it whole in exactly one place; a tree 5000 directories deep is refused in one
# line and nfsprovd lives on (and audit --remove removes it).
. "$NP_TOP_SRCDIR/tests/integration/quarantine-lib.sh"
sb_require_cmd mkfifo coreutils
sb_require_cmd sqlite3 sqlite3

item() { np --json audit --quarantined Q | jq -c --arg p "$1" '.quarantined[] | select(.path == $p)'; }
# everything of a tree but its top's name: kind, mode, owner, mtime (ns), link target, content
tree_state() {
    (cd "$1" && find . -printf '%p %y %m %U:%G %T@ %l\n' | LC_ALL=C sort &&
        find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum) || echo "no tree at $1"
}
# what a quarantined copy keeps of it: kinds, link targets, contents
tree_content() {
    (cd "$1" && find . -printf '%p %y %l\n' | LC_ALL=C sort &&
        find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum) || echo "no tree at $1"
}

# make_tree DIR: a tree with nested directories, files, links, owners, modes and mtimes
make_tree() {
    local d=$1
    sneak mkdir "$d" || sb_fail "mkdir $d"
    mkdir -p "$d/a/b/c" "$d/empty" && head -c 300000 /dev/urandom > "$d/a/data.bin" && echo hello > "$d/a/b/c/deep.txt" &&
        printf 'x\ny\n' > "$d/name with space" && ln -s ../data.bin "$d/a/b/rel-link" && ln -s /etc/shadow "$d/abs-link" &&
        chown 1234:5678 "$d/a/data.bin" "$d/a/b" && chown -h 4321:8765 "$d/a/b/rel-link" && chmod 0751 "$d/a/b" &&
        chmod 0640 "$d/a/b/c/deep.txt" && chmod 2755 "$d/empty" && chmod 0600 "$d/name with space" ||
        sb_fail "cannot make the tree $d"
    (cd "$d" && for _ in $(seq 100); do mkdir n && cd n || exit 1; done && echo bottom > file) || sb_fail "the chain of $d"
    touch -h -d '2001-02-03 04:05:06.123456789' "$d/a/b/rel-link" "$d/abs-link" "$d/a/data.bin"
    touch -d '2002-03-04 05:06:07.5' "$d/a/b/c" "$d/a/b" "$d/empty" "$d"
}

# ---- a tree: quarantined, listed, the audit clean; restored identical, foreign again ----
make_tree "$Q/proj"
psize=$(find "$Q/proj" -type f -printf '%s\n' | awk '{ n += $1 } END { print n }')
state0=$(tree_state "$Q/proj") content0=$(tree_content "$Q/proj")
foreign0=$(foreign_of)
assert_contains "$foreign0" "proj" "proj is foreign"
out=$(np audit --quarantine Q proj) || sb_fail "audit --quarantine Q proj: $out"
assert_eq "$out" "quarantined Q/proj as proj ($QD/Q/proj)" "audit --quarantine Q proj"
[ -e "$Q/proj" ] && sb_fail "proj is still in the share"
assert_eq "$(ls -A "$QD/Q/proj" | tr '\n' ' ')" "manifest tree " "the item: its manifest and its copy"
assert_eq "$(tree_content "$QD/Q/proj/tree")" "$content0" "the copy: contents and link targets"
assert_eq "$(find "$QD/Q/proj" -printf '%U:%G\n' | sort -u | tr '\n' ' ')" "0:0 " "the copy is root's"
assert_eq "$(find "$QD/Q/proj" -type d -printf '%m\n' | sort -u | tr '\n' ' ')" "700 " "the copy's directories: 0700"
assert_eq "$(find "$QD/Q/proj" -type f -printf '%m\n' | sort -u | tr '\n' ' ')" "600 " "the copy's files: 0600"
assert_eq "$(readlink "$QD/Q/proj/tree/abs-link")" /etc/shadow "a link out of the tree is copied as a link"
np audit Q > "$S/audit.out" || sb_fail "the audit is not clean after the quarantine: $(cat "$S/audit.out")"
root_immutable || sb_fail "the quarantine left Q's root mutable"
assert_eq "$(item proj | jq -r '[.name, .kind, .size, .uid, .gid, .mode, .status] | join(" ")')" \
    "proj directory $psize 0 0 0755 ready" "audit --quarantined: proj (its size: its files' bytes)"
assert_contains "$(np audit --quarantined Q)" "directory" "audit --quarantined Q (table)"
out=$(np audit --restore Q proj) || sb_fail "audit --restore Q proj: $out"
assert_eq "$out" "restored Q/proj from the quarantine (proj)" "audit --restore Q proj"
assert_eq "$(tree_state "$Q/proj")" "$state0" "the restored tree: contents, links, modes, owners, mtimes"
[ -e "$QD/Q/proj" ] && sb_fail "the quarantined copy is still there after the restore"
assert_eq "$(foreign_of)" "$foreign0" "proj is foreign again, as before"
root_immutable || sb_fail "the restore left Q's root mutable"
np audit --remove Q proj > /dev/null || sb_fail "audit --remove Q proj"
np audit Q > "$S/audit.out" || sb_fail "the audit is not clean after removing proj: $(cat "$S/audit.out")"

# ---- a large tree: the operation's progress counts bytes ----
sneak mkdir "$Q/big" && mkdir "$Q/big/x" && head -c 24M /dev/urandom > "$Q/big/x/one" && head -c 24M /dev/urandom > "$Q/big/two" ||
    sb_fail "cannot make big"
bigstate=$(tree_state "$Q/big")
o=$(api_quarantine big)
assert_eq "$(jq -r .state <<< "$o")" succeeded "the 48 MiB tree's quarantine: $(jq -c .error <<< "$o")"
assert_eq "$(jq -r '.result.kind + " " + (.result.size|tostring)' <<< "$o")" "directory 50331648" "its result"
np audit --restore Q big > /dev/null || sb_fail "audit --restore Q big"
assert_eq "$(tree_state "$Q/big")" "$bigstate" "big restored identical"
np audit --remove Q big > /dev/null || sb_fail "audit --remove Q big"

# ---- refusals: a fifo or a mount point inside; nothing changed ----
snap() { ls -A "$Q" "$QD/Q" | tr '\n' ' '; tree_state "$Q/odd"; }
make_tree "$Q/odd"
mkfifo "$Q/odd/a/b/pipe" || sb_fail "mkfifo"
before=$(snap)
err=$(np audit --quarantine Q odd 2>&1); rc=$?
assert_eq "$rc" 2 "a tree holding a fifo: exit status ($err)"
assert_contains "$err" "Q/odd/a/b/pipe is a fifo" "a tree holding a fifo: the line names it"
assert_eq "$(wc -l <<< "$err")" 1 "a tree holding a fifo: one line"
assert_eq "$(snap)" "$before" "a tree holding a fifo: nothing changed"
rm "$Q/odd/a/b/pipe"
if mount -t tmpfs none "$Q/odd/empty" 2>/dev/null; then
    before=$(snap)
    err=$(np audit --quarantine Q odd 2>&1); rc=$?
    assert_eq "$rc" 1 "a tree holding a mount point: exit status ($err)"
    assert_contains "$err" "Q/odd/empty is a mount point of another filesystem" "a tree holding a mount point"
    assert_eq "$(snap)" "$before" "a tree holding a mount point: nothing changed"
    umount "$Q/odd/empty" || sb_fail "umount"
else
    echo "no tmpfs mount here: the mount point refusal is not tried"
fi

# ---- restore over an occupied path: 409, exit 1, nothing changed ----
look() { ls -A "$Q" "$QD/Q"; find "$Q/$1" "$QD/Q/$1" -printf '%p %y %m %U:%G %s %T@\n' | LC_ALL=C sort; }
restore_conflict() { # PATH (quarantined as its base name)
    local p=$1 before err rc o id
    before=$(look "$p")
    err=$(np audit --restore Q "$p" 2>&1); rc=$?
    assert_eq "$rc" 1 "restore over $p: exit status ($err)"
    assert_contains "$err" "something is there again" "restore over $p"
    o=$(curl -sf --unix-socket "$SOCK" -X POST -d "{\"name\":\"$p\"}" http://localhost/v1/shares/Q/audit/restore) ||
        sb_fail "POST /v1/shares/Q/audit/restore $p"
    id=$(jq -r .id <<< "$o")
    for _ in $(seq 500); do
        o=$(api "/v1/operations/$id") || sb_fail "GET /v1/operations/$id"
        [ "$(jq -r .state <<< "$o")" = running ] || break
        sleep 0.02
    done
    assert_eq "$(jq -r '[.state, .status, .error.code] | join(" ")' <<< "$o")" "failed 409 conflict" "restore over $p: the API"
    assert_eq "$(look "$p")" "$before" "restore over $p: nothing changed"
    assert_eq "$(item "$p" | jq -r .status)" ready "restore over $p: still quarantined"
}
np audit --quarantine Q odd > /dev/null || sb_fail "quarantine odd"
sneak mkdir "$Q/odd" && echo mine > "$Q/odd/mine" || sb_fail "cannot occupy odd"
restore_conflict odd
sneak sh -c "echo one > '$Q/f1'" && np audit --quarantine Q f1 > /dev/null || sb_fail "quarantine f1"
sneak sh -c "echo other > '$Q/f1'" || sb_fail "cannot occupy f1"
restore_conflict f1
np audit --remove Q odd > /dev/null && np audit --remove Q f1 > /dev/null || sb_fail "cleaning up odd and f1"

# ---- crashes ----
[ "$(steps_of quarantine)" = "copy remove" ] && [ "$(steps_of restore)" = "copy place remove" ] ||
    sb_fail "nfsprovd --steps: $("$NFSPROVD" --steps)"
reconciled() { # CONTEXT LOG-TEXT: start nfsprovd; its reconcile logs the text
    local n
    n=$(wc -l < "$S/nfsprovd.log")
    start_daemon
    tail -n +"$((n + 1))" "$S/nfsprovd.log" | grep -qF "$2" || { tail -n +"$((n + 1))" "$S/nfsprovd.log"; sb_fail "$1: reconcile did not say [$2]"; }
}

# ---- (a) the original changed between the copy and the removal: kept ----
# killed after the copy (its end not recorded): the copy is undone; the original, changed, stays
sneak sh -c "echo before > '$Q/cf'" || sb_fail "cannot make cf"
crash quarantine:copy:after audit --quarantine Q cf
echo changed >> "$Q/cf"
reconciled "cf copy:after" "undid a quarantine of cf that stopped at step copy (the original is in place)"
assert_eq "$(cat "$Q/cf")" "$(printf 'before\nchanged')" "cf copy:after: the changed original is kept"
assert_eq "$(item cf)" "" "cf copy:after: nothing quarantined"
[ -e "$QD/Q/cf" ] && sb_fail "cf copy:after: its copy is left"
# killed before the removal (the copy complete): the removal is refused, the copy kept as the item
crash quarantine:remove audit --quarantine Q cf
echo again >> "$Q/cf"
reconciled "cf remove" "finished the quarantine of cf as cf; but Q/cf is no longer what was copied"
assert_eq "$(cat "$Q/cf")" "$(printf 'before\nchanged\nagain')" "cf remove: the changed original is kept"
assert_eq "$(item cf | jq -r .status)" ready "cf remove: the copy is the item"
assert_contains "$(item cf | jq -r .error)" "Q/cf is no longer what was copied" "cf remove: the item says why"
assert_eq "$(cat "$QD/Q/cf")" "$(printf 'before\nchanged')" "cf remove: the copy as it was copied"
# the same for a directory, one nested file changed
make_tree "$Q/cd"
state_cd=$(tree_state "$Q/cd")
crash quarantine:copy:after audit --quarantine Q cd
echo changed >> "$Q/cd/a/b/c/deep.txt"
reconciled "cd copy:after" "undid a quarantine of cd that stopped at step copy (the original is in place)"
assert_eq "$(cat "$Q/cd/a/b/c/deep.txt")" "$(printf 'hello\nchanged')" "cd copy:after: the changed original is kept"
assert_eq "$(item cd)" "" "cd copy:after: nothing quarantined"
[ -e "$QD/Q/cd" ] && sb_fail "cd copy:after: its copy is left"
content_cd=$(tree_content "$Q/cd")
state_cd=$(tree_state "$Q/cd")
crash quarantine:remove audit --quarantine Q cd
echo again >> "$Q/cd/a/b/c/deep.txt"
reconciled "cd remove" "finished the quarantine of cd as cd; but Q/cd is no longer what was copied (Q/cd/a/b/c/deep.txt changed since the copy)"
assert_eq "$(cat "$Q/cd/a/b/c/deep.txt")" "$(printf 'hello\nchanged\nagain')" "cd remove: the changed original is kept"
assert_eq "$(ls -A "$Q" | grep -c '^\.nfsprov-')" 0 "cd remove: nothing of nfsprov's left in the share"
assert_eq "$(item cd | jq -r .status)" ready "cd remove: the copy is the item"
assert_eq "$(tree_content "$QD/Q/cd/tree")" "$content_cd" "cd remove: the copy as it was copied"
root_immutable || sb_fail "cd remove: the root is not immutable after the restart"
np audit --remove Q cd > /dev/null && np audit --remove Q cf > /dev/null || sb_fail "cleaning up cd and cf"

# ---- a removal cut short (the original renamed aside, partly removed): finished ----
make_tree "$Q/cut"
crash quarantine:remove audit --quarantine Q cut
cid=$(sqlite3 "$S/state/nfsprov.db" "SELECT id FROM quarantine WHERE share = 'Q' AND path = 'cut'") || sb_fail "the id of cut"
mv "$Q/cut" "$Q/.nfsprov-quarantine-$cid.part" && rm -r "$Q/.nfsprov-quarantine-$cid.part/a/b" || sb_fail "cutting cut short"
reconciled "cut" "finished the quarantine of cut as cut"
[ -e "$Q/cut" ] || [ -e "$Q/.nfsprov-quarantine-$cid.part" ] && sb_fail "cut: the original is still there"
assert_eq "$(item cut | jq -r '.status + " " + (.error // "-")')" "ready -" "cut: quarantined"
np audit --restore Q cut > /dev/null && np audit --remove Q cut > /dev/null || sb_fail "cleaning up cut"

# ---- (d) a crash before and after every step, for a directory: whole, in exactly one place ----
same_tree() { # CONTEXT WHERE: the original untouched, or the quarantined copy's contents
    case "$2" in
    "$QD"/*) assert_eq "$(tree_content "$2/tree")" "$vcontent" "$1" ;;
    *) assert_eq "$(tree_state "$2")" "$vstate" "$1" ;;
    esac
}
make_tree "$Q/victim"
vstate=$(tree_state "$Q/victim") vcontent=$(tree_content "$Q/victim") vforeign=$(foreign_of)
crash_every_step victim same_tree "$vforeign"
grep -q "finished the restore of victim" "$S/nfsprovd.log" || sb_fail "no reconcile line for the restore"
grep -q "undid a restore of victim that stopped at step copy" "$S/nfsprovd.log" || sb_fail "no reconcile line for the restore's undo"
[ -e "$Q/victim" ] || np audit --restore Q victim > /dev/null || sb_fail "restore victim at the end"
np audit --remove Q victim > /dev/null || sb_fail "audit --remove Q victim"

# ---- (e) 5000 directories deep: refused in one line; nfsprovd lives on ----
stop_daemon # made while nfsprovd is stopped: its live watch would audit the share after each mkdir
sneak mkdir "$Q/deep" || sb_fail "mkdir deep"
# 5 x 1000 levels (a shell's cd one level at a time costs it the whole path each time)
chunk=$(printf 'd/%.0s' $(seq 1000))
(cd "$Q/deep" && for _ in 1 2 3 4 5; do mkdir -p "$chunk" && cd -P "$chunk" 2>/dev/null || exit 1; done) ||
    sb_fail "cannot make deep"
start_daemon
before=$(ls -A "$Q" "$QD/Q" | tr '\n' ' ')
err=$(np audit --quarantine Q deep 2>&1); rc=$?
assert_eq "$rc" 2 "a tree 5000 deep: exit status ($err)"
assert_eq "$err" "nfsprov: quarantine Q/deep: it holds directories more than 4096 levels deep; refused (nfsprov audit --remove removes it)" \
    "a tree 5000 deep: one line"
np list > /dev/null || sb_fail "nfsprovd died on a tree 5000 deep"
kill -0 "$DAEMON_PID" || sb_fail "nfsprovd is gone"
assert_eq "$(ls -A "$Q" "$QD/Q" | tr '\n' ' ')" "$before" "a tree 5000 deep: nothing changed"
np audit --remove Q deep > /dev/null || sb_fail "audit --remove Q deep"
[ -e "$Q/deep" ] && sb_fail "deep is still there after audit --remove"
np audit Q > "$S/audit.out" || sb_fail "the audit is not clean at the end: $(cat "$S/audit.out")"
sb_pass "quarantine and restore of directory trees, refusals, conflicts, changed originals and crashes at every step"
