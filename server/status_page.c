/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdarg.h>
#include <string.h>

#include "guard_mode.h"
#include "share_json.h"
#include "size.h"
#include "status_page.h"

/* ---- the inline assets (the CSP names them by their SHA-256: change them here only) ---- */

static const char page_style[] =
        "\n"
        ":root{color-scheme:light;--ok:#1a7f37;--warn:#9a6700;--bad:#cf222e;--line:#d0d7de;--dim:#57606a}\n"
        "body{font:14px/1.45 system-ui,sans-serif;margin:0;padding:0 1.5rem 2rem;color:#1f2328;background:#f6f8fa}\n"
        "header{display:flex;flex-wrap:wrap;align-items:baseline;gap:.4rem 1.2rem;padding:1rem 0 .5rem}\n"
        "h1{font-size:1.4rem;margin:0}h2{font-size:1.1rem;margin:1.4rem 0 .5rem}h3{font-size:1rem;margin:0 0 .4rem}\n"
        "#meta,#refresh{margin:0;color:var(--dim)}#refresh.stale{color:var(--bad);font-weight:600}\n"
        "table{border-collapse:collapse;width:100%;background:#fff;border:1px solid var(--line)}\n"
        "th,td{text-align:left;vertical-align:top;padding:.4rem .6rem;border-bottom:1px solid var(--line)}\n"
        "th{background:#eaeef2;font-weight:600}\n"
        "meter{width:100%;height:1rem;display:block}\n"
        ".name{font-weight:600;font-family:ui-monospace,monospace}.dim{color:var(--dim)}\n"
        ".ok{color:var(--ok)}.warn{color:var(--warn)}.bad{color:var(--bad)}\n"
        ".st{font-weight:600}.err{color:var(--bad);white-space:pre-wrap;word-break:break-word}\n"
        ".banner{background:#ffebe9;border:1px solid var(--bad);padding:.6rem;margin:1rem 0}\n"
        ".pools{display:grid;grid-template-columns:repeat(auto-fill,minmax(24rem,1fr));gap:.8rem}\n"
        ".pool{background:#fff;border:1px solid var(--line);padding:.6rem .8rem}\n"
        "dl{display:grid;grid-template-columns:max-content 1fr;gap:.1rem .8rem;margin:0}\n"
        "dt{color:var(--dim)}dd{margin:0;font-family:ui-monospace,monospace;word-break:break-all}\n"
        "pre{background:#f6f8fa;padding:.4rem;overflow:auto;font-size:12px}\n";

static const char page_script[] =
        "\n"
        "(function () {\n"
        "  var every = " G_STRINGIFY(STATUS_PAGE_REFRESH_S) " * 1000, count = 0;\n"
        "  function swap(d, id) {\n"
        "    var n = d.getElementById(id), o = document.getElementById(id);\n"
        "    if (!n || !o) throw new Error('not a status page');\n"
        "    o.replaceWith(document.adoptNode(n));\n"
        "  }\n"
        "  function tick() {\n"
        "    var note = document.getElementById('refresh');\n"
        "    fetch(location.origin + location.pathname, { cache: 'no-store', credentials: 'same-origin' })\n"
        "      .then(function (r) {\n"
        "        if (!r.ok) throw new Error('HTTP ' + r.status);\n"
        "        return r.text();\n"
        "      })\n"
        "      .then(function (t) {\n"
        "        var d = new DOMParser().parseFromString(t, 'text/html');\n"
        "        swap(d, 'status');\n"
        "        swap(d, 'meta');\n"
        "        document.body.setAttribute('data-refreshes', String(++count));\n"
        "        note.textContent = 'refreshed in place every ' + every / 1000 + ' s';\n"
        "        note.className = '';\n"
        "      })\n"
        "      .catch(function (e) {\n"
        "        note.textContent = 'refresh failed (' + e.message + '): showing the page of before';\n"
        "        note.className = 'stale';\n"
        "      })\n"
        "      .finally(function () { setTimeout(tick, every); });\n"
        "  }\n"
        "  setTimeout(tick, every);\n"
        "})();\n";

/* 'sha256-BASE64' of text, as CSP names an inline element. */
static char *csp_hash(const char *text) {
        guint8 digest[32];
        gsize len = sizeof digest;
        g_autoptr(GChecksum) c = g_checksum_new(G_CHECKSUM_SHA256);
        g_checksum_update(c, (const guchar *) text, (gssize) strlen(text));
        g_checksum_get_digest(c, digest, &len);
        g_autofree char *b64 = g_base64_encode(digest, len);
        return g_strdup_printf("'sha256-%s'", b64);
}

static gpointer csp_make(gpointer unused) {
        g_autofree char *style = csp_hash(page_style);
        g_autofree char *script = csp_hash(page_script);
        return g_strdup_printf("default-src 'none'; style-src %s; script-src %s; connect-src 'self'; img-src 'none'; "
                               "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
                               style, script);
}

const char *status_page_csp(void) {
        static GOnce once = G_ONCE_INIT;
        return g_once(&once, csp_make, NULL);
}

const char *const status_page_headers[] = {
        "Cache-Control", "no-store",
        "X-Content-Type-Options", "nosniff",
        "Referrer-Policy", "no-referrer",
        NULL,
};

/* ---- writing ---- */

void status_page_escape(GString *out, const char *text) {
        if (!text)
                return;
        g_autofree char *valid = g_utf8_make_valid(text, -1);
        for (const char *p = valid; *p; p++) {
                switch (*p) {
                case '&':
                        g_string_append(out, "&amp;");
                        break;
                case '<':
                        g_string_append(out, "&lt;");
                        break;
                case '>':
                        g_string_append(out, "&gt;");
                        break;
                case '"':
                        g_string_append(out, "&quot;");
                        break;
                case '\'':
                        g_string_append(out, "&#39;");
                        break;
                default:
                        g_string_append_c(out, *p);
                }
        }
}

/* A value formatted, then escaped. */
static void textf(GString *out, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void textf(GString *out, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        g_autofree char *v = g_strdup_vprintf(fmt, ap);
        va_end(ap);
        status_page_escape(out, v);
}

static void text_size(GString *out, uint64_t bytes) {
        g_autofree char *v = size_format(bytes);
        status_page_escape(out, v);
}

/* "2026-12-01 08:00:00 UTC" of unix seconds. */
static void text_time(GString *out, int64_t unix_s) {
        g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc(unix_s);
        g_autofree char *v = t ? g_date_time_format(t, "%Y-%m-%d %H:%M:%S UTC") : g_strdup("?");
        status_page_escape(out, v);
}

/* <TAG class="CLASS">VALUE</TAG> */
static void element(GString *out, const char *tag, const char *class, const char *value) {
        g_string_append_printf(out, "<%s class=\"%s\">", tag, class);
        status_page_escape(out, value);
        g_string_append_printf(out, "</%s>", tag);
}

static const char *yes_no(bool v) {
        return v ? "yes" : "no";
}

/* The class a shown status is drawn with. */
static const char *status_class(const char *status) {
        if (strcmp(status, "ready") == 0 || strcmp(status, "succeeded") == 0)
                return "st ok";
        if (strcmp(status, "failed") == 0 || strcmp(status, "tainted") == 0)
                return "st bad";
        return "st warn";
}

/* ---- sections ---- */

static void share_capacity(GString *out, const ShareInfo *i) {
        const Share *s = i->share;
        if (i->has_usage) {
                g_string_append(out, "<meter min=\"0\" max=\"");
                textf(out, "%" G_GUINT64_FORMAT, i->capacity);
                g_string_append(out, "\" value=\"");
                textf(out, "%" G_GUINT64_FORMAT, i->used);
                g_string_append(out, "\" high=\"");
                textf(out, "%" G_GUINT64_FORMAT, i->capacity / 10 * 9);
                g_string_append(out, "\"></meter><span class=\"used\" data-bytes=\"");
                textf(out, "%" G_GUINT64_FORMAT, i->used);
                g_string_append(out, "\">");
                text_size(out, i->used);
                g_string_append(out, "</span> used of <span class=\"capacity\" data-bytes=\"");
                textf(out, "%" G_GUINT64_FORMAT, i->capacity);
                g_string_append(out, "\">");
                text_size(out, i->capacity);
                g_string_append(out, "</span> (");
                textf(out, "%.1f%%", i->capacity ? 100.0 * (double) i->used / (double) i->capacity : 0.0);
                g_string_append(out, ")<br>");
        } else
                g_string_append(out, "<span class=\"dim\">not mounted: no usage</span><br>");
        g_string_append(out, "<span class=\"dim\">size</span> <span class=\"size\" data-bytes=\"");
        textf(out, "%" G_GUINT64_FORMAT, s->size);
        g_string_append(out, "\">");
        text_size(out, s->size);
        g_string_append(out, "</span>");
}

static void share_provisioned(GString *out, const ShareInfo *i) {
        if (!i->volumes) {
                g_string_append(out, "<span class=\"dim\">manifest unreadable</span>");
                return;
        }
        g_string_append(out, "<span class=\"provisioned\" data-bytes=\"");
        textf(out, "%" G_GUINT64_FORMAT, i->provisioned);
        g_string_append(out, "\">");
        text_size(out, i->provisioned);
        g_string_append(out, "</span> in <span class=\"volumes\">");
        textf(out, "%u", i->volumes->len);
        g_string_append(out, "</span> volume(s)<br>over-commit <span class=\"overcommit\">");
        if (i->has_usage && i->capacity)
                textf(out, "%.2f", (double) i->provisioned / (double) i->capacity);
        else
                status_page_escape(out, "-");
        g_string_append(out, "</span>");
}

static void share_guard(GString *out, const ShareInfo *i) {
        g_string_append(out, "mode <span class=\"guard-mode\">");
        status_page_escape(out, guard_mode_name(i->guard));
        g_string_append(out, "</span>");
        if (i->guard_active != i->guard) {
                g_string_append(out, ", runs <span class=\"guard-active\">");
                status_page_escape(out, guard_mode_name(i->guard_active));
                g_string_append(out, "</span>");
        }
        g_string_append(out, "<br>root protected: ");
        status_page_escape(out, yes_no(i->guard_protected));
        g_string_append(out, "<br>");
        if (!i->findings) {
                g_string_append(out, "<span class=\"dim\">not audited</span>");
        } else {
                unsigned total = findings_total(i->findings);
                g_string_append_printf(out, "findings <span class=\"findings %s\">", total ? "bad" : "ok");
                textf(out, "%u", total);
                g_string_append(out, "</span> <span class=\"dim\">(");
                for (AuditFinding f = 0; f < _AUDIT_FINDING_MAX; f++)
                        textf(out, "%s%s %u", f ? ", " : "", audit_finding_to_string(f), i->findings->count[f]);
                g_string_append(out, ")</span><br><span class=\"dim\">audited ");
                text_time(out, i->findings->audited_at);
                g_string_append(out, "</span>");
                if (i->findings->error) {
                        g_string_append(out, "<br>");
                        element(out, "span", "err", i->findings->error);
                }
        }
        if (i->guard_note) {
                g_string_append(out, "<br>");
                element(out, "span", "dim", i->guard_note);
        }
}

static void share_export(GString *out, const Snapshot *s, const ShareInfo *i) {
        g_string_append(out, "server <span class=\"export-server\">");
        status_page_escape(out, s->export_server);
        g_string_append_printf(out, "</span><br>served <span class=\"served %s\">", i->served ? "ok" : "bad");
        status_page_escape(out, yes_no(i->served));
        g_string_append(out, "</span>, exported ");
        status_page_escape(out, yes_no(i->exported));
        g_string_append(out, ", mounted ");
        status_page_escape(out, yes_no(i->mounted));
        g_string_append(out, "<br>");
        element(out, "span", "dim", i->export_path);
        if (i->clients && *i->clients) {
                g_string_append(out, "<br><span class=\"dim\">clients ");
                g_autofree char *clients = g_strjoinv(" ", i->clients);
                status_page_escape(out, clients);
                g_string_append(out, "</span>");
        }
}

static void shares_section(GString *out, const Snapshot *s) {
        g_string_append(out, "<section id=\"shares\"><h2>Shares</h2>\n");
        if (s->shares->len == 0) {
                g_string_append(out, "<p class=\"dim\">No shares.</p></section>\n");
                return;
        }
        g_string_append(out, "<table><thead><tr><th>Share</th><th>Status</th><th>Capacity</th><th>Provisioned</th>"
                             "<th>Guard</th><th>Export</th></tr></thead><tbody>\n");
        for (guint k = 0; k < s->shares->len; k++) {
                const ShareInfo *i = g_ptr_array_index(s->shares, k);
                const char *status = share_info_status(i);
                g_string_append(out, "<tr class=\"share\" data-share=\"");
                status_page_escape(out, i->share->name);
                g_string_append(out, "\"><td>");
                element(out, "span", "name", i->share->name);
                g_string_append(out, "</td><td>");
                element(out, "span", status_class(status), status);
                if (i->share->operation) {
                        g_string_append(out, "<br><span class=\"dim\">");
                        textf(out, "%s: %s", i->share->operation, i->share->step ? i->share->step : "-");
                        g_string_append(out, "</span>");
                }
                if (i->share->error) {
                        g_string_append(out, "<br>");
                        element(out, "span", "err", i->share->error);
                }
                g_string_append(out, "</td><td>");
                share_capacity(out, i);
                g_string_append(out, "</td><td>");
                share_provisioned(out, i);
                g_string_append(out, "</td><td>");
                share_guard(out, i);
                g_string_append(out, "</td><td>");
                share_export(out, s, i);
                g_string_append(out, "</td></tr>\n");
        }
        g_string_append(out, "</tbody></table></section>\n");
}

static void dl_item(GString *out, const char *term, const char *class, const char *value) {
        g_string_append(out, "<dt>");
        status_page_escape(out, term);
        g_string_append(out, "</dt>");
        element(out, "dd", class, value);
}

static void pools_section(GString *out, const StatusPageInput *in) {
        const Snapshot *s = in->snapshot;
        const char *host = s->address ? s->address : in->host_hint;
        g_string_append(out, "<section id=\"pools\"><h2>Pool definitions</h2>\n");
        if (s->pools->len == 0) {
                g_string_append(out, "<p class=\"dim\">No pools (no share is ready).</p></section>\n");
                return;
        }
        if (!host)
                g_string_append(out, "<p class=\"dim\">No [server] address is configured: each host is given the "
                                     "address it reached this server on.</p>\n");
        g_string_append(out, "<div class=\"pools\">\n");
        for (guint k = 0; k < s->pools->len; k++) {
                const SnapshotPool *p = g_ptr_array_index(s->pools, k);
                g_string_append(out, "<article class=\"pool\" data-pool=\"");
                status_page_escape(out, p->name);
                g_string_append(out, "\"><h3>");
                status_page_escape(out, p->name);
                g_string_append(out, "</h3><dl>");
                dl_item(out, "name", "pool-name", p->def->name);
                dl_item(out, "uuid", "pool-uuid", p->def->uuid);
                dl_item(out, "host", "pool-host", host ? host : "(the address each host reached)");
                dl_item(out, "source", "pool-source", p->def->source_dir);
                dl_item(out, "target", "pool-target", p->def->target_path);
                g_string_append(out, "</dl>");
                g_autofree char *xml = NULL;
                if (host && snapshot_pool_render(s, p, host, true, NULL, &xml, NULL) >= 0) {
                        g_string_append(out, "<details><summary>libvirt XML</summary><pre class=\"pool-xml\">");
                        status_page_escape(out, xml);
                        g_string_append(out, "</pre></details>");
                }
                g_string_append(out, "</article>\n");
        }
        g_string_append(out, "</div></section>\n");
}

static void operations_section(GString *out, const GPtrArray *ops) {
        g_string_append(out, "<section id=\"operations\"><h2>Last operations</h2>\n");
        if (!ops || ops->len == 0) {
                g_string_append(out, "<p class=\"dim\">No operation in the last 15 minutes.</p></section>\n");
                return;
        }
        g_string_append(out, "<table><thead><tr><th>#</th><th>Operation</th><th>Target</th><th>Result</th>"
                             "<th>Step</th><th>By</th><th>Submitted</th><th>Ended</th></tr></thead><tbody>\n");
        for (guint k = 0; k < ops->len; k++) {
                const OpRecord *o = g_ptr_array_index(ops, k);
                g_string_append(out, "<tr class=\"operation\" data-operation=\"");
                status_page_escape(out, o->id);
                g_string_append(out, "\"><td>");
                status_page_escape(out, o->id);
                g_string_append(out, "</td><td>");
                element(out, "span", "op-kind", o->kind);
                g_string_append(out, "</td><td>");
                g_autofree char *target = o->volume ? g_strdup_printf("%s/%s", o->share, o->volume) : g_strdup(o->share);
                element(out, "span", "op-target name", target);
                g_string_append(out, "</td><td>");
                element(out, "span", status_class(o->state), o->state);
                if (o->ended) {
                        g_string_append(out, " <span class=\"dim op-status\">");
                        textf(out, "%u", o->status);
                        g_string_append(out, "</span>");
                }
                if (o->error) {
                        g_string_append(out, "<br>");
                        element(out, "span", "err", o->error);
                }
                g_string_append(out, "</td><td>");
                status_page_escape(out, o->step ? o->step : "-");
                g_string_append(out, " <span class=\"dim\">");
                textf(out, "%u/%u", o->done, o->total);
                g_string_append(out, "</span></td><td>");
                status_page_escape(out, o->by);
                g_string_append(out, "</td><td>");
                text_time(out, o->submitted_at / G_USEC_PER_SEC);
                g_string_append(out, "</td><td>");
                if (o->ended)
                        text_time(out, o->ended_at / G_USEC_PER_SEC);
                else
                        status_page_escape(out, "-");
                g_string_append(out, "</td></tr>\n");
        }
        g_string_append(out, "</tbody></table></section>\n");
}

char *status_page_render(const StatusPageInput *in) {
        const Snapshot *s = in->snapshot;
        GString *out = g_string_sized_new(16384);
        g_string_append(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
                             "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                             "<title>nfsprovd status</title>\n");
        g_string_append_printf(out, "<noscript><meta http-equiv=\"refresh\" content=\"%d\"></noscript>\n",
                               STATUS_PAGE_REFRESH_S);
        g_string_append_printf(out, "<style>%s</style>\n</head>\n<body data-refreshes=\"0\">\n", page_style);
        g_string_append(out, "<header><h1>nfsprovd</h1><p id=\"meta\">version <span class=\"version\">");
        status_page_escape(out, in->version);
        g_string_append(out, "</span> &middot; export server <span class=\"export-server\">");
        status_page_escape(out, s->export_server);
        g_string_append(out, "</span> &middot; <span class=\"share-count\">");
        textf(out, "%u", s->shares->len);
        g_string_append(out, "</span> share(s) &middot; page of <time id=\"generated\">");
        text_time(out, in->now);
        g_string_append(out, "</time></p><p id=\"refresh\">");
        textf(out, "refreshed in place every %d s", STATUS_PAGE_REFRESH_S);
        g_string_append(out, "</p></header>\n<main id=\"status\">\n");
        if (s->error) {
                g_string_append(out, "<p class=\"banner\">The state could not be read: ");
                element(out, "span", "err", s->error);
                g_string_append(out, "</p>\n");
        } else if (!s->exports_ok)
                g_string_append(out, "<p class=\"banner\">Not every ready share is in the export server's file "
                                     "(see the Export column).</p>\n");
        shares_section(out, s);
        pools_section(out, in);
        operations_section(out, in->operations);
        g_string_append_printf(out, "</main>\n<script>%s</script>\n</body></html>\n", page_script);
        return g_string_free(out, FALSE);
}
