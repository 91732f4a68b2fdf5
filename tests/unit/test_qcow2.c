/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * server/qcow2.c: headers built byte by byte in a memfd (valid ones, each refusal, corrupt and
 * truncated ones, header extension walks that would loop or overflow), and files made by the
 * real qemu-img compared with what `qemu-img info --output=json` says (skipped with the reason
 * when qemu-img is not installed).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <json-c/json.h>

#include "error.h"
#include "fdio.h"
#include "json_autoptr.h"
#include "qcow2.h"
#include "unit.h"

#define GiB (UINT64_C(1) << 30)

/* ---- building headers ---- */

static void put(GByteArray *a, size_t off, const void *p, size_t n) {
        if (a->len < off + n) {
                size_t old = a->len;
                g_byte_array_set_size(a, (guint) (off + n));
                memset(a->data + old, 0, off + n - old);
        }
        if (n)
                memcpy(a->data + off, p, n);
}

static void put32(GByteArray *a, size_t off, uint32_t v) {
        uint32_t be = GUINT32_TO_BE(v);
        put(a, off, &be, 4);
}

static void put64(GByteArray *a, size_t off, uint64_t v) {
        uint64_t be = GUINT64_TO_BE(v);
        put(a, off, &be, 8);
}

static size_t round8(size_t n) {
        return (n + 7) & ~(size_t) 7;
}

/* Append a header extension at *off (moved past it and its padding). */
static void put_ext(GByteArray *a, size_t *off, uint32_t type, const void *data, uint32_t len) {
        put32(a, *off, type);
        put32(a, *off + 4, len);
        put(a, *off + 8, data, len);
        put(a, *off + 8 + len, "\0\0\0\0\0\0\0", round8(len) - len);
        *off += 8 + round8(len);
}

/* A feature name table entry. */
static void put_feature(GByteArray *t, uint8_t type, uint8_t bit, const char *name) {
        uint8_t e[48] = { type, bit };
        memcpy(e + 2, name, MIN(strlen(name), (size_t) 46));
        g_byte_array_append(t, e, sizeof e);
}

/* What a header says, as the table rows below spell it. Strings with a length, so that a NUL
 * can be among their bytes. */
typedef struct Str {
        const char *s;
        size_t len;
} Str;
#define STR(lit) ((Str) { (lit), sizeof(lit) - 1 })

typedef struct Spec {
        uint32_t version, cluster_bits, crypt, refcount_order, header_length;
        uint64_t size, incompat, compat, autoclear;
        uint8_t compression;      /* at byte 104 when header_length > 104 */
        Str backing;              /* .s NULL: no backing file */
        uint64_t backing_offset;  /* 0: right after the end of the header extensions */
        uint32_t backing_size;    /* 0: backing.len */
        Str backing_format;       /* the backing format extension, if .s */
        Str data_file;            /* the external data file name extension, if .s */
        bool feature_table;       /* a feature name table as qemu-img writes it */
        const char *name_bit63;   /* an extra name in the table, for incompatible bit 63 */
} Spec;

/* Rows start from BASE and override some of its fields (a later designated initializer wins). */
#pragma GCC diagnostic ignored "-Woverride-init"
#define BASE .version = 3, .cluster_bits = 16, .size = GiB, .refcount_order = 4, .header_length = 112

/* The bytes of the header spec describes, as many as a reader needs: up to the end of the
 * header extensions or of the backing file name, whichever is last. */
static GByteArray *build(const Spec *s) {
        /* The header extensions and their end marker, laid out from offset 0. */
        g_autoptr(GByteArray) e = g_byte_array_new();
        size_t elen = 0;
        if (s->backing_format.s)
                put_ext(e, &elen, QCOW2_EXT_BACKING_FORMAT, s->backing_format.s, (uint32_t) s->backing_format.len);
        if (s->data_file.s)
                put_ext(e, &elen, QCOW2_EXT_DATA_FILE, s->data_file.s, (uint32_t) s->data_file.len);
        if (s->feature_table || s->name_bit63) {
                g_autoptr(GByteArray) t = g_byte_array_new();
                put_feature(t, 0, 0, "dirty bit");
                put_feature(t, 0, 1, "corrupt bit");
                put_feature(t, 0, 2, "external data file");
                put_feature(t, 0, 3, "compression type");
                put_feature(t, 0, 4, "extended L2 entries");
                put_feature(t, 1, 0, "lazy refcounts");
                put_feature(t, 2, 0, "bitmaps");
                put_feature(t, 2, 1, "raw external data");
                if (s->name_bit63)
                        put_feature(t, 0, 63, s->name_bit63);
                put_ext(e, &elen, QCOW2_EXT_FEATURE_TABLE, t->data, t->len);
        }
        put(e, elen, "\0\0\0\0\0\0\0\0", 8);

        /* They start after the header; for a header_length out of range (a corrupt row), at 112. */
        size_t off = s->version == 2 ? 72 : s->header_length >= 104 && s->header_length <= 4096 ? s->header_length : 112;

        /* Written in this order, so that a row whose fields overlap (a corrupt one) keeps the
         * fields it is about: the backing file name, the extensions, the fixed header. */
        GByteArray *a = g_byte_array_new();
        uint64_t at = s->backing_offset ? s->backing_offset : off + e->len;
        if (s->backing.s && at < (1u << 20))
                put(a, (size_t) at, s->backing.s, s->backing.len);
        put(a, off, e->data, e->len);
        put(a, 0, "QFI\xfb", 4);
        put32(a, 4, s->version);
        put32(a, 20, s->cluster_bits);
        put64(a, 24, s->size);
        put32(a, 32, s->crypt);
        if (s->version != 2) {
                put64(a, 72, s->incompat);
                put64(a, 80, s->compat);
                put64(a, 88, s->autoclear);
                put32(a, 96, s->refcount_order);
                put32(a, 100, s->header_length);
                if (s->header_length > 104)
                        put(a, 104, &s->compression, 1);
        }
        if (s->backing.s) {
                put64(a, 8, at);
                put32(a, 16, s->backing_size ? s->backing_size : (uint32_t) s->backing.len);
        }
        return a;
}

/* ---- reading ---- */

static int memfd_with(const void *data, size_t len) {
        int fd = memfd_create("test_qcow2", MFD_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(fd_write_all(fd, data, len), 0);
        return fd;
}

static int read_bytes(const void *data, size_t len, Qcow2Info *ret, GError **error) {
        int fd = memfd_with(data, len);
        int r = qcow2_read_header(fd, ret, error);
        close(fd);
        return r;
}

/* A failure: r is -want_errno, error the matching NP_ERROR, one line of UTF-8 holding every
 * string of the NULL-terminated list. */
G_GNUC_NULL_TERMINATED
static void assert_fail(const char *what, int r, const GError *error, int want_errno, ...) {
        ck_assert_msg(r == -want_errno, "%s: returned %d (%s), expected %d", what, r,
                      error ? error->message : "no message", -want_errno);
        ck_assert_msg(error, "%s: no error set", what);
        ck_assert_msg(error->domain == NP_ERROR && error->code == want_errno, "%s: domain/code %s/%d", what,
                      g_quark_to_string(error->domain), error->code);
        ck_assert_msg(error->message[0] && !strchr(error->message, '\n') && !strchr(error->message, '\r'),
                      "%s: message is empty or not one line: %s", what, error->message);
        ck_assert_msg(g_utf8_validate(error->message, -1, NULL), "%s: message is not UTF-8", what);
        va_list ap;
        va_start(ap, want_errno);
        for (const char *w = va_arg(ap, const char *); w; w = va_arg(ap, const char *))
                ck_assert_msg(strstr(error->message, w), "%s: message \"%s\" lacks \"%s\"", what, error->message, w);
        va_end(ap);
}

/* A Qcow2Info that a failed read must leave as it was. */
static void set_sentinel(Qcow2Info *info) {
        *info = (Qcow2Info) { .version = 0xdeadbeef, .virtual_size = 42 };
}

static void assert_sentinel(const char *what, const Qcow2Info *info) {
        Qcow2Info s;
        set_sentinel(&s);
        ck_assert_msg(qcow2_info_equal(info, &s), "%s: a failed read changed *ret", what);
}

/* ---- valid headers ---- */

START_TEST(test_valid_plain) {
        g_autoptr(GByteArray) a = build(&(Spec) { BASE, .feature_table = true });
        g_auto(Qcow2Info) info = { 0 };
        g_autoptr(GError) error = NULL;
        ck_assert_msg(read_bytes(a->data, a->len, &info, &error) == 0, "%s", error ? error->message : "");
        ck_assert_uint_eq(info.version, 3);
        ck_assert_uint_eq(info.cluster_bits, 16);
        ck_assert_uint_eq(info.virtual_size, GiB);
        ck_assert_uint_eq(info.crypt_method, 0);
        ck_assert_uint_eq(info.incompatible_features, 0);
        ck_assert_uint_eq(info.refcount_order, 4);
        ck_assert_uint_eq(info.header_length, 112);
        ck_assert_uint_eq(info.compression_type, 0);
        ck_assert_ptr_null(info.backing_file);
        ck_assert_ptr_null(info.backing_format);
        ck_assert_ptr_null(info.data_file);
        ck_assert(info.has_feature_table);
        ck_assert_uint_eq(info.n_extensions, 1);
        ck_assert_str_eq(info.incompatible_names[1], "corrupt bit");
        ck_assert_str_eq(info.incompatible_names[4], "extended L2 entries");
        ck_assert_ptr_null(info.incompatible_names[5]);
        ck_assert_msg(qcow2_check(&info, NULL, &error) == 0, "%s", error ? error->message : "");
        Qcow2Policy p = { .max_capacity = GiB, .volume_name = "vm.qcow2" };
        ck_assert_int_eq(qcow2_check(&info, &p, NULL), 0);
}
END_TEST

START_TEST(test_valid_backing) {
        g_autoptr(GByteArray) a = build(&(Spec) { BASE, .backing = STR("base.qcow2"), .backing_format = STR("qcow2"),
                                                  .feature_table = true });
        g_auto(Qcow2Info) info = { 0 };
        g_autoptr(GError) error = NULL;
        ck_assert_msg(read_bytes(a->data, a->len, &info, &error) == 0, "%s", error ? error->message : "");
        ck_assert_str_eq(info.backing_file, "base.qcow2");
        ck_assert_uint_eq(info.backing_file_len, 10);
        ck_assert_str_eq(info.backing_format, "qcow2");
        ck_assert_uint_eq(info.backing_format_len, 5);
        ck_assert_uint_eq(info.n_extensions, 2);
        Qcow2Policy p = { .volume_name = "vm.qcow2" };
        ck_assert_msg(qcow2_check(&info, &p, &error) == 0, "%s", error ? error->message : "");
}
END_TEST

/* Accepted variations: each reads and passes the check. */
static const Spec accepted[] = {
        { BASE },
        { BASE, .backing = STR("base.qcow2") },      /* no backing format extension */
        { BASE, .backing = STR("b"), .backing_format = STR("qcow2") },
        { BASE, .incompat = QCOW2_INCOMPAT_DIRTY, .compat = QCOW2_COMPAT_LAZY_REFCOUNTS },
        { BASE, .incompat = QCOW2_INCOMPAT_COMPRESSION, .compression = QCOW2_COMPRESSION_ZSTD },
        { BASE, .incompat = QCOW2_INCOMPAT_EXTL2 },
        { BASE, .incompat = QCOW2_INCOMPAT_ACCEPTED, .compression = 1, .feature_table = true },
        { BASE, .compat = ~UINT64_C(0), .autoclear = QCOW2_AUTOCLEAR_BITMAPS | (UINT64_C(1) << 40) },
        { BASE, .header_length = 104 },
        { BASE, .header_length = 512 },
        { BASE, .cluster_bits = 9 },
        { BASE, .cluster_bits = 21 },
        { BASE, .refcount_order = 0 },
        { BASE, .refcount_order = 6 },
        { BASE, .size = 512 },
        { BASE, .size = INT64_MAX },
        { BASE, .cluster_bits = 9, .backing = STR("far.qcow2"), .backing_offset = 4096 }, /* outside cluster 0 */
        { BASE, .backing = STR("a-b_c.d-E.F.0"), .backing_format = STR("qcow2") },
        { BASE, .name_bit63 = "future" },            /* a name for a bit that is not set */
};

START_TEST(test_accepted) {
        g_autoptr(GByteArray) a = build(&accepted[_i]);
        g_auto(Qcow2Info) info = { 0 };
        g_autoptr(GError) error = NULL;
        ck_assert_msg(read_bytes(a->data, a->len, &info, &error) == 0, "row %d: %s", _i, error ? error->message : "");
        ck_assert_msg(qcow2_check(&info, NULL, &error) == 0, "row %d: %s", _i, error ? error->message : "");
        ck_assert_uint_eq(info.virtual_size, accepted[_i].size);
        ck_assert_uint_eq(info.incompatible_features, accepted[_i].incompat);
        ck_assert_uint_eq(info.compression_type, accepted[_i].compression);
}
END_TEST

START_TEST(test_long_backing_name) {
        /* 255 characters: the longest volume name; 256: refused by the check, still read. */
        for (size_t n = 255; n <= 256; n++) {
                g_autofree char *name = g_strnfill(n, 'b');
                g_autoptr(GByteArray) a = build(&(Spec) { BASE, .backing = { name, n } });
                g_auto(Qcow2Info) info = { 0 };
                g_autoptr(GError) error = NULL;
                ck_assert_int_eq(read_bytes(a->data, a->len, &info, &error), 0);
                ck_assert_str_eq(info.backing_file, name);
                int r = qcow2_check(&info, NULL, &error);
                if (n == 255)
                        ck_assert_msg(r == 0, "%s", error ? error->message : "");
                else
                        assert_fail("256", r, error, EINVAL, "too long (256 characters, at most 255)", NULL);
        }
        /* 1023 bytes is the format's limit: read; 1024 is corrupt. */
        g_autofree char *n1023 = g_strnfill(1023, 'c');
        g_autoptr(GByteArray) a = build(&(Spec) { BASE, .backing = { n1023, 1023 } });
        g_auto(Qcow2Info) info = { 0 };
        ck_assert_int_eq(read_bytes(a->data, a->len, &info, NULL), 0);
        ck_assert_uint_eq(strlen(info.backing_file), 1023);
        g_autofree char *n1024 = g_strnfill(1024, 'c');
        g_autoptr(GByteArray) b = build(&(Spec) { BASE, .backing = { n1024, 1024 } });
        g_autoptr(GError) error = NULL;
        int r = read_bytes(b->data, b->len, &info, &error);
        assert_fail("1024", r, error, EBADMSG, "corrupt qcow2 header", "1024 bytes long", "1023 at most", NULL);
}
END_TEST

/* ---- refused by the check ---- */

typedef struct Refusal {
        Spec spec;
        uint64_t max_capacity;
        const char *volume_name;
        int err;
        const char *want1, *want2;
} Refusal;

static const Refusal refused[] = {
        { { BASE, .version = 2 }, 0, NULL, EINVAL, "qcow2 version 2 (compat=0.10) refused",
          "nfsprov accepts qcow2 version 3 (compat=1.1) only" },
        { { BASE, .version = 4 }, 0, NULL, EINVAL, "qcow2 version 4 refused", "version 3 (compat=1.1) only" },
        { { BASE, .version = 0xffffffff }, 0, NULL, EINVAL, "qcow2 version 4294967295 refused", NULL },
        { { BASE, .crypt = 1 }, 0, NULL, EINVAL, "encrypted image (crypt_method 1, AES) refused",
          "unencrypted images only (crypt_method 0)" },
        { { BASE, .crypt = 2 }, 0, NULL, EINVAL, "crypt_method 2, LUKS", NULL },
        { { BASE, .crypt = 77 }, 0, NULL, EINVAL, "crypt_method 77, unknown method", NULL },
        { { BASE, .incompat = QCOW2_INCOMPAT_CORRUPT }, 0, NULL, EBADMSG, "marked corrupt (incompatible feature bit 1)",
          "qemu-img check -r all" },
        { { BASE, .incompat = QCOW2_INCOMPAT_CORRUPT | QCOW2_INCOMPAT_DIRTY }, 0, NULL, EBADMSG, "marked corrupt", NULL },
        { { BASE, .incompat = QCOW2_INCOMPAT_DATA_FILE }, 0, NULL, EINVAL,
          "external data file (incompatible feature bit 2): refused", "a volume holds all its data in its own file" },
        { { BASE, .incompat = QCOW2_INCOMPAT_DATA_FILE, .autoclear = QCOW2_AUTOCLEAR_DATA_FILE_RAW,
            .data_file = STR("d.raw") },
          0, NULL, EINVAL, "external data file (incompatible feature bit 2)", NULL },
        { { BASE, .data_file = STR("d.raw") }, 0, NULL, EINVAL, "names an external data file (\"d.raw\"): refused", NULL },
        { { BASE, .data_file = STR("/dev/sda\x01\xff") }, 0, NULL, EINVAL, "(\"/dev/sda\\x01\\xff\")", NULL },
        { { BASE, .incompat = UINT64_C(1) << 5 }, 0, NULL, EINVAL, "unknown incompatible feature bit 5: refused",
          "accepted incompatible features: dirty (bit 0), compression type (bit 3), extended L2 entries (bit 4)" },
        { { BASE, .incompat = UINT64_C(1) << 63, .name_bit63 = "time travel" }, 0, NULL, EINVAL,
          "unknown incompatible feature bit 63 (\"time travel\")", NULL },
        { { BASE, .incompat = UINT64_C(1) << 63, .name_bit63 = "bad\nname\xff" }, 0, NULL, EINVAL,
          "bit 63 (\"bad\\x0aname\\xff\")", NULL },
        { { BASE, .incompat = (UINT64_C(1) << 5) | (UINT64_C(1) << 9) | QCOW2_INCOMPAT_DIRTY }, 0, NULL, EINVAL,
          "bit 5 and 1 other unknown bit:", NULL },
        { { BASE, .incompat = ~QCOW2_INCOMPAT_ACCEPTED & ~QCOW2_INCOMPAT_CORRUPT & ~QCOW2_INCOMPAT_DATA_FILE }, 0, NULL,
          EINVAL, "bit 5 and 58 other unknown bits:", NULL },
        { { BASE, .incompat = QCOW2_INCOMPAT_COMPRESSION, .compression = 2 }, 0, NULL, EINVAL,
          "unknown compression type 2: refused; allowed: 0 (zlib), 1 (zstd)", NULL },
        { { BASE, .incompat = QCOW2_INCOMPAT_COMPRESSION, .compression = 255 }, 0, NULL, EINVAL,
          "unknown compression type 255", NULL },
        { { BASE, .size = 0 }, 0, NULL, EINVAL, "virtual size is 0: refused", NULL },
        { { BASE, .size = GiB + 512 }, GiB, NULL, EINVAL,
          "virtual size, 1 GiB (1073742336 bytes), is above the largest allowed, 1 GiB (1073741824 bytes)", NULL },
        { { BASE, .size = INT64_MAX }, 100 * GiB, NULL, EINVAL, "is above the largest allowed, 100 GiB", NULL },
        /* backing files: only the bare name of another volume */
        { { BASE, .backing = STR("/etc/shadow") }, 0, NULL, EINVAL,
          "backing file refused (a backing file is the bare name of another volume of the same share): "
          "invalid volume name \"/etc/shadow\": character 1 (\"/\") is a slash",
          "allowed: A-Z a-z 0-9 _ . - (1-255 characters, not starting with a dot)" },
        { { BASE, .backing = STR("../other-share/vm.qcow2") }, 0, NULL, EINVAL, "character 3 (\"/\") is a slash", NULL },
        { { BASE, .backing = STR("sub/base.qcow2") }, 0, NULL, EINVAL, "character 4 (\"/\") is a slash", NULL },
        { { BASE, .backing = STR("base.qcow2/") }, 0, NULL, EINVAL, "character 11 (\"/\") is a slash", NULL },
        { { BASE, .backing = STR("..") }, 0, NULL, EINVAL, "\"..\": it names a directory, not a volume", NULL },
        { { BASE, .backing = STR(".") }, 0, NULL, EINVAL, "\".\": it names a directory, not a volume", NULL },
        { { BASE, .backing = STR(".base.qcow2") }, 0, NULL, EINVAL, "it starts with a dot", NULL },
        { { BASE, .backing = STR("lost+found") }, 0, NULL, EINVAL, "\"lost+found\": it is the file system's own directory",
          NULL },
        { { BASE, .backing = STR("") }, 0, NULL, EINVAL, "the name is empty", NULL },
        { { BASE, .backing = STR("base qcow2") }, 0, NULL, EINVAL, "character 5 (\" \") is a blank space", NULL },
        { { BASE, .backing = STR("base\x01") }, 0, NULL, EINVAL, "character 5 (\"\\x01\") is a control character", NULL },
        { { BASE, .backing = STR("base\n.qcow2") }, 0, NULL, EINVAL, "character 5 (\"\\x0a\")", NULL },
        { { BASE, .backing = STR("base\xff") }, 0, NULL, EINVAL, "character 5 (\"\\xff\") is not valid UTF-8", NULL },
        { { BASE, .backing = STR("base\xc3\x28") }, 0, NULL, EINVAL, "(\"\\xc3\") is not valid UTF-8", NULL },
        { { BASE, .backing = STR("日本.qcow2") }, 0, NULL, EINVAL, "character 1 (\"日\") is a double-byte character", NULL },
        { { BASE, .backing = STR("a\\b") }, 0, NULL, EINVAL, "is a yen mark or backslash", NULL },
        { { BASE, .backing = STR("a;b") }, 0, NULL, EINVAL, "is a semicolon", NULL },
        { { BASE, .backing = STR("a'b") }, 0, NULL, EINVAL, "is a single quote", NULL },
        { { BASE, .backing = STR("http://evil/x") }, 0, NULL, EINVAL, "character 5 (\":\") is not allowed", NULL },
        { { BASE, .backing = STR("json:{}") }, 0, NULL, EINVAL, "(\":\") is not allowed", NULL },
        { { BASE, .backing = STR("base.qcow2\0/etc/shadow") }, 0, NULL, EINVAL,
          "backing file \"base.qcow2\" refused: its name holds a NUL byte (byte 11 of 22)", NULL },
        { { BASE, .backing = STR("vm.qcow2") }, 0, "vm.qcow2", EINVAL,
          "backing file \"vm.qcow2\" refused: it is the volume itself", NULL },
        /* backing formats: qcow2 only */
        { { BASE, .backing = STR("base.raw"), .backing_format = STR("raw") }, 0, NULL, EINVAL,
          "backing format \"raw\" refused: a backing file is a qcow2 volume (backing format qcow2)", NULL },
        { { BASE, .backing = STR("b"), .backing_format = STR("QCOW2") }, 0, NULL, EINVAL, "backing format \"QCOW2\"", NULL },
        { { BASE, .backing = STR("b"), .backing_format = STR("qcow2\0") }, 0, NULL, EINVAL, "backing format \"qcow2\"",
          NULL },
        { { BASE, .backing = STR("b"), .backing_format = STR("qcow") }, 0, NULL, EINVAL, "backing format \"qcow\"", NULL },
        { { BASE, .backing = STR("b"), .backing_format = STR("") }, 0, NULL, EINVAL, "backing format \"\"", NULL },
        { { BASE, .backing_format = STR("raw") }, 0, NULL, EINVAL, "backing format \"raw\" refused", NULL },
};

START_TEST(test_refused) {
        const Refusal *t = &refused[_i];
        g_autoptr(GByteArray) a = build(&t->spec);
        g_auto(Qcow2Info) info = { 0 };
        g_autoptr(GError) error = NULL;
        ck_assert_msg(read_bytes(a->data, a->len, &info, &error) == 0, "row %d: read: %s", _i,
                      error ? error->message : "");
        Qcow2Policy p = { .max_capacity = t->max_capacity, .volume_name = t->volume_name };
        int r = qcow2_check(&info, &p, &error);
        g_autofree char *what = g_strdup_printf("row %d", _i);
        assert_fail(what, r, error, t->err, t->want1, t->want2, NULL);
        ck_assert_int_eq(qcow2_check(&info, &p, NULL), -t->err);
}
END_TEST

START_TEST(test_v2_fields) {
        g_autoptr(GByteArray) a = build(&(Spec) { BASE, .version = 2, .backing = STR("base.qcow2"),
                                                  .backing_format = STR("qcow2") });
        g_auto(Qcow2Info) info = { 0 };
        g_autoptr(GError) error = NULL;
        ck_assert_msg(read_bytes(a->data, a->len, &info, &error) == 0, "%s", error ? error->message : "");
        ck_assert_uint_eq(info.version, 2);
        ck_assert_uint_eq(info.header_length, 72);
        ck_assert_uint_eq(info.refcount_order, 4);
        ck_assert_uint_eq(info.incompatible_features, 0);
        ck_assert_str_eq(info.backing_file, "base.qcow2");
        ck_assert_str_eq(info.backing_format, "qcow2");
        /* The version 3 fields of a version 2 header are not read: whatever bytes follow byte 72
         * are header extensions. */
        ck_assert_int_eq(qcow2_check(&info, NULL, &error), -EINVAL);
        ck_assert_str_eq(error->message, "qcow2 version 2 (compat=0.10) refused: nfsprov accepts qcow2 version 3 "
                                         "(compat=1.1) only; qemu-img amend -f qcow2 -o compat=1.1 upgrades an image");
}
END_TEST

/* ---- unreadable: not qcow2, corrupt ---- */

static const struct {
        Spec spec;
        const char *want1, *want2;
} corrupt[] = {
        { { BASE, .version = 0 }, "not a qcow2 image: version 0 is no qcow2 version", NULL },
        { { BASE, .version = 1 }, "not a qcow2 image: version 1 is the older qcow format", NULL },
        { { BASE, .cluster_bits = 8 }, "corrupt qcow2 header: cluster_bits 8 is outside 9..21", NULL },
        { { BASE, .cluster_bits = 22 }, "cluster_bits 22 is outside 9..21", NULL },
        { { BASE, .cluster_bits = 0 }, "cluster_bits 0 is outside", NULL },
        { { BASE, .cluster_bits = 0xffffffff }, "cluster_bits 4294967295 is outside", NULL },
        { { BASE, .size = UINT64_C(1) << 63 }, "virtual size 9223372036854775808 is above 2^63-1 bytes", NULL },
        { { BASE, .size = UINT64_MAX }, "virtual size 18446744073709551615", NULL },
        { { BASE, .header_length = 0 }, "header_length 0 is not a multiple of 8 from 104 to the cluster size (65536)",
          NULL },
        { { BASE, .header_length = 96 }, "header_length 96", NULL },
        { { BASE, .header_length = 108 }, "header_length 108", NULL },
        { { BASE, .cluster_bits = 9, .header_length = 520 }, "header_length 520", "cluster size (512)" },
        { { BASE, .header_length = 0xfffffff8 }, "header_length 4294967288", NULL },
        { { BASE, .refcount_order = 7 }, "refcount_order 7 is above 6", NULL },
        { { BASE, .refcount_order = 0xffffffff }, "refcount_order 4294967295", NULL },
        { { BASE, .incompat = QCOW2_INCOMPAT_EXTL2, .cluster_bits = 13 },
          "extended L2 entries need cluster_bits 14 at least, not 13", NULL },
        { { BASE, .incompat = QCOW2_INCOMPAT_COMPRESSION },
          "the compression type bit (incompatible feature bit 3) is set, but the compression type is 0 (zlib)", NULL },
        { { BASE, .incompat = QCOW2_INCOMPAT_COMPRESSION, .header_length = 104 },
          "but the compression type is missing (header_length 104)", NULL },
        { { BASE, .compression = 1 }, "compression type 1 without the compression type bit", NULL },
        { { BASE, .backing = STR("b"), .backing_offset = 8 },
          "the backing file name at offset 8 overlaps the header (112 bytes)", NULL },
        { { BASE, .version = 2, .backing = STR("b"), .backing_offset = 64 },
          "the backing file name at offset 64 overlaps the header (72 bytes)", NULL },
        { { BASE, .backing = STR("b"), .backing_offset = 112 }, "no end of the header extensions before offset 112",
          "(the backing file name)" },
        { { BASE, .backing = STR("b"), .backing_offset = 124, .backing_format = STR("qcow2") },
          "the backing format extension at offset 112 (5 bytes) runs past offset 124 (the backing file name)", NULL },
        { { BASE, .backing = STR("b"), .backing_offset = UINT64_C(1) << 40 }, "truncated qcow2 header",
          "the backing file name (1 bytes at offset 1099511627776) runs past the end of the file" },
        { { BASE, .backing = STR("b"), .backing_offset = UINT64_MAX }, "truncated qcow2 header",
          "at offset 18446744073709551615" },
        { { BASE, .backing = STR("b"), .backing_offset = UINT64_MAX - 1, .backing_size = 1023 }, "truncated", NULL },
        { { BASE, .backing = STR("b"), .backing_offset = (UINT64_C(1) << 63) + 8 }, "truncated", NULL },
        { { BASE, .backing = STR("b"), .backing_size = 1024 }, "the backing file name is 1024 bytes long", NULL },
        { { BASE, .backing = STR("b"), .backing_size = 0xffffffff }, "is 4294967295 bytes long", NULL },
};

START_TEST(test_corrupt) {
        g_autoptr(GByteArray) a = build(&corrupt[_i].spec);
        Qcow2Info info;
        set_sentinel(&info);
        g_autoptr(GError) error = NULL;
        int r = read_bytes(a->data, a->len, &info, &error);
        g_autofree char *what = g_strdup_printf("row %d", _i);
        assert_fail(what, r, error, EBADMSG, corrupt[_i].want1, corrupt[_i].want2, NULL);
        assert_sentinel(what, &info);
}
END_TEST

START_TEST(test_not_qcow2) {
        static const struct {
                const char *bytes;
                size_t len;
                const char *want;
        } rows[] = {
                { "", 0, "not a qcow2 image: the file is empty" },
                { "Q", 1, "truncated qcow2 header: the file ends at byte 1, before the version" },
                { "QFI", 3, "the file ends at byte 3" },
                { "X", 1, "not a qcow2 image: the file does not start with the qcow2 magic QFI\\xfb" },
                { "QFIX", 4, "does not start with the qcow2 magic" },
                { "QFI\xfa\0\0\0\3", 8, "does not start with the qcow2 magic" },
                { "\xfb" "IFQ\0\0\0\3", 8, "does not start with the qcow2 magic" },
                { "<html>hello</html>", 18, "does not start with the qcow2 magic" },
                { "QFI\xfb\0\0\0\3", 8, "the file ends at byte 8; a version 3 header is 104 bytes at least" },
                { "QFI\xfb\0\0\0\2", 8, "the file ends at byte 8; a version 2 header is 72 bytes at least" },
        };
        for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
                Qcow2Info info;
                set_sentinel(&info);
                g_autoptr(GError) error = NULL;
                int r = read_bytes(rows[i].bytes, rows[i].len, &info, &error);
                g_autofree char *what = g_strdup_printf("row %zu", i);
                assert_fail(what, r, error, EBADMSG, rows[i].want, NULL);
                assert_sentinel(what, &info);
        }
}
END_TEST

/* ---- truncated at every length ---- */

static const Spec truncated[] = {
        { BASE },
        { BASE, .feature_table = true, .backing = STR("base.qcow2"), .backing_format = STR("qcow2") },
        { BASE, .data_file = STR("data.raw"), .incompat = QCOW2_INCOMPAT_DATA_FILE, .header_length = 104 },
        { BASE, .version = 2, .backing = STR("base.qcow2"), .backing_format = STR("qcow2") },
        { BASE, .version = 2 },
        { BASE, .cluster_bits = 9, .backing = STR("far"), .backing_offset = 2000 },
};

START_TEST(test_truncated_every_length) {
        g_autoptr(GByteArray) a = build(&truncated[_i]);
        g_auto(Qcow2Info) full = { 0 };
        g_autoptr(GError) error = NULL;
        ck_assert_msg(read_bytes(a->data, a->len, &full, &error) == 0, "row %d whole: %s", _i,
                      error ? error->message : "");
        /* One file, cut shorter and shorter. */
        int fd = memfd_with(a->data, a->len);
        for (size_t len = a->len; len-- > 0;) {
                ck_assert_int_eq(ftruncate(fd, (off_t) len), 0);
                Qcow2Info info;
                set_sentinel(&info);
                g_autoptr(GError) e = NULL;
                int r = qcow2_read_header(fd, &info, &e);
                g_autofree char *what = g_strdup_printf("row %d cut to %zu of %u bytes", _i, len, a->len);
                ck_assert_msg(r == -EBADMSG, "%s: returned %d (%s)", what, r, e ? e->message : "no message");
                assert_fail(what, r, e, EBADMSG, len == 0 ? "the file is empty" : "truncated qcow2 header", NULL);
                assert_sentinel(what, &info);
        }
        close(fd);
}
END_TEST

/* The bytes after what the header needs (the rest of the cluster, the tables) change nothing. */
START_TEST(test_padding_after_header) {
        g_autoptr(GByteArray) a = build(&(Spec) { BASE, .backing = STR("base.qcow2"), .backing_format = STR("qcow2") });
        g_auto(Qcow2Info) small = { 0 }, big = { 0 };
        ck_assert_int_eq(read_bytes(a->data, a->len, &small, NULL), 0);
        put(a, 3 * 65536 - 1, "\xff", 1);
        ck_assert_int_eq(read_bytes(a->data, a->len, &big, NULL), 0);
        ck_assert(qcow2_info_equal(&small, &big));
}
END_TEST

/* ---- header extension walks ---- */

/* A version 3 header of cluster_bits 9 (512-byte clusters) whose extensions start at 112. */
static GByteArray *small_cluster(void) {
        return build(&(Spec) { BASE, .cluster_bits = 9 });
}

START_TEST(test_ext_overflow) {
        /* Lengths that would wrap a 32-bit offset back to the start (a loop) or past the end. */
        static const uint32_t lens[] = { 0xfffffff8, 0xffffffff, 0xfffffff0, 0x80000000, 512, 393 };
        for (size_t i = 0; i < G_N_ELEMENTS(lens); i++) {
                g_autoptr(GByteArray) a = small_cluster();
                put32(a, 112, 0x12345678);
                put32(a, 116, lens[i]);
                put(a, 511, "", 1); /* the whole cluster is in the file */
                Qcow2Info info;
                set_sentinel(&info);
                g_autoptr(GError) error = NULL;
                int r = read_bytes(a->data, a->len, &info, &error);
                g_autofree char *what = g_strdup_printf("len %" PRIu32, lens[i]);
                assert_fail(what, r, error, EBADMSG, "corrupt qcow2 header: header extension 0x12345678 at offset 112",
                            "runs past offset 512 (the end of the header cluster)", NULL);
                assert_sentinel(what, &info);
        }
}
END_TEST

START_TEST(test_ext_exact_fit) {
        /* An extension that ends 8 bytes before the end of the cluster, then the end marker: fine.
         * One that ends exactly at the end of the cluster leaves no room for the end marker. */
        for (uint32_t len = 384; len <= 392; len += 8) {
                g_autoptr(GByteArray) a = small_cluster();
                size_t off = 112;
                g_autofree uint8_t *data = g_malloc0(len);
                put_ext(a, &off, 0x12345678, data, len);
                put(a, off, "\0\0\0\0\0\0\0\0", MIN((size_t) 8, 512 - off));
                g_auto(Qcow2Info) info = { 0 };
                g_autoptr(GError) error = NULL;
                int r = read_bytes(a->data, a->len, &info, &error);
                if (len == 384) {
                        ck_assert_msg(r == 0, "%s", error ? error->message : "");
                        ck_assert_uint_eq(info.n_extensions, 1);
                } else
                        assert_fail("392", r, error, EBADMSG,
                                    "no end of the header extensions before offset 512 (the end of the header cluster)",
                                    NULL);
        }
}
END_TEST

START_TEST(test_ext_no_end) {
        /* A whole cluster of empty unknown extensions (the most steps a walk can take). */
        g_autoptr(GByteArray) a = small_cluster();
        for (size_t off = 112; off < 512; off += 8) {
                put32(a, off, 0x0badf00d);
                put32(a, off + 4, 0);
        }
        g_autoptr(GError) error = NULL;
        Qcow2Info info;
        set_sentinel(&info);
        int r = read_bytes(a->data, a->len, &info, &error);
        assert_fail("no end", r, error, EBADMSG, "no end of the header extensions before offset 512", NULL);
        assert_sentinel("no end", &info);

        /* The same, the last one turned into the end marker: 49 extensions read. */
        put32(a, 504, 0);
        g_auto(Qcow2Info) ok = { 0 };
        ck_assert_int_eq(read_bytes(a->data, a->len, &ok, NULL), 0);
        ck_assert_uint_eq(ok.n_extensions, 49);

        /* 2 MiB clusters full of empty extensions: 262 thousand steps, no end. */
        g_autoptr(GByteArray) big = build(&(Spec) { BASE, .cluster_bits = 21 });
        for (size_t off = 112; off < (1u << 21); off += 8) {
                put32(big, off, 1);
                put32(big, off + 4, 0);
        }
        g_autoptr(GError) e2 = NULL;
        r = read_bytes(big->data, big->len, &info, &e2);
        assert_fail("2 MiB", r, e2, EBADMSG, "no end of the header extensions before offset 2097152", NULL);
}
END_TEST

START_TEST(test_ext_past_file_end) {
        /* An extension inside the cluster but past the end of the file: truncated. */
        g_autoptr(GByteArray) a = build(&(Spec) { BASE });
        put32(a, 112, 0x12345678);
        put32(a, 116, 100);
        g_byte_array_set_size(a, 150);
        g_autoptr(GError) error = NULL;
        g_auto(Qcow2Info) info = { 0 };
        int r = read_bytes(a->data, a->len, &info, &error);
        assert_fail("past end", r, error, EBADMSG,
                    "truncated qcow2 header: the file ends at byte 150, inside header extension 0x12345678 at offset 112",
                    NULL);
}
END_TEST

START_TEST(test_ext_twice) {
        static const uint32_t types[] = { QCOW2_EXT_BACKING_FORMAT, QCOW2_EXT_FEATURE_TABLE, QCOW2_EXT_BITMAPS,
                                          QCOW2_EXT_CRYPTO, QCOW2_EXT_DATA_FILE };
        static const char *const names[] = { "the backing format extension", "the feature name table extension",
                                             "the bitmaps extension", "the encryption header pointer extension",
                                             "the external data file name extension" };
        for (size_t i = 0; i < G_N_ELEMENTS(types); i++) {
                g_autoptr(GByteArray) a = build(&(Spec) { BASE });
                size_t off = 112;
                put_ext(a, &off, types[i], "qcow2", 5);
                put_ext(a, &off, 0x77777777, "x", 1);
                put_ext(a, &off, types[i], "qcow2", 5);
                put(a, off, "\0\0\0\0\0\0\0\0", 8);
                g_autoptr(GError) error = NULL;
                g_auto(Qcow2Info) info = { 0 };
                int r = read_bytes(a->data, a->len, &info, &error);
                g_autofree char *want = g_strdup_printf("%s appears twice (at offset 144)", names[i]);
                assert_fail(names[i], r, error, EBADMSG, want, NULL);
        }
        /* An unknown extension twice is no error (it is ignored, as the format says). */
        g_autoptr(GByteArray) a = build(&(Spec) { BASE });
        size_t off = 112;
        put_ext(a, &off, 0x77777777, "x", 1);
        put_ext(a, &off, 0x77777777, "y", 1);
        put(a, off, "\0\0\0\0\0\0\0\0", 8);
        g_auto(Qcow2Info) info = { 0 };
        ck_assert_int_eq(read_bytes(a->data, a->len, &info, NULL), 0);
        ck_assert_uint_eq(info.n_extensions, 2);
}
END_TEST

START_TEST(test_ext_kinds) {
        /* bitmaps, encryption pointer, a feature table with entries of every kind and a partial one. */
        g_autoptr(GByteArray) a = build(&(Spec) { BASE });
        size_t off = 112;
        uint8_t bitmaps[24] = { 0 };
        put_ext(a, &off, QCOW2_EXT_BITMAPS, bitmaps, sizeof bitmaps);
        put_ext(a, &off, QCOW2_EXT_CRYPTO, bitmaps, 16);
        g_autoptr(GByteArray) t = g_byte_array_new();
        put_feature(t, 0, 7, "seven");
        put_feature(t, 0, 7, "seven again");   /* the first name of a bit counts */
        put_feature(t, 1, 8, "compatible");
        put_feature(t, 2, 9, "autoclear");
        put_feature(t, 3, 10, "no such bitmap");
        put_feature(t, 0, 64, "no such bit");
        put_feature(t, 0, 255, "no such bit");
        put_feature(t, 0, 11, "0123456789012345678901234567890123456789012345"); /* 46 bytes, no NUL */
        g_byte_array_append(t, (const uint8_t *) "\0\x0cpartial", 9);
        put_ext(a, &off, QCOW2_EXT_FEATURE_TABLE, t->data, t->len);
        put(a, off, "\0\0\0\0\0\0\0\0", 8);
        g_auto(Qcow2Info) info = { 0 };
        g_autoptr(GError) error = NULL;
        ck_assert_msg(read_bytes(a->data, a->len, &info, &error) == 0, "%s", error ? error->message : "");
        ck_assert(info.has_bitmaps && info.has_crypto_header && info.has_feature_table);
        ck_assert_uint_eq(info.n_extensions, 3);
        ck_assert_str_eq(info.incompatible_names[7], "seven");
        ck_assert_ptr_null(info.incompatible_names[8]);
        ck_assert_ptr_null(info.incompatible_names[9]);
        ck_assert_ptr_null(info.incompatible_names[10]);
        ck_assert_ptr_null(info.incompatible_names[12]);
        ck_assert_str_eq(info.incompatible_names[11], "0123456789012345678901234567890123456789012345");
        ck_assert_ptr_null(info.incompatible_names[0]);
}
END_TEST

/* ---- the descriptor ---- */

START_TEST(test_fd_offset_untouched) {
        g_autoptr(GByteArray) a = build(&(Spec) { BASE, .backing = STR("base.qcow2") });
        int fd = memfd_with(a->data, a->len);
        ck_assert_int_eq(lseek(fd, 5, SEEK_SET), 5);
        g_auto(Qcow2Info) info = { 0 }, again = { 0 };
        ck_assert_int_eq(qcow2_read_header(fd, &info, NULL), 0);
        ck_assert_int_eq(lseek(fd, 0, SEEK_CUR), 5);
        ck_assert_int_eq(qcow2_read_header(fd, &again, NULL), 0);
        ck_assert(qcow2_info_equal(&info, &again));
        close(fd);
}
END_TEST

START_TEST(test_not_regular) {
        int p[2];
        ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
        Qcow2Info info;
        set_sentinel(&info);
        g_autoptr(GError) error = NULL, e2 = NULL, e3 = NULL;
        int r = qcow2_read_header(p[0], &info, &error);
        assert_fail("pipe", r, error, EINVAL, "not a regular file", NULL);
        close(p[0]);
        close(p[1]);

        int d = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ck_assert_int_ge(d, 0);
        r = qcow2_read_header(d, &info, &e2);
        assert_fail("directory", r, e2, EINVAL, "not a regular file", NULL);
        close(d);

        r = qcow2_read_header(-1, &info, &e3);
        assert_fail("-1", r, e3, EBADF, "cannot read the qcow2 header", NULL);
        assert_sentinel("not regular", &info);

        /* A descriptor opened without read access: the errno of pread. */
        g_autofree char *dir = unit_mkdtemp();
        g_autofree char *path = g_build_filename(dir, "w.qcow2", NULL);
        int w = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        ck_assert_int_ge(w, 0);
        g_autoptr(GByteArray) a = build(&(Spec) { BASE });
        ck_assert_int_eq(fd_write_all(w, a->data, a->len), 0);
        g_autoptr(GError) e4 = NULL;
        r = qcow2_read_header(w, &info, &e4);
        assert_fail("write-only", r, e4, EBADF, "cannot read the qcow2 header", NULL);
        close(w);
        unit_rm_rf(dir);
}
END_TEST

START_TEST(test_info_clear) {
        g_autoptr(GByteArray) a = build(&(Spec) { BASE, .backing = STR("b"), .backing_format = STR("qcow2"),
                                                  .feature_table = true, .data_file = STR("d") });
        Qcow2Info info = { 0 };
        ck_assert_int_eq(read_bytes(a->data, a->len, &info, NULL), 0);
        qcow2_info_clear(&info);
        Qcow2Info zero = { 0 };
        ck_assert(qcow2_info_equal(&info, &zero));
        qcow2_info_clear(&info);
        qcow2_info_clear(NULL);
}
END_TEST

/* ---- files made by qemu-img ---- */

static json_object *json_path(json_object *o, const char *a, const char *b) {
        json_object *v = NULL;
        if (!json_object_object_get_ex(o, a, &v))
                return NULL;
        if (b && !json_object_object_get_ex(v, b, &v))
                return NULL;
        return v;
}

static bool json_bool_at(json_object *info, const char *key) {
        json_object *v = json_path(info, "format-specific", "data");
        json_object *b = v ? json_path(v, key, NULL) : NULL;
        return b && json_object_get_boolean(b);
}

/* Read dir/name ourselves and compare with `qemu-img info --output=json`. */
static void read_and_compare(const char *dir, const char *name, Qcow2Info *ret) {
        g_autofree char *path = g_build_filename(dir, name, NULL);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        g_autoptr(GError) error = NULL;
        int r = qcow2_read_header(fd, ret, &error);
        close(fd);
        ck_assert_msg(r == 0, "%s: %s", name, error ? error->message : "");

        const char *args[] = { "info", "--output=json", name, NULL };
        g_autofree char *out = unit_qemu_img(dir, args);
        g_autoptr(json_object) j = json_tokener_parse(out);
        ck_assert_msg(j, "qemu-img info printed no JSON: %s", out);
        const Qcow2Info *info = ret;

        ck_assert_str_eq(json_object_get_string(json_path(j, "format", NULL)), "qcow2");
        ck_assert_uint_eq((uint64_t) json_object_get_int64(json_path(j, "virtual-size", NULL)), info->virtual_size);
        ck_assert_uint_eq((uint64_t) json_object_get_int64(json_path(j, "cluster-size", NULL)),
                          UINT64_C(1) << info->cluster_bits);
        json_object *data = json_path(j, "format-specific", "data");
        ck_assert_ptr_nonnull(data);
        ck_assert_str_eq(json_object_get_string(json_path(data, "compat", NULL)), info->version == 3 ? "1.1" : "0.10");
        ck_assert_int_eq(json_object_get_int(json_path(data, "refcount-bits", NULL)), 1 << info->refcount_order);
        const char *ct = json_object_get_string(json_path(data, "compression-type", NULL));
        ck_assert_str_eq(ct, info->compression_type == QCOW2_COMPRESSION_ZSTD ? "zstd" : "zlib");
        if (info->version == 3) {
                ck_assert_int_eq(json_bool_at(j, "lazy-refcounts"),
                                 !!(info->compatible_features & QCOW2_COMPAT_LAZY_REFCOUNTS));
                ck_assert_int_eq(json_bool_at(j, "corrupt"), !!(info->incompatible_features & QCOW2_INCOMPAT_CORRUPT));
                ck_assert_int_eq(json_bool_at(j, "extended-l2"), !!(info->incompatible_features & QCOW2_INCOMPAT_EXTL2));
                ck_assert_int_eq(json_bool_at(j, "data-file-raw"),
                                 !!(info->autoclear_features & QCOW2_AUTOCLEAR_DATA_FILE_RAW));
        }
        ck_assert_int_eq(json_object_get_boolean(json_path(j, "dirty-flag", NULL)),
                         !!(info->incompatible_features & QCOW2_INCOMPAT_DIRTY));
        ck_assert_int_eq(json_path(data, "encrypt", NULL) != NULL, info->crypt_method != 0);

        json_object *df = json_path(data, "data-file", NULL);
        ck_assert_int_eq(df != NULL, info->data_file != NULL);
        if (df)
                ck_assert_str_eq(json_object_get_string(df), info->data_file);
        json_object *bf = json_path(j, "backing-filename", NULL);
        ck_assert_int_eq(bf != NULL, info->backing_file != NULL);
        if (bf)
                ck_assert_str_eq(json_object_get_string(bf), info->backing_file);
        json_object *bff = json_path(j, "backing-filename-format", NULL);
        ck_assert_int_eq(bff != NULL, info->backing_format != NULL);
        if (bff)
                ck_assert_str_eq(json_object_get_string(bff), info->backing_format);
}

START_TEST(test_qemu_img_plain_and_backing) {
        UNIT_NEED_QEMU_IMG;
        g_autofree char *dir = unit_mkdtemp();
        const char *c1[] = { "create", "-q", "-f", "qcow2", "-o", "compat=1.1", "base.qcow2", "1G", NULL };
        g_free(unit_qemu_img(dir, c1));
        const char *c2[] = { "create", "-q", "-f", "qcow2", "-o", "compat=1.1", "-b", "base.qcow2", "-F", "qcow2",
                             "vm.qcow2", NULL };
        g_free(unit_qemu_img(dir, c2));

        g_auto(Qcow2Info) base = { 0 }, vm = { 0 };
        read_and_compare(dir, "base.qcow2", &base);
        read_and_compare(dir, "vm.qcow2", &vm);
        ck_assert_uint_eq(base.version, 3);
        ck_assert_uint_eq(base.virtual_size, GiB);
        ck_assert_ptr_null(base.backing_file);
        ck_assert(base.has_feature_table);
        ck_assert_str_eq(vm.backing_file, "base.qcow2");
        ck_assert_str_eq(vm.backing_format, "qcow2");
        ck_assert_uint_eq(vm.virtual_size, GiB);

        g_autoptr(GError) error = NULL;
        Qcow2Policy p = { .max_capacity = GiB, .volume_name = "base.qcow2" };
        ck_assert_msg(qcow2_check(&base, &p, &error) == 0, "%s", error ? error->message : "");
        p.volume_name = "vm.qcow2";
        ck_assert_msg(qcow2_check(&vm, &p, &error) == 0, "%s", error ? error->message : "");
        p.max_capacity = GiB - 512;
        int r = qcow2_check(&vm, &p, &error);
        assert_fail("max", r, error, EINVAL, "is above the largest allowed", NULL);

        /* qemu-img's header, cut at every length before the end of the backing file name (which
         * it writes after the header extensions): truncated; cut right after it: the same header. */
        g_autofree char *path = g_build_filename(dir, "vm.qcow2", NULL);
        g_autofree char *bytes = NULL;
        gsize len = 0;
        ck_assert(g_file_get_contents(path, &bytes, &len, NULL));
        uint64_t at = GUINT64_FROM_BE(*(const uint64_t *) (const void *) (bytes + 8));
        size_t need = (size_t) at + vm.backing_file_len;
        ck_assert_uint_lt(need, len);
        int fd = memfd_with(bytes, need);
        g_auto(Qcow2Info) cut = { 0 };
        ck_assert_int_eq(qcow2_read_header(fd, &cut, NULL), 0);
        ck_assert(qcow2_info_equal(&cut, &vm));
        for (size_t n = need; n-- > 0;) {
                ck_assert_int_eq(ftruncate(fd, (off_t) n), 0);
                Qcow2Info info;
                set_sentinel(&info);
                g_autoptr(GError) e = NULL;
                r = qcow2_read_header(fd, &info, &e);
                g_autofree char *what = g_strdup_printf("vm.qcow2 cut to %zu of %zu bytes", n, need);
                assert_fail(what, r, e, EBADMSG, n == 0 ? "the file is empty" : "truncated qcow2 header", NULL);
                assert_sentinel(what, &info);
        }
        close(fd);
        unit_rm_rf(dir);
}
END_TEST

START_TEST(test_qemu_img_refused) {
        UNIT_NEED_QEMU_IMG;
        g_autofree char *dir = unit_mkdtemp();
        static const struct {
                const char *name;
                const char *const args[16];
                int err;
                const char *want;
        } rows[] = {
                { "data.qcow2", { "create", "-q", "-f", "qcow2", "-o", "compat=1.1,data_file=data.raw", "data.qcow2", "64M" },
                  EINVAL, "external data file (incompatible feature bit 2): refused" },
                { "v2.qcow2", { "create", "-q", "-f", "qcow2", "-o", "compat=0.10", "v2.qcow2", "64M" }, EINVAL,
                  "qcow2 version 2 (compat=0.10) refused" },
                { "abs.qcow2", { "create", "-q", "-f", "qcow2", "-o", "compat=1.1", "-u", "-b", "/etc/shadow", "-F", "qcow2",
                                 "abs.qcow2", "64M" },
                  EINVAL, "invalid volume name \"/etc/shadow\": character 1 (\"/\") is a slash" },
                { "dotdot.qcow2", { "create", "-q", "-f", "qcow2", "-o", "compat=1.1", "-u", "-b", "../x/base.qcow2", "-F",
                                    "qcow2", "dotdot.qcow2", "64M" },
                  EINVAL, "character 3 (\"/\") is a slash" },
                { "raw.qcow2", { "create", "-q", "-f", "qcow2", "-o", "compat=1.1", "-u", "-b", "base.raw", "-F", "raw",
                                 "raw.qcow2", "64M" },
                  EINVAL, "backing format \"raw\" refused" },
                /* qemu-img's LUKS creation times its PBKDF with getrusage and fails at random on a fast or
                 * loaded machine ("Unable to get accurate CPU usage", qemu commit c72cab5, fixed upstream
                 * in 9.2): the image is made plain and its crypt_method (bytes 32-35) set to 2 below. */
                { "luks.qcow2", { "create", "-q", "-f", "qcow2", "-o", "compat=1.1", "luks.qcow2", "16M" },
                  EINVAL, "encrypted image (crypt_method 2, LUKS) refused" },
        };
        for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
                g_free(unit_qemu_img(dir, rows[i].args));
                if (strcmp(rows[i].name, "luks.qcow2") == 0) {
                        static const uint8_t luks[4] = { 0, 0, 0, 2 };
                        g_autofree char *path = g_build_filename(dir, rows[i].name, NULL);
                        int fd = open(path, O_WRONLY | O_CLOEXEC);
                        ck_assert_int_ge(fd, 0);
                        ck_assert_int_eq(pwrite(fd, luks, sizeof luks, 32), (ssize_t) sizeof luks);
                        close(fd);
                }
                g_auto(Qcow2Info) info = { 0 };
                if (i <= 1)
                        read_and_compare(dir, rows[i].name, &info);
                else {
                        /* qemu-img info would open the backing file: read it only ourselves. */
                        g_autofree char *path = g_build_filename(dir, rows[i].name, NULL);
                        int fd = open(path, O_RDONLY | O_CLOEXEC);
                        ck_assert_int_ge(fd, 0);
                        ck_assert_int_eq(qcow2_read_header(fd, &info, NULL), 0);
                        close(fd);
                }
                g_autoptr(GError) error = NULL;
                int r = qcow2_check(&info, NULL, &error);
                assert_fail(rows[i].name, r, error, rows[i].err, rows[i].want, NULL);
                if (i == 0) {
                        ck_assert_str_eq(info.data_file, "data.raw");
                        ck_assert(info.incompatible_features & QCOW2_INCOMPAT_DATA_FILE);
                }
        }
        unit_rm_rf(dir);
}
END_TEST

START_TEST(test_qemu_img_features) {
        UNIT_NEED_QEMU_IMG;
        g_autofree char *dir = unit_mkdtemp();
        const char *c[] = { "create", "-q", "-f", "qcow2", "-o",
                            "compat=1.1,lazy_refcounts=on,extended_l2=on,compression_type=zstd,cluster_size=2M",
                            "f.qcow2", "10G", NULL };
        g_free(unit_qemu_img(dir, c));
        g_auto(Qcow2Info) info = { 0 };
        read_and_compare(dir, "f.qcow2", &info);
        ck_assert_uint_eq(info.cluster_bits, 21);
        ck_assert_uint_eq(info.incompatible_features, QCOW2_INCOMPAT_COMPRESSION | QCOW2_INCOMPAT_EXTL2);
        ck_assert_uint_eq(info.compression_type, QCOW2_COMPRESSION_ZSTD);
        g_autoptr(GError) error = NULL;
        ck_assert_msg(qcow2_check(&info, NULL, &error) == 0, "%s", error ? error->message : "");
        unit_rm_rf(dir);
}
END_TEST

UNIT_ONE_PROCESS;

Suite *unit_suite(void) {
        Suite *s = suite_create("qcow2");

        TCase *tc = tcase_create("valid");
        tcase_add_test(tc, test_valid_plain);
        tcase_add_test(tc, test_valid_backing);
        tcase_add_loop_test(tc, test_accepted, 0, G_N_ELEMENTS(accepted));
        tcase_add_test(tc, test_long_backing_name);
        tcase_add_test(tc, test_v2_fields);
        tcase_add_test(tc, test_padding_after_header);
        suite_add_tcase(s, tc);

        tc = tcase_create("refused");
        tcase_add_loop_test(tc, test_refused, 0, G_N_ELEMENTS(refused));
        suite_add_tcase(s, tc);

        tc = tcase_create("unreadable");
        tcase_add_loop_test(tc, test_corrupt, 0, G_N_ELEMENTS(corrupt));
        tcase_add_test(tc, test_not_qcow2);
        tcase_add_loop_test(tc, test_truncated_every_length, 0, G_N_ELEMENTS(truncated));
        suite_add_tcase(s, tc);

        tc = tcase_create("extensions");
        tcase_add_test(tc, test_ext_overflow);
        tcase_add_test(tc, test_ext_exact_fit);
        tcase_add_test(tc, test_ext_no_end);
        tcase_add_test(tc, test_ext_past_file_end);
        tcase_add_test(tc, test_ext_twice);
        tcase_add_test(tc, test_ext_kinds);
        suite_add_tcase(s, tc);

        tc = tcase_create("descriptor");
        tcase_add_test(tc, test_fd_offset_untouched);
        tcase_add_test(tc, test_not_regular);
        tcase_add_test(tc, test_info_clear);
        suite_add_tcase(s, tc);

        tc = tcase_create("qemu_img");
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_qemu_img_plain_and_backing);
        tcase_add_test(tc, test_qemu_img_refused);
        tcase_add_test(tc, test_qemu_img_features);
        suite_add_tcase(s, tc);

        return s;
}
