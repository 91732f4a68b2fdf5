# SPDX-License-Identifier: LGPL-2.1-or-later
# The guard's quarantine tests' common part, sourced by nfsprovd-guard-quarantine.sh (files,
# symbolic links) and nfsprovd-guard-quarantine-dir.sh (directory trees): a share Q in guard
# enforce (root immutable) with a volume vol1, no periodic audit; helpers to plant foreign
# entries, read the audit and the quarantine, crash nfsprovd at a fault point.
# shellcheck shell=bash
. "$NP_TOP_SRCDIR/tests/integration/nfsprovd-lib.sh"
sb_require_cmd qemu-img qemu-utils
sb_require_cmd lsattr e2fsprogs
sb_require_cmd curl curl

write_config
sed -i 's/^\[shares\]$/[shares]\naudit_interval = 0/' "$CONF"
start_daemon
np create Q --size 256M > /dev/null || { cat "$S/nfsprovd.log"; sb_fail "create Q"; }
np vol-create Q vol1 --capacity 16M > /dev/null || sb_fail "vol-create Q vol1"
Q=$BASE/Q QD=$S/state/quarantine

api() { curl -sf --unix-socket "$SOCK" "http://localhost$1"; }
# sneak COMMAND...: run it in the enforced root as an admin with chattr -i would
sneak() { chattr -i "$Q" && "$@"; local rc=$?; chattr +i "$Q"; return $rc; }
foreign_of() { np --json audit Q | jq -r '[.audits[0].findings[] | select(.finding == "foreign") | .path] | sort | join(" ")'; }
root_immutable() { lsattr -d "$Q" | cut -d' ' -f1 | grep -q i; }

# api_quarantine PATH: quarantine through the API, following the operation to its end: its last
# state on stdout, the steps it was seen at in a line on stderr
api_quarantine() {
    local j id o st seen=""
    j=$(curl -sf --unix-socket "$SOCK" -X POST -d "{\"path\":\"$1\"}" http://localhost/v1/shares/Q/audit/quarantine) ||
        sb_fail "POST /v1/shares/Q/audit/quarantine $1"
    id=$(jq -r .id <<< "$j")
    for _ in $(seq 1200); do
        o=$(api "/v1/operations/$id") || sb_fail "GET /v1/operations/$id"
        st=$(jq -r .state <<< "$o")
        seen="$seen|$(jq -r '.step // "-"' <<< "$o")"
        [ "$st" = running ] || break
        sleep 0.02
    done
    echo "steps seen while quarantining $1: $(tr '|' '\n' <<< "$seen" | sort -u | tr '\n' '|')" >&2
    echo "$o"
}

# ---- crashes ----
steps_of() { "$NFSPROVD" --steps | sed -n "s/^$1: //p"; }
[ -n "$(steps_of quarantine)" ] && [ -n "$(steps_of restore)" ] || sb_fail "nfsprovd --steps: $("$NFSPROVD" --steps)"
# crash FAULT COMMAND...: die_at, and the root left mutable, as if nfsprovd died while the
# attribute was lifted; nfsprovd is not started again
crash() {
    crash_at "$@"
    chattr -i "$Q" || sb_fail "$1: chattr -i"
}
# one_place CONTEXT PATH SAME FOREIGN: after a crash and a restart, PATH is either in the share
# (and not listed) or listed ready (and not in the share), never both or neither: `SAME CONTEXT
# WHERE` checks it whole where it is (WHERE: $Q/PATH, or the item's $QD/Q/NAME); nothing
# temporary left, the root immutable again, the audit FOREIGN while it is in the share, clean
# otherwise
one_place() {
    local ctx=$1 p=$2 same=$3 foreign=$4 j n in_share
    j=$(np --json audit --quarantined Q) || sb_fail "$ctx: audit --quarantined"
    assert_eq "$(jq -r '[.quarantined[] | select(.status != "ready")] | length' <<< "$j")" 0 "$ctx: an item in the middle"
    n=$(jq -r --arg p "$p" '[.quarantined[] | select(.path == $p)] | length' <<< "$j")
    [ -e "$Q/$p" ] && in_share=1 || in_share=0
    case "$n$in_share" in
    01) "$same" "$ctx: the original" "$Q/$p" ;;
    10) "$same" "$ctx: the quarantined copy" "$QD/Q/$(jq -r --arg p "$p" '.quarantined[] | select(.path == $p) | .name' <<< "$j")" ;;
    00) sb_fail "$ctx: both copies lost" ;;
    *) sb_fail "$ctx: listed $n times, in the share: $in_share" ;;
    esac
    assert_eq "$(ls -A "$QD/Q" | sort | tr '\n' ' ')" \
        "$(jq -r '[.quarantined[].name] | sort | map(. + " ") | join("")' <<< "$j")" "$ctx: the quarantine dir vs the list"
    assert_eq "$(ls -A "$Q" | grep -c '^\.nfsprov-')" 0 "$ctx: a temporary entry left"
    root_immutable || sb_fail "$ctx: the root is not immutable after the restart"
    assert_eq "$(foreign_of)" "$([ "$in_share" = 1 ] && echo "$foreign")" "$ctx: the audit"
}

# crash_every_step PATH SAME FOREIGN: nfsprovd killed before and after every step of the
# quarantine and of the restore of PATH (put back or quarantined first as needed), restarted, and
# one_place CONTEXT PATH SAME FOREIGN after each
crash_every_step() {
    local p=$1 same=$2 foreign=$3 op step when
    for op in quarantine restore; do
        for step in $(steps_of $op); do
            for when in "" ":after"; do
                if [ $op = quarantine ] && [ ! -e "$Q/$p" ]; then
                    np audit --restore Q "$p" > /dev/null || sb_fail "restore $p before $op:$step$when"
                elif [ $op = restore ] && [ -e "$Q/$p" ]; then
                    np audit --quarantine Q "$p" > /dev/null || sb_fail "quarantine $p before $op:$step$when"
                fi
                crash "$op:$step$when" audit --$op Q "$p"
                start_daemon
                one_place "$op:$step$when" "$p" "$same" "$foreign"
            done
        done
    done
}
