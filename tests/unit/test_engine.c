/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The engine without root: a fake disk backend, a fake export server and a fake host
 * filesystem (the three tables of EngineSystem) record every call the engine makes, and can be
 * told to fail one. The state is a real SQLite database in a temporary directory. Checked: the
 * order of the steps and of their undo after a failure at each step, what reconcile does for
 * each recorded state, the progress totals, and what is recorded in the journal.
 * (The real backends, server and filesystem are tested against real loop devices, mounts and
 * exportfs in tests/integration.)
 */
#include "config.h"

#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine.h"
#include "error.h"
#include "snapshot.h"
#include "unit.h"

/* ---- the fakes ---- */

typedef struct FakeDisk {
        bool exists, attached;
        uint64_t size;
        char *formatted; /* the UUID mkfs gave it */
} FakeDisk;

static struct {
        GPtrArray *calls;        /* "disk.allocate S1", "fs.mount S1", ... in order */
        GHashTable *disks;       /* share name -> FakeDisk */
        GHashTable *mounted;     /* share name -> 1 */
        GHashTable *listed;      /* path -> 1: what the export server was told */
        GHashTable *served;      /* path -> 1: what it serves (after apply) */
        GHashTable *fstab;       /* share name -> uuid */
        GHashTable *immutable;   /* share name -> 1: its mounted root carries the attribute */
        const char *fail;        /* the fake call that fails ("fs.mount"), NULL: none */
        int fail_errno;
        unsigned files;          /* names at the share root (delete's check) */
        uint64_t next_ino;       /* the inode of the next directory make_dir makes */
        GPtrArray *progress;     /* "create mkfs 2/8" */
} fake;

static void call(const char *what, const char *name) {
        g_ptr_array_add(fake.calls, g_strdup_printf("%s %s", what, name));
}

/* The call `what` fails once when the test asked for it. */
static int maybe_fail(const char *what, GError **error) {
        if (!fake.fail || strcmp(fake.fail, what) != 0)
                return 0;
        fake.fail = NULL;
        return np_fail(error, fake.fail_errno ? fake.fail_errno : EIO, "%s failed (fake)", what);
}

static FakeDisk *disk_of(const char *name) {
        return g_hash_table_lookup(fake.disks, name);
}

/* The share's name from a fake source "/fake/NAME.img" or device "/dev/fake-NAME". */
static char *name_of(const char *s) {
        const char *p = strrchr(s, '/');
        p = p ? p + 1 : s;
        if (g_str_has_prefix(p, "fake-"))
                p += 5;
        char *n = g_strdup(p);
        char *dot = strchr(n, '.');
        if (dot)
                *dot = '\0';
        return n;
}

static int fd_validate(const DiskContext *ctx, const DiskRequest *req, char **ret_source, GError **error) {
        call("disk.validate", req->share);
        if (req->size == 0)
                return np_fail(error, EINVAL, "a size is required");
        int r = maybe_fail("disk.validate", error);
        if (r < 0)
                return r;
        *ret_source = g_strdup_printf("/fake/%s.img", req->share);
        return 0;
}

static int fd_allocate(const DiskContext *ctx, const DiskRequest *req, char **ret_source, uint64_t *ret_ino,
                       char **ret_device, GError **error) {
        call("disk.allocate", req->share);
        int r = maybe_fail("disk.allocate", error);
        if (r < 0)
                return r;
        FakeDisk *d = g_new0(FakeDisk, 1);
        d->exists = d->attached = true;
        d->size = req->size;
        g_hash_table_replace(fake.disks, g_strdup(req->share), d);
        *ret_source = g_strdup_printf("/fake/%s.img", req->share);
        *ret_ino = 42;
        *ret_device = g_strdup_printf("/dev/fake-%s", req->share);
        return 0;
}

static int fd_attach(const DiskContext *ctx, const DiskRef *ref, char **ret_device, char **ret_source,
                     GError **error) {
        FakeDisk *d = disk_of(ref->share);
        if (!d || !d->exists)
                return np_fail(error, ENOENT, "no disk for %s", ref->share);
        if (!d->attached) {
                call("disk.attach", ref->share);
                int r = maybe_fail("disk.attach", error);
                if (r < 0)
                        return r;
                d->attached = true;
        }
        *ret_device = g_strdup_printf("/dev/fake-%s", ref->share);
        if (ret_source)
                *ret_source = g_strdup(ref->source);
        return 0;
}

static int fd_device_now(const DiskContext *ctx, const DiskRef *ref, char **ret_device, GError **error) {
        FakeDisk *d = disk_of(ref->share);
        if (!d || !d->attached)
                return np_fail(error, ENXIO, "not attached");
        *ret_device = g_strdup_printf("/dev/fake-%s", ref->share);
        return 0;
}

static int fd_grow(const DiskContext *ctx, const DiskRef *ref, const char *device, uint64_t new_size, GError **error) {
        call("disk.grow", ref->share);
        int r = maybe_fail("disk.grow", error);
        if (r < 0)
                return r;
        disk_of(ref->share)->size = new_size;
        return 0;
}

static int fd_release(const DiskContext *ctx, const DiskRef *ref, bool wipe, GError **error) {
        call(wipe ? "disk.release+wipe" : "disk.release", ref->share);
        int r = maybe_fail("disk.release", error);
        if (r < 0)
                return r;
        g_hash_table_remove(fake.disks, ref->share);
        return 0;
}

static int fd_size(const DiskContext *ctx, const DiskRef *ref, uint64_t *ret, GError **error) {
        FakeDisk *d = disk_of(ref->share);
        if (!d)
                return np_fail(error, ENOENT, "no disk");
        *ret = d->size;
        return 0;
}

static const DiskBackend fake_disk = {
        .name = "image", /* the state accepts "image" and "disk" */
        .flags = DISK_NEEDS_SIZE | DISK_GROWS,
        .validate = fd_validate,
        .allocate = fd_allocate,
        .attach = fd_attach,
        .device_now = fd_device_now,
        .grow = fd_grow,
        .release = fd_release,
        .size = fd_size,
};

static const DiskBackend *fake_lookup(const char *name) {
        return g_strcmp0(name, "image") == 0 ? &fake_disk : NULL;
}

static int fx_config(const Config *c, bool apply, ExportServerConfig *ret, GError **error) {
        *ret = (ExportServerConfig) { .file = g_strdup("/fake/nfs.conf"), .vers3 = true, .ok = true };
        return 0;
}

static int fx_set(const Config *c, const ExportSpec *spec, bool *ret_changed, GError **error) {
        g_autofree char *n = name_of(spec->path);
        call("exports.set", n);
        int r = maybe_fail("exports.set", error);
        if (r < 0)
                return r;
        g_hash_table_add(fake.listed, g_strdup(spec->path));
        return 0;
}

static int fx_remove(const Config *c, const char *path, bool *ret_changed, GError **error) {
        g_autofree char *n = name_of(path);
        call("exports.remove", n);
        int r = maybe_fail("exports.remove", error);
        if (r < 0)
                return r;
        g_hash_table_remove(fake.listed, path);
        return 0;
}

static int fx_apply(const Config *c, GError **error) {
        call("exports.apply", "-");
        int r = maybe_fail("exports.apply", error);
        if (r < 0)
                return r;
        g_hash_table_remove_all(fake.served);
        GHashTableIter it;
        gpointer k;
        g_hash_table_iter_init(&it, fake.listed);
        while (g_hash_table_iter_next(&it, &k, NULL))
                g_hash_table_add(fake.served, g_strdup(k));
        return 0;
}

static GPtrArray *sorted_keys(GHashTable *t) {
        GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
        GHashTableIter it;
        gpointer k;
        g_hash_table_iter_init(&it, t);
        while (g_hash_table_iter_next(&it, &k, NULL))
                g_ptr_array_add(a, g_strdup(k));
        return a;
}

static int fx_listed(const Config *c, GPtrArray **ret, GError **error) {
        *ret = sorted_keys(fake.listed);
        return 0;
}

static int fx_served(const Config *c, GPtrArray **ret, GError **error) {
        *ret = sorted_keys(fake.served);
        return 0;
}

static const ExportServer fake_exports = {
        .name = "fake",
        .description = "a fake export server",
        .config = fx_config,
        .set = fx_set,
        .remove = fx_remove,
        .apply = fx_apply,
        .listed = fx_listed,
        .served = fx_served,
};

static int ff_format(const char *device, const char *name, const char *uuid, bool force, GError **error) {
        call("fs.format", name);
        int r = maybe_fail("fs.format", error);
        if (r < 0)
                return r;
        g_free(disk_of(name)->formatted);
        disk_of(name)->formatted = g_strdup(uuid);
        return 0;
}

static int ff_check_dir(const Config *c, const char *name, GError **error) {
        return maybe_fail("fs.check_dir", error);
}

static int ff_make_dir(const Config *c, const char *name, uint64_t *ret_made, GError **error) {
        call("fs.make_dir", name);
        int r = maybe_fail("fs.make_dir", error);
        if (r < 0)
                return r;
        *ret_made = fake.next_ino++;
        return 0;
}

static int ff_remove_dir(const Config *c, const char *name, uint64_t made, GError **error) {
        call(made ? "fs.remove_dir" : "fs.remove_dir(not made)", name);
        return maybe_fail("fs.remove_dir", error);
}

static bool ff_mounted(const Config *c, const char *name, const char *device) {
        return g_hash_table_contains(fake.mounted, name);
}

static int ff_mount(const Config *c, const char *name, const char *device, const char *uuid, GError **error) {
        call("fs.mount", name);
        int r = maybe_fail("fs.mount", error);
        if (r < 0)
                return r;
        if (g_strcmp0(disk_of(name)->formatted, uuid) != 0)
                return np_fail(error, ESTALE, "%s does not carry %s", device, uuid);
        g_hash_table_add(fake.mounted, g_strdup(name));
        return 0;
}

static int ff_umount(const Config *c, const char *name, const char *device, GError **error) {
        call("fs.umount", name);
        int r = maybe_fail("fs.umount", error);
        if (r < 0)
                return r;
        g_hash_table_remove(fake.mounted, name);
        return 0;
}

static int ff_set_owner(const Config *c, const char *name, GError **error) {
        call("fs.set_owner", name);
        return maybe_fail("fs.set_owner", error);
}

/* The attribute lives on the filesystem (kept across umount and mount), set only when mounted. */
static int ff_protect(const Config *c, const char *name, bool on, bool *ret_changed, GError **error) {
        if (!g_hash_table_contains(fake.mounted, name))
                return np_fail(error, ENOENT, "%s is not mounted", name);
        g_autofree char *what = g_strdup_printf("fs.protect(%s)", on ? "on" : "off");
        call(what, name);
        int r = maybe_fail("fs.protect", error);
        if (r < 0)
                return r;
        bool was = g_hash_table_contains(fake.immutable, name);
        if (on)
                g_hash_table_add(fake.immutable, g_strdup(name));
        else
                g_hash_table_remove(fake.immutable, name);
        if (ret_changed)
                *ret_changed = was != on;
        return 0;
}

static int ff_is_protected(const Config *c, const char *name, bool *ret, GError **error) {
        if (!g_hash_table_contains(fake.mounted, name))
                return np_fail(error, ENOENT, "%s is not mounted", name);
        *ret = g_hash_table_contains(fake.immutable, name);
        return 0;
}

static int ff_list(const Config *c, const char *name, unsigned max, GPtrArray **ret, bool *ret_more, GError **error) {
        GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
        for (unsigned i = 0; i < fake.files && i < max; i++)
                g_ptr_array_add(a, g_strdup_printf("file%u", i));
        *ret = a;
        if (ret_more)
                *ret_more = fake.files > max;
        return 0;
}

static int ff_usage(const Config *c, const char *name, ShareUsage *ret, GError **error) {
        *ret = (ShareUsage) { .capacity = disk_of(name)->size, .used = 0, .available = disk_of(name)->size };
        return 0;
}

static int ff_fstab_set(const Config *c, const char *name, const char *uuid, bool *ret_changed, GError **error) {
        call("fs.fstab_set", name);
        int r = maybe_fail("fs.fstab_set", error);
        if (r < 0)
                return r;
        if (ret_changed)
                *ret_changed = !g_hash_table_contains(fake.fstab, name);
        g_hash_table_replace(fake.fstab, g_strdup(name), g_strdup(uuid));
        return 0;
}

static bool ff_fstab_has(const Config *c, const char *name, const char *uuid) {
        return g_strcmp0(g_hash_table_lookup(fake.fstab, name), uuid) == 0;
}

static int ff_fstab_remove(const Config *c, const char *name, const char *uuid, GError **error) {
        call("fs.fstab_remove", name);
        int r = maybe_fail("fs.fstab_remove", error);
        if (r < 0)
                return r;
        g_hash_table_remove(fake.fstab, name);
        return 0;
}

static int ff_grow_online(const Config *c, const char *name, const char *device, GError **error) {
        call("fs.grow_online", name);
        return maybe_fail("fs.grow_online", error);
}

static int ff_check(const char *device, GError **error) {
        g_autofree char *n = name_of(device);
        call("fs.check", n);
        return maybe_fail("fs.check", error);
}

static int ff_grow_offline(const char *device, GError **error) {
        g_autofree char *n = name_of(device);
        call("fs.grow_offline", n);
        return maybe_fail("fs.grow_offline", error);
}

/* The mounted share's root: a real directory, BASE/NAME (the guard's audit and removals work there). */
static int ff_open_root(const Config *c, const char *name, int *ret_fd, GError **error) {
        if (!g_hash_table_contains(fake.mounted, name))
                return np_fail(error, ENOENT, "%s is not mounted", name);
        g_autofree char *dir = g_build_filename(c->base, name, NULL);
        if (g_mkdir_with_parents(dir, 0755) < 0)
                return np_fail(error, errno, "%s: %s", dir, g_strerror(errno));
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return np_fail(error, errno, "%s: %s", dir, g_strerror(errno));
        *ret_fd = fd;
        return 0;
}

static const ShareFs fake_fs = {
        .open_root = ff_open_root,
        .format = ff_format,
        .check_dir = ff_check_dir,
        .make_dir = ff_make_dir,
        .remove_dir = ff_remove_dir,
        .mounted = ff_mounted,
        .mount = ff_mount,
        .umount = ff_umount,
        .set_owner = ff_set_owner,
        .list = ff_list,
        .protect = ff_protect,
        .is_protected = ff_is_protected,
        .usage = ff_usage,
        .fstab_set = ff_fstab_set,
        .fstab_has = ff_fstab_has,
        .fstab_remove = ff_fstab_remove,
        .grow_online = ff_grow_online,
        .check = ff_check,
        .grow_offline = ff_grow_offline,
};

static const EngineSystem fake_system = { .disk_backend = fake_lookup, .exports = &fake_exports, .fs = &fake_fs };

/* ---- fixture ---- */

static char *root;
static Engine *engine;

static void fake_disk_free(gpointer p) {
        FakeDisk *d = p;
        g_free(d->formatted);
        g_free(d);
}

static void on_progress(const char *op, const char *step, unsigned index, unsigned total, void *userdata) {
        g_ptr_array_add(fake.progress, g_strdup_printf("%s %s %u/%u", op, step, index, total));
}

static Config *test_config(void) {
        Config *c = config_new_default();
        g_free(c->state_dir);
        c->state_dir = g_build_filename(root, "state", NULL);
        g_free(c->base);
        c->base = g_build_filename(root, "NFS", NULL);
        return c;
}

static Engine *open_engine(void) {
        Engine *e = NULL;
        g_autoptr(GError) err = NULL;
        Config *c = test_config();
        int r = engine_new_with(c, &fake_system, &e, &err);
        ck_assert_msg(r == 0, "engine_new_with: %s", err ? err->message : "");
        engine_set_progress(e, on_progress, NULL);
        return e;
}

static void setup(void) {
        root = unit_mkdtemp();
        fake.calls = g_ptr_array_new_with_free_func(g_free);
        fake.progress = g_ptr_array_new_with_free_func(g_free);
        fake.disks = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, fake_disk_free);
        fake.mounted = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        fake.listed = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        fake.served = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        fake.fstab = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        fake.immutable = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        fake.fail = NULL;
        fake.fail_errno = 0;
        fake.files = 0;
        fake.next_ino = 7;
        engine = open_engine();
}

static void teardown(void) {
        engine_free(engine);
        engine = NULL;
        g_ptr_array_unref(fake.calls);
        g_ptr_array_unref(fake.progress);
        g_hash_table_unref(fake.disks);
        g_hash_table_unref(fake.mounted);
        g_hash_table_unref(fake.listed);
        g_hash_table_unref(fake.served);
        g_hash_table_unref(fake.fstab);
        g_hash_table_unref(fake.immutable);
        unit_rm_rf(root);
        g_clear_pointer(&root, g_free);
}

/* The calls made since the last time, joined with "; ", and forget them. */
static char *calls(void) {
        g_ptr_array_add(fake.calls, NULL);
        char *s = g_strjoinv("; ", (char **) fake.calls->pdata);
        g_ptr_array_set_size(fake.calls, 0);
        return s;
}

/* Forget the calls and progress so far. */
static void forget(void) {
        g_ptr_array_set_size(fake.calls, 0);
        g_ptr_array_set_size(fake.progress, 0);
}

static char *progress(void) {
        g_ptr_array_add(fake.progress, NULL);
        char *s = g_strjoinv("; ", (char **) fake.progress->pdata);
        g_ptr_array_set_size(fake.progress, 0);
        return s;
}

static void create_ok(const char *name) {
        ShareSpec spec = { .name = name, .size = 64 << 20 };
        g_autoptr(GError) err = NULL;
        g_autoptr(ShareInfo) info = NULL;
        bool created = false;
        int r = engine_create(engine, &spec, &info, &created, &err);
        ck_assert_msg(r == 0, "create %s: %s", name, err ? err->message : "");
        ck_assert(created);
        ck_assert_int_eq(info->share->status, SHARE_READY);
}

#define CREATE_CALLS(N)                                                                                         \
        "disk.validate " N "; disk.allocate " N "; fs.format " N "; fs.make_dir " N "; fs.mount " N           \
        "; fs.set_owner " N "; fs.fstab_set " N "; exports.set " N "; exports.apply -; fs.protect(on) " N

/* ---- create ---- */

START_TEST(test_create_steps_in_order) {
        create_ok("S1");
        g_autofree char *c = calls();
        ck_assert_str_eq(c, CREATE_CALLS("S1"));
        g_autofree char *p = progress();
        ck_assert_str_eq(p, "create allocate 1/9; create mkfs 2/9; create mkdir 3/9; create mount 4/9; "
                            "create chown 5/9; create fstab 6/9; create export 7/9; create apply 8/9; "
                            "create guard 9/9");
        ck_assert_uint_eq(engine_op_total("create"), 9);
        g_autoptr(ShareInfo) info = NULL;
        ck_assert_int_eq(engine_get(engine, "S1", &info, NULL), 0);
        ck_assert(info->mounted);
        ck_assert(info->exported);
        ck_assert_str_eq(info->device, "/dev/fake-S1");
        ck_assert_uint_eq(info->share->source_ino, 42);
        ck_assert_uint_eq(info->share->dir_ino, 7);
        ck_assert_ptr_null(info->share->operation);
        ck_assert(info->share->step_done);

        /* the same create again changes nothing */
        ShareSpec spec = { .name = "S1", .size = 64 << 20 };
        bool created = true;
        ck_assert_int_eq(engine_create(engine, &spec, NULL, &created, NULL), 0);
        ck_assert(!created);
        g_autofree char *again = calls();
        ck_assert_str_eq(again, "");
}
END_TEST

/* S1's journal entries of operation (NULL: all), "PHASE:STEP" or "PHASE:STEP:MESSAGE", read
 * through another connection to the database. */
static char *journal_of(const char *operation) {
        g_autoptr(State) st = NULL;
        g_autofree char *dir = g_build_filename(root, "state", NULL);
        ck_assert_int_eq(state_open(dir, &st, NULL), 0);
        g_autoptr(GPtrArray) j = NULL;
        ck_assert_int_eq(state_journal_list(st, "S1", &j, NULL), 0);
        g_autoptr(GString) s = g_string_new(NULL);
        for (guint i = 0; i < j->len; i++) {
                JournalEntry *x = g_ptr_array_index(j, i);
                if (!operation || strcmp(x->operation, operation) == 0)
                        g_string_append_printf(s, "%s%s:%s%s%s", s->len ? " " : "", x->phase, x->step,
                                               x->message ? ":" : "", x->message ? x->message : "");
        }
        return g_string_free(TAKE_PTR(s), FALSE);
}

/* The journal: every step begun and done, in order (a step's "done" and the next "begin" are
 * one commit). */
START_TEST(test_create_journal) {
        create_ok("S1");
        g_autofree char *j = journal_of(NULL);
        ck_assert_str_eq(j, "begin:allocate done:allocate begin:mkfs done:mkfs begin:mkdir done:mkdir "
                                 "begin:mount done:mount begin:chown done:chown begin:fstab done:fstab "
                                 "begin:export done:export begin:apply done:apply begin:guard done:guard");
}
END_TEST

/* A failure at each step undoes, in reverse, exactly the steps that began; the disk is wiped
 * only once mkfs began; nothing is left. */
START_TEST(test_create_failure_at_each_step) {
        static const struct {
                const char *fail;
                const char *step;
                const char *undo; /* the calls after the failing one */
        } cases[] = {
                { "disk.allocate", "allocate", "disk.release S1" },
                { "fs.format", "mkfs", "disk.release+wipe S1" },
                { "fs.make_dir", "mkdir", "fs.remove_dir(not made) S1; disk.release+wipe S1" },
                { "fs.mount", "mount", "fs.umount S1; fs.remove_dir S1; disk.release+wipe S1" },
                { "fs.set_owner", "chown", "fs.umount S1; fs.remove_dir S1; disk.release+wipe S1" },
                { "fs.fstab_set", "fstab",
                  "fs.fstab_remove S1; fs.umount S1; fs.remove_dir S1; disk.release+wipe S1" },
                { "exports.set", "export",
                  "exports.remove S1; exports.apply -; fs.fstab_remove S1; fs.umount S1; fs.remove_dir S1; "
                  "disk.release+wipe S1" },
                { "exports.apply", "apply",
                  "exports.remove S1; exports.apply -; fs.fstab_remove S1; fs.umount S1; fs.remove_dir S1; "
                  "disk.release+wipe S1" },
        };
        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                fake.fail = cases[i].fail;
                ShareSpec spec = { .name = "S1", .size = 64 << 20 };
                g_autoptr(GError) err = NULL;
                ck_assert_int_lt(engine_create(engine, &spec, NULL, NULL, &err), 0);
                g_autofree char *want = g_strdup_printf("create S1: step %s failed: %s failed (fake); undone",
                                                        cases[i].step, cases[i].fail);
                ck_assert_str_eq(err->message, want);
                /* the calls end with the failing one, then the undo, in reverse */
                g_autofree char *c = calls();
                const char *failing = strcmp(cases[i].fail, "exports.apply") == 0 ? "exports.apply -" : NULL;
                g_autofree char *failing_s1 = g_strdup_printf("%s S1", cases[i].fail);
                g_autofree char *want_tail = g_strdup_printf("%s; %s", failing ? failing : failing_s1, cases[i].undo);
                ck_assert_msg(g_str_has_suffix(c, want_tail), "fail at %s: calls %s", cases[i].fail, c);
                /* nothing left: no row, no disk, no mount, no fstab entry, no export */
                g_autoptr(ShareInfo) info = NULL;
                ck_assert_int_eq(engine_get(engine, "S1", &info, NULL), -ENOENT);
                ck_assert_uint_eq(g_hash_table_size(fake.disks), 0);
                ck_assert_uint_eq(g_hash_table_size(fake.mounted), 0);
                ck_assert_uint_eq(g_hash_table_size(fake.fstab), 0);
                ck_assert_uint_eq(g_hash_table_size(fake.listed), 0);
                fake.fail = NULL;
                g_ptr_array_set_size(fake.progress, 0);
        }
        /* and the same create then succeeds */
        create_ok("S1");
}
END_TEST

/* Refused before anything is recorded: nothing is called but the checks. */
START_TEST(test_create_refused_changes_nothing) {
        ShareSpec nosize = { .name = "S1" };
        g_autoptr(GError) err = NULL;
        ck_assert_int_eq(engine_create(engine, &nosize, NULL, NULL, &err), -EINVAL);
        ck_assert_str_eq(err->message, "create S1: a size is required");
        g_clear_error(&err);
        ShareSpec bad = { .name = "S 1", .size = 64 << 20 };
        ck_assert_int_eq(engine_create(engine, &bad, NULL, NULL, &err), -EINVAL);
        g_clear_error(&err);
        fake.fail = "fs.check_dir";
        ShareSpec ok = { .name = "S1", .size = 64 << 20 };
        ck_assert_int_lt(engine_create(engine, &ok, NULL, NULL, &err), 0);
        g_autofree char *c = calls();
        ck_assert_str_eq(c, "disk.validate S1; disk.validate S1");
        g_autoptr(GPtrArray) all = NULL;
        ck_assert_int_eq(engine_list(engine, &all, NULL), 0);
        ck_assert_uint_eq(all->len, 0);
}
END_TEST

/* ---- delete ---- */

START_TEST(test_delete_steps_and_checks) {
        create_ok("S1");
        forget();
        fake.files = 5;
        g_autoptr(GError) err = NULL;
        ck_assert_int_eq(engine_delete(engine, "S1", false, &err), -ENOTEMPTY);
        ck_assert_str_eq(err->message,
                         "delete S1: the share holds files (file0, file1, file2, ...); delete them first or use --force");
        g_autofree char *c1 = calls();
        ck_assert_str_eq(c1, "");
        ck_assert_int_eq(engine_delete(engine, "S1", true, NULL), 0);
        g_autofree char *c2 = calls();
        ck_assert_str_eq(c2, "exports.remove S1; exports.apply -; fs.umount S1; fs.fstab_remove S1; "
                             "disk.release+wipe S1; fs.remove_dir S1");
        g_autofree char *p = progress();
        ck_assert(g_str_has_suffix(p, "delete unexport 1/5; delete umount 2/5; delete fstab 3/5; "
                                      "delete release 4/5; delete rmdir 5/5"));
        ck_assert_int_eq(engine_delete(engine, "S1", false, &err), -ENOENT);
}
END_TEST

/* A delete that fails half way stays "deleting"; reconcile finishes it from that step. */
START_TEST(test_delete_failure_rolls_forward) {
        create_ok("S1");
        forget();
        fake.fail = "disk.release";
        g_autoptr(GError) err = NULL;
        ck_assert_int_lt(engine_delete(engine, "S1", true, &err), 0);
        ck_assert_ptr_nonnull(strstr(err->message, "delete S1: step release failed: disk.release failed (fake)"));
        g_autoptr(ShareInfo) info = NULL;
        ck_assert_int_eq(engine_get(engine, "S1", &info, NULL), 0);
        ck_assert_int_eq(info->share->status, SHARE_DELETING);
        ck_assert_str_eq(info->share->step, "release");
        fake.fail = NULL;
        forget();
        g_autoptr(ReconcileReport) rep = NULL;
        ck_assert_int_eq(engine_reconcile(engine, &rep, NULL), 0);
        g_autofree char *c2 = calls();
        ck_assert_str_eq(c2, "disk.release+wipe S1; fs.remove_dir S1; exports.apply -");
        ck_assert_uint_eq(rep->changes->len, 1);
        ck_assert_str_eq(g_ptr_array_index(rep->changes, 0), "S1: finished a delete that stopped at step release");
        ck_assert_int_eq(engine_get(engine, "S1", &info, NULL), -ENOENT);
}
END_TEST

/* ---- resize ---- */

START_TEST(test_resize_online_and_offline) {
        create_ok("S1");
        forget();
        bool offline = true;
        ck_assert_int_eq(engine_resize(engine, "S1", 128 << 20, NULL, &offline, NULL), 0);
        ck_assert(!offline);
        g_autofree char *c1 = calls();
        ck_assert_str_eq(c1, "disk.grow S1; fs.grow_online S1");
        g_autofree char *p1 = progress();
        ck_assert_str_eq(p1, "resize grow 1/2; resize resize-online 2/2");

        /* the kernel refuses the online resize: offline, and the total grows to 8 */
        fake.fail = "fs.grow_online";
        fake.fail_errno = EPERM;
        ck_assert_int_eq(engine_resize(engine, "S1", 256 << 20, NULL, &offline, NULL), 0);
        ck_assert(offline);
        g_autofree char *c2 = calls();
        ck_assert_str_eq(c2, "disk.grow S1; fs.grow_online S1; exports.remove S1; exports.apply -; fs.umount S1; "
                             "fs.check S1; fs.grow_offline S1; fs.mount S1; exports.set S1; exports.apply -");
        g_autofree char *p2 = progress();
        ck_assert_str_eq(p2, "resize grow 1/2; resize resize-online 2/2; resize unexport 3/8; resize umount 4/8; "
                             "resize e2fsck 5/8; resize resize2fs 6/8; resize mount 7/8; resize export 8/8");
        g_autoptr(ShareInfo) info = NULL;
        ck_assert_int_eq(engine_get(engine, "S1", &info, NULL), 0);
        ck_assert_uint_eq(info->share->size, 256 << 20);
        ck_assert(info->mounted && info->exported);

        /* another error of the online resize is an error (decided on the errno, not on text) */
        fake.fail = "fs.grow_online";
        fake.fail_errno = EIO;
        g_autoptr(GError) err = NULL;
        ck_assert_int_lt(engine_resize(engine, "S1", 512 << 20, NULL, &offline, &err), 0);
        ck_assert_ptr_nonnull(strstr(err->message, "fs.grow_online failed (fake)"));
}
END_TEST

/* ---- reconcile ---- */

/* After a "reboot" (detached, unmounted, fstab entry and exports gone) reconcile repairs each,
 * in order, and only what is missing. */
START_TEST(test_reconcile_repairs_ready_share) {
        create_ok("S1");
        create_ok("S2");
        forget();
        disk_of("S1")->attached = false;
        g_hash_table_remove(fake.mounted, "S1");
        g_hash_table_remove(fake.fstab, "S1");
        g_hash_table_remove_all(fake.served);
        g_autoptr(ReconcileReport) rep = NULL;
        ck_assert_int_eq(engine_reconcile(engine, &rep, NULL), 0);
        g_autofree char *c1 = calls();
        ck_assert_str_eq(c1, "disk.attach S1; fs.make_dir S1; fs.mount S1; fs.fstab_set S1; exports.remove S1; "
                             "exports.apply -; exports.set S1; exports.set S2; exports.apply -");
        ck_assert_uint_eq(rep->problems->len, 0);
        g_autofree char *path1 = g_build_filename(root, "NFS", "S1", NULL);
        g_autofree char *path2 = g_build_filename(root, "NFS", "S2", NULL);
        g_autofree char *mnt = g_strdup_printf("S1: mounted /dev/fake-S1 (UUID=");
        ck_assert_str_eq(g_ptr_array_index(rep->changes, 0), "S1: attached /fake/S1.img as /dev/fake-S1");
        ck_assert(g_str_has_prefix(g_ptr_array_index(rep->changes, 1), mnt));
        ck_assert(g_str_has_prefix(g_ptr_array_index(rep->changes, 2), "S1: wrote its fstab entry"));
        g_autofree char *e1 = g_strdup_printf("exported %s", path1);
        g_autofree char *e2 = g_strdup_printf("exported %s", path2);
        ck_assert_str_eq(g_ptr_array_index(rep->changes, 3), e1);
        ck_assert_str_eq(g_ptr_array_index(rep->changes, 4), e2);
        ck_assert_uint_eq(rep->changes->len, 5);
        /* the directory the repair made again is recorded: delete removes it */
        g_autoptr(ShareInfo) info = NULL;
        ck_assert_int_eq(engine_get(engine, "S1", &info, NULL), 0);
        ck_assert_uint_eq(info->share->dir_ino, 9);

        /* healthy now: a second reconcile repairs nothing */
        g_autoptr(ReconcileReport) rep2 = NULL;
        ck_assert_int_eq(engine_reconcile(engine, &rep2, NULL), 0);
        g_autofree char *c2 = calls();
        ck_assert_str_eq(c2, "exports.set S1; exports.set S2; exports.apply -");
        ck_assert_uint_eq(rep2->changes->len, 0);
}
END_TEST

/* A share served while it was not mounted (NFS-Ganesha, started at boot before nfsprovd, read the
 * file and holds the directory under the mount point): once reconcile mounted it, its export is
 * removed and applied, then set and applied again, so the server serves the share's filesystem;
 * reported as exported. A share that stayed mounted is left alone. */
START_TEST(test_reconcile_serves_remounted_share_anew) {
        create_ok("S1");
        create_ok("S2");
        forget();
        g_hash_table_remove(fake.mounted, "S1"); /* still listed and served */
        g_autoptr(ReconcileReport) rep = NULL;
        ck_assert_int_eq(engine_reconcile(engine, &rep, NULL), 0);
        g_autofree char *c1 = calls();
        ck_assert_str_eq(c1, "fs.make_dir S1; fs.mount S1; exports.remove S1; exports.apply -; exports.set S1; "
                             "exports.set S2; exports.apply -");
        ck_assert_uint_eq(rep->problems->len, 0);
        g_autofree char *path1 = g_build_filename(root, "NFS", "S1", NULL);
        g_autofree char *e1 = g_strdup_printf("exported %s", path1);
        ck_assert_uint_eq(rep->changes->len, 2);
        ck_assert_str_eq(g_ptr_array_index(rep->changes, 1), e1);
        ck_assert_uint_eq(g_hash_table_size(fake.served), 2);
}
END_TEST

/* A share that is not mounted (a repair that fails) is never exported. */
START_TEST(test_reconcile_never_exports_unmounted) {
        create_ok("S1");
        forget();
        g_hash_table_remove(fake.mounted, "S1");
        fake.fail = "fs.mount";
        g_autoptr(ReconcileReport) rep = NULL;
        ck_assert_int_eq(engine_reconcile(engine, &rep, NULL), 0);
        g_autofree char *c1 = calls();
        ck_assert_str_eq(c1, "fs.make_dir S1; fs.mount S1; exports.remove S1; exports.apply -");
        ck_assert_uint_eq(rep->problems->len, 1);
        ck_assert_ptr_nonnull(strstr(g_ptr_array_index(rep->problems, 0), "S1: cannot mount"));
        ck_assert_uint_eq(g_hash_table_size(fake.served), 0);
}
END_TEST

/* What reconcile does for a create that stopped at each step: undo exactly what began. */
/* Make S1's row say that operation `op` stopped at `step` with the share in `status` (as a crash
 * there would leave it); further changes to the row by `adjust`, if given. */
static void stop_share_at(ShareStatus status, const char *op, const char *step, void (*adjust)(Share *s)) {
        g_autoptr(State) st = NULL;
        g_autofree char *dir = g_build_filename(root, "state", NULL);
        ck_assert_int_eq(state_open(dir, &st, NULL), 0);
        g_autoptr(Share) s = NULL;
        ck_assert_int_eq(state_share_get(st, "S1", &s, NULL), 0);
        s->status = status;
        g_free(s->operation);
        s->operation = g_strdup(op);
        g_free(s->step);
        s->step = g_strdup(step);
        s->step_done = false;
        if (adjust)
                adjust(s);
        ck_assert_int_eq(state_share_update(st, s, NULL), 0);
}

START_TEST(test_reconcile_undoes_unfinished_create) {
        create_ok("S1");
        forget();
        stop_share_at(SHARE_CREATING, "create", "mount", NULL);
        g_autoptr(ReconcileReport) rep = NULL;
        ck_assert_int_eq(engine_reconcile(engine, &rep, NULL), 0);
        g_autofree char *c1 = calls();
        ck_assert_str_eq(c1, "fs.umount S1; fs.remove_dir S1; disk.release+wipe S1; exports.remove S1; exports.apply -");
        ck_assert_str_eq(g_ptr_array_index(rep->changes, 0), "S1: undid a create that stopped at step mount");
        g_autoptr(ShareInfo) info = NULL;
        ck_assert_int_eq(engine_get(engine, "S1", &info, NULL), -ENOENT);
}
END_TEST

/* A share in the middle of an operation (here a delete that stopped) refuses every operation on
 * an existing share with the same line, and nothing is done. */
START_TEST(test_operations_need_ready_share) {
        create_ok("S1");
        forget();
        stop_share_at(SHARE_DELETING, "delete", "unexport", NULL);
        static const char tail[] = ": the share is deleting (operation delete at step unexport); run `nfsprov "
                                   "reconcile` and retry";
        g_autoptr(GError) err = NULL;
        ck_assert_int_eq(engine_resize(engine, "S1", 128 << 20, NULL, NULL, &err), -EBUSY);
        g_autofree char *m1 = g_strconcat("resize S1", tail, NULL);
        ck_assert_str_eq(err->message, m1);
        g_clear_error(&err);
        ck_assert_int_eq(engine_set_guard(engine, "S1", "off", NULL, &err), -EBUSY);
        g_autofree char *m2 = g_strconcat("guard S1", tail, NULL);
        ck_assert_str_eq(err->message, m2);
        g_clear_error(&err);
        VolumeSpec vs = { .share = "S1", .name = "vm", .capacity = 1 << 20 };
        ck_assert_int_eq(engine_volume_create(engine, &vs, NULL, &err), -EBUSY);
        g_autofree char *m3 = g_strconcat("vol-create S1", tail, NULL);
        ck_assert_str_eq(err->message, m3);
        g_autofree char *c = calls();
        ck_assert_str_eq(c, "");
        g_autoptr(ShareInfo) info = NULL;
        ck_assert_int_eq(engine_get(engine, "S1", &info, NULL), 0);
        ck_assert_ptr_null(info->share->guard); /* no mode recorded: the default, as before */
        ck_assert_int_eq(info->share->status, SHARE_DELETING);
}
END_TEST

static void set_target_128m(Share *s) {
        s->target_size = 128 << 20;
}

/* A resize that stopped is finished: repaired (mounted again), then grown. */
START_TEST(test_reconcile_finishes_resize) {
        create_ok("S1");
        forget();
        stop_share_at(SHARE_RESIZING, "resize", "e2fsck", set_target_128m);
        g_hash_table_remove(fake.mounted, "S1"); /* stopped while unmounted */
        g_autoptr(ReconcileReport) rep = NULL;
        ck_assert_int_eq(engine_reconcile(engine, &rep, NULL), 0);
        g_autofree char *c1 = calls();
        ck_assert_str_eq(c1, "fs.make_dir S1; fs.mount S1; disk.grow S1; fs.grow_online S1; exports.set S1; "
                             "exports.apply -");
        g_autoptr(ShareInfo) info = NULL;
        ck_assert_int_eq(engine_get(engine, "S1", &info, NULL), 0);
        ck_assert_int_eq(info->share->status, SHARE_READY);
        ck_assert_uint_eq(info->share->size, 128 << 20);
}
END_TEST

/* ---- the guard ---- */

/* create --guard detect: the root is not made immutable; the mode is recorded and shown. */
START_TEST(test_guard_create_modes) {
        ShareSpec spec = { .name = "D", .size = 64 << 20, .guard = "detect" };
        g_autoptr(ShareInfo) info = NULL;
        ck_assert_int_eq(engine_create(engine, &spec, &info, NULL, NULL), 0);
        ck_assert_str_eq(info->share->guard, "detect");
        ck_assert_int_eq(info->guard, GUARD_DETECT);
        ck_assert_int_eq(info->guard_active, GUARD_DETECT);
        ck_assert(!info->guard_protected);
        g_autofree char *c = calls();
        ck_assert_ptr_nonnull(strstr(c, "fs.protect(off) D")); /* brought to the mode: cleared */

        /* the default ([shares] guard = enforce) */
        create_ok("E");
        g_autoptr(ShareInfo) e = NULL;
        ck_assert_int_eq(engine_get(engine, "E", &e, NULL), 0);
        ck_assert_ptr_null(e->share->guard);
        ck_assert_int_eq(e->guard, GUARD_ENFORCE);
        ck_assert(e->guard_protected);

        /* a bad mode: refused before anything is recorded */
        ShareSpec bad = { .name = "B", .size = 64 << 20, .guard = "strict" };
        g_autoptr(GError) err = NULL;
        forget();
        ck_assert_int_eq(engine_create(engine, &bad, NULL, NULL, &err), -EINVAL);
        ck_assert_str_eq(err->message, "\"strict\" is not a guard mode; allowed: enforce, detect or off");
        g_autofree char *none = calls();
        ck_assert_str_eq(none, "");
        g_autoptr(ShareInfo) gone = NULL;
        ck_assert_int_eq(engine_get(engine, "B", &gone, NULL), -ENOENT);
}
END_TEST

/* nfsprov guard: the mode recorded, the attribute follows. */
START_TEST(test_guard_set) {
        create_ok("S1");
        forget();
        g_autoptr(ShareInfo) info = NULL;
        ck_assert_int_eq(engine_set_guard(engine, "S1", "off", &info, NULL), 0);
        ck_assert_str_eq(info->share->guard, "off");
        ck_assert(!info->guard_protected);
        g_autofree char *c = calls();
        ck_assert_str_eq(c, "fs.protect(off) S1");
        g_autoptr(GError) err = NULL;
        ck_assert_int_eq(engine_set_guard(engine, "S1", "", NULL, &err), -EINVAL);
        g_autoptr(ShareInfo) again = NULL;
        ck_assert_int_eq(engine_get(engine, "S1", &again, NULL), 0);
        ck_assert_str_eq(again->share->guard, "off");
        /* a failure of the attribute: the mode stays recorded, reconcile finishes it */
        fake.fail = "fs.protect";
        g_clear_error(&err);
        ck_assert_int_eq(engine_set_guard(engine, "S1", "enforce", NULL, &err), -EIO);
        ck_assert_ptr_nonnull(strstr(err->message, "mode enforce recorded"));
        ck_assert(!g_hash_table_contains(fake.immutable, "S1"));
        forget();
        g_autoptr(ReconcileReport) rep = NULL;
        ck_assert_int_eq(engine_reconcile(engine, &rep, NULL), 0);
        ck_assert(g_hash_table_contains(fake.immutable, "S1"));
        ck_assert_str_eq(g_ptr_array_index(rep->changes, 0), "S1: set the immutable attribute of its root (guard enforce)");
}
END_TEST

/* The attribute lifted behind nfsprov's back: reconcile sets it again, once. */
START_TEST(test_guard_reconcile) {
        create_ok("S1");
        g_hash_table_remove(fake.immutable, "S1");
        forget();
        g_autoptr(ReconcileReport) rep = NULL;
        ck_assert_int_eq(engine_reconcile(engine, &rep, NULL), 0);
        g_autofree char *c = calls();
        ck_assert_str_eq(c, "fs.protect(on) S1; exports.set S1; exports.apply -");
        g_autoptr(ReconcileReport) rep2 = NULL;
        ck_assert_int_eq(engine_reconcile(engine, &rep2, NULL), 0);
        g_autofree char *c2 = calls();
        ck_assert_str_eq(c2, "exports.set S1; exports.apply -");
}
END_TEST

/* Where the attribute cannot be set (no CAP_LINUX_IMMUTABLE), enforce runs as detect, says
 * why, and create does not fail. */
START_TEST(test_guard_cannot_protect) {
        fake.fail = "fs.protect";
        fake.fail_errno = EPERM;
        create_ok("S1");
        g_autoptr(ShareInfo) info = NULL;
        ck_assert_int_eq(engine_get(engine, "S1", &info, NULL), 0);
        ck_assert_int_eq(info->guard, GUARD_ENFORCE);
        ck_assert_int_eq(info->guard_active, GUARD_DETECT);
        ck_assert_str_eq(info->guard_note, "fs.protect failed (fake)");
        ck_assert(!info->guard_protected);
        /* not retried by every reconcile while the reason stands */
        forget();
        g_autoptr(ReconcileReport) rep = NULL;
        ck_assert_int_eq(engine_reconcile(engine, &rep, NULL), 0);
        g_autofree char *c = calls();
        ck_assert_str_eq(c, "exports.set S1; exports.apply -");
}
END_TEST

/* ---- the guard's removal of a foreign entry (audit --remove) ---- */

/* BASE/S1/rel, the share's root made (the fake's open_root makes it too). */
static char *in_share(const char *rel) {
        g_autofree char *top = g_build_filename(root, "NFS", "S1", NULL);
        ck_assert_int_eq(g_mkdir_with_parents(top, 0755), 0);
        return g_build_filename(top, rel, NULL);
}

static void make_file(const char *path) {
        ck_assert(g_file_set_contents(path, "x", 1, NULL));
}

/* A tree 3000 levels deep is removed (no recursion, bounded descriptors); its journal entries
 * name the entry and what it was; a path not there is removed already. */
START_TEST(test_remove_deep_tree) {
        create_ok("S1");
        g_autofree char *deep = in_share("deep");
        ck_assert_int_eq(mkdir(deep, 0755), 0);
        struct stat st;
        ck_assert_int_eq(lstat(deep, &st), 0);
        _cleanup_close_ int fd = open(deep, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        for (int i = 0; i < 3000; i++) {
                ck_assert_int_eq(mkdirat(fd, "d", 0755), 0);
                if (i % 500 == 0)
                        ck_assert_int_eq(symlinkat("/etc", fd, "etc"), 0);
                int next = openat(fd, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                ck_assert_int_ge(next, 0);
                close(fd);
                fd = next;
        }
        g_autoptr(GError) err = NULL;
        int r = engine_remove_foreign(engine, "S1", "deep", &err);
        ck_assert_msg(r == 0, "remove deep: %s", err ? err->message : "");
        ck_assert_int_eq(access(deep, F_OK), -1);
        ck_assert_int_eq(access("/etc/hostname", F_OK), 0);
        g_autofree char *j = journal_of("guard-remove");
        g_autofree char *want = g_strdup_printf("ino=%" PRIu64 " btime=", (uint64_t) st.st_ino);
        ck_assert_msg(g_str_has_prefix(j, "begin:remove:") && strstr(j, want) && g_str_has_suffix(j, " path=deep"),
                      "journal: %s", j);
        ck_assert_int_eq(engine_remove_foreign(engine, "S1", "not/there", NULL), 0);
}
END_TEST

/* A directory the audit found, swapped for a symbolic link since: refused, nothing changed; a
 * file swapped for a hard link of a volume (by its inode, whatever the audit said): refused. */
START_TEST(test_remove_refuses_swapped_entries) {
        create_ok("S1");
        g_autofree char *swap = in_share("swap");
        g_autofree char *inner = in_share("swap/f");
        ck_assert_int_eq(mkdir(swap, 0755), 0);
        make_file(inner);
        ck_assert_int_eq(engine_audit(engine, "S1", NULL, NULL), 0);
        ck_assert_int_eq(unlink(inner), 0);
        ck_assert_int_eq(rmdir(swap), 0);
        ck_assert_int_eq(symlink("vol", swap), 0);
        g_autoptr(GError) err = NULL;
        ck_assert_int_eq(engine_remove_foreign(engine, "S1", "swap", &err), -EINVAL);
        ck_assert_str_eq(err->message, "remove S1/swap: it is a symlink now, the audit found a directory there; run "
                                       "nfsprov audit S1 and check it again");
        struct stat st;
        ck_assert_int_eq(lstat(swap, &st), 0);
        ck_assert(S_ISLNK(st.st_mode));
        g_autofree char *j = journal_of("guard-remove");
        ck_assert_str_eq(j, ""); /* nothing recorded */
        /* audited again: the link is what the admin removes */
        ck_assert_int_eq(engine_audit(engine, "S1", NULL, NULL), 0);
        ck_assert_int_eq(engine_remove_foreign(engine, "S1", "swap", NULL), 0);
        ck_assert_int_eq(lstat(swap, &st), -1);

        /* a volume's inode (the manifest records it), under another name */
        g_autofree char *vol = in_share("vm");
        g_autofree char *sub = in_share("sub");
        make_file(vol);
        ck_assert_int_eq(lstat(vol, &st), 0);
        g_autoptr(State) state = NULL;
        g_autofree char *dir = g_build_filename(root, "state", NULL);
        ck_assert_int_eq(state_open(dir, &state, NULL), 0);
        Volume v = { .share = "S1", .name = "vm", .capacity = 1 << 20, .format = "qcow2", .ino = st.st_ino,
                     .status = VOLUME_READY };
        ck_assert_int_eq(state_volume_insert(state, &v, NULL), 0);
        ck_assert_int_eq(mkdir(sub, 0755), 0);
        g_autofree char *hard = in_share("sub/hard");
        ck_assert_int_eq(link(vol, hard), 0);
        g_clear_error(&err);
        ck_assert_int_eq(engine_remove_foreign(engine, "S1", "sub/hard", &err), -EINVAL);
        ck_assert_str_eq(err->message, "remove S1/sub/hard: it is the volume vm (the same inode); use nfsprov vol-delete");
        g_clear_error(&err);
        ck_assert_int_eq(engine_remove_foreign(engine, "S1", "sub", &err), -EBUSY);
        ck_assert_str_eq(err->message, "remove S1/sub: S1/sub/hard is the volume vm (the same inode): not removed, and "
                                       "the removal stopped there; move it back or use nfsprov vol-delete");
        ck_assert_int_eq(lstat(vol, &st), 0);
        ck_assert_int_eq(st.st_nlink, 2);
        g_autofree char *j2 = journal_of("guard-remove");
        ck_assert_msg(g_str_has_suffix(j2, " fail:remove:S1/sub/hard is the volume vm (the same inode): not removed, and the "
                                           "removal stopped there; move it back or use nfsprov vol-delete"),
                      "journal: %s", j2);
}
END_TEST

/* nfsprovd died while a removal ran (the journal's last entry of it is a "begin"): reconcile
 * finishes it while the path is still that entry, leaves another entry in place and says so, and
 * then the operation is over. */
START_TEST(test_reconcile_finishes_remove) {
        create_ok("S1");
        g_autofree char *half = in_share("half");
        g_autofree char *inner = in_share("half/a");
        g_autofree char *other = in_share("other");
        ck_assert_int_eq(mkdir(half, 0755), 0);
        ck_assert_int_eq(mkdir(inner, 0755), 0);
        ck_assert_int_eq(mkdir(other, 0755), 0);
        struct statx x;
        ck_assert_int_eq(statx(AT_FDCWD, half, AT_SYMLINK_NOFOLLOW, STATX_INO | STATX_BTIME, &x), 0);
        int64_t bs = (x.stx_mask & STATX_BTIME) ? x.stx_btime.tv_sec : 0;
        uint32_t bn = (x.stx_mask & STATX_BTIME) ? x.stx_btime.tv_nsec : 0;
        g_autofree char *note = g_strdup_printf("ino=%" PRIu64 " btime=%" PRId64 ".%09" PRIu32 " path=half",
                                                (uint64_t) x.stx_ino, bs, bn);
        g_autoptr(State) st = NULL;
        g_autofree char *dir = g_build_filename(root, "state", NULL);
        ck_assert_int_eq(state_open(dir, &st, NULL), 0);
        ck_assert_int_eq(state_journal_add(st, "S1", NULL, "guard-remove", "remove", "begin", note, NULL), 0);
        g_autoptr(ReconcileReport) rep = NULL;
        ck_assert_int_eq(engine_reconcile(engine, &rep, NULL), 0);
        ck_assert_int_eq(access(half, F_OK), -1);
        g_ptr_array_add(rep->changes, NULL);
        g_autofree char *changes = g_strjoinv("|", (char **) rep->changes->pdata);
        ck_assert_msg(strstr(changes, "S1: finished the removal of half that stopped (audit --remove)"), "%s", changes);
        ck_assert_uint_eq(rep->problems->len, 0);

        /* the path holds another entry now */
        ck_assert_int_eq(state_journal_add(st, "S1", NULL, "guard-remove", "remove", "begin",
                                           "ino=1 btime=0.000000000 path=other", NULL),
                         0);
        g_autoptr(ReconcileReport) rep2 = NULL;
        ck_assert_int_eq(engine_reconcile(engine, &rep2, NULL), 0);
        ck_assert_int_eq(access(other, F_OK), 0);
        ck_assert_uint_eq(rep2->problems->len, 1);
        const char *p = g_ptr_array_index(rep2->problems, 0);
        ck_assert_msg(g_str_has_prefix(p, "S1: cannot finish the removal of other that stopped: it is no longer the entry "
                                          "whose removal was asked (inode ") &&
                              g_str_has_suffix(p, ", asked: inode 1): left in place"),
                      "%s", p);
        g_autoptr(ReconcileReport) rep3 = NULL;
        ck_assert_int_eq(engine_reconcile(engine, &rep3, NULL), 0);
        ck_assert_uint_eq(rep3->problems->len, 0);
}
END_TEST

/* ---- the snapshot store: an operation answers before it publishes ---- */

typedef struct {
        SnapshotStore *store;
        bool saw_b;
} Reader;

static gpointer read_snapshot(gpointer data) {
        Reader *rd = data;
        g_autoptr(Snapshot) s = snapshot_store_get(rd->store);
        rd->saw_b = snapshot_share(s, "b", NULL) != NULL;
        return NULL;
}

/* A read that starts after snapshot_store_expect (the operation has answered, its publish is
 * coming) gets the snapshot that publish makes, never the one before it: a client that reads
 * after the answer sees what the operation did. Without the wait the reader, started 50 ms
 * before the share exists, would answer from the old snapshot. */
START_TEST(test_snapshot_read_waits_for_expected_publish) {
        create_ok("a");
        GMutex lock;
        g_mutex_init(&lock);
        SnapshotStore *store = snapshot_store_new(engine, &lock);
        g_mutex_lock(&lock);
        snapshot_store_expect(store);
        Reader rd = { store, false };
        GThread *t = g_thread_new("reader", read_snapshot, &rd);
        g_usleep(50 * 1000);
        create_ok("b");
        snapshot_store_publish(store);
        g_mutex_unlock(&lock);
        g_thread_join(t);
        ck_assert_msg(rd.saw_b, "the read answered from the snapshot before the expected publish");
        /* once published, reads do not wait */
        Snapshot *now = snapshot_store_get(store);
        ck_assert_ptr_nonnull(snapshot_share(now, "b", NULL));
        snapshot_unref(now);
        snapshot_store_free(store);
        g_mutex_clear(&lock);
}
END_TEST

Suite *unit_suite(void) {
        Suite *s = suite_create("engine");
        TCase *tc = tcase_create("engine");
        tcase_set_timeout(tc, 30);
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_create_steps_in_order);
        tcase_add_test(tc, test_create_journal);
        tcase_add_test(tc, test_create_failure_at_each_step);
        tcase_add_test(tc, test_create_refused_changes_nothing);
        tcase_add_test(tc, test_delete_steps_and_checks);
        tcase_add_test(tc, test_delete_failure_rolls_forward);
        tcase_add_test(tc, test_resize_online_and_offline);
        tcase_add_test(tc, test_reconcile_repairs_ready_share);
        tcase_add_test(tc, test_reconcile_serves_remounted_share_anew);
        tcase_add_test(tc, test_reconcile_never_exports_unmounted);
        tcase_add_test(tc, test_reconcile_undoes_unfinished_create);
        tcase_add_test(tc, test_reconcile_finishes_resize);
        tcase_add_test(tc, test_operations_need_ready_share);
        tcase_add_test(tc, test_guard_create_modes);
        tcase_add_test(tc, test_guard_set);
        tcase_add_test(tc, test_guard_reconcile);
        tcase_add_test(tc, test_guard_cannot_protect);
        tcase_add_test(tc, test_remove_deep_tree);
        tcase_add_test(tc, test_remove_refuses_swapped_entries);
        tcase_add_test(tc, test_reconcile_finishes_remove);
        tcase_add_test(tc, test_snapshot_read_waits_for_expected_publish);
        suite_add_tcase(s, tc);
        return s;
}
