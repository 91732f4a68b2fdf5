/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Run an external program from an argv array (never through a shell) and capture what it
 * printed. Used for mkfs.ext4, resize2fs, e2fsck, exportfs and qemu-img.
 *
 * The program is started with posix_spawn (glibc: no copy of the caller's memory map, which
 * costs a large threaded daemon far less than fork): stdin from /dev/null, no signal blocked,
 * the common signals at their default, and no descriptor of the caller beyond 0-2 except those
 * named in RunOptions.fds, whether close-on-exec or not. Only a memory limit
 * (RunOptions.max_memory, set in the child before exec) takes GLib's fork path.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "macro.h"

typedef struct RunResult {
        int exit_status;  /* exit code, or -1 when killed by a signal */
        int term_signal;  /* the signal that killed it, or 0 */
        char *out;        /* everything written to stdout (NUL-terminated, never NULL) */
        char *err;        /* everything written to stderr (NUL-terminated, never NULL) */
} RunResult;

void run_result_free(RunResult *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RunResult, run_result_free)

/* Run argv[0] (searched in PATH, then /usr/sbin and /sbin) with argv, stdin from /dev/null.
 * Returns 0 when the program ran, whatever its exit status (*ret_result says how it ended),
 * or -errno when it could not be started (error says which program and why). */
int run_argv(const char *const *argv, RunResult **ret_result, GError **error);

/* run_argv(), and the child inherits fds[0..n_fds) (same numbers), so that an argument can name
 * a file the parent opened as /proc/self/fd/N: the program reaches exactly that file (or, for a
 * directory, an entry under exactly that directory), whatever happens to its path. */
int run_argv_fds(const char *const *argv, const int *fds, size_t n_fds, RunResult **ret_result, GError **error);

/* How a program runs beyond its argv (run_argv_opts). */
typedef struct RunOptions {
        const int *fds;          /* inherited, as for run_argv_fds */
        size_t n_fds;
        uint64_t max_memory;     /* RLIMIT_AS of the child in bytes; 0: unchanged */
        bool discard_stderr;     /* stderr to /dev/null (a program that may print without bound);
                                  * RunResult.err is then "" */
} RunOptions;

int run_argv_opts(const char *const *argv, const RunOptions *options, RunResult **ret_result, GError **error);

/* The first non-empty line of text, trimmed (for one-line error messages); "" if none.
 * The returned string is newly allocated. */
char *run_first_line(const char *text);

/* A human-readable description of how the program ended: "exit status 1", "killed by SIGKILL". */
char *run_describe_status(const RunResult *r);
