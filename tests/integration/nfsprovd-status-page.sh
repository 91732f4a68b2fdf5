#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The status page (GET /) of a real nfsprovd, in a real browser: three shares (Alpha with two
# volumes, Beta in guard mode detect with a foreign file the live watch found, Gamma empty) and a
# failed operation (a volume that exists already). Over TCP the page is refused without the token
# like the admin API (401, asking for Basic credentials), and served with it, as a bearer token or
# as the password of Basic credentials, with its headers (text/html, no-store, a CSP). Headless
# Chromium loads it from the TCP listener with the token in the URL's credentials, runs its
# in-place refresh (virtual time) and dumps the DOM: the test finds every share and value there
# (names, sizes, capacity, provisioned, guard mode, findings, export server and served state, pool
# uuid, host, source and target, the last operation and its error) as the JSON API gives them.
# A second run takes a screenshot (1280x900), kept as the artifact
# tests/integration/nfsprovd-status-page.png in the build directory.
. "$NP_TOP_SRCDIR/tests/integration/nfsprovd-lib.sh"
sb_require_cmd curl curl
sb_require_cmd qemu-img qemu-utils
sb_require_cmd chromium chromium
sb_require_cmd od coreutils

CHROME_HOME=$S/chromium-home
mkdir -p "$CHROME_HOME/tmp"
# chromium URL [ARGS...]: headless, as root, its own profile, HOME and TMPDIR; 300 s hang guard
chromium_run() {
    local url=$1; shift
    HOME=$CHROME_HOME TMPDIR=$CHROME_HOME/tmp timeout -k 10 300 chromium --headless --no-sandbox --disable-gpu \
        --no-first-run --disable-extensions --disable-background-networking --disable-sync \
        --user-data-dir="$(mktemp -d "$CHROME_HOME/profile.XXXXXX")" "$@" "$url" 2>> "$S/chromium.log"
}
# Chromium must run here at all before the test starts (a page of its own).
echo '<p id="probe">chromium runs</p>' > "$S/probe.html"
probe=$(chromium_run "file://$S/probe.html" --dump-dom)
case $probe in
*'<p id="probe">chromium runs</p>'*) ;;
*) sb_skip "headless chromium cannot run here: $(grep -v '^\s*$' "$S/chromium.log" | tail -n 1)" ;;
esac

PORT=$((20000 + RANDOM % 20000))
TOKEN=tok-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
TCP=http://127.0.0.1:$PORT
printf '%s\n' "$TOKEN" > "$S/token"
chmod 600 "$S/token"

write_config
sed -i "s|^\[server\]|[server]\nlisten = 127.0.0.1:$PORT\ntoken_file = $S/token|" "$CONF"
start_daemon
np create Alpha --size 256M > /dev/null || sb_fail "create Alpha"
np create Beta --size 128M --guard detect > /dev/null || sb_fail "create Beta"
np create Gamma --size 64M > /dev/null || sb_fail "create Gamma"
np vol-create Alpha disk1 --capacity 100M > /dev/null || sb_fail "vol-create Alpha disk1"
np vol-create Alpha disk2 --capacity 300M > /dev/null || sb_fail "vol-create Alpha disk2"
wait_audited Beta "Beta's first audit"
echo "not nfsprov's" > "$BASE/Beta/foreign.txt"
for _ in $(seq 600); do
    [ "$(share_field Beta guard.findings.foreign)" = 1 ] && break
    sleep 0.1
done
assert_eq "$(share_field Beta guard.findings.foreign)" 1 "Beta's foreign file found by the guard"
# the last operation: one that fails (409, the volume exists)
err=$(np vol-create Alpha disk1 --capacity 100M 2>&1) && sb_fail "vol-create of an existing volume succeeded"
# Reads come from a snapshot rebuilt once it is a second old: wait until it shows the foreign file
# (the status "tainted") on the Unix socket, then read the JSON the page must agree with.
wait_share_field Beta status tainted "Beta tainted"
shares=$(np --json list) || sb_fail "list"

# ---- access: as the admin API over TCP ----
page_get() { curl -s -S -o "$S/page.html" -D "$S/page.hdr" -w '%{http_code}' --max-time 60 "$@"; }
assert_eq "$(page_get "$TCP/")" 401 "the page over TCP without a token"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' --max-time 60 "$TCP/v1/shares")" 401 "the API over TCP without a token"
grep -qi '^WWW-Authenticate: Basic realm="nfsprovd"' "$S/page.hdr" ||
    sb_fail "the page's 401 does not ask for Basic credentials: $(cat "$S/page.hdr")"
assert_eq "$(jq -r .error.code "$S/page.html")" forbidden "the page's 401: error code"
assert_not_contains "$(cat "$S/page.html")" Alpha "the refused page"
assert_eq "$(page_get -H "Authorization: Bearer wrong-$TOKEN" "$TCP/")" 401 "the page with a wrong bearer token"
assert_eq "$(page_get -u "admin:wrong-$TOKEN" "$TCP/")" 401 "the page with a wrong password"
assert_eq "$(page_get -H "Authorization: Basic QR==" "$TCP/")" 401 "the page with Basic credentials that are no base64 of USER:PASSWORD"
assert_contains "$(jq -r .error.message "$S/page.html")" "Basic credentials" "the page with malformed Basic credentials: message"
assert_eq "$(page_get -u "admin:$TOKEN" "$TCP/v1/shares")" 401 "the API with Basic credentials (the page only takes them)"
assert_eq "$(page_get -X POST -H "Authorization: Bearer $TOKEN" "$TCP/")" 405 "POST to the page (read-only)"
assert_eq "$(page_get -u "admin:$TOKEN" "$TCP/")" 200 "the page with the token as password"
assert_eq "$(page_get -H "Authorization: Bearer $TOKEN" "$TCP/")" 200 "the page with the bearer token"
hdr=$(tr -d '\r' < "$S/page.hdr")
assert_contains "$hdr" "Content-Type: text/html; charset=utf-8" "the page's content type"
assert_contains "$hdr" "Cache-Control: no-store" "the page's caching"
assert_contains "$hdr" "X-Content-Type-Options: nosniff" "the page's nosniff"
csp=$(sed -n 's/^Content-Security-Policy: //p' <<< "$hdr")
assert_contains "$csp" "default-src 'none'; style-src 'sha256-" "the page's CSP"
assert_not_contains "$csp" "unsafe" "the page's CSP"
# the CSP's hashes are those of the page's inline style and script
for el in style script; do
    h=$(awk -v RS='</?'"$el"'>' 'NR == 2 {printf "%s", $0}' "$S/page.html" | openssl dgst -sha256 -binary | base64)
    assert_contains "$csp" "$el-src 'sha256-$h'" "the CSP's hash of the page's $el"
done
out=$(curl -s -S -w '\n%{http_code}' --max-time 60 --unix-socket "$SOCK" http://localhost/) || sb_fail "GET / on the Unix socket"
assert_eq "$(tail -n 1 <<< "$out")" 200 "the page on the Unix socket"

# ---- the browser ----
# (the page over TCP names the address the browser reached as host only without [server]
# address; here it is 127.0.0.1 either way)
URL="http://admin:$TOKEN@127.0.0.1:$PORT/"
# without the token, or with a wrong one, the browser gets no page: headless Chromium has nobody
# to ask for credentials and ends the load with net::ERR_INVALID_AUTH_CREDENTIALS
for u in "$TCP/" "http://admin:wrong-$TOKEN@127.0.0.1:$PORT/"; do
    : > "$S/chromium.log"
    dom=$(chromium_run "$u" --dump-dom)
    assert_not_contains "$dom" Alpha "chromium at ${u/$TOKEN/TOKEN}"
    grep -q 'ERR_INVALID_AUTH_CREDENTIALS' "$S/chromium.log" ||
        sb_fail "chromium at ${u/$TOKEN/TOKEN}: not refused for its credentials: $dom; $(tail -n 3 "$S/chromium.log")"
done
# with them: virtual time lets the in-place refresh (every 5 s) run twice before the dump
chromium_run "$URL" --dump-dom --virtual-time-budget=12000 > "$S/dom.html"
dom=$(cat "$S/dom.html")
assert_contains "$dom" '<title>nfsprovd status</title>' "chromium: the page"
refreshes=$(sed -n 's/.*<body data-refreshes="\([0-9]*\)".*/\1/p' "$S/dom.html")
[ "${refreshes:-0}" -ge 1 ] || sb_fail "the page did not refresh in place (data-refreshes=${refreshes:-none}); chromium's log: $(tail -n 5 "$S/chromium.log")"
note=$(grep -o '<p id="refresh"[^>]*>[^<]*</p>' "$S/dom.html")
assert_contains "$note" ">refreshed in place every 5 s</p>" "the in-place refresh's note"
assert_not_contains "$note" stale "the in-place refresh's note"
assert_contains "$dom" 'export server <span class="export-server">kernel</span>' "chromium: the export server"
assert_contains "$dom" '<span class="share-count">3</span>' "chromium: the number of shares"

# every share's row holds its values as the JSON API gives them
for name in Alpha Beta Gamma; do
    j=$(jq -c --arg n "$name" '.shares[] | select(.name == $n)' <<< "$shares")
    row=$(grep -F "<tr class=\"share\" data-share=\"$name\">" "$S/dom.html") || sb_fail "no row for $name in the DOM"
    assert_contains "$row" "<span class=\"name\">$name</span>" "$name: name"
    assert_contains "$row" ">$(jq -r .status <<< "$j")</span>" "$name: status"
    assert_contains "$row" "<span class=\"size\" data-bytes=\"$(jq -r .size <<< "$j")\">" "$name: size"
    assert_contains "$row" "<meter min=\"0\" max=\"$(jq -r .capacity <<< "$j")\"" "$name: capacity bar"
    assert_contains "$row" "<span class=\"capacity\" data-bytes=\"$(jq -r .capacity <<< "$j")\">" "$name: capacity"
    assert_contains "$row" "<span class=\"provisioned\" data-bytes=\"$(jq -r .provisioned <<< "$j")\">" "$name: provisioned"
    assert_contains "$row" "<span class=\"volumes\">$(jq -r .volume_count <<< "$j")</span>" "$name: volumes"
    assert_contains "$row" "over-commit <span class=\"overcommit\">$(LC_ALL=C printf %.2f "$(jq -r .overcommit <<< "$j")")</span>" \
        "$name: over-commit"
    assert_contains "$row" "mode <span class=\"guard-mode\">$(jq -r .guard.mode <<< "$j")</span>" "$name: guard mode"
    findings=$(jq -r '.guard.findings | add' <<< "$j")
    assert_contains "$row" ">$findings</span> <span class=\"dim\">(foreign $(jq -r .guard.findings.foreign <<< "$j")," "$name: findings"
    served=$(jq -r 'if .served then "yes" else "no" end' <<< "$j")
    assert_contains "$row" "server <span class=\"export-server\">kernel</span><br>served <span class=\"served" "$name: export server"
    assert_contains "$row" "\">$served</span>, exported yes, mounted yes" "$name: served state"
    pool=$(grep -F "<article class=\"pool\" data-pool=\"$name\">" "$S/dom.html") || sb_fail "no pool for $name in the DOM"
    assert_contains "$pool" "<dd class=\"pool-uuid\">$(jq -r .pool_uuid <<< "$j")</dd>" "$name: pool uuid"
    assert_contains "$pool" "<dd class=\"pool-host\">127.0.0.1</dd>" "$name: pool host"
    assert_contains "$pool" "<dd class=\"pool-source\">$BASE/$name</dd>" "$name: pool source"
    assert_contains "$pool" "<dd class=\"pool-target\">/var/lib/libvirt/nfsprov/$name</dd>" "$name: pool target"
done
assert_contains "$(grep -F 'data-share="Beta"' "$S/dom.html")" 'findings <span class="findings bad">1</span>' "Beta: the foreign file"
assert_contains "$(grep -F 'data-share="Alpha"' "$S/dom.html")" '<span class="volumes">2</span>' "Alpha: two volumes"
# the operations: newest first, the failed one on top with its status and message
ops=$(grep -F '<tr class="operation"' "$S/dom.html")
assert_eq "$(wc -l <<< "$ops")" 6 "operations listed (3 create, 3 vol-create)"
first=$(head -n 1 <<< "$ops")
assert_contains "$first" '<span class="op-kind">vol-create</span>' "the last operation: kind"
assert_contains "$first" '<span class="op-target name">Alpha/disk1</span>' "the last operation: target"
assert_contains "$first" '<span class="st bad">failed</span> <span class="dim op-status">409</span>' "the last operation: result"
msg=$(sed 's/&/\&amp;/g; s/</\&lt;/g; s/>/\&gt;/g' <<< "${err#nfsprov: }")
assert_contains "$first" "<span class=\"err\">$msg</span>" "the last operation: its error as nfsprov printed it"
assert_contains "$(sed -n 2p <<< "$ops")" '<span class="op-target name">Alpha/disk2</span></td><td><span class="st ok">succeeded</span> <span class="dim op-status">201</span>' "the operation before"

# ---- the screenshot ----
chromium_run "$URL" --screenshot="$S/page.png" --window-size=1280,900 --hide-scrollbars > /dev/null
[ -s "$S/page.png" ] || sb_fail "chromium made no screenshot; its log: $(tail -n 5 "$S/chromium.log")"
assert_eq "$(od -An -tx1 -N8 "$S/page.png" | tr -d ' \n')" 89504e470d0a1a0a "the screenshot's PNG signature"
dims=$(od -An -tu1 -j16 -N8 "$S/page.png" | awk '{print $1*16777216 + $2*65536 + $3*256 + $4 "x" $5*16777216 + $6*65536 + $7*256 + $8}')
assert_eq "$dims" 1280x900 "the screenshot's dimensions"
ART=$NP_TOP_BUILDDIR/tests/integration/nfsprovd-status-page.png
mkdir -p "$(dirname "$ART")"
cp "$S/page.png" "$ART" || sb_fail "cannot keep the screenshot as $ART"
echo "screenshot of the status page: $ART ($dims, $(stat -c %s "$ART") bytes)"

stop_daemon
sb_pass "the page of 3 shares in chromium (refreshed in place $refreshes times), its access rules and a screenshot"
