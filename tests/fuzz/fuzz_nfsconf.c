/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target for nfs.conf (server/nfsconf.h): each input is written to nfs.conf in the
 * scratch directory (includes are read relative to it, so "include = nfs.conf" includes itself).
 * Checked:
 * - nfsconf_read() succeeds (the file exists and is readable): every flag is 0 or 1, an explicit
 *   vers3/vers4 names its source "FILE:LINE" with LINE within the file, a defaulted one has no
 *   source, the minor versions follow vers4 unless set; nfsconf_problem() is NULL exactly when
 *   nfsconf_ok() and otherwise one line of UTF-8;
 * - nfsconf_apply(): fails only with -EINVAL (a NUL byte) or -EEXIST (an include overrides the
 *   result; never for a file that includes nothing), one line of UTF-8, and then leaves the file
 *   as it was; on success the file now reads as NFSv3 on and NFSv4 off, every line of the input
 *   that is not a vers assignment (nor continues one) is still there in order, a file that was
 *   already right is not rewritten, and applying again changes nothing.
 * Leaks and memory errors are found by the sanitizers this is built with.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "fuzz_common.h"
#include "nfsconf.h"

const char fuzz_target_name[] = "fuzz_nfsconf";

static void check_source(const char *what, bool explicit, const char *source, const char *path, size_t lines) {
        if (!explicit) {
                FUZZ_CHECK(source[0] == '\0', "%s is defaulted but has the source %s", what, source);
                return;
        }
        const char *colon = strrchr(source, ':');
        FUZZ_CHECK(colon, "%s has the source \"%s\", not FILE:LINE", what, source);
        if (strncmp(source, path, colon - source) == 0 && path[colon - source] == '\0') {
                unsigned long line = strtoul(colon + 1, NULL, 10);
                FUZZ_CHECK(line >= 1 && line <= lines, "%s is set on line %lu of a %zu-line file", what, line, lines);
        }
}

static void check_status(const NfsConfStatus *s, const char *path, size_t lines) {
        const int flags[] = { s->vers3, s->vers4, s->vers4_0, s->vers4_1, s->vers4_2, s->tcp, s->udp };
        for (size_t i = 0; i < G_N_ELEMENTS(flags); i++)
                FUZZ_CHECK(flags[i] == 0 || flags[i] == 1, "flag %zu is %d", i, flags[i]);
        FUZZ_CHECK(s->file_exists, "the file exists but file_exists is false");
        check_source("vers3", s->vers3_explicit, s->vers3_source, path, lines);
        check_source("vers4", s->vers4_explicit, s->vers4_source, path, lines);
        if (!s->vers3_explicit)
                FUZZ_CHECK(s->vers3 == 1, "vers3 defaulted to %d", s->vers3);
        if (!s->vers4_explicit)
                FUZZ_CHECK(s->vers4 == 1, "vers4 defaulted to %d", s->vers4);
        FUZZ_CHECK(s->vers4_0_explicit || s->vers4_0 == s->vers4, "vers4.0 does not follow vers4");
        FUZZ_CHECK(s->vers4_1_explicit || s->vers4_1 == s->vers4, "vers4.1 does not follow vers4");
        FUZZ_CHECK(s->vers4_2_explicit || s->vers4_2 == s->vers4, "vers4.2 does not follow vers4");
        if (!s->threads_explicit)
                FUZZ_CHECK(s->threads == 8, "threads defaulted to %d", s->threads);

        g_autofree char *problem = nfsconf_problem(s);
        FUZZ_CHECK(!problem == nfsconf_ok(s), "nfsconf_problem and nfsconf_ok disagree");
        if (problem) {
                g_autofree char *shown = fuzz_show(problem);
                FUZZ_CHECK(problem[0] && g_utf8_validate(problem, -1, NULL) && !strchr(problem, '\n'),
                           "nfsconf_problem is not one line of UTF-8: %s", shown);
        }
}

static bool contains_ci(const char *text, size_t n, const char *word) {
        size_t w = strlen(word);
        for (size_t i = 0; i + w <= n; i++)
                if (g_ascii_strncasecmp(text + i, word, w) == 0)
                        return true;
        return false;
}

/* Every line of old that neither mentions "vers" nor continues a line ending in a backslash is a
 * line of new, in the same order (lines compared without their '\n'). */
static void check_lines_kept(const char *old, size_t old_len, const char *new, size_t new_len) {
        size_t j = 0;
        bool continues = false;
        for (size_t i = 0; i < old_len;) {
                const char *nl = memchr(old + i, '\n', old_len - i);
                size_t n = nl ? (size_t) (nl - (old + i)) : old_len - i;
                bool skip = continues || contains_ci(old + i, n, "vers");
                continues = n > 0 && old[i + n - 1] == '\\';
                if (!skip) {
                        bool found = false;
                        while (j <= new_len && !found) {
                                const char *nnl = j < new_len ? memchr(new + j, '\n', new_len - j) : NULL;
                                size_t m = nnl ? (size_t) (nnl - (new + j)) : new_len - j;
                                found = m == n && memcmp(new + j, old + i, n) == 0;
                                j += m + 1;
                        }
                        g_autofree char *line = g_strndup(old + i, n);
                        g_autofree char *shown = fuzz_show(line);
                        FUZZ_CHECK(found, "nfsconf_apply lost or moved the line %s", shown);
                }
                i += n + 1;
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const int apply_errnos[] = { -EINVAL, -EEXIST, 0 };
        g_autofree char *path = fuzz_scratch_path("nfs.conf");
        fuzz_write_file(path, data, size);
        size_t lines = fuzz_count_newlines((const char *) data, size) + 1;
        bool has_nul = size > 0 && memchr(data, '\0', size);

        NfsConfStatus s;
        g_autoptr(GError) error = NULL;
        int r = nfsconf_read(path, &s, &error);
        g_autofree char *read_message = error ? g_strdup(error->message) : NULL;
        FUZZ_CHECK(r == 0, "nfsconf_read failed on a file that exists: %s", read_message);
        fuzz_check_success("nfsconf_read", r, error);
        check_status(&s, path, lines);

        bool changed = true;
        r = nfsconf_apply(path, &changed, &error);
        if (r < 0) {
                fuzz_check_failure("nfsconf_apply", r, error, apply_errnos);
                FUZZ_CHECK((r == -EINVAL) == has_nul, "nfsconf_apply failed with %d (%s) on a file %s a NUL byte", r,
                           error->message, has_nul ? "with" : "without");
                if (r == -EEXIST) {
                        g_autofree char *shown = fuzz_show(error->message);
                        FUZZ_CHECK(contains_ci((const char *) data, size, "include"),
                                   "nfsconf_apply found an override in a file that includes nothing: %s", shown);
                }
                size_t now_len = 0;
                g_autofree char *now = fuzz_read_file(path, &now_len);
                FUZZ_CHECK(now_len == size && memcmp(now, data, size) == 0, "nfsconf_apply failed but changed the file");
                return 0;
        }
        fuzz_check_success("nfsconf_apply", r, error);
        FUZZ_CHECK(!has_nul, "nfsconf_apply edited a file with a NUL byte");

        size_t new_len = 0;
        g_autofree char *new = fuzz_read_file(path, &new_len);
        if (!changed)
                FUZZ_CHECK(new_len == size && memcmp(new, data, size) == 0, "nfsconf_apply said unchanged but changed it");
        else
                FUZZ_CHECK(!(new_len == size && memcmp(new, data, size) == 0),
                           "nfsconf_apply said changed but the content is the same");
        check_lines_kept((const char *) data, size, new, new_len);

        NfsConfStatus after;
        r = nfsconf_read(path, &after, &error);
        FUZZ_CHECK(r == 0, "nfsconf_read fails after nfsconf_apply: %s", error ? error->message : "?");
        g_autofree char *problem = nfsconf_problem(&after);
        g_autofree char *shown = fuzz_show(new);
        FUZZ_CHECK(nfsconf_ok(&after), "after nfsconf_apply: %s; file: %s", problem, shown);
        check_status(&after, path, fuzz_count_newlines(new, new_len) + 1);

        changed = true;
        r = nfsconf_apply(path, &changed, &error);
        FUZZ_CHECK(r == 0 && !changed, "nfsconf_apply is not idempotent: %d, changed %d: %s", r, changed,
                   error ? error->message : "");
        return 0;
}
