/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target for NFS-Ganesha's configuration as nfsprov reads it:
 * - ganesha.conf (server/ganesha_conf.h): ganesha_conf_parse() succeeds or fails with -EBADMSG
 *   and one line of UTF-8 starting "ganesha.conf:"; ganesha_conf_edit() agrees with it: it fails
 *   exactly when the parse does, gives NULL exactly when the file is ok, and otherwise a text that
 *   begins with every byte of the input up to Protocols' ';' (only "3" or ", 3" inserted there,
 *   the %include appended), parses, is ok, and edits to NULL (idempotent);
 * - nfsprovd's own file (server/ganesha_file.h): ganesha_file_parse() succeeds or fails with
 *   -EBADMSG and one line; what parses renders, parses again to the same exports (ids, paths,
 *   blocks, pending and removed ids; no id both an export's and removed) and renders to the same
 *   text. (The files of server/ganesha_store.h are this format; their names are nfsprovd's.)
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "fuzz_common.h"
#include "ganesha_conf.h"
#include "ganesha_file.h"

const char fuzz_target_name[] = "fuzz_ganesha";

#define INCLUDE "/etc/ganesha/nfsprov.conf"

static void check_conf(const char *text, size_t size) {
        static const int errnos[] = { -EBADMSG, 0 };
        GaneshaConfStatus st;
        g_autoptr(GError) error = NULL;
        int r = ganesha_conf_parse(text, size, "ganesha.conf", INCLUDE, &st, &error);
        g_autofree char *edited = NULL;
        g_autoptr(GError) edit_error = NULL;
        int re = ganesha_conf_edit(text, size, "ganesha.conf", INCLUDE, &edited, &edit_error);
        FUZZ_CHECK((r < 0) == (re < 0), "parse (%d) and edit (%d) disagree", r, re);
        if (r < 0) {
                fuzz_check_failure("ganesha_conf_parse", r, error, errnos);
                FUZZ_CHECK(g_str_has_prefix(error->message, "ganesha.conf:"), "message without the file: %s",
                           error->message);
                FUZZ_CHECK(!edited, "a failed edit gave a text");
                return;
        }
        fuzz_check_success("ganesha_conf_parse", r, error);
        FUZZ_CHECK(!st.mount || st.vers3, "MOUNT without NFSv3");
        FUZZ_CHECK(!edited == ganesha_conf_ok(&st), "edit gave %s for a file that is %s", edited ? "a text" : "NULL",
                   ganesha_conf_ok(&st) ? "ok" : "not ok");
        if (!edited)
                return;
        size_t n = strlen(edited);
        FUZZ_CHECK(n > size, "the edit is not longer than the input");
        GaneshaConfStatus after;
        g_autoptr(GError) e2 = NULL;
        r = ganesha_conf_parse(edited, n, "ganesha.conf", INCLUDE, &after, &e2);
        FUZZ_CHECK(r == 0, "the edited text does not parse: %s", e2 ? e2->message : "");
        FUZZ_CHECK(ganesha_conf_ok(&after), "the edited text is not ok");
        g_autofree char *again = NULL;
        r = ganesha_conf_edit(edited, n, "ganesha.conf", INCLUDE, &again, NULL);
        FUZZ_CHECK(r == 0 && !again, "the edit is not idempotent");
}

static void check_file(const char *text, size_t size) {
        static const int errnos[] = { -EBADMSG, 0 };
        g_autoptr(GaneshaFile) f = NULL;
        g_autoptr(GError) error = NULL;
        int r = ganesha_file_parse(text, size, "nfsprov.conf", &f, &error);
        if (r < 0) {
                fuzz_check_failure("ganesha_file_parse", r, error, errnos);
                FUZZ_CHECK(!f, "a failed parse set its result");
                return;
        }
        fuzz_check_success("ganesha_file_parse", r, error);
        g_autofree char *rendered = ganesha_file_render(f);
        g_autoptr(GaneshaFile) g = NULL;
        g_autoptr(GError) e2 = NULL;
        r = ganesha_file_parse(rendered, strlen(rendered), "nfsprov.conf", &g, &e2);
        g_autofree char *shown = fuzz_show(rendered);
        FUZZ_CHECK(r == 0, "the rendered file does not parse: %s; file: %s", e2 ? e2->message : "", shown);
        FUZZ_CHECK(g->exports->len == f->exports->len && g->pending->len == f->pending->len &&
                           g->removed->len == f->removed->len,
                   "the round trip changed the number of exports, pending or removed ids");
        for (guint i = 0; i < f->removed->len; i++) {
                unsigned id = g_array_index(f->removed, unsigned, i);
                FUZZ_CHECK(id == g_array_index(g->removed, unsigned, i), "the round trip changed removed id %u", id);
                for (guint k = 0; k < f->exports->len; k++)
                        FUZZ_CHECK(((GaneshaExport *) g_ptr_array_index(f->exports, k))->id != id,
                                   "id %u is both an export's and removed", id);
        }
        for (guint i = 0; i < f->exports->len; i++) {
                const GaneshaExport *a = g_ptr_array_index(f->exports, i), *b = g_ptr_array_index(g->exports, i);
                FUZZ_CHECK(a->id == b->id && strcmp(a->path, b->path) == 0 && strcmp(a->block, b->block) == 0,
                           "the round trip changed export %u", a->id);
        }
        g_autofree char *again = ganesha_file_render(g);
        FUZZ_CHECK(strcmp(again, rendered) == 0, "rendering is not stable");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        check_conf((const char *) data, size);
        check_file((const char *) data, size);
        return 0;
}
