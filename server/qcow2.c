/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "macro.h"
#include "name.h"
#include "qcow2.h"
#include "show.h"
#include "size.h"

#define QCOW2_KNOWN_INCOMPAT                                                                        \
        (QCOW2_INCOMPAT_DIRTY | QCOW2_INCOMPAT_CORRUPT | QCOW2_INCOMPAT_DATA_FILE |                 \
         QCOW2_INCOMPAT_COMPRESSION | QCOW2_INCOMPAT_EXTL2)
#define FEATURE_ENTRY_SIZE 48     /* type, bit, 46 bytes of name */
#define FEATURE_NAME_SIZE 46
#define EXTL2_MIN_CLUSTER_BITS 14 /* 16 KiB clusters at least with extended L2 entries */
#define MAX_REFCOUNT_ORDER 6

#define NOT_QCOW2 "not a qcow2 image: "
#define TRUNCATED "truncated qcow2 header: "
#define CORRUPT "corrupt qcow2 header: "
#define BACKING_RULE "a backing file is the bare name of another volume of the same share"
#define VOLUME_DATA "a volume holds all its data in its own file"

static uint32_t be32(const uint8_t *p) {
        return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | (uint32_t) p[3];
}

static uint64_t be64(const uint8_t *p) {
        return (uint64_t) be32(p) << 32 | be32(p + 4);
}

/* Read up to len bytes at offset off; *ret_n is the number read, fewer only where the file ends. */
static int pread_full(int fd, void *buf, size_t len, uint64_t off, size_t *ret_n, GError **error) {
        size_t n = 0;
        while (n < len) {
                ssize_t k = pread(fd, (uint8_t *) buf + n, len - n, (off_t) (off + n));
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        int e = errno;
                        return np_fail(error, e, "cannot read the qcow2 header: %s", g_strerror(e));
                }
                if (k == 0)
                        break;
                n += (size_t) k;
        }
        *ret_n = n;
        return 0;
}

/* The stored bytes of a string, NUL added. */
static char *bytes_dup(const uint8_t *p, size_t len) {
        char *s = g_malloc(len + 1);
        if (len)
                memcpy(s, p, len);
        s[len] = '\0';
        return s;
}

static const char *extension_name(uint32_t type) {
        switch (type) {
        case QCOW2_EXT_BACKING_FORMAT:
                return "backing format";
        case QCOW2_EXT_FEATURE_TABLE:
                return "feature name table";
        case QCOW2_EXT_BITMAPS:
                return "bitmaps";
        case QCOW2_EXT_CRYPTO:
                return "encryption header pointer";
        case QCOW2_EXT_DATA_FILE:
                return "external data file name";
        default:
                return NULL;
        }
}

/* The bit of a known extension type in a set of those seen; 0 for unknown types. */
static unsigned extension_bit(uint32_t type) {
        switch (type) {
        case QCOW2_EXT_BACKING_FORMAT:
                return 1u << 0;
        case QCOW2_EXT_FEATURE_TABLE:
                return 1u << 1;
        case QCOW2_EXT_BITMAPS:
                return 1u << 2;
        case QCOW2_EXT_CRYPTO:
                return 1u << 3;
        case QCOW2_EXT_DATA_FILE:
                return 1u << 4;
        default:
                return 0;
        }
}

static void read_feature_table(const uint8_t *data, uint32_t len, Qcow2Info *info) {
        info->has_feature_table = true;
        /* Trailing bytes short of a whole entry are ignored; so are entries for another bitmap
         * than the incompatible one, or for a bit past 63. The first name of a bit counts. */
        for (uint32_t i = 0; i < len / FEATURE_ENTRY_SIZE; i++) {
                const uint8_t *e = data + (size_t) i * FEATURE_ENTRY_SIZE;
                if (e[0] != 0 || e[1] > 63 || info->incompatible_names[e[1]])
                        continue;
                size_t n = strnlen((const char *) e + 2, FEATURE_NAME_SIZE);
                info->incompatible_names[e[1]] = bytes_dup(e + 2, n);
        }
}

/* Walk the header extensions in buf (the header cluster as far as the file has it: len bytes)
 * from info->header_length to the end marker, which must come before ext_end (the end of the
 * header cluster, or the backing file name when it starts inside it). */
static int read_extensions(const uint8_t *buf, size_t len, uint64_t ext_end, const char *ext_end_what,
                           Qcow2Info *info, GError **error) {
        unsigned seen = 0;
        uint64_t off = info->header_length;

        for (;;) {
                if (off + 8 > ext_end)
                        return np_fail(error, EBADMSG,
                                       CORRUPT "no end of the header extensions before offset %" PRIu64 " (%s)",
                                       ext_end, ext_end_what);
                if (off + 8 > len)
                        return np_fail(error, EBADMSG,
                                       TRUNCATED "the file ends at byte %zu, inside the header extensions (at %" PRIu64 ")",
                                       len, off);

                uint32_t type = be32(buf + off), elen = be32(buf + off + 4);
                if (type == QCOW2_EXT_END)
                        return 0;

                uint64_t data = off + 8;
                const char *name = extension_name(type);
                g_autofree char *what = name ? g_strdup_printf("the %s extension", name)
                                             : g_strdup_printf("header extension 0x%08" PRIx32, type);
                if (elen > ext_end - data)
                        return np_fail(error, EBADMSG,
                                       CORRUPT "%s at offset %" PRIu64 " (%" PRIu32 " bytes) runs past offset %" PRIu64 " (%s)",
                                       what, off, elen, ext_end, ext_end_what);
                if (data + elen > len)
                        return np_fail(error, EBADMSG,
                                       TRUNCATED "the file ends at byte %zu, inside %s at offset %" PRIu64 " (%" PRIu32 " bytes)",
                                       len, what, off, elen);

                unsigned bit = extension_bit(type);
                if (bit & seen)
                        return np_fail(error, EBADMSG, CORRUPT "%s appears twice (at offset %" PRIu64 ")", what, off);
                seen |= bit;

                const uint8_t *d = buf + data;
                switch (type) {
                case QCOW2_EXT_BACKING_FORMAT:
                        info->backing_format = bytes_dup(d, elen);
                        info->backing_format_len = elen;
                        break;
                case QCOW2_EXT_DATA_FILE:
                        info->data_file = bytes_dup(d, elen);
                        info->data_file_len = elen;
                        break;
                case QCOW2_EXT_FEATURE_TABLE:
                        read_feature_table(d, elen, info);
                        break;
                case QCOW2_EXT_BITMAPS:
                        info->has_bitmaps = true;
                        break;
                case QCOW2_EXT_CRYPTO:
                        info->has_crypto_header = true;
                        break;
                default:
                        break;
                }
                info->n_extensions++;
                /* elen < 2^32 and off < 2^22: no overflow; each step moves on by 8 bytes at least. */
                off = data + (((uint64_t) elen + 7) & ~(uint64_t) 7);
        }
}

/* The fields of the fixed header (hdr: its first `have` bytes, at least 8) into info. */
static int read_fixed(const uint8_t *hdr, size_t have, Qcow2Info *info, uint64_t *ret_backing_offset,
                      GError **error) {
        info->version = be32(hdr + 4);
        if (info->version < 2)
                return np_fail(error, EBADMSG,
                               NOT_QCOW2 "version %" PRIu32 "%s; qcow2 is version 2 or 3", info->version,
                               info->version == 1 ? " is the older qcow format" : " is no qcow2 version");

        size_t fixed = info->version == 2 ? QCOW2_V2_HEADER_LENGTH : QCOW2_V3_HEADER_LENGTH;
        if (have < fixed)
                return np_fail(error, EBADMSG,
                               TRUNCATED "the file ends at byte %zu; a version %" PRIu32 " header is %zu bytes at least",
                               have, info->version, fixed);

        uint64_t backing_offset = be64(hdr + 8);
        uint32_t backing_size = be32(hdr + 16);
        info->cluster_bits = be32(hdr + 20);
        info->virtual_size = be64(hdr + 24);
        info->crypt_method = be32(hdr + 32);

        if (info->cluster_bits < QCOW2_MIN_CLUSTER_BITS || info->cluster_bits > QCOW2_MAX_CLUSTER_BITS)
                return np_fail(error, EBADMSG,
                               CORRUPT "cluster_bits %" PRIu32 " is outside %d..%d (clusters of 512 bytes to 2 MiB)",
                               info->cluster_bits, QCOW2_MIN_CLUSTER_BITS, QCOW2_MAX_CLUSTER_BITS);
        if (info->virtual_size > INT64_MAX)
                return np_fail(error, EBADMSG, CORRUPT "virtual size %" PRIu64 " is above 2^63-1 bytes",
                               info->virtual_size);

        uint64_t cluster_size = UINT64_C(1) << info->cluster_bits;
        if (info->version == 2) {
                info->refcount_order = 4;
                info->header_length = QCOW2_V2_HEADER_LENGTH;
        } else {
                info->incompatible_features = be64(hdr + 72);
                info->compatible_features = be64(hdr + 80);
                info->autoclear_features = be64(hdr + 88);
                info->refcount_order = be32(hdr + 96);
                info->header_length = be32(hdr + 100);
                if (info->header_length < QCOW2_V3_HEADER_LENGTH || info->header_length % 8 != 0 ||
                    info->header_length > cluster_size)
                        return np_fail(error, EBADMSG,
                                       CORRUPT "header_length %" PRIu32 " is not a multiple of 8 from %d to the cluster size (%" PRIu64 ")",
                                       info->header_length, QCOW2_V3_HEADER_LENGTH, cluster_size);
                if (info->refcount_order > MAX_REFCOUNT_ORDER)
                        return np_fail(error, EBADMSG, CORRUPT "refcount_order %" PRIu32 " is above %d",
                                       info->refcount_order, MAX_REFCOUNT_ORDER);
                if ((info->incompatible_features & QCOW2_INCOMPAT_EXTL2) &&
                    info->cluster_bits < EXTL2_MIN_CLUSTER_BITS)
                        return np_fail(error, EBADMSG,
                                       CORRUPT "extended L2 entries need cluster_bits %d at least, not %" PRIu32,
                                       EXTL2_MIN_CLUSTER_BITS, info->cluster_bits);
        }

        if (backing_offset != 0) {
                if (backing_size > QCOW2_BACKING_FILE_MAX)
                        return np_fail(error, EBADMSG,
                                       CORRUPT "the backing file name is %" PRIu32 " bytes long; the format allows %d at most",
                                       backing_size, QCOW2_BACKING_FILE_MAX);
                if (backing_offset < info->header_length)
                        return np_fail(error, EBADMSG,
                                       CORRUPT "the backing file name at offset %" PRIu64 " overlaps the header (%" PRIu32 " bytes)",
                                       backing_offset, info->header_length);
                info->backing_file_len = backing_size;
        }
        *ret_backing_offset = backing_offset;
        return 0;
}

int qcow2_read_header(int fd, Qcow2Info *ret, GError **error) {
        struct stat st;
        if (fstat(fd, &st) < 0) {
                int e = errno;
                return np_fail(error, e, "cannot read the qcow2 header: %s", g_strerror(e));
        }
        if (!S_ISREG(st.st_mode))
                return np_fail(error, EINVAL, "cannot read the qcow2 header: not a regular file");

        uint8_t hdr[QCOW2_V3_HEADER_LENGTH];
        size_t have;
        int r = pread_full(fd, hdr, sizeof hdr, 0, &have, error);
        if (r < 0)
                return r;

        static const uint8_t magic[4] = { 'Q', 'F', 'I', 0xfb };
        if (have == 0)
                return np_fail(error, EBADMSG, NOT_QCOW2 "the file is empty");
        if (memcmp(hdr, magic, MIN(have, sizeof magic)) != 0)
                return np_fail(error, EBADMSG, NOT_QCOW2 "the file does not start with the qcow2 magic QFI\\xfb");
        if (have < 8)
                return np_fail(error, EBADMSG,
                               TRUNCATED "the file ends at byte %zu, before the version (bytes 4-7)", have);

        g_auto(Qcow2Info) info = { 0 };
        uint64_t backing_offset = 0;
        r = read_fixed(hdr, have, &info, &backing_offset, error);
        if (r < 0)
                return r;

        /* The header cluster, as far as the file has it (st_size bounds the buffer only: what the
         * read returns is what counts). */
        size_t cluster_size = (size_t) 1 << info.cluster_bits;
        size_t cap = st.st_size < 0 ? 0 : (size_t) MIN((uint64_t) st.st_size, (uint64_t) cluster_size);
        g_autofree uint8_t *buf = g_malloc(MAX(cap, (size_t) 1));
        size_t len;
        r = pread_full(fd, buf, cap, 0, &len, error);
        if (r < 0)
                return r;
        if (len < info.header_length)
                return np_fail(error, EBADMSG,
                               TRUNCATED "the file ends at byte %zu; the header is %" PRIu32 " bytes (header_length)", len,
                               info.header_length);

        if (info.header_length > QCOW2_V3_HEADER_LENGTH)
                info.compression_type = buf[QCOW2_V3_HEADER_LENGTH];
        if ((info.incompatible_features & QCOW2_INCOMPAT_COMPRESSION) && info.compression_type == 0)
                return np_fail(error, EBADMSG,
                               CORRUPT "the compression type bit (incompatible feature bit 3) is set, but the compression type is %s",
                               info.header_length > QCOW2_V3_HEADER_LENGTH ? "0 (zlib)" : "missing (header_length 104)");
        if (!(info.incompatible_features & QCOW2_INCOMPAT_COMPRESSION) && info.compression_type != 0)
                return np_fail(error, EBADMSG,
                               CORRUPT "compression type %u without the compression type bit (incompatible feature bit 3)",
                               info.compression_type);

        if (backing_offset != 0) {
                uint8_t name[QCOW2_BACKING_FILE_MAX];
                size_t n = 0;
                /* Past the end of the file (as fstat saw it) is not read at all: such an offset
                 * may not even be a valid off_t. */
                if (backing_offset <= (uint64_t) st.st_size) {
                        r = pread_full(fd, name, info.backing_file_len, backing_offset, &n, error);
                        if (r < 0)
                                return r;
                }
                if (n < info.backing_file_len || backing_offset > (uint64_t) st.st_size)
                        return np_fail(error, EBADMSG,
                                       TRUNCATED "the backing file name (%zu bytes at offset %" PRIu64 ") runs past the end of the file",
                                       info.backing_file_len, backing_offset);
                info.backing_file = bytes_dup(name, n);
        }

        bool before_backing = backing_offset != 0 && backing_offset < cluster_size;
        r = read_extensions(buf, len, before_backing ? backing_offset : cluster_size,
                            before_backing ? "the backing file name" : "the end of the header cluster", &info, error);
        if (r < 0)
                return r;

        *ret = info;
        info = (Qcow2Info) { 0 };
        return 0;
}

void qcow2_info_clear(Qcow2Info *info) {
        if (!info)
                return;
        g_free(info->backing_file);
        g_free(info->backing_format);
        g_free(info->data_file);
        for (size_t i = 0; i < ELEMENTSOF(info->incompatible_names); i++)
                g_free(info->incompatible_names[i]);
        *info = (Qcow2Info) { 0 };
}

static bool same_bytes(const char *a, size_t alen, const char *b, size_t blen) {
        if (!a || !b)
                return !a && !b;
        return alen == blen && memcmp(a, b, alen) == 0;
}

bool qcow2_info_equal(const Qcow2Info *a, const Qcow2Info *b) {
        if (a->version != b->version || a->cluster_bits != b->cluster_bits || a->virtual_size != b->virtual_size ||
            a->crypt_method != b->crypt_method || a->incompatible_features != b->incompatible_features ||
            a->compatible_features != b->compatible_features || a->autoclear_features != b->autoclear_features ||
            a->refcount_order != b->refcount_order || a->header_length != b->header_length ||
            a->compression_type != b->compression_type || a->has_feature_table != b->has_feature_table ||
            a->has_bitmaps != b->has_bitmaps || a->has_crypto_header != b->has_crypto_header ||
            a->n_extensions != b->n_extensions)
                return false;
        if (!same_bytes(a->backing_file, a->backing_file_len, b->backing_file, b->backing_file_len) ||
            !same_bytes(a->backing_format, a->backing_format_len, b->backing_format, b->backing_format_len) ||
            !same_bytes(a->data_file, a->data_file_len, b->data_file, b->data_file_len))
                return false;
        for (size_t i = 0; i < ELEMENTSOF(a->incompatible_names); i++)
                if (g_strcmp0(a->incompatible_names[i], b->incompatible_names[i]) != 0)
                        return false;
        return true;
}

/* ---- the policy ---- */

static const char *crypt_name(uint32_t method) {
        switch (method) {
        case QCOW2_CRYPT_AES:
                return "AES";
        case QCOW2_CRYPT_LUKS:
                return "LUKS";
        default:
                return "unknown method";
        }
}

/* The stored bytes for a message: up to the first NUL, escaped, cut when long. */
static char *show_stored(const char *s) {
        return show_text_max(s, 64);
}

static int check_incompatible(const Qcow2Info *info, GError **error) {
        uint64_t f = info->incompatible_features;

        if (f & QCOW2_INCOMPAT_CORRUPT)
                return np_fail(error, EBADMSG,
                               "the image is marked corrupt (incompatible feature bit 1): QEMU found its metadata "
                               "inconsistent; nfsprov accepts no corrupt image (qemu-img check -r all repairs one)");
        if (f & QCOW2_INCOMPAT_DATA_FILE)
                return np_fail(error, EINVAL,
                               "the image keeps its data in an external data file (incompatible feature bit 2): "
                               "refused; " VOLUME_DATA);

        uint64_t unknown = f & ~QCOW2_KNOWN_INCOMPAT;
        if (unknown) {
                unsigned bit = (unsigned) __builtin_ctzll(unknown);
                unsigned more = (unsigned) __builtin_popcountll(unknown) - 1;
                const char *name = info->incompatible_names[bit];
                g_autofree char *shown = name ? show_stored(name) : NULL;
                g_autofree char *named = shown ? g_strdup_printf(" (\"%s\")", shown) : g_strdup("");
                g_autofree char *others = more ? g_strdup_printf(" and %u other unknown bit%s", more, more > 1 ? "s" : "")
                                               : g_strdup("");
                return np_fail(error, EINVAL,
                               "the image uses unknown incompatible feature bit %u%s%s: refused; accepted incompatible "
                               "features: dirty (bit 0), compression type (bit 3), extended L2 entries (bit 4)",
                               bit, named, others);
        }
        if (info->compression_type > QCOW2_COMPRESSION_ZSTD)
                return np_fail(error, EINVAL,
                               "the image uses unknown compression type %u: refused; allowed: 0 (zlib), 1 (zstd)",
                               info->compression_type);
        return 0;
}

static int check_backing(const Qcow2Info *info, const Qcow2Policy *policy, GError **error) {
        if (info->backing_file) {
                const char *bf = info->backing_file;
                size_t n = strlen(bf);
                if (n != info->backing_file_len) {
                        g_autofree char *shown = show_stored(bf);
                        return np_fail(error, EINVAL,
                                       "backing file \"%s\" refused: its name holds a NUL byte (byte %zu of %zu); " BACKING_RULE,
                                       shown, n + 1, info->backing_file_len);
                }
                GError *cause = NULL;
                if (name_validate_volume(bf, &cause) < 0)
                        return np_fail_prefix(error, cause, "backing file refused (" BACKING_RULE ")");
                if (policy->volume_name && strcmp(bf, policy->volume_name) == 0)
                        return np_fail(error, EINVAL,
                                       "backing file \"%s\" refused: it is the volume itself; " BACKING_RULE, bf);
        }
        if (info->backing_format &&
            (strlen(info->backing_format) != info->backing_format_len || strcmp(info->backing_format, "qcow2") != 0)) {
                g_autofree char *shown = show_stored(info->backing_format);
                return np_fail(error, EINVAL,
                               "backing format \"%s\" refused: a backing file is a qcow2 volume (backing format qcow2)",
                               shown);
        }
        return 0;
}

int qcow2_check(const Qcow2Info *info, const Qcow2Policy *policy, GError **error) {
        static const Qcow2Policy no_policy = { 0 };
        if (!policy)
                policy = &no_policy;

        if (info->version == 2)
                return np_fail(error, EINVAL,
                               "qcow2 version 2 (compat=0.10) refused: nfsprov accepts qcow2 version 3 (compat=1.1) "
                               "only; qemu-img amend -f qcow2 -o compat=1.1 upgrades an image");
        if (info->version != 3)
                return np_fail(error, EINVAL,
                               "qcow2 version %" PRIu32 " refused: nfsprov accepts qcow2 version 3 (compat=1.1) only",
                               info->version);
        if (info->crypt_method != QCOW2_CRYPT_NONE)
                return np_fail(error, EINVAL,
                               "encrypted image (crypt_method %" PRIu32 ", %s) refused: nfsprov accepts unencrypted "
                               "images only (crypt_method 0)",
                               info->crypt_method, crypt_name(info->crypt_method));

        int r = check_incompatible(info, error);
        if (r < 0)
                return r;
        if (info->data_file) {
                g_autofree char *shown = show_stored(info->data_file);
                return np_fail(error, EINVAL, "the image names an external data file (\"%s\"): refused; " VOLUME_DATA,
                               shown);
        }

        if (info->virtual_size == 0)
                return np_fail(error, EINVAL, "the image's virtual size is 0: refused; a volume needs a virtual size above 0");
        if (policy->max_capacity && info->virtual_size > policy->max_capacity) {
                g_autofree char *size = size_format(info->virtual_size);
                g_autofree char *max = size_format(policy->max_capacity);
                return np_fail(error, EINVAL,
                               "the image's virtual size, %s (%" PRIu64 " bytes), is above the largest allowed, %s (%" PRIu64 " bytes)",
                               size, info->virtual_size, max, policy->max_capacity);
        }

        return check_backing(info, policy, error);
}
