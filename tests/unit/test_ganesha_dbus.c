/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ganesha_dbus.c against a real D-Bus bus: a private dbus-daemon per test, spawned from an argv on a
 * unix:path= socket in the test's temporary directory (DBUS_SYSTEM_BUS_ADDRESS names it).
 *
 * On that bus, a fake of NFS-Ganesha's export manager owns org.ganesha.nfsd on a connection of its
 * own and serves /org/ganesha/nfsd/ExportMgr (ShowExports and DisplayExport, in the reply shapes
 * ganesha_dbus.c reads) from a thread of its own running a GMainLoop on its own GMainContext. The
 * fake stands for Ganesha because these tests check nfsprovd's connection handling (one shared
 * connection, a new one when the bus went away or its address changed, -ESRCH without Ganesha or
 * without a bus), not Ganesha: the integration tests (tests/integration/nfsprovd-ganesha*.sh)
 * run the real one. Each fake answers paths under /srv/TAG/, so a test can tell which bus answered.
 *
 * Skipped (exit 77) when dbus-daemon is not installed. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gio/gio.h>

#include "error.h"
#include "ganesha_dbus.h"
#include "unit.h"

#define GANESHA_NAME "org.ganesha.nfsd"
#define GANESHA_PATH "/org/ganesha/nfsd/ExportMgr"
#define WAIT_MS 10000 /* the longest wait for a dbus-daemon to listen */

#define NEED_DBUS_DAEMON UNIT_NEED_PROGRAM("dbus-daemon", "dbus-daemon")

/* ---- a private bus ---- */

typedef struct Bus {
        GPid pid; /* 0: not running */
        int out;  /* its stdout, where it printed its address */
        char *address;
} Bus;

static char *base; /* every test's directory is in it: removed in the parent even when a test failed */
static char *dir;  /* this test's */
static Bus buses[2];

/* The daemon dies with the test's process even when a failed check ends it before its teardown. */
static void die_with_parent(gpointer data) {
        (void) data;
        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
}

/* A dbus-daemon like a system bus, where this user may own and call anything, listening on
 * DIR/NAME.sock; b->address is unix:path=that, the same on each start with that name. Returns once
 * it listens (it prints its address then). */
static void bus_start(Bus *b, const char *name) {
        ck_assert_int_eq(b->pid, 0);
        g_autofree char *sock = g_strdup_printf("%s/%s.sock", dir, name);
        g_autofree char *conf = g_strdup_printf("%s/%s.conf", dir, name);
        g_autofree char *text = g_markup_printf_escaped(
                "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
                " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
                "<busconfig>\n"
                "  <type>system</type>\n"
                "  <listen>unix:path=%s</listen>\n"
                "  <auth>EXTERNAL</auth>\n"
                "  <policy context=\"default\">\n"
                "    <allow user=\"%s\"/>\n"
                "    <allow own=\"*\"/>\n"
                "    <allow send_destination=\"*\"/>\n"
                "    <allow receive_type=\"*\"/>\n"
                "  </policy>\n"
                "</busconfig>\n",
                sock, g_get_user_name());
        g_autoptr(GError) e = NULL;
        ck_assert_msg(g_file_set_contents(conf, text, -1, &e), "%s", e ? e->message : "");
        g_autofree char *config_arg = g_strdup_printf("--config-file=%s", conf);
        const char *argv[] = { "dbus-daemon", config_arg, "--nofork", "--nopidfile", "--print-address=1", NULL };
        /* its messages (a system bus complains it cannot raise its fd limit) go to DIR/NAME.log */
        g_autofree char *log = g_strdup_printf("%s/%s.log", dir, name);
        int log_fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        ck_assert_msg(log_fd >= 0, "%s: %s", log, g_strerror(errno));
        gboolean spawned = g_spawn_async_with_pipes_and_fds(
                NULL, argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD, die_with_parent, NULL, -1, -1,
                log_fd, NULL, NULL, 0, &b->pid, NULL, &b->out, NULL, &e);
        close(log_fd);
        ck_assert_msg(spawned, "cannot run dbus-daemon: %s", e ? e->message : "");
        /* its address, on one line, once it listens; EOF when it failed to start */
        GString *line = g_string_new(NULL);
        gint64 deadline = g_get_monotonic_time() + WAIT_MS * G_TIME_SPAN_MILLISECOND;
        while (!strchr(line->str, '\n')) {
                int left = (int) ((deadline - g_get_monotonic_time()) / G_TIME_SPAN_MILLISECOND);
                ck_assert_msg(left > 0, "dbus-daemon did not print its address within %d ms", WAIT_MS);
                struct pollfd p = { .fd = b->out, .events = POLLIN };
                int n = poll(&p, 1, left);
                ck_assert_msg(n >= 0 || errno == EINTR, "poll: %s", g_strerror(errno));
                if (n <= 0)
                        continue;
                char buf[256];
                ssize_t k = read(b->out, buf, sizeof buf);
                if (k <= 0) {
                        g_autofree char *said = NULL;
                        (void) g_file_get_contents(log, &said, NULL, NULL);
                        ck_abort_msg("dbus-daemon exited at start: %s", said ? said : "");
                }
                g_string_append_len(line, buf, k);
        }
        g_autofree char *printed = g_string_free(line, false);
        ck_assert_msg(g_str_has_prefix(printed, "unix:path="), "dbus-daemon listens on %s", printed);
        b->address = g_strdup_printf("unix:path=%s", sock);
}

/* Kill the daemon by its pid and reap it: when this returns, the bus is gone. */
static void bus_stop(Bus *b, int sig) {
        if (!b->pid)
                return;
        ck_assert_int_eq(kill(b->pid, sig), 0);
        int status;
        pid_t w;
        while ((w = waitpid(b->pid, &status, 0)) < 0 && errno == EINTR)
                ;
        ck_assert_int_eq(w, b->pid);
        g_spawn_close_pid(b->pid);
        b->pid = 0;
        close(b->out);
        b->out = -1;
        g_clear_pointer(&b->address, g_free);
}

static void use_bus(const Bus *b) {
        ck_assert(g_setenv("DBUS_SYSTEM_BUS_ADDRESS", b->address, true));
}

/* ---- the fake Ganesha ---- */

static const char fake_xml[] = "<node>"
                               " <interface name='org.ganesha.nfsd.exportmgr'>"
                               "  <method name='ShowExports'>"
                               "   <arg direction='out' type='(tt)' name='time'/>"
                               "   <arg direction='out' type='a(qs(tt))' name='exports'/>"
                               "  </method>"
                               "  <method name='DisplayExport'>"
                               "   <arg direction='in' type='q' name='id'/>"
                               "   <arg direction='out' type='q' name='id'/>"
                               "   <arg direction='out' type='s' name='fullpath'/>"
                               "   <arg direction='out' type='s' name='pseudopath'/>"
                               "   <arg direction='out' type='s' name='tag'/>"
                               "   <arg direction='out' type='a(sb)' name='clients'/>"
                               "  </method>"
                               " </interface>"
                               "</node>";

typedef struct Fake {
        char *tag;
        GMainContext *context;
        GMainLoop *loop;
        GThread *thread;
        GDBusConnection *conn;
        guint registration;
        GMutex lock;
        char *sender; /* of the last call */
} Fake;

static Fake *fakes[3];

/* Served: the pseudo-root (Export_Id 0), 1 /srv/TAG/one and 2 /srv/TAG/two. */
static const char *fake_leaf(unsigned id) {
        return id == 1 ? "one" : id == 2 ? "two" : NULL;
}

static void fake_method(GDBusConnection *conn, const char *sender, const char *path, const char *iface,
                        const char *method, GVariant *params, GDBusMethodInvocation *inv, gpointer data) {
        (void) conn;
        (void) path;
        (void) iface;
        Fake *f = data;
        g_mutex_lock(&f->lock);
        g_free(f->sender);
        f->sender = g_strdup(sender);
        g_mutex_unlock(&f->lock);
        if (strcmp(method, "ShowExports") == 0) {
                GVariantBuilder list;
                g_variant_builder_init(&list, G_VARIANT_TYPE("a(qs(tt))"));
                g_variant_builder_add(&list, "(qs(tt))", (guint16) 0, "/", (guint64) 0, (guint64) 0);
                for (unsigned id = 1; id <= 2; id++) {
                        g_autofree char *p = g_strdup_printf("/srv/%s/%s", f->tag, fake_leaf(id));
                        g_variant_builder_add(&list, "(qs(tt))", (guint16) id, p, (guint64) 0, (guint64) 0);
                }
                g_dbus_method_invocation_return_value(inv, g_variant_new("((tt)a(qs(tt)))", (guint64) 1, (guint64) 2,
                                                                         &list));
        } else if (strcmp(method, "DisplayExport") == 0) {
                guint16 id;
                g_variant_get(params, "(q)", &id);
                if (!fake_leaf(id)) {
                        /* two lines: the error nfsprovd makes of it must be one */
                        g_dbus_method_invocation_return_error(inv, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                                                              "lookup_export failed\nwith Export id %u", id);
                        return;
                }
                g_autofree char *p = g_strdup_printf("/srv/%s/%s", f->tag, fake_leaf(id));
                GVariant *clients = g_variant_new_array(G_VARIANT_TYPE("(sb)"), NULL, 0);
                g_dbus_method_invocation_return_value(inv, g_variant_new("(qsss@a(sb))", id, p, p, "", clients));
        } else {
                g_dbus_method_invocation_return_error(inv, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD, "no %s", method);
        }
}

static const GDBusInterfaceVTable fake_vtable = { .method_call = fake_method };

static gpointer fake_run(gpointer data) {
        Fake *f = data;
        g_main_context_push_thread_default(f->context);
        g_main_loop_run(f->loop);
        g_main_context_pop_thread_default(f->context);
        return NULL;
}

static guint32 bus_call_u(GDBusConnection *conn, const char *method, GVariant *args) {
        g_autoptr(GError) e = NULL;
        g_autoptr(GVariant) r = g_dbus_connection_call_sync(conn, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                                           "org.freedesktop.DBus", method, args, G_VARIANT_TYPE("(u)"),
                                                           G_DBUS_CALL_FLAGS_NONE, WAIT_MS, NULL, &e);
        ck_assert_msg(r, "%s: %s", method, e ? e->message : "");
        guint32 u;
        g_variant_get(r, "(u)", &u);
        return u;
}

/* A fake on bus b that owns org.ganesha.nfsd when this returns (RequestName answered). */
static Fake *fake_start(const Bus *b, const char *tag) {
        Fake *f = g_new0(Fake, 1);
        g_mutex_init(&f->lock);
        f->tag = g_strdup(tag);
        f->context = g_main_context_new();
        f->loop = g_main_loop_new(f->context, false);
        g_autoptr(GError) e = NULL;
        /* its callbacks (method calls, closed) run in its own context, in its thread */
        g_main_context_push_thread_default(f->context);
        f->conn = g_dbus_connection_new_for_address_sync(b->address,
                                                         G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                                 G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                         NULL, NULL, &e);
        if (f->conn) {
                g_dbus_connection_set_exit_on_close(f->conn, false);
                g_autoptr(GDBusNodeInfo) node = g_dbus_node_info_new_for_xml(fake_xml, &e);
                ck_assert_msg(node, "%s", e ? e->message : "");
                f->registration = g_dbus_connection_register_object(f->conn, GANESHA_PATH, node->interfaces[0],
                                                                    &fake_vtable, f, NULL, &e);
        }
        g_main_context_pop_thread_default(f->context);
        ck_assert_msg(f->conn, "the fake cannot connect to %s: %s", b->address, e ? e->message : "");
        ck_assert_msg(f->registration, "the fake cannot export %s: %s", GANESHA_PATH, e ? e->message : "");
        f->thread = g_thread_new("fake-ganesha", fake_run, f);
        /* DBUS_NAME_FLAG_DO_NOT_QUEUE (4): 1 is DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER */
        ck_assert_uint_eq(bus_call_u(f->conn, "RequestName", g_variant_new("(su)", GANESHA_NAME, 4)), 1);
        return f;
}

/* org.ganesha.nfsd has no owner once this returns (ReleaseName answered), the fake still on the bus. */
static void fake_release(Fake *f) {
        ck_assert_uint_eq(bus_call_u(f->conn, "ReleaseName", g_variant_new("(s)", GANESHA_NAME)), 1);
}

static char *fake_sender(Fake *f) {
        g_mutex_lock(&f->lock);
        char *s = g_strdup(f->sender);
        g_mutex_unlock(&f->lock);
        ck_assert_msg(s, "the fake %s was not called", f->tag);
        return s;
}

static void fake_stop(Fake **fp) {
        Fake *f = *fp;
        if (!f)
                return;
        *fp = NULL;
        g_main_loop_quit(f->loop);
        g_thread_join(f->thread);
        g_main_context_push_thread_default(f->context);
        g_dbus_connection_unregister_object(f->conn, f->registration);
        (void) g_dbus_connection_close_sync(f->conn, NULL, NULL);
        g_clear_object(&f->conn);
        while (g_main_context_iteration(f->context, false))
                ;
        g_main_context_pop_thread_default(f->context);
        g_main_loop_unref(f->loop);
        g_main_context_unref(f->context);
        g_mutex_clear(&f->lock);
        g_free(f->sender);
        g_free(f->tag);
        g_free(f);
}

/* ---- fixtures ---- */

static void setup_base(void) {
        base = unit_mkdtemp();
}

static void teardown_base(void) {
        unit_rm_rf(base);
        g_clear_pointer(&base, g_free);
}

static void setup(void) {
        dir = g_build_filename(base, "test-XXXXXX", NULL);
        ck_assert_ptr_nonnull(g_mkdtemp(dir));
        for (size_t i = 0; i < G_N_ELEMENTS(buses); i++)
                buses[i] = (Bus) { .out = -1 };
}

static void teardown(void) {
        for (size_t i = 0; i < G_N_ELEMENTS(fakes); i++)
                fake_stop(&fakes[i]);
        for (size_t i = 0; i < G_N_ELEMENTS(buses); i++)
                bus_stop(&buses[i], SIGTERM);
        g_unsetenv("DBUS_SYSTEM_BUS_ADDRESS");
        unit_rm_rf(dir);
        g_clear_pointer(&dir, g_free);
}

/* ---- checks ---- */

static void check_one_line(const GError *e, int code) {
        ck_assert_ptr_nonnull(e);
        ck_assert_msg(e->domain == NP_ERROR && e->code == code, "error %s %d: %s, not %s", g_quark_to_string(e->domain),
                      e->code, e->message, g_strerror(code));
        ck_assert_msg(!strchr(e->message, '\n'), "not one line: %s", e->message);
        ck_assert_msg(!strstr(e->message, "GDBus.Error"), "GDBus's prefix left in: %s", e->message);
}

/* b's ShowExports answers what the fake TAG serves, without the pseudo-root. */
static void check_show(GaneshaBus *b, const char *tag) {
        g_autoptr(GPtrArray) served = NULL;
        g_autoptr(GError) e = NULL;
        ck_assert_msg(ganesha_show_exports(b, &served, &e) == 0, "%s", e ? e->message : "");
        ck_assert_uint_eq(served->len, 2);
        for (unsigned i = 0; i < 2; i++) {
                const GaneshaServed *s = g_ptr_array_index(served, i);
                g_autofree char *want = g_strdup_printf("/srv/%s/%s", tag, fake_leaf(i + 1));
                ck_assert_uint_eq(s->id, i + 1);
                ck_assert_str_eq(s->path, want);
        }
}

static void check_display(GaneshaBus *b, unsigned id, const char *tag) {
        g_autofree char *path = NULL;
        g_autoptr(GError) e = NULL;
        ck_assert_msg(ganesha_display_export(b, id, &path, &e) == 0, "%s", e ? e->message : "");
        g_autofree char *want = g_strdup_printf("/srv/%s/%s", tag, fake_leaf(id));
        ck_assert_str_eq(path, want);
}

static GaneshaBus *open_bus(void) {
        GaneshaBus *b = NULL;
        g_autoptr(GError) e = NULL;
        ck_assert_msg(ganesha_bus_open(&b, &e) == 0, "%s", e ? e->message : "");
        ck_assert_ptr_nonnull(b);
        return b;
}

/* A GaneshaBus that answered, on buses[0] (DIR/bus.sock), then the bus killed (SIGKILL: as when it
 * crashes) and reaped: gone when this returns. DBUS_SYSTEM_BUS_ADDRESS still names it. */
static GaneshaBus *open_then_bus_gone(void) {
        bus_start(&buses[0], "bus");
        use_bus(&buses[0]);
        fakes[0] = fake_start(&buses[0], "before");
        GaneshaBus *b = open_bus();
        check_show(b, "before");
        bus_stop(&buses[0], SIGKILL);
        fake_stop(&fakes[0]);
        return b;
}

/* ---- tests ---- */

/* Two GaneshaBus in a row: both answer, over one connection (the fake sees one sender); closing
 * one leaves the other working; an unknown id is -ENOENT with one line. */
START_TEST(test_two_opens) {
        NEED_DBUS_DAEMON;
        bus_start(&buses[0], "bus");
        use_bus(&buses[0]);
        fakes[0] = fake_start(&buses[0], "one");

        GaneshaBus *b1 = open_bus();
        g_autoptr(GaneshaBus) b2 = open_bus();
        check_show(b1, "one");
        g_autofree char *sender1 = fake_sender(fakes[0]);
        check_display(b2, 2, "one");
        g_autofree char *sender2 = fake_sender(fakes[0]);
        ck_assert_str_eq(sender1, sender2); /* the shared connection */

        ganesha_bus_close(b1);
        check_display(b2, 1, "one");
        check_show(b2, "one");

        g_autofree char *path = NULL;
        g_autoptr(GError) e = NULL;
        ck_assert_int_eq(ganesha_display_export(b2, 99, &path, &e), -ENOENT);
        ck_assert_ptr_null(path);
        check_one_line(e, ENOENT);
        ck_assert_msg(strstr(e->message, "lookup_export failed with Export id 99"), "%s", e->message);
        g_clear_error(&e);
        ck_assert_int_eq(ganesha_display_export(b2, 65536, &path, &e), -EINVAL);
        check_one_line(e, EINVAL);
}
END_TEST

/* The bus goes away and another comes up at the same address, Ganesha on it again: a GaneshaBus
 * opened before answers (its call fails on the closed connection and is made again on a new one),
 * and so does a new one, on that same new connection. */
START_TEST(test_bus_restart) {
        NEED_DBUS_DAEMON;
        g_autoptr(GaneshaBus) old = open_then_bus_gone();
        g_autofree char *address = g_strdup(g_getenv("DBUS_SYSTEM_BUS_ADDRESS"));
        bus_start(&buses[0], "bus");
        ck_assert_str_eq(buses[0].address, address);
        fakes[1] = fake_start(&buses[0], "after");

        check_show(old, "after");
        g_autofree char *sender_old = fake_sender(fakes[1]);
        check_display(old, 1, "after");
        g_autoptr(GaneshaBus) fresh = open_bus();
        check_display(fresh, 2, "after");
        g_autofree char *sender_fresh = fake_sender(fakes[1]);
        ck_assert_str_eq(sender_old, sender_fresh); /* the new shared connection */
}
END_TEST

/* The bus goes away and none comes back: -ESRCH (no bus), not an error of Ganesha, from a
 * GaneshaBus opened before as from a new one. */
START_TEST(test_bus_gone) {
        NEED_DBUS_DAEMON;
        g_autoptr(GaneshaBus) old = open_then_bus_gone();
        g_autoptr(GPtrArray) served = NULL;
        g_autoptr(GError) e = NULL;
        ck_assert_int_eq(ganesha_show_exports(old, &served, &e), -ESRCH);
        check_one_line(e, ESRCH);
        g_clear_error(&e);
        g_autofree char *path = NULL;
        ck_assert_int_eq(ganesha_display_export(old, 1, &path, &e), -ESRCH);
        check_one_line(e, ESRCH);
        g_clear_error(&e);

        g_autoptr(GaneshaBus) fresh = NULL;
        int r = ganesha_bus_open(&fresh, &e);
        if (r >= 0)
                r = ganesha_show_exports(fresh, &served, &e);
        ck_assert_int_eq(r, -ESRCH);
        check_one_line(e, ESRCH);
}
END_TEST

/* Nobody owns org.ganesha.nfsd (never did, or released it): -ESRCH with one line. No bus at the
 * address: the same. */
START_TEST(test_no_owner) {
        NEED_DBUS_DAEMON;
        bus_start(&buses[0], "bus");
        use_bus(&buses[0]);
        g_autoptr(GaneshaBus) b = open_bus();
        g_autoptr(GPtrArray) served = NULL;
        g_autofree char *path = NULL;
        g_autoptr(GError) e = NULL;
        ck_assert_int_eq(ganesha_show_exports(b, &served, &e), -ESRCH);
        check_one_line(e, ESRCH);
        ck_assert_msg(strstr(e->message, GANESHA_NAME), "%s", e->message);
        g_clear_error(&e);
        ck_assert_int_eq(ganesha_display_export(b, 1, &path, &e), -ESRCH);
        check_one_line(e, ESRCH);
        g_clear_error(&e);

        fakes[0] = fake_start(&buses[0], "one");
        check_show(b, "one");
        fake_release(fakes[0]);
        ck_assert_int_eq(ganesha_show_exports(b, &served, &e), -ESRCH);
        check_one_line(e, ESRCH);
        g_clear_error(&e);

        g_autofree char *nobus = g_strdup_printf("unix:path=%s/nobus.sock", dir);
        ck_assert(g_setenv("DBUS_SYSTEM_BUS_ADDRESS", nobus, true));
        GaneshaBus *none = NULL;
        ck_assert_int_eq(ganesha_bus_open(&none, &e), -ESRCH);
        ck_assert_ptr_null(none);
        check_one_line(e, ESRCH);
}
END_TEST

/* DBUS_SYSTEM_BUS_ADDRESS names another bus: the next ganesha_bus_open() is on that one; a
 * GaneshaBus opened before stays on its own. */
START_TEST(test_address_change) {
        NEED_DBUS_DAEMON;
        bus_start(&buses[0], "first");
        bus_start(&buses[1], "second");
        fakes[0] = fake_start(&buses[0], "first");
        fakes[1] = fake_start(&buses[1], "second");

        use_bus(&buses[0]);
        g_autoptr(GaneshaBus) b1 = open_bus();
        check_show(b1, "first");
        use_bus(&buses[1]);
        g_autoptr(GaneshaBus) b2 = open_bus();
        check_show(b2, "second");
        check_display(b2, 1, "second");
        check_show(b1, "first");
        use_bus(&buses[0]);
        g_autoptr(GaneshaBus) b3 = open_bus();
        check_display(b3, 2, "first");
}
END_TEST

Suite *unit_suite(void) {
        Suite *s = suite_create("ganesha_dbus");
        TCase *tc = tcase_create("bus");
        tcase_set_timeout(tc, 60);
        tcase_add_unchecked_fixture(tc, setup_base, teardown_base);
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_two_opens);
        tcase_add_test(tc, test_bus_restart);
        tcase_add_test(tc, test_bus_gone);
        tcase_add_test(tc, test_no_owner);
        tcase_add_test(tc, test_address_change);
        suite_add_tcase(s, tc);
        return s;
}
