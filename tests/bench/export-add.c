/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * export-add: bench-exports.sh's driver (built with the tests, never run by them). Measures the
 * export server's operations directly through the export-server table (server/export_server.h),
 * as the engine calls them for one new share: set (the file rewrite) + apply_path where the
 * server has one, else apply (kernel: apply, exportfs -r; ganesha: apply_path, DisplayExport +
 * AddExport from the one block), with N other exports already served.
 *
 *   export-add CONFIG N ROUNDS
 *
 * CONFIG is an nfsprov.conf ([exports] server and its files; [shares] base). The directories
 * BASE/dNNNN (0 <= NNNN <= N) must exist on a filesystem the server can export. The N exports
 * BASE/d0000..d(N-1) are set and applied first (not timed) and synced; then ROUNDS times: BASE/dN set and
 * applied (timed), then removed and applied (timed apart: remove + apply_path, else apply, as the
 * engine deletes a share). At the end every export is removed and applied. Prints "SERVER N
 * add_ms_median add_ms_min add_ms_max set_ms_median apply_ms_median delete_ms_median";
 * errors: one line on stderr, exit 1.
 */
#include "config.h"

#include <unistd.h>

#include <stdio.h>
#include <stdlib.h>

#include "export_server.h"
#include "settings.h"

#define ID_BASE 1000 /* Export_Ids 1000 + i, as nfsprovd allocates them */

static int fail(const char *what, GError *e) {
        fprintf(stderr, "export-add: %s: %s\n", what, e ? e->message : "failed");
        return 1;
}

static int compare_doubles(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return x < y ? -1 : x > y;
}

static double median(double *v, unsigned n) {
        qsort(v, n, sizeof *v, compare_doubles);
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int set_export(const ExportServer *srv, const Config *c, unsigned i, GError **error) {
        g_autofree char *path = g_strdup_printf("%s/d%04u", c->base, i);
        char *clients[] = { "127.0.0.1", NULL };
        ExportSpec spec = {
                .path = path,
                .export_id = ID_BASE + i,
                .clients = clients,
                .options = "rw,no_root_squash,sync,no_subtree_check",
        };
        return srv->set(c, &spec, NULL, error);
}

static int remove_export(const ExportServer *srv, const Config *c, unsigned i, GError **error) {
        g_autofree char *path = g_strdup_printf("%s/d%04u", c->base, i);
        return srv->remove(c, path, NULL, error);
}

int main(int argc, char **argv) {
        if (argc != 4) {
                fprintf(stderr, "usage: export-add CONFIG N ROUNDS\n");
                return 2;
        }
        unsigned n = (unsigned) strtoul(argv[2], NULL, 10), rounds = (unsigned) strtoul(argv[3], NULL, 10);
        if (rounds == 0 || n > 9000) {
                fprintf(stderr, "export-add: N is 0-9000 and ROUNDS at least 1\n");
                return 2;
        }
        g_autoptr(GError) e = NULL;
        Config *c = NULL;
        if (config_load(argv[1], true, &c, &e) < 0)
                return fail(argv[1], e);
        const ExportServer *srv = export_server_by_name(c->export_server);
        if (!srv) {
                config_free(c);
                return fail("[exports] server", NULL);
        }

        int rc = 0;
        for (unsigned i = 0; i < n && rc == 0; i++)
                if (set_export(srv, c, i, &e) < 0)
                        rc = fail("set", e);
        if (rc == 0 && srv->apply(c, &e) < 0)
                rc = fail("apply of the N exports", e);
        sync(); /* the N files written back now, not by the flusher during the timed rounds */

        g_autofree double *add = g_new0(double, rounds);
        g_autofree double *set = g_new0(double, rounds);
        g_autofree double *apply = g_new0(double, rounds);
        g_autofree double *del = g_new0(double, rounds);
        for (unsigned r = 0; r < rounds && rc == 0; r++) {
                gint64 t0 = g_get_monotonic_time();
                if (set_export(srv, c, n, &e) < 0) {
                        rc = fail("set of the new export", e);
                        break;
                }
                gint64 t1 = g_get_monotonic_time();
                g_autofree char *path = g_strdup_printf("%s/d%04u", c->base, n);
                if ((srv->apply_path ? srv->apply_path(c, path, &e) : srv->apply(c, &e)) < 0) {
                        rc = fail("apply of the new export", e);
                        break;
                }
                gint64 t2 = g_get_monotonic_time();
                set[r] = (double) (t1 - t0) / 1000;
                apply[r] = (double) (t2 - t1) / 1000;
                add[r] = (double) (t2 - t0) / 1000;
                if (remove_export(srv, c, n, &e) < 0 ||
                    (srv->apply_path ? srv->apply_path(c, path, &e) : srv->apply(c, &e)) < 0)
                        rc = fail("remove of the new export", e);
                del[r] = (double) (g_get_monotonic_time() - t2) / 1000;
        }
        if (rc == 0) {
                double lo = add[0], hi = add[0];
                for (unsigned r = 1; r < rounds; r++) {
                        lo = MIN(lo, add[r]);
                        hi = MAX(hi, add[r]);
                }
                printf("%s %u %.2f %.2f %.2f %.2f %.2f %.2f\n", srv->name, n, median(add, rounds), lo, hi,
                       median(set, rounds), median(apply, rounds), median(del, rounds));
        }

        /* everything out again, also after a failure */
        g_clear_error(&e);
        for (unsigned i = 0; i <= n; i++)
                (void) remove_export(srv, c, i, NULL);
        if (srv->apply(c, &e) < 0 && rc == 0)
                rc = fail("apply of the removals", e);
        config_free(c);
        return rc;
}
