/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>

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
        g_autoptr(GError) spawn_error = NULL;
        int wait_status = 0;
        bool setup = o->n_fds || o->max_memory;
        if (!g_spawn_sync(NULL, args, NULL, o->discard_stderr ? G_SPAWN_STDERR_TO_DEV_NULL : G_SPAWN_DEFAULT,
                          setup ? child_setup : NULL, (gpointer) o, &out, o->discard_stderr ? NULL : &err,
                          &wait_status, &spawn_error))
                return np_fail(error, spawn_error->code == G_SPAWN_ERROR_NOENT ? ENOENT : EIO,
                               "%s: cannot run: %s", argv[0], spawn_error->message);

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
