/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The NFS server's protocol versions: seed 000 needs NFSv3 served; the design also turns NFSv4
 * off so that client hosts cannot end up on v4.
 *
 * nfs.conf (nfs.conf(5), nfs-utils) is read the way nfs-utils 2.6 reads it (support/nfs/
 * conffile.c): "[section]" headers (case-insensitive, blanks inside the brackets ignored,
 * anything after "]" ignored, '[section "sub"]' is a different section), "key = value" with
 * case-insensitive keys, blanks around "=" ignored, a value in "..." or '...' taken literally,
 * otherwise cut at the first '#' or ';' and trimmed; lines starting with '#' or ';' are
 * comments; a backslash before a newline joins two lines; an unterminated last line is ignored;
 * an empty value is ignored; a later assignment overrides an earlier one; "include = FILE"
 * ("-FILE": optional) reads FILE in place; then PATH.d/NAME.conf (e.g. /etc/nfs.conf.d), in
 * version order, override the main file. Booleans: 1 t true y yes on / 0 f false n no off, any
 * case; anything else means the default. rpc.nfsd's defaults: vers3 and vers4 on, the v4 minor
 * versions follow vers4 unless set, 8 threads, tcp on, udp off.
 *
 * nfsconf_apply() changes only what it must, in the main file, and preserves every other byte.
 */
#pragma once

#include <limits.h>
#include <stdbool.h>

#include <glib.h>

#define NFSCONF_PATH "/etc/nfs.conf"
#define NFSCONF_PROC_VERSIONS "/proc/fs/nfsd/versions"
#define NFSCONF_SYSCONFIG "/etc/sysconfig/nfs" /* RHEL 6 and other older distributions */

/* Room for "FILE:LINE". */
#define NFSCONF_SOURCE_MAX (PATH_MAX + 16)

typedef struct NfsConfStatus {
        /* What rpc.nfsd would use: 1 on, 0 off, with nfs-utils' default when not set (or not a
         * boolean). */
        int vers3;           /* [nfsd] vers3, default on */
        int vers4;           /* [nfsd] vers4, default on */
        int vers4_0;         /* [nfsd] vers4.0, default: as vers4 */
        int vers4_1;         /* [nfsd] vers4.1, default: as vers4 */
        int vers4_2;         /* [nfsd] vers4.2, default: as vers4 */
        int tcp;             /* [nfsd] tcp, default on */
        int udp;             /* [nfsd] udp, default off */
        int threads;         /* [nfsd] threads, default 8 (read as atoi() reads it, as nfs-utils) */

        /* Set by an assignment with a boolean (for threads: any) value, rather than defaulted. */
        bool vers3_explicit, vers4_explicit, vers4_0_explicit, vers4_1_explicit, vers4_2_explicit;
        bool threads_explicit;

        /* "FILE:LINE" of the assignment in effect, "" when defaulted. */
        char vers3_source[NFSCONF_SOURCE_MAX];
        char vers4_source[NFSCONF_SOURCE_MAX];

        bool file_exists;    /* the main file exists (a missing one means all defaults) */
} NfsConfStatus; /* plain data: nothing to free */

/* Read path (NFSCONF_PATH when NULL) with its includes and PATH.d/NAME.conf. A missing main file
 * is not an error: all defaults, file_exists false. Fails with a negative errno and one line
 * when the main file exists but cannot be read (an include or drop-in that cannot be read is
 * skipped, as nfs-utils does). *ret is written only on success. */
int nfsconf_read(const char *path, NfsConfStatus *ret, GError **error);

/* NFSv3 on and NFSv4 off (vers4 off and no minor version vers4.0/4.1/4.2 set on explicitly:
 * rpc.nfsd passes an explicit minor version to the kernel even when vers4 is off). */
bool nfsconf_ok(const NfsConfStatus *s);

/* One line for an admin saying what is wrong, e.g. "NFSv3 is off (vers3=n at /etc/nfs.conf:12)",
 * or NULL when nfsconf_ok(). Newly allocated. */
char *nfsconf_problem(const NfsConfStatus *s);

/* Make path (NFSCONF_PATH when NULL) set [nfsd] vers3=y and vers4=n:
 *   - every uncommented vers3/vers4 assignment in an [nfsd] section whose value is not already
 *     the wanted boolean gets its value replaced in place ("vers3 = n  # x" -> "vers3 = y  # x");
 *     an explicit vers4.0/vers4.1/vers4.2 that is on is turned off the same way;
 *   - a key with no assignment is added as "vers3=y" / "vers4=n" on the line right after the
 *     first [nfsd] header;
 *   - with no [nfsd] section, "[nfsd]\nvers3=y\nvers4=n\n" is appended at the end (after a
 *     newline if the file does not end in one); a missing file is created (mode 0644).
 * Every other byte is kept. The file is replaced (atomic_file_replace, keeping mode and owner)
 * only when its content changes; *ret_changed (may be NULL) says whether it did. Idempotent.
 * If an include or a PATH.d drop-in would still override the result, nothing is written and
 * -EEXIST is returned with one line naming that file and line. */
int nfsconf_apply(const char *path, bool *ret_changed, GError **error);

/* The kernel's view: the text of /proc/fs/nfsd/versions (e.g. "+3 +4 +4.1 +4.2 -2"), without
 * the trailing newline; path NFSCONF_PROC_VERSIONS when NULL. -ENOENT (error set) when absent:
 * nfsd is not loaded or its filesystem not mounted. */
int nfsconf_read_proc_versions(const char *path, char **ret_text, GError **error);

/* Whether that text turns `version` ("3", "4", "4.1", ...) on: 1 ("+3"), 0 ("-3"), -ENOENT when
 * it does not list the version. */
int nfsconf_proc_version_enabled(const char *text, const char *version);

/* RHEL 6 style /etc/sysconfig/nfs (path NFSCONF_SYSCONFIG when NULL), also Debian's
 * /etc/default/nfs-kernel-server: whether the rpc.nfsd arguments in the last uncommented
 * RPCNFSDARGS= (or RPCNFSDOPTS=) assignment turn NFSv4 off ("-N 4", "-N4", "--no-nfs-version 4",
 * "--no-nfs-version=4"; a later "-V 4" turns it back on; "-N 4.1" only drops a minor version).
 * -ENOENT (error set) when the file does not exist. */
int nfsconf_sysconfig_v4_disabled(const char *path, bool *ret, GError **error);

/* The same for NFSv3 ("-N 3"): true means the file turns NFSv3 off, which seed 000 forbids. */
int nfsconf_sysconfig_v3_disabled(const char *path, bool *ret, GError **error);
