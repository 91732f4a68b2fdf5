/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "run.h"

void run_result_free(RunResult *r) {
        if (!r)
                return;
        g_free(r->out);
        g_free(r->err);
        g_free(r);
}

static char *find_program(const char *name) {
        if (strchr(name, '/'))
                return g_strdup(name);
        char *p = g_find_program_in_path(name);
        if (p)
                return p;
        static const char *const extra[] = { "/usr/sbin", "/sbin", "/usr/bin", "/bin" };
        for (size_t i = 0; i < ELEMENTSOF(extra); i++) {
                g_autofree char *c = g_build_filename(extra[i], name, NULL);
                if (g_file_test(c, G_FILE_TEST_IS_EXECUTABLE))
                        return TAKE_PTR(c);
        }
        return NULL;
}

/* In the child, after GLib marked every descriptor but 0-2 close-on-exec: keep the given ones
 * open; set the memory limit. */
static void child_setup(gpointer data) {
        const RunOptions *o = data;
        for (size_t i = 0; i < o->n_fds; i++)
                (void) fcntl(o->fds[i], F_SETFD, 0);
        if (o->max_memory) {
                struct rlimit rl = { .rlim_cur = o->max_memory, .rlim_max = o->max_memory };
                (void) setrlimit(RLIMIT_AS, &rl);
        }
}

int run_argv(const char *const *argv, RunResult **ret_result, GError **error) {
        return run_argv_fds(argv, NULL, 0, ret_result, error);
}

int run_argv_fds(const char *const *argv, const int *fds, size_t n_fds, RunResult **ret_result, GError **error) {
        RunOptions o = { .fds = fds, .n_fds = n_fds };
        return run_argv_opts(argv, &o, ret_result, error);
}

/* The child's end: fd to its stdout and stderr (or /dev/null), stdin from /dev/null, o->fds kept
 * at their numbers (a dup2 onto itself clears close-on-exec), every other descriptor from 3 up
 * closed, whether it is close-on-exec or not. */
static int file_actions(posix_spawn_file_actions_t *fa, const RunOptions *o, int out_w, int err_w) {
        int r = posix_spawn_file_actions_addopen(fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        if (r == 0)
                r = posix_spawn_file_actions_adddup2(fa, out_w, STDOUT_FILENO);
        if (r == 0)
                r = err_w >= 0 ? posix_spawn_file_actions_adddup2(fa, err_w, STDERR_FILENO)
                               : posix_spawn_file_actions_addopen(fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
        int highest = 2;
        for (size_t i = 0; i < o->n_fds; i++)
                highest = MAX(highest, o->fds[i]);
        for (int fd = 3; r == 0 && fd <= highest; fd++) {
                bool kept = false;
                for (size_t i = 0; i < o->n_fds; i++)
                        kept = kept || o->fds[i] == fd;
                r = kept ? posix_spawn_file_actions_adddup2(fa, fd, fd) : posix_spawn_file_actions_addclose(fa, fd);
        }
        if (r == 0)
                r = posix_spawn_file_actions_addclosefrom_np(fa, highest + 1);
        return -r;
}

static int close_fd(int fd) {
        if (fd >= 0)
                close(fd);
        return -1;
}

static void close_pair(int p[2]) {
        p[0] = close_fd(p[0]);
        p[1] = close_fd(p[1]);
}

/* Everything the child writes to its stdout and stderr, until both are closed. */
static int collect(int out, int err, GString *out_text, GString *err_text) {
        struct pollfd pfd[2] = { { .fd = out, .events = POLLIN }, { .fd = err, .events = POLLIN } };
        GString *dst[2] = { out_text, err_text };
        char buf[16384];
        while (pfd[0].fd >= 0 || pfd[1].fd >= 0) {
                if (poll(pfd, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                for (int i = 0; i < 2; i++) {
                        if (pfd[i].fd < 0 || !pfd[i].revents)
                                continue;
                        ssize_t n = read(pfd[i].fd, buf, sizeof buf);
                        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                                continue;
                        if (n <= 0)
                                pfd[i].fd = -1; /* end (or an error: nothing more to read) */
                        else
                                g_string_append_len(dst[i], buf, n);
                }
        }
        return 0;
}

/* posix_spawn (glibc: clone with CLONE_VM|CLONE_VFORK, no copy of the parent's memory map),
 * which costs a large threaded daemon far less than fork. */
static int spawn_and_wait(const char *prog, char **args, const RunOptions *o, char **ret_out, char **ret_err,
                          int *ret_status, GError **error) {
        int out[2] = { -1, -1 }, err[2] = { -1, -1 };
        if (pipe2(out, O_CLOEXEC) < 0 || (!o->discard_stderr && pipe2(err, O_CLOEXEC) < 0)) {
                int e = errno;
                close_pair(out);
                return np_fail(error, e, "%s: cannot run: pipe: %s", args[0], g_strerror(e));
        }
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        int r = file_actions(&fa, o, out[1], err[1]);
        /* the program starts with no signal blocked and the daemon's signals at their default
         * (nfsprovd blocks or handles some of them for itself) */
        posix_spawnattr_t attr;
        posix_spawnattr_init(&attr);
        sigset_t none, defaults;
        sigemptyset(&none);
        sigemptyset(&defaults);
        const int reset[] = { SIGPIPE, SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };
        for (size_t i = 0; i < ELEMENTSOF(reset); i++)
                sigaddset(&defaults, reset[i]);
        if (r == 0)
                r = -posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
        if (r == 0)
                r = -posix_spawnattr_setsigmask(&attr, &none);
        if (r == 0)
                r = -posix_spawnattr_setsigdefault(&attr, &defaults);
        pid_t pid = -1;
        if (r == 0)
                r = -posix_spawn(&pid, prog, &fa, &attr, args, environ);
        posix_spawnattr_destroy(&attr);
        posix_spawn_file_actions_destroy(&fa);
        out[1] = close_fd(out[1]);
        err[1] = close_fd(err[1]);
        if (r < 0) {
                close_pair(out);
                close_pair(err);
                return np_fail(error, -r, "%s: cannot run: %s", args[0], g_strerror(-r));
        }
        g_autoptr(GString) out_text = g_string_new(NULL);
        g_autoptr(GString) err_text = g_string_new(NULL);
        int c = collect(out[0], err[0], out_text, err_text);
        close_pair(out);
        close_pair(err);
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return np_fail(error, errno, "%s: cannot wait for it: %s", args[0], g_strerror(errno));
        if (c < 0)
                return np_fail(error, -c, "%s: cannot read its output: %s", args[0], g_strerror(-c));
        *ret_out = g_string_free(TAKE_PTR(out_text), false);
        *ret_err = g_string_free(TAKE_PTR(err_text), false);
        *ret_status = status;
        return 0;
}

int run_argv_opts(const char *const *argv, const RunOptions *o, RunResult **ret_result, GError **error) {
        g_return_val_if_fail(argv && argv[0], -EINVAL);

        g_autofree char *prog = find_program(argv[0]);
        if (!prog)
                return np_fail(error, ENOENT, "%s: program not found (searched PATH, /usr/sbin, /sbin)",
                               argv[0]);

        guint n = g_strv_length((char **) argv);
        g_autofree char **args = g_new0(char *, n + 1);
        args[0] = prog;
        for (guint i = 1; i < n; i++)
                args[i] = (char *) argv[i];

        g_autofree char *out = NULL, *err = NULL;
        int wait_status = 0;
        if (o->max_memory) {
                /* the limit is set in the child before exec: that needs fork and a child setup */
                g_autoptr(GError) spawn_error = NULL;
                if (!g_spawn_sync(NULL, args, NULL, o->discard_stderr ? G_SPAWN_STDERR_TO_DEV_NULL : G_SPAWN_DEFAULT,
                                  child_setup, (gpointer) o, &out, o->discard_stderr ? NULL : &err, &wait_status,
                                  &spawn_error))
                        return np_fail(error, spawn_error->code == G_SPAWN_ERROR_NOENT ? ENOENT : EIO,
                                       "%s: cannot run: %s", argv[0], spawn_error->message);
        } else {
                int r = spawn_and_wait(prog, args, o, &out, &err, &wait_status, error);
                if (r < 0)
                        return r;
        }

        RunResult *r = g_new0(RunResult, 1);
        if (WIFEXITED(wait_status))
                r->exit_status = WEXITSTATUS(wait_status);
        else {
                r->exit_status = -1;
                r->term_signal = WIFSIGNALED(wait_status) ? WTERMSIG(wait_status) : 0;
        }
        r->out = out ? TAKE_PTR(out) : g_strdup("");
        r->err = err ? TAKE_PTR(err) : g_strdup("");
        *ret_result = r;
        return 0;
}

char *run_first_line(const char *text) {
        if (!text)
                return g_strdup("");
        g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
        for (char **l = lines; *l; l++) {
                g_strstrip(*l);
                if (**l)
                        return g_strdup(*l);
        }
        return g_strdup("");
}

char *run_describe_status(const RunResult *r) {
        if (r->exit_status >= 0)
                return g_strdup_printf("exit status %d", r->exit_status);
        return g_strdup_printf("killed by SIG%s", r->term_signal ? sigabbrev_np(r->term_signal) : "?");
}
