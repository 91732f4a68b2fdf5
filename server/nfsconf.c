/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "atomic_file.h"
#include "error.h"
#include "macro.h"
#include "nfsconf.h"

/* nfs-utils follows includes without a limit (and crashes on a loop); we stop here. */
#define INCLUDE_DEPTH_MAX 10
/* How often a "$name" value may refer to another one. */
#define EXPAND_DEPTH_MAX 10

#define NFSD_DEFAULT_THREADS 8

#define streq(a, b) (strcmp((a), (b)) == 0)

/* ---- nfs.conf, line by line, as support/nfs/conffile.c reads it ---- */

typedef enum LineKind {
        LINE_SECTION, /* "[name]" or '[name "sub"]' */
        LINE_ASSIGN,  /* "tag = value" inside a section (include lines too) */
} LineKind;

typedef struct ConfLine {
        LineKind kind;
        size_t start, end;  /* the logical line in the buffer; end is at its '\n' */
        unsigned lineno;    /* 1-based physical line it starts on */
        char *section;      /* LINE_SECTION: the header's name, NULL when it lacks "]";
                             * LINE_ASSIGN: the section in effect (never NULL) */
        bool sub;           /* the section has a "subsection" */
        char *tag;          /* LINE_ASSIGN */
        char *value;        /* LINE_ASSIGN: unquoted, comment cut, trimmed; may be "" */
        size_t vstart, vend;/* LINE_ASSIGN: where the value's text is in the buffer */
} ConfLine;

static void conf_line_clear(void *p) {
        ConfLine *l = p;
        g_free(l->section);
        g_free(l->tag);
        g_free(l->value);
}

static bool is_blank(char c) {
        return c == ' ' || c == '\t';
}

static bool is_space(char c) {
        return isspace((unsigned char) c);
}

/* One logical line [s, e) of buf (already NUL-free, continuations blanked). *section and *sub
 * are the parser's state. Appends a ConfLine for headers and assignments it would use. */
static void parse_line(const char *buf, size_t s, size_t e, unsigned lineno, char **section, bool *sub,
                       GArray *lines) {
        size_t p = s;
        while (p < e && is_space(buf[p]))
                p++;
        if (p == e || buf[p] == '#' || buf[p] == ';')
                return;

        if (buf[p] == '[') {
                g_clear_pointer(section, g_free);
                *sub = false;
                p++;
                while (p < e && is_blank(buf[p]))
                        p++;
                const char *close = memchr(buf + p, ']', e - p);
                ConfLine l = { .kind = LINE_SECTION, .start = s, .end = e, .lineno = lineno };
                if (close) {
                        size_t q = close - buf;
                        while (q > p && is_blank(buf[q - 1]))
                                q--;
                        const char *quote = memchr(buf + p, '"', q - p);
                        size_t name_end = quote ? (size_t) (quote - buf) : q;
                        if (quote)
                                while (name_end > p && is_blank(buf[name_end - 1]))
                                        name_end--;
                        *section = g_ascii_strdown(buf + p, name_end - p);
                        /* nfs-utils keeps the section when the subsection's closing quote is
                         * missing, without a subsection */
                        *sub = quote && memchr(quote + 1, '"', q - (quote + 1 - buf));
                        l.section = g_strdup(*section);
                        l.sub = *sub;
                }
                g_array_append_val(lines, l);
                return;
        }

        const char *eq = memchr(buf + p, '=', e - p);
        if (!eq || !*section)
                return; /* not an assignment, or outside any section: ignored */

        size_t tag_end = eq - buf;
        while (tag_end > p && is_blank(buf[tag_end - 1]))
                tag_end--;
        if (tag_end == p)
                return; /* missing tag */

        size_t vs = eq - buf + 1;
        while (vs < e && is_blank(buf[vs]))
                vs++;
        size_t ve;
        if (vs < e && (buf[vs] == '"' || buf[vs] == '\'')) {
                const char *q = memchr(buf + vs + 1, buf[vs], e - vs - 1);
                if (!q)
                        return; /* unmatched quotes: ignored */
                vs++;
                ve = q - buf;
        } else {
                ve = vs;
                while (ve < e && buf[ve] != '#' && buf[ve] != ';')
                        ve++;
                while (ve > vs + 1 && is_space(buf[ve - 1]))
                        ve--;
        }

        ConfLine l = {
                .kind = LINE_ASSIGN,
                .start = s,
                .end = e,
                .lineno = lineno,
                .section = g_strdup(*section),
                .sub = *sub,
                .tag = g_strndup(buf + p, tag_end - p),
                .value = g_strndup(buf + vs, ve - vs),
                .vstart = vs,
                .vend = ve,
        };
        g_array_append_val(lines, l);
}

/* Parse data the way nfs-utils does. Content after a NUL byte is not seen (nfs-utils reads the
 * file as a C string); an unterminated last line is ignored. init_section/init_sub: the state an
 * included file starts with. */
static GArray *conf_parse(const char *data, size_t len, const char *init_section, bool init_sub) {
        GArray *lines = g_array_new(false, true, sizeof(ConfLine));
        g_array_set_clear_func(lines, conf_line_clear);

        len = strnlen(data, len);
        g_autofree char *buf = g_strndup(data, len);
        g_autofree char *section = g_strdup(init_section);
        bool sub = init_sub;
        size_t line_start = 0;
        unsigned lineno = 1, start_lineno = 1;

        for (size_t i = 0; i < len; i++) {
                if (buf[i] != '\n')
                        continue;
                if (i > 0 && buf[i - 1] == '\\') {
                        /* an escaped newline joins the lines (same length: offsets stay valid) */
                        buf[i - 1] = buf[i] = ' ';
                        lineno++;
                        continue;
                }
                parse_line(buf, line_start, i, start_lineno, &section, &sub, lines);
                line_start = i + 1;
                start_lineno = ++lineno;
        }
        return lines;
}

/* nfs-utils' conf_get_bool(): 1, 0, or -1 for "not a boolean" (the caller's default). */
static int parse_bool(const char *v) {
        static const char *const yes[] = { "1", "t", "true", "y", "yes", "on" };
        static const char *const no[] = { "0", "f", "false", "n", "no", "off" };
        if (!v)
                return -1;
        for (size_t i = 0; i < ELEMENTSOF(yes); i++)
                if (g_ascii_strcasecmp(v, yes[i]) == 0)
                        return 1;
        for (size_t i = 0; i < ELEMENTSOF(no); i++)
                if (g_ascii_strcasecmp(v, no[i]) == 0)
                        return 0;
        return -1;
}

/* ---- evaluating the main file, its includes and PATH.d/ ---- */

typedef struct Binding {
        char *value;
        char *source; /* FILE:LINE */
} Binding;

static void binding_free(void *p) {
        Binding *b = p;
        g_free(b->value);
        g_free(b->source);
        g_free(b);
}

static char *binding_key(const char *section, const char *tag) {
        g_autofree char *s = g_ascii_strdown(section, -1);
        g_autofree char *t = g_ascii_strdown(tag, -1);
        return g_strdup_printf("%s\n%s", s, t);
}

/* The files being read, the innermost first. An include of one of them is a loop, which nfs-utils
 * follows until it crashes; it is skipped (following it up to INCLUDE_DEPTH_MAX costs
 * k^INCLUDE_DEPTH_MAX reads for a file that includes itself k times). */
typedef struct FileChain {
        const struct FileChain *outer;
        bool known; /* dev and ino are set: the file could be stat()ed */
        dev_t dev;
        ino_t ino;
        int depth;  /* 0 for the main file and the drop-ins */
} FileChain;

static FileChain chain_link(const FileChain *outer, const char *file) {
        FileChain c = { .outer = outer, .depth = outer ? outer->depth + 1 : 0 };
        struct stat st;
        if (stat(file, &st) == 0) {
                c.known = true;
                c.dev = st.st_dev;
                c.ino = st.st_ino;
        }
        return c;
}

static bool chain_has(const FileChain *chain, const FileChain *f) {
        for (const FileChain *c = chain; c && f->known; c = c->outer)
                if (c->known && c->dev == f->dev && c->ino == f->ino)
                        return true;
        return false;
}

static void eval_buffer(GHashTable *b, const char *file, const char *data, size_t len, const char *section,
                        bool sub, const FileChain *chain);

static void eval_include(GHashTable *b, const char *file, const ConfLine *l, const FileChain *chain) {
        const char *v = l->value;
        if (*v == '-')
                v++; /* optional include: nfs-utils only skips the warning */
        if (chain->depth >= INCLUDE_DEPTH_MAX)
                return;

        g_autofree char *dir = g_path_get_dirname(file);
        g_autofree char *inc = g_path_is_absolute(v) ? g_strdup(v) : g_build_filename(dir, v, NULL);
        FileChain link = chain_link(chain, inc);
        if (chain_has(chain, &link))
                return;
        g_autofree char *data = NULL;
        size_t len = 0;
        /* nfs-utils warns about an include it cannot read and goes on; so do we */
        if (atomic_file_read(inc, &data, &len, NULL) < 0)
                return;
        eval_buffer(b, inc, data, len, l->section, l->sub, &link);
}

static void eval_buffer(GHashTable *b, const char *file, const char *data, size_t len, const char *section,
                        bool sub, const FileChain *chain) {
        g_autoptr(GArray) lines = conf_parse(data, len, section, sub);
        for (guint i = 0; i < lines->len; i++) {
                const ConfLine *l = &g_array_index(lines, ConfLine, i);
                if (l->kind != LINE_ASSIGN)
                        continue;
                if (g_ascii_strcasecmp(l->tag, "include") == 0) {
                        eval_include(b, file, l, chain);
                        continue;
                }
                if (l->sub || !*l->value)
                        continue; /* subsections are never looked up; an empty value is ignored */
                Binding *nb = g_new0(Binding, 1);
                nb->value = g_strdup(l->value);
                nb->source = g_strdup_printf("%s:%u", file, l->lineno);
                g_hash_table_replace(b, binding_key(l->section, l->tag), nb);
        }
}

static void eval_dropins(GHashTable *b, const char *path) {
        g_autofree char *dname = g_strdup_printf("%s.d", path);
        struct dirent **names = NULL;
        int n = scandir(dname, &names, NULL, versionsort); /* the order nfs-utils reads them in */
        if (n < 0)
                return;
        for (int i = 0; i < n; i++) {
                const struct dirent *d = names[i];
                size_t len = strlen(d->d_name);
                bool use = (d->d_type == DT_UNKNOWN || d->d_type == DT_REG || d->d_type == DT_LNK) &&
                           d->d_name[0] != '.' && len > strlen(".conf") && g_str_has_suffix(d->d_name, ".conf");
                if (use) {
                        g_autofree char *f = g_build_filename(dname, d->d_name, NULL);
                        g_autofree char *data = NULL;
                        size_t dlen = 0;
                        /* nfs-utils skips a drop-in it cannot read */
                        FileChain top = chain_link(NULL, f);
                        if (atomic_file_read(f, &data, &dlen, NULL) == 0)
                                eval_buffer(b, f, data, dlen, NULL, false, &top);
                }
                free(names[i]);
        }
        free(names);
}

/* conf_get_str() with its "$name" expansion: the environment, then [environment]. */
static const Binding *lookup(GHashTable *b, const char *section, const char *tag, const char **ret_value) {
        g_autofree char *key = binding_key(section, tag);
        const Binding *bd = g_hash_table_lookup(b, key);
        const char *v = bd ? bd->value : NULL;

        for (int depth = 0; v && v[0] == '$' && depth < EXPAND_DEPTH_MAX; depth++) {
                const char *env = getenv(v + 1);
                if (env && *env) {
                        v = env;
                        break;
                }
                g_free(key);
                key = binding_key("environment", v + 1);
                const Binding *eb = g_hash_table_lookup(b, key);
                v = eb ? eb->value : NULL;
        }
        *ret_value = v;
        return bd;
}

/* ret_source: NFSCONF_SOURCE_MAX bytes, or NULL. */
static int lookup_bool(GHashTable *b, const char *tag, int def, bool *ret_explicit, char *ret_source) {
        const char *v = NULL;
        const Binding *bd = lookup(b, "nfsd", tag, &v);
        int r = parse_bool(v);
        *ret_explicit = r >= 0;
        if (ret_source)
                g_strlcpy(ret_source, r >= 0 ? bd->source : "", NFSCONF_SOURCE_MAX);
        return r >= 0 ? r : def;
}

static void status_from_bindings(GHashTable *b, NfsConfStatus *s) {
        bool dummy;
        s->vers3 = lookup_bool(b, "vers3", 1, &s->vers3_explicit, s->vers3_source);
        s->vers4 = lookup_bool(b, "vers4", 1, &s->vers4_explicit, s->vers4_source);
        s->vers4_0 = lookup_bool(b, "vers4.0", s->vers4, &s->vers4_0_explicit, NULL);
        s->vers4_1 = lookup_bool(b, "vers4.1", s->vers4, &s->vers4_1_explicit, NULL);
        s->vers4_2 = lookup_bool(b, "vers4.2", s->vers4, &s->vers4_2_explicit, NULL);
        s->tcp = lookup_bool(b, "tcp", 1, &dummy, NULL);
        s->udp = lookup_bool(b, "udp", 0, &dummy, NULL);

        const char *v = NULL;
        lookup(b, "nfsd", "threads", &v);
        s->threads_explicit = v != NULL;
        s->threads = v ? atoi(v) : NFSD_DEFAULT_THREADS;
}

/* The status for path, with main_data standing in for the main file's content when non-NULL. */
static int status_eval(const char *path, const char *main_data, size_t main_len, NfsConfStatus *ret,
                       GError **error) {
        g_autoptr(GHashTable) b = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, binding_free);
        g_autofree char *data = NULL;
        size_t len = 0;
        bool exists = true;

        if (!main_data) {
                g_autoptr(GError) e = NULL;
                int r = atomic_file_read_optional(path, &data, &len, &exists, &e);
                if (r < 0)
                        return np_fail(error, -r, "%s: cannot read the NFS configuration: %s", path, e->message);
                main_data = data;
                main_len = len;
        }

        FileChain top = chain_link(NULL, path);
        eval_buffer(b, path, main_data, main_len, NULL, false, &top);
        eval_dropins(b, path);

        NfsConfStatus s = { .file_exists = exists };
        status_from_bindings(b, &s);
        *ret = s;
        return 0;
}

int nfsconf_read(const char *path, NfsConfStatus *ret, GError **error) {
        return status_eval(path ? path : NFSCONF_PATH, NULL, 0, ret, error);
}

/* The first minor version set on explicitly, or NULL. */
static const char *minor_on(const NfsConfStatus *s) {
        if (s->vers4_0_explicit && s->vers4_0)
                return "vers4.0";
        if (s->vers4_1_explicit && s->vers4_1)
                return "vers4.1";
        if (s->vers4_2_explicit && s->vers4_2)
                return "vers4.2";
        return NULL;
}

bool nfsconf_ok(const NfsConfStatus *s) {
        return s->vers3 == 1 && s->vers4 == 0 && !minor_on(s);
}

char *nfsconf_problem(const NfsConfStatus *s) {
        if (nfsconf_ok(s))
                return NULL;
        g_autoptr(GString) m = g_string_new(NULL);
        if (!s->vers3)
                g_string_append_printf(m, "NFSv3 is off ([nfsd] vers3 at %s); seed 000 needs NFSv3",
                                       s->vers3_source);
        if (s->vers4) {
                if (m->len)
                        g_string_append(m, "; ");
                if (s->vers4_source[0])
                        g_string_append_printf(m, "NFSv4 is on ([nfsd] vers4 at %s)", s->vers4_source);
                else
                        g_string_append(m, "NFSv4 is on (the nfs-utils default: no [nfsd] vers4=n)");
        } else if (minor_on(s)) {
                if (m->len)
                        g_string_append(m, "; ");
                g_string_append_printf(m, "NFSv4 is off but [nfsd] %s is set on explicitly", minor_on(s));
        }
        return g_string_free(g_steal_pointer(&m), false);
}

/* ---- nfsconf_apply ---- */

typedef struct Edit {
        size_t start, end; /* replace [start, end) of the original */
        const char *text;
        char *owned;
} Edit;

static int edit_cmp(const void *a, const void *b) {
        const Edit *x = a, *y = b;
        return x->start < y->start ? -1 : x->start > y->start ? 1 : 0;
}

static void edit_clear(void *p) {
        g_free(((Edit *) p)->owned);
}

static void add_edit(GArray *edits, size_t start, size_t end, const char *text, char *owned) {
        Edit e = { .start = start, .end = end, .text = owned ? owned : text, .owned = owned };
        g_array_append_val(edits, e);
}

static bool is_nfsd_line(const ConfLine *l) {
        return l->section && !l->sub && streq(l->section, "nfsd");
}

/* The new content for data, or NULL when nothing needs to change. */
static char *apply_edits(const char *data, size_t len, size_t *ret_len) {
        static const struct {
                const char *tag;
                int want;
                bool add; /* add when missing */
        } keys[] = {
                { "vers3", 1, true },
                { "vers4", 0, true },
                { "vers4.0", 0, false },
                { "vers4.1", 0, false },
                { "vers4.2", 0, false },
        };

        g_autoptr(GArray) lines = conf_parse(data, len, NULL, false);
        g_autoptr(GArray) edits = g_array_new(false, true, sizeof(Edit));
        g_array_set_clear_func(edits, edit_clear);
        g_autoptr(GString) missing = g_string_new(NULL);
        const ConfLine *header = NULL;

        for (guint i = 0; i < lines->len; i++) {
                const ConfLine *l = &g_array_index(lines, ConfLine, i);
                if (l->kind == LINE_SECTION && is_nfsd_line(l) && !header)
                        header = l;
        }

        bool crlf = header && header->end > header->start && data[header->end - 1] == '\r';
        for (size_t k = 0; k < ELEMENTSOF(keys); k++) {
                bool found = false;
                for (guint i = 0; i < lines->len; i++) {
                        const ConfLine *l = &g_array_index(lines, ConfLine, i);
                        if (l->kind != LINE_ASSIGN || !is_nfsd_line(l) || g_ascii_strcasecmp(l->tag, keys[k].tag) != 0)
                                continue;
                        found = true;
                        int b = parse_bool(l->value);
                        if (keys[k].add ? b != keys[k].want : b == 1)
                                add_edit(edits, l->vstart, l->vend, keys[k].want ? "y" : "n", NULL);
                }
                if (!found && keys[k].add)
                        g_string_append_printf(missing, "%s=%s%s", keys[k].tag, keys[k].want ? "y" : "n",
                                               crlf ? "\r\n" : "\n");
        }

        if (missing->len > 0) {
                if (header)
                        add_edit(edits, header->end + 1, header->end + 1, missing->str, NULL);
                else {
                        /* "[nfsd]" must start a line of its own: after a newline, and not right
                         * after a backslash-newline, which would join it to the line before. */
                        bool nl = len > 0 && data[len - 1] != '\n';
                        bool joins = (len > 0 && data[len - 1] == '\\') ||
                                     (len > 1 && data[len - 1] == '\n' && data[len - 2] == '\\');
                        add_edit(edits, len, len, NULL,
                                 g_strdup_printf("%s%s[nfsd]\n%s", nl ? "\n" : "", joins ? "\n" : "", missing->str));
                }
        }
        if (edits->len == 0)
                return NULL;

        g_array_sort(edits, edit_cmp);
        GString *out = g_string_sized_new(len + 64);
        size_t pos = 0;
        for (guint i = 0; i < edits->len; i++) {
                const Edit *e = &g_array_index(edits, Edit, i);
                g_string_append_len(out, data + pos, e->start - pos);
                g_string_append(out, e->text);
                pos = e->end;
        }
        g_string_append_len(out, data + pos, len - pos);
        *ret_len = out->len;
        return g_string_free(out, false);
}

int nfsconf_apply(const char *path, bool *ret_changed, GError **error) {
        if (!path)
                path = NFSCONF_PATH;

        g_autofree char *data = NULL;
        size_t len = 0;
        g_autoptr(GError) e = NULL;
        bool exists = true;
        int r = atomic_file_read_optional(path, &data, &len, &exists, &e);
        if (r < 0)
                return np_fail(error, -r, "%s: cannot read the NFS configuration: %s", path, e->message);
        if (memchr(data, '\0', len))
                return np_fail(error, EINVAL, "%s: contains a NUL byte; not editing it as an nfs.conf file", path);

        size_t new_len = 0;
        g_autofree char *new_data = apply_edits(data, len, &new_len);
        const char *content = new_data ? new_data : data;
        size_t content_len = new_data ? new_len : len;

        /* What nfs-utils will see afterwards, with includes and PATH.d/ */
        NfsConfStatus s;
        r = status_eval(path, content, content_len, &s, error);
        if (r < 0)
                return r;
        if (!nfsconf_ok(&s)) {
                const char *what = s.vers3 != 1 ? "vers3" : s.vers4 != 0 ? "vers4" : minor_on(&s);
                const char *src = s.vers3 != 1 ? s.vers3_source : s.vers4 != 0 ? s.vers4_source : "";
                return np_fail(error, EEXIST,
                               "%s: cannot set [nfsd] vers3=y vers4=n: %s%s%s overrides it (an include or a file in "
                               "%s.d/); change it there",
                               path, what, *src ? " at " : "", src, path);
        }

        if (exists && !new_data) {
                if (ret_changed)
                        *ret_changed = false;
                return 0;
        }
        r = atomic_file_replace(path, content, content_len, 0644, error);
        if (r < 0)
                return r;
        if (ret_changed)
                *ret_changed = true;
        return 0;
}

/* ---- /proc/fs/nfsd/versions ---- */

int nfsconf_read_proc_versions(const char *path, char **ret_text, GError **error) {
        if (!path)
                path = NFSCONF_PROC_VERSIONS;
        g_autofree char *data = NULL;
        g_autoptr(GError) e = NULL;
        int r = atomic_file_read(path, &data, NULL, &e);
        if (r < 0)
                return np_fail(error, -r, "%s: cannot read the kernel's NFS versions: %s%s", path, e->message,
                               r == -ENOENT ? " (nfsd is not running or its filesystem is not mounted)" : "");
        *ret_text = g_strstrip(TAKE_PTR(data));
        return 0;
}

int nfsconf_proc_version_enabled(const char *text, const char *version) {
        g_auto(GStrv) words = g_strsplit_set(text, " \t\n", -1);
        for (char **w = words; *w; w++)
                if ((**w == '+' || **w == '-') && streq(*w + 1, version))
                        return **w == '+';
        return -ENOENT;
}

/* ---- /etc/sysconfig/nfs (RHEL 6), /etc/default/nfs-kernel-server (Debian) ---- */

/* Apply rpc.nfsd's -N (off) or -V (on) with argument arg to the version flags. */
static void nfsd_version_arg(const char *arg, bool on, bool *v3_off, bool *v4_off) {
        char *p = NULL;
        long v = strtol(arg, &p, 0);
        if (v == 4 && *p == '.')
                return; /* a minor version only */
        if (v == 4)
                *v4_off = !on;
        else if (v == 3)
                *v3_off = !on;
}

/* Scan rpc.nfsd arguments as getopt_long would ("dH:hN:V:p:P:stTituUrG:L:"). */
static void scan_nfsd_args(char **args, bool *v3_off, bool *v4_off) {
        static const char *const long_with_arg[] = { "host", "no-nfs-version", "nfs-version", "port", "grace-time",
                                                     "lease-time" };
        for (size_t i = 0; args[i]; i++) {
                const char *a = args[i];
                if (streq(a, "--"))
                        break;
                if (g_str_has_prefix(a, "--")) {
                        g_autofree char *name = g_strdup(a + 2);
                        const char *val = NULL;
                        char *eq = strchr(name, '=');
                        if (eq) {
                                *eq = '\0';
                                val = eq + 1;
                        }
                        bool takes = false;
                        for (size_t k = 0; k < ELEMENTSOF(long_with_arg); k++)
                                takes = takes || streq(name, long_with_arg[k]);
                        if (takes && !val && args[i + 1])
                                val = args[++i];
                        if (val && streq(name, "no-nfs-version"))
                                nfsd_version_arg(val, false, v3_off, v4_off);
                        else if (val && streq(name, "nfs-version"))
                                nfsd_version_arg(val, true, v3_off, v4_off);
                        continue;
                }
                if (a[0] != '-' || a[1] == '\0')
                        continue; /* the thread count */
                for (size_t j = 1; a[j]; j++) {
                        if (!strchr("HNVpPGL", a[j]))
                                continue;
                        const char *val = a[j + 1] ? a + j + 1 : args[i + 1];
                        if (!a[j + 1] && args[i + 1])
                                i++;
                        if (val && a[j] == 'N')
                                nfsd_version_arg(val, false, v3_off, v4_off);
                        else if (val && a[j] == 'V')
                                nfsd_version_arg(val, true, v3_off, v4_off);
                        break;
                }
        }
}

static int sysconfig_versions(const char *path, bool *ret_v3_off, bool *ret_v4_off, GError **error) {
        static const char *const vars[] = { "RPCNFSDARGS", "RPCNFSDOPTS" };
        if (!path)
                path = NFSCONF_SYSCONFIG;

        g_autofree char *data = NULL;
        g_autoptr(GError) e = NULL;
        int r = atomic_file_read(path, &data, NULL, &e);
        if (r < 0)
                return np_fail(error, -r, "%s: %s", path, e->message);

        g_autofree char *args_value = NULL, *opts_value = NULL;
        char **values[ELEMENTSOF(vars)] = { &args_value, &opts_value };
        g_auto(GStrv) lines = g_strsplit(data, "\n", -1);
        for (size_t n = 0; lines[n]; n++) {
                const char *l = lines[n];
                while (is_space(*l))
                        l++;
                if (g_str_has_prefix(l, "export") && is_blank(l[6]))
                        for (l += 6; is_blank(*l); l++)
                                ;
                for (size_t k = 0; k < ELEMENTSOF(vars); k++) {
                        size_t vl = strlen(vars[k]);
                        if (strncmp(l, vars[k], vl) != 0 || l[vl] != '=')
                                continue;
                        const char *rest = l + vl + 1;
                        g_auto(GStrv) words = NULL;
                        g_autoptr(GError) pe = NULL;
                        char *v;
                        if (g_shell_parse_argv(rest, NULL, &words, &pe))
                                v = g_strdup(words[0]);
                        else if (g_error_matches(pe, G_SHELL_ERROR, G_SHELL_ERROR_EMPTY_STRING))
                                v = g_strdup("");
                        else
                                return np_fail(error, EINVAL, "%s:%zu: cannot parse the %s value: %s", path, n + 1,
                                               vars[k], pe->message);
                        g_free(*values[k]);
                        *values[k] = v; /* the shell keeps the last assignment */
                }
        }

        bool v3_off = false, v4_off = false;
        for (size_t k = 0; k < ELEMENTSOF(vars); k++) {
                if (!*values[k])
                        continue;
                /* the service scripts use $RPCNFSDARGS unquoted: split at blanks */
                g_auto(GStrv) raw = g_strsplit_set(*values[k], " \t\n", -1);
                g_autoptr(GPtrArray) args = g_ptr_array_new();
                for (char **w = raw; *w; w++)
                        if (**w)
                                g_ptr_array_add(args, *w);
                g_ptr_array_add(args, NULL);
                scan_nfsd_args((char **) args->pdata, &v3_off, &v4_off);
        }
        *ret_v3_off = v3_off;
        *ret_v4_off = v4_off;
        return 0;
}

int nfsconf_sysconfig_v4_disabled(const char *path, bool *ret, GError **error) {
        bool v3_off, v4_off;
        int r = sysconfig_versions(path, &v3_off, &v4_off, error);
        if (r < 0)
                return r;
        *ret = v4_off;
        return 0;
}

int nfsconf_sysconfig_v3_disabled(const char *path, bool *ret, GError **error) {
        bool v3_off, v4_off;
        int r = sysconfig_versions(path, &v3_off, &v4_off, error);
        if (r < 0)
                return r;
        *ret = v3_off;
        return 0;
}
