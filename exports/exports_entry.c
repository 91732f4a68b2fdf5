/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "exports_entry.h"

static void exports_client_free(gpointer p) {
        ExportsClient *c = p;
        if (!c)
                return;
        g_free(c->host);
        g_free(c->options);
        g_free(c);
}

ExportsEntry *exports_entry_new(const char *path) {
        g_return_val_if_fail(path, NULL);

        ExportsEntry *e = g_new0(ExportsEntry, 1);
        e->path = g_strdup(path);
        e->clients = g_ptr_array_new_with_free_func(exports_client_free);
        return e;
}

void exports_entry_free(ExportsEntry *e) {
        if (!e)
                return;
        g_free(e->path);
        g_free(e->default_options);
        if (e->clients)
                g_ptr_array_unref(e->clients);
        g_free(e);
}

void exports_entry_add_client(ExportsEntry *e, const char *host, const char *options) {
        g_return_if_fail(e);
        g_return_if_fail(host);

        ExportsClient *c = g_new0(ExportsClient, 1);
        c->host = g_strdup(host);
        c->options = g_strdup(options);
        g_ptr_array_add(e->clients, c);
}

static bool is_octal(unsigned char c) {
        return c >= '0' && c <= '7';
}

static bool needs_escape(const unsigned char *s, size_t i) {
        unsigned char c = s[i];

        if (g_ascii_isspace(c) || g_ascii_iscntrl(c) || c >= 0x80 || c == '"' || c == '\\' || c == '#')
                return true;

        /* nfs-utils decodes "\ooo" on the token it has built so far, so a backslash that was itself
         * written as \134 joins the next three octal digits into another escape ("\134040" reads as
         * " "). An octal digit that would close such a group is escaped too. */
        return is_octal(c) && i >= 3 && s[i - 3] == '\\' && is_octal(s[i - 2]) && is_octal(s[i - 1]);
}

static void escape_append(GString *out, const char *text) {
        const unsigned char *s = (const unsigned char *) text;
        for (size_t i = 0; s[i]; i++) {
                if (needs_escape(s, i))
                        g_string_append_printf(out, "\\%03o", s[i]);
                else
                        g_string_append_c(out, (char) s[i]);
        }
}

char *exports_path_escape(const char *path) {
        g_return_val_if_fail(path, NULL);

        GString *out = g_string_sized_new(strlen(path) + 8);
        escape_append(out, path);
        return g_string_free(out, FALSE);
}

char *exports_entry_render(const ExportsEntry *e) {
        g_return_val_if_fail(e && e->path, NULL);

        GString *out = g_string_new(NULL);
        escape_append(out, e->path);

        /* An empty "-" field is an error for the parser, so "" is written like NULL: not at all. */
        if (e->default_options && e->default_options[0]) {
                g_string_append(out, " -");
                escape_append(out, e->default_options);
        }

        for (guint i = 0; e->clients && i < e->clients->len; i++) {
                const ExportsClient *c = g_ptr_array_index(e->clients, i);

                g_string_append_c(out, ' ');
                escape_append(out, c->host);
                /* A client with neither host nor options would be an empty token, which exportfs
                 * misreads; "()" means the same to exportfs (everybody, default options). */
                if (c->options || !c->host[0]) {
                        g_string_append_c(out, '(');
                        escape_append(out, c->options ?: "");
                        g_string_append_c(out, ')');
                }
        }

        return g_string_free(out, FALSE);
}

char *exports_path_normalize(const char *path) {
        g_return_val_if_fail(path, NULL);

        size_t n = strlen(path);
        char *out = g_malloc(n + 1);
        size_t j = 0;

        for (size_t i = 0; i < n; i++) {
                if (path[i] == '/' && j > 0 && out[j - 1] == '/')
                        continue;
                out[j++] = path[i];
        }
        if (j > 1 && out[j - 1] == '/')
                j--;
        out[j] = '\0';
        return out;
}
