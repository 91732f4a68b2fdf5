/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nfsprovd's NFS-Ganesha exports, one file per share: see ganesha_store.h. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"
#include "error.h"
#include "ganesha_store.h"
#include "macro.h"

#define SUBDIRS 256
#define SUFFIX ".conf"
#define REMOVED_SUFFIX ".removed"
#define DIR_MODE 0755
#define CONFIG_MODE 0644

char *ganesha_store_dir(const char *config) {
        size_t n = strlen(config);
        if (g_str_has_suffix(config, SUFFIX))
                n -= strlen(SUFFIX);
        return g_strdup_printf("%.*s.d", (int) n, config);
}

/* FNV-1a, 32 bits: which subdirectory holds a path's file. */
static unsigned subdir_of(const char *path) {
        uint32_t h = 2166136261u;
        for (const unsigned char *p = (const unsigned char *) path; *p; p++)
                h = (h ^ *p) * 16777619u;
        return h & (SUBDIRS - 1);
}

int ganesha_store_file(const char *config, const char *path, char **ret, GError **error) {
        g_autoptr(GString) name = g_string_new(NULL);
        for (const char *p = path[0] == '/' ? path + 1 : path; *p; p++) {
                unsigned char ch = (unsigned char) *p;
                if (ch == '/')
                        g_string_append_c(name, '-');
                else if (g_ascii_isalnum(ch) || ch == '_' || (ch == '.' && name->len > 0))
                        g_string_append_c(name, (char) ch);
                else
                        g_string_append_printf(name, "%%%02X", ch);
        }
        g_string_append(name, SUFFIX);
        if (name->len > NAME_MAX)
                return np_fail(error, ENAMETOOLONG,
                               "%s: the name of its NFS-Ganesha file would be %zu bytes long, more than %d", path,
                               name->len, NAME_MAX);
        g_autofree char *dir = ganesha_store_dir(config);
        *ret = g_strdup_printf("%s/%02x/%s", dir, subdir_of(path), name->str);
        return 0;
}

static char *config_text(const char *config) {
        g_autofree char *dir = ganesha_store_dir(config);
        GString *s = g_string_new("# NFS-Ganesha exports of nfsprovd's shares (nfsprov.conf(5): [exports] ganesha_config):\n"
                                  "# one file a share below ");
        g_string_append_printf(s, "%s.\n# nfsprovd writes this file; edits are lost.\n", dir);
        for (unsigned i = 0; i < SUBDIRS; i++)
                g_string_append_printf(s, "%%dir \"%s/%02x/*" SUFFIX "\"\n", dir, i);
        return g_string_free(s, false);
}

static int make_dir(const char *path, GError **error) {
        if (mkdir(path, DIR_MODE) < 0 && errno != EEXIST)
                return np_fail(error, errno, "cannot make %s: %s", path, g_strerror(errno));
        struct stat st;
        if (lstat(path, &st) < 0)
                return np_fail(error, errno, "cannot stat %s: %s", path, g_strerror(errno));
        if (!S_ISDIR(st.st_mode))
                return np_fail(error, ENOTDIR, "%s is not a directory; nfsprovd keeps its NFS-Ganesha exports there",
                               path);
        return 0;
}

/* ---- setup, remembered ----
 * Every set and apply begins with setup: after one that found CONFIG as it writes it, the
 * file's identity and times are kept, and a later setup that stats the same is done. */
static struct {
        GMutex lock;
        char *config;
        struct stat st;
} done;

static bool same_stat(const struct stat *a, const struct stat *b) {
        return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
               a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
               a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

static bool setup_known(const char *config) {
        struct stat st;
        if (stat(config, &st) < 0)
                return false;
        g_mutex_lock(&done.lock);
        bool known = done.config && strcmp(done.config, config) == 0 && same_stat(&done.st, &st);
        g_mutex_unlock(&done.lock);
        return known;
}

static void setup_remember(const char *config) {
        struct stat st;
        if (stat(config, &st) < 0)
                return;
        g_mutex_lock(&done.lock);
        g_free(done.config);
        done.config = g_strdup(config);
        done.st = st;
        g_mutex_unlock(&done.lock);
}

int ganesha_store_setup(const char *config, GError **error) {
        if (setup_known(config))
                return 0;
        g_autofree char *want = config_text(config);
        g_autofree char *text = NULL;
        size_t len = 0;
        int r = atomic_file_read_optional(config, &text, &len, NULL, error);
        if (r < 0)
                return r;
        if (len == strlen(want) && memcmp(text, want, len) == 0) {
                setup_remember(config);
                return 0;
        }
        /* an older nfsprovd's CONFIG (or one whose %dir lines differ): its blocks must parse */
        g_autoptr(GaneshaFile) old = NULL;
        r = ganesha_file_parse(text, len, config, &old, error);
        if (r < 0)
                return r;
        g_autofree char *dir = ganesha_store_dir(config);
        r = make_dir(dir, error);
        for (unsigned i = 0; r >= 0 && i < SUBDIRS; i++) {
                g_autofree char *sub = g_strdup_printf("%s/%02x", dir, i);
                r = make_dir(sub, error);
        }
        for (guint i = 0; r >= 0 && i < old->exports->len; i++) {
                const GaneshaExport *x = g_ptr_array_index(old->exports, i);
                g_autoptr(GaneshaFile) one = ganesha_file_new();
                r = ganesha_file_set(one, x->id, x->path, g_strdup(x->block), NULL, error);
                if (r >= 0 && ganesha_file_pending(old, x->id))
                        g_array_append_val(one->pending, x->id);
                if (r >= 0)
                        r = ganesha_store_write_one(config, x->path, one, NULL, error);
        }
        if (r >= 0)
                r = atomic_file_replace(config, want, strlen(want), CONFIG_MODE, error);
        if (r < 0)
                return r;
        setup_remember(config);
        return 0;
}

/* ---- reading ---- */

/* NAME.removed beside NAME.conf: the removals of path still to apply. */
static char *removed_file(const char *conf_file) {
        return g_strdup_printf("%.*s" REMOVED_SUFFIX, (int) (strlen(conf_file) - strlen(SUFFIX)), conf_file);
}

int ganesha_store_read_one(const char *config, const char *path, GaneshaFile **ret, GError **error) {
        g_autofree char *file = NULL;
        int r = ganesha_store_file(config, path, &file, error);
        if (r < 0)
                return r;
        g_autoptr(GaneshaFile) f = NULL;
        r = ganesha_file_read(file, &f, error);
        if (r < 0)
                return r;
        if (f->exports->len > 1 ||
            (f->exports->len == 1 && strcmp(((GaneshaExport *) g_ptr_array_index(f->exports, 0))->path, path) != 0))
                return np_fail(error, EBADMSG, "%s: holds another export than %s's alone; nfsprovd writes this file",
                               file, path);
        g_autofree char *rfile = removed_file(file);
        g_autoptr(GaneshaFile) removed = NULL;
        r = ganesha_file_read(rfile, &removed, error);
        if (r < 0)
                return r;
        if (removed->exports->len)
                return np_fail(error, EBADMSG, "%s: holds an export; nfsprovd writes only removed Export_Ids there", rfile);
        for (guint i = 0; i < removed->removed->len; i++) {
                unsigned id = g_array_index(removed->removed, unsigned, i);
                if (f->exports->len == 1 && ((GaneshaExport *) g_ptr_array_index(f->exports, 0))->id == id) {
                        if (!ganesha_file_pending(f, id)) /* served again: an update */
                                g_array_append_val(f->pending, id);
                } else
                        g_array_append_val(f->removed, id);
        }
        *ret = TAKE_PTR(f);
        return 0;
}

/* Each per-share file below CONFIG.d, *.conf (what Ganesha's %dir reads) and *.removed, not the
 * dot files (temporary ones), in the order of the subdirectories: visit(path of the file, its
 * name, userdata). */
typedef int (*VisitFile)(const char *file, const char *name, void *userdata, GError **error);

static int visit_files(const char *config, VisitFile visit, void *userdata, GError **error) {
        g_autofree char *dir = ganesha_store_dir(config);
        for (unsigned i = 0; i < SUBDIRS; i++) {
                g_autofree char *sub = g_strdup_printf("%s/%02x", dir, i);
                _cleanup_closedir_ DIR *d = opendir(sub);
                if (!d) {
                        if (errno == ENOENT)
                                continue;
                        return np_fail(error, errno, "cannot read %s: %s", sub, g_strerror(errno));
                }
                struct dirent *de;
                while ((errno = 0, de = readdir(d))) {
                        if (de->d_name[0] == '.' ||
                            !(g_str_has_suffix(de->d_name, SUFFIX) || g_str_has_suffix(de->d_name, REMOVED_SUFFIX)))
                                continue;
                        g_autofree char *file = g_strdup_printf("%s/%s", sub, de->d_name);
                        int r = visit(file, de->d_name, userdata, error);
                        if (r < 0)
                                return r;
                }
                if (errno != 0)
                        return np_fail(error, errno, "cannot read %s: %s", sub, g_strerror(errno));
        }
        return 0;
}

/* The path whose file is called name (ganesha_store_file's escaping undone, either suffix), or
 * NULL when name is not one nfsprovd gives a file of its in dir. */
static char *path_of_name(const char *config, const char *file, const char *name) {
        size_t n = strlen(name) - (g_str_has_suffix(name, SUFFIX) ? strlen(SUFFIX) : strlen(REMOVED_SUFFIX));
        g_autoptr(GString) p = g_string_new("/");
        for (size_t i = 0; i < n; i++) {
                if (name[i] == '-')
                        g_string_append_c(p, '/');
                else if (name[i] == '%' && i + 2 < n && g_ascii_isxdigit(name[i + 1]) && g_ascii_isxdigit(name[i + 2])) {
                        g_string_append_c(p, (char) (g_ascii_xdigit_value(name[i + 1]) * 16 + g_ascii_xdigit_value(name[i + 2])));
                        i += 2;
                } else
                        g_string_append_c(p, name[i]);
        }
        g_autofree char *again = NULL;
        if (ganesha_store_file(config, p->str, &again, NULL) < 0)
                return NULL;
        g_autofree char *again_removed = removed_file(again);
        if (strcmp(again, file) != 0 && strcmp(again_removed, file) != 0)
                return NULL;
        return g_string_free(g_steal_pointer(&p), false);
}

typedef struct ReadAll {
        const char *config;
        GaneshaFile *all;   /* exports in the order met, sorted at the end */
        GHashTable *paths;  /* path -> GaneshaExport* of all */
        GHashTable *ids;    /* Export_Ids of all */
        GPtrArray *noted;   /* paths with a NAME.removed */
} ReadAll;

static void add_export(ReadAll *ra, const GaneshaExport *x, bool pending) {
        GaneshaExport *y = g_new0(GaneshaExport, 1);
        y->id = x->id;
        y->path = g_strdup(x->path);
        y->block = g_strdup(x->block);
        g_ptr_array_add(ra->all->exports, y);
        g_hash_table_insert(ra->paths, y->path, y);
        g_hash_table_add(ra->ids, GUINT_TO_POINTER(y->id));
        if (pending)
                g_array_append_val(ra->all->pending, y->id);
}

static int read_file(const char *file, const char *name, void *userdata, GError **error) {
        ReadAll *ra = userdata;
        if (g_str_has_suffix(name, REMOVED_SUFFIX)) {
                char *path = path_of_name(ra->config, file, name);
                if (!path)
                        return np_fail(error, EBADMSG, "%s: not a name nfsprovd gives its files", file);
                g_ptr_array_add(ra->noted, path);
                return 0;
        }
        g_autoptr(GaneshaFile) f = NULL;
        int r = ganesha_file_read(file, &f, error);
        if (r < 0)
                return r;
        if (f->exports->len == 0)
                return 0;
        if (f->exports->len > 1)
                return np_fail(error, EBADMSG, "%s: holds %u exports; nfsprovd writes one a file", file, f->exports->len);
        const GaneshaExport *x = g_ptr_array_index(f->exports, 0);
        g_autofree char *expected = NULL;
        if (ganesha_store_file(ra->config, x->path, &expected, NULL) < 0 || strcmp(expected, file) != 0)
                return np_fail(error, EBADMSG, "%s: the export of %s belongs in %s; nfsprovd writes these files", file,
                               x->path, expected ? expected : "a file of its own");
        GaneshaExport *had = g_hash_table_lookup(ra->paths, x->path);
        if (had && had->id == x->id) {
                /* the same export in an older CONFIG not yet rewritten: its file wins */
                g_hash_table_remove(ra->paths, x->path);
                for (guint k = ra->all->pending->len; k-- > 0;)
                        if (g_array_index(ra->all->pending, unsigned, k) == x->id)
                                g_array_remove_index(ra->all->pending, k);
                g_ptr_array_remove_fast(ra->all->exports, had);
        } else if (had || g_hash_table_contains(ra->ids, GUINT_TO_POINTER(x->id)))
                return np_fail(error, EBADMSG, "%s: a second export of %s or of Export_Id %u", file, x->path, x->id);
        add_export(ra, x, ganesha_file_pending(f, x->id));
        return 0;
}

static gint compare_strings(gconstpointer a, gconstpointer b) {
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

int ganesha_store_read(const char *config, GaneshaFile **ret, GPtrArray **ret_noted, GError **error) {
        g_autoptr(GaneshaFile) old = NULL;
        int r = ganesha_file_read(config, &old, error); /* an older CONFIG's blocks, if any */
        if (r < 0)
                return r;
        g_autoptr(GaneshaFile) all = ganesha_file_new();
        g_autoptr(GHashTable) paths = g_hash_table_new(g_str_hash, g_str_equal);
        g_autoptr(GHashTable) ids = g_hash_table_new(g_direct_hash, g_direct_equal);
        g_autoptr(GPtrArray) noted = g_ptr_array_new_with_free_func(g_free);
        ReadAll ra = { .config = config, .all = all, .paths = paths, .ids = ids, .noted = noted };
        for (guint i = 0; i < old->exports->len; i++) {
                const GaneshaExport *x = g_ptr_array_index(old->exports, i);
                add_export(&ra, x, ganesha_file_pending(old, x->id));
        }
        r = visit_files(config, read_file, &ra, error);
        if (r < 0)
                return r;
        ganesha_file_sort(all);
        g_ptr_array_sort(noted, compare_strings);
        *ret = TAKE_PTR(all);
        if (ret_noted)
                *ret_noted = TAKE_PTR(noted);
        return 0;
}

typedef struct ListPaths {
        const char *config;
        GPtrArray *paths;
} ListPaths;

static int list_file(const char *file, const char *name, void *userdata, GError **error) {
        (void) error;
        ListPaths *lp = userdata;
        if (!g_str_has_suffix(name, SUFFIX))
                return 0;
        char *path = path_of_name(lp->config, file, name); /* only the names nfsprovd gives */
        if (path)
                g_ptr_array_add(lp->paths, path);
        return 0;
}

int ganesha_store_paths(const char *config, GPtrArray **ret, GError **error) {
        g_autoptr(GaneshaFile) old = NULL;
        int r = ganesha_file_read(config, &old, error); /* an older CONFIG's blocks, if any */
        if (r < 0)
                return r;
        g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func(g_free);
        ListPaths lp = { .config = config, .paths = paths };
        r = visit_files(config, list_file, &lp, error);
        if (r < 0)
                return r;
        for (guint i = 0; i < old->exports->len; i++) {
                const char *p = ((GaneshaExport *) g_ptr_array_index(old->exports, i))->path;
                if (!g_ptr_array_find_with_equal_func(paths, p, g_str_equal, NULL))
                        g_ptr_array_add(paths, g_strdup(p));
        }
        g_ptr_array_sort(paths, compare_strings);
        *ret = TAKE_PTR(paths);
        return 0;
}

/* ---- writing ---- */

int ganesha_store_write_one(const char *config, const char *path, const GaneshaFile *f, bool *ret_changed,
                            GError **error) {
        g_autofree char *file = NULL;
        int r = ganesha_store_file(config, path, &file, error);
        if (r < 0)
                return r;
        g_autofree char *rfile = removed_file(file);
        g_autofree char *dir = ganesha_store_dir(config);
        g_autofree char *sub = g_path_get_dirname(file);
        bool changed = false, c = false;
        /* the removals first: once the export's file is gone, they are all that says so */
        if (f->removed->len) {
                g_autoptr(GaneshaFile) notes = ganesha_file_new();
                g_array_append_vals(notes->removed, f->removed->data, f->removed->len);
                r = make_dir(dir, error);
                if (r >= 0)
                        r = make_dir(sub, error);
                if (r >= 0)
                        r = ganesha_file_write(rfile, notes, &c, error);
                if (r < 0)
                        return r;
                changed |= c;
        }
        if (f->exports->len) {
                g_autoptr(GaneshaFile) block = ganesha_file_new();
                const GaneshaExport *x = g_ptr_array_index(f->exports, 0);
                r = make_dir(dir, error);
                if (r >= 0)
                        r = make_dir(sub, error);
                if (r >= 0)
                        r = ganesha_file_set(block, x->id, x->path, g_strdup(x->block), NULL, error);
                if (r >= 0 && ganesha_file_pending(f, x->id))
                        g_array_append_val(block->pending, x->id);
                if (r >= 0)
                        r = ganesha_file_write(file, block, &c, error);
        } else
                r = atomic_file_remove(file, &c, error);
        if (r < 0)
                return r;
        changed |= c;
        if (!f->removed->len) {
                r = atomic_file_remove(rfile, &c, error);
                if (r < 0)
                        return r;
                changed |= c;
        }
        if (ret_changed)
                *ret_changed = changed;
        return 0;
}
