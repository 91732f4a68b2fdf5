/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The pool definition the server hands to every KVM host: one libvirt `netfs` pool per share.
 * Rendered as libvirt pool XML in exactly the shape of the design's example:
 *
 * <pool type='netfs'>
 *   <name>NFSStorage_01</name>
 *   <uuid>bd0a2edc-66fb-e630-d2c9-cafc85a9cd29</uuid>
 *   <capacity unit='bytes'>N</capacity>        (these three only when has_sizes)
 *   <allocation unit='bytes'>N</allocation>
 *   <available unit='bytes'>N</available>
 *   <source>
 *     <host name='192.168.1.1'/>
 *     <dir path='/home/NFS/NFSStorage_01'/>
 *     <format type='nfs'/>
 *     <protocol ver='3'/>
 *   </source>
 *   <target>
 *     <path>/var/lib/libvirt/nfsprov/NFSStorage_01</path>
 *     <permissions><mode>0700</mode><owner>-1</owner><group>-1</group></permissions>
 *   </target>
 * </pool>
 *
 * (two-space indentation, a trailing newline, text and attributes XML-escaped), and as JSON:
 * {"name","uuid","host","source_path","target_path","format":"nfs","protocol_version":3,
 *  "mode":"0700","owner":-1,"group":-1[,"capacity","allocation","available"]
 *  [,"volumes":[{"name":"vm1.qcow2","capacity":21474836480,"format":"qcow2"},...]]}.
 *
 * "volumes" is the share's manifest: the ready volumes the server made, sorted by name. It is
 * JSON only (never in the XML, which is what libvirt is given), and optional: a server that does
 * not report volumes leaves the key out, and the definition then has volumes == NULL ("not
 * known"), which is not the same as an empty list.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <glib.h>
#include <json-c/json.h>

/* One volume of a share as the server records it. */
typedef struct PoolVolume {
        char *name;         /* [A-Za-z0-9_.-]{1,255}, not starting with ".", never "lost+found" */
        uint64_t capacity;  /* virtual size in bytes, > 0 */
        char *format;       /* "qcow2" */
} PoolVolume;

PoolVolume *pool_volume_new(const char *name, uint64_t capacity, const char *format);
void pool_volume_free(PoolVolume *v);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PoolVolume, pool_volume_free)

typedef struct PoolDef {
        char *name;         /* share name rules (name_validate_share) */
        char *uuid;         /* lower-case RFC 4122 text form, 36 characters */
        char *host;         /* NFS server address */
        char *source_dir;   /* export path on the server, absolute */
        char *format;       /* "nfs" */
        int protocol_ver;   /* 3; 0 = no <protocol/> element */
        char *target_path;  /* mount point on every host, absolute */
        unsigned mode;      /* permissions of the target, e.g. 0700 */
        long owner;         /* uid, -1 = libvirt default */
        long group;         /* gid, -1 = libvirt default */
        bool has_sizes;     /* capacity/allocation/available are set */
        uint64_t capacity, allocation, available;
        GPtrArray *volumes; /* PoolVolume*, the server's manifest; NULL when the server does not say */
} PoolDef;

PoolDef *pooldef_new(void); /* format "nfs", protocol 3, mode 0700, owner/group -1 */
void pooldef_free(PoolDef *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PoolDef, pooldef_free)

PoolDef *pooldef_copy(const PoolDef *p); /* deep: the volumes too */
/* Same name, uuid, host, source_dir, format, protocol_ver, target_path, mode, owner, group
 * (sizes and volumes are live data and are not compared). */
bool pooldef_equal(const PoolDef *a, const PoolDef *b);

/* Check every field: name rules, uuid syntax, host/paths free of seed 000's forbidden characters,
 * paths absolute, format "nfs", protocol 3 (or 0); and each volume (when volumes is not NULL):
 * its name ([A-Za-z0-9_.-], 1-255 characters, no leading ".", not "lost+found"; the message names
 * the volume), capacity > 0, a format free of forbidden characters, no name listed twice.
 * Returns 0 or -EINVAL with one line. */
int pooldef_validate(const PoolDef *p, GError **error);

/* Render as libvirt XML (the shape above). Returns a newly allocated string. */
char *pooldef_to_xml(const PoolDef *p);

/* Parse libvirt netfs pool XML (as rendered above, or as `virsh pool-dumpxml` prints it: extra
 * elements such as <source><auth>, <target><permissions><label> are ignored; capacity and
 * friends with unit='bytes' or no unit). Fails with -EINVAL and one line (including the line and
 * column GMarkup reports) on malformed XML, a pool type other than netfs, or missing name/uuid/
 * host/dir/target path. The result is NOT validated: call pooldef_validate(). */
int pooldef_from_xml(const char *xml, PoolDef **ret, GError **error);

/* The type attribute of the root <pool> element of any libvirt pool XML ("netfs", "dir", ...),
 * so a caller can tell "another kind of pool" from "a broken netfs pool". -EINVAL with one line
 * when the XML is malformed or the root is not <pool type='...'>. */
int pooldef_xml_type(const char *xml, char **ret_type, GError **error);

/* JSON object (new reference) with the keys above. */
json_object *pooldef_to_json(const PoolDef *p);
/* From a JSON object with those keys (extra keys ignored; "mode" is an octal string like "0700";
 * missing sizes -> has_sizes false; a missing or null "volumes" -> volumes NULL; each volume an
 * object with "name" (string), "capacity" (integer, 1 or more) and "format" (string), extra keys
 * ignored). -EINVAL with one line when a key is missing or of the wrong type (a volume's problem
 * names the volume or its position). Not validated: call pooldef_validate(). */
int pooldef_from_json(json_object *obj, PoolDef **ret, GError **error);
