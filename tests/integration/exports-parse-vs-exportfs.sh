#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Differential test: the exports parser reads a tricky file exactly as the real exportfs does.
# The (path, client) pairs our parser finds must equal those exportfs writes to etab.
. "$NP_TOP_SRCDIR/tests/sandbox/lib.sh"
sb_require_cmd exportfs nfs-kernel-server
tool=$NP_TOP_BUILDDIR/tests/integration/exports-tool
S=$NP_SCRATCH
mkdir -p "$S/d1" "$S/d 2" "$S/d 3" "$S/d4" "$S/d5" "$S/d#6" "$S/d7" "$S/d8" "$S/d9\\x" "$S/d10"

cat > /etc/exports <<EOT
# comment line
   # indented comment

$S/d1 *(rw,no_root_squash)
"$S/d 2" 10.0.0.1(rw) 10.0.0.2(ro)      # quoted path with a space
$S/d\\0403 -rw,sync 10.0.0.3 10.0.0.4(ro)   # default options and an octal escape
$S/d4 \\
    10.0.0.5(rw) \\
	10.0.0.6(ro)
$S/d5	10.0.0.7(rw,sync)	# tab separated
$S/d#6 10.0.0.8(rw,sync)   # a hash inside a token is part of it
$S/d7 10.0.0.9(rw,sync) # 10.0.0.10(rw) clients in a comment do not count
"$S/"d8 10.0.0.11(rw,sync) "10.0.0.12"(ro)
$S/d9\\134x 10.0.0.13(rw,sync)
$S/d10 10.0.0.0/8(rw,sync) 192.168.0.0/255.255.0.0(ro) @netgrp(ro)
EOT

exportfs -ra 2> "$S/err" || { cat "$S/err"; sb_fail "exportfs -ra rejected the test file"; }
cat "$S/err"

# etab: "PATH<TAB>CLIENT(options)" with \ooo escapes in PATH
decode() { printf '%b' "$(printf '%s' "$1" | sed 's/\\\([0-7][0-7][0-7]\)/\\0\1/g')"; }
: > "$S/theirs"
while IFS=$'\t' read -r p c; do
    printf '%s|%s\n' "$(decode "$p")" "${c%%(*}" >> "$S/theirs"
done < /var/lib/nfs/etab
"$tool" parse /etc/exports > "$S/parsed" || sb_fail "our parser rejected the file"
: > "$S/ours"
while IFS=$'\t' read -r -a f; do
    for ((i = 2; i < ${#f[@]}; i++)); do printf '%s|%s\n' "${f[1]}" "${f[i]%%(*}" >> "$S/ours"; done
done < "$S/parsed"
sort -o "$S/theirs" "$S/theirs"; sort -o "$S/ours" "$S/ours"
if ! cmp -s "$S/theirs" "$S/ours"; then
    echo "exportfs (etab) vs our parser:"; diff "$S/theirs" "$S/ours"
    sb_fail "the parser disagrees with exportfs"
fi
assert_eq "$(wc -l < "$S/ours")" 16 "pairs found"

# line numbers: the entry after the continuation lines stands on line 10
assert_contains "$(grep -F "$S/d5" "$S/parsed")" "10	$S/d5"

# an unterminated option list: both refuse, at the same line
printf '%s\n' "$S/d1 *(rw)" "$S/d4 10.0.0.5(rw" > /etc/exports
exportfs -ra 2> "$S/err" && sb_fail "exportfs accepted a bad option list"
ours=$("$tool" parse /etc/exports 2>&1) && sb_fail "our parser accepted a bad option list"
assert_contains "$(cat "$S/err")" "/etc/exports:2:"
assert_contains "$ours" "/etc/exports:2:"
sb_pass
