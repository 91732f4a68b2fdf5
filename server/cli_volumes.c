/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli_volumes.h"
#include "json_autoptr.h"
#include "log.h"
#include "macro.h"
#include "qcow2.h"
#include "size.h"

static char *volume_path(const char *share, const char *volume, const char *tail) {
        return g_strdup_printf("/v1/shares/%s/volumes/%s%s", share, volume, tail ? tail : "");
}

static char *target_name(const char *share, const char *volume) {
        return g_strdup_printf("%s/%s", share, volume);
}

/* "20 GiB" or "-" */
static char *bytes_of(json_object *v, const char *key) {
        return format_bytes(v, key);
}

/* One line about a volume after an operation: "NAME: 20 GiB qcow2, 196 KiB allocated[, backing B]" */
static void print_summary(const char *verb, const char *target, json_object *v) {
        g_autofree char *cap = bytes_of(v, "capacity");
        g_autofree char *alloc = bytes_of(v, "allocation");
        const char *backing = jstr(v, "backing");
        printf("%s %s: %s %s, %s allocated%s%s\n", verb, target, cap, jstr(v, "format") ?: "qcow2", alloc,
               backing ? ", backing " : "", backing ? backing : "");
}

static int need_capacity(const CliArgs *a, const char *command, uint64_t *ret) {
        if (!a->capacity)
                return log_exit(CLI_EXIT_INVALID, "%s needs --capacity SIZE (e.g. 20G)", command);
        return cli_parse_size("--capacity", a->capacity, ret);
}

int cli_vol_create(const CliArgs *a, char *const *args) {
        const char *share = args[0], *vol = args[1];
        g_autoptr(json_object) body = json_object_new_object();
        json_object_object_add(body, "name", json_object_new_string(vol));
        if (a->capacity || !a->backing) {
                uint64_t cap;
                int st = need_capacity(a, "vol-create", &cap);
                if (st)
                        return st;
                json_object_object_add(body, "capacity", json_object_new_int64((int64_t) cap));
        }
        if (a->backing)
                json_object_object_add(body, "backing", json_object_new_string(a->backing));
        g_autofree char *path = g_strdup_printf("/v1/shares/%s/volumes", share);
        g_autofree char *target = target_name(share, vol);
        g_autofree char *what = g_strdup_printf("vol-create %s", target);
        g_autoptr(Reply) r = NULL;
        int st = cli_operation("POST", path, body, what, &r);
        if (st)
                return st;
        if (a->json)
                print_json(r->json);
        else
                print_summary("created", target, r->json);
        return 0;
}

int cli_vol_list(const CliArgs *a, char *const *args) {
        g_autofree char *path = g_strdup_printf("/v1/shares/%s/volumes", args[0]);
        g_autoptr(Reply) r = NULL;
        json_object *list;
        int st = cli_call_list("GET", path, "volumes", &r, &list);
        if (st)
                return st;
        if (a->json) {
                print_json(r->json);
                return 0;
        }
        static const char *const titles[] = { "NAME", "STATUS", "CAPACITY", "ALLOCATION", "FORMAT", "BACKING" };
        g_autoptr(GPtrArray) cells = g_ptr_array_new_with_free_func(g_free);
        for (size_t i = 0; i < json_object_array_length(list); i++) {
                json_object *v = json_object_array_get_idx(list, i);
                g_ptr_array_add(cells, g_strdup(jstr(v, "name") ?: "?"));
                g_ptr_array_add(cells, g_strdup(jbool(v, "present") || g_strcmp0(jstr(v, "status"), "ready") != 0
                                                        ? jstr(v, "status") ?: "?"
                                                        : "missing"));
                g_ptr_array_add(cells, bytes_of(v, "capacity"));
                g_ptr_array_add(cells, bytes_of(v, "allocation"));
                g_ptr_array_add(cells, g_strdup(jstr(v, "format") ?: "-"));
                g_ptr_array_add(cells, g_strdup(jstr(v, "backing") ?: "-"));
        }
        print_columns(titles, G_N_ELEMENTS(titles), cells);
        return 0;
}

static void info_line(const char *key, const char *value) {
        printf("%-12s %s\n", key, value ? value : "-");
}

int cli_vol_info(const CliArgs *a, char *const *args) {
        g_autofree char *path = volume_path(args[0], args[1], NULL);
        g_autoptr(Reply) r = NULL;
        int st = cli_call_json("GET", path, NULL, &r);
        if (st)
                return st;
        if (a->json) {
                print_json(r->json);
                return 0;
        }
        json_object *v = r->json;
        int64_t cap = 0, created = 0;
        jint(v, "capacity", &cap);
        jint(v, "created_at", &created);
        g_autofree char *cap_text = size_format((uint64_t) cap);
        g_autofree char *cap_line = g_strdup_printf("%s (%" PRId64 " bytes)", cap_text, cap);
        g_autofree char *alloc = bytes_of(v, "allocation");
        g_autofree char *size = bytes_of(v, "size");
        g_autoptr(GDateTime) when = g_date_time_new_from_unix_utc(created);
        g_autofree char *when_text = when ? g_date_time_format_iso8601(when) : NULL;
        info_line("name:", jstr(v, "name"));
        info_line("share:", jstr(v, "share"));
        info_line("status:", jstr(v, "status"));
        info_line("format:", jstr(v, "format"));
        info_line("capacity:", cap_line);
        info_line("allocation:", alloc);
        info_line("file size:", size);
        info_line("backing:", jstr(v, "backing"));
        info_line("created:", when_text);
        if (!jbool(v, "present"))
                info_line("file:", "missing (reconcile reports it)");
        if (jstr(v, "operation")) {
                g_autofree char *op = g_strdup_printf("%s (step %s)", jstr(v, "operation"), jstr(v, "step") ?: "-");
                info_line("operation:", op);
        }
        if (jstr(v, "error"))
                info_line("last error:", jstr(v, "error"));
        return 0;
}

int cli_vol_clone(const CliArgs *a, char *const *args) {
        const char *share = args[0], *src = args[1], *name = args[2];
        g_autoptr(json_object) body = json_object_new_object();
        json_object_object_add(body, "name", json_object_new_string(name));
        if (a->linked)
                json_object_object_add(body, "linked", json_object_new_boolean(true));
        g_autofree char *path = volume_path(share, src, "/clone");
        g_autofree char *target = target_name(share, name);
        g_autofree char *what = g_strdup_printf("vol-clone %s/%s to %s", share, src, name);
        g_autoptr(Reply) r = NULL;
        int st = cli_operation("POST", path, body, what, &r);
        if (st)
                return st;
        if (a->json)
                print_json(r->json);
        else
                print_summary(a->linked ? "cloned (linked)" : "cloned", target, r->json);
        return 0;
}

int cli_vol_resize(const CliArgs *a, char *const *args) {
        uint64_t cap;
        int st = need_capacity(a, "vol-resize", &cap);
        if (st)
                return st;
        g_autoptr(json_object) body = json_object_new_object();
        json_object_object_add(body, "capacity", json_object_new_int64((int64_t) cap));
        if (a->shrink)
                json_object_object_add(body, "shrink", json_object_new_boolean(true));
        g_autofree char *path = volume_path(args[0], args[1], "/resize");
        g_autofree char *target = target_name(args[0], args[1]);
        g_autofree char *what = g_strdup_printf("vol-resize %s", target);
        g_autoptr(Reply) r = NULL;
        st = cli_operation("POST", path, body, what, &r);
        if (st)
                return st;
        if (a->json)
                print_json(r->json);
        else
                print_summary("resized", target, r->json);
        return 0;
}

int cli_vol_delete(const CliArgs *a, char *const *args) {
        g_autofree char *path = volume_path(args[0], args[1], NULL);
        g_autofree char *target = target_name(args[0], args[1]);
        g_autofree char *what = g_strdup_printf("vol-delete %s", target);
        g_autoptr(Reply) r = NULL;
        int st = cli_operation("DELETE", path, NULL, what, &r);
        if (st)
                return st;
        if (a->json)
                print_json(r->json);
        else
                printf("deleted %s\n", target);
        return 0;
}

int cli_vol_wipe(const CliArgs *a, char *const *args) {
        g_autofree char *path = volume_path(args[0], args[1], "/wipe");
        g_autofree char *target = target_name(args[0], args[1]);
        g_autofree char *what = g_strdup_printf("vol-wipe %s", target);
        g_autoptr(Reply) r = NULL;
        int st = cli_operation("POST", path, NULL, what, &r);
        if (st)
                return st;
        if (a->json)
                print_json(r->json);
        else
                print_summary("wiped", target, r->json);
        return 0;
}

/* The local file must be a qcow2 that nfsprovd will take: checked here first, so that a wrong
 * file is refused before gigabytes travel (nfsprovd checks again, with its own limits). */
static int check_upload(const char *file, int fd, const char *volume) {
        g_auto(Qcow2Info) info = { 0 };
        g_autoptr(GError) error = NULL;
        Qcow2Policy policy = { .max_capacity = 0, .volume_name = volume };
        if (qcow2_read_header(fd, &info, &error) < 0 || qcow2_check(&info, &policy, &error) < 0)
                return log_exit(CLI_EXIT_INVALID, "%s: %s", file, error->message);
        return 0;
}

int cli_vol_upload(const CliArgs *a, char *const *args) {
        const char *share = args[0], *vol = args[1], *file = args[2];
        _cleanup_close_ int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return log_exit(errno == ENOENT ? CLI_EXIT_INVALID : EXIT_FAILURE, "cannot open %s: %s", file,
                                g_strerror(errno));
        struct stat st;
        if (fstat(fd, &st) < 0)
                return log_exit(EXIT_FAILURE, "cannot stat %s: %s", file, g_strerror(errno));
        if (!S_ISREG(st.st_mode))
                return log_exit(CLI_EXIT_INVALID, "%s is not a regular file; vol-upload sends a qcow2 image file", file);
        int r = check_upload(file, fd, vol);
        if (r)
                return r;
        (void) posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
        g_autofree char *path = volume_path(share, vol, "/content");
        g_autofree char *target = target_name(share, vol);
        g_autofree char *what = g_strdup_printf("vol-upload %s", target);
        g_autoptr(Reply) reply = NULL;
        r = cli_upload(path, fd, (uint64_t) st.st_size, what, a->limit_rate, &reply);
        if (r)
                return r;
        if (a->json)
                print_json(reply->json);
        else {
                g_autofree char *sent = size_format((uint64_t) st.st_size);
                printf("uploaded %s (%s): ", file, sent);
                print_summary("created", target, reply->json);
        }
        return 0;
}

int cli_vol_download(const CliArgs *a, char *const *args) {
        const char *share = args[0], *vol = args[1], *file = args[2];
        g_autofree char *path = volume_path(share, vol, "/content");
        g_autofree char *target = target_name(share, vol);
        g_autofree char *what = g_strdup_printf("vol-download %s", target);
        uint64_t bytes = 0, resumed_at = 0;
        int r = cli_download(path, file, what, a->limit_rate, &bytes, &resumed_at);
        if (r)
                return r;
        if (a->json) {
                g_autoptr(json_object) o = json_object_new_object();
                json_object_object_add(o, "file", json_object_new_string(file));
                json_object_object_add(o, "bytes", json_object_new_int64((int64_t) bytes));
                json_object_object_add(o, "resumed_at", json_object_new_int64((int64_t) resumed_at));
                print_json(o);
                return 0;
        }
        g_autofree char *size = size_format(bytes);
        if (resumed_at > 0) {
                g_autofree char *from = size_format(resumed_at);
                printf("downloaded %s to %s: %s (continued at %s)\n", target, file, size, from);
        } else
                printf("downloaded %s to %s: %s\n", target, file, size);
        return 0;
}
