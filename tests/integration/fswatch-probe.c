/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fswatch-probe: drives server/fswatch.h from tests/integration/fswatch.sh and
 * tests/bench/bench-fswatch.sh (not installed).
 *
 *   fswatch-probe [COALESCE_MS]
 *       Reads commands on stdin, one a line; prints one line per event and per command on stdout:
 *         add KEY DIR    -> "ok add KEY" | "error add KEY ENAME message"  (DIR is opened, added, closed)
 *         remove KEY     -> "ok remove KEY" | "error remove KEY ENAME message"
 *         stall          -> the next callback prints "stalled KEY" and blocks until "resume"
 *         resume         -> "ok resume"
 *         echo TEXT      -> "TEXT"
 *       Each callback: "event MS KEY N NAMES FLAGS" (MS: monotonic milliseconds; N: n_events; NAMES
 *       joined by '/', "-" for none; FLAGS "lost", "mount", "lost,mount" or "-"). At end of input:
 *       fswatch_free, then "freed".
 *
 *   fswatch-probe --bench N DIR COALESCE_MS PAUSE_MS
 *       A child process creates DIR/bench-I (open O_CREAT|O_WRONLY, close) one at a time; each
 *       latency is from just before the child's open to the callback naming the file, in this
 *       process (CLOCK_MONOTONIC); PAUSE_MS between one callback and the next create. Prints
 *       "latency_ms p50 P p90 P p99 P max M n N".
 *
 * Errors: one line on stderr, exit 1; usage errors exit 2.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "fswatch.h"

static GMutex out_lock;
static GMutex stall_lock;
static GCond stall_cond;
static bool stall_armed, stalled;

static int64_t now_ns(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void out(const char *fmt, ...) _printf_(1, 2);
static void out(const char *fmt, ...) {
        va_list ap;
        g_mutex_lock(&out_lock);
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        fflush(stdout);
        g_mutex_unlock(&out_lock);
}

static void on_event(const char *key, unsigned n_events, const char *const *names, FsWatchFlags flags,
                     gint64 newest_us, void *userdata) {
        (void) userdata;
        if (newest_us <= 0 || newest_us > g_get_monotonic_time())
                abort(); /* the newest event was read before its delivery */
        g_autofree char *joined = names ? g_strjoinv("/", (char **) names) : g_strdup("-");
        out("event %.3f %s %u %s %s\n", now_ns() / 1e6, key, n_events, joined,
            flags == (FSWATCH_LOST | FSWATCH_MOUNT) ? "lost,mount" :
            flags == FSWATCH_LOST                   ? "lost" :
            flags == FSWATCH_MOUNT                  ? "mount" : "-");

        g_mutex_lock(&stall_lock);
        if (stall_armed) {
                stall_armed = false;
                stalled = true;
                out("stalled %s\n", key);
                while (stalled)
                        g_cond_wait(&stall_cond, &stall_lock);
        }
        g_mutex_unlock(&stall_lock);
}

static void report_error(const char *cmd, const char *key, int r, const GError *e) {
        const char *name = strerrorname_np(-r);
        out("error %s %s %s %s\n", cmd, key, name ? name : "E?", e ? e->message : g_strerror(-r));
}

static int run_commands(unsigned coalesce_ms) {
        g_autoptr(FsWatch) w = NULL;
        g_autoptr(GError) e = NULL;
        int r = fswatch_new(on_event, NULL, coalesce_ms, &w, &e);
        if (r < 0) {
                fprintf(stderr, "fswatch-probe: %s\n", e->message);
                return 1;
        }
        out("ready\n");

        char line[4096];
        while (fgets(line, sizeof(line), stdin)) {
                line[strcspn(line, "\n")] = '\0';
                g_auto(GStrv) arg = g_strsplit(line, " ", 3);
                guint n = g_strv_length(arg);
                g_clear_error(&e);
                if (n == 3 && strcmp(arg[0], "add") == 0) {
                        _cleanup_close_ int fd = open(arg[2], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                        if (fd < 0)
                                r = np_fail(&e, errno, "cannot open %s: %s", arg[2], g_strerror(errno));
                        else
                                r = fswatch_add(w, arg[1], fd, &e);
                        if (r < 0)
                                report_error("add", arg[1], r, e);
                        else
                                out("ok add %s\n", arg[1]);
                } else if (n == 2 && strcmp(arg[0], "remove") == 0) {
                        r = fswatch_remove(w, arg[1], &e);
                        if (r < 0)
                                report_error("remove", arg[1], r, e);
                        else
                                out("ok remove %s\n", arg[1]);
                } else if (n == 1 && strcmp(arg[0], "stall") == 0) {
                        g_mutex_lock(&stall_lock);
                        stall_armed = true;
                        g_mutex_unlock(&stall_lock);
                        out("ok stall\n");
                } else if (n == 1 && strcmp(arg[0], "resume") == 0) {
                        g_mutex_lock(&stall_lock);
                        stalled = false;
                        g_cond_broadcast(&stall_cond);
                        g_mutex_unlock(&stall_lock);
                        out("ok resume\n");
                } else if (n >= 1 && strcmp(arg[0], "echo") == 0) {
                        out("%s\n", line + strlen("echo "));
                } else {
                        fprintf(stderr, "fswatch-probe: unknown command: %s\n", line);
                        return 2;
                }
        }
        g_clear_pointer(&w, fswatch_free);
        out("freed\n");
        return 0;
}

/* --bench */
static GMutex bench_lock;
static GCond bench_cond;
static char bench_expect[64];
static int64_t bench_seen;   /* ns; 0 until the expected name is seen */

static void on_bench_event(const char *key, unsigned n_events, const char *const *names, FsWatchFlags flags,
                           gint64 newest_us, void *userdata) {
        (void) key, (void) n_events, (void) flags, (void) newest_us, (void) userdata;
        int64_t t = now_ns();
        g_mutex_lock(&bench_lock);
        for (size_t i = 0; names && names[i]; i++)
                if (bench_seen == 0 && strcmp(names[i], bench_expect) == 0) {
                        bench_seen = t;
                        g_cond_signal(&bench_cond);
                }
        g_mutex_unlock(&bench_lock);
}

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return (x > y) - (x < y);
}

static void bench_child(const char *dir, int go_fd, int t_fd) {
        char c;
        for (unsigned i = 0; read(go_fd, &c, 1) == 1; i++) {
                g_autofree char *path = g_strdup_printf("%s/bench-%u", dir, i);
                int64_t t0 = now_ns();
                int fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
                if (fd < 0)
                        t0 = -errno;
                else
                        close(fd);
                if (write(t_fd, &t0, sizeof(t0)) != sizeof(t0))
                        _exit(1);
        }
        _exit(0);
}

static int run_bench(unsigned n, const char *dir, unsigned coalesce_ms, unsigned pause_ms) {
        int go[2], tp[2];
        if (pipe2(go, O_CLOEXEC) < 0 || pipe2(tp, O_CLOEXEC) < 0) {
                perror("fswatch-probe: pipe");
                return 1;
        }
        pid_t pid = fork();
        if (pid < 0) {
                perror("fswatch-probe: fork");
                return 1;
        }
        if (pid == 0) {
                close(go[1]);
                close(tp[0]);
                bench_child(dir, go[0], tp[1]);
        }
        close(go[0]);
        close(tp[1]);

        g_autoptr(FsWatch) w = NULL;
        g_autoptr(GError) e = NULL;
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int r = fswatch_new(on_bench_event, NULL, coalesce_ms, &w, &e);
        if (r >= 0)
                r = fd < 0 ? -errno : fswatch_add(w, "bench", fd, &e);
        g_autofree double *lat = g_new(double, n);
        unsigned done = 0;
        for (; r >= 0 && done < n; done++) {
                g_mutex_lock(&bench_lock);
                snprintf(bench_expect, sizeof(bench_expect), "bench-%u", done);
                bench_seen = 0;
                g_mutex_unlock(&bench_lock);
                int64_t t0;
                if (write(go[1], "x", 1) != 1 || read(tp[0], &t0, sizeof(t0)) != sizeof(t0) || t0 < 0) {
                        fprintf(stderr, "fswatch-probe: the creating child failed at %u\n", done);
                        r = -EIO;
                        break;
                }
                g_mutex_lock(&bench_lock);
                gint64 until = g_get_monotonic_time() + 30 * G_TIME_SPAN_SECOND;
                while (bench_seen == 0 && g_cond_wait_until(&bench_cond, &bench_lock, until))
                        ;
                int64_t t1 = bench_seen;
                g_mutex_unlock(&bench_lock);
                if (t1 == 0) {
                        fprintf(stderr, "fswatch-probe: %s was not reported within 30 s\n", bench_expect);
                        r = -ETIMEDOUT;
                        break;
                }
                lat[done] = (t1 - t0) / 1e6;
                if (pause_ms)
                        g_usleep((gulong) pause_ms * 1000);
        }
        close(go[1]);
        close(tp[0]);
        waitpid(pid, NULL, 0);
        if (r < 0) {
                if (e)
                        fprintf(stderr, "fswatch-probe: %s\n", e->message);
                return 1;
        }
        qsort(lat, n, sizeof(double), cmp_double);
        out("latency_ms p50 %.3f p90 %.3f p99 %.3f max %.3f n %u\n", lat[n / 2], lat[n * 90 / 100], lat[n * 99 / 100],
            lat[n - 1], n);
        return 0;
}

int main(int argc, char **argv) {
        if (argc == 6 && strcmp(argv[1], "--bench") == 0) {
                unsigned n = (unsigned) strtoul(argv[2], NULL, 10);
                if (n == 0)
                        return 2;
                return run_bench(n, argv[3], (unsigned) strtoul(argv[4], NULL, 10), (unsigned) strtoul(argv[5], NULL, 10));
        }
        if (argc > 2) {
                fprintf(stderr, "usage: fswatch-probe [COALESCE_MS] | --bench N DIR COALESCE_MS PAUSE_MS\n");
                return 2;
        }
        return run_commands(argc == 2 ? (unsigned) strtoul(argv[1], NULL, 10) : 0);
}
