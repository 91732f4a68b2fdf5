/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "fuzz_common.h"
#include "macro.h"

/* Warnings GLib itself is to blame for, let through (printed, not fatal): the message holds all
 * of these strings. One entry per known GLib bug; see tests/fuzz/README.md. */
static const char *const glib_known_bugs[][2] = {
        /* GLib 2.74 g_key_file_parse_value_as_string(): an invalid escape and then a backslash at
         * the end of the value set the error twice; the load still fails with the second one. */
        { "GError set over the top of a previous GError",
          "The overwriting error message was: Key file contains escape character at end of line" },
};

static bool glib_known_bug(const GLogField *fields, gsize n_fields) {
        const char *msg = NULL;
        for (gsize i = 0; i < n_fields; i++)
                if (strcmp(fields[i].key, "MESSAGE") == 0 && fields[i].length < 0)
                        msg = fields[i].value;
        for (size_t k = 0; msg && k < G_N_ELEMENTS(glib_known_bugs); k++)
                if (strstr(msg, glib_known_bugs[k][0]) && strstr(msg, glib_known_bugs[k][1]))
                        return true;
        return false;
}

/* A GLib warning or critical is a bug too (a g_return_if_fail() that failed, a GError set over
 * another one): print it and abort, so that libFuzzer keeps the input. Installed before main(),
 * ahead of any logging (GLib takes its writer only once). */
static GLogWriterOutput fatal_writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer data) {
        GLogWriterOutput r = g_log_writer_standard_streams(level, fields, n_fields, data);
        if ((level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING)) &&
            !glib_known_bug(fields, n_fields)) {
                fprintf(stderr, "%s: GLib logged a warning or critical (above)\n", fuzz_target_name);
                abort();
        }
        return r;
}

__attribute__((constructor)) static void fatal_glib_warnings(void) {
        g_log_set_writer_func(fatal_writer, NULL, NULL);
}

char *fuzz_show(const char *s) {
        if (!s)
                return g_strdup("(null)");
        g_autofree char *cut = g_strndup(s, 300);
        g_autofree char *esc = g_strescape(cut, NULL);
        return g_strconcat("\"", esc, strlen(s) > 300 ? "\"..." : "\"", NULL);
}

void fuzz_check_failure(const char *what, int r, const GError *error, const int *allowed) {
        FUZZ_CHECK(r < 0, "%s: returned %d, expected a negative errno", what, r);
        bool listed = false;
        for (const int *a = allowed; *a; a++)
                listed = listed || r == *a;
        FUZZ_CHECK(listed, "%s: returned %d (%s), not one of the errnos it may fail with; message: %s", what, r,
                   g_strerror(-r), error ? error->message : "(none)");
        FUZZ_CHECK(error, "%s: failed with %d but set no error message", what, r);
        FUZZ_CHECK(error->domain == NP_ERROR && error->code == -r,
                   "%s: failed with %d but the error has another domain or code (%d): %s", what, r, error->code,
                   error->message);
        FUZZ_CHECK(error->message && error->message[0], "%s: failed with an empty message", what);
        g_autofree char *shown = fuzz_show(error->message);
        FUZZ_CHECK(g_utf8_validate(error->message, -1, NULL), "%s: the message is not valid UTF-8: %s", what,
                   shown);
        FUZZ_CHECK(!strchr(error->message, '\n') && !strchr(error->message, '\r'),
                   "%s: the message is not one line: %s", what, shown);
}

void fuzz_check_success(const char *what, int r, const GError *error) {
        FUZZ_CHECK(r == 0, "%s: returned %d, neither 0 nor a negative errno", what, r);
        FUZZ_CHECK(!error, "%s: succeeded but set an error: %s", what, error->message);
}

char *fuzz_copy(const uint8_t *data, size_t size) {
        char *c = g_malloc(size ? size : 1);
        if (size)
                memcpy(c, data, size);
        return c;
}

char *fuzz_copy_string(const uint8_t *data, size_t size) {
        char *c = g_malloc(size + 1);
        if (size)
                memcpy(c, data, size);
        c[size] = '\0';
        return c;
}

static char *scratch;

static void scratch_remove(void) {
        if (!scratch)
                return;
        GDir *d = g_dir_open(scratch, 0, NULL);
        if (d) {
                const char *n;
                while ((n = g_dir_read_name(d))) {
                        g_autofree char *p = g_build_filename(scratch, n, NULL);
                        (void) unlink(p);
                }
                g_dir_close(d);
        }
        (void) rmdir(scratch);
        g_clear_pointer(&scratch, g_free);
}

const char *fuzz_scratch_dir(void) {
        if (scratch)
                return scratch;
        g_autofree char *tmpl = g_strdup_printf("fuzz_%s.XXXXXX", fuzz_target_name);
        g_autoptr(GError) e = NULL;
        scratch = g_dir_make_tmp(tmpl, &e);
        FUZZ_CHECK(scratch, "cannot make a scratch directory in %s: %s", g_get_tmp_dir(), e->message);
        atexit(scratch_remove);
        return scratch;
}

char *fuzz_scratch_path(const char *name) {
        return g_build_filename(fuzz_scratch_dir(), name, NULL);
}

void fuzz_write_file(const char *path, const void *data, size_t size) {
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        FUZZ_CHECK(fd >= 0, "cannot open %s for writing: %s", path, g_strerror(errno));
        const char *p = data;
        for (size_t left = size; left > 0;) {
                ssize_t n = write(fd, p, left);
                if (n < 0 && errno == EINTR)
                        continue;
                FUZZ_CHECK(n > 0, "cannot write %s: %s", path, g_strerror(errno));
                p += n;
                left -= (size_t) n;
        }
}

char *fuzz_read_file(const char *path, size_t *ret_size) {
        char *d = NULL;
        gsize n = 0;
        g_autoptr(GError) e = NULL;
        FUZZ_CHECK(g_file_get_contents(path, &d, &n, &e), "cannot read %s: %s", path, e->message);
        if (ret_size)
                *ret_size = n;
        return d;
}

void fuzz_unlink(const char *path) {
        FUZZ_CHECK(unlink(path) == 0 || errno == ENOENT, "cannot remove %s: %s", path, g_strerror(errno));
}

size_t fuzz_count_newlines(const char *s, size_t n) {
        size_t c = 0;
        for (size_t i = 0; i < n; i++)
                c += s[i] == '\n';
        return c;
}
