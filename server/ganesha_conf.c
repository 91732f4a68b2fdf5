/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* NFS-Ganesha's main configuration, as far as nfsprov needs it: see ganesha_conf.h. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "atomic_file.h"
#include "error.h"
#include "ganesha_conf.h"
#include "macro.h"
#include "show.h"

#define NEW_FILE_MODE 0644
#define MAX_DEPTH 64

typedef enum TokenKind { TOK_END, TOK_WORD, TOK_STRING, TOK_PUNCT } TokenKind;

typedef struct Token {
        TokenKind kind;
        size_t start, len; /* the text of a word or string (without its quotes), or the punctuation */
        size_t line;
} Token;

typedef struct Lexer {
        const char *text;
        size_t len, pos, line;
        const char *name;
} Lexer;

static bool is_punct(char c) {
        return c == '{' || c == '}' || c == '=' || c == ';' || c == ',';
}

static int next(Lexer *lx, Token *t, GError **error) {
        for (;;) {
                while (lx->pos < lx->len && g_ascii_isspace(lx->text[lx->pos]))
                        if (lx->text[lx->pos++] == '\n')
                                lx->line++;
                if (lx->pos < lx->len && lx->text[lx->pos] == '#') {
                        while (lx->pos < lx->len && lx->text[lx->pos] != '\n')
                                lx->pos++;
                        continue;
                }
                break;
        }
        *t = (Token) { .kind = TOK_END, .start = lx->pos, .line = lx->line };
        if (lx->pos >= lx->len)
                return 0;
        char c = lx->text[lx->pos];
        if (c == '\0')
                return np_fail(error, EBADMSG, "%s:%zu: a NUL byte; NFS-Ganesha's configuration is text", lx->name,
                               lx->line);
        if (is_punct(c)) {
                t->kind = TOK_PUNCT;
                t->len = 1;
                lx->pos++;
                return 0;
        }
        if (c == '"' || c == '\'') {
                const char *end = memchr(lx->text + lx->pos + 1, c, lx->len - lx->pos - 1);
                if (!end)
                        return np_fail(error, EBADMSG, "%s:%zu: a string without its closing quote", lx->name, lx->line);
                t->kind = TOK_STRING;
                t->start = lx->pos + 1;
                t->len = (size_t) (end - (lx->text + t->start));
                for (size_t i = t->start; i < t->start + t->len; i++)
                        if (lx->text[i] == '\n')
                                lx->line++;
                lx->pos = t->start + t->len + 1;
                return 0;
        }
        t->kind = TOK_WORD;
        while (lx->pos < lx->len && !g_ascii_isspace(lx->text[lx->pos]) && !is_punct(lx->text[lx->pos]) &&
               lx->text[lx->pos] != '#' && lx->text[lx->pos] != '"' && lx->text[lx->pos] != '\'' &&
               lx->text[lx->pos] != '\0')
                lx->pos++;
        t->len = lx->pos - t->start;
        return 0;
}

static bool token_is(const Lexer *lx, const Token *t, const char *word) {
        return (t->kind == TOK_WORD || t->kind == TOK_PUNCT) && t->len == strlen(word) &&
               g_ascii_strncasecmp(lx->text + t->start, word, t->len) == 0;
}

/* The file's structure as far as needed: status, and where Protocols' values end (the offset of
 * its ';', 0 when Protocols is not set) and whether it has any value. */
typedef struct Scan {
        GaneshaConfStatus st;
        size_t protocols_end;
        bool protocols_empty;
} Scan;

/* A protocol value as Ganesha reads them: 3, NFS3, V3, NFSv3 (and 4 alike). */
static int protocol_version(const char *v, size_t n) {
        g_autofree char *s = g_ascii_strdown(v, (gssize) n);
        if (g_str_equal(s, "3") || g_str_equal(s, "nfs3") || g_str_equal(s, "v3") || g_str_equal(s, "nfsv3"))
                return 3;
        if (g_str_equal(s, "4") || g_str_equal(s, "nfs4") || g_str_equal(s, "v4") || g_str_equal(s, "nfsv4"))
                return 4;
        return 0;
}

static int scan(const char *text, size_t len, const char *name, const char *include, Scan *ret, GError **error) {
        const char *nul = memchr(text, '\0', len);
        if (nul) {
                size_t line = 1;
                for (const char *p = text; p < nul; p++)
                        line += *p == '\n';
                return np_fail(error, EBADMSG, "%s:%zu: a NUL byte; NFS-Ganesha's configuration is text", name, line);
        }
        Lexer lx = { .text = text, .len = len, .line = 1, .name = name };
        Scan s = { .st = { .file_exists = true, .vers3 = true, .vers4 = true } };
        bool in_core[MAX_DEPTH + 1] = { false };
        unsigned depth = 0;
        Token prev = { 0 }, t;
        for (;;) {
                int r = next(&lx, &t, error);
                if (r < 0)
                        return r;
                if (t.kind == TOK_END)
                        break;
                if (token_is(&lx, &t, "%include")) {
                        Token path;
                        r = next(&lx, &path, error);
                        if (r < 0)
                                return r;
                        if (path.kind != TOK_WORD && path.kind != TOK_STRING)
                                return np_fail(error, EBADMSG, "%s:%zu: %%include without a file", name, t.line);
                        if (depth == 0 && path.len == strlen(include) && memcmp(text + path.start, include, path.len) == 0)
                                s.st.includes = true;
                        prev = path;
                        continue;
                }
                if (token_is(&lx, &t, "{")) {
                        if (depth == MAX_DEPTH)
                                return np_fail(error, EBADMSG, "%s:%zu: blocks nested more than %d deep", name, t.line,
                                               MAX_DEPTH);
                        if (prev.kind != TOK_WORD)
                                return np_fail(error, EBADMSG, "%s:%zu: a block without a name", name, t.line);
                        depth++;
                        in_core[depth] = depth == 1 && token_is(&lx, &prev, "NFS_CORE_PARAM");
                } else if (token_is(&lx, &t, "}")) {
                        if (depth == 0)
                                return np_fail(error, EBADMSG, "%s:%zu: a } without its block", name, t.line);
                        depth--;
                } else if (depth == 1 && in_core[1] && t.kind == TOK_WORD && token_is(&lx, &t, "Protocols")) {
                        Token eq;
                        r = next(&lx, &eq, error);
                        if (r < 0)
                                return r;
                        if (!token_is(&lx, &eq, "="))
                                return np_fail(error, EBADMSG, "%s:%zu: Protocols without =", name, t.line);
                        s.st.protocols_explicit = true;
                        s.st.vers3 = s.st.vers4 = false;
                        s.protocols_empty = true;
                        for (;;) {
                                Token v;
                                r = next(&lx, &v, error);
                                if (r < 0)
                                        return r;
                                if (token_is(&lx, &v, ";")) {
                                        s.protocols_end = v.start;
                                        break;
                                }
                                if (token_is(&lx, &v, ","))
                                        continue;
                                if (v.kind == TOK_END || v.kind == TOK_PUNCT)
                                        return np_fail(error, EBADMSG, "%s:%zu: Protocols without its ;", name, t.line);
                                s.protocols_empty = false;
                                int ver = protocol_version(text + v.start, v.len);
                                if (ver == 3)
                                        s.st.vers3 = true;
                                else if (ver == 4)
                                        s.st.vers4 = true;
                        }
                        t = (Token) { .kind = TOK_PUNCT };
                }
                prev = t;
        }
        if (depth)
                return np_fail(error, EBADMSG, "%s:%zu: a block without its }", name, lx.line);
        s.st.mount = s.st.vers3;
        *ret = s;
        return 0;
}

int ganesha_conf_parse(const char *text, size_t len, const char *name, const char *include,
                       GaneshaConfStatus *ret, GError **error) {
        Scan s;
        int r = scan(text, len, name, include, &s, error);
        if (r < 0)
                return r;
        *ret = s.st;
        return 0;
}

int ganesha_conf_read(const char *path, const char *include, GaneshaConfStatus *ret, GError **error) {
        g_autofree char *text = NULL;
        size_t len = 0;
        bool exists = false;
        int r = atomic_file_read_optional(path, &text, &len, &exists, error);
        if (r < 0)
                return r;
        if (!exists) {
                *ret = (GaneshaConfStatus) { .vers3 = true, .vers4 = true, .mount = true };
                return 0;
        }
        return ganesha_conf_parse(text, len, path, include, ret, error);
}

bool ganesha_conf_ok(const GaneshaConfStatus *s) {
        return s->includes && s->vers3 && s->mount;
}

char *ganesha_conf_problem(const GaneshaConfStatus *s, const char *path, const char *include) {
        if (!s->file_exists)
                return g_strdup_printf("%s does not exist, so NFS-Ganesha does not include %s", path, include);
        if (!s->vers3)
                return g_strdup_printf("%s: NFS_CORE_PARAM's Protocols leaves NFSv3 (and its MOUNT protocol) off", path);
        if (!s->includes)
                return g_strdup_printf("%s does not %%include \"%s\", so a restarted NFS-Ganesha serves no share", path,
                                       include);
        return NULL;
}

int ganesha_conf_edit(const char *text, size_t len, const char *name, const char *include, char **ret_text,
                      GError **error) {
        Scan s;
        int r = scan(text, len, name, include, &s, error);
        if (r < 0)
                return r;
        if (ganesha_conf_ok(&s.st)) {
                *ret_text = NULL;
                return 0;
        }
        g_autoptr(GString) out = g_string_new_len(text, (gssize) len);
        if (!s.st.vers3)
                g_string_insert(out, (gssize) s.protocols_end, s.protocols_empty ? "3" : ", 3");
        if (!s.st.includes) {
                if (out->len && out->str[out->len - 1] != '\n')
                        g_string_append_c(out, '\n');
                g_string_append_printf(out, "%%include \"%s\"\n", include);
        }
        *ret_text = g_string_free(g_steal_pointer(&out), false);
        return 0;
}

int ganesha_conf_apply(const char *path, const char *include, bool *ret_changed, GError **error) {
        g_autofree char *text = NULL;
        size_t len = 0;
        int r = atomic_file_read_optional(path, &text, &len, NULL, error);
        if (r < 0)
                return r;
        if (strchr(include, '"') || strchr(include, '\n'))
                return np_fail(error, EINVAL, "%s cannot be written in an NFS-Ganesha %%include", include);
        g_autofree char *new_text = NULL;
        r = ganesha_conf_edit(text, len, path, include, &new_text, error);
        if (r < 0)
                return r;
        if (new_text) {
                r = atomic_file_replace(path, new_text, strlen(new_text), NEW_FILE_MODE, error);
                if (r < 0)
                        return r;
        }
        if (ret_changed)
                *ret_changed = new_text != NULL;
        return 0;
}
