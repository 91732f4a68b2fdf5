/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include "error.h"
#include "exports_apply.h"
#include "run.h"

char **exports_apply_messages(const char *exportfs_stderr) {
        g_autoptr(GPtrArray) msgs = g_ptr_array_new_with_free_func(g_free);
        g_auto(GStrv) lines = g_strsplit(exportfs_stderr ? exportfs_stderr : "", "\n", -1);
        for (char **l = lines; *l; l++) {
                bool continuation = (**l == ' ' || **l == '\t') && msgs->len > 0;
                char *line = g_strstrip(*l);
                if (g_str_has_prefix(line, "exportfs:"))
                        line = g_strstrip(line + strlen("exportfs:"));
                if (!*line)
                        continue;
                if (continuation) {
                        char **last = (char **) &g_ptr_array_index(msgs, msgs->len - 1);
                        char *joined = g_strconcat(*last, " ", line, NULL);
                        g_free(*last);
                        *last = joined;
                } else
                        g_ptr_array_add(msgs, g_strdup(line));
        }
        g_ptr_array_add(msgs, NULL);
        return (char **) g_ptr_array_free(g_steal_pointer(&msgs), FALSE);
}

/* An error in exportfs's "FILE:LINE: what" form (warnings say "FILE [LINE]: what"). */
static bool is_located_error(const char *msg) {
        const char *colon = strchr(msg, ':');
        if (!colon || colon == msg || !g_ascii_isdigit(colon[1]))
                return false;
        const char *p = colon + 1;
        while (g_ascii_isdigit(*p))
                p++;
        return *p == ':';
}

int exports_apply(char ***ret_warnings, GError **error) {
        static const char *const argv[] = { "exportfs", "-r", NULL };
        g_autoptr(RunResult) res = NULL;

        int r = run_argv(argv, &res, error);
        if (r < 0)
                return r;

        g_auto(GStrv) msgs = exports_apply_messages(res->err);
        if (res->exit_status != 0) {
                /* Name exportfs's errors; its warnings, if any, only when there is nothing else. */
                g_autoptr(GStrvBuilder) b = g_strv_builder_new();
                for (char **m = msgs; *m; m++)
                        if (is_located_error(*m))
                                g_strv_builder_add(b, *m);
                g_auto(GStrv) errors = g_strv_builder_end(b);
                g_autofree char *how = run_describe_status(res);
                g_autofree char *joined = g_strjoinv("; ", *errors ? errors : msgs);
                return np_fail(error, EINVAL, "exportfs -r failed (%s): %s", how,
                               *joined ? joined : "no message");
        }
        if (ret_warnings)
                *ret_warnings = g_steal_pointer(&msgs);
        return 0;
}
