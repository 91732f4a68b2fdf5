/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target for the qcow2 header reader and check (server/qcow2.h): every input is the
 * whole content of a file (a memfd), read with qcow2_read_header() and, when it reads, checked
 * with qcow2_check() as an upload would be. The contract is checked on the result:
 * - the reader returns 0 or -EBADMSG (a memfd is a regular file and reads never fail); on
 *   failure *ret is left untouched; every failure (of either function) carries an NP_ERROR whose
 *   code is the errno returned, with a non-empty message that is one line of UTF-8;
 * - what the reader returns keeps the documented ranges: version >= 2, cluster_bits 9..21,
 *   header_length 72 (version 2) or a multiple of 8 from 104 to the cluster size, refcount_order
 *   <= 6, virtual size <= 2^63-1, a backing file name of at most 1023 bytes exactly when the
 *   header's backing_file_offset is not 0, strings NUL-terminated after their stored length;
 * - the check returns 0, -EINVAL or -EBADMSG (-EBADMSG only for an image marked corrupt), and
 *   what it accepts is what nfsprov accepts: version 3, no encryption, no corrupt, external data
 *   file or unknown incompatible bit, no external data file name, 0 < virtual size <= the
 *   policy's capacity, a backing file that is a valid volume name (name_validate_volume) other
 *   than the volume's own, a backing format of "qcow2" if any;
 * - reading is deterministic and independent of the file offset: the same file read again
 *   (after moving the offset) gives the same outcome, the same header (qcow2_info_equal) or the
 *   same message; a header that passes the check re-reads identically and passes again.
 * With FUZZ_QCOW2_VERBOSE=1 in the environment, each input's outcome is printed (to see what a
 * seed exercises: fuzz_qcow2 -runs=0 SEED).
 * A violated invariant aborts, which libFuzzer reports as a crash with the input saved.
 * Leaks and memory errors are found by the sanitizers this is built with.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <glib.h>

#include "error.h"
#include "fdio.h"
#include "fuzz_common.h"
#include "name.h"
#include "qcow2.h"

const char fuzz_target_name[] = "fuzz_qcow2";


#define VOLUME "vm.qcow2"
#define MAX_CAPACITY (UINT64_C(1) << 40)

static const Qcow2Policy policy = { .max_capacity = MAX_CAPACITY, .volume_name = VOLUME };

static bool verbose;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv) {
        const char *v = getenv("FUZZ_QCOW2_VERBOSE");
        verbose = v && strcmp(v, "1") == 0;
        return 0;
}

/* One memfd for every input (rewritten each time), so that a run measures the reader, not
 * memfd_create. */
static int file_fd = -1;

static void check_error(const char *what, int r, const GError *error) {
        FUZZ_CHECK(error, "%s failed (%d) without an error", what, r);
        FUZZ_CHECK(error->domain == NP_ERROR && error->code == -r, "%s failed with %d but an error of another domain or code (%d): %s",
              what, r, error->code, error->message);
        FUZZ_CHECK(error->message && error->message[0], "%s failed with an empty message", what);
        FUZZ_CHECK(!strchr(error->message, '\n') && !strchr(error->message, '\r'), "%s failed with a message of several lines: %s",
              what, error->message);
        FUZZ_CHECK(g_utf8_validate(error->message, -1, NULL), "%s failed with a message that is not UTF-8", what);
}

static uint64_t be64_at(const uint8_t *p) {
        uint64_t v = 0;
        for (int i = 0; i < 8; i++)
                v = v << 8 | p[i];
        return v;
}

static void check_string(const char *what, const char *s, size_t len) {
        if (!s)
                return;
        FUZZ_CHECK(s[len] == '\0', "%s is not NUL-terminated after its %zu stored bytes", what, len);
        FUZZ_CHECK(strlen(s) <= len, "%s is longer than stored", what);
}

static void check_info(const Qcow2Info *info, const uint8_t *data, size_t size) {
        FUZZ_CHECK(info->version >= 2, "version %u", info->version);
        FUZZ_CHECK(info->cluster_bits >= 9 && info->cluster_bits <= 21, "cluster_bits %u", info->cluster_bits);
        uint64_t cluster = UINT64_C(1) << info->cluster_bits;
        if (info->version == 2) {
                FUZZ_CHECK(info->header_length == 72 && info->refcount_order == 4 && info->incompatible_features == 0 &&
                              info->compatible_features == 0 && info->autoclear_features == 0,
                      "a version 2 header with version 3 fields");
        } else {
                FUZZ_CHECK(info->header_length >= 104 && info->header_length % 8 == 0 && info->header_length <= cluster,
                      "header_length %u", info->header_length);
                FUZZ_CHECK(info->header_length <= size, "header_length %u past the end of the file (%zu)", info->header_length,
                      size);
        }
        FUZZ_CHECK(info->refcount_order <= 6, "refcount_order %u", info->refcount_order);
        FUZZ_CHECK(info->virtual_size <= INT64_MAX, "virtual size %" G_GUINT64_FORMAT, info->virtual_size);
        FUZZ_CHECK(!!(info->incompatible_features & QCOW2_INCOMPAT_COMPRESSION) == (info->compression_type != 0),
              "compression type %u against its bit", info->compression_type);

        bool has_backing = size >= 16 && be64_at(data + 8) != 0;
        FUZZ_CHECK(!!info->backing_file == has_backing, "backing file %s, backing_file_offset %s", info->backing_file ? "read" : "none",
              has_backing ? "set" : "0");
        FUZZ_CHECK(info->backing_file_len <= 1023, "backing file name of %zu bytes", info->backing_file_len);
        FUZZ_CHECK(info->backing_file || info->backing_file_len == 0, "a backing file length without a name");
        check_string("backing file", info->backing_file, info->backing_file_len);
        check_string("backing format", info->backing_format, info->backing_format_len);
        check_string("data file", info->data_file, info->data_file_len);
        for (size_t i = 0; i < G_N_ELEMENTS(info->incompatible_names); i++) {
                FUZZ_CHECK(!info->incompatible_names[i] || info->has_feature_table, "a feature name without a table");
                FUZZ_CHECK(!info->incompatible_names[i] || strlen(info->incompatible_names[i]) <= 46, "a feature name of %zu bytes",
                      strlen(info->incompatible_names[i]));
        }
}

/* What an accepted image must be. */
static void check_accepted(const Qcow2Info *info) {
        FUZZ_CHECK(info->version == 3, "accepted version %u", info->version);
        FUZZ_CHECK(info->crypt_method == 0, "accepted crypt_method %u", info->crypt_method);
        FUZZ_CHECK((info->incompatible_features & ~QCOW2_INCOMPAT_ACCEPTED) == 0, "accepted incompatible features %#" G_GINT64_MODIFIER "x",
              info->incompatible_features);
        FUZZ_CHECK(info->compression_type <= QCOW2_COMPRESSION_ZSTD, "accepted compression type %u", info->compression_type);
        FUZZ_CHECK(!info->data_file, "accepted an external data file");
        FUZZ_CHECK(info->virtual_size > 0 && info->virtual_size <= MAX_CAPACITY, "accepted virtual size %" G_GUINT64_FORMAT,
              info->virtual_size);
        if (info->backing_file) {
                g_autoptr(GError) e = NULL;
                FUZZ_CHECK(strlen(info->backing_file) == info->backing_file_len, "accepted a backing file name with a NUL");
                FUZZ_CHECK(name_validate_volume(info->backing_file, &e) == 0, "accepted the backing file \"%s\": %s",
                      info->backing_file, e ? e->message : "?");
                FUZZ_CHECK(!strchr(info->backing_file, '/') && info->backing_file[0] != '.',
                      "accepted a backing file that is a path");
                FUZZ_CHECK(strcmp(info->backing_file, VOLUME) != 0, "accepted the volume as its own backing file");
        }
        FUZZ_CHECK(!info->backing_format ||
                      (info->backing_format_len == 5 && strcmp(info->backing_format, "qcow2") == 0),
              "accepted a backing format other than qcow2");
}

static int read_file(Qcow2Info *ret, GError **error) {
        return qcow2_read_header(file_fd, ret, error);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (file_fd < 0) {
                file_fd = memfd_create("fuzz_qcow2", MFD_CLOEXEC);
                FUZZ_CHECK(file_fd >= 0, "memfd_create: %s", g_strerror(errno));
        }
        /* The input over the previous one, then cut to its size (cheaper than emptying the file). */
        FUZZ_CHECK(lseek(file_fd, 0, SEEK_SET) == 0, "lseek");
        FUZZ_CHECK(fd_write_all(file_fd, data, size) == 0, "write: %s", g_strerror(errno));
        FUZZ_CHECK(ftruncate(file_fd, (off_t) size) == 0, "ftruncate: %s", g_strerror(errno));

        Qcow2Info info = { .version = 0xdeadbeef, .virtual_size = 42 };
        const Qcow2Info sentinel = info;
        g_autoptr(GError) error = NULL;
        int r = read_file(&info, &error);

        FUZZ_CHECK(r == 0 || r == -EBADMSG, "qcow2_read_header returned %d (%s)", r, error ? error->message : "no message");
        if (r < 0) {
                check_error("qcow2_read_header", r, error);
                FUZZ_CHECK(qcow2_info_equal(&info, &sentinel), "qcow2_read_header failed but changed *ret");
        } else {
                FUZZ_CHECK(!error, "qcow2_read_header succeeded but set an error: %s", error->message);
                check_info(&info, data, size);
        }

        /* The same file again, the offset elsewhere: the same outcome. */
        FUZZ_CHECK(lseek(file_fd, 12345, SEEK_SET) == 12345, "lseek");
        g_auto(Qcow2Info) again = { 0 };
        g_autoptr(GError) error2 = NULL;
        int r2 = read_file(&again, &error2);
        FUZZ_CHECK(r2 == r, "qcow2_read_header is not deterministic: %d then %d", r, r2);
        if (r < 0) {
                FUZZ_CHECK(strcmp(error->message, error2->message) == 0, "two messages: %s / %s", error->message,
                      error2->message);
                if (verbose)
                        fprintf(stderr, "fuzz_qcow2: %zu bytes: read: %s\n", size, error->message);
                return 0;
        }
        FUZZ_CHECK(qcow2_info_equal(&info, &again), "two reads of one file differ");

        g_autoptr(GError) cerr = NULL;
        int c = qcow2_check(&info, &policy, &cerr);
        if (verbose)
                fprintf(stderr, "fuzz_qcow2: %zu bytes: read: version %u; check: %s\n", size, info.version,
                        cerr ? cerr->message : "accepted");
        FUZZ_CHECK(c == 0 || c == -EINVAL || c == -EBADMSG, "qcow2_check returned %d", c);
        if (c < 0) {
                check_error("qcow2_check", c, cerr);
                FUZZ_CHECK(c == -EINVAL || (info.incompatible_features & QCOW2_INCOMPAT_CORRUPT),
                      "qcow2_check returned -EBADMSG for an image not marked corrupt: %s", cerr->message);
                FUZZ_CHECK(qcow2_check(&info, &policy, NULL) == c, "qcow2_check without an error pointer differs");
        } else {
                FUZZ_CHECK(!cerr, "qcow2_check accepted but set an error: %s", cerr->message);
                check_accepted(&info);
                FUZZ_CHECK(qcow2_check(&again, &policy, NULL) == 0, "the re-read header is refused");
        }
        qcow2_info_clear(&info);
        return 0;
}
