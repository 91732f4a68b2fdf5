/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <sys/types.h> /* nfsidmap.h uses uid_t without including it */

#include <nfsidmap.h>

#include "error.h"
#include "idmap.h"
#include "macro.h"

/* The file nfs4_init_name_mapping(NULL) reads (libnfsidmap's built-in default). */
#define IDMAPD_CONF "/etc/idmapd.conf"
/* Longest "name@domain" handled (libnfsidmap's own buffers are smaller). */
#define IDMAP_NAME_MAX 1024
/* The id libnfsidmap hands out for "nobody" (Nobody-User/-Group, or (id_t)-2 when unset). */
#define NOBODY_ID 65534u
#define NOBODY_ID_ALT ((uint32_t) -2)

static GMutex idmap_lock;
static bool idmap_ready;

typedef enum Kind { KIND_USER, KIND_GROUP } Kind;

static const char *kind_name(Kind k) {
        return k == KIND_USER ? "user" : "group";
}

/* With idmap_lock held. */
static int ensure_init(GError **error) {
        if (idmap_ready)
                return 0;
        int r = nfs4_init_name_mapping(NULL);
        if (r < 0)
                return np_fail(error, -r, "cannot initialize libnfsidmap from %s: %s", IDMAPD_CONF,
                               g_strerror(-r));
        idmap_ready = true;
        return 0;
}

/* With idmap_lock held. */
static int get_domain_locked(char **ret, GError **error) {
        int r = ensure_init(error);
        if (r < 0)
                return r;
        char domain[IDMAP_NAME_MAX] = "";
        r = nfs4_get_default_domain(NULL, domain, sizeof(domain));
        if (r < 0)
                return np_fail(error, -r, "libnfsidmap has no default domain: %s", g_strerror(-r));
        if (!*domain)
                return np_fail(error, ENOENT, "libnfsidmap has no default domain (set Domain in %s)",
                               IDMAPD_CONF);
        *ret = g_strdup(domain);
        return 0;
}

int idmap_get_domain(char **ret, GError **error) {
        g_mutex_lock(&idmap_lock);
        int r = get_domain_locked(ret, error);
        g_mutex_unlock(&idmap_lock);
        return r;
}

static bool all_digits(const char *s) {
        if (!*s)
                return false;
        for (; *s; s++)
                if (!g_ascii_isdigit(*s))
                        return false;
        return true;
}

/* "user@domain" names are equal when the users are equal and the domains equal ignoring case
 * (libnfsidmap compares domains that way). */
static bool same_nfs4_name(const char *a, const char *b) {
        const char *at_a = strrchr(a, '@'), *at_b = strrchr(b, '@');
        if (!at_a || !at_b)
                return strcmp(a, b) == 0;
        return at_a - a == at_b - b && strncmp(a, b, (size_t) (at_a - a)) == 0 &&
               g_ascii_strcasecmp(at_a + 1, at_b + 1) == 0;
}

/* libnfsidmap plugins map names they cannot resolve to nobody in some configurations (the
 * nsswitch method answers -ENOENT; others, and the *_owner_* calls, answer nobody). A nobody id
 * counts only when it maps back to the very name asked for. With idmap_lock held. */
static bool is_false_nobody(Kind kind, uint32_t id, const char *domain, const char *lookup) {
        if (id != NOBODY_ID && id != NOBODY_ID_ALT)
                return false;
        char back[IDMAP_NAME_MAX] = "";
        g_autofree char *dom = g_strdup(domain);
        int r = kind == KIND_USER ? nfs4_uid_to_name((uid_t) id, dom, back, sizeof(back))
                                  : nfs4_gid_to_name((gid_t) id, dom, back, sizeof(back));
        if (r < 0)
                return true;
        /* The reverse mapping may or may not carry the domain. */
        if (!strchr(back, '@')) {
                g_autofree char *full = g_strdup_printf("%s@%s", back, domain);
                return !same_nfs4_name(full, lookup);
        }
        return !same_nfs4_name(back, lookup);
}

/* With idmap_lock held. */
static int resolve_locked(Kind kind, const char *name, uint32_t *ret, GError **error) {
        const char *what = kind_name(kind);
        g_autofree char *domain = NULL;
        int r = get_domain_locked(&domain, error);
        if (r < 0)
                return r;

        g_autofree char *lookup = strchr(name, '@') ? g_strdup(name) : g_strdup_printf("%s@%s", name, domain);
        if (strlen(lookup) >= IDMAP_NAME_MAX)
                return np_fail(error, EINVAL, "%s name \"%s\" is too long", what, name);

        /* libnfsidmap takes a writable buffer. */
        g_autofree char *buf = g_strdup(lookup);
        uid_t uid = 0;
        gid_t gid = 0;
        r = kind == KIND_USER ? nfs4_name_to_uid(buf, &uid) : nfs4_name_to_gid(buf, &gid);
        uint32_t id = kind == KIND_USER ? (uint32_t) uid : (uint32_t) gid;

        if (r == -ENOENT || (r == 0 && is_false_nobody(kind, id, domain, lookup)))
                return np_fail(error, ENOENT, "unknown %s \"%s\" (looked up as %s with libnfsidmap)", what, name,
                               lookup);
        if (r == -EINVAL && strchr(name, '@'))
                return np_fail(error, EINVAL,
                               "%s \"%s\" cannot be looked up: libnfsidmap refused it (its domain is %s; allowed: "
                               "a name, name@%s or a numeric id)",
                               what, name, domain, domain);
        if (r < 0)
                return np_fail(error, -r, "%s \"%s\": libnfsidmap lookup of %s failed: %s", what, name, lookup,
                               g_strerror(-r));
        *ret = id;
        return 0;
}

static int resolve(Kind kind, const char *name, uint32_t *ret, GError **error) {
        const char *what = kind_name(kind);

        if (!name || !*name)
                return np_fail(error, EINVAL, "no %s name given (allowed: a name, name@domain or a numeric id)", what);

        if (all_digits(name)) {
                guint64 v;
                if (!g_ascii_string_to_unsigned(name, 10, 0, UINT32_MAX - 1, &v, NULL))
                        return np_fail(error, EINVAL, "%s id %s is out of range (allowed: 0 to %u)", what, name,
                                       UINT32_MAX - 1);
                *ret = (uint32_t) v;
                return 0;
        }

        g_mutex_lock(&idmap_lock);
        int r = resolve_locked(kind, name, ret, error);
        g_mutex_unlock(&idmap_lock);
        return r;
}

int idmap_user_to_uid(const char *name, uid_t *ret, GError **error) {
        uint32_t id;
        int r = resolve(KIND_USER, name, &id, error);
        if (r < 0)
                return r;
        *ret = (uid_t) id;
        return 0;
}

int idmap_group_to_gid(const char *name, gid_t *ret, GError **error) {
        uint32_t id;
        int r = resolve(KIND_GROUP, name, &id, error);
        if (r < 0)
                return r;
        *ret = (gid_t) id;
        return 0;
}
