/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * nfsprov-client: on a KVM host, make the libvirt netfs pools the nfsprovd servers define exist
 * (sync), confirm seed 000's checks (verify), show this host's pools (list), the orchestrator's
 * view of them (resources) and libvirt's volumes beside the servers' (volumes). Exit status: 0 everything is as the servers define
 * it, 1 something is not (drift, conflict, failed start or check), 2 bad usage, configuration or
 * definitions (nothing changed), 3 a server or libvirt cannot be reached.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "client_conf.h"
#include "error.h"
#include "host_pools.h"
#include "json_autoptr.h"
#include "log.h"
#include "nfs_probe.h"
#include "macro.h"
#include "name.h"
#include "pool_cache.h"
#include "pool_check.h"
#include "pool_sync.h"
#include "resources.h"
#include "server_url.h"
#include "server_pools.h"
#include "table.h"
#include "token_file.h"
#include "volume_compare.h"

#define EXIT_PROBLEMS 1
#define EXIT_INVALID 2
#define EXIT_UNREACHABLE 3

static struct {
        const char *config;
        GPtrArray *servers; /* char*, from --server */
        const char *connect;
        const char *token_file;
        bool dry_run;
        bool fix;
        bool json;
        bool nfs_check;
        const char *cache;  /* --cache FILE */
        bool no_cache;
} arg;

static void help(void) {
        printf("Usage: nfsprov-client [OPTIONS] COMMAND\n"
               "\n"
               "Make the libvirt netfs pools that nfsprovd servers define exist on this KVM host,\n"
               "identical on every host, persistent, autostarted, active and mounted.\n"
               "\n"
               "Commands:\n"
               "  sync        define, autostart, build and start the servers' pools; report drift\n"
               "  watch       sync, then again whenever a server's definitions change (long poll)\n"
               "  verify      check every pool against the servers' definitions (exit 0: all pass)\n"
               "  list        this host's pools with local checks\n"
               "  resources   this host's netfs pools as the orchestrator names them\n"
               "  volumes [POOL]  libvirt's volumes of each pool beside the server's\n"
               "\n"
               "Options:\n"
               "  -c, --config FILE      configuration file (default %s)\n"
               "  -s, --server URL       nfsprovd base URL, e.g. http://10.0.0.1:8740 (repeatable;\n"
               "                         replaces the configured servers)\n"
               "  -C, --connect URI      libvirt URI (default %s)\n"
               "      --token-file FILE  bearer token to send to the servers\n"
               "  -n, --dry-run          sync: print what would be done, change nothing\n"
               "      --fix              sync: redefine drifted pools and restart pools whose mount is\n"
               "                         wrong, when no running domain uses them\n"
               "      --nfs-check        sync, verify: check over NFSv3 (libnfs) that each export is\n"
               "                         served read-write to root on this host\n"
               "      --cache FILE       sync, watch: the servers' last definitions and ETags\n"
               "                         (default %s)\n"
               "      --no-cache         sync, watch: keep none (every sync fetches all); other\n"
               "                         commands never use the cache\n"
               "  -j, --json             JSON output\n"
               "  -h, --help             this text\n"
               "\n"
               "Exit status: 0 all as defined, 1 drift/conflict/failure left, 2 bad usage or input,\n"
               "3 a server or libvirt cannot be reached.\n"
               "See nfsprov-client(8).\n",
               CLIENT_CONF_DEFAULT, CLIENT_CONNECT_DEFAULT, POOL_CACHE_DEFAULT);
}

/* ---- the servers ---- */

typedef struct Wanted {
        GPtrArray *pools; /* WantedPool* */
        int status;       /* 0, or EXIT_UNREACHABLE when a server could not be asked */
        bool unchanged;   /* every server answered 304: the cached definitions are current */
} Wanted;

static void ptr_array_unref0(gpointer a) {
        if (a)
                g_ptr_array_unref(a);
}

/* The token to send, in *ret (NULL without one): 0 or the exit status after saying why. */
static int read_token(const ClientConf *conf, char **ret) {
        const char *token_file = arg.token_file ? arg.token_file : conf->token_file;
        if (token_file) {
                g_autoptr(GError) e = NULL;
                if (token_file_read(token_file, ret, &e) < 0)
                        return log_exit(EXIT_INVALID, "%s", e->message);
        }
        return 0;
}

/* One server's definitions; with a cache, asked with its ETag: on 304 the cached text is read
 * (*ret_unchanged), on 200 the answer is cached. */
static int fetch_server(const char *url, const FetchOptions *opts, PoolCache *cache, GPtrArray **ret,
                        bool *ret_unchanged, GError **error) {
        if (!cache) {
                *ret_unchanged = false;
                return server_fetch_pools(url, opts, ret, error);
        }
        const char *etag = NULL, *body = NULL;
        g_autoptr(GPtrArray) cached = NULL;
        if (pool_cache_get(cache, url, &etag, &body) < 0 || server_parse_pools(url, body, &cached, NULL) < 0)
                etag = NULL; /* no entry, or one that does not parse: ask for all */
        g_autoptr(PoolsAnswer) a = NULL;
        int r = server_fetch_pools_if(url, opts, etag, 0, &a, error);
        if (r < 0)
                return r;
        *ret_unchanged = a->not_modified;
        if (a->not_modified) {
                *ret = TAKE_PTR(cached);
                return 0;
        }
        pool_cache_set(cache, url, a->etag, a->body);
        *ret = TAKE_PTR(a->pools);
        return 0;
}

/* Ask every server. A server that cannot be reached is reported and left out (exit 3 at the
 * end); a server whose answer is invalid stops everything (exit 2, nothing changed). */
static int fetch_wanted(const ClientConf *conf, char **servers, PoolCache *cache, Wanted *ret) {
        g_autofree char *token = NULL;
        int t = read_token(conf, &token);
        if (t != 0)
                return t;
        FetchOptions opts = { .token = token, .ca_file = conf->ca_file, .timeout_s = conf->timeout_s };
        size_t n = g_strv_length(servers);
        g_autoptr(GPtrArray) answers = g_ptr_array_new_full(n, ptr_array_unref0);
        int status = 0;
        bool unchanged = cache != NULL;
        for (size_t i = 0; i < n; i++) {
                GPtrArray *defs = NULL;
                g_autoptr(GError) e = NULL;
                bool same = false;
                int r = fetch_server(servers[i], &opts, cache, &defs, &same, &e);
                unchanged = unchanged && r >= 0 && same;
                if (r == -EINVAL)
                        return log_exit(EXIT_INVALID, "%s; nothing was changed", e->message);
                if (r < 0) {
                        log_exit(EXIT_UNREACHABLE, "%s", e->message);
                        status = EXIT_UNREACHABLE;
                }
                g_ptr_array_add(answers, defs);
        }
        ret->pools = server_merge_pools((const char *const *) servers, (GPtrArray *const *) answers->pdata, n);
        ret->status = status;
        ret->unchanged = unchanged;
        if (cache) {
                g_autoptr(GError) e = NULL;
                if (pool_cache_save(cache, &e) < 0)
                        log_warning("%s (the next sync fetches every definition again)", e->message);
        }
        return 0;
}

static int open_host(const ClientConf *conf, Host **ret_host, GPtrArray **ret_pools) {
        g_autoptr(GError) e = NULL;
        g_autoptr(Host) h = NULL;
        const char *uri = arg.connect ? arg.connect : conf->connect;
        if (host_open(uri, &h, &e) < 0)
                return log_exit(EXIT_UNREACHABLE, "%s", e->message);
        if (host_list_pools(h, ret_pools, &e) < 0)
                return log_exit(EXIT_UNREACHABLE, "%s", e->message);
        *ret_host = TAKE_PTR(h);
        return 0;
}

/* What sync and verify work on: the servers' pools and this host's. */
typedef struct Session {
        GPtrArray *wanted; /* WantedPool* */
        int server_status; /* EXIT_UNREACHABLE when a server could not be asked */
        bool unchanged;    /* the definitions are the cached ones (every server: 304) */
        Host *host;
        GPtrArray *pools;  /* HostPool* */
} Session;

static void session_clear(Session *s) {
        if (s->wanted)
                g_ptr_array_unref(s->wanted);
        if (s->pools)
                g_ptr_array_unref(s->pools);
        host_close(s->host);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Session, session_clear)

/* 0, or the exit status after saying why. */
static int session_open(const ClientConf *conf, char **servers, PoolCache *cache, Session *s) {
        Wanted w = {};
        int r = fetch_wanted(conf, servers, cache, &w);
        if (r != 0)
                return r;
        s->wanted = w.pools;
        s->server_status = w.status;
        s->unchanged = w.unchanged;
        if (w.status && s->wanted->len == 0)
                return w.status; /* no server answered: nothing to compare with */
        return open_host(conf, &s->host, &s->pools);
}

static void print_json(json_object *o) {
        printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                                JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* ---- sync ---- */

static char *join_actions(const SyncResult *r) {
        g_autoptr(GString) s = g_string_new(NULL);
        for (size_t i = 0; i < r->actions->len; i++)
                g_string_append_printf(s, "%s%s", i ? ", " : "", (const char *) r->actions->pdata[i]);
        return g_string_free(g_steal_pointer(&s), FALSE);
}

static char *join_problems(const PoolStatus *st) {
        g_autoptr(GString) s = g_string_new(NULL);
        for (size_t i = 0; i < st->problems->len; i++)
                g_string_append_printf(s, "%s%s", i ? "; " : "", ((Problem *) st->problems->pdata[i])->text);
        return g_string_free(g_steal_pointer(&s), FALSE);
}

static void print_sync_line(const SyncResult *r) {
        g_autofree char *actions = join_actions(r);
        g_autofree char *problems = join_problems(r->checks);
        const char *sep = *actions ? "; " : "";
        switch (r->status) {
        case SYNC_IN_SYNC:
                break;
        case SYNC_CHANGED:
                printf("%s: %s\n", r->name, actions);
                break;
        case SYNC_WOULD_CHANGE:
                printf("%s: would %s\n", r->name, actions);
                break;
        case SYNC_DRIFT:
                printf("%s: %s%sdrift: %s%s%s%s\n", r->name, actions, sep, problems, r->note ? " (" : "",
                       r->note ? r->note : "", r->note ? ")" : "");
                break;
        case SYNC_CONFLICT:
                printf("%s: conflict: %s; left untouched\n", r->name, r->checks->conflict);
                break;
        case SYNC_FAILED:
                printf("%s: %s%sfailed: %s\n", r->name, actions, sep, r->error);
                break;
        }
}

static json_object *sync_result_json(const SyncResult *r) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "name", json_object_new_string(r->name));
        json_object_object_add(o, "uuid", json_object_new_string(r->uuid));
        json_object_object_add(o, "server", json_object_new_string(r->server));
        json_object_object_add(o, "status", json_object_new_string(sync_status_to_string(r->status)));
        json_object *a = json_object_new_array();
        for (size_t i = 0; i < r->actions->len; i++)
                json_object_array_add(a, json_object_new_string(r->actions->pdata[i]));
        json_object_object_add(o, "actions", a);
        json_object *p = json_object_new_array();
        if (r->checks->conflict) {
                json_object *c = json_object_new_object();
                json_object_object_add(c, "check", json_object_new_string("conflict"));
                json_object_object_add(c, "text", json_object_new_string(r->checks->conflict));
                json_object_array_add(p, c);
        }
        for (size_t i = 0; i < r->checks->problems->len; i++) {
                const Problem *pb = r->checks->problems->pdata[i];
                json_object *c = json_object_new_object();
                json_object_object_add(c, "check", json_object_new_string(check_to_string(pb->check)));
                json_object_object_add(c, "server", pb->want ? json_object_new_string(pb->want) : NULL);
                json_object_object_add(c, "host", pb->have ? json_object_new_string(pb->have) : NULL);
                json_object_object_add(c, "text", json_object_new_string(pb->text));
                json_object_array_add(p, c);
        }
        json_object_object_add(o, "problems", p);
        if (r->note)
                json_object_object_add(o, "note", json_object_new_string(r->note));
        if (r->error)
                json_object_object_add(o, "error", json_object_new_string(r->error));
        json_object_object_add(o, "refreshed", json_object_new_boolean(r->refreshed));
        return o;
}

static int cmd_sync(const ClientConf *conf, char **servers) {
        g_autoptr(PoolCache) cache = arg.no_cache ? NULL : pool_cache_load(arg.cache ? arg.cache : POOL_CACHE_DEFAULT);
        g_auto(Session) ses = {};
        int r = session_open(conf, servers, cache, &ses);
        if (r != 0)
                return r;
        GPtrArray *wanted = ses.wanted, *host = ses.pools;
        Host *h = ses.host;
        Wanted w = { .status = ses.server_status };

        SyncOptions opts = { .dry_run = arg.dry_run, .fix = arg.fix, .nfs_check = arg.nfs_check,
                             .unchanged = ses.unchanged };
        g_autoptr(json_object) jpools = json_object_new_array();
        size_t count[SYNC_FAILED + 1] = {};
        bool changed = false; /* some action was taken (also by a pool that then failed) */
        for (size_t i = 0; i < wanted->len; i++) {
                g_autoptr(SyncResult) res = NULL;
                g_autoptr(GError) e = NULL;
                if (pool_sync(h, wanted->pdata[i], host, &opts, &res, &e) < 0)
                        return log_exit(EXIT_UNREACHABLE, "%s", e->message);
                count[res->status]++;
                changed = changed || (!arg.dry_run && res->actions->len > 0);
                if (arg.json)
                        json_object_array_add(jpools, sync_result_json(res));
                else
                        print_sync_line(res);
        }

        size_t bad = count[SYNC_DRIFT] + count[SYNC_CONFLICT] + count[SYNC_FAILED];
        if (arg.json) {
                g_autoptr(json_object) o = json_object_new_object();
                json_object_object_add(o, "dry_run", json_object_new_boolean(arg.dry_run));
                json_object_object_add(o, "changed", json_object_new_boolean(changed));
                json_object_object_add(o, "definitions", json_object_new_string(ses.unchanged ? "unchanged" : "fetched"));
                json_object_object_add(o, "pools", json_object_get(jpools));
                json_object *sum = json_object_new_object();
                json_object_object_add(sum, "pools", json_object_new_int64((int64_t) wanted->len));
                json_object_object_add(sum, "changed", json_object_new_int64((int64_t) count[SYNC_CHANGED]));
                json_object_object_add(sum, "would_change", json_object_new_int64((int64_t) count[SYNC_WOULD_CHANGE]));
                json_object_object_add(sum, "in_sync", json_object_new_int64((int64_t) count[SYNC_IN_SYNC]));
                json_object_object_add(sum, "drift", json_object_new_int64((int64_t) count[SYNC_DRIFT]));
                json_object_object_add(sum, "conflict", json_object_new_int64((int64_t) count[SYNC_CONFLICT]));
                json_object_object_add(sum, "failed", json_object_new_int64((int64_t) count[SYNC_FAILED]));
                json_object_object_add(o, "summary", sum);
                print_json(o);
        } else if (bad == 0 && count[SYNC_CHANGED] == 0 && count[SYNC_WOULD_CHANGE] == 0)
                printf("sync: nothing to do, %u pools in sync%s\n", wanted->len,
                       ses.unchanged ? " (definitions unchanged)" : "");
        else if (ses.unchanged)
                printf("sync: definitions unchanged; %u pools: %zu %s, %zu in sync, %zu drift, %zu conflicts, %zu failed\n",
                       wanted->len, arg.dry_run ? count[SYNC_WOULD_CHANGE] : count[SYNC_CHANGED],
                       arg.dry_run ? "would change" : "changed", count[SYNC_IN_SYNC], count[SYNC_DRIFT],
                       count[SYNC_CONFLICT], count[SYNC_FAILED]);
        else
                printf("sync: %u pools: %zu %s, %zu in sync, %zu drift, %zu conflicts, %zu failed\n", wanted->len,
                       arg.dry_run ? count[SYNC_WOULD_CHANGE] : count[SYNC_CHANGED],
                       arg.dry_run ? "would change" : "changed", count[SYNC_IN_SYNC], count[SYNC_DRIFT],
                       count[SYNC_CONFLICT], count[SYNC_FAILED]);
        if (w.status)
                return w.status;
        return bad ? EXIT_PROBLEMS : 0;
}

/* ---- watch ---- */

#define WATCH_WAIT_S 300        /* each long poll: the server's cap */
#define WATCH_BACKOFF_MAX_S 60  /* retries after a connection error: 1, 2, 4, ... 60 s */

static gint watch_stop;         /* SIGTERM, SIGINT */

static void on_stop_signal(int sig) {
        g_atomic_int_set(&watch_stop, 1);
}

typedef struct Watcher {
        const char *url;
        FetchOptions opts;
        char *etag;             /* the last one seen (GThread-local) */
        GAsyncQueue *changed;   /* to the main thread: the URL of a server whose answer changed */
        GThread *thread;
} Watcher;

/* Sleep up to seconds, less when asked to stop. */
static void watch_sleep(unsigned seconds) {
        for (unsigned i = 0; i < seconds * 10 && !g_atomic_int_get(&watch_stop); i++)
                g_usleep(G_USEC_PER_SEC / 10);
}

/* One server: long polls with the last ETag; a new answer is told to the main thread. */
static gpointer watcher_main(gpointer data) {
        Watcher *w = data;
        unsigned backoff = 0;
        while (!g_atomic_int_get(&watch_stop)) {
                g_autoptr(PoolsAnswer) a = NULL;
                g_autoptr(GError) e = NULL;
                int r = server_fetch_pools_if(w->url, &w->opts, w->etag, WATCH_WAIT_S, &a, &e);
                if (r == -ECANCELED || g_atomic_int_get(&watch_stop))
                        break;
                if (r < 0) {
                        backoff = backoff ? MIN(backoff * 2, WATCH_BACKOFF_MAX_S) : 1;
                        log_warning("watch: %s; trying again in %u s", e->message, backoff);
                        watch_sleep(backoff);
                        continue;
                }
                if (backoff)
                        log_info("watch: server %s answers again", w->url);
                backoff = 0;
                if (a->not_modified)
                        continue;
                bool same = a->etag && w->etag && strcmp(a->etag, w->etag) == 0;
                g_free(w->etag);
                w->etag = g_strdup(a->etag);
                g_async_queue_push(w->changed, (gpointer) w->url);
                if (!a->etag || same) {
                        /* a server that cannot answer 304: no long poll, a sync a minute */
                        log_warning("watch: server %s does not answer conditional requests; syncing every %d s",
                                    w->url, WATCH_BACKOFF_MAX_S);
                        watch_sleep(WATCH_BACKOFF_MAX_S);
                }
        }
        return NULL;
}

/* sync, then a sync whenever a server's definitions change, until SIGTERM or SIGINT. */
static int cmd_watch(const ClientConf *conf, char **servers) {
        g_autofree char *token = NULL;
        int t = read_token(conf, &token);
        if (t != 0)
                return t;
        struct sigaction sa = { .sa_handler = on_stop_signal };
        sigemptyset(&sa.sa_mask);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);

        int r = cmd_sync(conf, servers);
        fflush(stdout);
        if (r == EXIT_INVALID)
                return r;
        g_autoptr(PoolCache) cache = arg.no_cache ? NULL : pool_cache_load(arg.cache ? arg.cache : POOL_CACHE_DEFAULT);
        g_autoptr(GAsyncQueue) changed = g_async_queue_new();
        size_t n = g_strv_length(servers);
        g_autofree Watcher *ws = g_new0(Watcher, n);
        for (size_t i = 0; i < n; i++) {
                const char *etag = NULL;
                if (cache)
                        (void) pool_cache_get(cache, servers[i], &etag, NULL);
                ws[i] = (Watcher) { .url = servers[i], .etag = g_strdup(etag), .changed = changed,
                                    .opts = { .token = token, .ca_file = conf->ca_file, .timeout_s = conf->timeout_s,
                                              .cancel = &watch_stop } };
                ws[i].thread = g_thread_new("watch", watcher_main, &ws[i]);
        }
        g_clear_pointer(&cache, pool_cache_free); /* its lock: each sync takes it */
        log_info("watch: waiting for changes of the definitions of %zu server%s", n, n == 1 ? "" : "s");
        while (!g_atomic_int_get(&watch_stop)) {
                const char *url = g_async_queue_timeout_pop(changed, G_USEC_PER_SEC / 2);
                if (!url || g_atomic_int_get(&watch_stop))
                        continue;
                while (g_async_queue_try_pop(changed))
                        ; /* one sync for every change told so far */
                log_info("watch: the definitions of %s changed: sync", url);
                r = cmd_sync(conf, servers);
                fflush(stdout);
                if (r != 0)
                        log_warning("watch: sync ended with exit status %d", r);
        }
        for (size_t i = 0; i < n; i++) {
                g_thread_join(ws[i].thread);
                g_free(ws[i].etag);
        }
        log_info("watch: stopped");
        return 0;
}

/* ---- verify and list ---- */

static const char *cell(const PoolStatus *s, Check c) {
        switch (s->check[c]) {
        case CHECK_NA:
                return "-";
        case CHECK_OK:
                return "ok";
        case CHECK_UNKNOWN:
                return "unknown";
        default:
                return "FAIL";
        }
}

/* The Volumes check of a pool the server defines, when libvirt runs it (a conflict is not ours
 * to look into). */
static void check_volumes(Host *h, const WantedPool *wp, PoolStatus *s) {
        if (wp->conflict || s->conflict || !s->pool || !s->pool->active)
                return;
        g_autoptr(GPtrArray) vols = NULL;
        g_autoptr(GError) e = NULL;
        if (host_list_volumes(h, wp->def->name, &vols, &e) < 0) {
                pool_status_set(s, CHECK_VOLUMES, e->message);
                return;
        }
        pool_check_volumes(s, wp->def, vols);
}

/* The Type column covers type, format and protocol (the kind of pool). */
static const char *type_cell(const PoolStatus *s) {
        if (s->check[CHECK_TYPE] == CHECK_NA)
                return "-";
        return s->check[CHECK_TYPE] == CHECK_FAIL || s->check[CHECK_FORMAT] == CHECK_FAIL ||
                                       s->check[CHECK_PROTOCOL] == CHECK_FAIL
                       ? "FAIL"
                       : "ok";
}

static const char *state_text(const HostPool *p) {
        return !p ? "undefined" : p->active ? "active" : "inactive";
}

static json_object *status_json(const PoolStatus *s, const char *server) {
        const HostPool *p = s->pool;
        json_object *o = json_object_new_object();
        json_object_object_add(o, "name", json_object_new_string(s->name));
        json_object_object_add(o, "uuid", json_object_new_string(s->uuid));
        if (server)
                json_object_object_add(o, "server", json_object_new_string(server));
        if (p && !server)
                json_object_object_add(o, "type", p->type ? json_object_new_string(p->type) : NULL);
        json_object_object_add(o, "state", json_object_new_string(state_text(p)));
        json_object_object_add(o, "autostart", p ? json_object_new_boolean(p->autostart) : NULL);
        json_object_object_add(o, "persistent", p ? json_object_new_boolean(p->persistent) : NULL);
        if (server)
                json_object_object_add(o, "checks", pool_status_checks_json(s));
        else
                json_object_object_add(o, "mounted", s->check[CHECK_MOUNTED] == CHECK_NA
                                                             ? NULL
                                                             : json_object_new_boolean(s->check[CHECK_MOUNTED] == CHECK_OK));
        json_object_object_add(o, "verdict", json_object_new_string(pool_status_ok(s) ? "OK" : "FAIL"));
        json_object_object_add(o, "problems", pool_status_problems_json(s));
        return o;
}

static void print_problems(GPtrArray *statuses) {
        for (size_t i = 0; i < statuses->len; i++) {
                const PoolStatus *s = statuses->pdata[i];
                if (s->conflict)
                        printf("%s: conflict: %s\n", s->name, s->conflict);
                for (size_t k = 0; k < s->problems->len; k++)
                        printf("%s: %s\n", s->name, ((Problem *) s->problems->pdata[k])->text);
        }
}

static int cmd_verify(const ClientConf *conf, char **servers) {
        g_auto(Session) ses = {};
        int r = session_open(conf, servers, NULL, &ses);
        if (r != 0)
                return r;
        GPtrArray *wanted = ses.wanted, *host = ses.pools;
        Wanted w = { .status = ses.server_status };

        g_autoptr(GPtrArray) statuses = g_ptr_array_new_with_free_func((GDestroyNotify) pool_status_free);
        bool ok = true;
        for (size_t i = 0; i < wanted->len; i++) {
                const WantedPool *wp = wanted->pdata[i];
                PoolStatus *s = NULL;
                g_autoptr(GError) e = NULL;
                if (pool_check_wanted(wp->def, wp->conflict, host, NULL, &s, &e) < 0)
                        return log_exit(EXIT_UNREACHABLE, "%s", e->message);
                check_volumes(ses.host, wp, s);
                if (arg.nfs_check && !wp->conflict) {
                        g_autoptr(GError) pe = NULL;
                        pool_status_set(s, CHECK_NFS3, nfs_probe(wp->def, 0, &pe) < 0 ? pe->message : NULL);
                }
                ok = ok && pool_status_ok(s);
                g_ptr_array_add(statuses, s);
        }

        if (arg.json) {
                g_autoptr(json_object) o = json_object_new_object();
                json_object_object_add(o, "ok", json_object_new_boolean(ok && !w.status));
                json_object *a = json_object_new_array();
                for (size_t i = 0; i < statuses->len; i++)
                        json_object_array_add(a, status_json(statuses->pdata[i],
                                                             ((WantedPool *) wanted->pdata[i])->server));
                json_object_object_add(o, "pools", a);
                print_json(o);
        } else {
                static const char *const header[] = { "Name",   "State",  "Autostart", "Persistent", "Type",
                                                      "UUID",   "Host",   "Source",    "Target",     "Mounted",
                                                      "Volumes", "Verdict", NULL };
                static const char *const header_nfs[] = { "Name",    "State",   "Autostart", "Persistent", "Type",
                                                          "UUID",    "Host",    "Source",    "Target",     "Mounted",
                                                          "Volumes", "NFSv3",   "Verdict",   NULL };
                g_autoptr(Table) t = table_new(arg.nfs_check ? header_nfs : header);
                for (size_t i = 0; i < statuses->len; i++) {
                        const PoolStatus *s = statuses->pdata[i];
                        const HostPool *p = s->pool;
                        const char *row[13];
                        size_t k = 0;
                        row[k++] = s->name;
                        row[k++] = state_text(p);
                        row[k++] = p ? (p->autostart ? "yes" : "no") : "-";
                        row[k++] = p ? (p->persistent ? "yes" : "no") : "-";
                        row[k++] = type_cell(s);
                        row[k++] = cell(s, CHECK_UUID);
                        row[k++] = cell(s, CHECK_HOST);
                        row[k++] = cell(s, CHECK_SOURCE);
                        row[k++] = cell(s, CHECK_TARGET);
                        row[k++] = cell(s, CHECK_MOUNTED);
                        row[k++] = cell(s, CHECK_VOLUMES);
                        if (arg.nfs_check)
                                row[k++] = cell(s, CHECK_NFS3);
                        row[k++] = pool_status_ok(s) ? "OK" : "FAIL";
                        table_add(t, row);
                }
                table_print(t, stdout);
                print_problems(statuses);
                if (statuses->len == 0)
                        printf("verify: the servers define no pools\n");
        }
        if (w.status)
                return w.status;
        return ok ? 0 : EXIT_PROBLEMS;
}

/* ---- volumes ---- */

static char *bytes_text(const void *v, uint64_t n) {
        return v ? g_strdup_printf("%" PRIu64, n) : NULL;
}

/* One pool's part of `volumes`: its rows in the table `t` and a line in `notes` ("POOL: ..."),
 * or, for JSON, one object in `jpools`. Returns whether all is as the server says (a server that
 * does not report volumes is not a failure). */
static bool volumes_of_pool(Host *h, const WantedPool *wp, GPtrArray *host, Table *t, GPtrArray *notes,
                            json_object *jpools) {
        const PoolDef *def = wp->def;
        HostPool *p = NULL;
        for (size_t i = 0; i < host->len && !p; i++)
                if (strcmp(((HostPool *) host->pdata[i])->name, def->name) == 0)
                        p = host->pdata[i];
        bool known = def->volumes != NULL;
        g_autofree char *note = NULL;
        g_autoptr(GPtrArray) vols = NULL;
        g_autoptr(GPtrArray) rows = NULL;
        bool ok = true;

        if (wp->conflict) {
                note = g_strdup_printf("conflict: %s", wp->conflict);
                ok = false;
        } else if (p && strcasecmp(p->uuid, def->uuid) != 0) {
                note = g_strdup_printf("conflict: a pool named %s on this host has uuid %s (the server's is %s)",
                                       def->name, p->uuid, def->uuid);
                ok = false;
        } else if (!p || !p->active) {
                note = g_strdup_printf("%s on this host: libvirt lists no volumes (nfsprov-client sync starts it)",
                                       p ? "not active" : "not defined");
                ok = false;
        } else {
                g_autoptr(GError) e = NULL;
                if (host_list_volumes(h, def->name, &vols, &e) < 0) {
                        note = g_strdup(e->message);
                        ok = false;
                } else {
                        rows = volumes_compare(def->volumes, vols);
                        if (!known)
                                note = g_strdup("the server does not report volumes: libvirt's list only");
                        else
                                ok = volumes_all_ok(rows);
                }
        }

        json_object *jrows = json_object_new_array();
        for (size_t i = 0; rows && i < rows->len; i++) {
                const VolumeRow *r = rows->pdata[i];
                const char *state = known ? volume_state_to_string(r->state) : "unknown";
                if (jpools) {
                        json_object *o = volume_row_json(r);
                        json_object_object_add(o, "state", json_object_new_string(state));
                        json_object_array_add(jrows, o);
                        continue;
                }
                g_autofree char *scap = bytes_text(r->server, r->server ? r->server->capacity : 0);
                g_autofree char *hcap = bytes_text(r->host, r->host ? r->host->capacity : 0);
                g_autofree char *halloc = bytes_text(r->host, r->host ? r->host->allocation : 0);
                const char *format = r->host ? r->host->format : r->server ? r->server->format : NULL;
                const char *cells[] = { def->name, r->name, scap, hcap, halloc, format, state };
                table_add(t, cells);
        }
        if (jpools) {
                json_object *o = json_object_new_object();
                json_object_object_add(o, "name", json_object_new_string(def->name));
                json_object_object_add(o, "server", json_object_new_string(wp->server));
                json_object_object_add(o, "state", json_object_new_string(state_text(p)));
                json_object_object_add(o, "volumes_known", json_object_new_boolean(known));
                json_object_object_add(o, "ok", json_object_new_boolean(ok));
                json_object_object_add(o, "volumes", jrows);
                json_object_object_add(o, "note", note ? json_object_new_string(note) : NULL);
                json_object_array_add(jpools, o);
        } else {
                json_object_put(jrows);
                if (note)
                        g_ptr_array_add(notes, g_strdup_printf("%s: %s", def->name, note));
        }
        return ok;
}

static int cmd_volumes(const ClientConf *conf, char **servers, const char *only) {
        g_auto(Session) ses = {};
        int r = session_open(conf, servers, NULL, &ses);
        if (r != 0)
                return r;
        GPtrArray *wanted = ses.wanted;
        bool found = !only;
        for (size_t i = 0; i < wanted->len && !found; i++)
                found = strcmp(((WantedPool *) wanted->pdata[i])->def->name, only) == 0;
        if (!found) {
                if (ses.server_status)
                        return log_exit(ses.server_status, "pool %s: not defined by the servers that answered", only);
                return log_exit(EXIT_INVALID, "no server defines pool %s", only);
        }

        static const char *const header[] = { "Pool",   "Volume", "Server capacity", "Libvirt capacity",
                                              "Allocation", "Format", "State", NULL };
        g_autoptr(Table) t = table_new(header);
        g_autoptr(GPtrArray) notes = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(json_object) jpools = arg.json ? json_object_new_array() : NULL;
        bool ok = true;
        for (size_t i = 0; i < wanted->len; i++) {
                const WantedPool *wp = wanted->pdata[i];
                if (only && strcmp(wp->def->name, only) != 0)
                        continue;
                ok = volumes_of_pool(ses.host, wp, ses.pools, t, notes, jpools) && ok;
        }
        if (arg.json) {
                g_autoptr(json_object) o = json_object_new_object();
                json_object_object_add(o, "ok", json_object_new_boolean(ok && !ses.server_status));
                json_object_object_add(o, "pools", json_object_get(jpools));
                print_json(o);
        } else {
                table_print(t, stdout);
                for (size_t i = 0; i < notes->len; i++)
                        printf("%s\n", (const char *) notes->pdata[i]);
                if (wanted->len == 0)
                        printf("volumes: the servers define no pools\n");
        }
        if (ses.server_status)
                return ses.server_status;
        return ok ? 0 : EXIT_PROBLEMS;
}

static int cmd_list(const ClientConf *conf) {
        g_autoptr(Host) h = NULL;
        g_autoptr(GPtrArray) host = NULL;
        int r = open_host(conf, &h, &host);
        if (r != 0)
                return r;

        g_autoptr(GPtrArray) statuses = g_ptr_array_new_with_free_func((GDestroyNotify) pool_status_free);
        bool ok = true;
        for (size_t i = 0; i < host->len; i++) {
                PoolStatus *s = NULL;
                g_autoptr(GError) e = NULL;
                if (pool_check_local(host->pdata[i], NULL, &s, &e) < 0)
                        return log_exit(EXIT_UNREACHABLE, "%s", e->message);
                ok = ok && pool_status_ok(s);
                g_ptr_array_add(statuses, s);
        }
        if (arg.json) {
                g_autoptr(json_object) o = json_object_new_object();
                json_object *a = json_object_new_array();
                for (size_t i = 0; i < statuses->len; i++)
                        json_object_array_add(a, status_json(statuses->pdata[i], NULL));
                json_object_object_add(o, "pools", a);
                print_json(o);
        } else {
                static const char *const header[] = { "Name", "State",   "Autostart", "Persistent",
                                                      "Type", "Mounted", "Verdict",   NULL };
                g_autoptr(Table) t = table_new(header);
                for (size_t i = 0; i < statuses->len; i++) {
                        const PoolStatus *s = statuses->pdata[i];
                        const HostPool *p = s->pool;
                        const char *row[] = {
                                s->name,
                                state_text(p),
                                p->autostart ? "yes" : "no",
                                p->persistent ? "yes" : "no",
                                p->type ? p->type : "?",
                                cell(s, CHECK_MOUNTED),
                                pool_status_ok(s) ? "OK" : "FAIL",
                        };
                        table_add(t, row);
                }
                table_print(t, stdout);
                print_problems(statuses);
        }
        return ok ? 0 : EXIT_PROBLEMS;
}

static int cmd_resources(const ClientConf *conf) {
        g_autoptr(Host) h = NULL;
        g_autoptr(GPtrArray) host = NULL;
        int r = open_host(conf, &h, &host);
        if (r != 0)
                return r;
        g_autoptr(GPtrArray) res = resources_from_pools(host);

        if (arg.json) {
                g_autoptr(json_object) o = json_object_new_object();
                json_object *a = json_object_new_array(), *sk = json_object_new_array();
                for (size_t i = 0; i < res->len; i++) {
                        const Resource *x = res->pdata[i];
                        json_object *e = json_object_new_object();
                        if (x->skipped) {
                                json_object_object_add(e, "pool", json_object_new_string(x->pool));
                                json_object_object_add(e, "reason", json_object_new_string(x->skipped));
                                json_object_array_add(sk, e);
                                continue;
                        }
                        json_object_object_add(e, "resource", json_object_new_string(x->resource));
                        json_object_object_add(e, "pool", json_object_new_string(x->pool));
                        json_object_object_add(e, "uuid", json_object_new_string(x->uuid));
                        json_object_object_add(e, "capacity", json_object_new_uint64(x->capacity));
                        json_object_object_add(e, "allocation", json_object_new_uint64(x->allocation));
                        json_object_object_add(e, "available", json_object_new_uint64(x->available));
                        json_object_array_add(a, e);
                }
                json_object_object_add(o, "resources", a);
                json_object_object_add(o, "skipped", sk);
                print_json(o);
                return 0;
        }
        static const char *const header[] = { "Resource", "Pool", "Capacity", "Allocation", "Available", NULL };
        g_autoptr(Table) t = table_new(header);
        for (size_t i = 0; i < res->len; i++) {
                const Resource *x = res->pdata[i];
                if (x->skipped)
                        continue;
                char c[24], a[24], v[24];
                snprintf(c, sizeof c, "%" PRIu64, x->capacity);
                snprintf(a, sizeof a, "%" PRIu64, x->allocation);
                snprintf(v, sizeof v, "%" PRIu64, x->available);
                const char *row[] = { x->resource, x->pool, c, a, v };
                table_add(t, row);
        }
        table_print(t, stdout);
        for (size_t i = 0; i < res->len; i++) {
                const Resource *x = res->pdata[i];
                if (x->skipped)
                        printf("skipped: %s: %s\n", x->pool, x->skipped);
        }
        return 0;
}

/* ---- main ---- */

enum { OPT_TOKEN_FILE = 0x100, OPT_FIX, OPT_NFS_CHECK, OPT_CACHE, OPT_NO_CACHE };

int main(int argc, char **argv) {
        log_setup("nfsprov-client");
        static const struct option options[] = {
                { "config", required_argument, NULL, 'c' },  { "server", required_argument, NULL, 's' },
                { "connect", required_argument, NULL, 'C' }, { "token-file", required_argument, NULL, OPT_TOKEN_FILE },
                { "dry-run", no_argument, NULL, 'n' },       { "fix", no_argument, NULL, OPT_FIX },
                { "json", no_argument, NULL, 'j' },          { "help", no_argument, NULL, 'h' },
                { "nfs-check", no_argument, NULL, OPT_NFS_CHECK },
                { "cache", required_argument, NULL, OPT_CACHE }, { "no-cache", no_argument, NULL, OPT_NO_CACHE },
                {},
        };
        g_autoptr(GPtrArray) servers = g_ptr_array_new();
        arg.servers = servers;
        int c;
        while ((c = getopt_long(argc, argv, "c:s:C:njh", options, NULL)) >= 0)
                switch (c) {
                case 'c':
                        arg.config = optarg;
                        break;
                case 's': {
                        g_autoptr(GError) e = NULL;
                        if (server_url_check(optarg, &e) < 0)
                                return log_exit(EXIT_INVALID, "--server: %s", e->message);
                        g_ptr_array_add(servers, optarg);
                        break;
                }
                case 'C':
                        arg.connect = optarg;
                        break;
                case OPT_TOKEN_FILE:
                        arg.token_file = optarg;
                        break;
                case 'n':
                        arg.dry_run = true;
                        break;
                case OPT_FIX:
                        arg.fix = true;
                        break;
                case OPT_NFS_CHECK:
                        arg.nfs_check = true;
                        break;
                case OPT_CACHE:
                        if (!g_path_is_absolute(optarg))
                                return log_exit(EXIT_INVALID, "--cache: \"%s\" is not an absolute path", optarg);
                        arg.cache = optarg;
                        break;
                case OPT_NO_CACHE:
                        arg.no_cache = true;
                        break;
                case 'j':
                        arg.json = true;
                        break;
                case 'h':
                        help();
                        return 0;
                default:
                        return log_exit(EXIT_INVALID, "see nfsprov-client --help");
                }
        if (optind == argc)
                return log_exit(EXIT_INVALID, "no command; use sync, watch, verify, list, resources or volumes");
        const char *cmd = argv[optind];
        bool is_sync = strcmp(cmd, "sync") == 0, is_verify = strcmp(cmd, "verify") == 0;
        bool is_list = strcmp(cmd, "list") == 0, is_resources = strcmp(cmd, "resources") == 0;
        bool is_volumes = strcmp(cmd, "volumes") == 0, is_watch = strcmp(cmd, "watch") == 0;
        if (!is_sync && !is_verify && !is_list && !is_resources && !is_volumes && !is_watch)
                return log_exit(EXIT_INVALID, "unknown command \"%s\"; use sync, watch, verify, list, resources or volumes",
                                cmd);
        const char *only_pool = NULL;
        if (is_volumes && optind + 2 == argc) {
                only_pool = argv[optind + 1];
                g_autoptr(GError) ne = NULL;
                if (name_validate_share(only_pool, &ne) < 0)
                        return log_exit(EXIT_INVALID, "volumes: %s", ne->message);
        } else if (optind + 1 != argc)
                return log_exit(EXIT_INVALID, is_volumes ? "volumes takes one pool name at most"
                                                         : "one command only; use sync, watch, verify, list, resources or volumes");
        if (arg.dry_run && !is_sync)
                return log_exit(EXIT_INVALID, "--dry-run applies to sync only");
        if (arg.fix && !is_sync && !is_watch)
                return log_exit(EXIT_INVALID, "--fix applies to sync and watch");
        if (arg.nfs_check && !is_sync && !is_verify && !is_watch)
                return log_exit(EXIT_INVALID, "--nfs-check applies to sync, watch and verify");
        if (arg.cache && arg.no_cache)
                return log_exit(EXIT_INVALID, "--cache and --no-cache exclude each other");

        g_autoptr(ClientConf) conf = NULL;
        g_autoptr(GError) e = NULL;
        if (client_conf_load(arg.config ? arg.config : CLIENT_CONF_DEFAULT, arg.config != NULL, &conf, &e) < 0)
                return log_exit(EXIT_INVALID, "%s", e->message);

        if (is_list)
                return cmd_list(conf);
        if (is_resources)
                return cmd_resources(conf);

        g_ptr_array_add(servers, NULL);
        char **urls = servers->len > 1 ? (char **) servers->pdata : conf->servers;
        if (!urls || !urls[0])
                return log_exit(EXIT_INVALID, "no server: give --server URL or servers = URL in [client] of %s",
                            arg.config ? arg.config : CLIENT_CONF_DEFAULT);
        curl_global_init(CURL_GLOBAL_DEFAULT);
        int r = is_sync     ? cmd_sync(conf, urls)
                : is_watch  ? cmd_watch(conf, urls)
                : is_verify ? cmd_verify(conf, urls)
                            : cmd_volumes(conf, urls, only_pool);
        curl_global_cleanup();
        return r;
}
