/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#include "error.h"
#include "macro.h"
#include "pool_check.h"
#include "target_mount.h"
#include "volume_compare.h"

static const char *const check_names[_CHECK_MAX] = {
        [CHECK_DEFINED] = "defined",   [CHECK_PERSISTENT] = "persistent", [CHECK_TYPE] = "type",
        [CHECK_UUID] = "uuid",         [CHECK_HOST] = "host",             [CHECK_SOURCE] = "source",
        [CHECK_FORMAT] = "format",     [CHECK_PROTOCOL] = "protocol",     [CHECK_TARGET] = "target",
        [CHECK_AUTOSTART] = "autostart", [CHECK_ACTIVE] = "active",       [CHECK_MOUNTED] = "mounted",
        [CHECK_VOLUMES] = "volumes",   [CHECK_NFS3] = "nfs3",
};

const char *check_to_string(Check c) {
        return c >= 0 && c < _CHECK_MAX ? check_names[c] : NULL;
}

static void problem_free(Problem *p) {
        if (!p)
                return;
        g_free(p->want);
        g_free(p->have);
        g_free(p->text);
        g_free(p);
}

void pool_status_free(PoolStatus *s) {
        if (!s)
                return;
        g_free(s->name);
        g_free(s->uuid);
        if (s->problems)
                g_ptr_array_unref(s->problems);
        g_free(s->conflict);
        g_free(s);
}

static PoolStatus *status_new(const char *name, const char *uuid) {
        PoolStatus *s = g_new0(PoolStatus, 1);
        s->name = g_strdup(name);
        s->uuid = g_strdup(uuid);
        s->problems = g_ptr_array_new_with_free_func((GDestroyNotify) problem_free);
        return s;
}

static void fail_check(PoolStatus *s, Check c, const char *want, const char *have, const char *fmt, ...)
        _printf_(5, 6);
static void fail_check(PoolStatus *s, Check c, const char *want, const char *have, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        Problem *p = g_new0(Problem, 1);
        p->check = c;
        p->want = g_strdup(want);
        p->have = g_strdup(have);
        p->text = g_strdup_vprintf(fmt, ap);
        va_end(ap);
        s->check[c] = CHECK_FAIL;
        g_ptr_array_add(s->problems, p);
}

/* A field of the definition: OK when equal, else a problem "FIELD: server has W, host has H". */
static void compare_field(PoolStatus *s, Check c, const char *want, const char *have) {
        if (g_strcmp0(want, have) == 0) {
                s->check[c] = CHECK_OK;
                return;
        }
        fail_check(s, c, want, have, "%s: server has %s, host has %s", check_names[c], want ? want : "(none)",
                   have ? have : "(none)");
}

/* Paths as libvirt keeps them: repeated slashes collapsed, no trailing slash. */
static char *path_clean(const char *path) {
        GString *out = g_string_new(NULL);
        for (const char *p = path; *p; p++)
                if (!(*p == '/' && out->len > 0 && out->str[out->len - 1] == '/'))
                        g_string_append_c(out, *p);
        while (out->len > 1 && out->str[out->len - 1] == '/')
                g_string_truncate(out, out->len - 1);
        return g_string_free(out, FALSE);
}

static bool same_path(const char *a, const char *b) {
        g_autofree char *x = path_clean(a), *y = path_clean(b);
        return strcmp(x, y) == 0;
}

/* The mount check: `def` says what should be mounted where. */
static int check_mount(PoolStatus *s, const PoolDef *def, bool active, const char *mountinfo, GError **error) {
        bool mounted;
        g_autofree char *source = NULL;
        g_autofree char *want = target_mount_source(def);
        int r = target_mount_lookup(mountinfo, def, &mounted, &source, error);
        if (r < 0)
                return r;
        if (!mounted)
                fail_check(s, CHECK_MOUNTED, want, NULL, "target %s is not mounted%s", def->target_path,
                           active ? " (libvirt reports the pool active)" : "");
        else if (strcmp(source, want) != 0)
                fail_check(s, CHECK_MOUNTED, want, source, "target %s has %s mounted, not %s", def->target_path,
                           source, want);
        else
                s->check[CHECK_MOUNTED] = CHECK_OK;
        return 0;
}

static void check_state(PoolStatus *s, const HostPool *p) {
        s->check[CHECK_PERSISTENT] = p->persistent ? CHECK_OK : CHECK_FAIL;
        if (!p->persistent)
                fail_check(s, CHECK_PERSISTENT, "yes", "no", "not persistent (transient: no storage/%s.xml)", p->name);
        s->check[CHECK_AUTOSTART] = p->autostart ? CHECK_OK : CHECK_FAIL;
        if (!p->autostart)
                fail_check(s, CHECK_AUTOSTART, "yes", "no", "autostart is off");
        s->check[CHECK_ACTIVE] = p->active ? CHECK_OK : CHECK_FAIL;
        if (!p->active)
                fail_check(s, CHECK_ACTIVE, "active", "inactive", "not active");
}

static const HostPool *find_by_name(GPtrArray *host, const char *name) {
        for (size_t i = 0; i < host->len; i++)
                if (strcmp(((const HostPool *) host->pdata[i])->name, name) == 0)
                        return host->pdata[i];
        return NULL;
}

static const HostPool *find_by_uuid(GPtrArray *host, const char *uuid) {
        for (size_t i = 0; i < host->len; i++)
                if (strcasecmp(((const HostPool *) host->pdata[i])->uuid, uuid) == 0)
                        return host->pdata[i];
        return NULL;
}

/* Another pool of the host on the same HOST:DIR or the same target path. */
static char *find_overlap(const PoolDef *want, GPtrArray *host) {
        for (size_t i = 0; i < host->len; i++) {
                const HostPool *p = host->pdata[i];
                if (strcmp(p->name, want->name) == 0 || !p->def)
                        continue;
                if (strcmp(p->def->host, want->host) == 0 && same_path(p->def->source_dir, want->source_dir))
                        return g_strdup_printf("pool %s on this host already uses source %s:%s (libvirt: Storage "
                                               "source conflict)",
                                               p->name, want->host, want->source_dir);
                if (same_path(p->def->target_path, want->target_path))
                        return g_strdup_printf("pool %s on this host already uses target path %s", p->name,
                                               want->target_path);
        }
        return NULL;
}

int pool_check_wanted(const PoolDef *want, const char *server_conflict, GPtrArray *host, const char *mountinfo,
                      PoolStatus **ret, GError **error) {
        g_return_val_if_fail(want && host && ret, -EINVAL);
        g_autoptr(PoolStatus) s = status_new(want->name, want->uuid);

        const HostPool *by_name = find_by_name(host, want->name);
        const HostPool *by_uuid = find_by_uuid(host, want->uuid);
        s->pool = by_name;

        if (server_conflict)
                s->conflict = g_strdup(server_conflict);
        else if (by_name && strcasecmp(by_name->uuid, want->uuid) != 0)
                s->conflict = g_strdup_printf("a pool named %s already exists on this host with uuid %s (the server's "
                                              "uuid is %s)",
                                              want->name, by_name->uuid, want->uuid);
        else if (!by_name && by_uuid)
                s->conflict = g_strdup_printf("pool %s on this host already has uuid %s, which the server gives to %s",
                                              by_uuid->name, want->uuid, want->name);
        else
                s->conflict = find_overlap(want, host);

        if (!by_name) {
                fail_check(s, CHECK_DEFINED, want->name, NULL, "not defined on this host");
                *ret = TAKE_PTR(s);
                return 0;
        }
        s->check[CHECK_DEFINED] = CHECK_OK;
        if (strcasecmp(want->uuid, by_name->uuid) == 0) /* libvirt reads uuids in either case */
                s->check[CHECK_UUID] = CHECK_OK;
        else
                compare_field(s, CHECK_UUID, want->uuid, by_name->uuid);

        if (!by_name->type || strcmp(by_name->type, "netfs") != 0 || !by_name->def) {
                if (by_name->def_error)
                        fail_check(s, CHECK_TYPE, "netfs", by_name->type,
                                   "the host's definition cannot be read: %s", by_name->def_error);
                else
                        compare_field(s, CHECK_TYPE, "netfs", by_name->type);
                check_state(s, by_name);
                *ret = TAKE_PTR(s);
                return 0;
        }
        s->check[CHECK_TYPE] = CHECK_OK;
        const PoolDef *have = by_name->def;
        compare_field(s, CHECK_HOST, want->host, have->host);
        if (same_path(want->source_dir, have->source_dir))
                s->check[CHECK_SOURCE] = CHECK_OK;
        else
                compare_field(s, CHECK_SOURCE, want->source_dir, have->source_dir);
        compare_field(s, CHECK_FORMAT, want->format, have->format);
        g_autofree char *wp = want->protocol_ver ? g_strdup_printf("%d", want->protocol_ver) : NULL;
        g_autofree char *hp = have->protocol_ver ? g_strdup_printf("%d", have->protocol_ver) : NULL;
        compare_field(s, CHECK_PROTOCOL, wp, hp);
        if (same_path(want->target_path, have->target_path))
                s->check[CHECK_TARGET] = CHECK_OK;
        else
                compare_field(s, CHECK_TARGET, want->target_path, have->target_path);
        check_state(s, by_name);

        int r = check_mount(s, want, by_name->active, mountinfo, error);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}

int pool_check_local(const HostPool *p, const char *mountinfo, PoolStatus **ret, GError **error) {
        g_return_val_if_fail(p && ret, -EINVAL);
        g_autoptr(PoolStatus) s = status_new(p->name, p->uuid);
        s->pool = p;
        s->check[CHECK_DEFINED] = CHECK_OK;
        check_state(s, p);
        if (p->type && strcmp(p->type, "netfs") == 0) {
                if (!p->def)
                        fail_check(s, CHECK_TYPE, NULL, p->type, "the definition cannot be read: %s",
                                   p->def_error ? p->def_error : "unknown error");
                else {
                        int r = check_mount(s, p->live ? p->live : p->def, p->active, mountinfo, error);
                        if (r < 0)
                                return r;
                }
        }
        *ret = TAKE_PTR(s);
        return 0;
}

void pool_check_volumes(PoolStatus *s, const PoolDef *want, const GPtrArray *host_volumes) {
        if (!host_volumes) {
                s->check[CHECK_VOLUMES] = CHECK_NA;
                return;
        }
        if (!want->volumes) {
                s->check[CHECK_VOLUMES] = CHECK_UNKNOWN;
                return;
        }
        g_autoptr(GPtrArray) rows = volumes_compare(want->volumes, host_volumes);
        s->check[CHECK_VOLUMES] = CHECK_OK;
        for (size_t i = 0; i < rows->len; i++) {
                const VolumeRow *r = rows->pdata[i];
                g_autofree char *text = volume_row_problem(r);
                if (text)
                        fail_check(s, CHECK_VOLUMES, r->server ? r->name : NULL, r->host ? r->name : NULL, "%s", text);
        }
}

void pool_status_set(PoolStatus *s, Check c, const char *failure) {
        if (failure)
                fail_check(s, c, NULL, NULL, "%s", failure);
        else
                s->check[c] = CHECK_OK;
}

bool pool_status_ok(const PoolStatus *s) {
        return !s->conflict && s->problems->len == 0;
}

bool pool_status_has_drift(const PoolStatus *s) {
        for (Check c = 0; c < _CHECK_MAX; c++)
                if (CHECK_IS_DEFINITION(c) && s->check[c] == CHECK_FAIL)
                        return true;
        return false;
}

json_object *pool_status_checks_json(const PoolStatus *s) {
        json_object *o = json_object_new_object();
        for (Check c = 0; c < _CHECK_MAX; c++) {
                if (c == CHECK_NFS3 && s->check[c] == CHECK_NA)
                        continue; /* only there when --nfs-check asked for it */
                json_object *v = NULL;
                if (s->check[c] == CHECK_UNKNOWN)
                        v = json_object_new_string("unknown");
                else if (s->check[c] != CHECK_NA)
                        v = json_object_new_boolean(s->check[c] == CHECK_OK);
                json_object_object_add(o, check_names[c], v);
        }
        return o;
}

json_object *pool_status_problems_json(const PoolStatus *s) {
        json_object *a = json_object_new_array();
        if (s->conflict)
                json_object_array_add(a, json_object_new_string(s->conflict));
        for (size_t i = 0; i < s->problems->len; i++)
                json_object_array_add(a, json_object_new_string(((Problem *) s->problems->pdata[i])->text));
        return a;
}
