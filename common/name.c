/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "error.h"
#include "name.h"

#define SHARE_ALLOWED "allowed: A-Z a-z 0-9 _ - (1-64 characters)"
#define VOLUME_ALLOWED "allowed: A-Z a-z 0-9 _ . - (1-255 characters, not starting with a dot)"
#define SEED_FORBIDDEN                                                                            \
        "not allowed: blank space, double-byte characters, yen marks and backslashes, double and " \
        "single quotes, semicolons, parentheses and control characters"

/* How many characters of a value a message shows before it cuts it off with "...". */
#define SHOW_SHARE_CHARS NAME_MAX_LEN
#define SHOW_VOLUME_CHARS 64
#define SHOW_VALUE_CHARS 256

/* One character of a string that may not be valid UTF-8: an invalid byte counts as one
 * character of its own. */
typedef struct Char {
        gunichar c;    /* the code point, or the byte when !valid */
        size_t len;    /* bytes it takes */
        bool valid;
} Char;

static void char_next(const char *p, const char *end, Char *ret) {
        unsigned char b = (unsigned char) *p;

        if (b < 0x80) {
                *ret = (Char) { .c = b, .len = 1, .valid = true };
                return;
        }

        gunichar c = g_utf8_get_char_validated(p, end - p);
        if (c == (gunichar) -1 || c == (gunichar) -2) {
                *ret = (Char) { .c = b, .len = 1, .valid = false };
                return;
        }
        *ret = (Char) { .c = c, .len = g_utf8_next_char(p) - p, .valid = true };
}

static bool char_is_control(const Char *ch) {
        return ch->valid && (ch->c < 0x20 || ch->c == 0x7f);
}

static bool char_is_yen(gunichar c) {
        return c == '\\' || c == 0x00a5 || c == 0xffe5;
}

/* The forbidden classes of seed 000 (BLANK .. PARENTHESIS); OK for anything else. */
static NameCharClass classify_seed(const Char *ch) {
        if (!ch->valid)
                return NAME_CHAR_OTHER;
        if (char_is_yen(ch->c))
                return NAME_CHAR_YEN;
        if (ch->len > 1)
                return NAME_CHAR_DOUBLE_BYTE;
        if (g_ascii_isspace((char) ch->c))
                return NAME_CHAR_BLANK;
        switch (ch->c) {
        case '"':
                return NAME_CHAR_DOUBLE_QUOTE;
        case '\'':
                return NAME_CHAR_SINGLE_QUOTE;
        case ';':
                return NAME_CHAR_SEMICOLON;
        case '(':
        case ')':
                return NAME_CHAR_PARENTHESIS;
        default:
                return NAME_CHAR_OK;
        }
}

static NameCharClass classify_share(const Char *ch) {
        NameCharClass k = classify_seed(ch);
        if (k != NAME_CHAR_OK)
                return k;
        if (g_ascii_isalnum((char) ch->c) || ch->c == '_' || ch->c == '-')
                return NAME_CHAR_OK;
        return NAME_CHAR_OTHER;
}

static NameCharClass classify_volume(const Char *ch) {
        if (ch->valid && ch->c == '.')
                return NAME_CHAR_OK;
        return classify_share(ch);
}

/* Append one character so that it is visible and stays on one line: control characters and
 * invalid bytes as \xNN, invisible or blank non-ASCII characters as \uNNNN. */
static void append_char(GString *s, const char *p, const Char *ch) {
        if (!ch->valid || char_is_control(ch))
                g_string_append_printf(s, "\\x%02x", (unsigned) (unsigned char) *p);
        else if (ch->len > 1 && (!g_unichar_isprint(ch->c) || g_unichar_isspace(ch->c)))
                g_string_append_printf(s, "\\u%04x", (unsigned) ch->c);
        else
                g_string_append_len(s, p, ch->len);
}

/* The value for a message: at most max_chars characters (then "..."), escaped as above. */
static char *show_value(const char *value, size_t max_chars) {
        GString *s = g_string_new(NULL);
        const char *end = value + strlen(value);
        size_t n = 0;

        for (const char *p = value; p < end; n++) {
                Char ch;
                if (n >= max_chars) {
                        g_string_append(s, "...");
                        break;
                }
                char_next(p, end, &ch);
                append_char(s, p, &ch);
                p += ch.len;
        }
        return g_string_free(s, false);
}

/* The character for a message, quoted: ("x"), or ('"') for the double quote itself. */
static char *show_char(const char *p, const Char *ch) {
        GString *s = g_string_new(NULL);
        bool dq = ch->valid && ch->c == '"';

        g_string_append_c(s, dq ? '\'' : '"');
        append_char(s, p, ch);
        g_string_append_c(s, dq ? '\'' : '"');
        return g_string_free(s, false);
}

/* "is ..." for the message about an offending character. */
static const char *describe_char(NameCharClass k, const Char *ch) {
        if (k == NAME_CHAR_OTHER) {
                if (!ch->valid)
                        return "is not valid UTF-8";
                if (char_is_control(ch))
                        return "is a control character";
                return "is not allowed";
        }
        switch (k) {
        case NAME_CHAR_BLANK:
                return "is a blank space";
        case NAME_CHAR_DOUBLE_BYTE:
                return "is a double-byte character";
        case NAME_CHAR_YEN:
                return "is a yen mark or backslash";
        case NAME_CHAR_DOUBLE_QUOTE:
                return "is a double quote";
        case NAME_CHAR_SINGLE_QUOTE:
                return "is a single quote";
        case NAME_CHAR_SEMICOLON:
                return "is a semicolon";
        case NAME_CHAR_PARENTHESIS:
                return "is a parenthesis";
        default:
                return "is not allowed";
        }
}

const char *name_char_class_to_string(NameCharClass c) {
        switch (c) {
        case NAME_CHAR_OK:
                return "allowed character";
        case NAME_CHAR_BLANK:
                return "blank space";
        case NAME_CHAR_DOUBLE_BYTE:
                return "double-byte character";
        case NAME_CHAR_YEN:
                return "yen mark or backslash";
        case NAME_CHAR_DOUBLE_QUOTE:
                return "double quote";
        case NAME_CHAR_SINGLE_QUOTE:
                return "single quote";
        case NAME_CHAR_SEMICOLON:
                return "semicolon";
        case NAME_CHAR_PARENTHESIS:
                return "parenthesis";
        case NAME_CHAR_OTHER:
                return "other character";
        }
        return "unknown character class";
}

int name_validate_share(const char *name, GError **error) {
        if (!name || !*name)
                return np_fail(error, EINVAL, "invalid share name \"\": the name is empty; " SHARE_ALLOWED);

        const char *end = name + strlen(name);
        size_t n = 0;
        Char ch;
        for (const char *p = name; p < end; p += ch.len) {
                char_next(p, end, &ch);
                n++;

                NameCharClass k = classify_share(&ch);
                if (k != NAME_CHAR_OK) {
                        g_autofree char *shown = show_value(name, SHOW_SHARE_CHARS);
                        g_autofree char *c = show_char(p, &ch);
                        return np_fail(error, EINVAL,
                                       "invalid share name \"%s\": character %zu (%s) %s; " SHARE_ALLOWED,
                                       shown, n, c, describe_char(k, &ch));
                }
        }

        if (n > NAME_MAX_LEN) {
                g_autofree char *shown = show_value(name, SHOW_SHARE_CHARS);
                return np_fail(error, EINVAL,
                               "invalid share name \"%s\": too long (%zu characters, at most %d); " SHARE_ALLOWED,
                               shown, n, NAME_MAX_LEN);
        }
        return 0;
}

int name_validate_volume(const char *name, GError **error) {
        if (!name || !*name)
                return np_fail(error, EINVAL, "invalid volume name \"\": the name is empty; " VOLUME_ALLOWED);
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
                return np_fail(error, EINVAL,
                               "invalid volume name \"%s\": it names a directory, not a volume; " VOLUME_ALLOWED,
                               name);
        if (strcmp(name, "lost+found") == 0)
                return np_fail(error, EINVAL,
                               "invalid volume name \"lost+found\": it is the file system's own directory; "
                               VOLUME_ALLOWED);

        const char *end = name + strlen(name);
        size_t n = 0;
        Char ch;
        for (const char *p = name; p < end; p += ch.len) {
                char_next(p, end, &ch);
                n++;

                NameCharClass k = classify_volume(&ch);
                if (k != NAME_CHAR_OK) {
                        g_autofree char *shown = show_value(name, SHOW_VOLUME_CHARS);
                        g_autofree char *c = show_char(p, &ch);
                        const char *what = ch.valid && ch.c == '/'
                                ? "is a slash (a volume is named without a directory)"
                                : describe_char(k, &ch);
                        return np_fail(error, EINVAL,
                                       "invalid volume name \"%s\": character %zu (%s) %s; " VOLUME_ALLOWED, shown,
                                       n, c, what);
                }
        }

        if (name[0] == '.') {
                g_autofree char *shown = show_value(name, SHOW_VOLUME_CHARS);
                return np_fail(error, EINVAL,
                               "invalid volume name \"%s\": it starts with a dot (a hidden file); " VOLUME_ALLOWED,
                               shown);
        }
        if (n > NAME_VOLUME_MAX_LEN) {
                g_autofree char *shown = show_value(name, SHOW_VOLUME_CHARS);
                return np_fail(error, EINVAL,
                               "invalid volume name \"%s\": too long (%zu characters, at most %d); " VOLUME_ALLOWED,
                               shown, n, NAME_VOLUME_MAX_LEN);
        }
        return 0;
}

int name_validate_seed_safe(const char *what, const char *value, GError **error) {
        if (!what)
                what = "value";
        if (!value)
                return np_fail(error, EINVAL, "%s is missing", what);

        const char *end = value + strlen(value);
        size_t n = 0;
        Char ch;
        for (const char *p = value; p < end; p += ch.len) {
                char_next(p, end, &ch);
                n++;

                NameCharClass k = classify_seed(&ch);
                if (k == NAME_CHAR_OK && char_is_control(&ch))
                        k = NAME_CHAR_OTHER;
                if (k != NAME_CHAR_OK) {
                        g_autofree char *shown = show_value(value, SHOW_VALUE_CHARS);
                        g_autofree char *c = show_char(p, &ch);
                        return np_fail(error, EINVAL, "invalid %s \"%s\": character %zu (%s) %s; " SEED_FORBIDDEN,
                                       what, shown, n, c, describe_char(k, &ch));
                }
        }
        return 0;
}

char *name_to_resource(const char *pool_name, GError **error) {
        if (!pool_name) {
                np_fail(error, EINVAL, "pool name is missing");
                return NULL;
        }

        const char *end = pool_name + strlen(pool_name);
        g_autofree char *r = g_malloc(end - pool_name + 1);
        size_t n = 0, i = 0;
        Char ch;
        for (const char *p = pool_name; p < end; p += ch.len) {
                char_next(p, end, &ch);
                n++;

                if (ch.len > 1 || !ch.valid) {
                        g_autofree char *shown = show_value(pool_name, SHOW_VALUE_CHARS);
                        g_autofree char *c = show_char(p, &ch);
                        np_fail(error, EINVAL,
                                "pool \"%s\" is not detected: contains a multi-byte character (character %zu, %s); "
                                "use only A-Z a-z 0-9 _ - in pool names",
                                shown, n, c);
                        return NULL;
                }
                r[i++] = g_ascii_isalnum((char) ch.c) || ch.c == '-' || ch.c == '_' ? (char) ch.c : '-';
        }
        r[i] = '\0';
        return TAKE_PTR(r);
}
