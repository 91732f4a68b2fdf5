/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * nfsprov-client's configuration file (GKeyFile, default /etc/nfsprov/client.conf):
 *
 *   [client]
 *   servers = http://10.0.0.1:8740;http://10.0.0.2:8740   # nfsprovd base URLs, ';'-separated
 *   connect = qemu:///system                                # libvirt URI
 *   token_file = /etc/nfsprov/client.token                  # bearer token sent to the servers
 *   ca_file = /etc/nfsprov/ca.pem                           # CA bundle for https servers
 *   timeout = 30                                            # seconds per server request, 1-3600
 *
 * Every key is optional; unknown groups and keys are refused (a typo must not silently drop a
 * server). Command-line options override the file.
 */
#pragma once

#include <stdbool.h>

#include <glib.h>

#define CLIENT_CONF_DEFAULT "/etc/nfsprov/client.conf"
#define CLIENT_CONNECT_DEFAULT "qemu:///system"

typedef struct ClientConf {
        char **servers;     /* NULL-terminated, may be empty */
        char *connect;      /* never NULL */
        char *token_file;   /* or NULL */
        char *ca_file;      /* or NULL */
        long timeout_s;     /* default 30 */
} ClientConf;

void client_conf_free(ClientConf *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ClientConf, client_conf_free)

/* Load `path`. A missing file gives the defaults when !must_exist, else -ENOENT. -EINVAL with
 * one line naming the file, group and key for a bad value. */
int client_conf_load(const char *path, bool must_exist, ClientConf **ret, GError **error);
