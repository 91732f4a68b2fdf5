/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <libmount.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "atomic_file.h"
#include "error.h"
#include "fdio.h"
#include "fstab.h"
#include "macro.h"
#include "show.h"

#define FSTAB_TYPE "ext4"
#define FSTAB_OPTIONS "defaults,nofail"
#define FSTAB_FREQ 0
#define FSTAB_PASSNO 2

/* The file as lines of bytes and, beside them, libmount's reading of its entries. */
typedef struct Fstab {
        char *path;
        GPtrArray *lines;         /* char*: each line's bytes with its '\n' (the last may lack it);
                                   * NULL for a line an edit dropped */
        struct libmnt_table *tb;  /* the entries; each fs's userdata is its line number (1-based) */
} Fstab;

static void fstab_free(Fstab *f) {
        if (!f)
                return;
        g_free(f->path);
        if (f->lines)
                g_ptr_array_unref(f->lines);
        mnt_unref_table(f->tb);
        g_free(f);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Fstab, fstab_free)

static void mnt_unref_tablep(struct libmnt_table **t) {
        mnt_unref_table(*t);
}

static void mnt_free_iterp(struct libmnt_iter **it) {
        mnt_free_iter(*it);
}

static void mnt_unref_fsp(struct libmnt_fs **fs) {
        mnt_unref_fs(*fs);
}

static guint fs_line(struct libmnt_fs *fs) {
        return GPOINTER_TO_UINT(mnt_fs_get_userdata(fs));
}

/* mnt_table_set_parser_errcb: remember the line, skip it, go on (so all bad lines are known). */
static int on_parse_error(struct libmnt_table *tb, const char *filename, int line) {
        GArray *bad = mnt_table_get_userdata(tb);
        guint l = (guint) line;
        g_array_append_val(bad, l);
        return 1;
}

/* Whether libmount skips this line as blank or comment: after the line end ("\n", one "\r")
 * and leading blanks are gone, nothing is left or it starts with '#' (tab_parse.c). */
static bool is_blank_or_comment(const char *line) {
        const char *p = line;
        while (*p == ' ' || *p == '\t')
                p++;
        return *p == '\0' || *p == '#' || *p == '\n' || (p[0] == '\r' && (p[1] == '\n' || p[1] == '\0'));
}

/* Parse exactly these bytes with mnt_table_parse_fstab(). It takes a path, so the bytes go
 * through a memfd: libmount then reads what was read here, even if the file changes meanwhile,
 * and parses it as fstab (mnt_table_parse_stream() would guess the format from the first line). */
static int parse_bytes(const char *path, const char *data, size_t len, struct libmnt_table *tb, GError **error) {
        if (len == 0)
                return 0;
        _cleanup_close_ int fd = memfd_create("nfsprov-fstab", MFD_CLOEXEC);
        if (fd < 0) {
                int e = errno;
                return np_fail(error, e, "%s: cannot parse: memfd_create failed: %s", path, g_strerror(e));
        }
        int r = fd_write_all(fd, data, len);
        if (r < 0)
                return np_fail(error, -r, "%s: cannot parse: writing to a memfd failed: %s", path, g_strerror(-r));
        g_autofree char *fdpath = g_strdup_printf("/proc/self/fd/%d", fd);
        r = mnt_table_parse_fstab(tb, fdpath);
        if (r < 0)
                return np_fail(error, -r, "%s: libmount cannot parse it: %s", path, g_strerror(-r));
        return 0;
}

static int bad_lines_error(const Fstab *f, GArray *bad, GError **error) {
        guint first = g_array_index(bad, guint, 0);
        g_autofree char *raw = g_strdup(first <= f->lines->len ? g_ptr_array_index(f->lines, first - 1) : "");
        g_autofree char *text = show_text_max(g_strstrip(raw), 77);
        g_autoptr(GString) others = g_string_new(NULL);
        for (guint i = 1; i < bad->len; i++)
                g_string_append_printf(others, "%s%u", i == 1 ? "; lines that cannot be parsed either: " : ", ",
                                       g_array_index(bad, guint, i));
        return np_fail(error, EBADMSG,
                       "%s:%u: cannot parse \"%s\" as an fstab entry (SOURCE TARGET TYPE [OPTIONS [DUMP [PASS]]]); "
                       "fix or comment out the line%s",
                       f->path, first, text, others->str);
}

/* Read path (a missing file reads as empty) into lines and entries, each entry tied to its line.
 * -EBADMSG when a line cannot be parsed. */
static int fstab_load(const char *path, Fstab **ret, GError **error) {
        g_autoptr(Fstab) f = g_new0(Fstab, 1);
        f->path = g_strdup(path);
        f->lines = g_ptr_array_new_with_free_func(g_free);

        g_autofree char *data = NULL;
        size_t len = 0;
        g_autoptr(GError) e = NULL;
        int r = atomic_file_read_optional(path, &data, &len, NULL, &e);
        if (r < 0)
                return np_fail(error, -r, "%s", e->message);
        if (memchr(data, '\0', len))
                return np_fail(error, EBADMSG, "%s: holds a NUL byte; this is not an fstab text file", path);

        for (const char *p = data; p < data + len;) {
                const char *nl = memchr(p, '\n', (size_t) (data + len - p));
                const char *end = nl ? nl + 1 : data + len;
                g_ptr_array_add(f->lines, g_strndup(p, (gsize) (end - p)));
                p = end;
        }

        g_autoptr(GArray) bad = g_array_new(FALSE, FALSE, sizeof(guint));
        f->tb = mnt_new_table();
        if (!f->tb)
                return np_fail(error, ENOMEM, "%s: cannot allocate a libmount table", path);
        mnt_table_set_userdata(f->tb, bad);
        mnt_table_set_parser_errcb(f->tb, on_parse_error);
        r = parse_bytes(path, data, len, f->tb, error);
        mnt_table_set_parser_errcb(f->tb, NULL);
        mnt_table_set_userdata(f->tb, NULL);
        if (r < 0)
                return r;
        if (bad->len > 0)
                return bad_lines_error(f, bad, error);

        /* The entries come in line order, one per line that is neither blank nor a comment. */
        struct libmnt_iter *it = mnt_new_iter(MNT_ITER_FORWARD);
        if (!it)
                return np_fail(error, ENOMEM, "%s: cannot allocate a libmount iterator", path);
        struct libmnt_fs *fs = NULL;
        bool mismatch = false;
        for (guint i = 0; i < f->lines->len && !mismatch; i++) {
                if (is_blank_or_comment(g_ptr_array_index(f->lines, i)))
                        continue;
                if (mnt_table_next_fs(f->tb, it, &fs) != 0)
                        mismatch = true;
                else
                        mnt_fs_set_userdata(fs, GUINT_TO_POINTER(i + 1));
        }
        if (!mismatch && mnt_table_next_fs(f->tb, it, &fs) == 0)
                mismatch = true;
        mnt_free_iter(it);
        if (mismatch)
                return np_fail(error, EBADMSG, "%s: libmount's entries do not match the file's lines; not editing it",
                               path);

        *ret = TAKE_PTR(f);
        return 0;
}

static int fstab_save(const Fstab *f, GError **error) {
        g_autoptr(GString) s = g_string_new(NULL);
        for (guint i = 0; i < f->lines->len; i++) {
                const char *l = g_ptr_array_index(f->lines, i);
                if (l)
                        g_string_append(s, l);
        }
        return atomic_file_replace(f->path, s->str, s->len, 0644, error);
}

static bool fs_has_uuid(struct libmnt_fs *fs, const char *uuid) {
        const char *name = NULL, *value = NULL;
        return mnt_fs_get_tag(fs, &name, &value) == 0 && strcmp(name, "UUID") == 0 &&
               g_ascii_strcasecmp(value, uuid) == 0;
}

/* nfsprov's line for (uuid, target), written by libmount; *ret_fs is the same entry, to add
 * to the file's table. */
static int render_entry(const char *path, const char *uuid, const char *target, char **ret_line,
                        struct libmnt_fs **ret_fs, GError **error) {
        _cleanup_(mnt_unref_fsp) struct libmnt_fs *fs = mnt_new_fs();
        _cleanup_(mnt_unref_tablep) struct libmnt_table *one = mnt_new_table();
        g_autofree char *source = g_strdup_printf("UUID=%s", uuid);
        if (!fs || !one || mnt_fs_set_source(fs, source) < 0 || mnt_fs_set_target(fs, target) < 0 ||
            mnt_fs_set_fstype(fs, FSTAB_TYPE) < 0 || mnt_fs_set_options(fs, FSTAB_OPTIONS) < 0 ||
            mnt_fs_set_freq(fs, FSTAB_FREQ) < 0 || mnt_fs_set_passno(fs, FSTAB_PASSNO) < 0 ||
            mnt_table_add_fs(one, fs) < 0)
                return np_fail(error, ENOMEM, "%s: cannot build the entry for %s", path, target);

        char *buf = NULL;
        size_t size = 0;
        FILE *m = open_memstream(&buf, &size);
        if (!m) {
                int e = errno;
                return np_fail(error, e, "%s: open_memstream failed: %s", path, g_strerror(e));
        }
        int r = mnt_table_write_file(one, m);
        if (fclose(m) != 0 && r == 0)
                r = -errno;
        g_autofree char *line = g_strndup(buf, size);
        free(buf);
        if (r < 0)
                return np_fail(error, -r, "%s: cannot render the entry for %s: %s", path, target, g_strerror(-r));
        if (!g_str_has_suffix(line, "\n") || strchr(line, '\n') != line + strlen(line) - 1)
                return np_fail(error, EINVAL, "%s: the entry for %s does not fit on one line", path, target);

        (void) mnt_table_remove_fs(one, fs);
        *ret_line = TAKE_PTR(line);
        *ret_fs = TAKE_PTR(fs);
        return 0;
}

static int check_target(const char *path, const char *target, GError **error) {
        if (!target || !g_path_is_absolute(target) || strchr(target, '\n'))
                return np_fail(error, EINVAL,
                               "%s: invalid mount point \"%s\"; it must be an absolute path without newlines", path,
                               target ? target : "");
        return 0;
}

/* Check the uuid and target, and load the file: what fstab_set() and fstab_remove() start with. */
static int load_for_edit(const char *fstab_path, const char *fs_uuid, const char *target, Fstab **ret,
                         GError **error) {
        if (!fs_uuid || !g_uuid_string_is_valid(fs_uuid))
                return np_fail(error, EINVAL,
                               "%s: invalid filesystem uuid \"%s\"; use the 8-4-4-4-12 hex form "
                               "(e.g. 0b3c7d4e-1f2a-4c5b-9d6e-7f8091a2b3c4)",
                               fstab_path, fs_uuid ? fs_uuid : "");
        int r = check_target(fstab_path, target, error);
        if (r < 0)
                return r;
        return fstab_load(fstab_path, ret, error);
}

int fstab_set(const char *fstab_path, const char *fs_uuid, const char *target, GError **error) {
        g_return_val_if_fail(fstab_path, -EINVAL);
        g_autoptr(Fstab) f = NULL;
        int r = load_for_edit(fstab_path, fs_uuid, target, &f, error);
        if (r < 0)
                return r;

        bool present = false;
        struct libmnt_iter *it = mnt_new_iter(MNT_ITER_FORWARD);
        if (!it)
                return np_fail(error, ENOMEM, "%s: cannot allocate a libmount iterator", fstab_path);
        struct libmnt_fs *fs = NULL;
        while (mnt_table_next_fs(f->tb, it, &fs) == 0) {
                bool same_target = mnt_fs_streq_target(fs, target);
                bool same_uuid = fs_has_uuid(fs, fs_uuid);
                if (same_target && same_uuid) {
                        present = true;
                        continue;
                }
                if (same_target || same_uuid) {
                        g_autofree char *src = show_text(mnt_fs_get_source(fs) ?: "(no source)");
                        g_autofree char *tgt = show_text(mnt_fs_get_target(fs) ?: "(no target)");
                        r = same_target
                                    ? np_fail(error, EEXIST,
                                              "%s:%u: %s already has an entry, for %s; refusing to replace it "
                                              "(remove or change that line first)",
                                              fstab_path, fs_line(fs), target, src)
                                    : np_fail(error, EEXIST,
                                              "%s:%u: UUID=%s is already mounted on %s by this entry; it cannot "
                                              "also be mounted on %s",
                                              fstab_path, fs_line(fs), fs_uuid, tgt, target);
                        mnt_free_iter(it);
                        return r;
                }
        }
        mnt_free_iter(it);
        if (present)
                return 0;

        g_autofree char *line = NULL;
        _cleanup_(mnt_unref_fsp) struct libmnt_fs *nfs = NULL;
        r = render_entry(fstab_path, fs_uuid, target, &line, &nfs, error);
        if (r < 0)
                return r;

        if (f->lines->len > 0) {
                char **last = (char **) &g_ptr_array_index(f->lines, f->lines->len - 1);
                if (!g_str_has_suffix(*last, "\n")) {
                        char *terminated = g_strconcat(*last, "\n", NULL);
                        g_free(*last);
                        *last = terminated;
                }
        }
        g_ptr_array_add(f->lines, TAKE_PTR(line));
        mnt_fs_set_userdata(nfs, GUINT_TO_POINTER(f->lines->len));
        r = mnt_table_add_fs(f->tb, nfs);
        if (r < 0)
                return np_fail(error, -r, "%s: cannot add the entry for %s: %s", fstab_path, target, g_strerror(-r));
        return fstab_save(f, error);
}

int fstab_remove(const char *fstab_path, const char *fs_uuid, const char *target, GError **error) {
        g_return_val_if_fail(fstab_path, -EINVAL);
        g_autoptr(Fstab) f = NULL;
        int r = load_for_edit(fstab_path, fs_uuid, target, &f, error);
        if (r < 0)
                return r;

        /* Collect first: the table is edited while walking it. */
        g_autoptr(GPtrArray) ours = g_ptr_array_new();
        _cleanup_(mnt_free_iterp) struct libmnt_iter *it = mnt_new_iter(MNT_ITER_FORWARD);
        if (!it)
                return np_fail(error, ENOMEM, "%s: out of memory", fstab_path);
        struct libmnt_fs *fs;
        while (mnt_table_next_fs(f->tb, it, &fs) == 0)
                if (mnt_fs_match_target(fs, target, NULL) && fs_has_uuid(fs, fs_uuid))
                        g_ptr_array_add(ours, fs);
        for (guint i = 0; i < ours->len; i++) {
                fs = g_ptr_array_index(ours, i);
                guint line = fs_line(fs);
                g_assert(line >= 1 && line <= f->lines->len);
                g_clear_pointer(&g_ptr_array_index(f->lines, line - 1), g_free);
                r = mnt_table_remove_fs(f->tb, fs);
                if (r < 0)
                        return np_fail(error, -r, "%s:%u: cannot drop the entry: %s", fstab_path, line,
                                       g_strerror(-r));
        }
        if (ours->len == 0)
                return 0;
        return fstab_save(f, error);
}

int fstab_find(const char *fstab_path, const char *target, char **ret_source, GError **error) {
        g_return_val_if_fail(fstab_path, -EINVAL);
        int r = check_target(fstab_path, target, error);
        if (r < 0)
                return r;

        g_autoptr(Fstab) f = NULL;
        r = fstab_load(fstab_path, &f, error);
        if (r < 0)
                return r;

        struct libmnt_fs *fs = mnt_table_find_target(f->tb, target, MNT_ITER_FORWARD);
        if (!fs)
                return np_fail(error, ENOENT, "%s: no entry for %s", fstab_path, target);
        const char *src = mnt_fs_get_source(fs);
        if (ret_source)
                *ret_source = g_strdup(src ? src : "");
        return 0;
}
