/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The NFS-Ganesha file of nfsprovd's shares: see ganesha_file.h. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "atomic_file.h"
#include "error.h"
#include "exports_client.h"
#include "ganesha_file.h"
#include "macro.h"
#include "show.h"

#define HEADER                                                                                  \
        "# NFS-Ganesha exports of nfsprovd's shares (nfsprov.conf(5): [exports] ganesha_config).\n" \
        "# nfsprovd rewrites this file whole; edits are lost.\n"
#define PENDING_PREFIX "# nfsprov: update pending"
#define REMOVED_PREFIX "# nfsprov: removed"
#define ID_LINE "\tExport_Id = "
#define PATH_LINE "\tPath = \""
#define BLOCK_START "EXPORT {"
#define BLOCK_END "}"
#define DIR_PREFIX "%dir \""
#define FILE_MODE 0644

static void export_free(GaneshaExport *x) {
        if (!x)
                return;
        g_free(x->path);
        g_free(x->block);
        g_free(x);
}

GaneshaFile *ganesha_file_new(void) {
        GaneshaFile *f = g_new0(GaneshaFile, 1);
        f->exports = g_ptr_array_new_with_free_func((GDestroyNotify) export_free);
        f->pending = g_array_new(false, false, sizeof(unsigned));
        f->removed = g_array_new(false, false, sizeof(unsigned));
        return f;
}

void ganesha_file_free(GaneshaFile *f) {
        if (!f)
                return;
        g_ptr_array_unref(f->exports);
        g_array_unref(f->pending);
        g_array_unref(f->removed);
        g_free(f);
}

/* ---- one block ---- */

/* A path as a quoted Ganesha string: absolute, and nothing a quoted string cannot hold as it is. */
static int check_path(const char *path, GError **error) {
        if (!path || path[0] != '/')
                return np_fail(error, EINVAL, "export path \"%s\" is not absolute", path ? path : "");
        for (const char *p = path; *p; p++)
                if ((unsigned char) *p < 0x20 || *p == 0x7f || *p == '"' || *p == '\\') {
                        g_autofree char *shown = show_text(path);
                        return np_fail(error, EINVAL,
                                       "export path \"%s\" holds a control character, a double quote or a "
                                       "backslash, which an NFS-Ganesha string cannot",
                                       shown);
                }
        return 0;
}

/* One client as Ganesha reads it (exports_client.h has the grammar). */
static int client_text(const char *text, char **ret, GError **error) {
        g_autoptr(ExportsClientSpec) c = NULL;
        int r = exports_client_parse(text, &c, error);
        if (r < 0)
                return r;
        char addr[INET6_ADDRSTRLEN];
        switch (c->kind) {
        case EXPORTS_CLIENT_ANYONE:
                *ret = g_strdup("*");
                return 0;
        case EXPORTS_CLIENT_ADDRESS:
        case EXPORTS_CLIENT_NETWORK:
                if (!inet_ntop(c->address.family, c->address.bytes, addr, sizeof addr))
                        return np_fail(error, EINVAL, "client \"%s\": cannot write its address", text);
                *ret = c->kind == EXPORTS_CLIENT_ADDRESS ? g_strdup(addr) : g_strdup_printf("%s/%u", addr, c->prefix);
                return 0;
        case EXPORTS_CLIENT_HOSTNAME:
                *ret = g_strdup(c->name);
                return 0;
        case EXPORTS_CLIENT_NETGROUP:
                *ret = g_strdup_printf("@%s", c->name);
                return 0;
        }
        return np_fail(error, EINVAL, "client \"%s\": unknown kind", text);
}

int ganesha_export_block(const ExportSpec *spec, bool nfsv4, char **ret, GError **error) {
        if (spec->export_id < 1 || spec->export_id > 65535)
                return np_fail(error, EINVAL, "%s: Export_Id %u is not 1-65535", spec->path ? spec->path : "export",
                               spec->export_id);
        int r = check_path(spec->path, error);
        if (r < 0)
                return r;
        g_autoptr(GString) clients = g_string_new(NULL);
        for (char **cl = spec->clients; cl && *cl; cl++) {
                if (!**cl)
                        continue;
                g_autofree char *t = NULL;
                r = client_text(*cl, &t, error);
                if (r < 0)
                        return r;
                g_string_append_printf(clients, "%s%s", clients->len ? ", " : "", t); /* Ganesha wants them bare */
        }
        if (!clients->len)
                return np_fail(error, EINVAL, "%s: no export clients", spec->path);
        *ret = g_strdup_printf(BLOCK_START "\n"
                               ID_LINE "%u;\n"
                               PATH_LINE "%s\";\n"
                               "\tPseudo = \"%s\";\n"
                               "\tProtocols = %s;\n"
                               "\tAccess_Type = None;\n"
                               "\tSquash = No_Root_Squash;\n"
                               "\tSecType = sys;\n"
                               "\tAttr_Expiration_Time = 0;\n"
                               "\tCLIENT {\n"
                               "\t\tClients = %s;\n"
                               "\t\tAccess_Type = RW;\n"
                               "\t\tSquash = No_Root_Squash;\n"
                               "\t}\n"
                               "\tFSAL {\n"
                               "\t\tName = VFS;\n"
                               "\t}\n"
                               BLOCK_END "\n",
                               spec->export_id, spec->path, spec->path, nfsv4 ? "3, 4" : "3", clients->str);
        return 0;
}

/* ---- the file ---- */

static gint by_path(gconstpointer a, gconstpointer b) {
        return strcmp((*(GaneshaExport *const *) a)->path, (*(GaneshaExport *const *) b)->path);
}

static gint by_id(gconstpointer a, gconstpointer b) {
        unsigned x = *(const unsigned *) a, y = *(const unsigned *) b;
        return x < y ? -1 : x > y;
}

void ganesha_file_sort(GaneshaFile *f) {
        g_ptr_array_sort(f->exports, by_path);
        g_array_sort(f->pending, by_id);
        g_array_sort(f->removed, by_id);
}

static GaneshaExport *find_id(const GaneshaFile *f, unsigned id) {
        for (guint i = 0; i < f->exports->len; i++) {
                GaneshaExport *x = g_ptr_array_index(f->exports, i);
                if (x->id == id)
                        return x;
        }
        return NULL;
}

const GaneshaExport *ganesha_file_find(const GaneshaFile *f, const char *path) {
        for (guint i = 0; i < f->exports->len; i++) {
                GaneshaExport *x = g_ptr_array_index(f->exports, i);
                if (strcmp(x->path, path) == 0)
                        return x;
        }
        return NULL;
}

static bool ids_have(const GArray *ids, unsigned id) {
        for (guint i = 0; i < ids->len; i++)
                if (g_array_index(ids, unsigned, i) == id)
                        return true;
        return false;
}

static void ids_add(GArray *ids, unsigned id) {
        if (ids_have(ids, id))
                return;
        g_array_append_val(ids, id);
        g_array_sort(ids, by_id);
}

static void ids_drop(GArray *ids, unsigned id) {
        for (guint i = ids->len; i-- > 0;)
                if (g_array_index(ids, unsigned, i) == id)
                        g_array_remove_index(ids, i);
}

bool ganesha_file_pending(const GaneshaFile *f, unsigned id) {
        return ids_have(f->pending, id);
}

void ganesha_file_clear_pending(GaneshaFile *f, unsigned id) {
        ids_drop(f->pending, id);
}

void ganesha_file_clear_notes(GaneshaFile *f) {
        g_array_set_size(f->pending, 0);
        g_array_set_size(f->removed, 0);
}

/* A decimal Export_Id, 1-65535, with nothing else; 0 when it is not one. */
static unsigned parse_id(const char *s, size_t n) {
        if (n == 0 || n > 5 || s[0] == '0')
                return 0;
        unsigned v = 0;
        for (size_t i = 0; i < n; i++) {
                if (!g_ascii_isdigit(s[i]))
                        return 0;
                v = v * 10 + (unsigned) (s[i] - '0');
        }
        return v <= 65535 ? v : 0;
}

static int bad(GError **error, const char *name, size_t line, const char *what) {
        return np_fail(error, EBADMSG,
                       "%s:%zu: %s; this file is nfsprovd's (it writes it whole), so it will not rewrite it: move "
                       "it away, or set [exports] ganesha_config to another file",
                       name, line, what);
}

static int parse_ids(GArray *ids, const char *what, const char *rest, const char *name, size_t line, GError **error) {
        g_auto(GStrv) words = g_strsplit(rest, " ", -1);
        for (char **w = words; *w; w++) {
                if (!**w)
                        continue;
                unsigned id = parse_id(*w, strlen(*w));
                if (!id)
                        return bad(error, name, line, what);
                ids_add(ids, id);
        }
        return 0;
}

int ganesha_file_parse(const char *text, size_t len, const char *name, GaneshaFile **ret, GError **error) {
        g_autoptr(GaneshaFile) f = ganesha_file_new();
        if (memchr(text, '\0', len))
                return bad(error, name, 1, "holds a NUL byte");
        g_autofree char *copy = g_strndup(text, len);
        g_auto(GStrv) lines = g_strsplit(copy, "\n", -1);
        /* the ids and paths met so far (a file of 1,000 blocks is read at each share's set) */
        g_autoptr(GHashTable) ids = g_hash_table_new(g_direct_hash, g_direct_equal);
        g_autoptr(GHashTable) paths = g_hash_table_new(g_str_hash, g_str_equal);
        g_autoptr(GString) block = NULL;
        unsigned id = 0;
        g_autofree char *path = NULL;
        size_t start = 0;
        for (size_t i = 0; lines[i]; i++) {
                const char *l = lines[i];
                size_t n = strlen(l), line = i + 1;
                if (n == 0 && !lines[i + 1])
                        break; /* after the last line's end */
                if (!block) {
                        if (g_str_has_prefix(l, PENDING_PREFIX) &&
                            (l[strlen(PENDING_PREFIX)] == ' ' || !l[strlen(PENDING_PREFIX)])) {
                                int r = parse_ids(f->pending, "\"update pending\" lists something that is not an Export_Id",
                                                  l + strlen(PENDING_PREFIX), name, line, error);
                                if (r < 0)
                                        return r;
                        } else if (g_str_has_prefix(l, REMOVED_PREFIX) &&
                                   (l[strlen(REMOVED_PREFIX)] == ' ' || !l[strlen(REMOVED_PREFIX)])) {
                                int r = parse_ids(f->removed, "\"removed\" lists something that is not an Export_Id",
                                                  l + strlen(REMOVED_PREFIX), name, line, error);
                                if (r < 0)
                                        return r;
                        } else if (strcmp(l, BLOCK_START) == 0) {
                                block = g_string_new(NULL);
                                start = line;
                                id = 0;
                                g_clear_pointer(&path, g_free);
                        } else if (g_str_has_prefix(l, DIR_PREFIX) && n > strlen(DIR_PREFIX) && l[n - 1] == '"') {
                                /* ganesha_store.h's directory lines: Ganesha's, nothing to read here */
                        } else if (n != 0 && l[0] != '#')
                                return bad(error, name, line, "a line outside the EXPORT blocks nfsprovd writes");
                        if (block) {
                                g_string_append_len(block, l, (gssize) n);
                                g_string_append_c(block, '\n');
                        }
                        continue;
                }
                g_string_append_len(block, l, (gssize) n);
                g_string_append_c(block, '\n');
                if (g_str_has_prefix(l, ID_LINE) && l[n - 1] == ';') {
                        size_t k = strlen(ID_LINE);
                        if (id || !(id = parse_id(l + k, n - k - 1)))
                                return bad(error, name, line, "a second or bad Export_Id");
                } else if (g_str_has_prefix(l, PATH_LINE) && n >= strlen(PATH_LINE) + 3 &&
                           strcmp(l + n - 2, "\";") == 0) {
                        size_t k = strlen(PATH_LINE);
                        g_autofree char *p = g_strndup(l + k, n - k - 2);
                        if (path || check_path(p, NULL) < 0)
                                return bad(error, name, line, "a second or bad Path");
                        path = g_steal_pointer(&p);
                } else if (strcmp(l, BLOCK_END) == 0) {
                        if (!id || !path)
                                return bad(error, name, start, "an EXPORT block without its Export_Id or Path");
                        if (g_hash_table_contains(ids, GUINT_TO_POINTER(id)))
                                return bad(error, name, start, "a second EXPORT block with the same Export_Id");
                        if (g_hash_table_contains(paths, path))
                                return bad(error, name, start, "a second EXPORT block with the same Path");
                        GaneshaExport *x = g_new0(GaneshaExport, 1);
                        x->id = id;
                        x->path = g_steal_pointer(&path);
                        x->block = g_string_free(g_steal_pointer(&block), false);
                        g_ptr_array_add(f->exports, x);
                        g_hash_table_add(ids, GUINT_TO_POINTER(x->id));
                        g_hash_table_add(paths, x->path);
                } else if (l[0] != '\t')
                        return bad(error, name, line, "a line of an EXPORT block that nfsprovd does not write");
        }
        if (block)
                return bad(error, name, start, "an EXPORT block without its end");
        g_ptr_array_sort(f->exports, by_path);
        for (guint i = f->pending->len; i-- > 0;)
                if (!g_hash_table_contains(ids, GUINT_TO_POINTER(g_array_index(f->pending, unsigned, i))))
                        g_array_remove_index(f->pending, i);
        for (guint i = f->removed->len; i-- > 0;) /* an id served again is an update, noted pending */
                if (g_hash_table_contains(ids, GUINT_TO_POINTER(g_array_index(f->removed, unsigned, i)))) {
                        ids_add(f->pending, g_array_index(f->removed, unsigned, i));
                        g_array_remove_index(f->removed, i);
                }
        *ret = TAKE_PTR(f);
        return 0;
}

char *ganesha_file_render(const GaneshaFile *f) {
        GString *s = g_string_new(HEADER);
        if (f->pending->len) {
                g_string_append(s, PENDING_PREFIX);
                for (guint i = 0; i < f->pending->len; i++)
                        g_string_append_printf(s, " %u", g_array_index(f->pending, unsigned, i));
                g_string_append_c(s, '\n');
        }
        if (f->removed->len) {
                g_string_append(s, REMOVED_PREFIX);
                for (guint i = 0; i < f->removed->len; i++)
                        g_string_append_printf(s, " %u", g_array_index(f->removed, unsigned, i));
                g_string_append_c(s, '\n');
        }
        for (guint i = 0; i < f->exports->len; i++)
                g_string_append_printf(s, "\n%s", ((GaneshaExport *) g_ptr_array_index(f->exports, i))->block);
        return g_string_free(s, false);
}

int ganesha_file_read(const char *path, GaneshaFile **ret, GError **error) {
        g_autofree char *text = NULL;
        size_t len = 0;
        bool exists = false;
        int r = atomic_file_read_optional(path, &text, &len, &exists, error);
        if (r < 0)
                return r;
        if (!exists) {
                *ret = ganesha_file_new();
                return 0;
        }
        return ganesha_file_parse(text, len, path, ret, error);
}

int ganesha_file_write(const char *path, const GaneshaFile *f, bool *ret_changed, GError **error) {
        g_autofree char *text = ganesha_file_render(f);
        size_t len = strlen(text);
        g_autofree char *old = NULL;
        size_t old_len = 0;
        bool same = atomic_file_read(path, &old, &old_len, NULL) >= 0 && old_len == len && memcmp(old, text, len) == 0;
        if (!same) {
                int r = atomic_file_replace(path, text, len, FILE_MODE, error);
                if (r < 0)
                        return r;
        }
        if (ret_changed)
                *ret_changed = !same;
        return 0;
}

int ganesha_file_set(GaneshaFile *f, unsigned id, const char *path, char *block_in, bool *ret_changed,
                     GError **error) {
        g_autofree char *block = block_in;
        GaneshaExport *holder = find_id(f, id);
        if (holder && strcmp(holder->path, path) != 0)
                return np_fail(error, EEXIST, "%s: Export_Id %u is already the export of %s", path, id, holder->path);
        GaneshaExport *x = (GaneshaExport *) ganesha_file_find(f, path);
        bool changed = true;
        if (x && x->id == id) {
                changed = strcmp(x->block, block) != 0;
                if (changed) {
                        g_free(x->block);
                        x->block = g_steal_pointer(&block);
                        ids_add(f->pending, id);
                }
        } else {
                if (x)
                        ganesha_file_remove(f, path); /* another id: a new export, the old one removed */
                if (ids_have(f->removed, id)) {
                        /* Ganesha may still serve id as it was: an update */
                        ids_drop(f->removed, id);
                        ids_add(f->pending, id);
                }
                x = g_new0(GaneshaExport, 1);
                x->id = id;
                x->path = g_strdup(path);
                x->block = g_steal_pointer(&block);
                g_ptr_array_add(f->exports, x);
                g_ptr_array_sort(f->exports, by_path);
        }
        if (ret_changed)
                *ret_changed = changed;
        return 0;
}

bool ganesha_file_remove(GaneshaFile *f, const char *path) {
        for (guint i = 0; i < f->exports->len; i++) {
                GaneshaExport *x = g_ptr_array_index(f->exports, i);
                if (strcmp(x->path, path) == 0) {
                        ids_drop(f->pending, x->id);
                        ids_add(f->removed, x->id);
                        g_ptr_array_remove_index(f->exports, i);
                        return true;
                }
        }
        return false;
}
