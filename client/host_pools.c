/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "error.h"
#include "host_pools.h"
#include "macro.h"

struct Host {
        virConnectPtr conn;
};

static void storage_pool_unref(virStoragePoolPtr p) {
        if (p)
                virStoragePoolFree(p);
}
typedef struct _virStoragePool StoragePool;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(StoragePool, storage_pool_unref)

/* libvirt prints every error to stderr unless told otherwise; we report each one once ourselves. */
static void quiet_error(void *userdata, virErrorPtr err) {
        (void) userdata;
        (void) err;
}

/* libvirt's last error as -errno plus its own text, prefixed with what we were doing. */
static int virt_fail(GError **error, const char *fmt, ...) _printf_(2, 3);
static int virt_fail(GError **error, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        g_autofree char *what = g_strdup_vprintf(fmt, ap);
        va_end(ap);

        virErrorPtr e = virGetLastError();
        int errnum = EIO;
        if (e)
                switch (e->code) {
                case VIR_ERR_NO_STORAGE_POOL:
                        errnum = ENOENT;
                        break;
                case VIR_ERR_NO_SUPPORT:
                        errnum = EOPNOTSUPP;
                        break;
                case VIR_ERR_NO_CONNECT:
                case VIR_ERR_SYSTEM_ERROR:
                case VIR_ERR_RPC:
                        errnum = ECONNREFUSED;
                        break;
                case VIR_ERR_OPERATION_INVALID:
                        errnum = EBUSY;
                        break;
                default:
                        break;
                }
        const char *msg = e && e->message ? e->message : "unknown libvirt error";
        return np_fail(error, errnum, "%s: %s", what, msg);
}

void host_pool_free(HostPool *p) {
        if (!p)
                return;
        g_free(p->name);
        g_free(p->uuid);
        g_free(p->type);
        pooldef_free(p->def);
        pooldef_free(p->live);
        g_free(p->def_error);
        g_free(p);
}

virConnectPtr host_connection(Host *h) {
        g_return_val_if_fail(h, NULL);
        return h->conn;
}

int host_open(const char *uri, Host **ret, GError **error) {
        g_return_val_if_fail(uri, -EINVAL);
        g_return_val_if_fail(ret, -EINVAL);

        virSetErrorFunc(NULL, quiet_error);
        virConnectPtr conn = virConnectOpen(uri);
        if (!conn) {
                virErrorPtr e = virGetLastError();
                return np_fail(error, ECONNREFUSED, "cannot connect to libvirt at %s: %s", uri,
                               e && e->message ? e->message : "unknown error");
        }
        Host *h = g_new0(Host, 1);
        h->conn = conn;
        *ret = h;
        return 0;
}

void host_close(Host *h) {
        if (!h)
                return;
        virConnectClose(h->conn);
        g_free(h);
}

static int read_pool(virStoragePoolPtr pool, HostPool **ret, GError **error) {
        g_autoptr(HostPool) p = g_new0(HostPool, 1);
        const char *name = virStoragePoolGetName(pool);
        char uuid[VIR_UUID_STRING_BUFLEN];
        int autostart = 0;

        if (!name || virStoragePoolGetUUIDString(pool, uuid) < 0)
                return virt_fail(error, "cannot read a storage pool");
        p->name = g_strdup(name);
        p->uuid = g_strdup(uuid);

        int active = virStoragePoolIsActive(pool);
        int persistent = virStoragePoolIsPersistent(pool);
        if (active < 0 || persistent < 0 || virStoragePoolGetAutostart(pool, &autostart) < 0)
                return virt_fail(error, "cannot read pool %s", name);
        p->active = active;
        p->persistent = persistent;
        p->autostart = autostart;

        virStoragePoolInfo info;
        if (virStoragePoolGetInfo(pool, &info) < 0)
                return virt_fail(error, "cannot read pool %s", name);
        p->capacity = info.capacity;
        p->allocation = info.allocation;
        p->available = info.available;

        g_autofree char *xml = virStoragePoolGetXMLDesc(pool, VIR_STORAGE_XML_INACTIVE);
        if (!xml && virGetLastErrorCode() == VIR_ERR_INVALID_ARG)
                /* drivers without the flag (test://) have one definition for both */
                xml = virStoragePoolGetXMLDesc(pool, 0);
        if (!xml)
                return virt_fail(error, "cannot read the definition of pool %s", name);
        g_autoptr(GError) perr = NULL;
        if (pooldef_xml_type(xml, &p->type, &perr) < 0) {
                p->def_error = g_strdup(perr->message);
                *ret = TAKE_PTR(p);
                return 0;
        }
        if (strcmp(p->type, "netfs") != 0) {
                *ret = TAKE_PTR(p);
                return 0;
        }
        if (pooldef_from_xml(xml, &p->def, &perr) < 0) {
                p->def_error = g_strdup(perr->message);
                *ret = TAKE_PTR(p);
                return 0;
        }
        if (p->active) {
                g_autofree char *live_xml = virStoragePoolGetXMLDesc(pool, 0);
                if (!live_xml)
                        return virt_fail(error, "cannot read the running definition of pool %s", name);
                g_clear_error(&perr);
                if (pooldef_from_xml(live_xml, &p->live, &perr) < 0)
                        p->def_error = g_strdup(perr->message);
        }
        *ret = TAKE_PTR(p);
        return 0;
}

static int compare_by_name(gconstpointer a, gconstpointer b) {
        const HostPool *x = *(HostPool *const *) a, *y = *(HostPool *const *) b;
        return strcmp(x->name, y->name);
}

int host_list_pools(Host *h, GPtrArray **ret, GError **error) {
        g_return_val_if_fail(h, -EINVAL);
        g_return_val_if_fail(ret, -EINVAL);

        virStoragePoolPtr *pools = NULL;
        int n = virConnectListAllStoragePools(h->conn, &pools, 0);
        if (n < 0)
                return virt_fail(error, "cannot list the storage pools");

        g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func((GDestroyNotify) host_pool_free);
        int r = 0;
        for (int i = 0; i < n; i++) {
                HostPool *p = NULL;
                g_autoptr(GError) perr = NULL;
                if (r == 0) {
                        int q = read_pool(pools[i], &p, &perr);
                        if (q == -ENOENT)
                                ; /* undefined under our feet: it is no longer on the host */
                        else if (q < 0) {
                                r = np_error_errno(perr);
                                g_propagate_error(error, TAKE_PTR(perr));
                        }
                        else
                                g_ptr_array_add(list, p);
                }
                virStoragePoolFree(pools[i]);
        }
        free(pools);
        if (r < 0)
                return r;
        g_ptr_array_sort(list, compare_by_name);
        *ret = TAKE_PTR(list);
        return 0;
}

static int lookup(Host *h, const char *name, virStoragePoolPtr *ret, GError **error) {
        virStoragePoolPtr pool = virStoragePoolLookupByName(h->conn, name);
        if (!pool)
                return virt_fail(error, "pool %s", name);
        *ret = pool;
        return 0;
}

int host_get_pool(Host *h, const char *name, HostPool **ret, GError **error) {
        g_return_val_if_fail(h && name && ret, -EINVAL);
        g_autoptr(StoragePool) pool = NULL;
        int r = lookup(h, name, &pool, error);
        if (r < 0)
                return r;
        return read_pool(pool, ret, error);
}

int host_define(Host *h, const PoolDef *def, GError **error) {
        g_return_val_if_fail(h && def, -EINVAL);
        g_autoptr(PoolDef) bare = pooldef_copy(def);
        bare->has_sizes = false; /* live numbers are libvirt's to compute */
        g_autofree char *xml = pooldef_to_xml(bare);
        g_autoptr(StoragePool) pool = virStoragePoolDefineXML(h->conn, xml, 0);
        if (!pool)
                return virt_fail(error, "define");
        return 0;
}

typedef enum PoolOp { OP_AUTOSTART, OP_BUILD, OP_START, OP_STOP, OP_REFRESH } PoolOp;

/* One libvirt call on the pool `name`; the error names the operation. */
static int pool_op(Host *h, const char *name, PoolOp op, GError **error) {
        static const char *const what[] = { "autostart", "build", "start", "stop", "refresh" };
        g_autoptr(StoragePool) pool = NULL;
        int r = lookup(h, name, &pool, error);
        if (r < 0)
                return r;
        switch (op) {
        case OP_AUTOSTART:
                r = virStoragePoolSetAutostart(pool, 1);
                break;
        case OP_BUILD:
                r = virStoragePoolBuild(pool, 0);
                break;
        case OP_START:
                r = virStoragePoolCreate(pool, 0);
                break;
        case OP_STOP:
                r = virStoragePoolDestroy(pool);
                break;
        case OP_REFRESH:
                r = virStoragePoolRefresh(pool, 0);
                break;
        }
        return r < 0 ? virt_fail(error, "%s", what[op]) : 0;
}

int host_set_autostart(Host *h, const char *name, GError **error) {
        return pool_op(h, name, OP_AUTOSTART, error);
}

int host_build(Host *h, const char *name, GError **error) {
        return pool_op(h, name, OP_BUILD, error);
}

int host_start(Host *h, const char *name, GError **error) {
        return pool_op(h, name, OP_START, error);
}

int host_stop(Host *h, const char *name, GError **error) {
        return pool_op(h, name, OP_STOP, error);
}

int host_refresh(Host *h, const char *name, GError **error) {
        return pool_op(h, name, OP_REFRESH, error);
}

/* ---- volumes ---- */

void host_volume_free(HostVolume *v) {
        if (!v)
                return;
        g_free(v->name);
        g_free(v->path);
        g_free(v->format);
        g_free(v);
}

static void storage_vol_unref(virStorageVolPtr v) {
        if (v)
                virStorageVolFree(v);
}
typedef struct _virStorageVol StorageVol;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(StorageVol, storage_vol_unref)

/* <volume><target><format type='X'/>: the volume's own format, not its backing store's
 * (<volume><backingStore><format/>) nor anything deeper. */
typedef struct FormatScan {
        unsigned depth;
        bool in_target; /* in <volume><target> */
        char *format;
} FormatScan;

static void format_start(GMarkupParseContext *ctx, const char *tag, const char **names, const char **values,
                         gpointer userdata, GError **error) {
        FormatScan *s = userdata;
        s->depth++;
        if (s->depth == 2 && strcmp(tag, "target") == 0)
                s->in_target = true;
        else if (s->depth == 3 && s->in_target && strcmp(tag, "format") == 0 && !s->format)
                for (size_t i = 0; names[i]; i++)
                        if (strcmp(names[i], "type") == 0)
                                s->format = g_strdup(values[i]);
}

static void format_end(GMarkupParseContext *ctx, const char *tag, gpointer userdata, GError **error) {
        FormatScan *s = userdata;
        if (s->depth == 2)
                s->in_target = false;
        s->depth--;
}

static char *volume_format(const char *xml) {
        static const GMarkupParser parser = { .start_element = format_start, .end_element = format_end };
        FormatScan s = {};
        g_autoptr(GMarkupParseContext) ctx = g_markup_parse_context_new(&parser, 0, &s, NULL);
        if (!g_markup_parse_context_parse(ctx, xml, -1, NULL) || !g_markup_parse_context_end_parse(ctx, NULL)) {
                g_free(s.format);
                return NULL;
        }
        return s.format;
}

static bool vol_vanished(void) {
        return virGetLastErrorCode() == VIR_ERR_NO_STORAGE_VOL;
}

/* 0 and *ret; 1 when the volume vanished while it was read; -errno. */
static int read_volume(virStorageVolPtr vol, HostVolume **ret, GError **error) {
        const char *name = virStorageVolGetName(vol);
        if (!name)
                return virt_fail(error, "cannot read a volume");
        g_autoptr(HostVolume) v = g_new0(HostVolume, 1);
        v->name = g_strdup(name);
        char *path = virStorageVolGetPath(vol); /* a copy, freed with free() */
        if (!path)
                return vol_vanished() ? 1 : virt_fail(error, "cannot read volume %s", name);
        v->path = g_strdup(path);
        free(path);
        virStorageVolInfo info;
        if (virStorageVolGetInfo(vol, &info) < 0)
                return vol_vanished() ? 1 : virt_fail(error, "cannot read volume %s", name);
        v->capacity = info.capacity;
        v->allocation = info.allocation;
        g_autofree char *xml = virStorageVolGetXMLDesc(vol, 0);
        if (!xml)
                return vol_vanished() ? 1 : virt_fail(error, "cannot read volume %s", name);
        v->format = volume_format(xml);
        *ret = TAKE_PTR(v);
        return 0;
}

static int compare_volumes(gconstpointer a, gconstpointer b) {
        const HostVolume *x = *(HostVolume *const *) a, *y = *(HostVolume *const *) b;
        return strcmp(x->name, y->name);
}

int host_list_volumes(Host *h, const char *name, GPtrArray **ret, GError **error) {
        g_return_val_if_fail(h && name && ret, -EINVAL);
        g_autoptr(StoragePool) pool = NULL;
        int r = lookup(h, name, &pool, error);
        if (r < 0)
                return r;

        virStorageVolPtr *vols = NULL;
        int n = virStoragePoolListAllVolumes(pool, &vols, 0);
        if (n < 0)
                return virt_fail(error, "cannot list the volumes of pool %s", name);
        g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func((GDestroyNotify) host_volume_free);
        r = 0;
        for (int i = 0; i < n; i++) {
                g_autoptr(StorageVol) vol = vols[i];
                HostVolume *v = NULL;
                if (r < 0)
                        continue;
                int q = read_volume(vol, &v, error);
                if (q < 0)
                        r = q;
                else if (q == 0)
                        g_ptr_array_add(list, v);
        }
        free(vols);
        if (r < 0)
                return r;
        g_ptr_array_sort(list, compare_volumes);
        *ret = TAKE_PTR(list);
        return 0;
}
