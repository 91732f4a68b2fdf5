/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the libFuzzer targets of tests/fuzz share: the invariant check that aborts (libFuzzer
 * then reports a crash and saves the input), the contract every nfsprov function keeps on
 * failure, input copies that let ASan see a read past the end, and a scratch directory for the
 * parsers that read a file by name. Linking fuzz_common.c also makes every GLib warning or
 * critical abort (a failed g_return_if_fail(), a GError set twice).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <glib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* The target's name for messages; each target defines it. */
extern const char fuzz_target_name[];

#define FUZZ_CHECK(cond, ...)                                                                          \
        do {                                                                                           \
                if (!(cond)) {                                                                         \
                        fprintf(stderr, "%s: invariant violated: %s: ", fuzz_target_name, #cond);      \
                        fprintf(stderr, __VA_ARGS__);                                                  \
                        fputc('\n', stderr);                                                           \
                        abort();                                                                       \
                }                                                                                      \
        } while (0)

/* Text for a message about s: g_strescape()d, cut after 300 bytes (newly allocated). */
char *fuzz_show(const char *s);

/* The failure contract: r is one of the negative errnos in `allowed` (a list ending with 0),
 * error is an NP_ERROR whose code is -r, and its message is one non-empty line of valid UTF-8
 * (nfsprov prints it as one line and puts it into JSON). `what` names the call. */
void fuzz_check_failure(const char *what, int r, const GError *error, const int *allowed);

/* The success contract: r == 0 and no error set. */
void fuzz_check_success(const char *what, int r, const GError *error);

/* A copy of data with exactly size bytes on the heap (1 byte when size is 0, never read), so that
 * ASan catches a read past the end of an input that is not NUL-terminated. */
char *fuzz_copy(const uint8_t *data, size_t size);

/* A NUL-terminated copy (size + 1 bytes; the input may hold NUL bytes itself). */
char *fuzz_copy_string(const uint8_t *data, size_t size);

/* The target's scratch directory: made on first use in $TMPDIR (g_get_tmp_dir()) as
 * fuzz_NAME.XXXXXX and removed with its files at exit. */
const char *fuzz_scratch_dir(void);

/* fuzz_scratch_dir()/name (newly allocated). */
char *fuzz_scratch_path(const char *name);

/* Make path hold exactly these bytes (created 0644 when missing). Aborts when it cannot. */
void fuzz_write_file(const char *path, const void *data, size_t size);

/* The whole file (NUL-terminated; *ret_size without the NUL). Aborts when it cannot be read. */
char *fuzz_read_file(const char *path, size_t *ret_size);

/* Remove a file of the scratch directory if it exists. */
void fuzz_unlink(const char *path);

/* Number of '\n' in [s, s + n). */
size_t fuzz_count_newlines(const char *s, size_t n);
