/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * nfsprovd's configuration file (nfsprov.conf(5)), a GLib key file.
 *
 * config_load() reads the file, applies the built-in default of every key it does not set, and
 * validates everything before anything uses it: unknown groups and keys are refused (the message
 * lists the known ones), every path is absolute and normalized, the paths that end up in pool
 * definitions are free of the characters seed 000 forbids, the export options keep NFSv3
 * read/write with root access (rw,no_root_squash), and so on. Every problem is one line naming
 * the file, the group and the key, what is wrong and what is allowed:
 *   /etc/nfsprov/nfsprov.conf: [shares] mode: "0800" is not an octal mode; allowed: 0 to 07777
 *
 * A Config is immutable once loaded; the daemon reloads by loading a new one.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "guard_mode.h"

/* The file nfsprovd reads when none is named: $NFSPROV_CONFIG when set and not empty. */
#define CONFIG_DEFAULT_PATH "/etc/nfsprov/nfsprov.conf"
#define CONFIG_ENV_PATH "NFSPROV_CONFIG"

typedef enum ConfigBackend {
        CONFIG_BACKEND_IMAGE, /* a sparse image file under image_dir on a loop device */
        CONFIG_BACKEND_DISK,  /* one whole disk from the disks inventory */
} ConfigBackend;

typedef struct Config {
        char *path;          /* the file the values came from; NULL for the built-in defaults */

        /* [server] */
        char *address;       /* NFS server address put in pool definitions, an IPv4 or IPv6
                              * literal in canonical form (g_inet_address_to_string); NULL: not set */
        char *state_dir;     /* "/var/lib/nfsprov" */
        char *socket;        /* "/run/nfsprov/nfsprovd.sock" */
        char *admin_group;   /* group (name or number) allowed on the socket besides root; NULL: none */
        char *listen;        /* "HOST:PORT" or "[IPv6]:PORT" for TCP; NULL: no TCP listener */
        char *listen_host;   /* HOST of listen without brackets; NULL when listen is NULL */
        unsigned listen_port;/* 1-65535; 0 when listen is NULL */
        char *token_file;    /* file holding the bearer token admin requests over TCP need; NULL:
                              * admin over TCP off (nfsprovd checks owner and mode at start) */
        char *tls_cert;      /* PEM certificate for TLS on the TCP listener; NULL: plain HTTP */
        char *tls_key;       /* its PEM private key; set together with tls_cert */

        /* [shares] */
        char *base;          /* "/home/NFS": share NAME is mounted at BASE/NAME */
        ConfigBackend backend;
        char *image_dir;     /* "/var/lib/nfsprov/images" */
        char **disks;        /* NULL-terminated, never NULL: absolute /dev paths (may be empty) */
        char **clients;      /* NULL-terminated, never NULL, at least one: exports(5) client specs */
        char *options;       /* exports(5) options, e.g. "rw,no_root_squash,sync,no_subtree_check" */
        char *owner;         /* owner of each share root: user name or number ("root") */
        char *group;         /* group of each share root: group name or number ("root") */
        unsigned mode;       /* mode of each share root, <= 07777 (0755) */
        GuardMode guard;     /* the guard of a share created without one (GUARD_ENFORCE) */
        unsigned audit_interval; /* seconds between full audits of every share; 0: only at start,
                                  * after reconcile and on demand (600) */

        /* [volumes] */
        char *vol_owner;     /* owner of each new volume file: user name or number ("root") */
        char *vol_group;     /* its group ("root") */
        unsigned vol_mode;   /* its mode (0600) */
        uint64_t max_capacity; /* the largest virtual size of a volume, bytes (16 TiB) */
        double max_overcommit; /* provisioned / capacity a share may reach; 0 = no limit (4) */

        /* [exports] */
        char *export_server; /* key "server": what serves the shares, "kernel" or "ganesha"
                              * (export_server_by_name, server/export_server.h) */
        char *exports_file;  /* key "file": "/etc/exports" (kernel) */
        char *ganesha_config;/* the NFS-Ganesha file nfsprovd owns: "/etc/ganesha/nfsprov.conf" */
        bool ganesha_nfsv4;  /* key "ganesha_protocols": "3" (false) or "3 4" (true) */

        /* [pools] */
        char *target_base;   /* "/var/lib/libvirt/nfsprov": pool target is TARGET_BASE/NAME */

        /* [system] */
        char *fstab;         /* "/etc/fstab" */
        char *nfs_conf;      /* "/etc/nfs.conf" */
        char *ganesha_conf;  /* NFS-Ganesha's main file, which %includes ganesha_config:
                              * "/etc/ganesha/ganesha.conf" */
} Config;

/* The built-in defaults (what an empty or missing file gives). Never fails. */
Config *config_new_default(void);

void config_free(Config *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Config, config_free)

/* $NFSPROV_CONFIG when set and not empty, else CONFIG_DEFAULT_PATH. */
const char *config_default_path(void);

/* Read and validate the file at path (config_default_path() when path is NULL). A file that
 * does not exist gives the defaults when must_exist is false (c->path is then NULL) and fails
 * with -ENOENT when it is true. Any other read error, syntax error or invalid value fails with
 * a negative errno (-EINVAL for bad content) and one line in error. */
int config_load(const char *path, bool must_exist, Config **ret, GError **error);

/* BASE/NAME: where share `name` is mounted and what is exported. name must be a valid share
 * name (name_validate_share); the result is newly allocated. */
char *config_share_path(const Config *c, const char *name);

/* TARGET_BASE/NAME: the pool's target path on every KVM host. Same rules as above. */
char *config_target_path(const Config *c, const char *name);

/* Check one exports(5) client as [shares] clients allows it (also for clients given per share):
 * exports_client_check() of exports/exports_client.h, where the grammar lives. Returns 0 or
 * -EINVAL with one line: client "x" is not ...; allowed: ... */
int config_check_client(const char *client, GError **error);

/* The configuration text of a backend: "image" or "disk". */
const char *config_backend_to_string(ConfigBackend b);
