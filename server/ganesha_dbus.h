/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * NFS-Ganesha's export manager over D-Bus (GDBus): the bus name org.ganesha.nfsd, object
 * /org/ganesha/nfsd/ExportMgr, interface org.ganesha.nfsd.exportmgr, as NFS-Ganesha 4 has it:
 *
 *   AddExport(s conf_file, s "EXPORT(Export_Id=N)") -> (s message)
 *   UpdateExport(s conf_file, s "EXPORT(Export_Id=N)") -> (s message)
 *   RemoveExport(q id)
 *   ShowExports() -> ((tt) time, a(qs((sb)...)(tt)) exports)
 *   DisplayExport(q id) -> (q id, s path, s pseudo, s tag, a(...) clients); InvalidArgs when no
 *   export has that id
 *
 * The bus is the system bus (DBUS_SYSTEM_BUS_ADDRESS when set), reached through a private
 * connection that every GaneshaBus of the process shares while it stays open (a new one when it
 * closed, the bus having gone away, or when the address changed): a bus that goes away never
 * ends nfsprovd (the shared system-bus connection of GIO would exit the process when its bus
 * closes).
 *
 * ganesha_watch_new() follows the bus name org.ganesha.nfsd on a private connection of its own:
 * appeared runs each time the name gains an owner (Ganesha started or restarted; also once when it
 * has one as the watch begins), in the thread-default main context of the caller. When there is no
 * system bus, or the bus goes away, the watch connects again every retry_ms.
 *
 * Errors are one line. -ESRCH: Ganesha is not running (no owner of org.ganesha.nfsd, or no bus
 * at all); then nothing was changed. An error reply of Ganesha is -EIO with Ganesha's message.
 */
#pragma once

#include <gio/gio.h>

typedef struct GaneshaServed {
        unsigned id;
        char *path;
} GaneshaServed;

typedef struct GaneshaBus GaneshaBus;

/* Connect to the system bus: -ESRCH (with why in error) when there is none to reach. */
int ganesha_bus_open(GaneshaBus **ret, GError **error);
void ganesha_bus_close(GaneshaBus *b);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GaneshaBus, ganesha_bus_close)

/* What Ganesha serves now: GaneshaServed*, without its pseudo-root (Export_Id 0). */
int ganesha_show_exports(GaneshaBus *b, GPtrArray **ret, GError **error);
void ganesha_served_free(GaneshaServed *s);

typedef struct GaneshaWatch GaneshaWatch;
typedef void (*GaneshaAppeared)(void *userdata);

/* Never fails: without a bus now, it keeps trying. */
GaneshaWatch *ganesha_watch_new(unsigned retry_ms, GaneshaAppeared appeared, void *userdata);
void ganesha_watch_free(GaneshaWatch *w);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GaneshaWatch, ganesha_watch_free)

/* The path of the export Ganesha serves under id (Export_Id 1-65535): -ENOENT when it serves
 * none under that id (one export asked for, whatever the number served). */
int ganesha_display_export(GaneshaBus *b, unsigned id, char **ret_path, GError **error);

int ganesha_add_export(GaneshaBus *b, const char *conf_file, unsigned id, GError **error);
int ganesha_update_export(GaneshaBus *b, const char *conf_file, unsigned id, GError **error);
int ganesha_remove_export(GaneshaBus *b, unsigned id, GError **error);
