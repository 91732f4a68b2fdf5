/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Owner and group names for share roots, resolved the way the NFS server maps them: with
 * libnfsidmap, configured by the default /etc/idmapd.conf (its Domain, or the host's DNS domain,
 * or "localdomain").
 *
 * A name is one of:
 *   - a decimal number: taken as the id itself (0 .. 4294967294),
 *   - a bare name ("vmadmin"): looked up as "vmadmin@DOMAIN", DOMAIN being the idmap domain,
 *   - an NFSv4 name ("vmadmin@example.com"): looked up as given.
 * A name libnfsidmap does not know is -ENOENT "unknown user ..." — also when libnfsidmap answers
 * with the nobody id for a name that is not the nobody user's (or group's) own name.
 * libnfsidmap keeps global state: calls are serialized inside this module.
 */
#pragma once

#include <sys/types.h>

#include <glib.h>

/* The idmap domain names without "@" are completed with. */
int idmap_get_domain(char **ret, GError **error);

/* 0 and *ret = the uid; -ENOENT for an unknown user; -EINVAL for an empty name, a number out of
 * range or a name libnfsidmap refuses (e.g. of another domain); another negative errno when
 * libnfsidmap cannot be initialized. */
int idmap_user_to_uid(const char *name, uid_t *ret, GError **error);

/* The same for groups. */
int idmap_group_to_gid(const char *name, gid_t *ret, GError **error);
