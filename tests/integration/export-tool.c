/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * export-tool: drives an export server's table (server/export_server.h) as the engine calls it,
 * from integration tests (not installed). CONFIG is an nfsprov.conf naming the server and its
 * files.
 *
 *   export-tool CONFIG set PATH ID CLIENT...   the export of PATH (Export_Id ID) for CLIENTs
 *   export-tool CONFIG remove PATH
 *   export-tool CONFIG apply
 *   export-tool CONFIG apply-path PATH          apply_path where the server has one, else apply
 *   export-tool CONFIG served                   the paths served now, one a line
 *   export-tool CONFIG listed                   the paths the server is told to serve, one a line
 *   export-tool CONFIG fill DIR N ID CLIENT      set DIR/d0000 .. DIR/d(N-1) (Export_Ids ID, ID+1,
 *                                               ...) for CLIENT, without applying them
 *
 * Errors: one line on stderr, "export-tool: ENAME: message" (the errno name the function
 * returned), exit 1; usage errors exit 2.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export_server.h"
#include "settings.h"

static int fail(int r, GError *e) {
        const char *name = strerrorname_np(-r);
        fprintf(stderr, "export-tool: %s: %s\n", name ? name : "E?", e ? e->message : g_strerror(-r));
        return 1;
}

static int usage(void) {
        fprintf(stderr, "usage: export-tool CONFIG set|remove|apply|apply-path|served|listed|fill ARGS (see the comment at the "
                        "top of export-tool.c)\n");
        return 2;
}

int main(int argc, char **argv) {
        g_autoptr(GError) e = NULL;
        if (argc < 3)
                return usage();
        g_autoptr(Config) c = NULL;
        int r = config_load(argv[1], true, &c, &e);
        if (r < 0)
                return fail(r, e);
        const ExportServer *srv = export_server_by_name(c->export_server);
        if (!srv)
                return fail(-EINVAL, NULL);
        const char *cmd = argv[2];
#define IS(name, n) (strcmp(cmd, name) == 0 && argc == (n))
        if (strcmp(cmd, "set") == 0 && argc >= 6) {
                char *end = NULL;
                unsigned long id = strtoul(argv[4], &end, 10);
                if (!end || *end)
                        return usage();
                ExportSpec spec = {
                        .path = argv[3],
                        .export_id = (unsigned) id,
                        .clients = argv + 5,
                        .options = c->options,
                };
                r = srv->set(c, &spec, NULL, &e);
        } else if (IS("remove", 4)) {
                r = srv->remove(c, argv[3], NULL, &e);
        } else if (IS("apply", 3)) {
                r = srv->apply(c, &e);
        } else if (IS("apply-path", 4)) {
                r = srv->apply_path ? srv->apply_path(c, argv[3], &e) : srv->apply(c, &e);
        } else if (IS("fill", 7)) {
                char *end1 = NULL, *end2 = NULL;
                unsigned long n = strtoul(argv[4], &end1, 10), id = strtoul(argv[5], &end2, 10);
                if (*end1 || *end2 || n > 9999 || id < 1 || id + n > 65536)
                        return usage();
                char *clients[] = { argv[6], NULL };
                for (unsigned long i = 0; r >= 0 && i < n; i++) {
                        g_autofree char *path = g_strdup_printf("%s/d%04lu", argv[3], i);
                        ExportSpec spec = {
                                .path = path,
                                .export_id = (unsigned) (id + i),
                                .clients = clients,
                                .options = c->options,
                        };
                        r = srv->set(c, &spec, NULL, &e);
                }
        } else if (IS("served", 3) || IS("listed", 3)) {
                g_autoptr(GPtrArray) paths = NULL;
                r = cmd[0] == 's' ? srv->served(c, &paths, &e) : srv->listed(c, &paths, &e);
                for (guint i = 0; r >= 0 && i < paths->len; i++)
                        printf("%s\n", (const char *) g_ptr_array_index(paths, i));
        } else
                return usage();
        if (r < 0)
                return fail(r, e);
        return 0;
}
