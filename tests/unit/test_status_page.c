/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* status_page.c: the HTML of a snapshot whose names, paths and messages are hostile; every share
 * and value shown, every value escaped, the CSP naming exactly the inline style and script. */
#include "config.h"

#include <string.h>

#include "status_page.h"
#include "unit.h"

#define EVIL_NAME "<script>alert(1)</script>"
#define EVIL_NAME_HTML "&lt;script&gt;alert(1)&lt;/script&gt;"
#define QUOTE_NAME "a&b\"c'd"
#define QUOTE_NAME_HTML "a&amp;b&quot;c&#39;d"
#define EVIL_ERROR "mkfs failed: <img src=x onerror=alert(2)> & \"quoted\" 'single'"
#define EVIL_ERROR_HTML "mkfs failed: &lt;img src=x onerror=alert(2)&gt; &amp; &quot;quoted&quot; &#39;single&#39;"
#define EVIL_PATH "/srv/NFS/<b>&\"'"
#define EVIL_PATH_HTML "/srv/NFS/&lt;b&gt;&amp;&quot;&#39;"

static unsigned count_of(const char *hay, const char *needle) {
        unsigned n = 0;
        for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
                n++;
        return n;
}

#define assert_has(page, s) ck_assert_msg(strstr((page), (s)) != NULL, "the page lacks [%s]", (s))
#define assert_lacks(page, s) ck_assert_msg(strstr((page), (s)) == NULL, "the page holds [%s]", (s))

/* The text between open and close (newly allocated); fails when missing. */
static char *between(const char *page, const char *open, const char *close) {
        const char *a = strstr(page, open);
        ck_assert_msg(a != NULL, "no %s", open);
        a += strlen(open);
        const char *b = strstr(a, close);
        ck_assert_msg(b != NULL, "no %s", close);
        return g_strndup(a, (gsize) (b - a));
}

static char *sha256_b64(const char *text) {
        guint8 d[32];
        gsize len = sizeof d;
        g_autoptr(GChecksum) c = g_checksum_new(G_CHECKSUM_SHA256);
        g_checksum_update(c, (const guchar *) text, (gssize) strlen(text));
        g_checksum_get_digest(c, d, &len);
        return g_base64_encode(d, len);
}

/* A pool for the snapshot as snapshot.c makes one (host is a placeholder there). */
static SnapshotPool *pool(const char *name, const char *uuid, const char *source, const char *target) {
        SnapshotPool *p = g_new0(SnapshotPool, 1);
        p->name = g_strdup(name);
        p->def = pooldef_new();
        p->def->name = g_strdup(name);
        p->def->uuid = g_strdup(uuid);
        p->def->host = g_strdup("127.0.0.1");
        p->def->source_dir = g_strdup(source);
        p->def->target_path = g_strdup(target);
        p->status = g_strdup("ready");
        return p;
}

static void pool_free(SnapshotPool *p) {
        pooldef_free(p->def);
        g_free(p->name);
        g_free(p->status);
        g_free(p);
}

START_TEST(test_escape) {
        g_autoptr(GString) out = g_string_new(NULL);
        status_page_escape(out, "<a href=\"x\">'&'</a>");
        ck_assert_str_eq(out->str, "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
        g_string_truncate(out, 0);
        status_page_escape(out, "bad \xff\xfe byte, caf\xc3\xa9");
        ck_assert_str_eq(out->str, "bad \xef\xbf\xbd\xef\xbf\xbd byte, caf\xc3\xa9");
        g_string_truncate(out, 0);
        status_page_escape(out, NULL);
        ck_assert_str_eq(out->str, "");
}
END_TEST

START_TEST(test_hostile_snapshot) {
        /* Share 1: hostile name, volumes, usage, findings, a failed operation's error. */
        Share s1 = { .name = (char *) EVIL_NAME, .status = SHARE_READY, .size = 134217728,
                     .error = (char *) EVIL_ERROR };
        Findings found = { .count = { [AUDIT_FOREIGN] = 3, [AUDIT_CHANGED] = 1 }, .audited_at = 1764576000,
                           .error = (char *) "audit: <cannot> read & \"skip\"" };
        Volume v1 = { .name = (char *) "vm1", .capacity = 200000000 }, v2 = { .name = (char *) "vm2", .capacity = 50000000 };
        g_autoptr(GPtrArray) vols1 = g_ptr_array_new();
        g_ptr_array_add(vols1, &v1);
        g_ptr_array_add(vols1, &v2);
        char *clients1[] = { (char *) "10.0.0.0/8", (char *) "<host>", NULL };
        ShareInfo i1 = { .share = &s1, .export_path = (char *) EVIL_PATH, .clients = clients1, .mounted = true,
                         .exported = true, .served = true, .has_usage = true, .capacity = 100000000,
                         .used = 25000000, .available = 75000000, .volumes = vols1, .provisioned = 250000000,
                         .guard = GUARD_ENFORCE, .guard_active = GUARD_DETECT,
                         .guard_note = (char *) "enforce runs as detect: <no> CAP_LINUX_IMMUTABLE",
                         .findings = &found };
        /* Share 2: quotes in its name, not mounted, guard off, not served. */
        Share s2 = { .name = (char *) QUOTE_NAME, .status = SHARE_CREATING, .size = 67108864,
                     .operation = (char *) "create", .step = (char *) "mkfs" };
        g_autoptr(GPtrArray) vols2 = g_ptr_array_new();
        ShareInfo i2 = { .share = &s2, .export_path = (char *) "/srv/NFS/q", .volumes = vols2, .guard = GUARD_OFF,
                         .guard_active = GUARD_OFF };
        /* Share 3: plain, ready and clean. */
        Share s3 = { .name = (char *) "Plain_3", .status = SHARE_READY, .size = 1073741824 };
        Findings clean = { .audited_at = 1764576000 };
        g_autoptr(GPtrArray) vols3 = g_ptr_array_new();
        ShareInfo i3 = { .share = &s3, .export_path = (char *) "/srv/NFS/Plain_3", .mounted = true, .exported = true,
                         .served = true, .has_usage = true, .capacity = 1000000000, .used = 1000,
                         .available = 999999000, .volumes = vols3, .guard = GUARD_DETECT,
                         .guard_active = GUARD_DETECT, .findings = &clean };
        g_autoptr(GPtrArray) shares = g_ptr_array_new();
        g_ptr_array_add(shares, &i1);
        g_ptr_array_add(shares, &i2);
        g_ptr_array_add(shares, &i3);
        g_autoptr(GPtrArray) pools = g_ptr_array_new_with_free_func((GDestroyNotify) pool_free);
        g_ptr_array_add(pools, pool(EVIL_NAME, "bd0a2edc-66fb-e630-d2c9-cafc85a9cd29", EVIL_PATH,
                                    "/var/lib/libvirt/nfsprov/<t>"));
        g_ptr_array_add(pools, pool("Plain_3", "0f3c1a52-1111-4222-8333-444455556666", "/srv/NFS/Plain_3",
                                    "/var/lib/libvirt/nfsprov/Plain_3"));
        Snapshot snap = { .shares = shares, .pools = pools, .address = (char *) "192.0.2.7",
                          .export_server = "kernel", .exports_ok = true };

        OpRecord op1 = { .number = 12, .id = (char *) "12", .kind = "create", .share = (char *) EVIL_NAME,
                         .state = "failed", .ended = true, .failed = true, .step = (char *) "mkfs", .done = 3,
                         .total = 11, .status = 500, .error = (char *) EVIL_ERROR, .by = (char *) "uid 0",
                         .submitted_at = 1764576000LL * G_USEC_PER_SEC, .ended_at = 1764576001LL * G_USEC_PER_SEC };
        OpRecord op2 = { .number = 11, .id = (char *) "11", .kind = "vol-create", .share = (char *) "Plain_3",
                         .volume = (char *) "disk'1", .state = "succeeded", .ended = true, .done = 4, .total = 4,
                         .status = 201, .by = (char *) "<10.0.0.5>",
                         .submitted_at = 1764575000LL * G_USEC_PER_SEC, .ended_at = 1764575002LL * G_USEC_PER_SEC };
        g_autoptr(GPtrArray) ops = g_ptr_array_new();
        g_ptr_array_add(ops, &op1);
        g_ptr_array_add(ops, &op2);

        StatusPageInput in = { .snapshot = &snap, .operations = ops, .host_hint = "10.9.9.9", .now = 1764576005,
                               .version = "1.2.3<beta>" };
        g_autofree char *page = status_page_render(&in);

        /* Nothing hostile got through as markup: one script and one style element, ours. */
        ck_assert_uint_eq(count_of(page, "<script"), 1);
        ck_assert_uint_eq(count_of(page, "<style"), 1);
        assert_lacks(page, "<img");
        assert_lacks(page, "<b>");
        assert_lacks(page, "<t>");
        assert_lacks(page, "<host>");
        assert_lacks(page, "<cannot>");
        assert_lacks(page, "<no>");
        assert_lacks(page, "<beta>");
        assert_lacks(page, "<10.0.0.5>");
        assert_lacks(page, QUOTE_NAME);
        assert_lacks(page, "disk'1");
        /* no value breaks out of an attribute: every data-share value is escaped */
        assert_has(page, "data-share=\"" EVIL_NAME_HTML "\"");
        assert_has(page, "data-share=\"" QUOTE_NAME_HTML "\"");
        assert_has(page, "data-share=\"Plain_3\"");
        assert_has(page, "data-pool=\"" EVIL_NAME_HTML "\"");

        /* Share 1: every value. */
        assert_has(page, "<span class=\"name\">" EVIL_NAME_HTML "</span>");
        assert_has(page, "<span class=\"st bad\">tainted</span>");
        assert_has(page, EVIL_ERROR_HTML);
        assert_has(page, "<meter min=\"0\" max=\"100000000\" value=\"25000000\"");
        assert_has(page, "<span class=\"used\" data-bytes=\"25000000\">23.8 MiB</span>");
        assert_has(page, "<span class=\"capacity\" data-bytes=\"100000000\">95.3 MiB</span> (25.0%)");
        assert_has(page, "<span class=\"size\" data-bytes=\"134217728\">128 MiB</span>");
        assert_has(page, "<span class=\"provisioned\" data-bytes=\"250000000\">238.4 MiB</span> in "
                         "<span class=\"volumes\">2</span> volume(s)");
        assert_has(page, "over-commit <span class=\"overcommit\">2.50</span>");
        assert_has(page, "mode <span class=\"guard-mode\">enforce</span>, runs <span class=\"guard-active\">detect"
                         "</span>");
        assert_has(page, "findings <span class=\"findings bad\">4</span> <span class=\"dim\">(foreign 3, changed 1, "
                         "missing 0)</span>");
        assert_has(page, "audited 2025-12-01 08:00:00 UTC");
        assert_has(page, "audit: &lt;cannot&gt; read &amp; &quot;skip&quot;");
        assert_has(page, "enforce runs as detect: &lt;no&gt; CAP_LINUX_IMMUTABLE");
        assert_has(page, "served <span class=\"served ok\">yes</span>, exported yes, mounted yes");
        assert_has(page, EVIL_PATH_HTML);
        assert_has(page, "clients 10.0.0.0/8 &lt;host&gt;");
        /* Share 2 */
        assert_has(page, "<span class=\"name\">" QUOTE_NAME_HTML "</span>");
        assert_has(page, "<span class=\"st warn\">creating</span><br><span class=\"dim\">create: mkfs</span>");
        assert_has(page, "not mounted: no usage");
        assert_has(page, "<span class=\"size\" data-bytes=\"67108864\">64 MiB</span>");
        assert_has(page, "mode <span class=\"guard-mode\">off</span><br>root protected: no<br>"
                         "<span class=\"dim\">not audited</span>");
        assert_has(page, "served <span class=\"served bad\">no</span>, exported no, mounted no");
        /* Share 3 */
        assert_has(page, "<span class=\"st ok\">ready</span>");
        assert_has(page, "<span class=\"size\" data-bytes=\"1073741824\">1 GiB</span>");
        assert_has(page, "findings <span class=\"findings ok\">0</span>");
        assert_has(page, "over-commit <span class=\"overcommit\">0.00</span>");
        /* the header and each share's Export column */
        ck_assert_uint_eq(count_of(page, "server <span class=\"export-server\">kernel</span>"), 4);

        /* Pools: every field, the configured address as host (not the hint), the XML escaped twice
         * (XML, then HTML). */
        assert_has(page, "<dd class=\"pool-name\">" EVIL_NAME_HTML "</dd>");
        assert_has(page, "<dd class=\"pool-uuid\">bd0a2edc-66fb-e630-d2c9-cafc85a9cd29</dd>");
        assert_has(page, "<dd class=\"pool-uuid\">0f3c1a52-1111-4222-8333-444455556666</dd>");
        ck_assert_uint_eq(count_of(page, "<dd class=\"pool-host\">192.0.2.7</dd>"), 2);
        assert_lacks(page, "10.9.9.9");
        assert_has(page, "<dd class=\"pool-source\">" EVIL_PATH_HTML "</dd>");
        assert_has(page, "<dd class=\"pool-target\">/var/lib/libvirt/nfsprov/&lt;t&gt;</dd>");
        assert_has(page, "&lt;name&gt;&amp;lt;script&amp;gt;alert(1)&amp;lt;/script&amp;gt;&lt;/name&gt;");
        assert_has(page, "&lt;host name=&#39;192.0.2.7&#39;/&gt;");

        /* Operations, newest first, with their results. */
        const char *o12 = strstr(page, "data-operation=\"12\""), *o11 = strstr(page, "data-operation=\"11\"");
        ck_assert_ptr_nonnull(o12);
        ck_assert_ptr_nonnull(o11);
        ck_assert_msg(o12 < o11, "operation 12 is not listed before 11");
        assert_has(page, "<span class=\"op-kind\">create</span></td><td><span class=\"op-target name\">" EVIL_NAME_HTML
                         "</span></td><td><span class=\"st bad\">failed</span> <span class=\"dim op-status\">500</span>"
                         "<br><span class=\"err\">" EVIL_ERROR_HTML "</span></td><td>mkfs <span class=\"dim\">3/11"
                         "</span></td><td>uid 0</td><td>2025-12-01 08:00:00 UTC</td><td>2025-12-01 08:00:01 UTC</td>");
        assert_has(page, "<span class=\"op-target name\">Plain_3/disk&#39;1</span></td><td><span class=\"st ok\">"
                         "succeeded</span> <span class=\"dim op-status\">201</span></td>");
        assert_has(page, "&lt;10.0.0.5&gt;");

        /* The header */
        assert_has(page, "version <span class=\"version\">1.2.3&lt;beta&gt;</span>");
        assert_has(page, "<span class=\"share-count\">3</span> share(s)");
        assert_has(page, "<time id=\"generated\">2025-12-01 08:00:05 UTC</time>");

        /* The CSP names the page's own style and script, and nothing inline else. */
        g_autofree char *style = between(page, "<style>", "</style>");
        g_autofree char *script = between(page, "<script>", "</script>");
        g_autofree char *hs = sha256_b64(style), *hj = sha256_b64(script);
        g_autofree char *want_style = g_strdup_printf("style-src 'sha256-%s';", hs);
        g_autofree char *want_script = g_strdup_printf("script-src 'sha256-%s';", hj);
        const char *csp = status_page_csp();
        ck_assert_msg(strstr(csp, want_style) != NULL, "CSP [%s] lacks [%s]", csp, want_style);
        ck_assert_msg(strstr(csp, want_script) != NULL, "CSP [%s] lacks [%s]", csp, want_script);
        ck_assert_msg(g_str_has_prefix(csp, "default-src 'none';"), "%s", csp);
        assert_lacks(csp, "unsafe");
        assert_lacks(page, " style=");
        assert_lacks(page, "http://");   /* no external asset */
        assert_lacks(page, "https://");
}
END_TEST

START_TEST(test_no_address_no_operations) {
        Share s1 = { .name = (char *) "A", .status = SHARE_READY, .size = 1048576 };
        g_autoptr(GPtrArray) vols = g_ptr_array_new();
        ShareInfo i1 = { .share = &s1, .export_path = (char *) "/srv/NFS/A", .volumes = vols, .mounted = true,
                         .has_usage = true, .capacity = 1000, .used = 10 };
        g_autoptr(GPtrArray) shares = g_ptr_array_new();
        g_ptr_array_add(shares, &i1);
        g_autoptr(GPtrArray) pools = g_ptr_array_new_with_free_func((GDestroyNotify) pool_free);
        g_ptr_array_add(pools, pool("A", "0f3c1a52-1111-4222-8333-444455556666", "/srv/NFS/A", "/t/A"));
        Snapshot snap = { .shares = shares, .pools = pools, .export_server = "ganesha" };

        /* no [server] address: the host is the address the browser reached */
        StatusPageInput in = { .snapshot = &snap, .host_hint = "10.9.9.9", .now = 0, .version = "1" };
        g_autofree char *page = status_page_render(&in);
        assert_has(page, "<dd class=\"pool-host\">10.9.9.9</dd>");
        assert_has(page, "&lt;host name=&#39;10.9.9.9&#39;/&gt;");
        assert_has(page, "No operation in the last 15 minutes.");
        assert_has(page, "server <span class=\"export-server\">ganesha</span>");
        /* exports_ok is false: the banner says so */
        assert_has(page, "Not every ready share is in the export server's file");

        /* neither (the Unix socket): no host, no XML */
        in.host_hint = NULL;
        g_autofree char *page2 = status_page_render(&in);
        assert_has(page2, "<dd class=\"pool-host\">(the address each host reached)</dd>");
        assert_lacks(page2, "pool-xml");
}
END_TEST

START_TEST(test_state_error) {
        g_autoptr(GPtrArray) shares = g_ptr_array_new();
        g_autoptr(GPtrArray) pools = g_ptr_array_new();
        Snapshot snap = { .shares = shares, .pools = pools, .export_server = "kernel",
                          .error = (char *) "database disk image is malformed <sqlite>" };
        StatusPageInput in = { .snapshot = &snap, .now = 0, .version = "1" };
        g_autofree char *page = status_page_render(&in);
        assert_has(page, "The state could not be read: <span class=\"err\">database disk image is malformed "
                         "&lt;sqlite&gt;</span>");
        assert_has(page, "No shares.");
        assert_has(page, "No pools");
}
END_TEST

Suite *unit_suite(void) {
        Suite *s = suite_create("status_page");
        TCase *tc = tcase_create("status_page");
        tcase_add_test(tc, test_escape);
        tcase_add_test(tc, test_hostile_snapshot);
        tcase_add_test(tc, test_no_address_no_operations);
        tcase_add_test(tc, test_state_error);
        suite_add_tcase(s, tc);
        return s;
}
