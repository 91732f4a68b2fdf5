/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

#include "error.h"
#include "show.h"
#include "size.h"

#define SIZE_ALLOWED \
        "use a whole number of bytes or a number with a unit K, M, G, T, P or E (binary, e.g. 512M, 10G, 1T)"

/* How many characters of the text a message shows before it cuts it off with "...". */
#define SHOW_CHARS 64

static const struct {
        char letter;
        unsigned shift;
        const char *name;
} units[] = {
        { 'K', 10, "KiB" },
        { 'M', 20, "MiB" },
        { 'G', 30, "GiB" },
        { 'T', 40, "TiB" },
        { 'P', 50, "PiB" },
        { 'E', 60, "EiB" },
};

static int size_fail(GError **error, int errnum, const char *text, const char *what) {
        g_autofree char *shown = show_text_max(text, SHOW_CHARS);
        return np_fail(error, errnum, "invalid size \"%s\": %s; " SIZE_ALLOWED, shown, what);
}

/* "", "B", or K/M/G/T/P/E optionally followed by "iB" or "B", any case. */
static int parse_unit(const char *u, unsigned *ret_shift) {
        if (*u == '\0' || g_ascii_strcasecmp(u, "B") == 0) {
                *ret_shift = 0;
                return 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(units); i++) {
                if (g_ascii_toupper(*u) != units[i].letter)
                        continue;
                const char *rest = u + 1;
                if (*rest == '\0' || g_ascii_strcasecmp(rest, "iB") == 0 || g_ascii_strcasecmp(rest, "B") == 0) {
                        *ret_shift = units[i].shift;
                        return 0;
                }
                break;
        }
        return -EINVAL;
}

/* The decimal fraction 0.<digits> times 2^shift, exactly: double the decimal digits shift times,
 * collecting the carries out of the units place. Fails unless the result is a whole number. */
static int fraction_bytes(const char *digits, size_t n, unsigned shift, uint64_t *ret) {
        uint8_t d[64];
        uint64_t v = 0;

        /* digits has no trailing zero, so as a number F it is not a multiple of 10. F * 2^shift /
         * 10^n is whole only if 5^n divides F, so F is odd, so 2^n must divide 2^shift: n <= shift
         * (at most 60 digits). */
        if (n > shift || n > sizeof d)
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                d[i] = (uint8_t) (digits[i] - '0');

        for (unsigned s = 0; s < shift; s++) {
                unsigned carry = 0;
                for (size_t i = n; i > 0; i--) {
                        unsigned x = d[i - 1] * 2u + carry;
                        d[i - 1] = (uint8_t) (x % 10);
                        carry = x / 10;
                }
                v = v * 2 + carry;
        }
        for (size_t i = 0; i < n; i++)
                if (d[i] != 0)
                        return -EINVAL;
        *ret = v;
        return 0;
}

int size_parse(const char *text, uint64_t *ret_bytes, GError **error) {
        const char *t = text ? text : "";
        const char *p = t;

        if (*p == '\0')
                return size_fail(error, EINVAL, t, "the size is empty");
        if (*p == '-')
                return size_fail(error, EINVAL, t, "the size is negative");
        if (*p == '+')
                return size_fail(error, EINVAL, t, "a sign is not allowed");
        if (g_ascii_isspace(*p))
                return size_fail(error, EINVAL, t,
                                 "white space before the number (only one space, between number and unit, is allowed)");
        if (*p == '.')
                return size_fail(error, EINVAL, t, "a digit must come before the decimal point (e.g. 0.5G)");
        if (!g_ascii_isdigit(*p))
                return size_fail(error, EINVAL, t, "it does not start with a number");

        /* Whole part; remember an overflow and report it once the syntax is known to be right. */
        uint64_t whole = 0;
        bool overflow = false;
        for (; g_ascii_isdigit(*p); p++) {
                unsigned dgt = (unsigned) (*p - '0');
                if (whole > (UINT64_MAX - dgt) / 10)
                        overflow = true;
                else
                        whole = whole * 10 + dgt;
        }

        const char *frac = p;
        size_t frac_len = 0;
        if (*p == '.') {
                frac = ++p;
                while (g_ascii_isdigit(*p))
                        p++;
                frac_len = p - frac;
                if (frac_len == 0)
                        return size_fail(error, EINVAL, t, "a decimal point must be followed by digits (e.g. 1.5G)");
        }
        if (*p == ',')
                return size_fail(error, EINVAL, t, "use \".\" as the decimal point (e.g. 1.5G)");

        /* One space between number and unit, as size_format() prints it ("10 GiB"). */
        if (*p == ' ' && g_ascii_isalpha(p[1]))
                p++;

        const char *unit = p;
        for (const char *q = unit; *q; q++)
                if (g_ascii_isspace(*q))
                        return size_fail(error, EINVAL, t,
                                         "unexpected white space (only one space, between number and unit, is allowed)");

        unsigned shift;
        if (parse_unit(unit, &shift) < 0) {
                g_autofree char *u = show_text_max(unit, SHOW_CHARS);
                g_autofree char *what = g_strdup_printf("unknown unit \"%s\"", u);
                return size_fail(error, EINVAL, t, what);
        }

        while (frac_len > 0 && frac[frac_len - 1] == '0')
                frac_len--;
        uint64_t part = 0;
        if (frac_len > 0 && fraction_bytes(frac, frac_len, shift, &part) < 0)
                return size_fail(error, EINVAL, t,
                                 "not a whole number of bytes (a fraction must come out to whole bytes, e.g. 1.5G)");

        if (overflow || whole > ((uint64_t) INT64_MAX >> shift) || part > (uint64_t) INT64_MAX - (whole << shift))
                return size_fail(error, ERANGE, t,
                                 "too large (at most 9223372036854775807 bytes, 1 byte less than 8E)");

        uint64_t bytes = (whole << shift) + part;
        if (bytes == 0)
                return size_fail(error, EINVAL, t, "the size is zero");

        if (ret_bytes)
                *ret_bytes = bytes;
        return 0;
}

char *size_format(uint64_t bytes) {
        size_t u = ELEMENTSOF(units);
        while (u > 0 && bytes < (UINT64_C(1) << units[u - 1].shift))
                u--;
        if (u == 0)
                return g_strdup_printf("%" PRIu64 " B", bytes);

        unsigned shift = units[u - 1].shift;
        uint64_t whole = bytes >> shift;
        uint64_t rest = bytes & ((UINT64_C(1) << shift) - 1);
        /* rest < 2^60, so rest * 10 fits; shifting rounds down, so the text never overstates. */
        unsigned tenth = (unsigned) ((rest * 10) >> shift);
        if (tenth == 0)
                return g_strdup_printf("%" PRIu64 " %s", whole, units[u - 1].name);
        return g_strdup_printf("%" PRIu64 ".%u %s", whole, tenth, units[u - 1].name);
}
