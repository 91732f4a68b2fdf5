/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The curl transport (server/cli_http.h): nfsprovd at a URL, http or https, with the bearer
 * token and the CA file of the target. libcurl is loaded with dlopen on the first request (as
 * systemd loads its optional libraries), so that the commands on the Unix socket do not pay for
 * its 29 libraries at every start; without libcurl a request to a URL fails with one line.
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <string.h>

#include <curl/curl.h>

#include "cli_http.h"
#include "error.h"
#include "macro.h"

#define LIBCURL "libcurl.so.4"

static CURLcode (*sym_curl_global_init)(long);
static CURL *(*sym_curl_easy_init)(void);
static CURLcode (*sym_curl_easy_setopt)(CURL *, CURLoption, ...);
static CURLcode (*sym_curl_easy_perform)(CURL *);
static CURLcode (*sym_curl_easy_getinfo)(CURL *, CURLINFO, ...);
static void (*sym_curl_easy_cleanup)(CURL *);
static const char *(*sym_curl_easy_strerror)(CURLcode);
static struct curl_slist *(*sym_curl_slist_append)(struct curl_slist *, const char *);
static void (*sym_curl_slist_free_all)(struct curl_slist *);

static int curl_load(GError **error) {
        static bool loaded;
        if (loaded)
                return 0;
        void *dl = dlopen(LIBCURL, RTLD_NOW | RTLD_LOCAL);
        if (!dl)
                return np_fail(error, ENOENT, "a request to a URL needs libcurl (%s, Debian package libcurl4): %s",
                               LIBCURL, dlerror());
        const struct {
                const char *name;
                void **sym;
        } syms[] = {
                { "curl_global_init", (void **) &sym_curl_global_init },
                { "curl_easy_init", (void **) &sym_curl_easy_init },
                { "curl_easy_setopt", (void **) &sym_curl_easy_setopt },
                { "curl_easy_perform", (void **) &sym_curl_easy_perform },
                { "curl_easy_getinfo", (void **) &sym_curl_easy_getinfo },
                { "curl_easy_cleanup", (void **) &sym_curl_easy_cleanup },
                { "curl_easy_strerror", (void **) &sym_curl_easy_strerror },
                { "curl_slist_append", (void **) &sym_curl_slist_append },
                { "curl_slist_free_all", (void **) &sym_curl_slist_free_all },
        };
        for (size_t i = 0; i < ELEMENTSOF(syms); i++) {
                *syms[i].sym = dlsym(dl, syms[i].name);
                if (!*syms[i].sym) {
                        dlclose(dl);
                        return np_fail(error, ENOENT, "%s lacks %s: %s", LIBCURL, syms[i].name, dlerror());
                }
        }
        if (sym_curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                return np_fail(error, EIO, "cannot initialize libcurl");
        loaded = true; /* never unloaded: libcurl's global state lives until the process ends */
        return 0;
}

static void curl_cleanup(CURL **c) {
        if (*c)
                sym_curl_easy_cleanup(*c);
}
static void slist_cleanup(struct curl_slist **l) {
        if (*l)
                sym_curl_slist_free_all(*l);
}
#define _cleanup_curl_ __attribute__((cleanup(curl_cleanup)))
#define _cleanup_slist_ __attribute__((cleanup(slist_cleanup)))

typedef struct Transfer {
        CURL *curl;
        const CliRequest *req;
        char *etag;         /* the final answer's ETag (header lines of interim answers dropped) */
        uint64_t offered;   /* body bytes handed to curl so far: the next read's offset (curl's own
                             * upload count lags behind what it still holds in its buffer) */
        bool head_reported;
        bool aborted;       /* a callback said stop */
} Transfer;

static void transfer_done(Transfer *t) {
        g_free(t->etag);
}

static int report_head(Transfer *t) {
        t->head_reported = true;
        CliAnswerHead head = { .content_length = -1, .etag = t->etag };
        sym_curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &head.status);
        curl_off_t cl = -1;
        if (sym_curl_easy_getinfo(t->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) == CURLE_OK && cl >= 0)
                head.content_length = (int64_t) cl;
        return t->req->on_head ? t->req->on_head(t->req->userdata, &head) : 0;
}

static size_t header_cb(char *data, size_t size, size_t n, void *userdata) {
        Transfer *t = userdata;
        size_t len = size * n;
        if (len >= 5 && strncmp(data, "HTTP/", 5) == 0)
                g_clear_pointer(&t->etag, g_free); /* a new answer begins */
        else if (len > 5 && g_ascii_strncasecmp(data, "ETag:", 5) == 0) {
                g_free(t->etag);
                t->etag = g_strstrip(g_strndup(data + 5, len - 5));
        }
        return len;
}

static size_t write_cb(char *data, size_t size, size_t n, void *userdata) {
        Transfer *t = userdata;
        size_t len = size * n;
        if ((!t->head_reported && report_head(t) < 0) ||
            (t->req->on_body && t->req->on_body(t->req->userdata, data, len) < 0)) {
                t->aborted = true;
                return 0;
        }
        return len;
}

static size_t read_cb(char *buffer, size_t size, size_t n, void *userdata) {
        Transfer *t = userdata;
        size_t want = (size_t) MIN((uint64_t) (size * n), t->req->body_length - t->offered);
        if (want == 0)
                return 0;
        ssize_t got = t->req->read_body(t->req->userdata, buffer, want, t->offered);
        if (got <= 0) {
                t->aborted = true;
                return CURL_READFUNC_ABORT;
        }
        t->offered += (uint64_t) got;
        return (size_t) got;
}

static int failed(const CliTarget *target, CURLcode code, const char *errbuf, GError **error) {
        const char *why = *errbuf ? errbuf : sym_curl_easy_strerror(code);
        if (code == CURLE_COULDNT_CONNECT || code == CURLE_COULDNT_RESOLVE_HOST)
                return np_fail(error, ECONNREFUSED, "cannot reach nfsprovd at %s: %s", target->url, why);
        if (code == CURLE_GOT_NOTHING || code == CURLE_RECV_ERROR || code == CURLE_PARTIAL_FILE ||
            code == CURLE_SEND_ERROR)
                return np_fail(error, EPIPE,
                               "nfsprovd at %s closed the connection without a complete answer (did it stop? see its log)",
                               target->url);
        return np_fail(error, EIO, "request to nfsprovd at %s failed: %s", target->url, why);
}

static int curl_perform(const CliTarget *target, const CliRequest *req, GError **error) {
        int r = curl_load(error);
        if (r < 0)
                return r;
        _cleanup_curl_ CURL *c = sym_curl_easy_init();
        if (!c)
                return np_fail(error, ENOMEM, "cannot initialize libcurl");
        g_autofree char *url = g_strdup_printf("%s%s", target->url, req->path);
        g_autofree char *auth = target->token ? g_strdup_printf("Authorization: Bearer %s", target->token) : NULL;
        g_autofree char *content_type = req->content_type ? g_strdup_printf("Content-Type: %s", req->content_type) : NULL;
        char errbuf[CURL_ERROR_SIZE] = "";
        __attribute__((cleanup(transfer_done))) Transfer t = { .curl = c, .req = req };

        _cleanup_slist_ struct curl_slist *headers = NULL;
        for (const char *const *l = req->headers; l && *l; l++)
                headers = sym_curl_slist_append(headers, *l);
        if (auth)
                headers = sym_curl_slist_append(headers, auth);
        if (content_type)
                headers = sym_curl_slist_append(headers, content_type);
        if (!req->read_body)
                headers = sym_curl_slist_append(headers, "Expect:");

        sym_curl_easy_setopt(c, CURLOPT_URL, url);
        sym_curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        if (target->ca_file)
                sym_curl_easy_setopt(c, CURLOPT_CAINFO, target->ca_file);
        sym_curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
        sym_curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
        sym_curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        sym_curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
        sym_curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
        sym_curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
        sym_curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
        sym_curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
        sym_curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
        if (req->read_body) {
                sym_curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
                sym_curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
                sym_curl_easy_setopt(c, CURLOPT_READDATA, &t);
                sym_curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t) req->body_length);
        } else if (req->content_type) {
                sym_curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body);
                sym_curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) req->body_len);
        }
        if (req->max_send_rate)
                sym_curl_easy_setopt(c, CURLOPT_MAX_SEND_SPEED_LARGE, (curl_off_t) req->max_send_rate);
        if (req->max_recv_rate)
                sym_curl_easy_setopt(c, CURLOPT_MAX_RECV_SPEED_LARGE, (curl_off_t) req->max_recv_rate);

        CURLcode code = sym_curl_easy_perform(c);
        if (t.aborted)
                return -ECANCELED;
        if (code != CURLE_OK)
                return failed(target, code, errbuf, error);
        if (!t.head_reported && report_head(&t) < 0)
                return -ECANCELED;
        return 0;
}

const CliTransport cli_transport_curl = {
        .name = "curl",
        .perform = curl_perform,
};
