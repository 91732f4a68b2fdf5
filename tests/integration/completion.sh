#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# bash completion (completion/nfsprov, completion/nfsprov-client) sourced in a bash, with and
# without the bash-completion package's helpers: commands, each command's options, guard modes,
# and share and volume names from a running test nfsprovd (through the --config on the line); a
# socket nobody answers on offers nothing. The lists match what the programs' --help says.
. "$NP_TOP_SRCDIR/tests/integration/nfsprovd-lib.sh"
sb_require_cmd qemu-img qemu-utils
BC=/usr/share/bash-completion/bash_completion
modes=plain
[ -f "$BC" ] && modes="plain bash-completion"

# comp MODE SCRIPT FUNCTION LINE: the sorted COMPREPLY for LINE with the cursor at its end
comp() {
    bash --norc --noprofile -c '
        [ "$1" = bash-completion ] && . "$5"
        . "$2"
        line=$4
        read -r -a COMP_WORDS <<< "$line"
        [[ $line == *" " ]] && COMP_WORDS+=("")
        COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMP_LINE=$line; COMP_POINT=${#line}
        COMPREPLY=()
        "$3"
        printf "%s\n" "${COMPREPLY[@]}" | sed "/^$/d" | sort | tr "\n" " " | sed "s/ $//"
    ' comp "$1" "$2" "$3" "$4" "$BC"
}
NP=$NP_BUILD/nfsprov
NPC=$NP_BUILD/nfsprov-client
CN=$NP_SRC/completion/nfsprov
CC=$NP_SRC/completion/nfsprov-client

GUARD=off
write_config
start_daemon
np create Alpha --size 32M > /dev/null || sb_fail "create Alpha"
np create Beta --size 32M > /dev/null || sb_fail "create Beta"
np vol-create Alpha disk0.qcow2 --capacity 8M > /dev/null || sb_fail "vol-create disk0"
np vol-create Alpha disk1.qcow2 --capacity 8M > /dev/null || sb_fail "vol-create disk1"

all_cmds="audit create delete guard list nfs-config pool-xml reconcile resize show vol-clone vol-create vol-delete vol-download vol-info vol-list vol-resize vol-upload vol-wipe"
globals="--ca-file --config --help --json --socket --token-file --url --version"
for m in $modes; do
    assert_eq "$(comp $m "$CN" _nfsprov "$NP ")" "$all_cmds" "$m: nfsprov commands"
    assert_eq "$(comp $m "$CN" _nfsprov "$NP vol-l")" "vol-list" "$m: nfsprov vol-l"
    assert_eq "$(comp $m "$CN" _nfsprov "$NP --con")" "--config" "$m: nfsprov --con"
    assert_eq "$(comp $m "$CN" _nfsprov "$NP create X --")" \
        "$(echo $globals --clients --disk --force --guard --size | tr ' ' '\n' | sort | tr '\n' ' ' | sed 's/ $//')" \
        "$m: options of create"
    assert_eq "$(comp $m "$CN" _nfsprov "$NP vol-resize A v --s")" "--shrink --socket" "$m: vol-resize --s (it takes --capacity, not --size)"
    assert_eq "$(comp $m "$CN" _nfsprov "$NP guard Alpha ")" "detect enforce off" "$m: guard modes"
    assert_eq "$(comp $m "$CN" _nfsprov "$NP create X --guard e")" "enforce" "$m: --guard e"
    assert_eq "$(comp $m "$CN" _nfsprov "$NP --config $CONF show ")" "Alpha Beta" "$m: share names from nfsprovd"
    assert_eq "$(comp $m "$CN" _nfsprov "$NP --config $CONF resize B")" "Beta" "$m: share names, B"
    assert_eq "$(comp $m "$CN" _nfsprov "$NP --socket $SOCK --json vol-info Alpha ")" "disk0.qcow2 disk1.qcow2" \
        "$m: volume names of Alpha (--socket)"
    assert_eq "$(comp $m "$CN" _nfsprov "$NP --config $CONF vol-create Alpha new.qcow2 --backing d")" \
        "disk0.qcow2 disk1.qcow2" "$m: --backing volume names"
    assert_eq "$(comp $m "$CN" _nfsprov "$NP --config $CONF vol-info Beta ")" "" "$m: Beta has no volume"
    assert_eq "$(comp $m "$CN" _nfsprov "$NP --config $CONF vol-clone Alpha disk0.qcow2 ")" "" "$m: NEW is not completed"
    start=$(date +%s)
    assert_eq "$(comp $m "$CN" _nfsprov "$NP --socket $S/nobody.sock show ")" "" "$m: no daemon, no names"
    [ $(($(date +%s) - start)) -le 4 ] || sb_fail "$m: completion waited more than 4 s for a socket nobody answers"

    assert_eq "$(comp $m "$CC" _nfsprov_client "$NPC ")" "list resources sync verify volumes watch" "$m: nfsprov-client commands"
    assert_eq "$(comp $m "$CC" _nfsprov_client "$NPC sync --")" \
        "--cache --config --connect --dry-run --fix --help --json --nfs-check --no-cache --server --token-file" "$m: options of sync"
    assert_eq "$(comp $m "$CC" _nfsprov_client "$NPC watch --")" \
        "--cache --config --connect --fix --help --json --nfs-check --no-cache --server --token-file" "$m: options of watch"
    assert_eq "$(comp $m "$CC" _nfsprov_client "$NPC verify --")" \
        "--config --connect --help --json --nfs-check --server --token-file" "$m: options of verify"
    assert_eq "$(comp $m "$CC" _nfsprov_client "$NPC --connect q")" "qemu:///session qemu:///system" "$m: --connect"
done

# no drift from the programs: the commands and options their --help lists
help_cmds=$("$NP" --help | sed -n 's/^  \([a-z][a-z-]*\)\( .*\)\{0,1\}$/\1/p' | sort -u | tr '\n' ' ' | sed 's/ $//')
assert_eq "$help_cmds" "$all_cmds" "nfsprov --help's commands"
comp_opts=$(. "$CN"; { echo $_nfsprov_global_opts; for c in $_nfsprov_commands; do _nfsprov_command_opts "$c"; done; } |
    tr ' ' '\n' | sed '/^$/d' | sort -u | tr '\n' ' ')
assert_eq "$comp_opts" "$("$NP" --help | grep -o -- '--[a-z][a-z-]*' | sort -u | tr '\n' ' ')" "nfsprov --help's options"
assert_eq "$("$NPC" --help | sed -n '/^Commands:/,/^$/s/^  \([a-z]*\) .*/\1/p' | sort | tr '\n' ' ')" \
    "list resources sync verify volumes watch " "nfsprov-client --help's commands"
assert_eq "$("$NPC" --help | grep -o -- '--[a-z][a-z-]*' | sort -u | tr '\n' ' ')" \
    "--cache --config --connect --dry-run --fix --help --json --nfs-check --no-cache --server --token-file " "nfsprov-client --help's options"
stop_daemon
sb_pass "modes: $modes"
