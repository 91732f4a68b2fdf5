/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "error.h"
#include "macro.h"
#include "pool_users.h"

#define MAX_SYMLINKS 40 /* as the kernel's path walk */

void pool_use_free(PoolUse *u) {
        if (!u)
                return;
        g_free(u->domain);
        g_free(u->what);
        g_free(u);
}

/* ---- paths ---- */

char *path_normalize(const char *path) {
        if (!path || path[0] != '/')
                return NULL;
        g_auto(GStrv) parts = g_strsplit(path, "/", -1);
        g_autoptr(GPtrArray) out = g_ptr_array_new();
        for (char **c = parts; *c; c++) {
                if (!**c || strcmp(*c, ".") == 0)
                        continue;
                if (strcmp(*c, "..") == 0) {
                        if (out->len > 0)
                                g_ptr_array_remove_index(out, out->len - 1);
                        continue;
                }
                g_ptr_array_add(out, *c);
        }
        if (out->len == 0)
                return g_strdup("/");
        GString *s = g_string_new(NULL);
        for (size_t i = 0; i < out->len; i++)
                g_string_append_printf(s, "/%s", (const char *) out->pdata[i]);
        return g_string_free(s, FALSE);
}

/* Both normalised: `path` is `dir` or below it. */
static bool path_within(const char *path, const char *dir) {
        if (strcmp(dir, "/") == 0)
                return true;
        size_t n = strlen(dir);
        return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

static bool within_any(const char *path, const char *const *dirs) {
        for (const char *const *d = dirs; d && *d; d++)
                if (path_within(path, *d))
                        return true;
        return false;
}

/* A directory that holds any of `dirs`. */
static bool holds_any(const char *dir, const char *const *dirs) {
        for (const char *const *d = dirs; d && *d; d++)
                if (path_within(*d, dir))
                        return true;
        return false;
}

/* Resolve symbolic links in the absolute `path` (as written: ".." after a link goes up from where
 * the link leads) one component at a time, from the root, the way the kernel walks it, but stop as soon as the resolved prefix is one of `stops`:
 * what lies below a stop (the pool's target) is appended as written, never looked at. A component
 * that cannot be looked at (missing, not a directory, no permission) or too many links end the walk
 * the same way: the rest is appended as written. Returns the normalised result. */
static char *walk_path(const char *path, const char *const *stops) {
        g_autoptr(GString) done = g_string_new(""); /* resolved so far; "" is the root */
        g_autoptr(GQueue) todo = g_queue_new();     /* components left, owned */
        g_auto(GStrv) parts = g_strsplit(path, "/", -1);
        for (char **c = parts; *c; c++)
                g_queue_push_tail(todo, g_strdup(*c));
        unsigned links = 0;
        g_autoptr(GString) rest = NULL;

        while (!g_queue_is_empty(todo)) {
                g_autofree char *c = g_queue_pop_head(todo);
                if (!*c || strcmp(c, ".") == 0)
                        continue;
                if (strcmp(c, "..") == 0) {
                        char *slash = strrchr(done->str, '/');
                        g_string_truncate(done, slash ? (gsize) (slash - done->str) : 0);
                        continue;
                }
                g_autofree char *candidate = g_strdup_printf("%s/%s", done->str, c);
                bool stop = false;
                for (const char *const *s = stops; s && *s && !stop; s++)
                        stop = strcmp(candidate, *s) == 0;
                struct stat st;
                if (stop || lstat(candidate, &st) < 0 || (S_ISLNK(st.st_mode) && ++links > MAX_SYMLINKS)) {
                        g_string_assign(done, candidate);
                        break;
                }
                if (!S_ISLNK(st.st_mode)) {
                        g_string_assign(done, candidate);
                        continue;
                }
                char buf[PATH_MAX];
                ssize_t n = readlink(candidate, buf, sizeof buf - 1);
                if (n <= 0) {
                        g_string_assign(done, candidate);
                        break;
                }
                buf[n] = '\0';
                g_auto(GStrv) link = g_strsplit(buf, "/", -1);
                for (size_t i = g_strv_length(link); i > 0; i--)
                        g_queue_push_head(todo, g_strdup(link[i - 1]));
                if (buf[0] == '/')
                        g_string_truncate(done, 0);
        }
        rest = g_string_new(done->str);
        while (!g_queue_is_empty(todo)) {
                g_autofree char *c = g_queue_pop_head(todo);
                g_string_append_printf(rest, "/%s", c);
        }
        return path_normalize(rest->len ? rest->str : "/");
}

static PathResolver resolver_override;

void pool_users_set_resolver(PathResolver fn) {
        resolver_override = fn;
}

/* ---- the bounded walk: a worker thread, a deadline ---- */

typedef struct ResolveJob {
        GMutex lock;
        GCond cond;
        PathResolver resolve;
        char **targets;  /* normalised target paths (input) */
        char **paths;    /* normalised source paths (input) */
        size_t n_paths;
        GPtrArray *stops; /* char*: targets and their real locations; complete once stops_ready */
        char **results;  /* per path, set as it is resolved */
        bool stops_ready;
        bool finished;
} ResolveJob;

static void job_clear(ResolveJob *j) {
        g_mutex_clear(&j->lock);
        g_cond_clear(&j->cond);
        g_strfreev(j->targets);
        g_strfreev(j->paths);
        g_ptr_array_unref(j->stops);
        for (size_t i = 0; i < j->n_paths; i++)
                g_free(j->results[i]);
        g_free(j->results);
}

static void job_unref(ResolveJob *j) {
        g_atomic_rc_box_release_full(j, (GDestroyNotify) job_clear);
}

static gpointer job_run(gpointer data) {
        ResolveJob *j = data;
        size_t nt = g_strv_length(j->targets), np = j->n_paths;

        /* The target's real location: its parent resolved (never the target itself). */
        g_autoptr(GPtrArray) stops = g_ptr_array_new_with_free_func(g_free);
        for (size_t i = 0; i < nt; i++)
                g_ptr_array_add(stops, g_strdup(j->targets[i]));
        for (size_t i = 0; i < nt; i++) {
                if (strcmp(j->targets[i], "/") == 0)
                        continue;
                g_autofree char *parent = g_path_get_dirname(j->targets[i]);
                g_autofree char *base = g_path_get_basename(j->targets[i]);
                g_autofree char *real_parent = j->resolve(parent, (const char *const *) j->targets);
                g_autofree char *real = g_build_filename(real_parent, base, NULL);
                if (!g_ptr_array_find_with_equal_func(stops, real, g_str_equal, NULL))
                        g_ptr_array_add(stops, g_steal_pointer(&real));
        }
        g_ptr_array_add(stops, NULL);
        g_mutex_lock(&j->lock);
        g_ptr_array_extend_and_steal(j->stops, g_steal_pointer(&stops));
        j->stops_ready = true;
        g_cond_broadcast(&j->cond);
        g_mutex_unlock(&j->lock);

        for (size_t i = 0; i < np; i++) {
                char *r = j->resolve(j->paths[i], (const char *const *) j->stops->pdata);
                g_mutex_lock(&j->lock);
                j->results[i] = r;
                g_cond_broadcast(&j->cond);
                g_mutex_unlock(&j->lock);
        }
        g_mutex_lock(&j->lock);
        j->finished = true;
        g_cond_broadcast(&j->cond);
        g_mutex_unlock(&j->lock);
        job_unref(j);
        return NULL;
}

/* What the walk found within the deadline: the stops (NULL when not even those were ready) and,
 * per path, its resolved form or NULL. */
typedef struct Resolved {
        char **stops;
        char **results; /* n, each NULL when not resolved in time */
        size_t n;
} Resolved;

static void resolved_clear(Resolved *r) {
        g_strfreev(r->stops);
        for (size_t i = 0; i < r->n; i++)
                g_free(r->results[i]);
        g_free(r->results);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Resolved, resolved_clear)

static void resolve_bounded(char **targets, char **paths, int timeout_ms, Resolved *ret) {
        size_t np = g_strv_length(paths);
        ResolveJob *j = g_atomic_rc_box_new0(ResolveJob);
        g_mutex_init(&j->lock);
        g_cond_init(&j->cond);
        j->resolve = resolver_override ? resolver_override : walk_path;
        j->targets = g_strdupv(targets);
        j->paths = g_strdupv(paths);
        j->n_paths = np;
        j->stops = g_ptr_array_new_with_free_func(g_free);
        j->results = g_new0(char *, np + 1);

        g_atomic_rc_box_acquire(j); /* the worker's reference */
        GThread *t = g_thread_new("pool-users", job_run, j);
        g_thread_unref(t); /* detached: it may outlive this call */

        gint64 deadline = g_get_monotonic_time() + (gint64) timeout_ms * G_TIME_SPAN_MILLISECOND;
        g_mutex_lock(&j->lock);
        while (!j->finished)
                if (!g_cond_wait_until(&j->cond, &j->lock, deadline))
                        break;
        ret->stops = j->stops_ready ? g_strdupv((char **) j->stops->pdata) : NULL;
        /* the worker may go on filling in the job's results: copy what is there now */
        ret->n = np;
        ret->results = g_new0(char *, np);
        for (size_t i = 0; i < np; i++)
                ret->results[i] = g_strdup(j->results[i]);
        g_mutex_unlock(&j->lock);
        job_unref(j);
}

/* ---- the domain XML ---- */

typedef struct DomainPath {
        char *label; /* "disk", "backing file", "filesystem", "kernel", ... */
        char *raw;   /* as written: what the walk resolves (".." after a link is not lexical) */
        char *path;  /* normalised */
        bool is_dir;
} DomainPath;

static void domain_path_free(DomainPath *d) {
        g_free(d->label);
        g_free(d->raw);
        g_free(d->path);
        g_free(d);
}

typedef struct DomainScan {
        GPtrArray *stack;  /* element names (borrowed from GMarkup until their end: copied) */
        GPtrArray *paths;  /* DomainPath* */
        char *pool_volume; /* "POOL/VOLUME" of a <source pool='NAME'>, the first one */
        const char *pool_name;
        GString *text;     /* text of an <os> path element */
        bool in_os_path;
} DomainScan;

static const char *stack_at(const DomainScan *s, size_t from_top) {
        return s->stack->len > from_top ? s->stack->pdata[s->stack->len - 1 - from_top] : NULL;
}

static const char *source_label(const char *parent) {
        if (strcmp(parent, "backingStore") == 0)
                return "backing file";
        if (strcmp(parent, "dataStore") == 0)
                return "data file";
        return parent;
}

static void add_path(DomainScan *s, const char *label, const char *path, bool is_dir) {
        char *norm = path_normalize(path);
        if (!norm)
                return; /* relative: nothing to compare */
        DomainPath *d = g_new0(DomainPath, 1);
        d->label = g_strdup(label);
        d->raw = g_strdup(path);
        d->path = norm;
        d->is_dir = is_dir;
        g_ptr_array_add(s->paths, d);
}

static bool is_os_path(const char *tag) {
        static const char *const tags[] = { "kernel", "initrd", "loader", "nvram", "dtb" };
        for (size_t i = 0; i < ELEMENTSOF(tags); i++)
                if (strcmp(tag, tags[i]) == 0)
                        return true;
        return false;
}

static void scan_start(GMarkupParseContext *ctx, const char *tag, const char **names, const char **values,
                       gpointer userdata, GError **error) {
        DomainScan *s = userdata;
        g_ptr_array_add(s->stack, g_strdup(tag));
        size_t depth = s->stack->len; /* <domain> is 1 */

        if (depth == 3 && g_strcmp0(stack_at(s, 1), "os") == 0 && is_os_path(tag)) {
                s->in_os_path = true;
                g_string_truncate(s->text, 0);
                return;
        }
        if (depth < 4 || strcmp(tag, "source") != 0 || g_strcmp0(s->stack->pdata[1], "devices") != 0)
                return;
        const char *parent = stack_at(s, 1);
        const char *pool = NULL, *volume = NULL;
        for (size_t i = 0; names[i]; i++) {
                if (strcmp(names[i], "file") == 0 || strcmp(names[i], "dev") == 0 || strcmp(names[i], "path") == 0)
                        add_path(s, source_label(parent), values[i], false);
                else if (strcmp(names[i], "dir") == 0)
                        add_path(s, source_label(parent), values[i], true);
                else if (strcmp(names[i], "pool") == 0)
                        pool = values[i];
                else if (strcmp(names[i], "volume") == 0)
                        volume = values[i];
        }
        if (pool && strcmp(pool, s->pool_name) == 0 && !s->pool_volume)
                s->pool_volume = g_strdup_printf("%s/%s", pool, volume ? volume : "");
}

static void scan_end(GMarkupParseContext *ctx, const char *tag, gpointer userdata, GError **error) {
        DomainScan *s = userdata;
        if (s->in_os_path) {
                g_autofree char *t = g_strstrip(g_strdup(s->text->str));
                add_path(s, tag, t, false);
                s->in_os_path = false;
        }
        g_ptr_array_remove_index(s->stack, s->stack->len - 1);
}

static void scan_text(GMarkupParseContext *ctx, const char *text, gsize len, gpointer userdata, GError **error) {
        DomainScan *s = userdata;
        if (s->in_os_path)
                g_string_append_len(s->text, text, (gssize) len);
}

typedef struct DomainRefs {
        char *name;
        GPtrArray *paths;  /* DomainPath* */
        char *pool_volume; /* or NULL */
} DomainRefs;

static void domain_refs_free(DomainRefs *d) {
        g_free(d->name);
        g_ptr_array_unref(d->paths);
        g_free(d->pool_volume);
        g_free(d);
}

static int scan_domain(virDomainPtr dom, const char *pool_name, DomainRefs **ret, GError **error) {
        static const GMarkupParser parser = { .start_element = scan_start, .end_element = scan_end, .text = scan_text };
        const char *name = virDomainGetName(dom);
        g_autofree char *xml = virDomainGetXMLDesc(dom, 0);
        if (!xml) {
                virErrorPtr e = virGetLastError();
                if (e && e->code == VIR_ERR_NO_DOMAIN) { /* gone since it was listed: uses nothing */
                        *ret = NULL;
                        return 0;
                }
                return np_fail(error, EIO, "cannot read domain %s: %s", name,
                               e && e->message ? e->message : "unknown libvirt error");
        }
        g_autoptr(GPtrArray) stack = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GString) text = g_string_new(NULL);
        DomainScan s = {
                .stack = stack,
                .paths = g_ptr_array_new_with_free_func((GDestroyNotify) domain_path_free),
                .pool_name = pool_name,
                .text = text,
        };
        g_autoptr(GMarkupParseContext) ctx = g_markup_parse_context_new(&parser, 0, &s, NULL);
        g_autoptr(GError) perr = NULL;
        if (!g_markup_parse_context_parse(ctx, xml, -1, &perr) || !g_markup_parse_context_end_parse(ctx, &perr)) {
                g_ptr_array_unref(s.paths);
                g_free(s.pool_volume);
                return np_fail(error, EIO, "cannot read domain %s: %s", name, perr->message);
        }
        DomainRefs *d = g_new0(DomainRefs, 1);
        d->name = g_strdup(name);
        d->paths = s.paths;
        d->pool_volume = s.pool_volume;
        *ret = d;
        return 0;
}

/* ---- the answer ---- */

static PoolUse *use_new(const char *domain, bool unsure, const char *fmt, ...) _printf_(3, 4);
static PoolUse *use_new(const char *domain, bool unsure, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        PoolUse *u = g_new0(PoolUse, 1);
        u->domain = g_strdup(domain);
        u->what = g_strdup_vprintf(fmt, ap);
        u->unsure = unsure;
        va_end(ap);
        return u;
}

static bool path_uses(const DomainPath *d, const char *path, const char *const *stops) {
        return within_any(path, stops) || (d->is_dir && holds_any(path, stops));
}

/* The first domain that uses the pool, by references and paths as written. */
static PoolUse *find_as_written(GPtrArray *domains, char **targets) {
        for (size_t i = 0; i < domains->len; i++) {
                const DomainRefs *d = domains->pdata[i];
                if (d->pool_volume)
                        return use_new(d->name, false, "volume %s", d->pool_volume);
                for (size_t k = 0; k < d->paths->len; k++) {
                        const DomainPath *p = d->paths->pdata[k];
                        if (path_uses(p, p->path, (const char *const *) targets))
                                return use_new(d->name, false, "%s %s", p->label, p->path);
                }
        }
        return NULL;
}

static PoolUse *find_resolved(GPtrArray *domains, char **targets, int timeout_ms) {
        g_autoptr(GPtrArray) all = g_ptr_array_new();
        for (size_t i = 0; i < domains->len; i++) {
                const DomainRefs *d = domains->pdata[i];
                for (size_t k = 0; k < d->paths->len; k++) {
                        const DomainPath *p = d->paths->pdata[k];
                        if (!g_ptr_array_find_with_equal_func(all, p->raw, g_str_equal, NULL))
                                g_ptr_array_add(all, p->raw);
                }
        }
        if (all->len == 0)
                return NULL;
        g_ptr_array_add(all, NULL);

        g_auto(Resolved) r = {};
        resolve_bounded(targets, (char **) all->pdata, timeout_ms, &r);

        const DomainRefs *unsure_dom = NULL;
        const char *unsure_path = NULL;
        for (size_t i = 0; i < domains->len; i++) {
                const DomainRefs *d = domains->pdata[i];
                for (size_t k = 0; k < d->paths->len; k++) {
                        const DomainPath *p = d->paths->pdata[k];
                        guint at = 0;
                        g_ptr_array_find_with_equal_func(all, p->raw, g_str_equal, &at);
                        const char *real = r.stops ? r.results[at] : NULL;
                        if (!real) {
                                if (!unsure_dom) {
                                        unsure_dom = d;
                                        unsure_path = p->path;
                                }
                                continue;
                        }
                        if (path_uses(p, real, (const char *const *) r.stops))
                                return use_new(d->name, false, "%s %s (that is %s)", p->label, p->path, real);
                }
        }
        if (unsure_dom)
                return use_new(unsure_dom->name, true, "a path that could not be resolved within %d ms: %s",
                               timeout_ms, unsure_path);
        return NULL;
}

int pool_users_find(Host *h, const HostPool *p, int timeout_ms, bool *ret_known, PoolUse **ret_use,
                    GError **error) {
        g_return_val_if_fail(h && p && ret_known && ret_use, -EINVAL);
        if (timeout_ms <= 0)
                timeout_ms = POOL_USERS_TIMEOUT_MS;

        virDomainPtr *doms = NULL;
        int n = virConnectListAllDomains(host_connection(h), &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
        if (n < 0) {
                virErrorPtr e = virGetLastError();
                if (e && e->code == VIR_ERR_NO_SUPPORT) {
                        *ret_known = false;
                        *ret_use = NULL;
                        return 0;
                }
                return np_fail(error, EIO, "cannot list the running domains: %s",
                               e && e->message ? e->message : "unknown libvirt error");
        }

        g_autoptr(GPtrArray) domains = g_ptr_array_new_with_free_func((GDestroyNotify) domain_refs_free);
        int r = 0;
        for (int i = 0; i < n; i++) {
                DomainRefs *d = NULL;
                if (r == 0 && (r = scan_domain(doms[i], p->name, &d, error)) == 0 && d)
                        g_ptr_array_add(domains, d);
                virDomainFree(doms[i]);
        }
        free(doms);
        if (r < 0)
                return r;

        g_autoptr(GPtrArray) targets = g_ptr_array_new_with_free_func(g_free);
        const PoolDef *defs[] = { p->def, p->live };
        for (size_t i = 0; i < ELEMENTSOF(defs); i++) {
                char *t = defs[i] ? path_normalize(defs[i]->target_path) : NULL;
                if (t && !g_ptr_array_find_with_equal_func(targets, t, g_str_equal, NULL))
                        g_ptr_array_add(targets, t);
                else
                        g_free(t);
        }
        g_ptr_array_add(targets, NULL);

        PoolUse *use = find_as_written(domains, (char **) targets->pdata);
        if (!use && targets->len > 1)
                use = find_resolved(domains, (char **) targets->pdata, timeout_ms);
        *ret_known = true;
        *ret_use = use;
        return 0;
}
