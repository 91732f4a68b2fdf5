/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "disk.h"
#include "engine.h"
#include "error.h"
#include "exports_apply.h"
#include "exports_entry.h"
#include "exports_file.h"
#include "exports_parse.h"
#include "fs.h"
#include "fstab.h"
#include "idmap.h"
#include "log.h"
#include "loopdev.h"
#include "name.h"
#include "netaddr.h"
#include "nfsconf.h"
#include "safepath.h"
#include "size.h"

/* Smallest share: ext4 with a journal and room for a few qcow2 headers. */
#define SHARE_MIN_SIZE (16ULL << 20)
#define SHARE_SIZE_ALIGN 4096ULL

struct Engine {
        Config *config;
        State *state;
        bool force_disk; /* set by engine_create for its allocate step: --force */
        EngineProgress progress;
        void *progress_userdata;
};

void engine_set_progress(Engine *e, EngineProgress cb, void *userdata) {
        e->progress = cb;
        e->progress_userdata = userdata;
}

/* ---- small helpers ---- */

static int64_t now_seconds(void) {
        return (int64_t) time(NULL);
}

/* NFSPROV_FAULT=OP:STEP[:after]: die here, as a crash or power loss would. */
static void fault_point(const char *op, const char *step, bool after) {
        const char *f = getenv("NFSPROV_FAULT");
        if (!f || !*f)
                return;
        g_autofree char *here = g_strdup_printf("%s:%s%s", op, step, after ? ":after" : "");
        if (strcmp(f, here) != 0)
                return;
        fprintf(stderr, "nfsprovd: NFSPROV_FAULT=%s: killing myself\n", f);
        fflush(stderr);
        raise(SIGKILL);
}

static const DiskBackend *backend_of(const Share *s) {
        return disk_backend_by_name(s->backend);
}

static char **share_clients(const Share *s) {
        return g_strsplit_set(s->clients ? s->clients : "", " ", -1);
}

static void disk_context(const Engine *e, char **in_use, DiskContext *ret) {
        *ret = (DiskContext) {
                .image_dir = e->config->image_dir,
                .inventory = e->config->disks,
                .in_use = in_use,
        };
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

/* What a disk backend call needs: the configuration's image directory and inventory, and the
 * sources of every share but `except` (a failure to list them is an error, never "none"). */
typedef struct DiskCall {
        DiskContext ctx;
        char **in_use;
} DiskCall;

static void disk_call_done(DiskCall *c) {
        g_strfreev(c->in_use);
}

static int disk_call_init(Engine *e, const char *except, DiskCall *ret, GError **error) {
        g_autoptr(GPtrArray) all = NULL;
        int r = state_share_list(e->state, &all, error);
        if (r < 0)
                return r;
        g_autoptr(GStrvBuilder) b = g_strv_builder_new();
        for (guint i = 0; i < all->len; i++) {
                const Share *s = g_ptr_array_index(all, i);
                if (s->source && (!except || strcmp(s->name, except) != 0))
                        g_strv_builder_add(b, s->source);
        }
        ret->in_use = g_strv_builder_end(b);
        disk_context(e, ret->in_use, &ret->ctx);
        return 0;
}

/* The share called name. -ENOENT: "OP NAME: no such share"; a database error is passed on as
 * it is (an error of the server, never "not found"). */
static int get_share(Engine *e, const char *op, const char *name, Share **ret, GError **error) {
        g_autoptr(GError) err = NULL;
        int r = state_share_get(e->state, name, ret, &err);
        if (r == -ENOENT)
                return np_fail(error, ENOENT, "%s%s%s: no such share", op ? op : "", op ? " " : "", name);
        if (r < 0)
                g_propagate_error(error, g_steal_pointer(&err));
        return r;
}

/* BASE, opened without following any symbolic link; create: make it (0755) when missing. */
static int open_base(Engine *e, bool create, int *ret_fd, GError **error) {
        if (create)
                return safepath_mkdir_p(e->config->base, 0755, ret_fd, error);
        return safepath_open(e->config->base, O_PATH | O_DIRECTORY, 0, ret_fd, error);
}

/* The block device of a share now, without changing anything: NULL when not attached (or its
 * disk cannot be found). Cheap (sysfs for a loop device, one probe for a disk): listing shares
 * must not scan every block device with libblkid (measured: ~50 ms a share). */
static char *share_device_now(Engine *e, const Share *s) {
        if (!s->source)
                return NULL;
        DiskContext ctx;
        disk_context(e, NULL, &ctx);
        DiskRef d = disk_ref(s, s->status != SHARE_CREATING);
        char *device = NULL;
        return backend_of(s)->device_now(&ctx, &d, &device, NULL) >= 0 ? device : NULL;
}

/* Is the share's filesystem (on `device`, as share_device_now() gives it) the mount on
 * BASE/NAME? BASE/NAME is reached without following a symbolic link. */
static bool mounted_from(Engine *e, const Share *s, const char *device) {
        struct stat st;
        if (!device || stat(device, &st) < 0 || !S_ISBLK(st.st_mode))
                return false;
        _cleanup_close_ int base = -1;
        dev_t devno;
        return open_base(e, false, &base, NULL) >= 0 &&
               fs_mounted_at(base, e->config->base, s->name, &devno, NULL) >= 0 && devno == st.st_rdev;
}

static bool share_mounted(Engine *e, const Share *s) {
        g_autofree char *device = share_device_now(e, s);
        return mounted_from(e, s, device);
}

/* ---- exports: derived from the state ---- */

/* The exports block holds every share that is ready (or `include`, being created or resized)
 * and mounted, except `exclude`. An unmounted share is never exported: clients would write into
 * the empty mount point on the root filesystem. */
static int exports_sync(Engine *e, const char *include, const char *exclude, bool apply_always,
                        GError **error) {
        g_autoptr(GPtrArray) all = NULL;
        int r = state_share_list(e->state, &all, error);
        if (r < 0)
                return r;

        g_autoptr(GPtrArray) entries = g_ptr_array_new_with_free_func((GDestroyNotify) exports_entry_free);
        for (guint i = 0; i < all->len; i++) {
                const Share *s = g_ptr_array_index(all, i);
                bool wanted = s->status == SHARE_READY || (include && strcmp(s->name, include) == 0);
                if (!wanted || (exclude && strcmp(s->name, exclude) == 0))
                        continue;
                if (!share_mounted(e, s))
                        continue;
                g_autofree char *path = config_share_path(e->config, s->name);
                ExportsEntry *x = exports_entry_new(path);
                g_auto(GStrv) clients = share_clients(s);
                for (char **c = clients; *c; c++)
                        if (**c)
                                exports_entry_add_client(x, *c, s->options ? s->options : e->config->options);
                g_ptr_array_add(entries, x);
        }

        bool changed = false;
        r = exports_file_write(e->config->exports_file, exports_mode_for_path(e->config->exports_file), entries,
                               &changed, error);
        if (r < 0)
                return r;
        if (changed || apply_always)
                return exports_apply(NULL, error);
        return 0;
}

/* ---- steps ---- */

typedef int (*StepFn)(Engine *e, Share *s, GError **error);

typedef struct Step {
        const char *name;
        StepFn run;
        StepFn undo; /* NULL: nothing to undo */
} Step;

static int step_allocate(Engine *e, Share *s, GError **error) {
        _cleanup_(disk_call_done) DiskCall dc = { 0 };
        int r = disk_call_init(e, s->name, &dc, error);
        if (r < 0)
                return r;
        const DiskContext *ctx = &dc.ctx;
        const char *requested = strcmp(s->backend, "disk") == 0 ? s->source : NULL;
        g_autofree char *source = NULL, *device = NULL;
        uint64_t ino = 0;
        /* image: the source (IMAGE_DIR/NAME.img) was recorded before this step, so a crash
         * in the middle leaves nothing reconcile cannot find. */
        r = backend_of(s)->allocate(ctx, s->name, s->size, requested, e->force_disk, &source, &ino, &device,
                                        error);
        if (r < 0)
                return r;
        g_free(s->source);
        s->source = g_steal_pointer(&source);
        s->source_ino = ino;
        if (s->size == 0) {
                /* a disk taken without a size: the share's size is the disk's */
                DiskRef d = disk_ref(s, false);
                r = backend_of(s)->size(ctx, &d, &s->size, error);
                if (r < 0)
                        return r;
        }
        return state_share_update(e->state, s, error);
}

static int undo_allocate(Engine *e, Share *s, GError **error) {
        if (!s->source)
                return 0;
        _cleanup_(disk_call_done) DiskCall dc = { 0 };
        int r = disk_call_init(e, s->name, &dc, error);
        if (r < 0)
                return r;
        const DiskContext *ctx = &dc.ctx;
        /* A disk is wiped only when it carries the share's filesystem (or nothing): a disk that
         * mkfs never reached, or that is no longer the share's, is left as it is. */
        DiskRef d = disk_ref(s, true);
        g_autoptr(GError) err = NULL;
        r = backend_of(s)->release(ctx, &d, &err);
        if (r == -ESTALE) {
                log_warning("%s: undo of allocate: %s; left as it is", s->name, err->message);
                return 0;
        }
        if (r < 0)
                g_propagate_error(error, g_steal_pointer(&err));
        return r;
}

/* The share's disk as a block device; *ret_source (may be NULL): the source it was found
 * under, which for a disk differs from the recorded one when device names changed. */
static int attach_device_at(Engine *e, const Share *s, bool formatted, char **ret_device, char **ret_source,
                            GError **error) {
        _cleanup_(disk_call_done) DiskCall dc = { 0 };
        int r = disk_call_init(e, s->name, &dc, error);
        if (r < 0)
                return r;
        const DiskContext *ctx = &dc.ctx;
        DiskRef d = disk_ref(s, formatted);
        return backend_of(s)->attach(ctx, &d, ret_device, ret_source, error);
}

static int attach_device(Engine *e, const Share *s, char **ret_device, GError **error) {
        return attach_device_at(e, s, true, ret_device, NULL, error);
}

static int step_mkfs(Engine *e, Share *s, GError **error) {
        g_autofree char *device = NULL;
        int r = attach_device_at(e, s, false, &device, NULL, error);
        if (r < 0)
                return r;
        /* Format only a blank disk, one that already carries this share's filesystem (an
         * earlier attempt), or the disk the admin forced. */
        r = disk_check_formattable(device, s->name, s->fs_uuid, e->force_disk, error);
        if (r < 0)
                return r;
        return fs_mkfs_ext4(device, s->name, s->fs_uuid, error);
}

/* BASE/NAME: made here (its inode recorded, so that only an undo of this step removes it), or
 * an existing empty directory (the admin's, kept). Never a symbolic link: the share's
 * filesystem would be mounted, and exported to remote root, wherever it points. */
static int step_mkdir(Engine *e, Share *s, GError **error) {
        _cleanup_close_ int base = -1;
        int r = open_base(e, true, &base, error);
        if (r < 0)
                return r;
        if (mkdirat(base, s->name, 0755) == 0) {
                struct stat st;
                if (fstatat(base, s->name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return np_fail(error, errno, "cannot stat %s/%s: %s", e->config->base, s->name, g_strerror(errno));
                s->dir_ino = (uint64_t) st.st_ino;
                return state_share_update(e->state, s, error);
        }
        if (errno != EEXIST)
                return np_fail(error, errno, "cannot create %s/%s: %s", e->config->base, s->name, g_strerror(errno));
        _cleanup_close_ int dir = -1;
        r = safepath_openat(base, e->config->base, s->name, O_RDONLY | O_DIRECTORY, 0, &dir, error);
        if (r == -ENOTDIR)
                return np_fail(error, ENOTDIR, "%s/%s exists and is not a directory", e->config->base, s->name);
        if (r < 0)
                return r;
        if (share_mounted(e, s))
                return 0;
        _cleanup_closedir_ DIR *listing = fdopendir(dup(dir));
        if (!listing)
                return np_fail(error, errno, "cannot list %s/%s: %s", e->config->base, s->name, g_strerror(errno));
        struct dirent *de;
        while ((de = readdir(listing)))
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                        return np_fail(error, ENOTEMPTY, "%s/%s exists and is not empty; nfsprov mounts the share there",
                                       e->config->base, s->name);
        return 0;
}

/* Remove BASE/NAME only when it is the directory step_mkdir made (its recorded inode) and
 * empty: an admin's directory, or anything put in its place, stays. */
static int undo_mkdir(Engine *e, Share *s, GError **error) {
        if (!s->dir_ino)
                return 0;
        _cleanup_close_ int base = -1;
        g_autoptr(GError) err = NULL;
        int r = open_base(e, false, &base, &err);
        if (r == -ENOENT)
                return 0;
        if (r < 0) {
                g_propagate_error(error, g_steal_pointer(&err));
                return r;
        }
        struct stat st;
        if (fstatat(base, s->name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno == ENOENT)
                        return 0;
                return np_fail(error, errno, "cannot stat %s/%s: %s", e->config->base, s->name, g_strerror(errno));
        }
        if (!S_ISDIR(st.st_mode) || (uint64_t) st.st_ino != s->dir_ino) {
                log_warning("%s: %s/%s is not the directory nfsprov made (inode %ju, made %" PRIu64 "); leaving it",
                            s->name, e->config->base, s->name, (uintmax_t) st.st_ino, s->dir_ino);
                return 0;
        }
        if (unlinkat(base, s->name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                return np_fail(error, errno, "cannot remove %s/%s: %s", e->config->base, s->name, g_strerror(errno));
        return 0;
}

static int step_mount(Engine *e, Share *s, GError **error) {
        g_autofree char *path = config_share_path(e->config, s->name);
        g_autofree char *device = NULL;
        int r = attach_device(e, s, &device, error);
        if (r < 0)
                return r;
        /* Mount only the share's own filesystem: probe the one device (no scan of all). */
        g_autofree char *uuid = NULL, *desc = NULL;
        r = disk_fs_uuid(device, &uuid, &desc, error);
        if (r < 0)
                return r;
        if (!uuid || g_ascii_strcasecmp(uuid, s->fs_uuid) != 0)
                return np_fail(error, ESTALE, "%s carries %s, not share %s's filesystem (UUID=%s); not mounting it", device,
                               desc ? desc : "nothing", s->name, s->fs_uuid);
        _cleanup_close_ int base = -1;
        r = open_base(e, false, &base, error);
        if (r < 0)
                return r;
        dev_t mounted;
        g_autoptr(GError) err = NULL;
        r = fs_mounted_at(base, e->config->base, s->name, &mounted, &err);
        if (r >= 0) {
                struct stat st;
                if (stat(device, &st) == 0 && st.st_rdev == mounted)
                        return 0; /* already */
                return np_fail(error, EBUSY, "cannot mount %s on %s: another filesystem (device %u:%u) is mounted there",
                               device, path, major(mounted), minor(mounted));
        }
        if (r != -ENOENT) {
                g_propagate_error(error, g_steal_pointer(&err));
                return r;
        }
        _cleanup_close_ int dir = -1;
        r = safepath_openat(base, e->config->base, s->name, O_PATH | O_DIRECTORY, 0, &dir, error);
        if (r < 0)
                return r;
        return fs_mount_fd(device, dir, path, error);
}

/* Unmount BASE/NAME only when what is mounted there is the share's filesystem. */
static int undo_mount(Engine *e, Share *s, GError **error) {
        _cleanup_close_ int base = -1;
        g_autoptr(GError) err = NULL;
        int r = open_base(e, false, &base, &err);
        if (r == -ENOENT)
                return 0;
        if (r < 0) {
                g_propagate_error(error, g_steal_pointer(&err));
                return r;
        }
        dev_t mounted;
        r = fs_mounted_at(base, e->config->base, s->name, &mounted, &err);
        if (r == -ENOENT)
                return 0; /* nothing mounted (or no directory) */
        if (r < 0) {
                g_propagate_error(error, g_steal_pointer(&err));
                return r;
        }
        g_autofree char *device = share_device_now(e, s);
        struct stat st;
        if (!device || stat(device, &st) < 0)
                return np_fail(error, EBUSY, "%s/%s has a filesystem mounted (device %u:%u), but the share's disk is not attached: it is not the share's; not unmounting it",
                               e->config->base, s->name, major(mounted), minor(mounted));
        return fs_umount_at(base, e->config->base, s->name, st.st_rdev, error);
}

/* Owner and mode of the share's root, through the mounted root itself. */
static int step_chown(Engine *e, Share *s, GError **error) {
        g_autofree char *path = config_share_path(e->config, s->name);
        uid_t uid;
        gid_t gid;
        int r = idmap_user_to_uid(e->config->owner, &uid, error);
        if (r < 0)
                return r;
        r = idmap_group_to_gid(e->config->group, &gid, error);
        if (r < 0)
                return r;
        _cleanup_close_ int base = -1;
        r = open_base(e, false, &base, error);
        if (r < 0)
                return r;
        _cleanup_close_ int root = -1;
        r = safepath_openat(base, e->config->base, s->name, O_RDONLY | O_DIRECTORY, 0, &root, error);
        if (r < 0)
                return r;
        bool is_root = false;
        r = fs_mount_root(root, &is_root, NULL, error);
        if (r < 0)
                return r;
        if (!is_root)
                return np_fail(error, ENOENT, "%s is not mounted; not changing the owner of the directory under it", path);
        if (fchown(root, uid, gid) < 0)
                return np_fail(error, errno, "cannot chown %s: %s", path, g_strerror(errno));
        if (fchmod(root, e->config->mode) < 0)
                return np_fail(error, errno, "cannot chmod %s: %s", path, g_strerror(errno));
        return 0;
}

static int step_fstab(Engine *e, Share *s, GError **error) {
        g_autofree char *path = config_share_path(e->config, s->name);
        return fstab_set(e->config->fstab, s->fs_uuid, path, error);
}

static int undo_fstab(Engine *e, Share *s, GError **error) {
        g_autofree char *path = config_share_path(e->config, s->name);
        if (!s->fs_uuid)
                return 0; /* no filesystem chosen: no entry of ours */
        return fstab_remove(e->config->fstab, s->fs_uuid, path, error);
}

static int step_export(Engine *e, Share *s, GError **error) {
        return exports_sync(e, s->name, NULL, false, error);
}

static int step_apply(Engine *e, Share *s, GError **error) {
        return exports_apply(NULL, error);
}

static int step_unexport(Engine *e, Share *s, GError **error) {
        return exports_sync(e, NULL, s->name, true, error);
}

static const Step create_steps[] = {
        { "allocate", step_allocate, undo_allocate },
        { "mkfs", step_mkfs, NULL },
        { "mkdir", step_mkdir, undo_mkdir },
        { "mount", step_mount, undo_mount },
        { "chown", step_chown, NULL },
        { "fstab", step_fstab, undo_fstab },
        { "export", step_export, step_unexport },
        { "apply", step_apply, NULL },
};

/* Record the start / end of a step, keeping the caller's copy of the row in step with the DB
 * (state_share_update writes the whole row, step columns included). */
static int record_begin(Engine *e, Share *s, const char *op, const char *step, GError **error) {
        int r = state_step_begin(e->state, s->name, op, step, error);
        if (r < 0)
                return r;
        if (e->progress)
                e->progress(op, step, e->progress_userdata);
        if (g_strcmp0(s->operation, op) != 0) {
                g_free(s->operation);
                s->operation = g_strdup(op);
        }
        g_free(s->step);
        s->step = g_strdup(step);
        s->step_done = false;
        return 0;
}

static int record_done(Engine *e, Share *s, const char *op, const char *step, GError **error) {
        int r = state_step_done(e->state, s->name, op, step, error);
        if (r < 0)
                return r;
        s->step_done = true;
        return 0;
}

/* Record, run, record. */
static int run_step(Engine *e, Share *s, const char *op, const Step *step, GError **error) {
        int r = record_begin(e, s, op, step->name, error);
        if (r < 0)
                return r;
        fault_point(op, step->name, false);
        r = step->run(e, s, error);
        if (r < 0)
                return r;
        fault_point(op, step->name, true);
        return record_done(e, s, op, step->name, error);
}

/* Undo every step of create in reverse. Each undo is idempotent, so this is also how reconcile
 * rolls back a create that crashed at any point. Returns the first failure (and keeps going). */
static int undo_create(Engine *e, Share *s, GError **error) {
        int ret = 0;
        for (size_t i = G_N_ELEMENTS(create_steps); i-- > 0;) {
                const Step *st = &create_steps[i];
                if (!st->undo)
                        continue;
                g_autoptr(GError) err = NULL;
                int r = st->undo(e, s, &err);
                (void) state_step_undo(e->state, s->name, "create", st->name, NULL);
                if (r < 0 && ret == 0)
                        ret = np_fail_prefix(error, g_steal_pointer(&err), "undo of step %s", st->name);
        }
        if (ret == 0)
                ret = state_share_delete(e->state, s->name, error);
        return ret;
}

/* ---- ShareInfo ---- */

void share_info_free(ShareInfo *i) {
        if (!i)
                return;
        share_free(i->share);
        g_strfreev(i->clients);
        g_free(i->export_path);
        g_free(i->device);
        g_free(i);
}

static bool in_exports_block(GPtrArray *entries, const char *path) {
        for (guint i = 0; entries && i < entries->len; i++)
                if (strcmp(((ExportsEntry *) g_ptr_array_index(entries, i))->path, path) == 0)
                        return true;
        return false;
}

/* `exports`: the block's entries, read once by the caller (NULL when unreadable). */
static ShareInfo *share_info_new(Engine *e, const Share *s, GPtrArray *exports) {
        ShareInfo *i = g_new0(ShareInfo, 1);
        i->share = share_copy(s);
        i->clients = share_clients(s);
        i->export_path = config_share_path(e->config, s->name);
        i->device = share_device_now(e, s);
        i->mounted = mounted_from(e, s, i->device);
        i->exported = in_exports_block(exports, i->export_path);
        if (i->mounted &&
            fs_usage(i->export_path, &i->capacity, &i->used, &i->available, NULL) >= 0)
                i->has_usage = true;
        return i;
}

static GPtrArray *exports_block_now(Engine *e) {
        GPtrArray *entries = NULL;
        return exports_file_read(e->config->exports_file, &entries, NULL) < 0 ? NULL : entries;
}

static ShareInfo *share_info_read(Engine *e, const Share *s) {
        g_autoptr(GPtrArray) exports = exports_block_now(e);
        return share_info_new(e, s, exports);
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

int engine_new(Config *config, Engine **ret, GError **error) {
        g_autoptr(State) state = NULL;
        int r = check_address(config, error);
        if (r < 0)
                return r;
        r = state_open(config->state_dir, &state, error);
        if (r < 0)
                return r;
        Engine *e = g_new0(Engine, 1);
        e->config = config;
        e->state = g_steal_pointer(&state);
        *ret = e;
        return 0;
}

void engine_free(Engine *e) {
        if (!e)
                return;
        state_close(e->state);
        config_free(e->config);
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
                { "[exports] file", G_STRUCT_OFFSET(Config, exports_file) },
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

/* Before anything is recorded: BASE/NAME must not be a symbolic link (nor lie under one) and
 * nothing may be mounted there. */
static int check_mount_point(Engine *e, const char *name, GError **error) {
        g_autofree char *path = config_share_path(e->config, name);
        _cleanup_close_ int base = -1;
        g_autoptr(GError) err = NULL;
        int r = open_base(e, false, &base, &err);
        if (r == -ENOENT)
                return 0; /* made at create */
        if (r < 0)
                return np_fail(error, r == -ELOOP ? EINVAL : -r, "create %s: [shares] base: %s", name, err->message);
        struct stat st;
        if (fstatat(base, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : np_fail(error, errno, "create %s: cannot stat %s: %s", name, path, g_strerror(errno));
        if (S_ISLNK(st.st_mode)) {
                g_autofree char *why = safepath_describe_link(path);
                return np_fail(error, EINVAL, "create %s: %s; remove it: nfsprov mounts a share only on a real directory", name,
                               why);
        }
        if (fs_mounted_at(base, e->config->base, name, NULL, NULL) >= 0)
                return np_fail(error, EBUSY, "create %s: something is already mounted on %s", name, path);
        return 0;
}

static bool same_clients(const Share *s, char **clients) {
        g_autofree char *joined = g_strjoinv(" ", clients);
        return g_strcmp0(s->clients, joined) == 0;
}

static int validate_spec(Engine *e, const ShareSpec *spec, char **clients, GError **error) {
        int r = name_validate_share(spec->name, error);
        if (r < 0)
                return r;
        bool image = e->config->backend == CONFIG_BACKEND_IMAGE;
        if (image && spec->disk)
                return np_fail(error, EINVAL, "--disk is for backend disk; this server uses image files "
                                              "([shares] backend = image): give --size");
        if (image && spec->size == 0)
                return np_fail(error, EINVAL, "create %s: a size is required with backend image (e.g. --size 50G)",
                               spec->name);
        if (spec->size != 0 && spec->size < SHARE_MIN_SIZE) {
                g_autofree char *h = size_format(spec->size);
                return np_fail(error, EINVAL, "create %s: size %s is too small; the minimum is 16 MiB", spec->name, h);
        }
        if (spec->size % SHARE_SIZE_ALIGN) {
                return np_fail(error, EINVAL, "create %s: size %" G_GUINT64_FORMAT
                                              " is not a multiple of 4 KiB; use whole KiB multiples of 4 (e.g. 512M, 10G)",
                               spec->name, spec->size);
        }
        if (spec->force && !spec->disk)
                return np_fail(error, EINVAL, "create %s: --force needs --disk: nfsprov never picks a disk "
                                              "that is not blank by itself",
                               spec->name);
        if (!image && spec->disk) {
                /* Refuse a disk before anything is recorded: nothing changes. */
                bool listed = false;
                for (char **d = e->config->disks; *d; d++)
                        listed |= disk_same_source(*d, spec->disk);
                if (!listed) {
                        g_autofree char *inv = g_strjoinv(" ", e->config->disks);
                        return np_fail(error, EINVAL, "create %s: %s is not in the disk inventory ([shares] disks = %s)",
                                       spec->name, spec->disk, inv);
                }
                _cleanup_(disk_call_done) DiskCall dc = { 0 };
                r = disk_call_init(e, spec->name, &dc, error);
                if (r < 0)
                        return r;
                for (char **u = dc.in_use; *u; u++)
                        if (disk_same_source(*u, spec->disk))
                                return np_fail(error, EINVAL, "create %s: %s already holds another share; one disk "
                                                              "per shared directory",
                                               spec->name, spec->disk);
                g_autoptr(GError) busy = NULL;
                r = spec->force ? disk_check_unused(spec->disk, &busy) : disk_check_blank(spec->disk, &busy);
                if (r < 0)
                        return np_fail(error, EINVAL, "create %s: %s%s", spec->name, busy->message,
                                       spec->force || r == -EBUSY ? "" : "; wipe it or use --force");
        }
        for (char **c = clients; *c; c++) {
                r = config_check_client(*c, error);
                if (r < 0)
                        return r;
        }
        if (!*clients)
                return np_fail(error, EINVAL, "create %s: no export clients given", spec->name);
        return 0;
}

int engine_create(Engine *e, const ShareSpec *spec, ShareInfo **ret, bool *ret_created, GError **error) {
        g_auto(GStrv) clients = g_strdupv(spec->clients ? spec->clients : e->config->clients);
        int r = validate_spec(e, spec, clients, error);
        if (r < 0)
                return r;

        g_autoptr(Share) old = NULL;
        g_autoptr(GError) get_error = NULL;
        r = state_share_get(e->state, spec->name, &old, &get_error);
        if (r < 0 && r != -ENOENT) {
                g_propagate_error(error, g_steal_pointer(&get_error));
                return r; /* a database error is an error, never "no such share" */
        }
        if (r >= 0) {
                bool same = same_clients(old, clients) &&
                            g_strcmp0(old->backend, config_backend_to_string(e->config->backend)) == 0 &&
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

        g_autoptr(Share) s = g_new0(Share, 1);
        s->name = g_strdup(spec->name);
        s->pool_uuid = g_uuid_string_random();
        s->backend = g_strdup(config_backend_to_string(e->config->backend));
        s->size = spec->size;
        s->clients = g_strjoinv(" ", clients);
        s->options = g_strdup(e->config->options);
        s->status = SHARE_CREATING;
        s->operation = g_strdup("create");

        if (e->config->backend == CONFIG_BACKEND_IMAGE) {
                /* Record where the image goes before it exists, so that a crash during allocate
                 * leaves nothing that reconcile cannot find; refuse a file that is not ours. */
                g_autofree char *file = g_strdup_printf("%s.img", spec->name);
                s->source = g_build_filename(e->config->image_dir, file, NULL);
                struct stat st;
                if (lstat(s->source, &st) == 0) /* a symbolic link, even a dangling one, counts */
                        return np_fail(error, EEXIST, "create %s: %s already exists and no share owns it; "
                                                      "move it away or choose another name",
                                       spec->name, s->source);
        } else if (spec->disk)
                s->source = g_strdup(spec->disk);
        e->force_disk = spec->force;
        r = check_mount_point(e, spec->name, error);
        if (r < 0)
                return r;

        r = state_share_insert(e->state, s, error);
        if (r < 0)
                return r;

        g_autoptr(GError) step_error = NULL;
        const char *failed = NULL;
        for (size_t i = 0; i < G_N_ELEMENTS(create_steps); i++) {
                if (strcmp(create_steps[i].name, "mkfs") == 0) {
                        s->fs_uuid = g_uuid_string_random();
                        r = state_share_update(e->state, s, &step_error);
                        if (r < 0) {
                                failed = "mkfs";
                                break;
                        }
                }
                r = run_step(e, s, "create", &create_steps[i], &step_error);
                if (r < 0) {
                        failed = create_steps[i].name;
                        break;
                }
        }
        if (failed) {
                (void) state_step_fail(e->state, s->name, "create", failed, step_error->message, NULL);
                g_autoptr(GError) undo_error = NULL;
                if (undo_create(e, s, &undo_error) < 0) {
                        g_free(s->error);
                        s->error = g_strdup_printf("step %s failed: %s; undo failed: %s", failed, step_error->message,
                                                   undo_error->message);
                        (void) state_share_update(e->state, s, NULL);
                        return np_fail(error, -np_error_errno(step_error), "create %s: %s (reconcile retries the undo)",
                                       spec->name, s->error);
                }
                return np_fail(error, -np_error_errno(step_error) == EINVAL ? EIO : -np_error_errno(step_error),
                               "create %s: step %s failed: %s; undone", spec->name, failed, step_error->message);
        }

        s->status = SHARE_READY;
        g_clear_pointer(&s->operation, g_free);
        g_clear_pointer(&s->error, g_free);
        r = state_share_update(e->state, s, error);
        if (r < 0)
                return r;
        if (ret)
                *ret = share_info_read(e, s);
        if (ret_created)
                *ret_created = true;
        return 0;
}

/* ---- delete ---- */

static int step_check_empty(Engine *e, Share *s, GError **error) {
        _cleanup_close_ int base = -1, root = -1;
        if (open_base(e, false, &base, NULL) < 0 ||
            safepath_openat(base, e->config->base, s->name, O_RDONLY | O_DIRECTORY, 0, &root, NULL) < 0)
                return 0;
        _cleanup_closedir_ DIR *d = fdopendir(TAKE_FD(root));
        if (!d)
                return np_fail(error, errno, "delete %s: cannot list the share: %s", s->name, g_strerror(errno));
        struct dirent *de;
        g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func(g_free);
        while ((de = readdir(d))) {
                const char *n = de->d_name;
                if (strcmp(n, ".") != 0 && strcmp(n, "..") != 0 && strcmp(n, "lost+found") != 0 && found->len < 4)
                        g_ptr_array_add(found, g_strdup(n));
        }
        if (found->len == 0)
                return 0;
        bool more = found->len > 3;
        g_ptr_array_set_size(found, MIN(found->len, 3));
        g_ptr_array_add(found, NULL);
        g_autofree char *list = g_strjoinv(", ", (char **) found->pdata);
        return np_fail(error, ENOTEMPTY, "delete %s: the share holds files (%s%s); delete them first or use --force",
                       s->name, list, more ? ", ..." : "");
}

static int step_release(Engine *e, Share *s, GError **error) {
        if (!s->source)
                return 0;
        _cleanup_(disk_call_done) DiskCall dc = { 0 };
        int r = disk_call_init(e, s->name, &dc, error);
        if (r < 0)
                return r;
        const DiskContext *ctx = &dc.ctx;
        DiskRef d = disk_ref(s, true);
        return backend_of(s)->release(ctx, &d, error);
}

static const Step delete_steps[] = {
        { "unexport", step_unexport, NULL },
        { "umount", undo_mount, NULL },
        { "fstab", undo_fstab, NULL },
        { "release", step_release, NULL },
        { "rmdir", undo_mkdir, NULL },
};

/* Roll a delete forward from wherever it stopped: every step is idempotent. */
static int finish_delete(Engine *e, Share *s, GError **error) {
        for (size_t i = 0; i < G_N_ELEMENTS(delete_steps); i++) {
                g_autoptr(GError) err = NULL;
                int r = run_step(e, s, "delete", &delete_steps[i], &err);
                if (r < 0) {
                        (void) state_step_fail(e->state, s->name, "delete", delete_steps[i].name, err->message, NULL);
                        g_free(s->error);
                        s->error = g_strdup_printf("step %s failed: %s", delete_steps[i].name, err->message);
                        (void) state_share_update(e->state, s, NULL);
                        return np_fail(error, -r, "delete %s: step %s failed: %s (reconcile finishes the delete)",
                                       s->name, delete_steps[i].name, err->message);
                }
        }
        return state_share_delete(e->state, s->name, error);
}

int engine_delete(Engine *e, const char *name, bool force, GError **error) {
        int r = name_validate_share(name, error);
        if (r < 0)
                return r;
        g_autoptr(Share) s = NULL;
        r = get_share(e, "delete", name, &s, error);
        if (r < 0)
                return r;
        if (s->status == SHARE_CREATING || s->status == SHARE_RESIZING)
                return np_fail(error, EBUSY, "delete %s: the share is %s; run `nfsprov reconcile` first", name,
                               share_status_to_string(s->status));

        if (s->status != SHARE_DELETING && !force) {
                /* Check what the share holds before anything changes: the share must be mounted. */
                if (!share_mounted(e, s))
                        return np_fail(error, EBUSY, "delete %s: the share is not mounted, so its content cannot be "
                                                     "checked; run `nfsprov reconcile` or use --force",
                                       name);
                r = step_check_empty(e, s, error);
                if (r < 0)
                        return r;
        }
        if (s->status != SHARE_DELETING && s->source) {
                /* A disk that is not the share's is never released: refuse before anything changes. */
                g_autofree char *device = NULL;
                g_autoptr(GError) err = NULL;
                r = attach_device(e, s, &device, &err);
                if (r == -ESTALE)
                        return np_fail(error, ESTALE, "delete %s: %s; nothing changed", name, err->message);
        }
        /* The point of no return: from here on, a crash is finished by reconcile. */
        s->status = SHARE_DELETING;
        g_free(s->operation);
        s->operation = g_strdup("delete");
        r = state_share_update(e->state, s, error);
        if (r < 0)
                return r;
        return finish_delete(e, s, error);
}

/* ---- resize ---- */

static int grow_disk(Engine *e, Share *s, GError **error) {
        _cleanup_(disk_call_done) DiskCall dc = { 0 };
        int r = disk_call_init(e, s->name, &dc, error);
        if (r < 0)
                return r;
        const DiskContext *ctx = &dc.ctx;
        DiskRef d = disk_ref(s, true);
        uint64_t now = 0;
        r = backend_of(s)->size(ctx, &d, &now, error);
        if (r < 0)
                return r;
        if (now >= s->target_size)
                return 0;
        g_autofree char *device = NULL;
        r = attach_device(e, s, &device, error);
        if (r < 0)
                return r;
        return backend_of(s)->grow(ctx, &d, device, s->target_size, error);
}

static int resize_fs_offline(Engine *e, Share *s, GError **error) {
        static const Step unexport = { "unexport", step_unexport, NULL };
        static const Step umount = { "umount", undo_mount, NULL };
        int r = run_step(e, s, "resize", &unexport, error);
        if (r < 0)
                return r;
        r = run_step(e, s, "resize", &umount, error);
        if (r < 0)
                return r;
        g_autofree char *attached = NULL, *device = NULL;
        r = record_begin(e, s, "resize", "e2fsck", error);
        if (r < 0)
                return r;
        fault_point("resize", "e2fsck", false);
        r = attach_device(e, s, &attached, error);
        if (r < 0)
                return r;
        r = fs_find_by_uuid(s->fs_uuid, &device, error);
        if (r < 0)
                return r;
        r = fs_e2fsck(device, error);
        if (r < 0)
                return r;
        (void) record_done(e, s, "resize", "e2fsck", NULL);
        r = record_begin(e, s, "resize", "resize2fs", error);
        if (r < 0)
                return r;
        fault_point("resize", "resize2fs", false);
        r = fs_resize2fs(device, 0, error);
        if (r < 0)
                return r;
        fault_point("resize", "resize2fs", true);
        (void) record_done(e, s, "resize", "resize2fs", NULL);
        static const Step mount = { "mount", step_mount, NULL };
        static const Step export = { "export", step_export, NULL };
        r = run_step(e, s, "resize", &mount, error);
        if (r < 0)
                return r;
        return run_step(e, s, "resize", &export, error);
}

/* Grow the disk and the filesystem to s->target_size; online when the kernel lets us. */
static int finish_resize(Engine *e, Share *s, bool *ret_offline, GError **error) {
        static const Step grow = { "grow", grow_disk, NULL };
        int r = run_step(e, s, "resize", &grow, error);
        if (r < 0)
                return r;

        bool offline = false;
        g_autofree char *path = config_share_path(e->config, s->name);
        g_autofree char *device = share_device_now(e, s);
        if (mounted_from(e, s, device)) {
                g_autoptr(GError) online_error = NULL;
                r = record_begin(e, s, "resize", "resize2fs-online", error);
                if (r < 0)
                        return r;
                r = fs_resize_online(device, path, &online_error);
                if (r == -EPERM)
                        offline = true;
                else if (r < 0)
                        return np_fail_prefix(error, g_steal_pointer(&online_error), "online resize2fs");
                else
                        (void) record_done(e, s, "resize", "resize2fs-online", NULL);
        } else
                offline = true;

        if (offline) {
                r = resize_fs_offline(e, s, error);
                if (r < 0)
                        return r;
        }
        s->size = s->target_size;
        s->target_size = 0;
        s->status = SHARE_READY;
        g_clear_pointer(&s->operation, g_free);
        g_clear_pointer(&s->error, g_free);
        r = state_share_update(e->state, s, error);
        if (r < 0)
                return r;
        if (ret_offline)
                *ret_offline = offline;
        return 0;
}

int engine_resize(Engine *e, const char *name, uint64_t new_size, ShareInfo **ret, bool *ret_offline,
                  GError **error) {
        int r = name_validate_share(name, error);
        if (r < 0)
                return r;
        g_autoptr(Share) s = NULL;
        r = get_share(e, "resize", name, &s, error);
        if (r < 0)
                return r;
        if (s->status != SHARE_READY)
                return np_fail(error, EBUSY, "resize %s: the share is %s; run `nfsprov reconcile` first", name,
                               share_status_to_string(s->status));
        g_autofree char *from = size_format(s->size), *to = size_format(new_size);
        if (new_size <= s->size)
                return np_fail(error, EINVAL, "resize %s: %s is not larger than the current %s; shares only grow", name,
                               to, from);
        if (new_size % SHARE_SIZE_ALIGN)
                return np_fail(error, EINVAL, "resize %s: size %" G_GUINT64_FORMAT " is not a multiple of 4 KiB", name,
                               new_size);

        s->status = SHARE_RESIZING;
        g_free(s->operation);
        s->operation = g_strdup("resize");
        s->target_size = new_size;
        r = state_share_update(e->state, s, error);
        if (r < 0)
                return r;

        g_autoptr(GError) err = NULL;
        r = finish_resize(e, s, ret_offline, &err);
        if (r < 0) {
                (void) state_step_fail(e->state, s->name, "resize", s->step ? s->step : "resize", err->message, NULL);
                g_free(s->error);
                s->error = g_strdup(err->message);
                (void) state_share_update(e->state, s, NULL);
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
        r = get_share(e, NULL, name, &s, error);
        if (r < 0)
                return r;
        *ret = share_info_read(e, s);
        return 0;
}

int engine_list(Engine *e, GPtrArray **ret, GError **error) {
        g_autoptr(GPtrArray) all = NULL;
        int r = state_share_list(e->state, &all, error);
        if (r < 0)
                return r;
        g_autoptr(GPtrArray) exports = exports_block_now(e); /* once, not once per share */
        GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify) share_info_free);
        for (guint i = 0; i < all->len; i++)
                g_ptr_array_add(out, share_info_new(e, g_ptr_array_index(all, i), exports));
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

/* A ready share: attached, filesystem found by UUID, mounted, in fstab. (Exports come after,
 * for all shares at once.) */
static void reconcile_ready(Engine *e, Share *s, ReconcileReport *rep) {
        g_autoptr(GError) err = NULL;
        g_autofree char *path = config_share_path(e->config, s->name);
        g_autofree char *before = share_device_now(e, s);
        g_autofree char *device = NULL, *found_as = NULL;

        if (attach_device_at(e, s, true, &device, &found_as, &err) < 0) {
                report(rep->problems, "%s: cannot attach %s: %s", s->name, s->source, err->message);
                return;
        }
        if (!before)
                report(rep->changes, "%s: attached %s as %s", s->name, s->source, device);
        if (found_as && strcmp(found_as, s->source) != 0)
                report(rep->changes, "%s: its filesystem (UUID=%s) is on %s now, recorded as %s: device names changed",
                       s->name, s->fs_uuid, found_as, s->source);

        if (!mounted_from(e, s, device)) {
                if (step_mkdir(e, s, &err) < 0 || step_mount(e, s, &err) < 0) {
                        report(rep->problems, "%s: cannot mount %s on %s: %s", s->name, device, path, err->message);
                        return;
                }
                report(rep->changes, "%s: mounted %s (UUID=%s) on %s", s->name, device, s->fs_uuid, path);
        }
        g_autofree char *fstab_source = NULL;
        if (fstab_find(e->config->fstab, path, &fstab_source, NULL) == -ENOENT) {
                if (fstab_set(e->config->fstab, s->fs_uuid, path, &err) < 0)
                        report(rep->problems, "%s: cannot write its fstab entry: %s", s->name, err->message);
                else
                        report(rep->changes, "%s: wrote its fstab entry (UUID=%s %s)", s->name, s->fs_uuid, path);
        } else if (fstab_set(e->config->fstab, s->fs_uuid, path, &err) < 0)
                /* an entry for the mount point with another source: the admin's to sort out */
                report(rep->problems, "%s: %s", s->name, err->message);
}

/* The paths in exportfs's table (/var/lib/nfs/etab: what `exportfs -r` last exported; it has
 * the exports file's syntax, one client per line). */
#define ETAB_PATH "/var/lib/nfs/etab"
static GHashTable *etab_paths(void) {
        GHashTable *set = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        g_autofree char *text = NULL;
        gsize len = 0;
        g_autoptr(GPtrArray) entries = NULL;
        if (g_file_get_contents(ETAB_PATH, &text, &len, NULL) &&
            exports_parse(text, len, ETAB_PATH, &entries, NULL) >= 0)
                for (guint i = 0; i < entries->len; i++)
                        g_hash_table_add(set, g_strdup(((ExportsEntry *) g_ptr_array_index(entries, i))->path));
        return set;
}

int engine_reconcile(Engine *e, ReconcileReport **ret, GError **error) {
        g_autoptr(GPtrArray) all = NULL;
        int r = state_share_list(e->state, &all, error);
        if (r < 0)
                return r;

        ReconcileReport *rep = g_new0(ReconcileReport, 1);
        rep->changes = g_ptr_array_new_with_free_func(g_free);
        rep->problems = g_ptr_array_new_with_free_func(g_free);

        /* What is exported now (exportfs's table), to report what reconcile changes. */
        g_autoptr(GHashTable) before = etab_paths();
        for (guint i = 0; i < all->len; i++) {
                Share *s = g_ptr_array_index(all, i);
                g_autoptr(GError) err = NULL;
                switch (s->status) {
                case SHARE_CREATING:
                        if (undo_create(e, s, &err) < 0) {
                                report(rep->problems, "%s: cannot undo the unfinished create: %s", s->name,
                                       err->message);
                                g_free(s->error);
                                s->error = g_strdup(err->message);
                                (void) state_share_update(e->state, s, NULL);
                        } else
                                report(rep->changes, "%s: undid a create that stopped at step %s", s->name,
                                       s->step ? s->step : "-");
                        break;
                case SHARE_DELETING:
                        if (finish_delete(e, s, &err) < 0)
                                report(rep->problems, "%s: cannot finish the delete: %s", s->name, err->message);
                        else
                                report(rep->changes, "%s: finished a delete that stopped at step %s", s->name,
                                       s->step ? s->step : "-");
                        break;
                case SHARE_RESIZING: {
                        /* The share must be attached and, where possible, mounted first. */
                        reconcile_ready(e, s, rep);
                        bool offline = false;
                        if (finish_resize(e, s, &offline, &err) < 0)
                                report(rep->problems, "%s: cannot finish the resize: %s", s->name, err->message);
                        else
                                report(rep->changes, "%s: finished a resize to %" G_GUINT64_FORMAT " bytes%s",
                                       s->name, s->size, offline ? " (offline)" : "");
                        break;
                }
                default:
                        reconcile_ready(e, s, rep);
                        break;
                }
        }

        /* Exports last: only mounted shares get in, so mounts always come before exports. */
        g_autoptr(GError) err = NULL;
        if (exports_sync(e, NULL, NULL, true, &err) < 0)
                report(rep->problems, "exports: %s", err->message);
        g_autoptr(GHashTable) after = etab_paths();
        g_autoptr(GList) now = g_list_sort(g_hash_table_get_keys(after), (GCompareFunc) strcmp);
        for (GList *l = now; l; l = l->next)
                if (!g_hash_table_contains(before, l->data))
                        report(rep->changes, "exported %s", (const char *) l->data);
        g_autoptr(GList) old = g_list_sort(g_hash_table_get_keys(before), (GCompareFunc) strcmp);
        for (GList *l = old; l; l = l->next)
                if (!g_hash_table_contains(after, l->data))
                        report(rep->changes, "unexported %s", (const char *) l->data);
        rep->finished_at = now_seconds();
        *ret = rep;
        return 0;
}

/* ---- NFS server configuration ---- */

void engine_nfs_config_clear(EngineNfsConfig *c) {
        g_free(c->file);
        g_free(c->problem);
        g_free(c->proc_versions);
        *c = (EngineNfsConfig) { 0 };
}

int engine_nfs_config(Engine *e, bool apply, EngineNfsConfig *ret, GError **error) {
        bool changed = false;
        int r;
        if (apply) {
                r = nfsconf_apply(e->config->nfs_conf, &changed, error);
                if (r < 0)
                        return r;
        }
        NfsConfStatus st;
        r = nfsconf_read(e->config->nfs_conf, &st, error);
        if (r < 0)
                return r;
        EngineNfsConfig c = {
                .file = g_strdup(e->config->nfs_conf),
                .vers3 = st.vers3,
                .vers4 = st.vers4,
                .ok = nfsconf_ok(&st),
                .changed = changed,
                .problem = nfsconf_problem(&st),
        };
        if (nfsconf_read_proc_versions("/proc/fs/nfsd/versions", &c.proc_versions, NULL) >= 0)
                g_strstrip(c.proc_versions);
        /* The older distributions' file (RHEL 6: RPCNFSDARGS="-N 4"), reported where it exists. */
        c.has_sysconfig = nfsconf_sysconfig_v4_disabled("/etc/sysconfig/nfs", &c.sysconfig_v4_disabled, NULL) >= 0;
        *ret = c;
        return 0;
}
