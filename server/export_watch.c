/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reconcile the exports each time the export server appears: see export_watch.h. */
#include "config.h"

#include "export_watch.h"
#include "log.h"

struct ExportWatch {
        Engine *engine;
        GMutex *engine_lock;
        SnapshotStore *snapshots;
        const ExportServer *server;
        ExportServerWatch *watch;
        GThreadPool *worker; /* one thread: the reconciles run one after the other */
};

/* "N changes (a; b)" */
static char *summary(GPtrArray *lines, const char *what) {
        GString *s = g_string_new(NULL);
        g_string_append_printf(s, "%u %s%s", lines->len, what, lines->len == 1 ? "" : "s");
        for (guint i = 0; i < lines->len; i++)
                g_string_append_printf(s, "%s%s", i == 0 ? " (" : "; ", (const char *) g_ptr_array_index(lines, i));
        if (lines->len)
                g_string_append_c(s, ')');
        return g_string_free(s, false);
}

static void reconcile(gpointer item, gpointer userdata) {
        (void) item;
        ExportWatch *w = userdata;
        g_mutex_lock(w->engine_lock);
        g_autoptr(ReconcileReport) rep = engine_reconcile_exports(w->engine);
        snapshot_store_publish(w->snapshots);
        g_mutex_unlock(w->engine_lock);
        g_autofree char *changes = summary(rep->changes, "change");
        g_autofree char *problems = summary(rep->problems, "problem");
        if (rep->problems->len)
                log_warning("export server %s appeared: exports reconciled, %s, %s", w->server->name, changes, problems);
        else
                log_info("export server %s appeared: exports reconciled, %s, %s", w->server->name, changes, problems);
}

/* In the main context: hand the reconcile to the worker (GThreadPool refuses NULL items). */
static void appeared(void *userdata) {
        ExportWatch *w = userdata;
        (void) g_thread_pool_push(w->worker, GINT_TO_POINTER(1), NULL);
}

ExportWatch *export_watch_new(Engine *engine, GMutex *engine_lock, SnapshotStore *snapshots) {
        const ExportServer *server = engine_export_server(engine);
        if (!server->watch)
                return NULL;
        ExportWatch *w = g_new0(ExportWatch, 1);
        w->engine = engine;
        w->engine_lock = engine_lock;
        w->snapshots = snapshots;
        w->server = server;
        w->worker = g_thread_pool_new(reconcile, w, 1, false, NULL);
        w->watch = server->watch(engine_config(engine), appeared, w);
        return w;
}

void export_watch_free(ExportWatch *w) {
        if (!w)
                return;
        w->server->unwatch(w->watch);
        g_thread_pool_free(w->worker, true, true); /* drop queued reconciles, wait for the running one */
        g_free(w);
}
