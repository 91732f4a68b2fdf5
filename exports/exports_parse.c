/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reads like nfs-utils 2.x does (support/nfs/xio.c: xgetc, xskip, xgettok; support/nfs/exports.c:
 * getexportent, getpath, getexport), step for step, on a buffer instead of a FILE. Where exportfs
 * would silently misread the file (stop reading it, invent an export to everybody, start a new
 * export in the middle of a line) this parser fails instead; see the comments at each check.
 */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include "error.h"
#include "exports_parse.h"

/* Buffer sizes of getexportent(): exportent.e_path is NFS_MAXPATHLEN + 1 bytes, the client
 * buffer exp[] is 512. xgettok() fails (or, for the path, getexportent() silently stops) once a
 * token fills its buffer. */
#define EXPORTS_PATH_BUF 1025
#define EXPORTS_CLIENT_BUF 512

#define NO_POS SIZE_MAX

typedef struct Parser {
        const char *text;
        size_t len;
        size_t pos;
        size_t last;          /* where the unit the last x_getc() returned started */
        const char *filename;
        size_t line_pos;      /* cache of line_at(): offset line_pos is on line line_no */
        unsigned line_no;
        size_t bs_crlf_pos;   /* first "\\\r\n" met by x_getc(), NO_POS if none */
} Parser;

typedef struct Token {
        char *text;      /* decoded; NULL when no token was read */
        size_t start;    /* offset of its first character (maybe a quote) */
        int end;         /* the character that ended it (EOF, '\n', a blank, ...) */
        size_t end_pos;  /* offset of that character */
} Token;

static void token_done(Token *t) {
        g_free(t->text);
        *t = (Token) { .start = NO_POS, .end = EOF, .end_pos = NO_POS };
}

static unsigned line_at(Parser *p, size_t off) {
        if (off > p->len)
                off = p->len;
        if (off < p->line_pos) {
                p->line_pos = 0;
                p->line_no = 1;
        }
        for (; p->line_pos < off; p->line_pos++)
                if (p->text[p->line_pos] == '\n')
                        p->line_no++;
        return p->line_no;
}

_printf_(4, 5)
static int parse_fail(Parser *p, GError **error, size_t off, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        g_autofree char *msg = g_strdup_vprintf(fmt, ap);
        va_end(ap);
        return np_fail(error, EINVAL, "%s:%u: %s", p->filename, line_at(p, off), msg);
}

/* The raw stream: getc() and ungetc() of the character just read. */
static int r_getc(Parser *p) {
        if (p->pos >= p->len)
                return EOF;
        return (unsigned char) p->text[p->pos++];
}

static void r_ungetc(Parser *p, int c) {
        if (c != EOF)
                p->pos--;
}

/* xgetc(): backslash-newline and the blanks at the start of the next line read as one ' '. */
static int x_getc(Parser *p) {
        size_t start = p->pos;
        int c = r_getc(p);

        p->last = start;
        if (c != '\\')
                return c;

        c = r_getc(p);
        if (c != '\n') {
                if (c == '\r' && p->pos < p->len && p->text[p->pos] == '\n' && p->bs_crlf_pos == NO_POS)
                        p->bs_crlf_pos = start;
                r_ungetc(p, c);
                return '\\';
        }
        while ((c = r_getc(p)) == ' ' || c == '\t')
                ;
        r_ungetc(p, c);
        return ' ';
}

/* xungetc() is only ever called with what x_getc() (or x_skipcomment()) returned last, so it
 * rewinds to where that started; reading it again gives the same character. */
static void x_ungetc(Parser *p, int c) {
        if (c != EOF)
                p->pos = p->last;
}

static int x_skipcomment(Parser *p) {
        int c;
        while ((c = r_getc(p)) != EOF && c != '\n')
                ;
        if (c != EOF)
                p->last = p->pos - 1;
        return c;
}

/* strchr(set, c) as xskip() uses it: NUL matches (the terminator of set), EOF never does. */
static bool in_set(const char *set, int c) {
        if (c == EOF)
                return false;
        return strchr(set, c) != NULL;
}

/* xskip(): skip characters of set; a '#' met here starts a comment up to the end of the line. */
static void x_skip(Parser *p, const char *set) {
        int c;
        while ((c = x_getc(p)) != EOF) {
                if (c == '#')
                        c = x_skipcomment(p);
                if (!in_set(set, c))
                        break;
        }
        x_ungetc(p, c);
}

static bool is_octal(unsigned char c) {
        return c >= '0' && c <= '7';
}

static bool is_c_space(int c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* xgettok() with sepa == 0. Returns 1 with a token, 0 when none starts here, -1 when the token
 * fills buf_size bytes (as nfs-utils counts them: quotes dropped, escapes decoded as they
 * complete). Fails (< -1) on what exportfs reads but this parser refuses. */
static int x_gettok(Parser *p, size_t buf_size, Token *ret, GError **error) {
        /* on the stack: one heap buffer per token made a 4 KiB file cost a megabyte of
         * allocations per parse */
        unsigned char tok[MAX(EXPORTS_PATH_BUF, EXPORTS_CLIENT_BUF) + 1];
        g_assert(buf_size < sizeof tok);
        size_t i = 0, start = NO_POS;
        bool quoted = false, had_quote = false;
        int c = 0;

        while (i < buf_size && (c = x_getc(p)) != EOF && (quoted || (c != '\0' && !is_c_space(c)))) {
                if (start == NO_POS)
                        start = p->last;
                if (c == '\n')
                        /* exportfs goes on reading the token on the next line. */
                        return parse_fail(p, error, start, "quote (\") left open at the end of the line");
                if (c == '"') {
                        quoted = !quoted;
                        had_quote = true;
                        continue;
                }
                tok[i++] = (unsigned char) c;
                if (i >= 4 && tok[i - 4] == '\\' && is_octal(tok[i - 3]) && is_octal(tok[i - 2]) &&
                    is_octal(tok[i - 1])) {
                        int v = (tok[i - 3] - '0') * 64 + (tok[i - 2] - '0') * 8 + (tok[i - 1] - '0');
                        if (v < 256) {
                                i -= 4;
                                tok[i++] = (unsigned char) v;
                        }
                }
        }
        if (quoted && c == EOF)
                return parse_fail(p, error, start, "quote (\") left open at the end of the line");

        if (p->bs_crlf_pos != NO_POS)
                return parse_fail(p, error, p->bs_crlf_pos,
                                  "backslash before a CRLF line end: exportfs does not read it as a line "
                                  "continuation (convert the file to LF line ends)");

        size_t end_pos = c == EOF ? p->len : p->last;
        if (c == '\n')
                x_ungetc(p, c);

        if (i == 0) {
                if (had_quote)
                        /* exportfs sees no token here: as a path it stops reading the file, right
                         * after the path it adds an export to everybody, later it ends the entry and
                         * reads the rest of the line as a new path. */
                        return parse_fail(p, error, start, "empty quoted token \"\"");
                *ret = (Token) { .start = NO_POS, .end = c, .end_pos = end_pos };
                return 0;
        }
        if (i >= buf_size) {
                *ret = (Token) { .start = start, .end = c, .end_pos = end_pos };
                return -1;
        }
        if (memchr(tok, '\0', i))
                /* nfs-utils would cut the token there. */
                return parse_fail(p, error, start, "NUL byte in a token");

        *ret = (Token) {
                .text = g_strndup((const char *) tok, i),
                .start = start,
                .end = c,
                .end_pos = end_pos,
        };
        return 1;
}

static const char *blank_name(int c) {
        switch (c) {
        case '\r':
                return "carriage return";
        case '\v':
                return "vertical tab";
        case '\f':
                return "form feed";
        default:
                return "blank";
        }
}

/* getpath(): the path of the next entry. Returns 1 with a path, 0 at the end of the file. */
static int get_path(Parser *p, Token *ret, GError **error) {
        x_skip(p, " \t\n");

        Token t = { .start = NO_POS };
        int r = x_gettok(p, EXPORTS_PATH_BUF, &t, error);
        if (r < -1)
                return r;
        if (r < 0)
                return parse_fail(p, error, t.start,
                                  "path is too long (at most %d bytes; exportfs silently stops reading "
                                  "the file here)",
                                  EXPORTS_PATH_BUF - 1);
        if (r == 0) {
                if (t.end == EOF)
                        return 0;
                /* \r, \v or \f where a line's first token would start ("\r\n" blank lines): exportfs
                 * takes it for the end of the file. */
                return parse_fail(p, error, t.end_pos,
                                  "%s at the start of a line: exportfs stops reading the file here%s",
                                  blank_name(t.end),
                                  t.end == '\r' ? " (convert the file to LF line ends)" : "");
        }
        *ret = t;
        return 1;
}

/* getexport(): the next client (or "-opts") token of the current line. 1 with a token, 0 at the
 * end of the entry. */
static int get_client(Parser *p, Token *ret, GError **error) {
        x_skip(p, " \t");

        Token t = { .start = NO_POS };
        int r = x_gettok(p, EXPORTS_CLIENT_BUF, &t, error);
        if (r < -1)
                return r;
        if (r < 0)
                return parse_fail(p, error, t.start, "client is too long (at most %d bytes)",
                                  EXPORTS_CLIENT_BUF - 1);
        if (r == 0) {
                if (t.end == EOF || t.end == '\n')
                        return 0;
                /* A \r right before the newline is harmless. Anywhere else exportfs ends the entry
                 * (or, right after the path, adds an export to everybody) and goes on reading the
                 * line. */
                if (t.end == '\r' && (p->pos >= p->len || p->text[p->pos] == '\n'))
                        return 0;
                return parse_fail(p, error, t.end_pos,
                                  "%s in the middle of a line: exportfs would end the entry here",
                                  blank_name(t.end));
        }
        *ret = t;
        return 1;
}

static int add_client(Parser *p, ExportsEntry *e, const Token *t, GError **error) {
        const char *s = t->text;

        if (s[0] == '-') {
                /* exportfs takes every "-..." token as new default options for the clients after it
                 * (and, at the end of a line, as an export to everybody); this model has one set
                 * right after the path only. */
                g_autofree char *shown = exports_path_escape(s);
                return parse_fail(p, error, t->start,
                                  "\"%s\": default options (\"-opts\") must directly follow the path",
                                  shown);
        }

        const char *open = strchr(s, '(');
        if (!open) {
                exports_entry_add_client(e, s, NULL);
                return 0;
        }

        const char *close = strchr(open + 1, ')');
        if (!close || close[1] != '\0') {
                g_autofree char *shown = exports_path_escape(s);
                return parse_fail(p, error, t->start,
                                  "bad option list in \"%s\": \"(\" needs one \")\" that ends the client",
                                  shown);
        }

        g_autofree char *host = g_strndup(s, open - s);
        g_autofree char *options = g_strndup(open + 1, close - (open + 1));
        exports_entry_add_client(e, host, options);
        return 0;
}

static int parse_entry(Parser *p, const Token *path, ExportsEntry **ret_entry, GError **error) {
        g_autoptr(ExportsEntry) e = exports_entry_new(path->text);
        e->line = line_at(p, path->start);

        _cleanup_(token_done) Token t = { .start = NO_POS };
        int r = get_client(p, &t, error);
        if (r < 0)
                return r;

        if (r > 0 && t.text[0] == '-') {
                if (t.text[1] == '\0')
                        return parse_fail(p, error, t.start, "\"-\" without default options");
                e->default_options = g_strdup(t.text + 1);
                token_done(&t);
                r = get_client(p, &t, error);
                if (r < 0)
                        return r;
        }

        while (r > 0) {
                r = add_client(p, e, &t, error);
                if (r < 0)
                        return r;
                token_done(&t);
                r = get_client(p, &t, error);
                if (r < 0)
                        return r;
        }

        *ret_entry = TAKE_PTR(e);
        return 0;
}

int exports_parse(const char *text, size_t len, const char *filename, GPtrArray **ret_entries,
                  GError **error) {
        g_return_val_if_fail(text || len == 0, -EINVAL);
        g_return_val_if_fail(ret_entries, -EINVAL);

        Parser p = {
                .text = text ?: "",
                .len = len,
                .filename = filename ?: "exports",
                .line_no = 1,
                .bs_crlf_pos = NO_POS,
        };
        g_autoptr(GPtrArray) entries = g_ptr_array_new_with_free_func((GDestroyNotify) exports_entry_free);

        for (;;) {
                _cleanup_(token_done) Token path = { .start = NO_POS };
                int r = get_path(&p, &path, error);
                if (r < 0)
                        return r;
                if (r == 0)
                        break;

                ExportsEntry *e = NULL;
                r = parse_entry(&p, &path, &e, error);
                if (r < 0)
                        return r;
                g_ptr_array_add(entries, e);
        }

        *ret_entries = TAKE_PTR(entries);
        return 0;
}
