/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What serves the shares over NFS: a table of operations, as the disk backends are
 * (server/disk.h). The engine asks the table and never compares a server's name; a new NFS
 * server is one new file implementing it.
 *
 *   kernel  the kernel's NFS server: nfsprov's marked block in /etc/exports (or its own file in
 *           /etc/exports.d), applied with `exportfs -r`; NFSv3 is configured in /etc/nfs.conf
 *           (server/export_kernel.c).
 *   ganesha NFS-Ganesha: nfsprovd's files of EXPORT blocks, one a share, applied live over D-Bus
 *           (AddExport, UpdateExport, RemoveExport; ShowExports says what is served); NFSv3 and
 *           the %include are checked in ganesha.conf (server/export_ganesha.c).
 *
 * Contract: set and remove change what the server is told to serve (idempotent: *ret_changed
 * says whether anything changed) and take effect with apply. Functions return 0 or a negative
 * errno with one line in error; ret_ parameters are set only on success.
 */
#pragma once

#include <stdbool.h>

#include <glib.h>

#include "settings.h"

/* One share's export. */
typedef struct ExportSpec {
        const char *path;    /* BASE/NAME, as clients mount it */
        unsigned export_id;  /* the share's NFS-Ganesha Export_Id (1-65535, state.h); the kernel
                              * ignores it */
        char **clients;      /* exports(5) client specs, NULL-terminated */
        const char *options; /* exports(5) options, e.g. "rw,no_root_squash,sync,no_subtree_check" */
} ExportSpec;

/* Whether the server is configured to serve NFSv3 (seed 000) and not v4. */
typedef struct ExportServerConfig {
        char *file;                 /* the configuration file checked */
        bool vers3, vers4, ok;
        bool changed;               /* apply changed the file */
        char *problem;              /* what is wrong, NULL when ok */
        char *running;              /* what the running server reports ("+3 -4 ..."); NULL when none runs */
        bool has_legacy;            /* the older distributions' file exists (RHEL 6: /etc/sysconfig/nfs) */
        bool legacy_v4_disabled;    /* ... and turns NFSv4 off (RPCNFSDARGS="-N 4") */
} ExportServerConfig;
void export_server_config_clear(ExportServerConfig *c);

/* A watch of the server appearing (the server's unwatch ends it). */
typedef struct ExportServerWatch ExportServerWatch;
typedef void (*ExportServerAppeared)(void *userdata);

typedef struct ExportServer {
        const char *name;        /* "kernel" */
        const char *description; /* one line for show, nfs-config and metrics */
        /* Check the server's configuration; with apply, first make it serve NFSv3 (and not v4). */
        int (*config)(const Config *c, bool apply, ExportServerConfig *ret, GError **error);
        /* Make spec the export of spec->path (replacing the one it had). */
        int (*set)(const Config *c, const ExportSpec *spec, bool *ret_changed, GError **error);
        /* Remove the export of path (none is fine). */
        int (*remove)(const Config *c, const char *path, bool *ret_changed, GError **error);
        /* Serve what set and remove left (kernel: exportfs -r). */
        int (*apply)(const Config *c, GError **error);
        /* Optional (NULL: apply): serve what set or remove left for the export of path, at the
         * cost of that one export whatever the number served (ganesha: one AddExport,
         * UpdateExport or RemoveExport); where it cannot tell (its id serving another path) it
         * does what apply does. */
        int (*apply_path)(const Config *c, const char *path, GError **error);
        /* The paths nfsprov told the server to serve (char*, sorted). */
        int (*listed)(const Config *c, GPtrArray **ret_paths, GError **error);
        /* The paths the server serves now (char*, sorted; kernel: exportfs's table,
         * /var/lib/nfs/etab). */
        int (*served)(const Config *c, GPtrArray **ret_paths, GError **error);
        /* Optional (NULL: listed and served): whether the server was told to serve path, and
         * serves it now, at the cost of that one export (ganesha: its file and DisplayExport). */
        int (*path_state)(const Config *c, const char *path, bool *ret_listed, bool *ret_served, GError **error);
        /* Optional (NULL: a server that cannot come and go under nfsprovd, as the kernel's).
         * Call appeared(userdata) each time the server starts serving anew (started or
         * restarted; also once at the start of the watch when it runs already), from the
         * thread-default main context of the caller, so that apply can bring it what it lacks.
         * Never fails: what it watches through (a bus) is looked for again while it is absent. */
        ExportServerWatch *(*watch)(const Config *c, ExportServerAppeared appeared, void *userdata);
        void (*unwatch)(ExportServerWatch *w);
} ExportServer;

extern const ExportServer export_server_kernel;
extern const ExportServer export_server_ganesha;

/* The server called name ("kernel", "ganesha"), or NULL: the one place that compares names. */
const ExportServer *export_server_by_name(const char *name);
