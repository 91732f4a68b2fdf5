/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdbool.h>

#include <glib.h>

#include "show.h"

char *show_text_max(const char *v, size_t max_chars) {
        GString *s = g_string_new(NULL);
        size_t n = 0;
        for (const char *p = v; *p; n++) {
                if (n >= max_chars) {
                        g_string_append(s, "...");
                        break;
                }
                unsigned char ch = (unsigned char) *p;
                if (ch < 0x20 || ch == 0x7f) {
                        g_string_append_printf(s, "\\x%02x", ch);
                        p++;
                } else if (ch < 0x80) {
                        g_string_append_c(s, (char) ch);
                        p++;
                } else if ((gint32) g_utf8_get_char_validated(p, -1) < 0) {
                        g_string_append_printf(s, "\\x%02x", ch); /* not UTF-8 */
                        p++;
                } else {
                        const char *next = g_utf8_next_char(p);
                        g_string_append_len(s, p, next - p);
                        p = next;
                }
        }
        return g_string_free(s, false);
}

char *show_text(const char *v) {
        return show_text_max(v, SHOW_MAX);
}
