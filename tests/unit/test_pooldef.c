/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "error.h"
#include "pooldef.h"
#include "unit.h"

#define UUID_EXAMPLE "bd0a2edc-66fb-e630-d2c9-cafc85a9cd29"

/* The design's example, exactly as ARCHITECTURE.md shows it. */
static const char design_xml[] =
        "<pool type='netfs'>\n"
        "  <name>NFSStorage_01</name>\n"
        "  <uuid>bd0a2edc-66fb-e630-d2c9-cafc85a9cd29</uuid>\n"
        "  <source>\n"
        "    <host name='192.168.1.1'/>\n"
        "    <dir path='/home/NFS/NFSStorage_01'/>\n"
        "    <format type='nfs'/>\n"
        "    <protocol ver='3'/>\n"
        "  </source>\n"
        "  <target>\n"
        "    <path>/var/lib/libvirt/nfsprov/NFSStorage_01</path>\n"
        "    <permissions><mode>0700</mode><owner>-1</owner><group>-1</group></permissions>\n"
        "  </target>\n"
        "</pool>\n";

/* Seed 000, figure E.22 (without its "(1)".."(5)" call-out marks): one line, no <protocol>. */
static const char seed_xml[] =
        "<pool type='netfs'> <name>rcxnfs</name> <uuid>bd0a2edc-66fb-e630-d2c9-cafc85a9cd29</uuid> "
        "<capacity>52844822528</capacity> <allocation>44229459968</allocation> "
        "<available>8615362560</available> <source> <host name='192.168.1.1'/> "
        "<dir path='/root/rcx_nfs'/> <format type='nfs'/> </source> <target> "
        "<path>/root/rcx_lib_pool</path> <permissions> <mode>0700</mode> <owner>-1</owner> "
        "<group>-1</group> </permissions> </target> </pool>";

/* What `virsh pool-dumpxml` prints for an active pool, with the extras libvirt may add. */
static const char virsh_xml[] =
        "<?xml version='1.0' encoding='UTF-8'?>\n"
        "<!-- WARNING: THIS IS AN AUTO-GENERATED FILE. CHANGES TO IT ARE LIKELY TO BE\n"
        "OVERWRITTEN AND LOST. Changes to this xml configuration should be made using:\n"
        "  virsh pool-edit NFSStorage_01\n"
        "-->\n"
        "<pool type='netfs'>\n"
        "  <name>NFSStorage_01</name>\n"
        "  <uuid>bd0a2edc-66fb-e630-d2c9-cafc85a9cd29</uuid>\n"
        "  <capacity unit='bytes'>52844822528</capacity>\n"
        "  <allocation unit='bytes'>44229459968</allocation>\n"
        "  <available unit='bytes'>8615362560</available>\n"
        "  <source>\n"
        "    <host name='192.168.1.1' port='2049'/>\n"
        "    <dir path='/home/NFS/NFSStorage_01'/>\n"
        "    <format type='nfs'/>\n"
        "    <protocol ver='3'/>\n"
        "    <auth type='chap' username='admin'>\n"
        "      <secret usage='libvirtiscsi'/>\n"
        "    </auth>\n"
        "    <name>not-the-pool-name</name>\n"
        "  </source>\n"
        "  <features>\n"
        "    <cow state='no'/>\n"
        "  </features>\n"
        "  <target>\n"
        "    <path>/var/lib/libvirt/nfsprov/NFSStorage_01</path>\n"
        "    <permissions>\n"
        "      <mode>0755</mode>\n"
        "      <owner>107</owner>\n"
        "      <group>0</group>\n"
        "      <label>system_u:object_r:nfs_t:s0</label>\n"
        "    </permissions>\n"
        "  </target>\n"
        "  <metadata><x:stuff xmlns:x='urn:x'><path>/elsewhere</path><uuid>no</uuid></x:stuff></metadata>\n"
        "</pool>\n";

static PoolDef *design_def(void) {
        PoolDef *p = pooldef_new();
        p->name = g_strdup("NFSStorage_01");
        p->uuid = g_strdup(UUID_EXAMPLE);
        p->host = g_strdup("192.168.1.1");
        p->source_dir = g_strdup("/home/NFS/NFSStorage_01");
        p->target_path = g_strdup("/var/lib/libvirt/nfsprov/NFSStorage_01");
        return p;
}

static void assert_sizes_equal(const PoolDef *a, const PoolDef *b) {
        ck_assert_int_eq(a->has_sizes, b->has_sizes);
        ck_assert_uint_eq(a->capacity, b->capacity);
        ck_assert_uint_eq(a->allocation, b->allocation);
        ck_assert_uint_eq(a->available, b->available);
}

static void assert_one_line(const GError *e) {
        ck_assert_ptr_nonnull(e);
        ck_assert_uint_eq(e->domain, NP_ERROR);
        ck_assert_int_eq(e->code, EINVAL);
        ck_assert_ptr_null(strchr(e->message, '\n'));
        ck_assert(g_utf8_validate(e->message, -1, NULL));
}

/* Parse and expect failure with -EINVAL and a message containing `expect`. */
static void assert_xml_fails(const char *xml, const char *expect) {
        g_autoptr(GError) e = NULL;
        PoolDef *p = NULL;
        int r = pooldef_from_xml(xml, &p, &e);
        ck_assert_msg(r == -EINVAL, "expected -EINVAL for:\n%s\ngot %d", xml, r);
        ck_assert_ptr_null(p);
        assert_one_line(e);
        ck_assert_msg(strstr(e->message, expect), "message \"%s\" lacks \"%s\"", e->message, expect);
}

/* ---- basics ---- */

START_TEST(test_new_defaults) {
        g_autoptr(PoolDef) p = pooldef_new();
        ck_assert_str_eq(p->format, "nfs");
        ck_assert_int_eq(p->protocol_ver, 3);
        ck_assert_uint_eq(p->mode, 0700);
        ck_assert_int_eq(p->owner, -1);
        ck_assert_int_eq(p->group, -1);
        ck_assert(!p->has_sizes);
        ck_assert_ptr_null(p->name);
        pooldef_free(NULL);
        ck_assert_ptr_null(pooldef_copy(NULL));
}
END_TEST

START_TEST(test_copy_equal) {
        g_autoptr(PoolDef) a = design_def();
        g_autoptr(PoolDef) b = pooldef_copy(a);
        ck_assert(pooldef_equal(a, b));
        ck_assert_ptr_ne(a->name, b->name);
        ck_assert(pooldef_equal(NULL, NULL));
        ck_assert(!pooldef_equal(a, NULL));
        ck_assert(!pooldef_equal(NULL, a));

        /* Sizes are live numbers: not part of the identity. */
        b->has_sizes = true;
        b->capacity = 1;
        b->allocation = 2;
        b->available = 3;
        ck_assert(pooldef_equal(a, b));

        /* Every identity field counts. */
        for (int i = 0; i < 10; i++) {
                g_autoptr(PoolDef) c = pooldef_copy(a);
                switch (i) {
                case 0: g_free(c->name); c->name = g_strdup("NFSStorage_02"); break;
                case 1: g_free(c->uuid); c->uuid = g_strdup("bd0a2edc-66fb-e630-d2c9-cafc85a9cd2a"); break;
                case 2: g_free(c->host); c->host = g_strdup("192.168.1.2"); break;
                case 3: g_free(c->source_dir); c->source_dir = g_strdup("/home/NFS/x"); break;
                case 4: g_free(c->format); c->format = NULL; break;
                case 5: c->protocol_ver = 0; break;
                case 6: g_free(c->target_path); c->target_path = g_strdup("/mnt/x"); break;
                case 7: c->mode = 0755; break;
                case 8: c->owner = 0; break;
                case 9: c->group = 0; break;
                }
                ck_assert_msg(!pooldef_equal(a, c), "field %d ignored", i);
                ck_assert_msg(!pooldef_equal(c, a), "field %d ignored", i);
        }
}
END_TEST

/* ---- rendering ---- */

START_TEST(test_render_design_example) {
        g_autoptr(PoolDef) p = design_def();
        g_autofree char *xml = pooldef_to_xml(p);
        ck_assert_str_eq(xml, design_xml);
}
END_TEST

START_TEST(test_render_sizes_no_protocol) {
        g_autoptr(PoolDef) p = design_def();
        p->has_sizes = true;
        p->capacity = 52844822528ULL;
        p->allocation = 0;
        p->available = UINT64_MAX;
        p->protocol_ver = 0;
        p->mode = 0;
        p->owner = 107;
        p->group = 4294967294L;
        g_autofree char *xml = pooldef_to_xml(p);
        ck_assert_str_eq(xml,
                         "<pool type='netfs'>\n"
                         "  <name>NFSStorage_01</name>\n"
                         "  <uuid>bd0a2edc-66fb-e630-d2c9-cafc85a9cd29</uuid>\n"
                         "  <capacity unit='bytes'>52844822528</capacity>\n"
                         "  <allocation unit='bytes'>0</allocation>\n"
                         "  <available unit='bytes'>18446744073709551615</available>\n"
                         "  <source>\n"
                         "    <host name='192.168.1.1'/>\n"
                         "    <dir path='/home/NFS/NFSStorage_01'/>\n"
                         "    <format type='nfs'/>\n"
                         "  </source>\n"
                         "  <target>\n"
                         "    <path>/var/lib/libvirt/nfsprov/NFSStorage_01</path>\n"
                         "    <permissions><mode>0000</mode><owner>107</owner><group>4294967294</group></permissions>\n"
                         "  </target>\n"
                         "</pool>\n");
}
END_TEST

START_TEST(test_render_escaping) {
        g_autoptr(PoolDef) p = design_def();
        g_free(p->source_dir);
        p->source_dir = g_strdup("/exp/a&b<c>");
        g_free(p->target_path);
        p->target_path = g_strdup("/mnt/x&y/<z>");
        ck_assert_int_eq(pooldef_validate(p, NULL), 0); /* '&', '<', '>' are not seed-forbidden */

        g_autofree char *xml = pooldef_to_xml(p);
        ck_assert_ptr_nonnull(strstr(xml, "\n    <dir path='/exp/a&amp;b&lt;c&gt;'/>\n"));
        ck_assert_ptr_nonnull(strstr(xml, "\n    <path>/mnt/x&amp;y/&lt;z&gt;</path>\n"));

        g_autoptr(PoolDef) q = NULL;
        ck_assert_int_eq(pooldef_from_xml(xml, &q, NULL), 0);
        ck_assert_str_eq(q->source_dir, "/exp/a&b<c>");
        ck_assert_str_eq(q->target_path, "/mnt/x&y/<z>");
        ck_assert(pooldef_equal(p, q));

        /* Quotes cannot pass validation, but rendering must still stay well-formed. */
        g_free(p->host);
        p->host = g_strdup("h'o\"st");
        g_free(p->name);
        p->name = g_strdup("a</name>b");
        g_autofree char *xml2 = pooldef_to_xml(p);
        ck_assert_ptr_nonnull(strstr(xml2, "<host name='h&apos;o&quot;st'/>"));
        ck_assert_ptr_nonnull(strstr(xml2, "<name>a&lt;/name&gt;b</name>"));
        g_autoptr(PoolDef) r = NULL;
        ck_assert_int_eq(pooldef_from_xml(xml2, &r, NULL), 0);
        ck_assert(pooldef_equal(p, r));
}
END_TEST

/* ---- parsing ---- */

START_TEST(test_xml_round_trip) {
        g_autoptr(PoolDef) p = design_def();
        p->has_sizes = true;
        p->capacity = 10737418240ULL;
        p->allocation = 4096;
        p->available = 10737414144ULL;
        g_autofree char *xml = pooldef_to_xml(p);

        g_autoptr(PoolDef) q = NULL;
        g_autoptr(GError) e = NULL;
        ck_assert_int_eq(pooldef_from_xml(xml, &q, &e), 0);
        ck_assert_ptr_null(e);
        ck_assert(pooldef_equal(p, q));
        assert_sizes_equal(p, q);
        g_autofree char *again = pooldef_to_xml(q);
        ck_assert_str_eq(again, xml);
}
END_TEST

START_TEST(test_parse_design_example) {
        g_autoptr(PoolDef) q = NULL;
        ck_assert_int_eq(pooldef_from_xml(design_xml, &q, NULL), 0);
        g_autoptr(PoolDef) p = design_def();
        ck_assert(pooldef_equal(p, q));
        ck_assert(!q->has_sizes);
        ck_assert_int_eq(pooldef_validate(q, NULL), 0);
}
END_TEST

START_TEST(test_parse_seed_example) {
        g_autoptr(PoolDef) q = NULL;
        g_autoptr(GError) e = NULL;
        ck_assert_int_eq(pooldef_from_xml(seed_xml, &q, &e), 0);
        ck_assert_str_eq(q->name, "rcxnfs");
        ck_assert_str_eq(q->uuid, UUID_EXAMPLE);
        ck_assert_str_eq(q->host, "192.168.1.1");
        ck_assert_str_eq(q->source_dir, "/root/rcx_nfs");
        ck_assert_str_eq(q->format, "nfs");
        ck_assert_int_eq(q->protocol_ver, 0);
        ck_assert_str_eq(q->target_path, "/root/rcx_lib_pool");
        ck_assert_uint_eq(q->mode, 0700);
        ck_assert_int_eq(q->owner, -1);
        ck_assert_int_eq(q->group, -1);
        ck_assert(q->has_sizes);
        ck_assert_uint_eq(q->capacity, 52844822528ULL);
        ck_assert_uint_eq(q->allocation, 44229459968ULL);
        ck_assert_uint_eq(q->available, 8615362560ULL);
        ck_assert_int_eq(pooldef_validate(q, &e), 0);
}
END_TEST

START_TEST(test_parse_virsh_dumpxml) {
        g_autoptr(PoolDef) q = NULL;
        g_autoptr(GError) e = NULL;
        ck_assert_int_eq(pooldef_from_xml(virsh_xml, &q, &e), 0);
        ck_assert_ptr_null(e);
        ck_assert_str_eq(q->name, "NFSStorage_01");
        ck_assert_str_eq(q->uuid, UUID_EXAMPLE);
        ck_assert_str_eq(q->host, "192.168.1.1");
        ck_assert_str_eq(q->source_dir, "/home/NFS/NFSStorage_01");
        ck_assert_str_eq(q->format, "nfs");
        ck_assert_int_eq(q->protocol_ver, 3);
        ck_assert_str_eq(q->target_path, "/var/lib/libvirt/nfsprov/NFSStorage_01");
        ck_assert_uint_eq(q->mode, 0755);
        ck_assert_int_eq(q->owner, 107);
        ck_assert_int_eq(q->group, 0);
        ck_assert(q->has_sizes);
        ck_assert_uint_eq(q->capacity, 52844822528ULL);
        ck_assert_uint_eq(q->allocation, 44229459968ULL);
        ck_assert_uint_eq(q->available, 8615362560ULL);
        ck_assert_int_eq(pooldef_validate(q, &e), 0);

        /* Same pool as the design's, apart from the permissions libvirt reports. */
        g_autoptr(PoolDef) p = design_def();
        ck_assert(!pooldef_equal(p, q));
        q->mode = 0700;
        q->owner = q->group = -1;
        ck_assert(pooldef_equal(p, q));
}
END_TEST

START_TEST(test_parse_lenient_forms) {
        /* Double quotes, CDATA, entities, white space around numbers, no <format/> (libvirt: auto). */
        static const char xml[] =
                "<pool type=\"netfs\"><name><![CDATA[p1]]></name><uuid>" UUID_EXAMPLE "</uuid>"
                "<source><host name=\"nfs&#46;example\"/><dir path=\"/e\"/><protocol ver=\"3\"/></source>"
                "<target><path>/t</path><permissions><mode>\n 755 \n</mode></permissions></target></pool>";
        g_autoptr(PoolDef) q = NULL;
        ck_assert_int_eq(pooldef_from_xml(xml, &q, NULL), 0);
        ck_assert_str_eq(q->name, "p1");
        ck_assert_str_eq(q->host, "nfs.example");
        ck_assert_str_eq(q->format, "auto");
        ck_assert_uint_eq(q->mode, 0755);
        ck_assert_int_eq(q->owner, -1); /* not given: libvirt's default */
        ck_assert_int_eq(q->group, -1);
        g_autoptr(GError) e = NULL;
        ck_assert_int_eq(pooldef_validate(q, &e), -EINVAL);
        ck_assert_ptr_nonnull(strstr(e->message, "format"));
}
END_TEST

START_TEST(test_parse_units) {
        static const struct {
                const char *unit;
                uint64_t scale;
        } t[] = {
                { NULL, 1 }, { "bytes", 1 }, { "b", 1 }, { "B", 1 }, { "byte", 1 },
                { "K", 1024 }, { "KiB", 1024 }, { "k", 1024 }, { "KB", 1000 }, { "kb", 1000 },
                { "M", 1048576 }, { "MiB", 1048576 }, { "MB", 1000000 },
                { "G", 1073741824ULL }, { "GiB", 1073741824ULL }, { "GB", 1000000000ULL },
                { "TiB", 1099511627776ULL }, { "TB", 1000000000000ULL },
                { "PiB", 1125899906842624ULL }, { "EiB", 1152921504606846976ULL },
                { "E", 1152921504606846976ULL }, { "EB", 1000000000000000000ULL },
        };
        for (size_t i = 0; i < G_N_ELEMENTS(t); i++) {
                g_autofree char *attr = t[i].unit ? g_strdup_printf(" unit='%s'", t[i].unit) : g_strdup("");
                g_autofree char *xml = g_strdup_printf(
                        "<pool type='netfs'><name>n</name><uuid>%s</uuid>"
                        "<capacity%s>3</capacity><available%s>0</available>"
                        "<source><host name='h'/><dir path='/d'/></source><target><path>/t</path></target></pool>",
                        UUID_EXAMPLE, attr, attr);
                g_autoptr(PoolDef) q = NULL;
                g_autoptr(GError) e = NULL;
                ck_assert_msg(pooldef_from_xml(xml, &q, &e) == 0, "unit %s: %s", t[i].unit,
                              e ? e->message : "");
                ck_assert(q->has_sizes);
                ck_assert_uint_eq(q->capacity, 3 * t[i].scale);
                ck_assert_uint_eq(q->allocation, 0); /* absent */
                ck_assert_uint_eq(q->available, 0);
        }

        static const char *const bad[] = { "furlongs", "KiBB", "x", "Ki", "kB2", "Q" };
        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
                g_autofree char *xml = g_strdup_printf(
                        "<pool type='netfs'><name>n</name><uuid>%s</uuid><capacity unit='%s'>3</capacity>"
                        "<source><host name='h'/><dir path='/d'/></source><target><path>/t</path></target></pool>",
                        UUID_EXAMPLE, bad[i]);
                assert_xml_fails(xml, "unknown unit");
        }

        /* 16 EiB does not fit in 64 bits. */
        assert_xml_fails("<pool type='netfs'><capacity unit='EiB'>16</capacity></pool>", "too large");
        assert_xml_fails("<pool type='netfs'><capacity unit='bytes'>18446744073709551616</capacity></pool>",
                         "<capacity>");
}
END_TEST

#define MINIMAL_HEAD "<pool type='netfs'><name>n</name><uuid>" UUID_EXAMPLE "</uuid>"
#define MINIMAL_SOURCE "<source><host name='h'/><dir path='/d'/></source>"
#define MINIMAL_TARGET "<target><path>/t</path></target>"

START_TEST(test_parse_errors) {
        static const struct {
                const char *xml;
                const char *expect;
        } t[] = {
                /* malformed: the position GMarkup reports */
                { "<pool type='netfs'>\n  <name>x</nam>\n</pool>", "at line 2:" },
                { "<pool type='netfs'>\n<name>x</name>\n", "at line 3:" },
                { "", "at line 1:" },
                { "   \n  ", "invalid pool XML at line" },
                { "<pool type='netfs'><name>a&b</name></pool>", "at line 1:" },
                { "<pool type='netfs'><name>a&nbsp;</name></pool>", "at line 1:" },
                { "<pool type='netfs'><name>\xff</name></pool>", "invalid pool XML at line" },
                /* GLib 2.74's GMarkup reports this one but returns TRUE; refused before it sees it
                 * (found by tests/fuzz/fuzz_pool_xml) */
                { "<pool type='netfs'>\n<name><![CDATA[\xbd]]></name><uuid>" UUID_EXAMPLE "</uuid>"
                  "<source><host name='h'/><dir path='/d'/></source><target><path>/t</path></target></pool>",
                  "invalid pool XML at line 2:16: not valid UTF-8" },
                { "<pool type='netfs' <name/></pool>", "at line 1:" },
                { "<pool type='netfs'></pool><pool type='netfs'></pool>", "invalid pool XML at line" },
                { "text<pool type='netfs'></pool>", "at line 1:" },
                /* wrong kind of document */
                { "<pool type='dir'><name>n</name></pool>", "pool type \"dir\" is not netfs" },
                { "<pool type='NETFS'></pool>", "is not netfs" },
                { "<pool><name>n</name></pool>", "no type attribute" },
                { "<domain type='kvm'><name>n</name></domain>", "root element is <domain>" },
                /* missing */
                { "<pool type='netfs'><uuid>" UUID_EXAMPLE "</uuid>" MINIMAL_SOURCE MINIMAL_TARGET "</pool>",
                  "missing <name>" },
                { "<pool type='netfs'><name>n</name>" MINIMAL_SOURCE MINIMAL_TARGET "</pool>", "missing <uuid>" },
                { MINIMAL_HEAD "<source><dir path='/d'/></source>" MINIMAL_TARGET "</pool>", "missing <source><host" },
                { MINIMAL_HEAD "<source><host name='h'/></source>" MINIMAL_TARGET "</pool>", "missing <source><dir" },
                { MINIMAL_HEAD MINIMAL_SOURCE "</pool>", "missing <target><path>" },
                { MINIMAL_HEAD MINIMAL_SOURCE "<target><permissions/></target></pool>", "missing <target><path>" },
                { MINIMAL_HEAD "<host name='h'/><dir path='/d'/>" MINIMAL_TARGET "</pool>", "missing <source><host" },
                { MINIMAL_HEAD "<source><host/><dir path='/d'/></source>" MINIMAL_TARGET "</pool>",
                  "<host> has no name attribute" },
                { MINIMAL_HEAD "<source><host name='h'/><dir/></source>" MINIMAL_TARGET "</pool>",
                  "<dir> has no path attribute" },
                { MINIMAL_HEAD "<source><host name='h'/><dir path='/d'/><format/></source>" MINIMAL_TARGET "</pool>",
                  "<format> has no type attribute" },
                { MINIMAL_HEAD "<source><host name='h'/><dir path='/d'/><protocol/></source>" MINIMAL_TARGET "</pool>",
                  "<protocol> has no ver attribute" },
                /* duplicates */
                { MINIMAL_HEAD "<name>m</name>" MINIMAL_SOURCE MINIMAL_TARGET "</pool>", "duplicate <name>" },
                { MINIMAL_HEAD "<uuid>" UUID_EXAMPLE "</uuid>" MINIMAL_SOURCE MINIMAL_TARGET "</pool>",
                  "duplicate <uuid>" },
                { MINIMAL_HEAD "<source><host name='h'/><host name='i'/><dir path='/d'/></source>" MINIMAL_TARGET
                  "</pool>", "duplicate <host>" },
                { MINIMAL_HEAD "<source><host name='h'/><dir path='/d'/><dir path='/e'/></source>" MINIMAL_TARGET
                  "</pool>", "duplicate <dir>" },
                { MINIMAL_HEAD MINIMAL_SOURCE MINIMAL_SOURCE MINIMAL_TARGET "</pool>", "duplicate <source>" },
                { MINIMAL_HEAD MINIMAL_SOURCE "<target><path>/t</path><path>/u</path></target></pool>",
                  "duplicate <path>" },
                { MINIMAL_HEAD MINIMAL_SOURCE
                  "<target><path>/t</path><permissions><mode>0700</mode><mode>0755</mode></permissions></target></pool>",
                  "duplicate <mode>" },
                { MINIMAL_HEAD "<capacity>1</capacity><capacity>2</capacity>" MINIMAL_SOURCE MINIMAL_TARGET "</pool>",
                  "duplicate <capacity>" },
                /* numbers */
                { MINIMAL_HEAD "<capacity>12x</capacity>" MINIMAL_SOURCE MINIMAL_TARGET "</pool>",
                  "<capacity> \"12x\" is not a non-negative integer" },
                { MINIMAL_HEAD "<allocation>-5</allocation>" MINIMAL_SOURCE MINIMAL_TARGET "</pool>", "<allocation>" },
                { MINIMAL_HEAD "<available></available>" MINIMAL_SOURCE MINIMAL_TARGET "</pool>", "<available>" },
                { MINIMAL_HEAD "<capacity>0x10</capacity>" MINIMAL_SOURCE MINIMAL_TARGET "</pool>", "<capacity>" },
                { MINIMAL_HEAD "<capacity>+1</capacity>" MINIMAL_SOURCE MINIMAL_TARGET "</pool>", "<capacity>" },
                { MINIMAL_HEAD "<capacity>1.5</capacity>" MINIMAL_SOURCE MINIMAL_TARGET "</pool>", "<capacity>" },
                { MINIMAL_HEAD MINIMAL_SOURCE
                  "<target><path>/t</path><permissions><mode>0800</mode></permissions></target></pool>",
                  "<mode> \"0800\" is not an octal number" },
                { MINIMAL_HEAD MINIMAL_SOURCE
                  "<target><path>/t</path><permissions><mode>rwx</mode></permissions></target></pool>", "<mode>" },
                { MINIMAL_HEAD MINIMAL_SOURCE
                  "<target><path>/t</path><permissions><mode>-1</mode></permissions></target></pool>", "<mode>" },
                { MINIMAL_HEAD MINIMAL_SOURCE
                  "<target><path>/t</path><permissions><owner>root</owner></permissions></target></pool>",
                  "<owner> \"root\" is not a number" },
                { MINIMAL_HEAD MINIMAL_SOURCE
                  "<target><path>/t</path><permissions><group>1e3</group></permissions></target></pool>",
                  "<group>" },
                { MINIMAL_HEAD MINIMAL_SOURCE
                  "<target><path>/t</path><permissions><group>99999999999999999999</group></permissions></target></pool>",
                  "<group>" },
                { MINIMAL_HEAD "<source><host name='h'/><dir path='/d'/><protocol ver='three'/></source>"
                  MINIMAL_TARGET "</pool>", "<protocol> ver \"three\"" },
                { MINIMAL_HEAD "<source><host name='h'/><dir path='/d'/><protocol ver='-3'/></source>"
                  MINIMAL_TARGET "</pool>", "<protocol>" },
        };
        for (size_t i = 0; i < G_N_ELEMENTS(t); i++)
                assert_xml_fails(t[i].xml, t[i].expect);

        /* GMarkup quotes the bad bytes; the message stays valid UTF-8. */
        g_autoptr(GError) e = NULL;
        PoolDef *p = NULL;
        ck_assert_int_eq(pooldef_from_xml("<pool type='netfs'><name>\xff\xfe</name></pool>", &p, &e), -EINVAL);
        ck_assert(g_utf8_validate(e->message, -1, NULL));
}
END_TEST

START_TEST(test_parse_error_position) {
        g_autoptr(GError) e = NULL;
        PoolDef *p = NULL;
        ck_assert_int_eq(pooldef_from_xml("<pool type='netfs'>\n  <name>x</nam>\n</pool>", &p, &e), -EINVAL);
        /* GMarkup's own "Error on line ..." prefix is replaced by ours. */
        ck_assert_msg(g_str_has_prefix(e->message, "invalid pool XML at line 2:"), "%s", e->message);
        ck_assert_ptr_null(strstr(e->message, "Error on line"));
        const char *col = e->message + strlen("invalid pool XML at line 2:");
        ck_assert(g_ascii_isdigit(*col));

        g_clear_error(&e);
        ck_assert_int_eq(pooldef_from_xml("<pool type='netfs'>\n\n   <name>x</name>\n <source type='a'><host name='h'/><host name='i'/>",
                                          &p, &e), -EINVAL);
        ck_assert_msg(g_str_has_prefix(e->message, "invalid pool XML at line 4:"), "%s", e->message);
        ck_assert_ptr_nonnull(strstr(e->message, "duplicate <host>"));
        ck_assert_ptr_null(p);

        /* An error that is already set is not overwritten; NULL error is fine. */
        ck_assert_int_eq(pooldef_from_xml("<x/>", &p, &e), -EINVAL);
        ck_assert_ptr_nonnull(strstr(e->message, "duplicate <host>"));
        ck_assert_int_eq(pooldef_from_xml("<x/>", &p, NULL), -EINVAL);
        ck_assert_ptr_null(p);
}
END_TEST

/* Every prefix of a valid document that stops before its end fails cleanly (no crash, no leak). */
/* pooldef_xml_type() too: GLib 2.74 sets its error twice for this one (a warning on stderr). */
START_TEST(test_xml_type_not_utf8) {
        g_autofree char *type = NULL;
        g_autoptr(GError) e = NULL;
        ck_assert_int_eq(pooldef_xml_type("<![CDATA[\xbd]]>]", &type, &e), -EINVAL);
        ck_assert_ptr_null(type);
        ck_assert_str_eq(e->message, "invalid pool XML at line 1:10: not valid UTF-8");
}
END_TEST

START_TEST(test_parse_truncated) {
        g_autofree char *full = g_strconcat(virsh_xml, NULL);
        size_t end = strstr(full, "</pool>") - full + strlen("</pool>");
        for (size_t n = 0; n < end; n++) {
                g_autofree char *prefix = g_strndup(full, n);
                g_autoptr(GError) e = NULL;
                PoolDef *p = NULL;
                ck_assert_msg(pooldef_from_xml(prefix, &p, &e) == -EINVAL, "prefix of %zu bytes accepted", n);
                ck_assert_ptr_null(p);
                assert_one_line(e);
                ck_assert(g_str_has_prefix(e->message, "invalid pool XML"));
                ck_assert(g_utf8_validate(e->message, -1, NULL));
        }
        g_autoptr(PoolDef) p = NULL;
        g_autofree char *exact = g_strndup(full, end);
        ck_assert_int_eq(pooldef_from_xml(exact, &p, NULL), 0);
}
END_TEST

/* ---- JSON ---- */

static char *json_text(json_object *o) {
        return g_strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
}

START_TEST(test_json_shape) {
        g_autoptr(PoolDef) p = design_def();
        json_object *o = pooldef_to_json(p);
        g_autofree char *s = json_text(o);
        ck_assert_str_eq(s,
                         "{\"name\":\"NFSStorage_01\",\"uuid\":\"bd0a2edc-66fb-e630-d2c9-cafc85a9cd29\","
                         "\"host\":\"192.168.1.1\",\"source_path\":\"/home/NFS/NFSStorage_01\","
                         "\"target_path\":\"/var/lib/libvirt/nfsprov/NFSStorage_01\",\"format\":\"nfs\","
                         "\"protocol_version\":3,\"mode\":\"0700\",\"owner\":-1,\"group\":-1}");
        json_object_put(o);

        p->has_sizes = true;
        p->capacity = 52844822528ULL;
        p->allocation = 44229459968ULL;
        p->available = 8615362560ULL;
        p->mode = 02755;
        o = pooldef_to_json(p);
        g_autofree char *s2 = json_text(o);
        ck_assert_ptr_nonnull(strstr(s2, ",\"mode\":\"2755\",\"owner\":-1,\"group\":-1,\"capacity\":52844822528,"
                                         "\"allocation\":44229459968,\"available\":8615362560}"));
        json_object_put(o);
}
END_TEST

START_TEST(test_json_round_trip) {
        g_autoptr(PoolDef) p = design_def();
        for (int sizes = 0; sizes <= 1; sizes++) {
                p->has_sizes = sizes;
                p->capacity = sizes ? UINT64_MAX : 0;
                p->allocation = sizes ? (uint64_t) INT64_MAX : 0;
                p->available = sizes ? 1 : 0;
                json_object *o = pooldef_to_json(p);
                g_autofree char *s = json_text(o);
                json_object_put(o);

                json_object *parsed = json_tokener_parse(s);
                ck_assert_ptr_nonnull(parsed);
                g_autoptr(PoolDef) q = NULL;
                g_autoptr(GError) e = NULL;
                ck_assert_int_eq(pooldef_from_json(parsed, &q, &e), 0);
                json_object_put(parsed);
                ck_assert(pooldef_equal(p, q));
                assert_sizes_equal(p, q);
        }
}
END_TEST

START_TEST(test_json_lenient) {
        /* Extra keys are ignored; null sizes are absent; a partial set still counts as sizes. */
        json_object *o = json_tokener_parse(
                "{\"name\":\"n\",\"uuid\":\"" UUID_EXAMPLE "\",\"host\":\"h\",\"source_path\":\"/s\","
                "\"target_path\":\"/t\",\"format\":\"nfs\",\"protocol_version\":0,\"mode\":\"755\","
                "\"owner\":0,\"group\":100,\"capacity\":null,\"extra\":[1,2],\"state\":\"ok\"}");
        ck_assert_ptr_nonnull(o);
        g_autoptr(PoolDef) q = NULL;
        ck_assert_int_eq(pooldef_from_json(o, &q, NULL), 0);
        ck_assert_uint_eq(q->mode, 0755);
        ck_assert_int_eq(q->protocol_ver, 0);
        ck_assert_int_eq(q->owner, 0);
        ck_assert_int_eq(q->group, 100);
        ck_assert(!q->has_sizes);

        json_object_object_add(o, "available", json_object_new_int64(42));
        g_autoptr(PoolDef) r = NULL;
        ck_assert_int_eq(pooldef_from_json(o, &r, NULL), 0);
        ck_assert(r->has_sizes);
        ck_assert_uint_eq(r->available, 42);
        ck_assert_uint_eq(r->capacity, 0);
        json_object_put(o);
}
END_TEST

static void assert_json_fails(json_object *o, const char *expect) {
        g_autoptr(GError) e = NULL;
        PoolDef *p = NULL;
        ck_assert_int_eq(pooldef_from_json(o, &p, &e), -EINVAL);
        ck_assert_ptr_null(p);
        assert_one_line(e);
        ck_assert_msg(strstr(e->message, expect), "message \"%s\" lacks \"%s\"", e->message, expect);
}

START_TEST(test_from_json_errors) {
        static const char *const strings[] = { "name", "uuid", "host", "source_path", "target_path", "format", "mode" };
        static const char *const ints[] = { "protocol_version", "owner", "group" };
        g_autoptr(PoolDef) p = design_def();
        p->has_sizes = true;

        /* Every key: missing, and of the wrong type. */
        for (size_t i = 0; i < G_N_ELEMENTS(strings) + G_N_ELEMENTS(ints); i++) {
                bool is_string = i < G_N_ELEMENTS(strings);
                const char *key = is_string ? strings[i] : ints[i - G_N_ELEMENTS(strings)];

                json_object *o = pooldef_to_json(p);
                json_object_object_del(o, key);
                g_autofree char *missing = g_strdup_printf("missing key \"%s\"", key);
                assert_json_fails(o, missing);

                g_autofree char *wrong = g_strdup_printf("key \"%s\" must be", key);
                json_object_object_add(o, key, is_string ? json_object_new_int(7) : json_object_new_string("3"));
                assert_json_fails(o, wrong);
                json_object_object_add(o, key, NULL);
                assert_json_fails(o, wrong);
                json_object_object_add(o, key, is_string ? json_object_new_boolean(1) : json_object_new_double(3.0));
                assert_json_fails(o, wrong);
                json_object_put(o);
        }

        static const struct {
                const char *key;
                const char *json; /* value */
                const char *expect;
        } t[] = {
                { "mode", "\"0800\"", "key \"mode\" must be an octal string like \"0700\"" },
                { "mode", "\"\"", "key \"mode\"" },
                { "mode", "\"rwx\"", "key \"mode\"" },
                { "mode", "\"-700\"", "key \"mode\"" },
                { "mode", "\"0o700\"", "key \"mode\"" },
                /* The value is shown escaped: one line of UTF-8 (found by tests/fuzz/fuzz_pool_json). */
                { "mode", "\"07\\n00\"", "not \"07\\n00\"" },
                { "mode", "\"\xd0\x1b" "00\"", "not \"\\320\\03300\"" },
                { "mode", "448", "key \"mode\" must be an octal string" },
                { "protocol_version", "-1", "key \"protocol_version\" is out of range" },
                { "protocol_version", "4294967296", "key \"protocol_version\" is out of range" },
                { "owner", "18446744073709551615", "key \"owner\" is out of range" },
                { "owner", "-1.0", "key \"owner\" must be an integer" },
                { "capacity", "-1", "key \"capacity\" must not be negative" },
                { "allocation", "\"10G\"", "key \"allocation\" must be an integer" },
                { "available", "1.5", "key \"available\" must be an integer" },
                { "available", "true", "key \"available\" must be an integer" },
        };
        for (size_t i = 0; i < G_N_ELEMENTS(t); i++) {
                json_object *o = pooldef_to_json(p);
                json_object *v = json_tokener_parse(t[i].json);
                ck_assert_ptr_nonnull(v);
                json_object_object_add(o, t[i].key, v);
                assert_json_fails(o, t[i].expect);
                json_object_put(o);
        }

        json_object *arr = json_object_new_array();
        assert_json_fails(arr, "not an object");
        json_object_put(arr);
        assert_json_fails(NULL, "not an object");
}
END_TEST


/* ---- volumes (the server's manifest, JSON only) ---- */

static PoolDef *def_with_volumes(void) {
        PoolDef *p = design_def();
        p->volumes = g_ptr_array_new_with_free_func((GDestroyNotify) pool_volume_free);
        g_ptr_array_add(p->volumes, pool_volume_new("base.qcow2", 1073741824, "qcow2"));
        g_ptr_array_add(p->volumes, pool_volume_new("vm1.qcow2", UINT64_C(21474836480), "qcow2"));
        return p;
}

static PoolDef *parse_json_text(const char *text, GError **error) {
        json_object *o = json_tokener_parse(text);
        ck_assert_msg(o, "not JSON: %s", text);
        PoolDef *p = NULL;
        int r = pooldef_from_json(o, &p, error);
        json_object_put(o);
        return r < 0 ? NULL : p;
}

START_TEST(test_volumes_json_shape_and_round_trip) {
        g_autoptr(PoolDef) p = def_with_volumes();
        json_object *o = pooldef_to_json(p);
        g_autofree char *s = json_text(o);
        json_object_put(o);
        ck_assert_ptr_nonnull(strstr(s, ",\"group\":-1,\"volumes\":[{\"name\":\"base.qcow2\",\"capacity\":1073741824,"
                                        "\"format\":\"qcow2\"},{\"name\":\"vm1.qcow2\",\"capacity\":21474836480,"
                                        "\"format\":\"qcow2\"}]}"));
        ck_assert_int_eq(pooldef_validate(p, NULL), 0);

        g_autoptr(GError) e = NULL;
        g_autoptr(PoolDef) q = parse_json_text(s, &e);
        ck_assert_msg(q, "%s", e ? e->message : "");
        ck_assert_ptr_nonnull(q->volumes);
        ck_assert_uint_eq(q->volumes->len, 2);
        const PoolVolume *v = q->volumes->pdata[1];
        ck_assert_str_eq(v->name, "vm1.qcow2");
        ck_assert_uint_eq(v->capacity, UINT64_C(21474836480));
        ck_assert_str_eq(v->format, "qcow2");
        ck_assert(pooldef_equal(p, q));

        /* a deep copy; the XML never carries volumes */
        g_autoptr(PoolDef) c = pooldef_copy(p);
        ck_assert_ptr_ne(c->volumes, p->volumes);
        ck_assert_str_eq(((PoolVolume *) c->volumes->pdata[0])->name, "base.qcow2");
        ck_assert_ptr_ne(((PoolVolume *) c->volumes->pdata[0])->name, ((PoolVolume *) p->volumes->pdata[0])->name);
        g_autofree char *xml = pooldef_to_xml(p);
        ck_assert_str_eq(xml, design_xml);

        /* volumes are live data: a different list is still the same definition */
        g_ptr_array_set_size(c->volumes, 0);
        ck_assert(pooldef_equal(p, c));
}
END_TEST

START_TEST(test_volumes_absent_null_empty) {
        /* no key, or null: the server does not report volumes (NULL); [] is "none" */
        g_autoptr(PoolDef) p = design_def();
        json_object *o = pooldef_to_json(p);
        g_autofree char *s = json_text(o);
        ck_assert_ptr_null(strstr(s, "volumes"));
        g_autoptr(PoolDef) none = NULL;
        ck_assert_int_eq(pooldef_from_json(o, &none, NULL), 0);
        ck_assert_ptr_null(none->volumes);

        json_object_object_add(o, "volumes", NULL);
        g_autoptr(PoolDef) null = NULL;
        ck_assert_int_eq(pooldef_from_json(o, &null, NULL), 0);
        ck_assert_ptr_null(null->volumes);

        json_object_object_add(o, "volumes", json_object_new_array());
        g_autoptr(PoolDef) empty = NULL;
        ck_assert_int_eq(pooldef_from_json(o, &empty, NULL), 0);
        ck_assert_ptr_nonnull(empty->volumes);
        ck_assert_uint_eq(empty->volumes->len, 0);
        ck_assert_int_eq(pooldef_validate(empty, NULL), 0);
        json_object *o2 = pooldef_to_json(empty);
        g_autofree char *s2 = json_text(o2);
        ck_assert_ptr_nonnull(strstr(s2, ",\"volumes\":[]}"));
        json_object_put(o2);

        /* extra keys of a volume are ignored (a server may say more) */
        json_object_object_add(o, "volumes", json_tokener_parse("[{\"name\":\"a\",\"capacity\":1,\"format\":\"qcow2\","
                                                                "\"allocation\":0,\"backing\":null}]"));
        g_autoptr(PoolDef) extra = NULL;
        ck_assert_int_eq(pooldef_from_json(o, &extra, NULL), 0);
        ck_assert_uint_eq(extra->volumes->len, 1);
        json_object_put(o);
}
END_TEST

START_TEST(test_volumes_json_errors) {
        static const struct {
                const char *volumes;
                const char *expect;
        } t[] = {
                { "{}", "key \"volumes\" must be an array" },
                { "\"vm1.qcow2\"", "key \"volumes\" must be an array" },
                { "[42]", "volume #1 is not an object" },
                { "[{\"name\":\"a\",\"capacity\":1,\"format\":\"qcow2\"},null]", "volume #2 is not an object" },
                { "[{\"capacity\":1,\"format\":\"qcow2\"}]", "volume #1: missing key \"name\"" },
                { "[{\"name\":7,\"capacity\":1,\"format\":\"qcow2\"}]", "volume #1: key \"name\" must be a string" },
                { "[{\"name\":\"a\",\"format\":\"qcow2\"}]", "volume a: missing key \"capacity\"" },
                { "[{\"name\":\"a\",\"capacity\":\"1G\",\"format\":\"qcow2\"}]", "volume a: key \"capacity\" must be an integer" },
                { "[{\"name\":\"a\",\"capacity\":1.5,\"format\":\"qcow2\"}]", "volume a: key \"capacity\" must be an integer" },
                { "[{\"name\":\"a\",\"capacity\":0,\"format\":\"qcow2\"}]", "volume a: key \"capacity\" must be a positive integer" },
                { "[{\"name\":\"a\",\"capacity\":-5,\"format\":\"qcow2\"}]", "volume a: key \"capacity\" must be a positive integer" },
                { "[{\"name\":\"a\",\"capacity\":1}]", "volume a: missing key \"format\"" },
                { "[{\"name\":\"a\",\"capacity\":1,\"format\":null}]", "volume a: key \"format\" must be a string" },
                /* a name that is not shown as it is: by position */
                { "[{\"name\":\"a\\nb\",\"capacity\":1}]", "volume #1: missing key \"format\"" },
        };
        for (size_t i = 0; i < G_N_ELEMENTS(t); i++) {
                g_autoptr(PoolDef) p = design_def();
                json_object *o = pooldef_to_json(p);
                json_object *v = json_tokener_parse(t[i].volumes);
                ck_assert_msg(v, "case %zu", i);
                json_object_object_add(o, "volumes", v);
                assert_json_fails(o, t[i].expect);
                json_object_put(o);
        }
}
END_TEST

START_TEST(test_volumes_validate) {
        static const char *const good[] = {
                "vm1.qcow2", "a", "A-Z_a.z-0.9", "x.", "x..y", "-dash", "lost-found",
        };
        for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
                g_autoptr(PoolDef) p = design_def();
                p->volumes = g_ptr_array_new_with_free_func((GDestroyNotify) pool_volume_free);
                const char *name = good[i];
                g_ptr_array_add(p->volumes, pool_volume_new(name, 1, "qcow2"));
                g_autoptr(GError) e = NULL;
                ck_assert_msg(pooldef_validate(p, &e) == 0, "%s: %s", name, e ? e->message : "");
        }
        g_autofree char *max = g_strnfill(255, 'v');
        g_autofree char *too_long = g_strnfill(256, 'v');

        static const struct {
                const char *name;
                uint64_t capacity;
                const char *format;
                const char *expect;
        } bad[] = {
                { "", 1, "qcow2", "invalid volume name \"\": the name is empty; allowed: A-Z a-z 0-9 _ . - (1-255 characters, not starting with a dot)" },
                { ".hidden", 1, "qcow2", "invalid volume name \".hidden\": it starts with a dot (a hidden file)" },
                { ".", 1, "qcow2", "invalid volume name \".\": it names a directory, not a volume" },
                { "..", 1, "qcow2", "invalid volume name \"..\": it names a directory, not a volume" },
                { "lost+found", 1, "qcow2", "invalid volume name \"lost+found\": it is the file system's own directory" },
                { "a/b", 1, "qcow2", "invalid volume name \"a/b\": character 2 (\"/\") is a slash" },
                { "vm 1.qcow2", 1, "qcow2", "invalid volume name \"vm 1.qcow2\": character 3 (\" \") is a blank space" },
                { "vm;1", 1, "qcow2", "character 3 (\";\") is a semicolon" },
                { "vm(1)", 1, "qcow2", "character 3 (\"(\") is a parenthesis" },
                { "v\xc3\xa9", 1, "qcow2", "character 2 (\"\xc3\xa9\") is a double-byte character" },
                { "v\\m", 1, "qcow2", "is a yen mark or backslash" },
                { "v\tm", 1, "qcow2", "character 2" },
                { "v\xff", 1, "qcow2", "is not valid UTF-8" },
                { "vm1.qcow2", 0, "qcow2", "volume vm1.qcow2: capacity 0" },
                { "vm1.qcow2", 1, "", "volume vm1.qcow2: format is missing" },
                { "vm1.qcow2", 1, "qc ow2", "invalid format of volume vm1.qcow2 \"qc ow2\"" },
        };
        for (size_t i = 0; i < G_N_ELEMENTS(bad) + 1; i++) {
                g_autoptr(PoolDef) p = design_def();
                p->volumes = g_ptr_array_new_with_free_func((GDestroyNotify) pool_volume_free);
                g_ptr_array_add(p->volumes, pool_volume_new("ok.qcow2", 1, "qcow2"));
                const char *expect;
                if (i < G_N_ELEMENTS(bad)) {
                        g_ptr_array_add(p->volumes, pool_volume_new(bad[i].name, bad[i].capacity, bad[i].format));
                        expect = bad[i].expect;
                } else {
                        g_ptr_array_add(p->volumes, pool_volume_new("ok.qcow2", 2, "qcow2"));
                        expect = "volume ok.qcow2 is listed twice";
                }
                g_autoptr(GError) e = NULL;
                ck_assert_int_eq(pooldef_validate(p, &e), -EINVAL);
                assert_one_line(e);
                ck_assert_msg(strstr(e->message, expect), "case %zu: message \"%s\" lacks \"%s\"", i, e->message, expect);
        }

        /* 255 characters are fine, 256 are not */
        g_autoptr(PoolDef) p = design_def();
        p->volumes = g_ptr_array_new_with_free_func((GDestroyNotify) pool_volume_free);
        g_ptr_array_add(p->volumes, pool_volume_new(max, 1, "qcow2"));
        ck_assert_int_eq(pooldef_validate(p, NULL), 0);
        g_ptr_array_add(p->volumes, pool_volume_new(too_long, 1, "qcow2"));
        g_autoptr(GError) e = NULL;
        ck_assert_int_eq(pooldef_validate(p, &e), -EINVAL);
        ck_assert_ptr_nonnull(strstr(e->message, "too long (256 characters, at most 255)"));
        assert_one_line(e);
}
END_TEST

/* ---- validation ---- */

static void set_field(PoolDef *p, const char *field, const char *s, long n) {
        char **str = NULL;
        if (strcmp(field, "name") == 0)
                str = &p->name;
        else if (strcmp(field, "uuid") == 0)
                str = &p->uuid;
        else if (strcmp(field, "host") == 0)
                str = &p->host;
        else if (strcmp(field, "source") == 0)
                str = &p->source_dir;
        else if (strcmp(field, "target") == 0)
                str = &p->target_path;
        else if (strcmp(field, "format") == 0)
                str = &p->format;
        else if (strcmp(field, "protocol") == 0)
                p->protocol_ver = (int) n;
        else if (strcmp(field, "mode") == 0)
                p->mode = (unsigned) n;
        else if (strcmp(field, "owner") == 0)
                p->owner = n;
        else if (strcmp(field, "group") == 0)
                p->group = n;
        else
                ck_abort_msg("unknown field %s", field);
        if (str) {
                g_free(*str);
                *str = g_strdup(s);
        }
}

START_TEST(test_validate) {
        g_autoptr(PoolDef) ok = design_def();
        ck_assert_int_eq(pooldef_validate(ok, NULL), 0);

        static const struct {
                const char *field;
                const char *s;
                long n;
                const char *expect;
        } good[] = {
                { "protocol", NULL, 0, NULL },
                { "mode", NULL, 07777, NULL },
                { "mode", NULL, 0, NULL },
                { "owner", NULL, 0, NULL },
                { "group", NULL, 4294967294L, NULL },
                { "host", "nfs-server.example.com", 0, NULL },
                { "host", "fd00::1", 0, NULL },
                { "target", "/", 0, NULL },
                { "source", "/a.b/.c/..d/x~y&z<w>", 0, NULL },
                { "name", "a", 0, NULL },
        }, bad[] = {
                { "name", NULL, 0, "pool name" },
                { "name", "", 0, "name" },
                { "name", "a b", 0, "name" },
                { "name", "a.b", 0, "name" },
                { "uuid", NULL, 0, "uuid" },
                { "uuid", "", 0, "uuid" },
                { "uuid", "bd0a2edc-66fb-e630-d2c9-cafc85a9cd2", 0, "uuid" },
                { "uuid", "BD0A2EDC-66FB-E630-D2C9-CAFC85A9CD29", 0, "uuid" },
                { "uuid", "bd0a2edc66fbe630d2c9cafc85a9cd29", 0, "uuid" },
                { "uuid", "gd0a2edc-66fb-e630-d2c9-cafc85a9cd29", 0, "uuid" },
                { "host", NULL, 0, "server address" },
                { "host", "", 0, "server address" },
                { "host", "192.168.1.1;", 0, "server address" },
                { "host", "a b", 0, "server address" },
                { "host", "nfs\\srv", 0, "server address" },
                { "host", "nfs\tsrv", 0, "server address" },
                { "source", NULL, 0, "source path" },
                { "source", "", 0, "source path" },
                { "source", "home/NFS/x", 0, "source path" },
                { "source", "/home/NFS/x y", 0, "source path" },
                { "source", "/home/NFS/it's", 0, "source path" },
                { "source", "/home/NFS/\"x\"", 0, "source path" },
                { "source", "/home/NFS/x(1)", 0, "source path" },
                { "source", "/home/NFS/\xc2\xa5", 0, "source path" },
                { "source", "/home/NFS/\xe3\x81\x82", 0, "source path" },
                { "source", "/home//NFS", 0, "source path" },
                { "source", "/home/NFS/", 0, "source path" },
                { "source", "/home/./NFS", 0, "source path" },
                { "source", "/home/../NFS", 0, "source path" },
                { "target", NULL, 0, "target path" },
                { "target", "var/lib/x", 0, "target path" },
                { "target", "/var/lib/x;rm", 0, "target path" },
                { "target", "/var/lib/x\n", 0, "target path" },
                { "target", "/var/lib/..", 0, "target path" },
                { "format", "auto", 0, "format" },
                { "format", NULL, 0, "format" },
                { "format", "NFS", 0, "format" },
                { "protocol", NULL, 4, "protocol" },
                { "protocol", NULL, -3, "protocol" },
                { "mode", NULL, 010000, "mode" },
                { "owner", NULL, -2, "owner" },
                { "owner", NULL, 4294967295L, "owner" },
                { "group", NULL, -100, "group" },
        };
        for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
                g_autoptr(PoolDef) p = pooldef_copy(ok);
                set_field(p, good[i].field, good[i].s, good[i].n);
                g_autoptr(GError) e = NULL;
                ck_assert_msg(pooldef_validate(p, &e) == 0, "good %zu rejected: %s", i, e ? e->message : "");
        }
        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
                g_autoptr(PoolDef) p = pooldef_copy(ok);
                set_field(p, bad[i].field, bad[i].s, bad[i].n);
                g_autoptr(GError) e = NULL;
                ck_assert_msg(pooldef_validate(p, &e) == -EINVAL, "bad %zu (%s) accepted", i, bad[i].field);
                assert_one_line(e);
                ck_assert_msg(strstr(e->message, bad[i].expect), "bad %zu: message \"%s\" lacks \"%s\"", i,
                              e->message, bad[i].expect);
                ck_assert_int_eq(pooldef_validate(p, NULL), -EINVAL);
        }
}
END_TEST

/* ---- property: random valid definitions survive XML and JSON ---- */

#define NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
/* Everything printable in ASCII that seed 000 allows, including what XML must escape. */
#define PATH_CHARS NAME_CHARS ".+=,@%~#!?[]{}:$*^|&<>`"

static char *random_from(GRand *rand, const char *set, int len) {
        char *s = g_new(char, len + 1);
        size_t n = strlen(set);
        for (int i = 0; i < len; i++)
                s[i] = set[g_rand_int_range(rand, 0, (gint32) n)];
        s[len] = 0;
        return s;
}

static char *random_path(GRand *rand) {
        GString *s = g_string_new(NULL);
        int parts = g_rand_int_range(rand, 1, 6);
        for (int i = 0; i < parts; i++) {
                g_autofree char *c = random_from(rand, PATH_CHARS, g_rand_int_range(rand, 1, 13));
                if (c[0] == '.') /* no "." or ".." components */
                        c[0] = 'x';
                g_string_append_c(s, '/');
                g_string_append(s, c);
        }
        return g_string_free(s, FALSE);
}

static char *random_host(GRand *rand) {
        switch (g_rand_int_range(rand, 0, 3)) {
        case 0:
                return g_strdup_printf("%d.%d.%d.%d", g_rand_int_range(rand, 0, 256), g_rand_int_range(rand, 0, 256),
                                       g_rand_int_range(rand, 0, 256), g_rand_int_range(rand, 0, 256));
        case 1:
                return g_strdup_printf("fd%02x::%x", g_rand_int_range(rand, 0, 256), g_rand_int(rand) & 0xffff);
        default:
                return random_from(rand, "abcdefghijklmnopqrstuvwxyz0123456789.-", g_rand_int_range(rand, 1, 40));
        }
}

static uint64_t random_u64(GRand *rand) {
        uint64_t v = ((uint64_t) g_rand_int(rand) << 32) | g_rand_int(rand);
        /* Mix full-range values with realistic ones. */
        return g_rand_boolean(rand) ? v : v >> g_rand_int_range(rand, 20, 64);
}

static long random_id(GRand *rand) {
        switch (g_rand_int_range(rand, 0, 3)) {
        case 0:
                return -1;
        case 1:
                return g_rand_int_range(rand, 0, 65536);
        default:
                return (long) (g_rand_int(rand) % 4294967295U);
        }
}

static PoolDef *random_def(GRand *rand) {
        PoolDef *p = pooldef_new();
        p->name = random_from(rand, NAME_CHARS, g_rand_int_range(rand, 1, 65));
        p->uuid = g_uuid_string_random();
        p->host = random_host(rand);
        p->source_dir = random_path(rand);
        p->target_path = random_path(rand);
        p->protocol_ver = g_rand_boolean(rand) ? 3 : 0;
        p->mode = (unsigned) g_rand_int_range(rand, 0, 07777 + 1);
        p->owner = random_id(rand);
        p->group = random_id(rand);
        p->has_sizes = g_rand_boolean(rand);
        if (p->has_sizes) {
                p->capacity = random_u64(rand);
                p->allocation = random_u64(rand);
                p->available = random_u64(rand);
        }
        return p;
}

#define PROPERTY_ROUNDS 2000

START_TEST(test_property_xml) {
        g_autoptr(GRand) rand = g_rand_new_with_seed(0x6e667370);
        for (int i = 0; i < PROPERTY_ROUNDS; i++) {
                g_autoptr(PoolDef) p = random_def(rand);
                g_autoptr(GError) e = NULL;
                ck_assert_msg(pooldef_validate(p, &e) == 0, "round %d: %s", i, e ? e->message : "");

                g_autofree char *xml = pooldef_to_xml(p);
                g_autoptr(PoolDef) q = NULL;
                ck_assert_msg(pooldef_from_xml(xml, &q, &e) == 0, "round %d: %s\n%s", i, e ? e->message : "", xml);
                ck_assert_msg(pooldef_equal(p, q), "round %d:\n%s", i, xml);
                assert_sizes_equal(p, q);
                ck_assert_int_eq(pooldef_validate(q, NULL), 0);
                g_autofree char *again = pooldef_to_xml(q);
                ck_assert_str_eq(again, xml);
        }
}
END_TEST

START_TEST(test_property_json) {
        g_autoptr(GRand) rand = g_rand_new_with_seed(0x6a736f6e);
        for (int i = 0; i < PROPERTY_ROUNDS; i++) {
                g_autoptr(PoolDef) p = random_def(rand);
                ck_assert_int_eq(pooldef_validate(p, NULL), 0);

                json_object *o = pooldef_to_json(p);
                g_autofree char *text = json_text(o);
                json_object_put(o);
                json_object *parsed = json_tokener_parse(text);
                ck_assert_msg(parsed, "round %d: %s", i, text);

                g_autoptr(PoolDef) q = NULL;
                g_autoptr(GError) e = NULL;
                int r = pooldef_from_json(parsed, &q, &e);
                json_object_put(parsed);
                ck_assert_msg(r == 0, "round %d: %s\n%s", i, e ? e->message : "", text);
                ck_assert_msg(pooldef_equal(p, q), "round %d: %s", i, text);
                assert_sizes_equal(p, q);

                json_object *o2 = pooldef_to_json(q);
                g_autofree char *text2 = json_text(o2);
                json_object_put(o2);
                ck_assert_str_eq(text2, text);
        }
}
END_TEST

UNIT_ONE_PROCESS;

Suite *unit_suite(void) {
        Suite *s = suite_create("pooldef");

        TCase *tc = tcase_create("model");
        tcase_add_test(tc, test_new_defaults);
        tcase_add_test(tc, test_copy_equal);
        tcase_add_test(tc, test_validate);
        suite_add_tcase(s, tc);

        tc = tcase_create("xml");
        tcase_add_test(tc, test_render_design_example);
        tcase_add_test(tc, test_render_sizes_no_protocol);
        tcase_add_test(tc, test_render_escaping);
        tcase_add_test(tc, test_xml_round_trip);
        tcase_add_test(tc, test_parse_design_example);
        tcase_add_test(tc, test_parse_seed_example);
        tcase_add_test(tc, test_parse_virsh_dumpxml);
        tcase_add_test(tc, test_parse_lenient_forms);
        tcase_add_test(tc, test_parse_units);
        tcase_add_test(tc, test_parse_errors);
        tcase_add_test(tc, test_parse_error_position);
        tcase_add_test(tc, test_parse_truncated);
        tcase_add_test(tc, test_xml_type_not_utf8);
        suite_add_tcase(s, tc);

        tc = tcase_create("json");
        tcase_add_test(tc, test_json_shape);
        tcase_add_test(tc, test_json_round_trip);
        tcase_add_test(tc, test_json_lenient);
        tcase_add_test(tc, test_from_json_errors);
        tcase_add_test(tc, test_volumes_json_shape_and_round_trip);
        tcase_add_test(tc, test_volumes_absent_null_empty);
        tcase_add_test(tc, test_volumes_json_errors);
        tcase_add_test(tc, test_volumes_validate);
        suite_add_tcase(s, tc);

        tc = tcase_create("property");
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, test_property_xml);
        tcase_add_test(tc, test_property_json);
        suite_add_tcase(s, tc);

        return s;
}
