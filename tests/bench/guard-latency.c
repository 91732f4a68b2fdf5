/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tests/bench/bench-guard.sh's driver (built with the tests, never run by them).
 *
 *   guard-latency latency SOCKET SHARE DIR N PAUSE_MS
 *       N times: create DIR/gl-NNNNN (open O_CREAT|O_EXCL, close) as a foreign file, then poll
 *       GET /v1/shares/SHARE/audit over SOCKET (one kept-alive connection, a request every
 *       millisecond) until .findings[] names it: the detection latency, from just before the
 *       open to the end of the response that named it. Then unlink it and poll until no finding
 *       names it: the resolved latency, from just before the unlink. Then wait PAUSE_MS before
 *       the next create. Prints the percentiles of both, the requests made and the connections
 *       curl opened (1 when it was kept alive).
 *   guard-latency ioctl DIR N
 *       The cost of lifting and restoring FS_IMMUTABLE_FL on DIR as nfsprovd does it around its
 *       own link/rename/unlink (immutable_set(false) then immutable_set(true): a FS_IOC_GETFLAGS
 *       and a FS_IOC_SETFLAGS each), N pairs, and N pairs of the two FS_IOC_SETFLAGS alone;
 *       microseconds per pair. DIR's attribute is left as it was found.
 *
 * Exit 0 when measured, 1 on a failure (a finding not seen within 10 s, a request failing), 2 for
 * bad usage.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <glib.h>
#include <json-c/json.h>

#include "immutable.h"
#include "macro.h"

#define POLL_NS 1000000      /* a request every millisecond */
#define GIVE_UP_NS 10000000000LL /* a finding not seen (or not gone) within 10 s: a failure */

static int64_t now_ns(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_until(int64_t t) {
        struct timespec ts = { .tv_sec = t / 1000000000, .tv_nsec = t % 1000000000 };
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
                ;
}

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return (x > y) - (x < y);
}

/* Nearest rank: the smallest value with at least q of the values at or below it. */
static double pct(const double *sorted, size_t n, double q) {
        size_t k = (size_t) (q * (double) n + 0.999999);
        return sorted[k ? k - 1 : 0];
}

static void print_stats(const char *label, double *v, size_t n) {
        qsort(v, n, sizeof(*v), cmp_double);
        printf("%s: n=%zu p50=%.3f p90=%.3f p99=%.3f max=%.3f min=%.3f ms\n", label, n, pct(v, n, 0.50),
               pct(v, n, 0.90), pct(v, n, 0.99), v[n - 1], v[0]);
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata) {
        g_string_append_len(userdata, data, (gssize) (size * nmemb));
        return size * nmemb;
}

static void curl_easy_cleanupp(CURL **c) {
        if (*c)
                curl_easy_cleanup(*c);
}

typedef struct Poller {
        CURL *easy;
        GString *body;
        uint64_t requests;
} Poller;

/* One GET; *ret_found: .findings[] has an item whose path is name. 0 or -EIO (said on stderr). */
static int poll_once(Poller *p, const char *name, bool *ret_found) {
        g_string_truncate(p->body, 0);
        CURLcode c = curl_easy_perform(p->easy);
        p->requests++;
        if (c != CURLE_OK) {
                fprintf(stderr, "guard-latency: GET failed: %s\n", curl_easy_strerror(c));
                return -EIO;
        }
        long status = 0;
        curl_easy_getinfo(p->easy, CURLINFO_RESPONSE_CODE, &status);
        if (status != 200) {
                fprintf(stderr, "guard-latency: GET answered %ld: %s\n", status, p->body->str);
                return -EIO;
        }
        json_object *o = json_tokener_parse(p->body->str);
        json_object *findings = NULL;
        if (!o || !json_object_object_get_ex(o, "findings", &findings) ||
            !json_object_is_type(findings, json_type_array)) {
                fprintf(stderr, "guard-latency: not an audit: %s\n", p->body->str);
                json_object_put(o);
                return -EIO;
        }
        bool found = false;
        for (size_t i = 0; !found && i < json_object_array_length(findings); i++) {
                json_object *path = NULL;
                if (json_object_object_get_ex(json_object_array_get_idx(findings, i), "path", &path))
                        found = g_strcmp0(json_object_get_string(path), name) == 0;
        }
        json_object_put(o);
        *ret_found = found;
        return 0;
}

/* Poll every POLL_NS until name is (want) or is not (!want) a finding; *ret_at: the end of the
 * response that showed it. */
static int poll_until(Poller *p, const char *name, bool want, int64_t since, int64_t *ret_at) {
        int64_t next = now_ns();
        for (;;) {
                bool found = false;
                int r = poll_once(p, name, &found);
                if (r < 0)
                        return r;
                int64_t t = now_ns();
                if (found == want) {
                        *ret_at = t;
                        return 0;
                }
                if (t - since > GIVE_UP_NS) {
                        fprintf(stderr, "guard-latency: %s still %s after 10 s\n", name, want ? "not reported" : "reported");
                        return -ETIMEDOUT;
                }
                next += POLL_NS;
                if (next < t)
                        next = t; /* a slow answer: the next request at once, no burst after it */
                sleep_until(next);
        }
}

static int cmd_latency(const char *sock, const char *share, const char *dir, unsigned n, unsigned pause_ms) {
        _cleanup_(curl_easy_cleanupp) CURL *easy = curl_easy_init();
        g_autoptr(GString) body = g_string_new(NULL);
        g_autofree char *url = g_strdup_printf("http://localhost/v1/shares/%s/audit", share);
        if (!easy)
                return -ENOMEM;
        curl_easy_setopt(easy, CURLOPT_UNIX_SOCKET_PATH, sock);
        curl_easy_setopt(easy, CURLOPT_URL, url);
        curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(easy, CURLOPT_WRITEDATA, body);
        curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 5000L);
        Poller p = { .easy = easy, .body = body };

        /* a clean start: no finding of ours, the share audited */
        int64_t at = 0;
        int r = poll_until(&p, "gl-00000", false, now_ns(), &at);
        if (r < 0)
                return r;
        g_autofree double *found = g_new(double, n);
        g_autofree double *gone = g_new(double, n);
        uint64_t requests_found = 0;
        for (unsigned i = 0; i < n; i++) {
                char name[32];
                snprintf(name, sizeof(name), "gl-%05u", i + 1);
                g_autofree char *path = g_build_filename(dir, name, NULL);

                uint64_t before = p.requests;
                int64_t t0 = now_ns();
                _cleanup_close_ int fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
                if (fd < 0) {
                        fprintf(stderr, "guard-latency: %s: %s\n", path, strerror(errno));
                        return -errno;
                }
                close(TAKE_FD(fd));
                r = poll_until(&p, name, true, t0, &at);
                if (r < 0)
                        return r;
                found[i] = (double) (at - t0) / 1e6;
                requests_found += p.requests - before;

                int64_t t1 = now_ns();
                if (unlink(path) < 0) {
                        fprintf(stderr, "guard-latency: unlink %s: %s\n", path, strerror(errno));
                        return -errno;
                }
                r = poll_until(&p, name, false, t1, &at);
                if (r < 0)
                        return r;
                gone[i] = (double) (at - t1) / 1e6;
                if (pause_ms)
                        sleep_until(now_ns() + (int64_t) pause_ms * 1000000);
        }
        long conns = 0;
        curl_easy_getinfo(easy, CURLINFO_NUM_CONNECTS, &conns); /* new connections of the last request */
        print_stats("detected", found, n);
        print_stats("resolved", gone, n);
        printf("requests: %" PRIu64 " (%.1f per detection), new connections on the last request: %ld\n", p.requests,
               (double) requests_found / n, conns);
        return 0;
}

static int cmd_ioctl(const char *dir, unsigned n) {
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
                fprintf(stderr, "guard-latency: %s: %s\n", dir, strerror(errno));
                return -errno;
        }
        g_autoptr(GError) err = NULL;
        bool was = false;
        int r = immutable_get(fd, dir, &was, &err);
        if (r < 0 || (r = immutable_set(fd, dir, true, NULL, &err)) < 0) {
                fprintf(stderr, "guard-latency: %s\n", err->message);
                return r;
        }
        int64_t t0 = now_ns();
        for (unsigned i = 0; i < n; i++)
                if ((r = immutable_set(fd, dir, false, NULL, &err)) < 0 ||
                    (r = immutable_set(fd, dir, true, NULL, &err)) < 0) {
                        fprintf(stderr, "guard-latency: %s\n", err->message);
                        return r;
                }
        int64_t t1 = now_ns();
        int flags = 0;
        if (ioctl(fd, FS_IOC_GETFLAGS, &flags) < 0)
                return -errno;
        int off = flags & ~FS_IMMUTABLE_FL, on = flags | FS_IMMUTABLE_FL;
        int64_t t2 = now_ns();
        for (unsigned i = 0; i < n; i++)
                if (ioctl(fd, FS_IOC_SETFLAGS, &off) < 0 || ioctl(fd, FS_IOC_SETFLAGS, &on) < 0) {
                        r = -errno;
                        fprintf(stderr, "guard-latency: FS_IOC_SETFLAGS: %s\n", strerror(errno));
                        return r;
                }
        int64_t t3 = now_ns();
        if ((r = immutable_set(fd, dir, was, NULL, &err)) < 0) {
                fprintf(stderr, "guard-latency: %s\n", err->message);
                return r;
        }
        printf("lift+restore (immutable_set x2: GETFLAGS+SETFLAGS each): %.2f us per pair; SETFLAGS x2 alone: %.2f us "
               "per pair (n=%u)\n",
               (double) (t1 - t0) / 1e3 / n, (double) (t3 - t2) / 1e3 / n, n);
        return 0;
}

static bool parse_uint(const char *s, unsigned *ret) {
        char *end = NULL;
        errno = 0;
        unsigned long v = strtoul(s, &end, 10);
        if (errno || !end || *end || end == s || v > UINT32_MAX)
                return false;
        *ret = (unsigned) v;
        return true;
}

int main(int argc, char **argv) {
        unsigned n = 0, pause_ms = 0;
        int r;
        if (argc == 7 && strcmp(argv[1], "latency") == 0 && parse_uint(argv[5], &n) && n > 0 &&
            parse_uint(argv[6], &pause_ms)) {
                if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                        return 1;
                r = cmd_latency(argv[2], argv[3], argv[4], n, pause_ms);
                curl_global_cleanup();
        } else if (argc == 4 && strcmp(argv[1], "ioctl") == 0 && parse_uint(argv[3], &n) && n > 0)
                r = cmd_ioctl(argv[2], n);
        else {
                fprintf(stderr,
                        "usage: %s latency SOCKET SHARE DIR N PAUSE_MS\n"
                        "       %s ioctl DIR N\n",
                        argv[0], argv[0]);
                return 2;
        }
        return r < 0 ? 1 : 0;
}
