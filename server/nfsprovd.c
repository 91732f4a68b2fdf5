/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * nfsprovd: the service. Loads the configuration, opens the state, reconciles every share
 * (attached, mounted, exported) and only then opens the admin API socket, so that whoever can
 * talk to it sees the shares back. Runs in the foreground (systemd style) and logs to stderr.
 *   SIGTERM, SIGINT: stop accepting, answer the requests in progress, remove the socket, exit 0.
 *   SIGHUP: re-read the configuration; a bad one is logged and the running one kept.
 * Under systemd (Type=notify, $NOTIFY_SOCKET set) it tells the manager READY=1 once reconcile is
 * done and the socket listens, RELOADING=1 ... READY=1 around a SIGHUP reload and STOPPING=1 on
 * SIGTERM/SIGINT; without $NOTIFY_SOCKET, sd_notify does nothing.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib-unix.h>
#include <glib.h>
#include <systemd/sd-daemon.h>

#include "api.h"
#include "token_file.h"
#include "engine.h"
#include "http.h"
#include "log.h"
#include "macro.h"

#define LOCK_NAME "nfsprovd.lock"

typedef struct Daemon {
        GMainLoop *loop;
        Api *api;
        const char *config_path;   /* NULL: the default (config_default_path()) */
        bool must_exist;
        const char *socket;        /* what the server listens on (changes need a restart) */
        const char *admin_group;
        const char *listen;
        const char *token_file;
        const char *tls_cert;
        const char *tls_key;
} Daemon;

static void help(void) {
        printf("Usage: nfsprovd [--config FILE]\n"
               "       nfsprovd --steps\n"
               "\n"
               "Give every NFS share its own disk, keep it mounted and exported, and serve the admin API\n"
               "on a Unix socket. Runs in the foreground and logs to stderr.\n"
               "\n"
               "  -c, --config FILE  read FILE instead of %s (or $%s)\n"
               "      --steps        print the steps of each operation (the names NFSPROV_FAULT takes)\n"
               "  -h, --help         show this help\n"
               "  -V, --version      show the version\n",
               CONFIG_DEFAULT_PATH, CONFIG_ENV_PATH);
}

static gboolean on_stop(gpointer userdata) {
        Daemon *d = userdata;
        log_info("stopping");
        (void) sd_notify(0, "STOPPING=1\nSTATUS=stopping");
        g_main_loop_quit(d->loop);
        return G_SOURCE_CONTINUE;
}

static void warn_restart(const char *key, const char *old, const char *new) {
        if (g_strcmp0(old, new) != 0)
                log_warning("reload: [server] %s changed (%s -> %s); it takes effect when nfsprovd restarts", key,
                            old ? old : "unset", new ? new : "unset");
}

/* What systemd shows as the unit's status: a single line. */
static void notify_status(const char *state, const char *text) {
        g_autofree char *line = g_strdelimit(g_strdup(text), "\n", ' ');
        (void) sd_notifyf(0, "%s%sSTATUS=%s", state ? state : "", state ? "\n" : "", line);
}

/* Re-read the configuration: 0 when it took effect. */
static int reload(Daemon *d) {
        g_autoptr(GError) error = NULL;
        Config *c = NULL;
        int r = config_load(d->config_path, d->must_exist, &c, &error);
        if (r < 0) {
                log_error("reload failed, keeping the running configuration: %s",
                          error ? error->message : g_strerror(-r));
                return r;
        }
        g_autofree char *new_socket = g_strdup(c->socket);
        g_autofree char *new_admin_group = g_strdup(c->admin_group);
        g_autofree char *new_listen = g_strdup(c->listen);
        g_autofree char *new_token_file = g_strdup(c->token_file);
        g_autofree char *new_tls_cert = g_strdup(c->tls_cert);
        g_autofree char *new_tls_key = g_strdup(c->tls_key);
        g_autofree char *path = g_strdup(c->path ? c->path : "built-in defaults");
        r = api_set_config(d->api, c, &error); /* takes c */
        if (r < 0) {
                log_error("reload failed, keeping the running configuration: %s",
                          error ? error->message : g_strerror(-r));
                return r;
        }
        warn_restart("socket", d->socket, new_socket);
        warn_restart("admin_group", d->admin_group, new_admin_group);
        warn_restart("listen", d->listen, new_listen);
        warn_restart("token_file", d->token_file, new_token_file);
        warn_restart("tls_cert", d->tls_cert, new_tls_cert);
        warn_restart("tls_key", d->tls_key, new_tls_key);
        log_info("reloaded the configuration from %s", path);
        return 0;
}

static gboolean on_reload(gpointer userdata) {
        Daemon *d = userdata;
        /* MONOTONIC_USEC: systemd >= 253 ties RELOADING=1 to this reload request with it. */
        (void) sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%" G_GINT64_FORMAT "\nSTATUS=reloading the configuration",
                          g_get_monotonic_time());
        int r = reload(d);
        g_autofree char *text = r < 0 ? g_strdup_printf("ready on %s; the last reload failed (%s), the running "
                                                        "configuration is kept", d->socket, g_strerror(-r))
                                      : g_strdup_printf("ready on %s; configuration reloaded", d->socket);
        notify_status("READY=1", text);
        return G_SOURCE_CONTINUE;
}

/* One nfsprovd per state directory: two would reconcile and change the same shares at once.
 * The lock (flock on STATE_DIR/nfsprovd.lock) goes away with the process, however it ends. */
static int lock_state_dir(const char *state_dir, int *ret_fd) {
        if (g_mkdir_with_parents(state_dir, 0700) < 0)
                return log_error_errno(errno, "cannot create the state directory %s: %s", state_dir,
                                       g_strerror(errno));
        g_autofree char *path = g_build_filename(state_dir, LOCK_NAME, NULL);
        _cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return log_error_errno(errno, "cannot open the lock file %s: %s", path, g_strerror(errno));
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                if (errno == EWOULDBLOCK)
                        return log_error_errno(EBUSY, "cannot start: another nfsprovd is running on the state in %s",
                                               state_dir);
                return log_error_errno(errno, "cannot lock %s: %s", path, g_strerror(errno));
        }
        *ret_fd = TAKE_FD(fd);
        return 0;
}

static void log_report(const char *when, const ReconcileReport *rep) {
        for (guint i = 0; i < rep->changes->len; i++)
                log_info("reconcile: %s", (const char *) g_ptr_array_index(rep->changes, i));
        for (guint i = 0; i < rep->problems->len; i++)
                log_warning("reconcile: %s", (const char *) g_ptr_array_index(rep->problems, i));
        log_info("%s: reconciled, %u change%s, %u problem%s", when, rep->changes->len,
                 rep->changes->len == 1 ? "" : "s", rep->problems->len, rep->problems->len == 1 ? "" : "s");
}

/* Long polls keep a connection per watching host open (GET /v1/pools?wait=): allow many. The
 * soft limit of open files is raised to the hard one (systemd's default 1024:524288), up to
 * 65536; libmicrohttpd polls with epoll, so descriptors above FD_SETSIZE are fine. */
#define CONNECTION_LIMIT 16384

static void raise_fd_limit(void) {
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= 65536 || rl.rlim_cur >= rl.rlim_max)
                return;
        rl.rlim_cur = MIN(rl.rlim_max, (rlim_t) 65536);
        (void) setrlimit(RLIMIT_NOFILE, &rl);
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "config", required_argument, NULL, 'c' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                { "steps", no_argument, NULL, 'S' },
                {},
        };
        const char *arg_config = NULL;
        int c;

        log_setup("nfsprovd");
        while ((c = getopt_long(argc, argv, "c:hV", options, NULL)) >= 0)
                switch (c) {
                case 'c':
                        arg_config = optarg;
                        break;
                case 'h':
                        help();
                        return EXIT_SUCCESS;
                case 'V':
                        printf("nfsprovd %s\n", PACKAGE_VERSION);
                        return EXIT_SUCCESS;
                case 'S': {
                        g_autoptr(GPtrArray) lines = NULL;
                        engine_steps(&lines);
                        for (guint i = 0; i < lines->len; i++)
                                printf("%s\n", (const char *) g_ptr_array_index(lines, i));
                        return EXIT_SUCCESS;
                }
                default:
                        fprintf(stderr, "Try 'nfsprovd --help'.\n");
                        return 2;
                }
        if (optind < argc) {
                log_error("unexpected argument \"%s\"; nfsprovd takes only options (see --help)", argv[optind]);
                return 2;
        }

        const char *env = getenv(CONFIG_ENV_PATH);
        Daemon d = {
                .config_path = arg_config,
                .must_exist = arg_config || (env && *env),
        };

        g_autoptr(GError) error = NULL;
        Config *config = NULL;
        int r = config_load(d.config_path, d.must_exist, &config, &error);
        if (r < 0) {
                log_error("%s", error ? error->message : g_strerror(-r));
                return EXIT_FAILURE;
        }
        if (!config->path)
                log_info("%s does not exist; using the built-in defaults", config_default_path());
        g_autofree char *socket_path = g_strdup(config->socket);
        g_autofree char *admin_group = g_strdup(config->admin_group);
        g_autofree char *listen_spec = g_strdup(config->listen);
        d.socket = socket_path;
        d.admin_group = admin_group;
        d.listen = listen_spec;
        g_autofree char *token_file = g_strdup(config->token_file);
        g_autofree char *tls_cert_path = g_strdup(config->tls_cert);
        g_autofree char *tls_key_path = g_strdup(config->tls_key);
        d.token_file = token_file;
        d.tls_cert = tls_cert_path;
        d.tls_key = tls_key_path;

        /* The token and TLS files: checked before anything changes. */
        g_autofree char *token = NULL, *tls_cert = NULL, *tls_key = NULL;
        if (config->token_file) {
                r = token_file_read(config->token_file, &token, &error);
                if (r < 0) {
                        log_error("cannot start: [server] token_file: %s", error->message);
                        config_free(config);
                        return EXIT_FAILURE;
                }
        }
        if (!!config->tls_cert != !!config->tls_key) {
                log_error("cannot start: [server] tls_cert and tls_key must be set together");
                config_free(config);
                return EXIT_FAILURE;
        }
        if (config->tls_cert && (!g_file_get_contents(config->tls_cert, &tls_cert, NULL, &error) ||
                                 !g_file_get_contents(config->tls_key, &tls_key, NULL, &error))) {
                log_error("cannot start: [server] tls_cert/tls_key: %s", error->message);
                config_free(config);
                return EXIT_FAILURE;
        }

        signal(SIGPIPE, SIG_IGN);

        _cleanup_close_ int lock_fd = -1;
        if (lock_state_dir(config->state_dir, &lock_fd) < 0) {
                config_free(config);
                return EXIT_FAILURE;
        }

        g_autoptr(Engine) engine = NULL;
        r = engine_new(config, &engine, &error); /* takes config when it succeeds */
        if (r < 0) {
                config_free(config);
                log_error("cannot start: %s", error ? error->message : g_strerror(-r));
                return EXIT_FAILURE;
        }

        /* Shares first: the socket opens only once they are back. */
        g_autoptr(ReconcileReport) report = NULL;
        r = engine_reconcile(engine, &report, &error);
        if (r < 0) {
                log_error("cannot start: reconcile failed: %s", error ? error->message : g_strerror(-r));
                return EXIT_FAILURE;
        }
        log_report("start", report);

        g_autoptr(Api) api = api_new(engine, report);
        d.api = api;
        const Config *cfg = engine_config(engine);
        if (token) {
                api_set_token(api, token);
                explicit_bzero(token, strlen(token));
        }
        /* Catch the signals before the socket exists, so that a stop always removes it. */
        g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, false);
        d.loop = loop;
        guint sources[] = {
                g_unix_signal_add(SIGTERM, on_stop, &d),
                g_unix_signal_add(SIGINT, on_stop, &d),
                g_unix_signal_add(SIGHUP, on_reload, &d),
        };

        size_t n_routes;
        const HttpRoute *routes = api_routes(&n_routes);
        HttpServerOptions opts = {
                .socket_path = d.socket,
                .admin_group = d.admin_group,
                .tcp_host = cfg->listen_host,
                .tcp_port = cfg->listen_port,
                .tcp_authorize = api_tcp_authorize,
                .connection_limit = CONNECTION_LIMIT,
                .connection_timeout = 30,
                .tls_cert_pem = tls_cert,
                .tls_key_pem = tls_key,
        };
        HttpServer *server = NULL;
        raise_fd_limit();
        r = http_server_start(&opts, routes, n_routes, api, &server, &error);
        if (r < 0) {
                log_error("cannot start: %s", error ? error->message : g_strerror(-r));
                for (size_t i = 0; i < G_N_ELEMENTS(sources); i++)
                        g_source_remove(sources[i]);
                return EXIT_FAILURE;
        }
        if (d.listen)
                log_info("ready on %s and %s://%s (admin over TCP %s)", d.socket, tls_cert ? "https" : "http",
                         d.listen, cfg->token_file ? "with the bearer token" : "off");
        else
                log_info("ready on %s", d.socket);
        /* The socket listens (http_server_start returned): a client connecting now is answered. */
        g_autofree char *status = g_strdup_printf("ready on %s; reconciled at start: %u change%s, %u problem%s",
                                                  d.socket, report->changes->len, report->changes->len == 1 ? "" : "s",
                                                  report->problems->len, report->problems->len == 1 ? "" : "s");
        notify_status("READY=1", status);

        g_main_loop_run(d.loop);

        for (size_t i = 0; i < G_N_ELEMENTS(sources); i++)
                g_source_remove(sources[i]);
        http_server_stop(server); /* waits for the requests in progress, removes the socket */
        api_shutdown(api);        /* after the running operation */
        log_info("stopped");
        return EXIT_SUCCESS;
}
