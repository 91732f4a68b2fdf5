/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The qcow2 header: read by nfsprov itself, then checked against what nfsprov accepts.
 *
 * nfsprov makes VM volumes (qcow2 files at the root of a share) with qemu-img, but every upload,
 * adopt and audit reads and checks the header here, from the fixed layout that QEMU documents
 * (docs/interop/qcow2.txt), without running qemu-img on a file it did not make.
 *
 * qcow2_read_header() is the reader: what the header says, for any readable qcow2 header
 * (versions 2 and 3; a higher version is read with the version 3 layout, which the format says
 * it keeps). It reads with pread(2) only (the file offset is neither used nor moved), never more
 * than the header cluster (at most 2 MiB) plus the backing file name (at most 1023 bytes), and
 * never past the end of the header cluster or of the file. Everything that makes the header
 * unreadable is -EBADMSG: not qcow2 (magic, version 0 or 1), truncated (the file ends before a
 * byte the header needs), or corrupt (a field outside its documented range, a header extension
 * that runs past the header cluster, the backing file name or the end of the file, no end of
 * header extensions, a known extension twice, a compression type that contradicts its bit).
 *
 * qcow2_check() is the policy: what nfsprov accepts as a volume.
 * - version 3 only (compat=1.1): version 2 (compat=0.10) is refused, because nfsprov's volumes
 *   are version 3 and version 2 cannot record the features below (qemu-img amend -o compat=1.1
 *   upgrades one); higher versions are refused as unknown;
 * - no encryption (crypt_method 0; AES and LUKS are refused);
 * - incompatible features: accepted are bit 0 "dirty" (refcounts to be rebuilt, as QEMU does on
 *   its first read-write open after a crash of a lazy-refcounts image), bit 3 "compression type"
 *   (zlib or zstd; any other compression type is refused) and bit 4 "extended L2 entries";
 *   refused always are bit 1 "corrupt" (-EBADMSG), bit 2 "external data file" and every
 *   undocumented bit 5-63 (named from the image's feature name table when it has one);
 *   compatible and autoclear bits are ignored, as the format allows;
 * - no external data file name extension (0x44415441), whatever the bits say;
 * - a virtual size above 0 and not above policy->max_capacity (0: no limit);
 * - a backing file, if any, is the bare name of another volume of the same share: a valid
 *   volume name (name_validate_volume, common/name.h: no '/', so no absolute path and no "..",
 *   no leading dot, [A-Za-z0-9_.-]{1,255}, not lost+found, no control or non-UTF-8 byte), no NUL
 *   byte among the stored bytes, and not the volume's own name. Whether that volume exists and
 *   is itself acceptable is the caller's to check (it may chain);
 * - a backing format extension (0xe2792aca), if present, says "qcow2" (an image without one is
 *   accepted: the format is then not recorded in the image).
 * Each refusal is one line saying what is wrong and what is allowed, errno -EINVAL (-EBADMSG for
 * the corrupt bit).
 *
 * Functions return 0 or a negative errno; *ret is set only on success. Strings read from the
 * file go into messages escaped (control and non-UTF-8 bytes as \xNN), so every message is one
 * line of UTF-8.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#define QCOW2_MAGIC UINT32_C(0x514649fb) /* "QFI\xfb" */
#define QCOW2_V2_HEADER_LENGTH 72
#define QCOW2_V3_HEADER_LENGTH 104 /* at least; header_length says */
#define QCOW2_MIN_CLUSTER_BITS 9   /* 512 bytes */
#define QCOW2_MAX_CLUSTER_BITS 21  /* 2 MiB, QEMU's limit */
#define QCOW2_BACKING_FILE_MAX 1023

/* incompatible_features */
#define QCOW2_INCOMPAT_DIRTY (UINT64_C(1) << 0)
#define QCOW2_INCOMPAT_CORRUPT (UINT64_C(1) << 1)
#define QCOW2_INCOMPAT_DATA_FILE (UINT64_C(1) << 2)
#define QCOW2_INCOMPAT_COMPRESSION (UINT64_C(1) << 3)
#define QCOW2_INCOMPAT_EXTL2 (UINT64_C(1) << 4)
/* The bits qcow2_check() lets through. */
#define QCOW2_INCOMPAT_ACCEPTED (QCOW2_INCOMPAT_DIRTY | QCOW2_INCOMPAT_COMPRESSION | QCOW2_INCOMPAT_EXTL2)

/* compatible_features and autoclear_features (reported, never refused) */
#define QCOW2_COMPAT_LAZY_REFCOUNTS (UINT64_C(1) << 0)
#define QCOW2_AUTOCLEAR_BITMAPS (UINT64_C(1) << 0)
#define QCOW2_AUTOCLEAR_DATA_FILE_RAW (UINT64_C(1) << 1)

/* crypt_method */
#define QCOW2_CRYPT_NONE 0
#define QCOW2_CRYPT_AES 1
#define QCOW2_CRYPT_LUKS 2

/* compression_type */
#define QCOW2_COMPRESSION_ZLIB 0
#define QCOW2_COMPRESSION_ZSTD 1

/* Header extension types */
#define QCOW2_EXT_END UINT32_C(0x00000000)
#define QCOW2_EXT_BACKING_FORMAT UINT32_C(0xe2792aca)
#define QCOW2_EXT_FEATURE_TABLE UINT32_C(0x6803f857)
#define QCOW2_EXT_BITMAPS UINT32_C(0x23852875)
#define QCOW2_EXT_CRYPTO UINT32_C(0x0537be77)
#define QCOW2_EXT_DATA_FILE UINT32_C(0x44415441)

/* What a qcow2 header says. Strings are the stored bytes (the format does not terminate them)
 * with a NUL added; *_len is the stored length, so a NUL among the stored bytes shows as
 * strlen() < *_len. Free with qcow2_info_clear(), or declare with g_auto(Qcow2Info). */
typedef struct Qcow2Info {
        uint32_t version;               /* 2, 3 or higher (read with the version 3 layout) */
        uint32_t cluster_bits;          /* 9..21 */
        uint64_t virtual_size;          /* bytes (the "size" field), at most INT64_MAX */
        uint32_t crypt_method;          /* QCOW2_CRYPT_*, or another (unknown) value */
        uint64_t incompatible_features; /* version 2: 0 */
        uint64_t compatible_features;   /* version 2: 0 */
        uint64_t autoclear_features;    /* version 2: 0 */
        uint32_t refcount_order;        /* 0..6; version 2: 4 (16-bit refcounts) */
        uint32_t header_length;         /* version 2: 72; else a multiple of 8, 104..cluster size */
        uint8_t compression_type;       /* byte 104 when header_length > 104, else 0 (zlib) */
        char *backing_file;             /* NULL: no backing file */
        size_t backing_file_len;        /* 0..1023 */
        char *backing_format;           /* the backing format extension; NULL: absent */
        size_t backing_format_len;
        char *data_file;                /* the external data file name extension; NULL: absent */
        size_t data_file_len;
        char *incompatible_names[64];   /* the feature name table's names of incompatible bits
                                         * (stored bytes up to the first NUL); NULL where none */
        bool has_feature_table;
        bool has_bitmaps;               /* the bitmaps extension */
        bool has_crypto_header;         /* the full disk encryption header pointer extension */
        uint32_t n_extensions;          /* header extensions before the end marker, of any type */
} Qcow2Info;

/* Free what info holds and zero it (a zeroed Qcow2Info is empty; clearing twice is fine). */
void qcow2_info_clear(Qcow2Info *info);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Qcow2Info, qcow2_info_clear)

/* Whether two headers say the same (every field and string above, bytes compared). */
bool qcow2_info_equal(const Qcow2Info *a, const Qcow2Info *b);

/* Read the qcow2 header of the regular file open on fd (read access; O_CLOEXEC is the caller's).
 * On success *ret (assumed empty: it is overwritten, not cleared) holds the header; the caller
 * clears it. -EBADMSG for a file that is not a readable qcow2 header (see above), -EINVAL for a
 * descriptor that is not a regular file, or the errno of fstat/pread, each with one line. */
int qcow2_read_header(int fd, Qcow2Info *ret, GError **error);

/* What nfsprov accepts (see above). */
typedef struct Qcow2Policy {
        uint64_t max_capacity;   /* the largest virtual size accepted, in bytes; 0: no limit */
        const char *volume_name; /* the checked volume's own name, which its backing file may
                                  * not be; NULL: not known */
} Qcow2Policy;

/* 0 when nfsprov accepts the image info describes under policy (NULL: no limit, name not
 * known); else -EINVAL (-EBADMSG for an image marked corrupt) with the first refusal's line. */
int qcow2_check(const Qcow2Info *info, const Qcow2Policy *policy, GError **error);
