/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <string.h>

#include "error.h"
#include "name.h"
#include "pooldef.h"

#define POOLDEF_MODE_MAX 07777u
/* uid_t/gid_t values a pool may name: -1 (libvirt default) or 0 .. 2^32-2 ((uid_t) -1 is not an id). */
#define POOLDEF_ID_MAX INT64_C(4294967294)

static const char *strempty(const char *s) {
        return s ?: "";
}

PoolVolume *pool_volume_new(const char *name, uint64_t capacity, const char *format) {
        PoolVolume *v = g_new0(PoolVolume, 1);
        v->name = g_strdup(name);
        v->capacity = capacity;
        v->format = g_strdup(format);
        return v;
}

void pool_volume_free(PoolVolume *v) {
        if (!v)
                return;
        g_free(v->name);
        g_free(v->format);
        g_free(v);
}

static GPtrArray *volumes_copy(const GPtrArray *volumes) {
        if (!volumes)
                return NULL;
        GPtrArray *c = g_ptr_array_new_full(volumes->len, (GDestroyNotify) pool_volume_free);
        for (size_t i = 0; i < volumes->len; i++) {
                const PoolVolume *v = volumes->pdata[i];
                g_ptr_array_add(c, pool_volume_new(v->name, v->capacity, v->format));
        }
        return c;
}

PoolDef *pooldef_new(void) {
        PoolDef *p = g_new0(PoolDef, 1);
        p->format = g_strdup("nfs");
        p->protocol_ver = 3;
        p->mode = 0700;
        p->owner = -1;
        p->group = -1;
        return p;
}

void pooldef_free(PoolDef *p) {
        if (!p)
                return;
        g_free(p->name);
        g_free(p->uuid);
        g_free(p->host);
        g_free(p->source_dir);
        g_free(p->format);
        g_free(p->target_path);
        if (p->volumes)
                g_ptr_array_unref(p->volumes);
        g_free(p);
}

PoolDef *pooldef_copy(const PoolDef *p) {
        if (!p)
                return NULL;
        PoolDef *c = g_new0(PoolDef, 1);
        *c = *p;
        c->name = g_strdup(p->name);
        c->uuid = g_strdup(p->uuid);
        c->host = g_strdup(p->host);
        c->source_dir = g_strdup(p->source_dir);
        c->format = g_strdup(p->format);
        c->target_path = g_strdup(p->target_path);
        c->volumes = volumes_copy(p->volumes);
        return c;
}

bool pooldef_equal(const PoolDef *a, const PoolDef *b) {
        if (a == b)
                return true;
        if (!a || !b)
                return false;
        return g_strcmp0(a->name, b->name) == 0 &&
                g_strcmp0(a->uuid, b->uuid) == 0 &&
                g_strcmp0(a->host, b->host) == 0 &&
                g_strcmp0(a->source_dir, b->source_dir) == 0 &&
                g_strcmp0(a->format, b->format) == 0 &&
                a->protocol_ver == b->protocol_ver &&
                g_strcmp0(a->target_path, b->target_path) == 0 &&
                a->mode == b->mode &&
                a->owner == b->owner &&
                a->group == b->group;
}

/* ---- validation ---- */

static bool uuid_is_lower_case(const char *uuid) {
        for (const char *c = uuid; *c; c++)
                if (g_ascii_isupper(*c))
                        return false;
        return true;
}

/* Absolute, in the canonical form libvirt keeps (it strips trailing and doubled slashes from the
 * target path, so anything else would never compare equal to what `virsh pool-dumpxml` prints),
 * and free of what seed 000 forbids. */
static int validate_path(const char *what, const char *path, GError **error) {
        if (!path || !*path)
                return np_fail(error, EINVAL, "%s is missing", what);
        /* First, so that the messages below print nothing that could break the line. */
        int r = name_validate_seed_safe(what, path, error);
        if (r < 0)
                return r;
        if (path[0] != '/')
                return np_fail(error, EINVAL, "%s \"%s\" is not absolute (it must start with \"/\")", what, path);
        if (strlen(path) >= PATH_MAX)
                return np_fail(error, EINVAL, "%s is too long (at most %d bytes)", what, PATH_MAX - 1);

        if (strcmp(path, "/") == 0)
                return 0;
        g_auto(GStrv) parts = g_strsplit(path + 1, "/", -1);
        for (char **c = parts; *c; c++)
                if (!**c || strcmp(*c, ".") == 0 || strcmp(*c, "..") == 0)
                        return np_fail(error, EINVAL,
                                       "%s \"%s\" is not in canonical form (no \"//\", \"/./\", \"/../\" or trailing \"/\")",
                                       what, path);
        return 0;
}

static int validate_id(const char *what, long id, GError **error) {
        if (id < -1 || (int64_t) id > POOLDEF_ID_MAX)
                return np_fail(error, EINVAL, "target %s %ld is out of range (-1 or 0-%" PRId64 ")", what, id,
                               POOLDEF_ID_MAX);
        return 0;
}

static int validate_volumes(const GPtrArray *volumes, GError **error) {
        if (!volumes)
                return 0;
        g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
        for (size_t i = 0; i < volumes->len; i++) {
                const PoolVolume *v = volumes->pdata[i];
                int r = name_validate_volume(v->name, error);
                if (r < 0)
                        return r;
                if (v->capacity == 0)
                        return np_fail(error, EINVAL, "volume %s: capacity 0 (a volume has a positive size)", v->name);
                if (!v->format || !*v->format)
                        return np_fail(error, EINVAL, "volume %s: format is missing", v->name);
                g_autofree char *what = g_strdup_printf("format of volume %s", v->name);
                r = name_validate_seed_safe(what, v->format, error);
                if (r < 0)
                        return r;
                if (!g_hash_table_add(seen, v->name))
                        return np_fail(error, EINVAL, "volume %s is listed twice", v->name);
        }
        return 0;
}

int pooldef_validate(const PoolDef *p, GError **error) {
        int r;

        g_return_val_if_fail(p, -EINVAL);

        if (!p->name)
                return np_fail(error, EINVAL, "pool name is missing");
        r = name_validate_share(p->name, error);
        if (r < 0)
                return r;

        if (!p->uuid || !*p->uuid)
                return np_fail(error, EINVAL, "pool uuid is missing");
        if (!g_uuid_string_is_valid(p->uuid) || !uuid_is_lower_case(p->uuid)) {
                g_autofree char *shown = g_strescape(p->uuid, NULL);
                return np_fail(error, EINVAL,
                               "invalid pool uuid \"%s\": expected 36 lower-case hexadecimal digits and dashes, "
                               "e.g. bd0a2edc-66fb-e630-d2c9-cafc85a9cd29", shown);
        }

        if (!p->host || !*p->host)
                return np_fail(error, EINVAL, "server address is missing");
        r = name_validate_seed_safe("server address", p->host, error);
        if (r < 0)
                return r;

        r = validate_path("source path", p->source_dir, error);
        if (r < 0)
                return r;

        if (!p->format || strcmp(p->format, "nfs") != 0) {
                g_autofree char *shown = g_strescape(strempty(p->format), NULL);
                return np_fail(error, EINVAL, "pool format \"%s\" is not supported; only \"nfs\" is", shown);
        }

        if (p->protocol_ver != 3 && p->protocol_ver != 0)
                return np_fail(error, EINVAL,
                               "NFS protocol version %d is not supported; use 3 (or 0 for no <protocol/>)",
                               p->protocol_ver);

        r = validate_path("target path", p->target_path, error);
        if (r < 0)
                return r;

        if (p->mode > POOLDEF_MODE_MAX)
                return np_fail(error, EINVAL, "target mode %#o is out of range (0000-7777)", p->mode);

        r = validate_id("owner", p->owner, error);
        if (r < 0)
                return r;
        r = validate_id("group", p->group, error);
        if (r < 0)
                return r;
        return validate_volumes(p->volumes, error);
}

/* ---- rendering ---- */

char *pooldef_to_xml(const PoolDef *p) {
        g_return_val_if_fail(p, NULL);

        GString *s = g_string_new(NULL);
        g_autofree char *head = g_markup_printf_escaped(
                "<pool type='netfs'>\n"
                "  <name>%s</name>\n"
                "  <uuid>%s</uuid>\n",
                strempty(p->name), strempty(p->uuid));
        g_string_append(s, head);

        if (p->has_sizes)
                g_string_append_printf(s,
                                       "  <capacity unit='bytes'>%" G_GUINT64_FORMAT "</capacity>\n"
                                       "  <allocation unit='bytes'>%" G_GUINT64_FORMAT "</allocation>\n"
                                       "  <available unit='bytes'>%" G_GUINT64_FORMAT "</available>\n",
                                       p->capacity, p->allocation, p->available);

        g_autofree char *source = g_markup_printf_escaped(
                "  <source>\n"
                "    <host name='%s'/>\n"
                "    <dir path='%s'/>\n"
                "    <format type='%s'/>\n",
                strempty(p->host), strempty(p->source_dir), strempty(p->format));
        g_string_append(s, source);
        if (p->protocol_ver != 0)
                g_string_append_printf(s, "    <protocol ver='%d'/>\n", p->protocol_ver);
        g_string_append(s, "  </source>\n");

        g_autofree char *target = g_markup_printf_escaped(
                "  <target>\n"
                "    <path>%s</path>\n",
                strempty(p->target_path));
        g_string_append(s, target);
        g_string_append_printf(s,
                               "    <permissions><mode>%04o</mode><owner>%ld</owner><group>%ld</group></permissions>\n"
                               "  </target>\n"
                               "</pool>\n",
                               p->mode, p->owner, p->group);

        return g_string_free(s, FALSE);
}

/* ---- number parsing shared by XML and JSON ---- */

static bool all_digits(const char *s, int base) {
        if (!*s)
                return false;
        for (; *s; s++)
                if (!g_ascii_isdigit(*s) || g_ascii_digit_value(*s) >= base)
                        return false;
        return true;
}

/* Octal permission bits: one or more digits 0-7 ("0700", "755"). */
static bool parse_mode(const char *s, unsigned *ret) {
        guint64 v;
        if (!all_digits(s, 8) || !g_ascii_string_to_unsigned(s, 8, 0, G_MAXUINT, &v, NULL))
                return false;
        *ret = (unsigned) v;
        return true;
}

static bool parse_u64(const char *s, uint64_t *ret) {
        guint64 v;
        if (!all_digits(s, 10) || !g_ascii_string_to_unsigned(s, 10, 0, G_MAXUINT64, &v, NULL))
                return false;
        *ret = v;
        return true;
}

static bool parse_long(const char *s, long *ret) {
        gint64 v;
        if (!all_digits(s[0] == '-' ? s + 1 : s, 10) ||
            !g_ascii_string_to_signed(s, 10, LONG_MIN, LONG_MAX, &v, NULL))
                return false;
        *ret = (long) v;
        return true;
}

/* The multiplier for a libvirt size unit, as libvirt reads it: none, "b", "byte" or "bytes" = 1;
 * K M G T P E alone or followed by "iB" = powers of 1024; followed by "B" = powers of 1000
 * (case-insensitive). Returns 0 for an unknown unit. */
static uint64_t unit_scale(const char *unit) {
        if (!unit || !*unit || g_ascii_strcasecmp(unit, "b") == 0 || g_ascii_strcasecmp(unit, "byte") == 0 ||
            g_ascii_strcasecmp(unit, "bytes") == 0)
                return 1;

        uint64_t base;
        if (!unit[1] || g_ascii_strcasecmp(unit + 1, "ib") == 0)
                base = 1024;
        else if (g_ascii_strcasecmp(unit + 1, "b") == 0)
                base = 1000;
        else
                return 0;

        const char *prefixes = "kmgtpe";
        const char *at = strchr(prefixes, g_ascii_tolower(unit[0]));
        if (!at || !unit[0])
                return 0;
        uint64_t scale = 1;
        for (const char *c = prefixes; c <= at; c++)
                scale *= base;
        return scale;
}

/* ---- XML parsing ---- */

typedef enum Elem {
        E_DOC,  /* before the root element */
        E_DONE, /* after the root element */
        E_POOL,
        E_NAME,
        E_UUID,
        E_CAPACITY,
        E_ALLOCATION,
        E_AVAILABLE,
        E_SOURCE,
        E_HOST,
        E_DIR,
        E_FORMAT,
        E_PROTOCOL,
        E_TARGET,
        E_PATH,
        E_PERMISSIONS,
        E_MODE,
        E_OWNER,
        E_GROUP,
        _E_MAX,
} Elem;

static const struct {
        Elem parent;
        const char *tag;
        bool text; /* the value is the element's text */
} elems[_E_MAX] = {
        [E_POOL]        = { E_DOC,         "pool",        false },
        [E_NAME]        = { E_POOL,        "name",        true  },
        [E_UUID]        = { E_POOL,        "uuid",        true  },
        [E_CAPACITY]    = { E_POOL,        "capacity",    true  },
        [E_ALLOCATION]  = { E_POOL,        "allocation",  true  },
        [E_AVAILABLE]   = { E_POOL,        "available",   true  },
        [E_SOURCE]      = { E_POOL,        "source",      false },
        [E_HOST]        = { E_SOURCE,      "host",        false },
        [E_DIR]         = { E_SOURCE,      "dir",         false },
        [E_FORMAT]      = { E_SOURCE,      "format",      false },
        [E_PROTOCOL]    = { E_SOURCE,      "protocol",    false },
        [E_TARGET]      = { E_POOL,        "target",      false },
        [E_PATH]        = { E_TARGET,      "path",        true  },
        [E_PERMISSIONS] = { E_TARGET,      "permissions", false },
        [E_MODE]        = { E_PERMISSIONS, "mode",        true  },
        [E_OWNER]       = { E_PERMISSIONS, "owner",       true  },
        [E_GROUP]       = { E_PERMISSIONS, "group",       true  },
};

typedef struct XmlState {
        PoolDef *def;
        Elem cur;         /* innermost known element we are in */
        unsigned skip;    /* depth inside an unknown element below `cur` (ignored) */
        bool seen[_E_MAX];
        GString *text;    /* text of the current text element */
        char *size_unit;  /* unit attribute of the current capacity/allocation/available */
} XmlState;

static gboolean xml_fail(GError **error, const char *fmt, ...) _printf_(2, 3);
static gboolean xml_fail(GError **error, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        g_autofree char *msg = g_strdup_vprintf(fmt, ap);
        va_end(ap);
        g_set_error_literal(error, NP_ERROR, EINVAL, msg);
        return FALSE;
}

static const char *find_attr(const char **names, const char **values, const char *name) {
        for (size_t i = 0; names[i]; i++)
                if (strcmp(names[i], name) == 0)
                        return values[i];
        return NULL;
}

static void xml_start(GMarkupParseContext *ctx, const char *tag, const char **names, const char **values,
                      gpointer userdata, GError **error) {
        XmlState *st = userdata;

        if (st->skip > 0) {
                st->skip++;
                return;
        }
        if (st->cur == E_DONE) {
                xml_fail(error, "element <%s> after the end of <pool>", tag);
                return;
        }

        Elem e = _E_MAX;
        for (Elem i = E_POOL; i < _E_MAX; i++)
                if (elems[i].parent == st->cur && strcmp(elems[i].tag, tag) == 0) {
                        e = i;
                        break;
                }

        if (st->cur == E_DOC && e != E_POOL) {
                xml_fail(error, "the root element is <%s>, not <pool>", tag);
                return;
        }
        if (e == _E_MAX) { /* anything libvirt may add that we do not use */
                st->skip = 1;
                return;
        }
        if (st->seen[e]) {
                xml_fail(error, "duplicate <%s> element", tag);
                return;
        }
        st->seen[e] = true;
        st->cur = e;
        if (elems[e].text)
                g_string_truncate(st->text, 0);

        const char *v;
        switch (e) {
        case E_POOL:
                v = find_attr(names, values, "type");
                if (!v)
                        xml_fail(error, "<pool> has no type attribute (expected type='netfs')");
                else if (strcmp(v, "netfs") != 0)
                        xml_fail(error, "pool type \"%s\" is not netfs", v);
                break;
        case E_CAPACITY:
        case E_ALLOCATION:
        case E_AVAILABLE:
                g_free(st->size_unit);
                st->size_unit = g_strdup(find_attr(names, values, "unit"));
                if (unit_scale(st->size_unit) == 0)
                        xml_fail(error, "<%s> has unknown unit \"%s\" (use bytes, KiB, MiB, GiB, ...)", tag,
                                 st->size_unit);
                break;
        case E_HOST:
        case E_DIR:
        case E_FORMAT:
        case E_PROTOCOL: {
                static const char *const attr[_E_MAX] = {
                        [E_HOST] = "name", [E_DIR] = "path", [E_FORMAT] = "type", [E_PROTOCOL] = "ver",
                };
                v = find_attr(names, values, attr[e]);
                if (!v) {
                        xml_fail(error, "<%s> has no %s attribute", tag, attr[e]);
                        break;
                }
                if (e == E_HOST)
                        st->def->host = g_strdup(v);
                else if (e == E_DIR)
                        st->def->source_dir = g_strdup(v);
                else if (e == E_FORMAT) {
                        g_free(st->def->format);
                        st->def->format = g_strdup(v);
                } else {
                        uint64_t ver;
                        if (!parse_u64(v, &ver) || ver > INT_MAX)
                                xml_fail(error, "<protocol> ver \"%s\" is not a version number", v);
                        else
                                st->def->protocol_ver = (int) ver;
                }
                break;
        }
        default:
                break;
        }
}

static void xml_end_text(XmlState *st, Elem e, GError **error) {
        PoolDef *p = st->def;

        switch (e) {
        case E_NAME:
                p->name = g_strdup(st->text->str);
                return;
        case E_UUID:
                p->uuid = g_strdup(st->text->str);
                return;
        case E_PATH:
                p->target_path = g_strdup(st->text->str);
                return;
        default:
                break;
        }

        /* Numbers: surrounding white space is allowed, as libvirt allows it. */
        g_autofree char *t = g_strstrip(g_strdup(st->text->str));
        const char *tag = elems[e].tag;
        switch (e) {
        case E_CAPACITY:
        case E_ALLOCATION:
        case E_AVAILABLE: {
                uint64_t v, scale = unit_scale(st->size_unit);
                if (!parse_u64(t, &v)) {
                        xml_fail(error, "<%s> \"%s\" is not a non-negative integer", tag, t);
                        return;
                }
                if (scale > 1 && v > G_MAXUINT64 / scale) {
                        xml_fail(error, "<%s> %s %s is too large", tag, t, st->size_unit);
                        return;
                }
                v *= scale;
                p->has_sizes = true;
                if (e == E_CAPACITY)
                        p->capacity = v;
                else if (e == E_ALLOCATION)
                        p->allocation = v;
                else
                        p->available = v;
                return;
        }
        case E_MODE:
                if (!parse_mode(t, &p->mode))
                        xml_fail(error, "<mode> \"%s\" is not an octal number", t);
                return;
        case E_OWNER:
        case E_GROUP:
                if (!parse_long(t, e == E_OWNER ? &p->owner : &p->group))
                        xml_fail(error, "<%s> \"%s\" is not a number", tag, t);
                return;
        default:
                g_assert_not_reached();
        }
}

static void xml_end(GMarkupParseContext *ctx, const char *tag, gpointer userdata, GError **error) {
        XmlState *st = userdata;

        if (st->skip > 0) {
                st->skip--;
                return;
        }
        Elem e = st->cur;
        g_assert(e >= E_POOL && e < _E_MAX);
        if (elems[e].text)
                xml_end_text(st, e, error);
        st->cur = e == E_POOL ? E_DONE : elems[e].parent;
}

static void xml_text(GMarkupParseContext *ctx, const char *text, gsize len, gpointer userdata,
                     GError **error) {
        XmlState *st = userdata;

        if (st->skip == 0 && st->cur >= E_POOL && elems[st->cur].text)
                g_string_append_len(st->text, text, (gssize) len);
}

/* GMarkup's own messages start with "Error on line L char C: "; we print the position ourselves. */
static const char *strip_markup_position(const char *msg) {
        if (g_str_has_prefix(msg, "Error on line ")) {
                const char *colon = strstr(msg, ": ");
                if (colon)
                        return colon + 2;
        }
        return msg;
}

/* GMarkup refuses bytes that are not UTF-8 itself, but GLib 2.74 mishandles them in a CDATA
 * section: it sets its error twice (and warns on stderr), or sets it and still returns TRUE. So
 * they are refused first, with the position GMarkup would give. */
static int check_utf8(const char *xml, GError **error) {
        const char *end = NULL;
        if (g_utf8_validate(xml, -1, &end))
                return 0;
        int line = 1, col = 1;
        for (const char *c = xml; c < end; c = g_utf8_next_char(c)) {
                if (*c == '\n') {
                        line++;
                        col = 1;
                } else
                        col++;
        }
        return np_fail(error, EINVAL, "invalid pool XML at line %d:%d: not valid UTF-8", line, col);
}

int pooldef_from_xml(const char *xml, PoolDef **ret, GError **error) {
        static const GMarkupParser parser = {
                .start_element = xml_start,
                .end_element = xml_end,
                .text = xml_text,
        };

        g_return_val_if_fail(xml, -EINVAL);
        g_return_val_if_fail(ret, -EINVAL);

        int r = check_utf8(xml, error);
        if (r < 0)
                return r;

        g_autoptr(PoolDef) def = pooldef_new();
        def->protocol_ver = 0; /* no <protocol/> element */
        /* libvirt's default format for netfs pools without <format/> is "auto". */
        g_free(def->format);
        def->format = g_strdup("auto");

        g_autoptr(GString) text = g_string_new(NULL);
        XmlState st = {
                .def = def,
                .cur = E_DOC,
                .text = text,
        };
        g_autoptr(GMarkupParseContext) ctx =
                g_markup_parse_context_new(&parser, G_MARKUP_TREAT_CDATA_AS_TEXT, &st, NULL);
        g_autoptr(GError) perr = NULL;
        /* GLib 2.74's GMarkup can set an error and still return TRUE (bytes that are not UTF-8 in
         * a CDATA section with G_MARKUP_TREAT_CDATA_AS_TEXT): an error set is a failure, and
         * end_parse must not be given it (it would set another one over it). */
        bool ok = g_markup_parse_context_parse(ctx, xml, -1, &perr) && !perr &&
                g_markup_parse_context_end_parse(ctx, &perr);
        g_free(st.size_unit);
        if (!ok) {
                int line = 0, col = 0;
                g_markup_parse_context_get_position(ctx, &line, &col);
                const char *detail = perr->domain == G_MARKUP_ERROR ? strip_markup_position(perr->message)
                                                                     : perr->message;
                /* GMarkup may quote the offending bytes: keep the message valid UTF-8 and one line. */
                g_autofree char *one_line = g_strdelimit(g_utf8_make_valid(detail, -1), "\r\n", ' ');
                return np_fail(error, EINVAL, "invalid pool XML at line %d:%d: %s", line, col, one_line);
        }

        if (!def->name)
                return np_fail(error, EINVAL, "invalid pool XML: missing <name>");
        if (!def->uuid)
                return np_fail(error, EINVAL, "invalid pool XML: missing <uuid>");
        if (!def->host)
                return np_fail(error, EINVAL, "invalid pool XML: missing <source><host name='...'/>");
        if (!def->source_dir)
                return np_fail(error, EINVAL, "invalid pool XML: missing <source><dir path='...'/>");
        if (!def->target_path)
                return np_fail(error, EINVAL, "invalid pool XML: missing <target><path>");

        *ret = TAKE_PTR(def);
        return 0;
}

/* Only the root element matters: stop the parse right after it (an error ends GMarkup early). */
static void type_start(GMarkupParseContext *ctx, const char *tag, const char **names, const char **values,
                       gpointer userdata, GError **error) {
        char **type = userdata;

        if (strcmp(tag, "pool") != 0) {
                xml_fail(error, "the root element is <%s>, not <pool>", tag);
                return;
        }
        const char *v = find_attr(names, values, "type");
        if (!v) {
                xml_fail(error, "<pool> has no type attribute");
                return;
        }
        *type = g_strdup(v);
        g_set_error_literal(error, G_MARKUP_ERROR, G_MARKUP_ERROR_EMPTY, "found");
}

int pooldef_xml_type(const char *xml, char **ret_type, GError **error) {
        static const GMarkupParser parser = { .start_element = type_start };

        g_return_val_if_fail(xml, -EINVAL);
        g_return_val_if_fail(ret_type, -EINVAL);

        int r = check_utf8(xml, error);
        if (r < 0)
                return r;

        g_autofree char *type = NULL;
        g_autoptr(GMarkupParseContext) ctx = g_markup_parse_context_new(&parser, 0, &type, NULL);
        g_autoptr(GError) perr = NULL;
        /* As in pooldef_from_xml(): an error set is a failure even when GMarkup returned TRUE. */
        bool ok = g_markup_parse_context_parse(ctx, xml, -1, &perr) && !perr &&
                g_markup_parse_context_end_parse(ctx, &perr);
        if (type) {
                *ret_type = TAKE_PTR(type);
                return 0;
        }
        if (ok)
                return np_fail(error, EINVAL, "invalid pool XML: no <pool> element");
        const char *detail = perr->domain == G_MARKUP_ERROR ? strip_markup_position(perr->message) : perr->message;
        g_autofree char *one_line = g_strdelimit(g_utf8_make_valid(detail, -1), "\r\n", ' ');
        return np_fail(error, EINVAL, "invalid pool XML: %s", one_line);
}

/* ---- JSON ---- */

static json_object *json_size(uint64_t v) {
        return v <= (uint64_t) INT64_MAX ? json_object_new_int64((int64_t) v) : json_object_new_uint64(v);
}

json_object *pooldef_to_json(const PoolDef *p) {
        g_return_val_if_fail(p, NULL);

        json_object *o = json_object_new_object();
        json_object_object_add(o, "name", json_object_new_string(strempty(p->name)));
        json_object_object_add(o, "uuid", json_object_new_string(strempty(p->uuid)));
        json_object_object_add(o, "host", json_object_new_string(strempty(p->host)));
        json_object_object_add(o, "source_path", json_object_new_string(strempty(p->source_dir)));
        json_object_object_add(o, "target_path", json_object_new_string(strempty(p->target_path)));
        json_object_object_add(o, "format", json_object_new_string(strempty(p->format)));
        json_object_object_add(o, "protocol_version", json_object_new_int(p->protocol_ver));
        g_autofree char *mode = g_strdup_printf("%04o", p->mode);
        json_object_object_add(o, "mode", json_object_new_string(mode));
        json_object_object_add(o, "owner", json_object_new_int64(p->owner));
        json_object_object_add(o, "group", json_object_new_int64(p->group));
        if (p->has_sizes) {
                json_object_object_add(o, "capacity", json_size(p->capacity));
                json_object_object_add(o, "allocation", json_size(p->allocation));
                json_object_object_add(o, "available", json_size(p->available));
        }
        if (p->volumes) {
                json_object *a = json_object_new_array_ext((int) p->volumes->len);
                for (size_t i = 0; i < p->volumes->len; i++) {
                        const PoolVolume *v = p->volumes->pdata[i];
                        json_object *jv = json_object_new_object();
                        json_object_object_add(jv, "name", json_object_new_string(strempty(v->name)));
                        json_object_object_add(jv, "capacity", json_size(v->capacity));
                        json_object_object_add(jv, "format", json_object_new_string(strempty(v->format)));
                        json_object_array_add(a, jv);
                }
                json_object_object_add(o, "volumes", a);
        }
        return o;
}

static int json_get(json_object *obj, const char *key, json_type type, const char *what, json_object **ret,
                    GError **error) {
        json_object *v;
        if (!json_object_object_get_ex(obj, key, &v))
                return np_fail(error, EINVAL, "pool definition JSON: missing key \"%s\"", key);
        if (!json_object_is_type(v, type))
                return np_fail(error, EINVAL, "pool definition JSON: key \"%s\" must be %s", key, what);
        *ret = v;
        return 0;
}

static int json_get_string(json_object *obj, const char *key, char **ret, GError **error) {
        json_object *v;
        int r = json_get(obj, key, json_type_string, "a string", &v, error);
        if (r < 0)
                return r;
        *ret = g_strdup(json_object_get_string(v));
        return 0;
}

static int json_get_int(json_object *obj, const char *key, int64_t min, int64_t max, int64_t *ret,
                        GError **error) {
        json_object *v;
        int r = json_get(obj, key, json_type_int, "an integer", &v, error);
        if (r < 0)
                return r;
        int64_t i = json_object_get_int64(v);
        /* json-c clamps values beyond int64 to INT64_MAX (and keeps larger ones as uint64). */
        if (i < min || i > max || (i == INT64_MAX && json_object_get_uint64(v) != (uint64_t) INT64_MAX))
                return np_fail(error, EINVAL, "pool definition JSON: key \"%s\" is out of range (%" PRId64 "-%" PRId64 ")",
                               key, min, max);
        *ret = i;
        return 0;
}

static int json_get_size(json_object *obj, const char *key, bool *found, uint64_t *ret, GError **error) {
        json_object *v;
        if (!json_object_object_get_ex(obj, key, &v) || !v)
                return 0; /* absent or null: no sizes */
        if (!json_object_is_type(v, json_type_int))
                return np_fail(error, EINVAL, "pool definition JSON: key \"%s\" must be an integer", key);
        if (json_object_get_int64(v) < 0)
                return np_fail(error, EINVAL, "pool definition JSON: key \"%s\" must not be negative", key);
        *ret = json_object_get_uint64(v);
        *found = true;
        return 0;
}

/* One element of "volumes": {"name": string, "capacity": integer >= 1, "format": string}. `i` is
 * its 0-based position, named in a message while the name is not known. */
static int volume_from_json(json_object *o, size_t i, PoolVolume **ret, GError **error) {
        if (!json_object_is_type(o, json_type_object))
                return np_fail(error, EINVAL, "pool definition JSON: volume #%zu is not an object", i + 1);

        json_object *name, *cap, *fmt;
        if (!json_object_object_get_ex(o, "name", &name))
                return np_fail(error, EINVAL, "pool definition JSON: volume #%zu: missing key \"name\"", i + 1);
        if (!json_object_is_type(name, json_type_string))
                return np_fail(error, EINVAL, "pool definition JSON: volume #%zu: key \"name\" must be a string", i + 1);
        /* Shown only once it is known to be printable, as validation would show it. */
        g_autoptr(GError) bad_name = NULL;
        const char *n = json_object_get_string(name);
        g_autofree char *who = name_validate_volume(n, &bad_name) < 0 ? g_strdup_printf("volume #%zu", i + 1)
                                                                       : g_strdup_printf("volume %s", n);

        if (!json_object_object_get_ex(o, "capacity", &cap))
                return np_fail(error, EINVAL, "pool definition JSON: %s: missing key \"capacity\"", who);
        if (!json_object_is_type(cap, json_type_int))
                return np_fail(error, EINVAL, "pool definition JSON: %s: key \"capacity\" must be an integer", who);
        if (json_object_get_int64(cap) < 1)
                return np_fail(error, EINVAL, "pool definition JSON: %s: key \"capacity\" must be a positive integer", who);

        if (!json_object_object_get_ex(o, "format", &fmt))
                return np_fail(error, EINVAL, "pool definition JSON: %s: missing key \"format\"", who);
        if (!json_object_is_type(fmt, json_type_string))
                return np_fail(error, EINVAL, "pool definition JSON: %s: key \"format\" must be a string", who);

        *ret = pool_volume_new(n, json_object_get_uint64(cap), json_object_get_string(fmt));
        return 0;
}

static int json_get_volumes(json_object *obj, GPtrArray **ret, GError **error) {
        json_object *a;
        if (!json_object_object_get_ex(obj, "volumes", &a) || !a) {
                *ret = NULL; /* absent or null: the server does not report volumes */
                return 0;
        }
        if (!json_object_is_type(a, json_type_array))
                return np_fail(error, EINVAL, "pool definition JSON: key \"volumes\" must be an array");
        size_t n = json_object_array_length(a);
        g_autoptr(GPtrArray) volumes = g_ptr_array_new_full(n, (GDestroyNotify) pool_volume_free);
        for (size_t i = 0; i < n; i++) {
                PoolVolume *v = NULL;
                int r = volume_from_json(json_object_array_get_idx(a, i), i, &v, error);
                if (r < 0)
                        return r;
                g_ptr_array_add(volumes, v);
        }
        *ret = TAKE_PTR(volumes);
        return 0;
}

int pooldef_from_json(json_object *obj, PoolDef **ret, GError **error) {
        int r;

        g_return_val_if_fail(ret, -EINVAL);

        if (!json_object_is_type(obj, json_type_object))
                return np_fail(error, EINVAL, "pool definition JSON: not an object");

        g_autoptr(PoolDef) p = g_new0(PoolDef, 1);
        const struct {
                const char *key;
                char **dest;
        } strings[] = {
                { "name",        &p->name        },
                { "uuid",        &p->uuid        },
                { "host",        &p->host        },
                { "source_path", &p->source_dir  },
                { "target_path", &p->target_path },
                { "format",      &p->format      },
        };
        for (size_t i = 0; i < ELEMENTSOF(strings); i++) {
                r = json_get_string(obj, strings[i].key, strings[i].dest, error);
                if (r < 0)
                        return r;
        }

        int64_t v;
        r = json_get_int(obj, "protocol_version", 0, INT_MAX, &v, error);
        if (r < 0)
                return r;
        p->protocol_ver = (int) v;

        json_object *m;
        r = json_get(obj, "mode", json_type_string, "an octal string like \"0700\"", &m, error);
        if (r < 0)
                return r;
        if (!parse_mode(json_object_get_string(m), &p->mode)) {
                /* The server's bytes: escaped, so the message stays one line of UTF-8. */
                g_autofree char *shown = g_strescape(json_object_get_string(m), NULL);
                return np_fail(error, EINVAL, "pool definition JSON: key \"mode\" must be an octal string like \"0700\", not \"%s\"",
                               shown);
        }

        r = json_get_int(obj, "owner", LONG_MIN, LONG_MAX, &v, error);
        if (r < 0)
                return r;
        p->owner = (long) v;
        r = json_get_int(obj, "group", LONG_MIN, LONG_MAX, &v, error);
        if (r < 0)
                return r;
        p->group = (long) v;

        r = json_get_size(obj, "capacity", &p->has_sizes, &p->capacity, error);
        if (r < 0)
                return r;
        r = json_get_size(obj, "allocation", &p->has_sizes, &p->allocation, error);
        if (r < 0)
                return r;
        r = json_get_size(obj, "available", &p->has_sizes, &p->available, error);
        if (r < 0)
                return r;
        r = json_get_volumes(obj, &p->volumes, error);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(p);
        return 0;
}
