/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "engine.h"
#include "engine_internal.h"
#include "error.h"
#include "log.h"
#include "name.h"
#include "netaddr.h"
#include "show.h"
#include "size.h"
#include "steps.h"

/* Smallest share: ext4 with a journal and room for a few qcow2 headers. */
#define SHARE_MIN_SIZE (16ULL << 20)
#define SHARE_SIZE_ALIGN 4096ULL

void engine_set_progress(Engine *e, EngineProgress cb, void *userdata) {
        e->progress = cb;
        e->progress_userdata = userdata;
}

static int64_t now_seconds(void) {
        return (int64_t) time(NULL);
}

static char **share_clients(const Share *s) {
        return g_strsplit_set(s->clients ? s->clients : "", " ", -1);
}

/* ---- one operation on one share: what every step gets ---- */

typedef struct Op {
        Engine *e;
        Share *s;                /* the row, kept as the database has it by the step runner */
        const DiskBackend *disk; /* looked up once, when the share is loaded */
        DiskContext ctx;         /* image dir, inventory, the other shares' sources */
        char **in_use;
        bool force;              /* create: the admin forced a disk that carries signatures */
        size_t stopped_at;       /* create's undo: the index of the last step that began */
        ReconcileReport *rep;    /* reconcile: where repairs report */
        const char *path;        /* guard-remove: the foreign entry, relative to the share's root */
        GuardTarget target;      /* guard-remove: what the entry was when the removal was asked */
} Op;

static void op_done(Op *op) {
        g_strfreev(op->in_use);
}

/* Set op up for share s (not copied: the caller keeps it). */
static int op_init(Op *op, Engine *e, Share *s, GError **error) {
        *op = (Op) { .e = e, .s = s };
        op->disk = e->sys.disk_backend(s->backend);
        if (!op->disk)
                return np_fail(error, EINVAL, "share %s: unknown disk backend \"%s\"", s->name, s->backend);
        op->ctx = (DiskContext) {
                .image_dir = e->config->image_dir,
                .inventory = e->config->disks,
        };
        return 0;
}

/* The sources of every other share, for the backend calls that choose or check a disk (allocate,
 * validate): from the state, and a failure to list them is an error, never "none in use". */
static int op_load_in_use(Op *op, GError **error) {
        g_autoptr(GPtrArray) all = NULL;
        int r = state_share_list(op->e->state, &all, error);
        if (r < 0)
                return r;
        g_autoptr(GStrvBuilder) b = g_strv_builder_new();
        for (guint i = 0; i < all->len; i++) {
                const Share *o = g_ptr_array_index(all, i);
                if (o->source && strcmp(o->name, op->s->name) != 0)
                        g_strv_builder_add(b, o->source);
        }
        g_strfreev(op->in_use);
        op->in_use = g_strv_builder_end(b);
        op->ctx.in_use = op->in_use;
        return 0;
}

/* What the backend checks before it acts on the share's disk. formatted: the share's
 * filesystem exists (every step after create's mkfs), so the disk must carry it. */
static DiskRef disk_ref(const Share *s, bool formatted) {
        return (DiskRef) {
                .share = s->name,
                .source = s->source,
                .fs_uuid = formatted ? s->fs_uuid : NULL,
                .ino = s->source_ino,
        };
}

static const Config *cfg(const Op *op) {
        return op->e->config;
}

static const ShareFs *fsops(const Op *op) {
        return op->e->sys.fs;
}

static const ExportServer *server(const Op *op) {
        return op->e->sys.exports;
}

/* The share's disk as a block device; *ret_source (may be NULL): the source it was found
 * under, which for a disk differs from the recorded one when device names changed. */
static int attach(Op *op, bool formatted, char **ret_device, char **ret_source, GError **error) {
        DiskRef d = disk_ref(op->s, formatted);
        return op->disk->attach(&op->ctx, &d, ret_device, ret_source, error);
}

/* The share's block device now, changing nothing; NULL when not attached (or not found). */
static char *device_now(Op *op) {
        if (!op->s->source)
                return NULL;
        DiskRef d = disk_ref(op->s, op->s->status != SHARE_CREATING);
        char *device = NULL;
        return op->disk->device_now(&op->ctx, &d, &device, NULL) >= 0 ? device : NULL;
}

static bool mounted(Op *op) {
        g_autofree char *device = device_now(op);
        return device && fsops(op)->mounted(cfg(op), op->s->name, device);
}

/* The share's export; the caller frees *ret_clients and *ret_path, which spec points into. */
static void export_spec(Op *op, ExportSpec *ret, char ***ret_clients, char **ret_path) {
        *ret_clients = share_clients(op->s);
        *ret_path = config_share_path(cfg(op), op->s->name);
        *ret = (ExportSpec) {
                .path = *ret_path,
                .export_id = op->s->export_id,
                .clients = *ret_clients,
                .options = op->s->options ? op->s->options : cfg(op)->options,
        };
}

/* ---- the steps ---- */

static const StepTable create_table;

static int step_allocate(void *p, GError **error) {
        Op *op = p;
        Share *s = op->s;
        DiskRequest req = {
                .share = s->name,
                .size = s->size,
                .device = s->source && (op->disk->flags & DISK_TAKES_DEVICE) ? s->source : NULL,
                .force = op->force,
        };
        g_autofree char *source = NULL, *device = NULL;
        uint64_t ino = 0;
        int r = op_load_in_use(op, error);
        if (r < 0)
                return r;
        r = op->disk->allocate(&op->ctx, &req, &source, &ino, &device, error);
        if (r < 0)
                return r;
        g_free(s->source);
        s->source = TAKE_PTR(source);
        s->source_ino = ino;
        if (s->size == 0) {
                /* a disk taken without a size: the share's size is the disk's */
                DiskRef d = disk_ref(s, false);
                r = op->disk->size(&op->ctx, &d, &s->size, error);
        }
        return r; /* recorded with the step's end */
}

static int undo_allocate(void *p, GError **error) {
        Op *op = p;
        if (!op->s->source)
                return 0;
        /* A disk is wiped only when mkfs began on it (and only when it carries the share's
         * filesystem): one that mkfs never reached is handed back as it was. */
        int at = steps_find(&create_table, "mkfs");
        bool wipe = at >= 0 && op->stopped_at >= (size_t) at;
        DiskRef d = disk_ref(op->s, true);
        return op->disk->release(&op->ctx, &d, wipe, error);
}

static int step_mkfs(void *p, GError **error) {
        Op *op = p;
        g_autofree char *device = NULL;
        int r = attach(op, false, &device, NULL, error);
        if (r < 0)
                return r;
        return fsops(op)->format(device, op->s->name, op->s->fs_uuid, op->force, error);
}

static int step_mkdir(void *p, GError **error) {
        Op *op = p;
        uint64_t made = 0;
        int r = fsops(op)->make_dir(cfg(op), op->s->name, &made, error);
        if (r < 0 || !made)
                return r;
        /* Only the directory made here is removed by an undo: its inode is recorded at once, not
         * with the step's end, so that a crash right after this step still knows it. */
        op->s->dir_ino = made;
        return state_share_update(op->e->state, op->s, error);
}

static int undo_mkdir(void *p, GError **error) {
        Op *op = p;
        return fsops(op)->remove_dir(cfg(op), op->s->name, op->s->dir_ino, error);
}

static int step_mount(void *p, GError **error) {
        Op *op = p;
        g_autofree char *device = NULL;
        int r = attach(op, true, &device, NULL, error);
        if (r < 0)
                return r;
        return fsops(op)->mount(cfg(op), op->s->name, device, op->s->fs_uuid, error);
}

static int step_umount(void *p, GError **error) {
        Op *op = p;
        g_autofree char *device = device_now(op);
        return fsops(op)->umount(cfg(op), op->s->name, device, error);
}

static int step_chown(void *p, GError **error) {
        Op *op = p;
        return fsops(op)->set_owner(cfg(op), op->s->name, error);
}

static int step_fstab(void *p, GError **error) {
        Op *op = p;
        return fsops(op)->fstab_set(cfg(op), op->s->name, op->s->fs_uuid, NULL, error);
}

static int undo_fstab(void *p, GError **error) {
        Op *op = p;
        if (!op->s->fs_uuid)
                return 0; /* no filesystem chosen: no entry of ours */
        return fsops(op)->fstab_remove(cfg(op), op->s->name, op->s->fs_uuid, error);
}

/* Tell the export server about the share; only a mounted share is ever exported (clients would
 * write into the empty mount point on the root filesystem). */
static int step_export(void *p, GError **error) {
        Op *op = p;
        g_autofree char *path = config_share_path(cfg(op), op->s->name);
        if (!mounted(op))
                return np_fail(error, EIO, "%s is not mounted; not exporting it", path);
        ExportSpec spec;
        g_auto(GStrv) clients = NULL;
        g_autofree char *spec_path = NULL;
        export_spec(op, &spec, &clients, &spec_path);
        return server(op)->set(cfg(op), &spec, NULL, error);
}

/* Serve the share as the export server was told (its apply_path: the cost of one export). */
static int step_apply(void *p, GError **error) {
        Op *op = p;
        if (!server(op)->apply_path)
                return server(op)->apply(cfg(op), error);
        g_autofree char *path = config_share_path(cfg(op), op->s->name);
        return server(op)->apply_path(cfg(op), path, error);
}

/* Export and serve it (resize's way back after an offline resize). */
static int step_export_apply(void *p, GError **error) {
        int r = step_export(p, error);
        return r < 0 ? r : step_apply(p, error);
}

/* Stop serving the share: removed from the exports, applied (apply_path: the cost of one). */
static int step_unexport(void *p, GError **error) {
        Op *op = p;
        g_autofree char *path = config_share_path(cfg(op), op->s->name);
        int r = server(op)->remove(cfg(op), path, NULL, error);
        return r < 0 ? r : step_apply(p, error);
}

static int step_release(void *p, GError **error) {
        Op *op = p;
        if (!op->s->source)
                return 0;
        DiskRef d = disk_ref(op->s, true);
        return op->disk->release(&op->ctx, &d, true, error);
}

static int step_rmdir(void *p, GError **error) {
        return undo_mkdir(p, error);
}

static int step_grow(void *p, GError **error) {
        Op *op = p;
        DiskRef d = disk_ref(op->s, true);
        uint64_t now = 0;
        int r = op->disk->size(&op->ctx, &d, &now, error);
        if (r < 0)
                return r;
        if (now >= op->s->target_size)
                return 0;
        g_autofree char *device = NULL;
        r = attach(op, true, &device, NULL, error);
        if (r < 0)
                return r;
        return op->disk->grow(&op->ctx, &d, device, op->s->target_size, error);
}

static int step_resize_online(void *p, GError **error) {
        Op *op = p;
        g_autofree char *device = device_now(op);
        if (!device)
                return np_fail(error, ENXIO, "share %s: its disk is not attached", op->s->name);
        return fsops(op)->grow_online(cfg(op), op->s->name, device, error);
}

static int step_e2fsck(void *p, GError **error) {
        Op *op = p;
        g_autofree char *device = NULL;
        int r = attach(op, true, &device, NULL, error);
        return r < 0 ? r : fsops(op)->check(device, error);
}

static int step_resize2fs(void *p, GError **error) {
        Op *op = p;
        g_autofree char *device = NULL;
        int r = attach(op, true, &device, NULL, error);
        return r < 0 ? r : fsops(op)->grow_offline(device, error);
}

/* The guard: the root's immutable attribute as the share's mode wants it (engine_guard.c). */
static int step_guard(void *p, GError **error) {
        Op *op = p;
        return engine_guard_apply(op->e, op->s, NULL, error);
}

/* Undo of create's guard: the attribute off, so that the undo's umount and rmdir find the root
 * as they left it (an unmounted share: nothing to do). */
static int undo_guard(void *p, GError **error) {
        Op *op = p;
        int r = fsops(op)->protect(cfg(op), op->s->name, false, NULL, error);
        if (r == -ENOENT || r == -EOPNOTSUPP || r == -EPERM) {
                g_clear_error(error);
                return 0;
        }
        return r;
}

/* ---- reconcile's repairs of a ready share: run (and recorded) only when needed ---- */

static bool need_attach(void *p) {
        g_autofree char *device = device_now(p);
        return device == NULL;
}

/* "its filesystem is on X now": a disk whose recorded name points elsewhere since a reboot. */
static void report_moved(Op *op, const char *found_as) {
        if (found_as && g_strcmp0(found_as, op->s->source) != 0)
                g_ptr_array_add(op->rep->changes,
                                g_strdup_printf("%s: its filesystem (UUID=%s) is on %s now, recorded as %s: device names changed",
                                                op->s->name, op->s->fs_uuid, found_as, op->s->source));
}

static int repair_attach(void *p, GError **error) {
        Op *op = p;
        g_autofree char *device = NULL, *found_as = NULL;
        int r = attach(op, true, &device, &found_as, error);
        if (r < 0)
                return r;
        g_ptr_array_add(op->rep->changes,
                        g_strdup_printf("%s: attached %s as %s", op->s->name, op->s->source, device));
        report_moved(op, found_as);
        return 0;
}

static bool need_mount(void *p) {
        return !mounted(p);
}

static int repair_mount(void *p, GError **error) {
        Op *op = p;
        int r = step_mount(op, error);
        if (r < 0)
                return r;
        g_autofree char *device = device_now(op);
        g_autofree char *path = config_share_path(cfg(op), op->s->name);
        g_ptr_array_add(op->rep->changes, g_strdup_printf("%s: mounted %s (UUID=%s) on %s", op->s->name,
                                                          device ? device : "?", op->s->fs_uuid, path));
        return 0;
}

static bool need_fstab(void *p) {
        Op *op = p;
        return !fsops(op)->fstab_has(cfg(op), op->s->name, op->s->fs_uuid);
}

static int repair_fstab(void *p, GError **error) {
        Op *op = p;
        bool changed = false;
        int r = fsops(op)->fstab_set(cfg(op), op->s->name, op->s->fs_uuid, &changed, error);
        if (r < 0)
                return r;
        if (changed) {
                g_autofree char *path = config_share_path(cfg(op), op->s->name);
                g_ptr_array_add(op->rep->changes, g_strdup_printf("%s: wrote its fstab entry (UUID=%s %s)",
                                                                  op->s->name, op->s->fs_uuid, path));
        }
        return 0;
}

static bool need_guard(void *p) {
        Op *op = p;
        return engine_guard_needed(op->e, op->s);
}

static int repair_guard(void *p, GError **error) {
        Op *op = p;
        bool changed = false;
        int r = engine_guard_apply(op->e, op->s, &changed, error);
        if (r < 0)
                return r;
        if (changed) {
                bool on = engine_guard_mode(op->e, op->s) == GUARD_ENFORCE;
                g_ptr_array_add(op->rep->changes,
                                g_strdup_printf("%s: %s the immutable attribute of its root (guard %s)", op->s->name,
                                                on ? "set" : "cleared", guard_mode_name(engine_guard_mode(op->e, op->s))));
        }
        return 0;
}

/* ---- the tables ---- */

static const Step create_steps[] = {
        { "allocate", step_allocate, undo_allocate, NULL },
        { "mkfs", step_mkfs, NULL, NULL },
        { "mkdir", step_mkdir, undo_mkdir, NULL },
        { "mount", step_mount, step_umount, NULL },
        { "chown", step_chown, NULL, NULL },
        { "fstab", step_fstab, undo_fstab, NULL },
        { "export", step_export, step_unexport, NULL },
        { "apply", step_apply, NULL, NULL },
        { "guard", step_guard, undo_guard, NULL },
};
static const StepTable create_table = { "create", create_steps, G_N_ELEMENTS(create_steps) };

static const Step delete_steps[] = {
        { "unexport", step_unexport, NULL, NULL },
        { "umount", step_umount, NULL, NULL },
        { "fstab", undo_fstab, NULL, NULL },
        { "release", step_release, NULL, NULL },
        { "rmdir", step_rmdir, NULL, NULL },
};
static const StepTable delete_table = { "delete", delete_steps, G_N_ELEMENTS(delete_steps) };

/* Resize: grow, then either the online step alone, or (when the kernel refuses it, or the
 * share is not mounted) the offline steps. */
enum { RESIZE_GROW, RESIZE_ONLINE, RESIZE_OFFLINE_FIRST };
static const Step resize_steps[] = {
        [RESIZE_GROW] = { "grow", step_grow, NULL, NULL },
        [RESIZE_ONLINE] = { "resize-online", step_resize_online, NULL, NULL },
        { "unexport", step_unexport, NULL, NULL },
        { "umount", step_umount, NULL, NULL },
        { "e2fsck", step_e2fsck, NULL, NULL },
        { "resize2fs", step_resize2fs, NULL, NULL },
        { "mount", step_mount, NULL, NULL },
        { "export", step_export_apply, NULL, NULL },
};
static const StepTable resize_table = { "resize", resize_steps, G_N_ELEMENTS(resize_steps) };

static const Step repair_steps[] = {
        { "attach", repair_attach, NULL, need_attach },
        { "mkdir", step_mkdir, NULL, need_mount },
        { "mount", repair_mount, NULL, need_mount },
        { "fstab", repair_fstab, NULL, need_fstab },
        { "guard", repair_guard, NULL, need_guard },
};
static const StepTable repair_table = { "reconcile", repair_steps, G_N_ELEMENTS(repair_steps) };

static const Step guard_steps[] = {
        { "guard", step_guard, NULL, NULL },
};
static const StepTable guard_table = { "guard", guard_steps, G_N_ELEMENTS(guard_steps) };

/* The guard's removal of a foreign entry (engine_guard.c): idempotent (gone already is done), and
 * only of the entry recorded (the runner's note). */
static int step_remove_foreign(void *p, GError **error) {
        Op *op = p;
        _cleanup_close_ int root = -1;
        int r = fsops(op)->open_root(cfg(op), op->s->name, &root, error);
        if (r < 0)
                return r;
        return engine_guard_remove_path(op->e, op->s->name, root, op->path, &op->target, error);
}

static const Step remove_steps[] = {
        { "remove", step_remove_foreign, NULL, NULL },
};
static const StepTable remove_table = { "guard-remove", remove_steps, G_N_ELEMENTS(remove_steps) };

static const StepTable *const tables[] = { &create_table, &delete_table, &resize_table, &repair_table, &guard_table,
                                           &remove_table };

void engine_steps(GPtrArray **ret_lines) {
        GPtrArray *lines = g_ptr_array_new_with_free_func(g_free);
        for (size_t t = 0; t < G_N_ELEMENTS(tables); t++)
                g_ptr_array_add(lines, steps_describe(tables[t]));
        engine_volume_steps(lines);
        engine_quarantine_steps(lines);
        *ret_lines = lines;
}

unsigned engine_op_total(const char *op) {
        if (g_strcmp0(op, "resize") == 0)
                return RESIZE_OFFLINE_FIRST; /* online; the offline path adds its steps when taken */
        for (size_t t = 0; t < G_N_ELEMENTS(tables); t++)
                if (g_strcmp0(tables[t]->op, op) == 0)
                        return (unsigned) tables[t]->n;
        unsigned n = engine_quarantine_op_total(op);
        return n ? n : engine_volume_op_total(op);
}

void engine_runner_progress(const char *op, const char *step, unsigned index, unsigned total, void *userdata) {
        Engine *e = userdata;
        if (e->progress)
                e->progress(op, step, index, total, e->progress_userdata);
}

static StepRunner runner_for(Op *op, unsigned total) {
        return (StepRunner) {
                .state = op->e->state,
                .row = op->s,
                .op = op,
                .progress = engine_runner_progress,
                .userdata = op->e,
                .total = total,
        };
}

/* ---- ShareInfo ---- */

void share_info_free(ShareInfo *i) {
        if (!i)
                return;
        share_free(i->share);
        if (i->volumes)
                g_ptr_array_unref(i->volumes);
        g_strfreev(i->clients);
        g_free(i->export_path);
        g_free(i->device);
        g_free(i->guard_note);
        findings_unref(i->findings);
        g_free(i);
}

static bool in_list(GPtrArray *paths, const char *path) {
        return paths && g_ptr_array_find_with_equal_func(paths, path, g_str_equal, NULL);
}

/* `exported`: the paths the export server was told; `served`: the paths it serves (each read
 * once by the caller; NULL when unknown). */
static ShareInfo *share_info_new(Engine *e, const Share *s, GPtrArray *exported, GPtrArray *served) {
        ShareInfo *i = g_new0(ShareInfo, 1);
        i->share = share_copy(s);
        i->clients = share_clients(s);
        i->export_path = config_share_path(e->config, s->name);
        Op op;
        if (op_init(&op, e, i->share, NULL) >= 0) {
                i->device = device_now(&op);
                i->mounted = i->device && e->sys.fs->mounted(e->config, s->name, i->device);
                op_done(&op);
        }
        i->exported = in_list(exported, i->export_path);
        i->served = in_list(served, i->export_path);
        i->guard = engine_guard_mode(e, s);
        i->guard_note = g_strdup(engine_guard_note(e, s->name));
        i->findings = engine_findings(e, s->name);
        i->guard_active = i->guard == GUARD_ENFORCE && i->guard_note ? GUARD_DETECT : i->guard;
        if (i->mounted)
                (void) e->sys.fs->is_protected(e->config, s->name, &i->guard_protected, NULL);
        if (state_volume_list(e->state, s->name, &i->volumes, NULL) >= 0)
                for (guint k = 0; k < i->volumes->len; k++)
                        i->provisioned += ((Volume *) g_ptr_array_index(i->volumes, k))->capacity;
        ShareUsage u;
        if (i->mounted && e->sys.fs->usage(e->config, s->name, &u, NULL) >= 0) {
                i->has_usage = true;
                i->capacity = u.capacity;
                i->used = u.used;
                i->available = u.available;
        }
        return i;
}

static GPtrArray *exported_now(Engine *e) {
        GPtrArray *paths = NULL;
        return e->sys.exports->listed(e->config, &paths, NULL) < 0 ? NULL : paths;
}

static GPtrArray *served_paths(Engine *e) {
        GPtrArray *paths = NULL;
        return e->sys.exports->served(e->config, &paths, NULL) < 0 ? NULL : paths;
}

/* One share's info: where the server can tell of one export, only of it (not of every export:
 * the answer of an operation on one share costs the same with 10 or 1,000 shares). */
static ShareInfo *share_info_read(Engine *e, const Share *s) {
        const ExportServer *srv = e->sys.exports;
        bool listed = false, serving = false;
        g_autofree char *path = srv->path_state ? config_share_path(e->config, s->name) : NULL;
        if (path && srv->path_state(e->config, path, &listed, &serving, NULL) >= 0) {
                g_autoptr(GPtrArray) exported = g_ptr_array_new();
                g_autoptr(GPtrArray) served = g_ptr_array_new();
                if (listed)
                        g_ptr_array_add(exported, path);
                if (serving)
                        g_ptr_array_add(served, path);
                return share_info_new(e, s, exported, served);
        }
        g_autoptr(GPtrArray) exported = exported_now(e);
        g_autoptr(GPtrArray) served = served_paths(e);
        return share_info_new(e, s, exported, served);
}

/* ---- engine ---- */

/* The address given to client hosts must be one of this machine's (libnl). */
static int check_address(const Config *c, GError **error) {
        if (!c->address)
                return 0;
        g_autoptr(GError) err = NULL;
        int r = netaddr_check_local(c->address, &err);
        if (r < 0)
                return np_fail(error, EINVAL, "%s: [server] address: %s", c->path ? c->path : "configuration",
                               err->message);
        return 0;
}

const EngineSystem engine_system_host = {
        .disk_backend = disk_backend_by_name,
        .exports = &export_server_kernel,
        .fs = &share_fs_host,
};

int engine_new_with(Config *config, const EngineSystem *sys, Engine **ret, GError **error) {
        g_autoptr(State) state = NULL;
        int r = check_address(config, error);
        if (r < 0)
                return r;
        if (!sys->disk_backend(config_backend_to_string(config->backend)))
                return np_fail(error, EINVAL, "[shares] backend %s: no such disk backend",
                               config_backend_to_string(config->backend));
        r = state_open(config->state_dir, &state, error);
        if (r < 0)
                return r;
        Engine *e = g_new0(Engine, 1);
        e->config = config;
        e->state = g_steal_pointer(&state);
        e->sys = *sys;
        e->guard_notes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        e->findings = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify) findings_unref);
        e->audit_caches = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify) audit_cache_free);
        *ret = e;
        return 0;
}

int engine_new(Config *config, Engine **ret, GError **error) {
        EngineSystem sys = engine_system_host;
        sys.exports = export_server_by_name(config->export_server);
        if (!sys.exports)
                return np_fail(error, EINVAL, "[exports] server %s: no such NFS server", config->export_server);
        return engine_new_with(config, &sys, ret, error);
}

void engine_free(Engine *e) {
        if (!e)
                return;
        state_close(e->state);
        config_free(e->config);
        g_hash_table_unref(e->guard_notes);
        g_hash_table_unref(e->findings);
        g_hash_table_unref(e->audit_caches);
        g_free(e);
}

const Config *engine_config(const Engine *e) {
        return e->config;
}

int engine_set_config(Engine *e, Config *config, GError **error) {
        static const struct {
                const char *key;
                size_t off;
        } fixed[] = {
                { "[server] state_dir", G_STRUCT_OFFSET(Config, state_dir) },
                { "[shares] base", G_STRUCT_OFFSET(Config, base) },
                { "[shares] image_dir", G_STRUCT_OFFSET(Config, image_dir) },
                { "[exports] server", G_STRUCT_OFFSET(Config, export_server) },
                { "[exports] file", G_STRUCT_OFFSET(Config, exports_file) },
                { "[exports] ganesha_config", G_STRUCT_OFFSET(Config, ganesha_config) },
                { "[system] fstab", G_STRUCT_OFFSET(Config, fstab) },
        };
        for (size_t i = 0; i < G_N_ELEMENTS(fixed); i++) {
                const char *a = G_STRUCT_MEMBER(char *, e->config, fixed[i].off);
                const char *b = G_STRUCT_MEMBER(char *, config, fixed[i].off);
                if (g_strcmp0(a, b) != 0) {
                        config_free(config);
                        return np_fail(error, EINVAL, "%s cannot change while nfsprovd runs (%s -> %s); restart it",
                                       fixed[i].key, a, b);
                }
        }
        if (e->config->backend != config->backend) {
                config_free(config);
                return np_fail(error, EINVAL, "[shares] backend cannot change while nfsprovd runs; restart it");
        }
        int r = check_address(config, error);
        if (r < 0) {
                config_free(config);
                return r;
        }
        config_free(e->config);
        e->config = config;
        return 0;
}

/* The share called name. -ENOENT: "OP NAME: no such share"; a database error is passed on as
 * it is (an error of the server, never "not found"). */
int engine_get_share(Engine *e, const char *op, const char *name, Share **ret, GError **error) {
        g_autoptr(GError) err = NULL;
        int r = state_share_get(e->state, name, ret, &err);
        if (r == -ENOENT)
                return np_fail(error, ENOENT, "%s%s%s: no such share", op ? op : "", op ? " " : "", name);
        if (r < 0)
                g_propagate_error(error, g_steal_pointer(&err));
        return r;
}

int engine_get_ready_share(Engine *e, const char *op, const char *name, Share **ret, GError **error) {
        int r = name_validate_share(name, error);
        if (r < 0)
                return r;
        g_autoptr(Share) s = NULL;
        r = engine_get_share(e, op, name, &s, error);
        if (r < 0)
                return r;
        if (s->status != SHARE_READY) {
                g_autofree char *doing = s->operation ? g_strdup_printf(" (operation %s at step %s)", s->operation,
                                                                        s->step ? s->step : "-")
                                                      : g_strdup("");
                return np_fail(error, EBUSY, "%s %s: the share is %s%s; run `nfsprov reconcile` and retry", op, name,
                               share_status_to_string(s->status), doing);
        }
        *ret = TAKE_PTR(s);
        return 0;
}

/* ---- create ---- */

static bool same_clients(const Share *s, char **clients) {
        g_autofree char *joined = g_strjoinv(" ", clients);
        return g_strcmp0(s->clients, joined) == 0;
}

/* Everything about the request that can be refused is refused here, before anything is
 * recorded: nothing changes. *ret_source: what the backend records before it allocates. */
static int validate_spec(Engine *e, const DiskBackend *disk, const ShareSpec *spec, char **clients,
                         char **ret_source, GError **error) {
        int r = name_validate_share(spec->name, error);
        if (r < 0)
                return r;
        if (spec->size != 0 && spec->size < SHARE_MIN_SIZE) {
                g_autofree char *h = size_format(spec->size);
                return np_fail(error, EINVAL, "create %s: size %s is too small; the minimum is 16 MiB", spec->name, h);
        }
        if (spec->size % SHARE_SIZE_ALIGN)
                return np_fail(error, EINVAL, "create %s: size %" G_GUINT64_FORMAT
                                              " is not a multiple of 4 KiB; use whole KiB multiples of 4 (e.g. 512M, 10G)",
                               spec->name, spec->size);
        if (spec->force && !spec->disk)
                return np_fail(error, EINVAL, "create %s: --force needs --disk: nfsprov never picks a disk "
                                              "that is not blank by itself",
                               spec->name);
        for (char **c = clients; *c; c++) {
                r = config_check_client(*c, error);
                if (r < 0)
                        return r;
        }
        if (!*clients)
                return np_fail(error, EINVAL, "create %s: no export clients given", spec->name);
        GuardMode mode;
        if (spec->guard && (r = guard_mode_parse(spec->guard, &mode, error)) < 0)
                return r;

        g_autoptr(Share) probe = g_new0(Share, 1);
        probe->name = g_strdup(spec->name);
        probe->backend = g_strdup(disk->name);
        _cleanup_(op_done) Op op = { 0 };
        r = op_init(&op, e, probe, error);
        if (r >= 0)
                r = op_load_in_use(&op, error);
        if (r < 0)
                return r;
        DiskRequest req = { .share = spec->name, .size = spec->size, .device = spec->disk, .force = spec->force };
        g_autoptr(GError) err = NULL;
        r = disk->validate(&op.ctx, &req, ret_source, &err);
        if (r < 0)
                return np_fail_prefix(error, g_steal_pointer(&err), "create %s", spec->name);
        r = e->sys.fs->check_dir(e->config, spec->name, &err);
        if (r < 0) {
                g_free(*ret_source);
                *ret_source = NULL;
                return np_fail_prefix(error, g_steal_pointer(&err), "create %s", spec->name);
        }
        return 0;
}

/* Undo the steps of a create that began, in reverse, and drop the row. Each undo is
 * idempotent, so this is also how reconcile rolls back a create that crashed anywhere. */
static int undo_create(Op *op, size_t stopped_at, GError **error) {
        op->stopped_at = stopped_at;
        StepRunner r = runner_for(op, 0);
        int ret = steps_undo(&r, &create_table, stopped_at, error);
        if (ret < 0)
                return ret;
        return state_share_delete(op->e->state, op->s->name, error);
}

int engine_create(Engine *e, const ShareSpec *spec, ShareInfo **ret, bool *ret_created, GError **error) {
        g_auto(GStrv) clients = g_strdupv(spec->clients ? spec->clients : e->config->clients);
        const DiskBackend *disk = e->sys.disk_backend(config_backend_to_string(e->config->backend));
        g_autofree char *source = NULL;

        g_autoptr(Share) old = NULL;
        g_autoptr(GError) get_error = NULL;
        int r = state_share_get(e->state, spec->name, &old, &get_error);
        if (r < 0 && r != -ENOENT) {
                g_propagate_error(error, g_steal_pointer(&get_error));
                return r; /* a database error is an error, never "no such share" */
        }
        if (r >= 0) {
                r = name_validate_share(spec->name, error);
                if (r < 0)
                        return r;
                bool same = same_clients(old, clients) && e->sys.disk_backend(old->backend) == disk &&
                            (spec->size == 0 || spec->size == old->size) &&
                            (!spec->disk || (old->source && disk_same_source(old->source, spec->disk)));
                if (old->status != SHARE_READY)
                        return np_fail(error, EBUSY, "create %s: the share is %s (operation %s at step %s); run "
                                                     "`nfsprov reconcile` and retry",
                                       spec->name, share_status_to_string(old->status),
                                       old->operation ? old->operation : "-", old->step ? old->step : "-");
                if (!same)
                        return np_fail(error, EEXIST, "create %s: a share of that name exists with another "
                                                      "size, disk or clients; `nfsprov show %s` shows it",
                                       spec->name, spec->name);
                if (ret)
                        *ret = share_info_read(e, old);
                if (ret_created)
                        *ret_created = false;
                return 0;
        }
        r = validate_spec(e, disk, spec, clients, &source, error);
        if (r < 0)
                return r;

        g_autoptr(Share) s = g_new0(Share, 1);
        s->name = g_strdup(spec->name);
        s->pool_uuid = g_uuid_string_random();
        s->fs_uuid = g_uuid_string_random(); /* chosen now: mkfs.ext4 -U gets it, no scan finds it */
        s->backend = g_strdup(disk->name);
        s->source = TAKE_PTR(source);
        s->size = spec->size;
        s->clients = g_strjoinv(" ", clients);
        s->options = g_strdup(e->config->options);
        s->guard = g_strdup(spec->guard);
        s->status = SHARE_CREATING;
        s->operation = g_strdup("create");
        r = state_share_insert(e->state, s, error);
        if (r < 0)
                return r;
        {
                g_autoptr(Share) row = NULL; /* what the insert allocated: the Export_Id */
                r = state_share_get(e->state, s->name, &row, error);
                if (r < 0)
                        return r;
                s->export_id = row->export_id;
        }

        _cleanup_(op_done) Op op = { 0 };
        r = op_init(&op, e, s, error);
        if (r < 0)
                return r;
        op.force = spec->force;
        StepRunner run = runner_for(&op, (unsigned) create_table.n);
        g_autoptr(GError) step_error = NULL;
        size_t failed = 0;
        r = steps_run(&run, &create_table, 0, create_table.n, &failed, &step_error);
        if (r < 0) {
                const char *name = create_table.steps[failed].name;
                (void) state_step_fail(e->state, s->name, "create", name, step_error->message, NULL);
                g_autoptr(GError) undo_error = NULL;
                if (undo_create(&op, failed, &undo_error) < 0) {
                        g_free(s->error);
                        s->error = g_strdup_printf("step %s failed: %s; undo failed: %s", name, step_error->message,
                                                   undo_error->message);
                        (void) state_share_update(e->state, s, NULL);
                        return np_fail(error, -np_error_errno(step_error), "create %s: %s (reconcile retries the undo)",
                                       spec->name, s->error);
                }
                int errnum = -np_error_errno(step_error);
                return np_fail(error, errnum == EINVAL ? EIO : errnum, "create %s: step %s failed: %s; undone",
                               spec->name, name, step_error->message);
        }
        s->status = SHARE_READY;
        g_clear_pointer(&s->operation, g_free);
        g_clear_pointer(&s->error, g_free);
        r = steps_finish(&run, "create", error);
        if (r < 0)
                return r;
        if (ret)
                *ret = share_info_read(e, s);
        if (ret_created)
                *ret_created = true;
        return 0;
}

/* ---- delete ---- */

/* Roll a delete forward from step `from`: every step is idempotent. */
static int finish_delete(Op *op, size_t from, GError **error) {
        Share *s = op->s;
        StepRunner run = runner_for(op, (unsigned) delete_table.n);
        run.done = (unsigned) from;
        g_autoptr(GError) err = NULL;
        size_t failed = 0;
        int r = steps_run(&run, &delete_table, from, delete_table.n, &failed, &err);
        if (r < 0) {
                const char *name = delete_table.steps[failed].name;
                (void) state_step_fail(op->e->state, s->name, "delete", name, err->message, NULL);
                g_free(s->error);
                s->error = g_strdup_printf("step %s failed: %s", name, err->message);
                (void) state_share_update(op->e->state, s, NULL);
                return np_fail(error, -r, "delete %s: step %s failed: %s (reconcile finishes the delete)", s->name,
                               name, err->message);
        }
        g_hash_table_remove(op->e->audit_caches, s->name); /* a share of that name is another filesystem */
        return state_share_delete(op->e->state, s->name, error);
}

int engine_delete(Engine *e, const char *name, bool force, GError **error) {
        int r = name_validate_share(name, error);
        if (r < 0)
                return r;
        g_autoptr(Share) s = NULL;
        r = engine_get_share(e, "delete", name, &s, error);
        if (r < 0)
                return r;
        if (s->status == SHARE_CREATING || s->status == SHARE_RESIZING)
                return np_fail(error, EBUSY, "delete %s: the share is %s; run `nfsprov reconcile` first", name,
                               share_status_to_string(s->status));
        _cleanup_(op_done) Op op = { 0 };
        r = op_init(&op, e, s, error);
        if (r < 0)
                return r;
        if (s->status == SHARE_DELETING) {
                int at = steps_find(&delete_table, s->step);
                return finish_delete(&op, at < 0 ? 0 : (size_t) at, error);
        }
        if (!force) {
                /* Volumes first: the manifest names them. */
                g_autoptr(GPtrArray) vols = NULL;
                r = engine_volumes_of(e, name, NULL, &vols, error);
                if (r < 0)
                        return r;
                if (vols->len > 0) {
                        guint n = vols->len;
                        g_ptr_array_set_size(vols, MIN(n, 5));
                        g_ptr_array_add(vols, NULL);
                        g_autofree char *list = g_strjoinv(", ", (char **) vols->pdata);
                        return np_fail(error, ENOTEMPTY,
                                       "delete %s: the share holds %u volume%s (%s%s); delete them first or use --force",
                                       name, n, n == 1 ? "" : "s", list, n > 5 ? ", ..." : "");
                }
                /* Check what the share holds before anything changes: the share must be mounted. */
                if (!mounted(&op))
                        return np_fail(error, EBUSY, "delete %s: the share is not mounted, so its content cannot be "
                                                     "checked; run `nfsprov reconcile` or use --force",
                                       name);
                g_autoptr(GPtrArray) found = NULL;
                bool more = false;
                r = e->sys.fs->list(e->config, name, 3, &found, &more, error);
                if (r < 0)
                        return r;
                if (found->len > 0) {
                        g_ptr_array_add(found, NULL);
                        g_autofree char *list = g_strjoinv(", ", (char **) found->pdata);
                        return np_fail(error, ENOTEMPTY,
                                       "delete %s: the share holds files (%s%s); delete them first or use --force", name,
                                       list, more ? ", ..." : "");
                }
        }
        if (s->source) {
                /* A disk that is not the share's is never released: refuse before anything changes. */
                g_autofree char *device = NULL;
                g_autoptr(GError) err = NULL;
                r = attach(&op, true, &device, NULL, &err);
                if (r == -ESTALE)
                        return np_fail(error, ESTALE, "delete %s: %s; nothing changed", name, err->message);
        }
        /* The point of no return (recorded with the first step): a crash is finished by reconcile. */
        s->status = SHARE_DELETING;
        r = finish_delete(&op, 0, error);
        if (r >= 0)
                engine_guard_forget(e, name);
        return r;
}

/* ---- resize ---- */

/* Grow the disk and the filesystem to s->target_size: online when the share is mounted and the
 * kernel lets us (decided on the ioctl's errno), else offline. */
static int finish_resize(Op *op, bool *ret_offline, GError **error) {
        Share *s = op->s;
        bool online = mounted(op);
        StepRunner run = runner_for(op, online ? RESIZE_OFFLINE_FIRST : (unsigned) resize_table.n - 1);
        size_t failed = 0;
        int r = steps_run(&run, &resize_table, RESIZE_GROW, RESIZE_GROW + 1, &failed, error);
        if (r < 0)
                return r;
        bool offline = !online;
        if (online) {
                g_autoptr(GError) err = NULL;
                r = steps_run(&run, &resize_table, RESIZE_ONLINE, RESIZE_ONLINE + 1, &failed, &err);
                if (r == -EPERM) {
                        log_info("resize %s: %s", s->name, err->message);
                        offline = true;
                        run.total = (unsigned) resize_table.n;
                } else if (r < 0) {
                        g_propagate_error(error, g_steal_pointer(&err));
                        return r;
                }
        }
        if (offline) {
                r = steps_run(&run, &resize_table, RESIZE_OFFLINE_FIRST, resize_table.n, &failed, error);
                if (r < 0)
                        return r;
        }
        s->size = s->target_size;
        s->target_size = 0;
        s->status = SHARE_READY;
        g_clear_pointer(&s->operation, g_free);
        g_clear_pointer(&s->error, g_free);
        r = steps_finish(&run, "resize", error);
        if (r < 0)
                return r;
        if (ret_offline)
                *ret_offline = offline;
        return 0;
}

int engine_resize(Engine *e, const char *name, uint64_t new_size, ShareInfo **ret, bool *ret_offline,
                  GError **error) {
        g_autoptr(Share) s = NULL;
        int r = engine_get_ready_share(e, "resize", name, &s, error);
        if (r < 0)
                return r;
        g_autofree char *from = size_format(s->size), *to = size_format(new_size);
        if (new_size <= s->size)
                return np_fail(error, EINVAL, "resize %s: %s is not larger than the current %s; shares only grow", name,
                               to, from);
        if (new_size % SHARE_SIZE_ALIGN)
                return np_fail(error, EINVAL, "resize %s: size %" G_GUINT64_FORMAT " is not a multiple of 4 KiB", name,
                               new_size);
        _cleanup_(op_done) Op op = { 0 };
        r = op_init(&op, e, s, error);
        if (r < 0)
                return r;

        s->status = SHARE_RESIZING;
        s->target_size = new_size; /* recorded with the first step */
        g_autoptr(GError) err = NULL;
        r = finish_resize(&op, ret_offline, &err);
        if (r < 0) {
                (void) state_step_fail(e->state, s->name, "resize", s->step ? s->step : "resize", err->message, NULL);
                return np_fail(error, -r == EINVAL ? EIO : -r, "resize %s: %s (reconcile retries it)", name,
                               err->message);
        }
        if (ret)
                *ret = share_info_read(e, s);
        return 0;
}

/* ---- queries ---- */

int engine_get(Engine *e, const char *name, ShareInfo **ret, GError **error) {
        int r = name_validate_share(name, error);
        if (r < 0)
                return r;
        g_autoptr(Share) s = NULL;
        r = engine_get_share(e, NULL, name, &s, error);
        if (r < 0)
                return r;
        *ret = share_info_read(e, s);
        return 0;
}

int engine_set_guard(Engine *e, const char *name, const char *mode, ShareInfo **ret, GError **error) {
        int r = name_validate_share(name, error);
        if (r < 0)
                return r;
        GuardMode m;
        r = guard_mode_parse(mode, &m, error);
        if (r < 0)
                return r;
        g_autoptr(Share) s = NULL;
        r = engine_get_ready_share(e, "guard", name, &s, error);
        if (r < 0)
                return r;
        /* The mode is recorded first: a crash before the attribute follows is finished by
         * reconcile's guard repair. */
        g_free(s->guard);
        s->guard = g_strdup(guard_mode_name(m));
        r = state_share_update(e->state, s, error);
        if (r < 0)
                return r;
        _cleanup_(op_done) Op op = { 0 };
        r = op_init(&op, e, s, error);
        if (r < 0)
                return r;
        StepRunner run = runner_for(&op, (unsigned) guard_table.n);
        run.journal_only = true;
        g_autoptr(GError) step_error = NULL;
        size_t failed = 0;
        r = steps_run(&run, &guard_table, 0, guard_table.n, &failed, &step_error);
        if (r < 0)
                return np_fail(error, -r, "guard %s: mode %s recorded, but %s (reconcile retries)", name,
                               guard_mode_name(m), step_error->message);
        if (m == GUARD_OFF)
                g_hash_table_remove(e->findings, name); /* off: nothing is reported */
        if (ret)
                *ret = share_info_read(e, s);
        return 0;
}

/* PATH as the guard names a foreign entry: relative, '/'-separated names, none empty, "." or "..". */
static int check_foreign_path(const char *share, const char *path, GError **error) {
        g_autofree char *shown = show_text(path);
        if (!*path || path[0] == '/' || strlen(path) >= PATH_MAX)
                return np_fail(error, EINVAL, "%s: \"%s\" is not a path in the share; give it as nfsprov audit shows it "
                                              "(e.g. dir/file.txt)", share, shown);
        g_auto(GStrv) parts = g_strsplit(path, "/", -1);
        for (char **c = parts; *c; c++)
                if (!**c || strcmp(*c, ".") == 0 || strcmp(*c, "..") == 0)
                        return np_fail(error, EINVAL, "%s: \"%s\" is not a path in the share: no empty, . or .. "
                                                      "components",
                                       share, shown);
        return 0;
}

int engine_foreign_target(Engine *e, const char *what, const char *name, const char *path, Share **ret,
                          GError **error) {
        int r = name_validate_share(name, error);
        if (r < 0)
                return r;
        r = check_foreign_path(name, path, error);
        if (r < 0)
                return r;
        g_autoptr(Share) s = NULL;
        r = engine_get_ready_share(e, what, name, &s, error);
        if (r < 0)
                return r;
        g_autofree char *shown = show_text(path);
        if (!strchr(path, '/')) {
                g_autoptr(Volume) v = NULL;
                if (strcmp(path, "lost+found") == 0 || g_str_has_prefix(path, ".nfsprov-"))
                        return np_fail(error, EINVAL, "%s %s/%s: it is the filesystem's or nfsprov's own, not a "
                                                      "foreign entry",
                                       what, name, shown);
                if (state_volume_get(e->state, name, path, &v, NULL) >= 0)
                        return np_fail(error, EINVAL, "%s %s/%s: it is a volume; use nfsprov vol-delete", what, name,
                                       shown);
        }
        *ret = TAKE_PTR(s);
        return 0;
}

/* Run guard-remove of op->path (op->target) with its journal entries carrying the target, so that
 * reconcile can finish it after a crash; a failure is recorded ("fail"): the operation is over. */
static int run_remove(Op *op, StepProgress progress, GError **error) {
        g_autofree char *note = engine_guard_target_note(&op->target, op->path);
        StepRunner run = runner_for(op, (unsigned) remove_table.n);
        run.journal_only = true;
        run.note = note;
        run.progress = progress;
        size_t failed = 0;
        g_autoptr(GError) err = NULL;
        int r = steps_run(&run, &remove_table, 0, remove_table.n, &failed, &err);
        if (r >= 0)
                return 0;
        (void) state_journal_add(op->e->state, op->s->name, NULL, remove_table.op, remove_table.steps[failed].name, "fail",
                                 err->message, NULL);
        g_propagate_error(error, TAKE_PTR(err));
        return r;
}

int engine_remove_foreign(Engine *e, const char *name, const char *path, GError **error) {
        g_autoptr(Share) s = NULL;
        int r = engine_foreign_target(e, "remove", name, path, &s, error);
        if (r < 0)
                return r;
        _cleanup_(op_done) Op op = { 0 };
        r = op_init(&op, e, s, error);
        if (r < 0)
                return r;
        op.path = path;
        g_autofree char *shown = show_text(path);
        g_autoptr(GError) err = NULL;
        _cleanup_close_ int root = -1;
        r = fsops(&op)->open_root(cfg(&op), name, &root, &err);
        if (r >= 0)
                r = engine_guard_target(e, name, root, path, &op.target, &err);
        if (r == 0) {
                (void) engine_audit(e, name, NULL, NULL); /* not there: removed already */
                return 0;
        }
        if (r >= 0)
                r = run_remove(&op, engine_runner_progress, &err);
        if (r < 0)
                return np_fail_prefix(error, TAKE_PTR(err), "remove %s/%s", name, shown);
        (void) engine_audit(e, name, NULL, NULL); /* the findings follow at once */
        return 0;
}

int engine_list(Engine *e, GPtrArray **ret, GError **error) {
        g_autoptr(GPtrArray) all = NULL;
        int r = state_share_list(e->state, &all, error);
        if (r < 0)
                return r;
        g_autoptr(GPtrArray) exported = exported_now(e); /* once, not once per share */
        g_autoptr(GPtrArray) served = served_paths(e);
        GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify) share_info_free);
        for (guint i = 0; i < all->len; i++)
                g_ptr_array_add(out, share_info_new(e, g_ptr_array_index(all, i), exported, served));
        *ret = out;
        return 0;
}

int engine_pooldef_of(Engine *e, const ShareInfo *info, const char *host_hint, PoolDef **ret, GError **error) {
        const char *name = info->share->name;
        const char *host = e->config->address ? e->config->address : host_hint;
        if (!host)
                return np_fail(error, EINVAL, "%s: no server address: set [server] address in %s", name,
                               e->config->path ? e->config->path : "the configuration");
        g_autoptr(PoolDef) p = pooldef_new();
        p->name = g_strdup(name);
        p->uuid = g_strdup(info->share->pool_uuid);
        p->host = g_strdup(host);
        p->source_dir = g_strdup(info->export_path);
        p->target_path = config_target_path(e->config, name);
        if (info->has_usage) {
                p->has_sizes = true;
                p->capacity = info->capacity;
                p->allocation = info->used;
                p->available = info->available;
        }
        if (info->volumes) {
                /* the manifest client hosts compare libvirt's volume list with: the ready ones */
                p->volumes = g_ptr_array_new_with_free_func((GDestroyNotify) pool_volume_free);
                for (guint i = 0; i < info->volumes->len; i++) {
                        const Volume *v = g_ptr_array_index(info->volumes, i);
                        if (v->status == VOLUME_READY)
                                g_ptr_array_add(p->volumes, pool_volume_new(v->name, v->capacity, v->format));
                }
        }
        int r = pooldef_validate(p, error);
        if (r < 0)
                return r;
        *ret = g_steal_pointer(&p);
        return 0;
}

int engine_pooldef(Engine *e, const char *name, const char *host_hint, PoolDef **ret, GError **error) {
        g_autoptr(ShareInfo) info = NULL;
        int r = engine_get(e, name, &info, error);
        if (r < 0)
                return r;
        return engine_pooldef_of(e, info, host_hint, ret, error);
}

/* ---- reconcile ---- */

void reconcile_report_free(ReconcileReport *r) {
        if (!r)
                return;
        g_ptr_array_unref(r->changes);
        g_ptr_array_unref(r->problems);
        g_free(r);
}

static void report(GPtrArray *a, const char *fmt, ...) _printf_(2, 3);
static void report(GPtrArray *a, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        g_ptr_array_add(a, g_strdup_vprintf(fmt, ap));
        va_end(ap);
}

/* A ready (or resizing) share: attached, filesystem found, mounted, in fstab, each repair
 * recorded in the share's journal when it runs. (Exports come after, for all shares at once.) */
static void repair(Op *op, ReconcileReport *rep) {
        Share *s = op->s;
        op->rep = rep;
        StepRunner run = runner_for(op, 0);
        run.journal_only = true;
        run.progress = NULL;
        /* attached already: is it where it was recorded? (attach changes nothing then) */
        g_autofree char *device = device_now(op);
        if (device) {
                g_autofree char *again = NULL, *found_as = NULL;
                if (attach(op, true, &again, &found_as, NULL) >= 0)
                        report_moved(op, found_as);
        }
        g_autoptr(GError) err = NULL;
        size_t failed = 0;
        if (steps_run(&run, &repair_table, 0, repair_table.n, &failed, &err) < 0) {
                g_autofree char *path = config_share_path(op->e->config, s->name);
                const char *step = repair_table.steps[failed].name;
                if (strcmp(step, "attach") == 0)
                        report(rep->problems, "%s: cannot attach %s: %s", s->name, s->source, err->message);
                else if (strcmp(step, "fstab") == 0 || strcmp(step, "guard") == 0)
                        report(rep->problems, "%s: %s", s->name, err->message);
                else {
                        g_autofree char *now = device_now(op);
                        report(rep->problems, "%s: cannot mount %s on %s: %s", s->name, now ? now : s->source, path,
                               err->message);
                }
        }
        op->rep = NULL;
}

/* A guard-remove that stopped (nfsprovd died while it ran): the share journal's last entry of it
 * is a "begin", whose note names the entry and what it was; the removal runs again, and acts only
 * while the entry at that path is still the one recorded. Finished or not, the operation is then
 * over (a failure is recorded and said: what is left stays at its path, for the admin). */
static void finish_remove(Op *op, ReconcileReport *rep) {
        const char *name = op->s->name;
        g_autoptr(GPtrArray) journal = NULL;
        g_autoptr(GError) err = NULL;
        if (state_journal_list(op->e->state, name, &journal, &err) < 0) {
                report(rep->problems, "%s: cannot read its journal: %s", name, err->message);
                return;
        }
        const JournalEntry *last = NULL;
        for (guint i = journal->len; i-- > 0 && !last;) {
                const JournalEntry *j = g_ptr_array_index(journal, i);
                if (strcmp(j->operation, remove_table.op) == 0)
                        last = j;
        }
        if (!last || strcmp(last->phase, "begin") != 0)
                return;
        if (engine_guard_target_parse(last->message, &op->target, &op->path) < 0) {
                const char *why = "its journal entry does not name the entry it removed";
                (void) state_journal_add(op->e->state, name, NULL, remove_table.op, last->step, "fail", why, NULL);
                report(rep->problems, "%s: a removal (audit --remove) stopped, but %s; nothing done", name, why);
                return;
        }
        g_autofree char *shown = show_text(op->path);
        if (run_remove(op, NULL, &err) < 0)
                report(rep->problems, "%s: cannot finish the removal of %s that stopped: %s", name, shown, err->message);
        else
                report(rep->changes, "%s: finished the removal of %s that stopped (audit --remove)", name, shown);
        op->path = NULL;
}

/* Every export from the state: each ready, mounted share set, every other path nfsprov listed
 * removed, applied. Not per share and not journaled: derived from the state, idempotent.
 * remounted: the paths of shares this reconcile mounted. The server may serve such a path
 * already, but as the directory under the mount point: NFS-Ganesha, started before the mount (at
 * boot), read nfsprovd's file and holds that directory, and the same Export_Id and path look
 * served. Their exports are removed and applied first, so the apply below serves them anew, on
 * the shares' filesystems. */
static int exports_sync(Engine *e, GPtrArray *all, GHashTable *remounted, GError **error) {
        if (remounted && g_hash_table_size(remounted)) {
                GHashTableIter it;
                gpointer path;
                g_hash_table_iter_init(&it, remounted);
                while (g_hash_table_iter_next(&it, &path, NULL)) {
                        int r = e->sys.exports->remove(e->config, path, NULL, error);
                        if (r < 0)
                                return r;
                }
                int r = e->sys.exports->apply(e->config, error);
                if (r < 0)
                        return r;
        }
        g_autoptr(GHashTable) wanted = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        for (guint i = 0; i < all->len; i++) {
                Share *s = g_ptr_array_index(all, i);
                if (s->status != SHARE_READY)
                        continue;
                _cleanup_(op_done) Op op = { 0 };
                if (op_init(&op, e, s, NULL) < 0 || !mounted(&op))
                        continue;
                ExportSpec spec;
                g_auto(GStrv) clients = NULL;
                g_autofree char *path = NULL;
                export_spec(&op, &spec, &clients, &path);
                int r = e->sys.exports->set(e->config, &spec, NULL, error);
                if (r < 0)
                        return r;
                g_hash_table_add(wanted, g_steal_pointer(&path));
        }
        g_autoptr(GPtrArray) listed = NULL;
        int r = e->sys.exports->listed(e->config, &listed, error);
        if (r < 0)
                return r;
        for (guint i = 0; i < listed->len; i++) {
                const char *p = g_ptr_array_index(listed, i);
                if (!g_hash_table_contains(wanted, p)) {
                        r = e->sys.exports->remove(e->config, p, NULL, error);
                        if (r < 0)
                                return r;
                }
        }
        return e->sys.exports->apply(e->config, error);
}

static GHashTable *served_now(Engine *e) {
        GHashTable *set = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        g_autoptr(GPtrArray) paths = NULL;
        if (e->sys.exports->served(e->config, &paths, NULL) >= 0)
                for (guint i = 0; i < paths->len; i++)
                        g_hash_table_add(set, g_strdup(g_ptr_array_index(paths, i)));
        return set;
}

static void report_diff(GPtrArray *changes, GHashTable *from, GHashTable *to, const char *verb) {
        g_autoptr(GList) keys = g_list_sort(g_hash_table_get_keys(to), (GCompareFunc) strcmp);
        for (GList *l = keys; l; l = l->next)
                if (!g_hash_table_contains(from, l->data))
                        report(changes, "%s %s", verb, (const char *) l->data);
}

static ReconcileReport *report_new(void) {
        ReconcileReport *rep = g_new0(ReconcileReport, 1);
        rep->changes = g_ptr_array_new_with_free_func(g_free);
        rep->problems = g_ptr_array_new_with_free_func(g_free);
        return rep;
}

/* Exports last: only mounted shares get in, so mounts always come before exports. */
/* remounted: paths of shares mounted by this reconcile (NULL: none); whatever the server served
 * there before was not the share, so they are served anew and count as exported. */
static void reconcile_exports(Engine *e, GHashTable *before, GHashTable *remounted, ReconcileReport *rep) {
        if (remounted) {
                GHashTableIter it;
                gpointer path;
                g_hash_table_iter_init(&it, remounted);
                while (g_hash_table_iter_next(&it, &path, NULL))
                        g_hash_table_remove(before, path);
        }
        g_autoptr(GPtrArray) now = NULL;
        g_autoptr(GError) err = NULL;
        if (state_share_list(e->state, &now, &err) < 0 || exports_sync(e, now, remounted, &err) < 0)
                report(rep->problems, "exports: %s", err->message);
        g_autoptr(GHashTable) after = served_now(e);
        report_diff(rep->changes, before, after, "exported");
        report_diff(rep->changes, after, before, "unexported");
        rep->finished_at = now_seconds();
}

ReconcileReport *engine_reconcile_exports(Engine *e) {
        ReconcileReport *rep = report_new();
        g_autoptr(GHashTable) before = served_now(e);
        reconcile_exports(e, before, NULL, rep);
        return rep;
}

int engine_reconcile(Engine *e, ReconcileReport **ret, GError **error) {
        g_autoptr(GPtrArray) all = NULL;
        int r = state_share_list(e->state, &all, error);
        if (r < 0)
                return r;

        g_autoptr(ReconcileReport) rep = report_new();
        g_autoptr(GHashTable) before = served_now(e);
        g_autoptr(GHashTable) remounted = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        for (guint i = 0; i < all->len; i++) {
                Share *s = g_ptr_array_index(all, i);
                g_autoptr(GError) err = NULL;
                _cleanup_(op_done) Op op = { 0 };
                if (op_init(&op, e, s, &err) < 0) {
                        report(rep->problems, "%s: %s", s->name, err->message);
                        continue;
                }
                const char *step = s->step ? s->step : "-";
                switch (s->status) {
                case SHARE_CREATING: {
                        int at = steps_find(&create_table, s->step);
                        if (undo_create(&op, at < 0 ? create_table.n - 1 : (size_t) at, &err) < 0) {
                                report(rep->problems, "%s: cannot undo the unfinished create: %s", s->name,
                                       err->message);
                                g_free(s->error);
                                s->error = g_strdup(err->message);
                                (void) state_share_update(e->state, s, NULL);
                        } else
                                report(rep->changes, "%s: undid a create that stopped at step %s", s->name, step);
                        break;
                }
                case SHARE_DELETING: {
                        g_autofree char *at_step = g_strdup(step);
                        int at = steps_find(&delete_table, s->step);
                        if (finish_delete(&op, at < 0 ? 0 : (size_t) at, &err) < 0)
                                report(rep->problems, "%s: cannot finish the delete: %s", s->name, err->message);
                        else
                                report(rep->changes, "%s: finished a delete that stopped at step %s", s->name, at_step);
                        break;
                }
                case SHARE_RESIZING: {
                        /* The share must be attached and, where possible, mounted first. */
                        repair(&op, rep);
                        bool offline = false;
                        if (finish_resize(&op, &offline, &err) < 0)
                                report(rep->problems, "%s: cannot finish the resize: %s", s->name, err->message);
                        else
                                report(rep->changes, "%s: finished a resize to %" G_GUINT64_FORMAT " bytes%s",
                                       s->name, s->size, offline ? " (offline)" : "");
                        break;
                }
                default: {
                        bool was_mounted = mounted(&op);
                        repair(&op, rep);
                        if (!was_mounted && mounted(&op))
                                g_hash_table_add(remounted, config_share_path(e->config, s->name));
                        if (s->status == SHARE_READY)
                                finish_remove(&op, rep);
                        engine_volumes_reconcile(e, s, rep->changes, rep->problems);
                        engine_quarantine_reconcile(e, s, rep->changes, rep->problems);
                        break;
                }
                }
        }

        /* Exports last: only mounted shares get in, so mounts always come before exports. What the
         * server served at a path mounted just now was not the share (exports_sync). */
        reconcile_exports(e, before, remounted, rep);
        *ret = TAKE_PTR(rep);
        return 0;
}

/* ---- the export server's configuration ---- */

int engine_nfs_config(Engine *e, bool apply, ExportServerConfig *ret, GError **error) {
        return e->sys.exports->config(e->config, apply, ret, error);
}

const ExportServer *engine_export_server(const Engine *e) {
        return e->sys.exports;
}
