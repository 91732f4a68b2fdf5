/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "error.h"
#include "macro.h"
#include "nfs_probe.h"
#include "pool_sync.h"
#include "pool_users.h"

static const char *const status_names[] = {
        [SYNC_IN_SYNC] = "in-sync",   [SYNC_CHANGED] = "changed",   [SYNC_WOULD_CHANGE] = "would-change",
        [SYNC_DRIFT] = "drift",       [SYNC_CONFLICT] = "conflict", [SYNC_FAILED] = "failed",
};

const char *sync_status_to_string(SyncStatus s) {
        return s < ELEMENTSOF(status_names) ? status_names[s] : NULL;
}

void sync_result_free(SyncResult *r) {
        if (!r)
                return;
        g_free(r->name);
        g_free(r->uuid);
        g_free(r->server);
        if (r->actions)
                g_ptr_array_unref(r->actions);
        pool_status_free(r->checks);
        g_free(r->note);
        g_free(r->error);
        g_free(r);
}

typedef enum Action {
        ACT_DEFINE,
        ACT_REDEFINE,
        ACT_AUTOSTART,
        ACT_BUILD,
        ACT_START,
        ACT_RESTART,
} Action;

static const char *const action_names[] = {
        [ACT_DEFINE] = "define", [ACT_REDEFINE] = "redefine", [ACT_AUTOSTART] = "autostart",
        [ACT_BUILD] = "build",   [ACT_START] = "start",       [ACT_RESTART] = "restart",
};

/* Replace (or add) the host's entry for `name` with a fresh read. */
static int refresh_host_pool(Host *h, GPtrArray *host_pools, const char *name, GError **error) {
        HostPool *fresh = NULL;
        g_autoptr(GError) perr = NULL;
        int r = host_get_pool(h, name, &fresh, &perr);
        if (r < 0 && r != -ENOENT) {
                g_propagate_error(error, TAKE_PTR(perr));
                return r;
        }
        for (size_t i = 0; i < host_pools->len; i++)
                if (strcmp(((HostPool *) host_pools->pdata[i])->name, name) == 0) {
                        g_ptr_array_remove_index(host_pools, i);
                        break;
                }
        if (fresh)
                g_ptr_array_add(host_pools, fresh);
        return 0;
}

/* The target directory exists (libvirt's netfs start mounts on it and does not create it). */
static bool target_exists(const PoolDef *def) {
        return g_file_test(def->target_path, G_FILE_TEST_IS_DIR);
}

static int run_action(Host *h, const PoolDef *want, Action a, GError **error) {
        switch (a) {
        case ACT_DEFINE:
        case ACT_REDEFINE:
                return host_define(h, want, error);
        case ACT_AUTOSTART:
                return host_set_autostart(h, want->name, error);
        case ACT_BUILD:
                return host_build(h, want->name, error);
        case ACT_START:
                return host_start(h, want->name, error);
        case ACT_RESTART: {
                int r = host_stop(h, want->name, error);
                if (r < 0)
                        return r;
                if (!target_exists(want) && (r = host_build(h, want->name, error)) < 0)
                        return r;
                return host_start(h, want->name, error);
        }
        }
        g_assert_not_reached();
}

/* Whether a restart may happen; sets *ret_note to why not. */
static int may_restart(Host *h, const HostPool *p, int timeout_ms, char **ret_note, GError **error) {
        bool known;
        g_autoptr(PoolUse) use = NULL;
        int r = pool_users_find(h, p, timeout_ms, &known, &use, error);
        if (r < 0)
                return r;
        if (use && use->unsure)
                *ret_note = g_strdup_printf("needs a restart, but running domain %s may use it: %s", use->domain,
                                            use->what);
        else if (use)
                *ret_note = g_strdup_printf("needs a restart, but running domain %s uses it: %s", use->domain,
                                            use->what);
        return 0;
}

/* After the actions: a pool that runs and is mounted as defined is refreshed, so libvirt lists
 * the volumes on the share now (libvirt scans when it starts a pool, never again by itself). */
static void refresh_volumes(Host *h, SyncResult *res, const PoolStatus *st) {
        if (res->status == SYNC_CONFLICT || res->status == SYNC_FAILED || !st->pool || !st->pool->active ||
            st->check[CHECK_MOUNTED] != CHECK_OK)
                return;
        g_autoptr(GError) perr = NULL;
        if (host_refresh(h, res->name, &perr) < 0) {
                res->status = SYNC_FAILED;
                res->error = g_strdup(perr->message);
                return;
        }
        res->refreshed = true;
}

int pool_sync(Host *h, const WantedPool *w, GPtrArray *host_pools, const SyncOptions *opts, SyncResult **ret,
              GError **error) {
        g_return_val_if_fail(h && w && host_pools && opts && ret, -EINVAL);
        const PoolDef *want = w->def;

        g_autoptr(SyncResult) res = g_new0(SyncResult, 1);
        res->name = g_strdup(want->name);
        res->uuid = g_strdup(want->uuid);
        res->server = g_strdup(w->server);
        res->actions = g_ptr_array_new();

        g_autoptr(PoolStatus) st = NULL;
        int r = pool_check_wanted(want, w->conflict, host_pools, opts->mountinfo, &st, error);
        if (r < 0)
                return r;

        Action plan[8];
        size_t n = 0;
        if (st->conflict) {
                res->status = SYNC_CONFLICT;
        } else if (st->check[CHECK_DEFINED] == CHECK_FAIL) {
                plan[n++] = ACT_DEFINE;
                plan[n++] = ACT_AUTOSTART;
                plan[n++] = ACT_BUILD;
                plan[n++] = ACT_START;
        } else {
                const HostPool *p = st->pool;
                bool drift = pool_status_has_drift(st);
                bool restart = false;
                if (drift && !opts->fix) {
                        res->status = SYNC_DRIFT;
                        res->note = g_strdup("run sync --fix to redefine it from the server's definition");
                } else {
                        if (drift)
                                plan[n++] = ACT_REDEFINE;
                        else if (st->check[CHECK_PERSISTENT] == CHECK_FAIL)
                                plan[n++] = ACT_DEFINE;
                        if (st->check[CHECK_AUTOSTART] == CHECK_FAIL)
                                plan[n++] = ACT_AUTOSTART;
                        if (!p->active) {
                                if (!target_exists(want))
                                        plan[n++] = ACT_BUILD;
                                plan[n++] = ACT_START;
                        } else if (drift || st->check[CHECK_MOUNTED] == CHECK_FAIL) {
                                if (!opts->fix)
                                        res->note = g_strdup("run sync --fix to restart it");
                                else if ((r = may_restart(h, p, opts->users_timeout_ms, &res->note, error)) < 0)
                                        return r;
                                else
                                        restart = res->note == NULL;
                        }
                        if (restart)
                                plan[n++] = ACT_RESTART;
                }
        }

        bool mounts = false;
        for (size_t i = 0; i < n; i++)
                mounts = mounts || plan[i] == ACT_DEFINE || plan[i] == ACT_START || plan[i] == ACT_RESTART;
        if (opts->nfs_check && mounts && res->status == SYNC_IN_SYNC) {
                g_autoptr(GError) perr = NULL;
                if (nfs_probe(want, 0, &perr) < 0) {
                        res->status = SYNC_FAILED;
                        res->error = g_strdup(perr->message);
                        pool_status_set(st, CHECK_NFS3, perr->message);
                        n = 0; /* nothing is done to the pool */
                } else
                        pool_status_set(st, CHECK_NFS3, NULL);
        }

        if (opts->dry_run || res->status == SYNC_CONFLICT || res->status == SYNC_DRIFT || res->status == SYNC_FAILED) {
                for (size_t i = 0; i < n; i++)
                        g_ptr_array_add(res->actions, (gpointer) action_names[plan[i]]);
                if (res->status == SYNC_IN_SYNC)
                        res->status = n > 0 ? SYNC_WOULD_CHANGE : pool_status_ok(st) ? SYNC_IN_SYNC : SYNC_DRIFT;
                if (!opts->dry_run && !opts->unchanged)
                        refresh_volumes(h, res, st);
                st->pool = NULL;
                res->checks = TAKE_PTR(st);
                *ret = TAKE_PTR(res);
                return 0;
        }

        for (size_t i = 0; i < n; i++) {
                g_autoptr(GError) perr = NULL;
                if (run_action(h, want, plan[i], &perr) < 0) {
                        res->status = SYNC_FAILED;
                        res->error = g_strdup(perr->message);
                        break;
                }
                g_ptr_array_add(res->actions, (gpointer) action_names[plan[i]]);
        }

        /* Read the pool back and check it again: what libvirt reports is not the last word. */
        if (n > 0) {
                st = (pool_status_free(st), NULL);
                if ((r = refresh_host_pool(h, host_pools, want->name, error)) < 0 ||
                    (r = pool_check_wanted(want, w->conflict, host_pools, opts->mountinfo, &st, error)) < 0)
                        return r;
        }
        if (res->status != SYNC_FAILED) {
                if (pool_status_ok(st))
                        res->status = n > 0 ? SYNC_CHANGED : SYNC_IN_SYNC;
                else if (n > 0 && (st->check[CHECK_ACTIVE] == CHECK_FAIL || st->check[CHECK_MOUNTED] == CHECK_FAIL) &&
                         !res->note) {
                        const Problem *pb = NULL;
                        for (size_t i = 0; i < st->problems->len && !pb; i++)
                                if (((Problem *) st->problems->pdata[i])->check >= CHECK_ACTIVE)
                                        pb = st->problems->pdata[i];
                        res->status = SYNC_FAILED;
                        res->error = g_strdup_printf("after %s: %s", action_names[plan[n - 1]], pb->text);
                } else
                        res->status = SYNC_DRIFT;
        }
        if (!opts->unchanged || n > 0)
                refresh_volumes(h, res, st);
        st->pool = NULL;
        res->checks = TAKE_PTR(st);
        *ret = TAKE_PTR(res);
        return 0;
}
