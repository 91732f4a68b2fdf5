/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "settings.h"
#include "unit.h"

static char *dir;

static void setup(void) {
        dir = unit_mkdtemp();
}

static void teardown(void) {
        unit_rm_rf(dir);
        g_clear_pointer(&dir, g_free);
}

static char *write_conf(const char *name, const char *text) {
        char *p = g_build_filename(dir, name, NULL);
        ck_assert(g_file_set_contents(p, text, -1, NULL));
        return p;
}

static void assert_strv(char **got, const char *const *want) {
        size_t i = 0;
        for (; want[i]; i++) {
                ck_assert_ptr_nonnull(got[i]);
                ck_assert_str_eq(got[i], want[i]);
        }
        ck_assert_ptr_null(got[i]);
}

static void assert_defaults(const Config *c) {
        ck_assert_ptr_null(c->address);
        ck_assert_str_eq(c->state_dir, "/var/lib/nfsprov");
        ck_assert_str_eq(c->socket, "/run/nfsprov/nfsprovd.sock");
        ck_assert_ptr_null(c->admin_group);
        ck_assert_ptr_null(c->listen);
        ck_assert_ptr_null(c->listen_host);
        ck_assert_uint_eq(c->listen_port, 0);
        ck_assert_str_eq(c->base, "/home/NFS");
        ck_assert_int_eq(c->backend, CONFIG_BACKEND_IMAGE);
        ck_assert_str_eq(c->image_dir, "/var/lib/nfsprov/images");
        assert_strv(c->disks, (const char *const[]){ NULL });
        assert_strv(c->clients, (const char *const[]){ "*", NULL });
        ck_assert_str_eq(c->options, "rw,no_root_squash,sync,no_subtree_check");
        ck_assert_str_eq(c->owner, "root");
        ck_assert_str_eq(c->group, "root");
        ck_assert_uint_eq(c->mode, 0755);
        ck_assert_int_eq(c->guard, GUARD_ENFORCE);
        ck_assert_uint_eq(c->audit_interval, 600);
        ck_assert_str_eq(c->exports_file, "/etc/exports");
        ck_assert_str_eq(c->target_base, "/var/lib/libvirt/nfsprov");
        ck_assert_str_eq(c->fstab, "/etc/fstab");
        ck_assert_str_eq(c->nfs_conf, "/etc/nfs.conf");
        ck_assert_str_eq(c->export_server, "kernel");
        ck_assert_str_eq(c->ganesha_config, "/etc/ganesha/nfsprov.conf");
        ck_assert_str_eq(c->ganesha_conf, "/etc/ganesha/ganesha.conf");
        ck_assert(!c->ganesha_nfsv4);
}

START_TEST(test_defaults) {
        g_autoptr(Config) c = config_new_default();
        assert_defaults(c);
        ck_assert_ptr_null(c->path);
        ck_assert_str_eq(config_backend_to_string(c->backend), "image");
        ck_assert_str_eq(config_backend_to_string(CONFIG_BACKEND_DISK), "disk");
}
END_TEST

START_TEST(test_empty_file_gives_defaults) {
        g_autofree char *p = write_conf("nfsprov.conf", "# nothing set\n\n");
        g_autoptr(Config) c = NULL;
        g_autoptr(GError) error = NULL;
        ck_assert_int_eq(config_load(p, true, &c, &error), 0);
        ck_assert_ptr_null(error);
        assert_defaults(c);
        ck_assert_str_eq(c->path, p);
}
END_TEST

/* Every default, written out, passes the same validation as any other value. */
START_TEST(test_defaults_written_out_load) {
        g_autofree char *p = write_conf("nfsprov.conf",
                                        "[server]\n"
                                        "address =\n"
                                        "state_dir = /var/lib/nfsprov\n"
                                        "socket = /run/nfsprov/nfsprovd.sock\n"
                                        "admin_group =\n"
                                        "listen =\n"
                                        "[shares]\n"
                                        "base = /home/NFS\n"
                                        "backend = image\n"
                                        "image_dir = /var/lib/nfsprov/images\n"
                                        "disks =\n"
                                        "clients = *\n"
                                        "options = rw,no_root_squash,sync,no_subtree_check\n"
                                        "owner = root\n"
                                        "group = root\n"
                                        "mode = 0755\n"
                                        "[exports]\n"
                                        "server = kernel\n"
                                        "file = /etc/exports\n"
                                        "ganesha_config = /etc/ganesha/nfsprov.conf\n"
                                        "ganesha_protocols = 3\n"
                                        "[pools]\n"
                                        "target_base = /var/lib/libvirt/nfsprov\n"
                                        "[system]\n"
                                        "fstab = /etc/fstab\n"
                                        "nfs_conf = /etc/nfs.conf\n"
                                        "ganesha_conf = /etc/ganesha/ganesha.conf\n");
        g_autoptr(Config) c = NULL;
        g_autoptr(GError) error = NULL;
        ck_assert_msg(config_load(p, true, &c, &error) == 0, "%s", error ? error->message : "");
        assert_defaults(c);
}
END_TEST

START_TEST(test_full_file) {
        g_autofree char *p = write_conf("nfsprov.conf",
                                        "# nfsprovd configuration\n"
                                        "[server]\n"
                                        "address = 192.168.1.1\n"
                                        "state_dir = /srv/nfsprov/state\n"
                                        "socket = /run/nfsprov-test/sock\n"
                                        "admin_group = nfsadmin\n"
                                        "listen = [::1]:8443\n"
                                        "\n"
                                        "[shares]\n"
                                        "base = /export/NFS\n"
                                        "backend = disk\n"
                                        "image_dir = /srv/nfsprov/images\n"
                                        "disks = /dev/vdb  /dev/vdc\t/dev/disk/by-id/virtio-data3\n"
                                        "clients = 192.168.1.0/24 10.0.0.0/255.0.0.0 fd00::/64 fd00::7 "
                                        "kvm-host?.example.com *.lab.example.com @kvmhosts 10.1.2.3\n"
                                        "options = rw,no_root_squash,async,no_subtree_check,sec=sys:krb5,anonuid=-2\n"
                                        "owner = 107\n"
                                        "group = kvm\n"
                                        "mode = 2770\n"
                                        "guard = detect\n"
                                        "audit_interval = 0\n"
                                        "[exports]\n"
                                        "server = ganesha\n"
                                        "file = /etc/exports.d/nfsprov.exports\n"
                                        "ganesha_config = /etc/ganesha/nfsprov-shares.conf\n"
                                        "ganesha_protocols = 3 4\n"
                                        "[pools]\n"
                                        "target_base = /var/lib/libvirt/images/nfs\n"
                                        "[system]\n"
                                        "fstab = /tmp/fstab\n"
                                        "nfs_conf = /tmp/nfs.conf\n"
                                        "ganesha_conf = /tmp/ganesha.conf\n");
        g_autoptr(Config) c = NULL;
        g_autoptr(GError) error = NULL;
        ck_assert_msg(config_load(p, true, &c, &error) == 0, "%s", error ? error->message : "");
        ck_assert_str_eq(c->path, p);
        ck_assert_str_eq(c->address, "192.168.1.1");
        ck_assert_str_eq(c->state_dir, "/srv/nfsprov/state");
        ck_assert_str_eq(c->socket, "/run/nfsprov-test/sock");
        ck_assert_str_eq(c->admin_group, "nfsadmin");
        ck_assert_str_eq(c->listen, "[::1]:8443");
        ck_assert_str_eq(c->listen_host, "::1");
        ck_assert_uint_eq(c->listen_port, 8443);
        ck_assert_str_eq(c->base, "/export/NFS");
        ck_assert_int_eq(c->backend, CONFIG_BACKEND_DISK);
        ck_assert_str_eq(c->image_dir, "/srv/nfsprov/images");
        assert_strv(c->disks, (const char *const[]){ "/dev/vdb", "/dev/vdc", "/dev/disk/by-id/virtio-data3", NULL });
        assert_strv(c->clients,
                    (const char *const[]){ "192.168.1.0/24", "10.0.0.0/255.0.0.0", "fd00::/64", "fd00::7",
                                           "kvm-host?.example.com", "*.lab.example.com", "@kvmhosts", "10.1.2.3",
                                           NULL });
        ck_assert_str_eq(c->options, "rw,no_root_squash,async,no_subtree_check,sec=sys:krb5,anonuid=-2");
        ck_assert_str_eq(c->owner, "107");
        ck_assert_str_eq(c->group, "kvm");
        ck_assert_uint_eq(c->mode, 02770);
        ck_assert_int_eq(c->guard, GUARD_DETECT);
        ck_assert_uint_eq(c->audit_interval, 0);
        ck_assert_str_eq(c->exports_file, "/etc/exports.d/nfsprov.exports");
        ck_assert_str_eq(c->target_base, "/var/lib/libvirt/images/nfs");
        ck_assert_str_eq(c->fstab, "/tmp/fstab");
        ck_assert_str_eq(c->nfs_conf, "/tmp/nfs.conf");
        ck_assert_str_eq(c->export_server, "ganesha");
        ck_assert_str_eq(c->ganesha_config, "/etc/ganesha/nfsprov-shares.conf");
        ck_assert(c->ganesha_nfsv4);
        ck_assert_str_eq(c->ganesha_conf, "/tmp/ganesha.conf");

        g_autofree char *share = config_share_path(c, "NFSStorage_01");
        g_autofree char *target = config_target_path(c, "NFSStorage_01");
        ck_assert_str_eq(share, "/export/NFS/NFSStorage_01");
        ck_assert_str_eq(target, "/var/lib/libvirt/images/nfs/NFSStorage_01");
}
END_TEST

START_TEST(test_share_and_target_paths_default) {
        g_autoptr(Config) c = config_new_default();
        g_autofree char *share = config_share_path(c, "NFSStorage_01");
        g_autofree char *target = config_target_path(c, "NFSStorage_01");
        ck_assert_str_eq(share, "/home/NFS/NFSStorage_01");
        ck_assert_str_eq(target, "/var/lib/libvirt/nfsprov/NFSStorage_01");
}
END_TEST

/* Values that are accepted and what they become. */
typedef struct GoodValue {
        const char *group, *key, *value;
} GoodValue;

static const GoodValue good_values[] = {
        { "server", "address", "10.0.0.1" },
        { "server", "address", "fd00::1" },
        { "server", "address", "127.0.0.1" },
        { "server", "listen", "0.0.0.0:8443" },
        { "server", "listen", "[::]:1" },
        { "server", "listen", "nfs1.example.com:65535" },
        { "server", "listen", "localhost:80" },
        { "server", "admin_group", "_nfs-admins.1" },
        { "server", "admin_group", "1000" },
        { "shares", "mode", "0" },
        { "shares", "mode", "7777" },
        { "shares", "mode", "00755" },
        { "shares", "clients", "*" },
        { "shares", "clients", "host-1 h2.example.org" },
        { "shares", "clients", "192.168.1.7/32 ::1 fe80::/10" },
        { "shares", "clients", "@net_group-1.a" },
        { "shares", "clients", "*.example.com node??.example.com" },
        { "shares", "options", "no_root_squash,rw" },
        { "shares", "options", "rw,no_root_squash,sync,no_subtree_check,insecure,crossmnt,mp,pnfs" },
        { "shares", "options", "rw,no_root_squash,mp=/home/NFS,anongid=100,sec=krb5p,refer=/a@h,replicas=/b@h" },
        { "shares", "owner", "libvirt-qemu" },
        { "shares", "owner", "4294967294" },
        { "shares", "backend", "image" },
        { "exports", "file", "/etc/exports" },
        { "exports", "file", "/tmp/some/where/exports" },
        { "exports", "server", "kernel" },
        { "exports", "server", "ganesha" },
        { "exports", "ganesha_config", "/etc/ganesha/exports/nfsprov.conf" },
        { "exports", "ganesha_protocols", "3" },
        { "exports", "ganesha_protocols", "3 4" },
        { "exports", "ganesha_protocols", "4 3" },
        { "system", "ganesha_conf", "/etc/ganesha/ganesha.conf" },
        { "server", "socket", "/run/a.sock" },
};

START_TEST(test_good_values) {
        const GoodValue *g = &good_values[_i];
        g_autofree char *text = g_strdup_printf("[%s]\n%s = %s\n", g->group, g->key, g->value);
        g_autofree char *p = write_conf("good.conf", text);
        g_autoptr(Config) c = NULL;
        g_autoptr(GError) error = NULL;
        ck_assert_msg(config_load(p, true, &c, &error) == 0, "[%s] %s = %s: %s", g->group, g->key, g->value,
                      error ? error->message : "");
}
END_TEST

START_TEST(test_address_is_canonical) {
        g_autofree char *p = write_conf("a.conf", "[server]\naddress = FD00:0:0::0001\n");
        g_autoptr(Config) c = NULL;
        ck_assert_int_eq(config_load(p, true, &c, NULL), 0);
        ck_assert_str_eq(c->address, "fd00::1");
}
END_TEST

START_TEST(test_listen_ipv4_host_port) {
        g_autofree char *p = write_conf("l.conf", "[server]\nlisten = 192.168.1.1:8080\n");
        g_autoptr(Config) c = NULL;
        ck_assert_int_eq(config_load(p, true, &c, NULL), 0);
        ck_assert_str_eq(c->listen_host, "192.168.1.1");
        ck_assert_uint_eq(c->listen_port, 8080);
}
END_TEST

START_TEST(test_api_keys) {
        g_autofree char *p = write_conf("api.conf", "[server]\nlisten = [::]:8443\ntoken_file = /etc/nfsprov/token\n"
                                                    "tls_cert = /etc/nfsprov/cert.pem\ntls_key = /etc/nfsprov/key.pem\n");
        g_autoptr(Config) c = NULL;
        ck_assert_int_eq(config_load(p, true, &c, NULL), 0);
        ck_assert_str_eq(c->listen_host, "::");
        ck_assert_uint_eq(c->listen_port, 8443);
        ck_assert_str_eq(c->token_file, "/etc/nfsprov/token");
        ck_assert_str_eq(c->tls_cert, "/etc/nfsprov/cert.pem");
        ck_assert_str_eq(c->tls_key, "/etc/nfsprov/key.pem");

        /* Unset by default and by an empty value. */
        g_autoptr(Config) d = config_new_default();
        ck_assert_ptr_null(d->token_file);
        ck_assert_ptr_null(d->tls_cert);
        ck_assert_ptr_null(d->tls_key);
        g_autofree char *q = write_conf("api2.conf", "[server]\ntoken_file = /a/b\ntoken_file =\n");
        g_autoptr(Config) e = NULL;
        ck_assert_int_eq(config_load(q, true, &e, NULL), 0);
        ck_assert_ptr_null(e->token_file);

        /* Paths must be absolute and normalized. */
        static const char *const keys[] = { "token_file", "tls_cert", "tls_key" };
        for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
                g_autofree char *text = g_strdup_printf("[server]\n%s = relative/file\n", keys[i]);
                g_autofree char *r = write_conf("api3.conf", text);
                g_autoptr(Config) f = NULL;
                g_autoptr(GError) error = NULL;
                ck_assert_int_eq(config_load(r, true, &f, &error), -EINVAL);
                g_autofree char *want = g_strdup_printf("[server] %s: ", keys[i]);
                ck_assert_msg(strstr(error->message, want), "%s", error->message);
                ck_assert_msg(strstr(error->message, "absolute path"), "%s", error->message);
        }
}
END_TEST

START_TEST(test_values_are_stripped) {
        g_autofree char *p = write_conf("s.conf", "[shares]\nbase =   /srv/NFS   \nmode=0700\t\n");
        g_autoptr(Config) c = NULL;
        g_autoptr(GError) error = NULL;
        ck_assert_msg(config_load(p, true, &c, &error) == 0, "%s", error ? error->message : "");
        ck_assert_str_eq(c->base, "/srv/NFS");
        ck_assert_uint_eq(c->mode, 0700);
}
END_TEST

/* A bad value: the load fails with -EINVAL and one line naming the file, the group and the key,
 * and holding each of `want`. */
typedef struct BadValue {
        const char *group, *key, *value;
        const char *want[4];
} BadValue;

static const BadValue bad_values[] = {
        /* [server] address */
        { "server", "address", "nfs1.example.com", { "is not an IPv4 or IPv6 address", "192.168.1.1" } },
        { "server", "address", "192.168.1.256", { "is not an IPv4 or IPv6 address" } },
        { "server", "address", "192.168.1.0/24", { "no host name, brackets or prefix length" } },
        { "server", "address", "[fd00::1]", { "is not an IPv4 or IPv6 address" } },
        { "server", "address", "0.0.0.0", { "the unspecified address" } },
        { "server", "address", "::", { "the unspecified address" } },
        { "server", "address", "224.0.0.1", { "a multicast address" } },
        { "server", "address", "fe80::1%eth0", { "has a scope" } },
        /* paths */
        { "server", "state_dir", "var/lib/nfsprov", { "is not an absolute path" } },
        { "server", "state_dir", "", { "must not be empty" } },
        { "server", "state_dir", "/var//lib/nfsprov", { "not a normalized path", "write \"/var/lib/nfsprov\"" } },
        { "server", "state_dir", "/var/lib/nfsprov/", { "not a normalized path", "write \"/var/lib/nfsprov\"" } },
        { "server", "state_dir", "/var/./lib", { "not a normalized path", "write \"/var/lib\"" } },
        { "server", "state_dir", "/var/lib/../tmp", { "contains a \"..\" component" } },
        { "server", "state_dir", "/", { "is the root directory" } },
        { "server", "state_dir", "/var/lib/nfs prov", { "character 13", "blank space" } },
        { "server", "socket", "run/sock", { "is not an absolute path" } },
        { "server", "socket",
          "/run/nfsprov/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
          { "a Unix socket path is at most 107 bytes" } },
        { "shares", "base", "/home/NFS(1)", { "character 10", "parenthesis" } },
        { "shares", "base", "/home/NFS;x", { "semicolon" } },
        { "shares", "base", "/home/\"NFS\"", { "double quote" } },
        { "shares", "base", "/home/NFS's", { "single quote" } },
        { "shares", "base", "/home/共有", { "double-byte character" } },
        { "shares", "base", "/home/NFS\\\\x", { "yen mark or backslash" } },
        { "shares", "base", "/home/a\\tb", { "control character" } },
        { "shares", "image_dir", "/var/lib/nfsprov/image s", { "blank space" } },
        { "pools", "target_base", "/var/lib/libvirt/¥", { "yen mark" } },
        { "pools", "target_base", "relative", { "is not an absolute path" } },
        { "system", "fstab", "fstab", { "is not an absolute path" } },
        { "system", "nfs_conf", "/etc/nfs.conf/", { "write \"/etc/nfs.conf\"" } },
        { "exports", "file", "/etc/exports.d/nfsprov", { "does not end in .exports" } },
        { "exports", "server", "nfsd", { "\"nfsd\" is not an NFS server", "allowed: kernel", "ganesha" } },
        { "exports", "server", "", { "\"\" is not an NFS server" } },
        { "shares", "base", "/a\\zb\\", { "ends in a backslash", "write \\\\ for a backslash" } },
        { "shares", "base", "/ab\\\\\\", { "ends in a backslash" } },
        { "exports", "ganesha_config", "/etc/ganesha/nfs\"prov.conf", { "double quote" } },
        { "exports", "ganesha_config", "nfsprov.conf", { "is not an absolute path" } },
        { "exports", "ganesha_protocols", "4", { "does not serve NFSv3", "allowed: 3 or 3 4" } },
        { "exports", "ganesha_protocols", "", { "does not serve NFSv3" } },
        { "exports", "ganesha_protocols", "3 3", { "is not a list of NFS versions" } },
        { "exports", "ganesha_protocols", "v3", { "is not a list of NFS versions" } },
        { "system", "ganesha_conf", "/etc/ganesha/", { "write \"/etc/ganesha\"" } },
        { "exports", "file", "/etc/exports/", { "write \"/etc/exports\"" } },
        /* admin_group, owner, group */
        { "server", "admin_group", "nfs admins", { "is not a group name or number" } },
        { "server", "admin_group", "-x", { "is not a group name or number" } },
        { "shares", "owner", "9user", { "is not a user name or number" } },
        { "shares", "owner", "4294967295", { "is not a user name or number", "below 4294967295" } },
        { "shares", "owner", "", { "is not a user name or number" } },
        { "shares", "group", "a:b", { "is not a group name or number" } },
        { "shares", "group", "abcdefghijklmnopqrstuvwxyz0123456", { "at most 32 characters" } },
        /* listen */
        { "server", "listen", "8443", { "lacks \":PORT\"" } },
        { "server", "listen", "::1:8443", { "needs brackets", "[::1]:8443" } },
        { "server", "listen", "[::1]8443", { "lacks \"]:PORT\"" } },
        { "server", "listen", "[10.0.0.1]:8443", { "is not an IPv6 address" } },
        { "server", "listen", ":8443", { "lacks the host" } },
        { "server", "listen", "0.0.0.0:0", { "is not a port number 1-65535" } },
        { "server", "listen", "0.0.0.0:65536", { "is not a port number 1-65535" } },
        { "server", "listen", "0.0.0.0:http", { "is not a port number 1-65535" } },
        { "server", "listen", "0.0.0.0:", { "is not a port number 1-65535" } },
        { "server", "listen", "bad_host:80", { "is neither an IPv4 address nor a host name" } },
        /* backend, disks */
        { "shares", "backend", "lvm", { "\"lvm\" is not a backend", "allowed: image, disk" } },
        { "shares", "backend", "IMAGE", { "is not a backend" } },
        { "shares", "disks", "vdb", { "device \"vdb\" is not an absolute path" } },
        { "shares", "disks", "/dev/vdb /srv/disk.img", { "\"/srv/disk.img\" is not under /dev" } },
        { "shares", "disks", "/dev/vdb /dev/../vdc", { "\"..\"" } },
        { "shares", "disks", "/dev/vdb /dev/vdb", { "\"/dev/vdb\" is listed twice" } },
        /* clients */
        { "shares", "clients", "", { "must name at least one client" } },
        { "shares", "clients", "* bad_host", { "client \"bad_host\" is not a valid client", "@netgroup" } },
        { "shares", "clients", "-host", { "client \"-host\" is not a valid client" } },
        { "shares", "clients", "host.", { "is not a valid client" } },
        { "shares", "clients", "192.168.1.300", { "is not a valid client" } },
        { "shares", "clients", "192.168.1.1/24", { "bits set beyond prefix length" } },
        { "shares", "clients", "192.168.1.0/33", { "prefix length 33 is too long for an IPv4 address (at most 32)" } },
        { "shares", "clients", "192.168.1.0/x", { "the part after the / is not a prefix length" } },
        { "shares", "clients", "192.168.1.0/255.0.255.0", { "not a contiguous IPv4 netmask" } },
        { "shares", "clients", "host/24", { "the part before the / is not an IPv4 or IPv6 address" } },
        { "shares", "clients", "fd00::g", { "is not a valid IPv6 address" } },
        { "shares", "clients", "@", { "is not a valid netgroup" } },
        { "shares", "clients", "@bad(group)", { "is not a valid netgroup" } },
        { "shares", "clients", "* *", { "client \"*\" is listed twice" } },
        /* guard */
        { "shares", "guard", "strict", { "\"strict\" is not a guard mode; allowed: enforce, detect or off" } },
        { "shares", "guard", "", { "\"\" is not a guard mode" } },
        { "shares", "audit_interval", "10s", { "\"10s\" is not an audit interval", "0 (no periodic audit) to 604800" } },
        { "shares", "audit_interval", "604801", { "is not an audit interval" } },
        { "shares", "audit_interval", "-1", { "is not an audit interval" } },
        { "shares", "clients", "host(rw)", { "is not a valid client" } },
        /* options */
        { "shares", "options", "rw,sync", { "lacks no_root_squash", "seed 000", "rw and no_root_squash" } },
        { "shares", "options", "no_root_squash", { "lacks rw", "NFSv3 read/write" } },
        { "shares", "options", "", { "must not be empty", "rw and no_root_squash" } },
        { "shares", "options", "rw,no_root_squash,ro", { "contains ro", "rw and no_root_squash" } },
        { "shares", "options", "rw,no_root_squash,root_squash", { "contains root_squash" } },
        { "shares", "options", "rw,no_root_squash,all_squash", { "contains all_squash" } },
        { "shares", "options", "rw,no_root_squash,nosuchopt", { "unknown export option \"nosuchopt\"",
                                                                 "no_subtree_check", "anonuid=" } },
        { "shares", "options", "rw,no_root_squash,sync=1", { "unknown export option \"sync=1\"" } },
        { "shares", "options", "rw, no_root_squash", { "contains blank space" } },
        { "shares", "options", "rw,,no_root_squash", { "has an empty option" } },
        { "shares", "options", "rw,no_root_squash,fsid=0", { "fsid=0 is not allowed here", "unique per export" } },
        { "shares", "options", "rw,no_root_squash,anonuid=x", { "anonuid=x is not a number" } },
        { "shares", "options", "rw,no_root_squash,anongid=", { "anongid= needs a value" } },
        { "shares", "options", "rw,no_root_squash,sec=sys:krb6", { "unknown flavor \"krb6\"" } },
        { "shares", "options", "rw,no_root_squash,mp=rel", { "mp=: \"rel\" is not an absolute path" } },
        /* mode */
        { "shares", "mode", "0800", { "\"0800\" is not an octal mode", "0 to 07777" } },
        { "shares", "mode", "10000", { "is not an octal mode" } },
        { "shares", "mode", "rwxr-xr-x", { "is not an octal mode" } },
        { "shares", "mode", "", { "is not an octal mode" } },
        { "shares", "mode", "-755", { "is not an octal mode" } },
        /* a comment after a value */
        { "shares", "base", "/home/NFS   # where shares go", { "holds a comment", "line of their own" } },
        /* GKeyFile keeps an unknown escape as it is: the backslash stays and is refused */
        { "shares", "base", "/home/\\q", { "character 7", "backslash" } },
        /* every part of a value a message quotes is shown escaped (found by tests/fuzz/fuzz_settings) */
        { "server", "listen", "a\\nb:c:8443", { "needs brackets, as in [a\\x0ab:c]:8443" } },
        { "server", "listen", "[\\tfe80::1]:8443", { "\"\\x09fe80::1\" is not an IPv6 address" } },
};

START_TEST(test_bad_values) {
        const BadValue *b = &bad_values[_i];
        g_autofree char *text = g_strdup_printf("[%s]\n%s = %s\n", b->group, b->key, b->value);
        g_autofree char *p = write_conf("bad.conf", text);
        g_autoptr(Config) c = NULL;
        g_autoptr(GError) error = NULL;

        int r = config_load(p, true, &c, &error);
        ck_assert_msg(r == -EINVAL, "[%s] %s = %s: returned %d, expected -EINVAL", b->group, b->key, b->value, r);
        ck_assert_ptr_null(c);
        ck_assert_ptr_nonnull(error);
        ck_assert(error->domain == NP_ERROR && error->code == EINVAL);
        ck_assert_msg(!strchr(error->message, '\n'), "not one line: %s", error->message);
        g_autofree char *prefix = g_strdup_printf("%s: [%s] %s: ", p, b->group, b->key);
        ck_assert_msg(g_str_has_prefix(error->message, prefix), "\"%s\" does not start with \"%s\"", error->message,
                      prefix);
        for (const char *const *w = b->want; *w; w++)
                ck_assert_msg(strstr(error->message, *w), "[%s] %s = %s: message \"%s\" lacks \"%s\"", b->group,
                              b->key, b->value, error->message, *w);
}
END_TEST

static void assert_load_fails(const char *text, int want_r, const char *const *want) {
        g_autofree char *p = write_conf("x.conf", text);
        g_autoptr(Config) c = NULL;
        g_autoptr(GError) error = NULL;
        int r = config_load(p, true, &c, &error);
        ck_assert_int_eq(r, want_r);
        ck_assert_ptr_null(c);
        ck_assert_ptr_nonnull(error);
        ck_assert_int_eq(error->code, -want_r);
        ck_assert_msg(!strchr(error->message, '\n'), "not one line: %s", error->message);
        ck_assert_msg(g_str_has_prefix(error->message, p), "message lacks the file: %s", error->message);
        for (const char *const *w = want; *w; w++)
                ck_assert_msg(strstr(error->message, *w), "message \"%s\" lacks \"%s\"", error->message, *w);
}

START_TEST(test_unknown_key) {
        assert_load_fails("[server]\naddress = 10.0.0.1\nadress = 10.0.0.2\n", -EINVAL,
                          (const char *const[]){ "[server] unknown key \"adress\"",
                                                 "known keys in [server]: address, state_dir, socket, admin_group, listen",
                                                 NULL });
        assert_load_fails("[shares]\nsize = 10G\n", -EINVAL,
                          (const char *const[]){ "[shares] unknown key \"size\"",
                                                 "base, backend, image_dir, disks, clients, options, owner, group, mode",
                                                 NULL });
        /* GKeyFile's localized keys are keys of their own, and unknown */
        assert_load_fails("[shares]\nbase[de] = /x\n", -EINVAL,
                          (const char *const[]){ "unknown key \"base[de]\"", NULL });
}
END_TEST

START_TEST(test_unknown_group) {
        assert_load_fails("[server]\n[share]\nbase = /x\n", -EINVAL,
                          (const char *const[]){ "unknown group [share]",
                                                 "known groups: [server] [shares] [volumes] [exports] [pools] [system]", NULL });
}
END_TEST

START_TEST(test_syntax_error) {
        assert_load_fails("base = /home/NFS\n", -EINVAL, (const char *const[]){ "group", NULL });
        assert_load_fails("[shares]\nthis is not a key\n", -EINVAL, (const char *const[]){ "this is not a key", NULL });
}
END_TEST

START_TEST(test_cross_checks) {
        assert_load_fails("[shares]\nbackend = disk\n", -EINVAL,
                          (const char *const[]){ "[shares] disks: backend = disk needs at least one device", NULL });
        assert_load_fails("[shares]\nbase = /srv\nimage_dir = /srv/images\n", -EINVAL,
                          (const char *const[]){ "[shares] image_dir: \"/srv/images\" is inside [shares] base \"/srv\"",
                                                 NULL });
        assert_load_fails("[shares]\nbase = /var/lib/nfsprov\n", -EINVAL,
                          (const char *const[]){ "[server] state_dir: \"/var/lib/nfsprov\" is inside [shares] base",
                                                 NULL });
        assert_load_fails("[pools]\ntarget_base = /home/NFS\n", -EINVAL,
                          (const char *const[]){ "[pools] target_base: \"/home/NFS\" overlaps [shares] base", NULL });
        assert_load_fails("[pools]\ntarget_base = /home\n", -EINVAL,
                          (const char *const[]){ "overlaps [shares] base", NULL });

        /* image_dir inside base does not matter with whole disks; a prefix is not containment */
        g_autofree char *p = write_conf("ok.conf",
                                        "[shares]\nbackend = disk\ndisks = /dev/vdb\nbase = /srv\n"
                                        "image_dir = /srv/images\n[pools]\ntarget_base = /srv2\n");
        g_autoptr(Config) c = NULL;
        g_autoptr(GError) error = NULL;
        ck_assert_msg(config_load(p, true, &c, &error) == 0, "%s", error ? error->message : "");
}
END_TEST

START_TEST(test_missing_file) {
        g_autofree char *p = g_build_filename(dir, "absent.conf", NULL);
        g_autoptr(Config) c = NULL;
        g_autoptr(GError) error = NULL;

        ck_assert_int_eq(config_load(p, false, &c, &error), 0);
        ck_assert_ptr_null(error);
        ck_assert_ptr_nonnull(c);
        ck_assert_ptr_null(c->path);
        assert_defaults(c);
        g_clear_pointer(&c, config_free);

        ck_assert_int_eq(config_load(p, true, &c, &error), -ENOENT);
        ck_assert_ptr_null(c);
        ck_assert_int_eq(error->code, ENOENT);
        ck_assert_msg(strstr(error->message, p) && strstr(error->message, "No such file"), "%s", error->message);
}
END_TEST

/* A file that exists but cannot be read is an error even when the file is optional. */
START_TEST(test_unreadable_is_an_error_even_if_optional) {
        g_autoptr(Config) c = NULL;
        g_autoptr(GError) error = NULL;
        ck_assert_int_eq(config_load(dir, false, &c, &error), -EISDIR);
        ck_assert_ptr_null(c);
        ck_assert_msg(strstr(error->message, "not a regular file"), "%s", error->message);
}
END_TEST

/* Run as an unprivileged user (root reads any file): a file of mode 0 that user owns. */
static void load_denied(void *data) {
        const char *p = data;
        struct stat st;
        ck_assert_msg(stat(p, &st) == 0, "%s not reachable as uid %u: %s", p, (unsigned) geteuid(), g_strerror(errno));
        for (int optional = 0; optional <= 1; optional++) {
                g_autoptr(Config) c = NULL;
                g_autoptr(GError) error = NULL;
                ck_assert_int_eq(config_load(p, optional == 0, &c, &error), -EACCES);
                ck_assert_ptr_null(c);
                ck_assert_int_eq(error->code, EACCES);
                g_autofree char *want = g_strdup_printf("%s: cannot open the configuration file: Permission denied", p);
                ck_assert_str_eq(error->message, want);
        }
}

START_TEST(test_permission_denied_even_if_optional) {
        g_autofree char *p = write_conf("secret.conf", "[server]\n");
        ck_assert_int_eq(chmod(p, 0), 0);
        unit_give_to_unprivileged(dir);
        unit_give_to_unprivileged(p);
        unit_run_unprivileged(load_denied, p);
}
END_TEST

START_TEST(test_nul_byte_is_refused) {
        g_autofree char *p = g_build_filename(dir, "nul.conf", NULL);
        ck_assert(g_file_set_contents(p, "[server]\n\0x\n", 11, NULL));
        g_autoptr(Config) c = NULL;
        g_autoptr(GError) error = NULL;
        ck_assert_int_eq(config_load(p, true, &c, &error), -EINVAL);
        ck_assert_msg(strstr(error->message, "NUL byte"), "%s", error->message);
}
END_TEST

START_TEST(test_env_default_path) {
        g_autofree char *saved = g_strdup(getenv(CONFIG_ENV_PATH));

        ck_assert_int_eq(unsetenv(CONFIG_ENV_PATH), 0);
        ck_assert_str_eq(config_default_path(), "/etc/nfsprov/nfsprov.conf");
        ck_assert_int_eq(setenv(CONFIG_ENV_PATH, "", 1), 0);
        ck_assert_str_eq(config_default_path(), "/etc/nfsprov/nfsprov.conf");

        g_autofree char *p = write_conf("env.conf", "[shares]\nbase = /from/env\n");
        ck_assert_int_eq(setenv(CONFIG_ENV_PATH, p, 1), 0);
        ck_assert_str_eq(config_default_path(), p);

        g_autoptr(Config) c = NULL;
        g_autoptr(GError) error = NULL;
        ck_assert_msg(config_load(NULL, true, &c, &error) == 0, "%s", error ? error->message : "");
        ck_assert_str_eq(c->path, p);
        ck_assert_str_eq(c->base, "/from/env");

        if (saved)
                setenv(CONFIG_ENV_PATH, saved, 1);
        else
                unsetenv(CONFIG_ENV_PATH);
}
END_TEST

START_TEST(test_invalid_utf8) {
        g_autofree char *p = g_build_filename(dir, "bad-utf8.conf", NULL);
        ck_assert(g_file_set_contents(p, "[shares]\nbase = /home/\xf0\n[server]\nk\xf0 = 1\n", -1, NULL));
        g_autoptr(Config) c = NULL;
        g_autoptr(GError) error = NULL;
        ck_assert_int_eq(config_load(p, true, &c, &error), -EINVAL);
        ck_assert_msg(g_utf8_validate(error->message, -1, NULL), "message is not UTF-8");
        ck_assert_msg(strstr(error->message, "[shares] base"), "%s", error->message);

        g_autofree char *p2 = g_build_filename(dir, "bad-key.conf", NULL);
        ck_assert(g_file_set_contents(p2, "[server]\nk\xf0 = 1\n", -1, NULL));
        g_clear_error(&error);
        ck_assert_int_eq(config_load(p2, true, &c, &error), -EINVAL);
        ck_assert_msg(g_utf8_validate(error->message, -1, NULL), "message is not UTF-8");

        /* GKeyFile quotes a bad group name as it is; the message shows it escaped (found by
         * tests/fuzz/fuzz_settings) */
        g_autofree char *p3 = g_build_filename(dir, "bad-group.conf", NULL);
        ck_assert(g_file_set_contents(p3, "[s\xfarver\x1b]\n", -1, NULL));
        g_clear_error(&error);
        ck_assert_int_eq(config_load(p3, true, &c, &error), -EINVAL);
        ck_assert_msg(g_utf8_validate(error->message, -1, NULL), "message is not UTF-8: %s", error->message);
        ck_assert_msg(strstr(error->message, "s\\xfarver\\x1b"), "%s", error->message);
}
END_TEST

START_TEST(test_check_client) {
        static const char *const good[] = { "*", "10.1.2.3", "fd00::1", "10.0.0.0/8", "10.0.0.0/255.255.0.0",
                                            "fd00::/64", "kvm01", "kvm0?.example.com", "*.example.com", "@hosts" };
        for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
                g_autoptr(GError) error = NULL;
                ck_assert_msg(config_check_client(good[i], &error) == 0, "%s: %s", good[i], error->message);
        }
        g_autoptr(GError) range = NULL;
        ck_assert_int_eq(config_check_client("0.0.0.0/232", &range), -EINVAL);
        ck_assert_msg(strstr(range->message, "prefix length 232 is too long for an IPv4 address (at most 32)"), "%s",
                      range->message);
        /* a prefix beyond the address's bits: GIO took "0.0.0.0/232" and "::/129" for /0 (found by
         * tests/fuzz/fuzz_settings) */
        static const char *const bad[] = { "", "a b", "10.0.0.1/8", "host_1", "@", "-a", "a..b", "10.0.0.0/",
                                           "(rw)", "*(rw)", "1.2.3.4.5", "0.0.0.0/232", "0.0.0.0/33", "::/129",
                                           "::/999" };
        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
                g_autoptr(GError) error = NULL;
                ck_assert_msg(config_check_client(bad[i], &error) == -EINVAL, "%s accepted", bad[i]);
                ck_assert_msg(g_str_has_prefix(error->message, "client \"") && strstr(error->message, "allowed: ") &&
                                      !strchr(error->message, '\n'),
                              "%s", error->message);
        }
}
END_TEST

START_TEST(test_duplicate_groups_merge_and_last_key_wins) {
        g_autofree char *p = write_conf("dup.conf", "[shares]\nmode = 0700\n[server]\n[shares]\nmode = 0750\n");
        g_autoptr(Config) c = NULL;
        g_autoptr(GError) error = NULL;
        ck_assert_msg(config_load(p, true, &c, &error) == 0, "%s", error ? error->message : "");
        ck_assert_uint_eq(c->mode, 0750);
}
END_TEST

Suite *unit_suite(void) {
        Suite *s = suite_create("config");
        TCase *tc = tcase_create("config");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_defaults);
        tcase_add_test(tc, test_empty_file_gives_defaults);
        tcase_add_test(tc, test_defaults_written_out_load);
        tcase_add_test(tc, test_full_file);
        tcase_add_test(tc, test_share_and_target_paths_default);
        tcase_add_loop_test(tc, test_good_values, 0, G_N_ELEMENTS(good_values));
        tcase_add_test(tc, test_address_is_canonical);
        tcase_add_test(tc, test_listen_ipv4_host_port);
        tcase_add_test(tc, test_values_are_stripped);
        tcase_add_test(tc, test_api_keys);
        tcase_add_loop_test(tc, test_bad_values, 0, G_N_ELEMENTS(bad_values));
        tcase_add_test(tc, test_unknown_key);
        tcase_add_test(tc, test_unknown_group);
        tcase_add_test(tc, test_syntax_error);
        tcase_add_test(tc, test_cross_checks);
        tcase_add_test(tc, test_missing_file);
        tcase_add_test(tc, test_unreadable_is_an_error_even_if_optional);
        tcase_add_test(tc, test_permission_denied_even_if_optional);
        tcase_add_test(tc, test_nul_byte_is_refused);
        tcase_add_test(tc, test_env_default_path);
        tcase_add_test(tc, test_invalid_utf8);
        tcase_add_test(tc, test_check_client);
        tcase_add_test(tc, test_duplicate_groups_merge_and_last_key_wins);
        suite_add_tcase(s, tc);
        return s;
}
