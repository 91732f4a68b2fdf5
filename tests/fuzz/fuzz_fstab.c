/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target for nfsprov's /etc/fstab editing (server/fstab.h). Each input is an fstab
 * file; for one of two shares (a plain mount point, and one with a blank that libmount escapes;
 * inputs of even length take the first) the file is written to the scratch directory and put
 * through find, set, set again, remove, find:
 * - every failure is one of the documented errnos with one line of UTF-8, and leaves the file as
 *   it was; a file libmount cannot parse is refused (-EBADMSG) by find, set and remove alike;
 * - set: fails only with -EEXIST (another entry for the mount point or the uuid) or -EBADMSG;
 *   it writes nothing when the entry is there already, else it appends exactly one line (after
 *   a newline when the file lacked a final one) and keeps every byte before it; then find gives
 *   UUID=<uuid>, and a second set changes nothing;
 * - remove (of the share's own entries, source UUID=<uuid>): drops whole lines only, and
 *   afterwards find says -ENOENT or names another source (the admin's entries stay); when the
 *   input had no entry for the mount point, after set and remove the file holds what it held
 *   before (plus the final newline set may have added).
 * Leaks and memory errors are found by the sanitizers this is built with.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "fstab.h"
#include "fuzz_common.h"

const char fuzz_target_name[] = "fuzz_fstab";

static const struct {
        const char *target;
        const char *uuid;
} shares[] = {
        { "/home/NFS/NFSStorage_01", "6b229839-f029-46aa-be63-051ae41aaa61" },
        { "/srv/nfs share/x", "0b3c7d4e-1f2a-4c5b-9d6e-7f8091a2b3c4" },
};

static void check_unchanged(const char *what, const char *path, const char *before, size_t before_len) {
        size_t n = 0;
        g_autofree char *now = fuzz_read_file(path, &n);
        FUZZ_CHECK(n == before_len && memcmp(now, before, n) == 0, "%s changed the file", what);
}

/* Every line of `after` is a line of `before`, in the same order (lines with their '\n'). */
static void check_whole_lines_dropped(const char *before, size_t before_len, const char *after, size_t after_len) {
        size_t i = 0;
        for (size_t j = 0; j < after_len;) {
                const char *nl = memchr(after + j, '\n', after_len - j);
                size_t m = nl ? (size_t) (nl - (after + j)) + 1 : after_len - j;
                bool found = false;
                while (i < before_len && !found) {
                        const char *bnl = memchr(before + i, '\n', before_len - i);
                        size_t n = bnl ? (size_t) (bnl - (before + i)) + 1 : before_len - i;
                        found = n == m && memcmp(before + i, after + j, m) == 0;
                        i += n;
                }
                g_autofree char *line = g_strndup(after + j, m);
                g_autofree char *shown = fuzz_show(line);
                FUZZ_CHECK(found, "fstab_remove left a line that was not there, or moved it: %s", shown);
                j += m;
        }
}

/* Whether an fstab source names the filesystem uuid as libmount reads a tag: UUID=VALUE, the
 * tag name in capitals (libmount's mnt_valid_tagname compares it case-sensitively: uUID=... is a
 * path), the value in any case, quoted as a whole or not ("..." or '...'); a quote anywhere else
 * is part of the value (so UUID=0b3c...7f'8091... is another uuid). */
static bool is_share_source(const char *source, const char *uuid) {
        if (strncmp(source, "UUID=", 5) != 0)
                return false;
        const char *v = source + 5;
        size_t n = strlen(v);
        if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
                v++;
                n -= 2;
        }
        return n == strlen(uuid) && g_ascii_strncasecmp(v, uuid, n) == 0;
}

static void run_share(const char *path, const uint8_t *data, size_t size, const char *target, const char *uuid) {
        static const int find_errnos[] = { -ENOENT, -EBADMSG, 0 };
        static const int set_errnos[] = { -EEXIST, -EBADMSG, 0 };
        static const int remove_errnos[] = { -EBADMSG, 0 };
        const char *input = (const char *) data;
        fuzz_write_file(path, data, size);

        /* find */
        char *const sentinel = (char *) (uintptr_t) 0x1;
        char *src = sentinel;
        g_autoptr(GError) error = NULL;
        int r_find = fstab_find(path, target, &src, &error);
        if (r_find < 0) {
                fuzz_check_failure("fstab_find", r_find, error, find_errnos);
                FUZZ_CHECK(src == sentinel, "fstab_find failed but set *ret_source");
        } else {
                fuzz_check_success("fstab_find", r_find, error);
                FUZZ_CHECK(src && src != sentinel, "fstab_find succeeded without a source");
                g_free(src);
        }
        check_unchanged("fstab_find", path, input, size);
        bool bad = r_find == -EBADMSG;

        /* set */
        g_clear_error(&error);
        int r = fstab_set(path, uuid, target, &error);
        if (r < 0) {
                fuzz_check_failure("fstab_set", r, error, set_errnos);
                FUZZ_CHECK((r == -EBADMSG) == bad, "fstab_set failed with %d, fstab_find with %d", r, r_find);
                check_unchanged("fstab_set (failed)", path, input, size);
        } else {
                fuzz_check_success("fstab_set", r, error);
                FUZZ_CHECK(!bad, "fstab_set edited a file fstab_find cannot parse");
                size_t n = 0;
                g_autofree char *now = fuzz_read_file(path, &n);
                bool same = n == size && memcmp(now, input, size) == 0;
                if (same)
                        FUZZ_CHECK(r_find == 0, "fstab_set added nothing, but there was no entry for %s", target);
                else {
                        bool nl = size > 0 && input[size - 1] != '\n';
                        size_t keep = size + nl;
                        g_autofree char *shown = fuzz_show(now);
                        FUZZ_CHECK(n > keep && memcmp(now, input, size) == 0 && (!nl || now[size] == '\n'),
                                   "fstab_set changed the bytes before its line: %s", shown);
                        const char *line = now + keep;
                        size_t line_len = n - keep;
                        FUZZ_CHECK(line[line_len - 1] == '\n' && memchr(line, '\n', line_len) == line + line_len - 1,
                                   "fstab_set did not append exactly one line: %s", shown);
                        g_autofree char *want = g_strdup_printf("UUID=%s ", uuid);
                        FUZZ_CHECK(g_str_has_prefix(line, want), "fstab_set appended another line: %s", shown);
                }

                src = NULL;
                g_clear_error(&error);
                r = fstab_find(path, target, &src, &error);
                g_autofree char *found = src;
                FUZZ_CHECK(r == 0, "after fstab_set, fstab_find says %d: %s", r, error ? error->message : "");
                if (!same) {
                        g_autofree char *want = g_strdup_printf("UUID=%s", uuid);
                        FUZZ_CHECK(strcmp(found, want) == 0, "after fstab_set, the source is %s", found);
                }

                g_clear_error(&error);
                r = fstab_set(path, uuid, target, &error);
                FUZZ_CHECK(r == 0, "a second fstab_set fails: %s", error ? error->message : "");
                check_unchanged("a second fstab_set", path, now, n);
        }

        /* remove */
        size_t before_len = 0;
        g_autofree char *before = fuzz_read_file(path, &before_len);
        g_clear_error(&error);
        r = fstab_remove(path, uuid, target, &error);
        if (r < 0) {
                fuzz_check_failure("fstab_remove", r, error, remove_errnos);
                FUZZ_CHECK(bad, "fstab_remove failed on a file fstab_find can parse: %s", error->message);
                check_unchanged("fstab_remove (failed)", path, input, size);
                return;
        }
        fuzz_check_success("fstab_remove", r, error);
        FUZZ_CHECK(!bad, "fstab_remove edited a file fstab_find cannot parse");
        size_t after_len = 0;
        g_autofree char *after = fuzz_read_file(path, &after_len);
        check_whole_lines_dropped(before, before_len, after, after_len);
        if (r_find == -ENOENT) {
                /* Nothing of the input was for target: all that changed is the added final newline. */
                bool nl = size > 0 && input[size - 1] != '\n' && after_len == size + 1;
                FUZZ_CHECK(after_len == size + nl && memcmp(after, input, size) == 0,
                           "fstab_set then fstab_remove did not give back the file");
        }

        /* What is left for target is not the share's own entry: the admin's entries stay. */
        src = sentinel;
        g_clear_error(&error);
        r = fstab_find(path, target, &src, &error);
        if (r == 0) {
                g_autofree char *left = src;
                FUZZ_CHECK(!is_share_source(left, uuid), "after fstab_remove, %s is still mounted from %s", target, left);
        } else
                FUZZ_CHECK(r == -ENOENT && src == sentinel, "after fstab_remove, fstab_find says %d", r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        g_autofree char *path = fuzz_scratch_path("fstab");
        /* One share per input, so that each run costs half as many file operations. */
        size_t i = size % G_N_ELEMENTS(shares);
        run_share(path, data, size, shares[i].target, shares[i].uuid);
        return 0;
}
