/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Share and pool names, and the characters seed 000 forbids.
 *
 * A share name is 1-64 characters from [A-Za-z0-9_-]; it is also the libvirt pool name and the
 * orchestrator's resource name. Names, paths and host addresses given to client hosts must not
 * contain what seed 000 forbids: blank space, double-byte characters, the yen mark or backslash,
 * double quotes, single quotes, semicolons, parentheses.
 *
 * A volume name (a VM disk image, a file at the root of a share) is 1-255 characters from
 * [A-Za-z0-9_.-], not starting with a dot (so never "." or ".."), and not "lost+found".
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <glib.h>

#define NAME_MAX_LEN 64
#define NAME_VOLUME_MAX_LEN 255

/* How seed 000 classifies a character that is not allowed. */
typedef enum NameCharClass {
        NAME_CHAR_OK = 0,
        NAME_CHAR_BLANK,        /* " ", tab and other white space */
        NAME_CHAR_DOUBLE_BYTE,  /* any multi-byte UTF-8 character except the yen marks */
        NAME_CHAR_YEN,          /* "\", U+00A5 "¥" or U+FFE5 "￥" */
        NAME_CHAR_DOUBLE_QUOTE,
        NAME_CHAR_SINGLE_QUOTE,
        NAME_CHAR_SEMICOLON,
        NAME_CHAR_PARENTHESIS,  /* "(" or ")" */
        NAME_CHAR_OTHER,        /* anything else outside the allowed set, incl. invalid UTF-8 */
} NameCharClass;

/* Human text for a class: "blank space", "double-byte character", "yen mark or backslash",
 * "double quote", "single quote", "semicolon", "parenthesis", "other character". */
const char *name_char_class_to_string(NameCharClass c);

/* Check a share name. Returns 0 if valid, else -EINVAL and sets error to one line naming the
 * first offending character, its 1-based position (counted in characters, not bytes) and its
 * class, and saying what is allowed, e.g.:
 *   invalid share name "a b": character 2 (" ") is a blank space; allowed: A-Z a-z 0-9 _ - (1-64 characters)
 * Empty and over-long names get their own message. */
int name_validate_share(const char *name, GError **error);

/* Check a volume name: a bare file name at the root of a share, never a path. Returns 0 if
 * valid, else -EINVAL and sets error to one line saying what is wrong and what is allowed, in
 * the style of name_validate_share (seed 000's forbidden characters get the same words), e.g.:
 *   invalid volume name "/etc/shadow": character 1 ("/") is a slash (a volume is named without
 *   a directory); allowed: A-Z a-z 0-9 _ . - (1-255 characters, not starting with a dot)
 * Empty, ".", "..", other names starting with a dot, "lost+found" and over-long names get their
 * own messages. */
int name_validate_volume(const char *name, GError **error);

/* Check a string that goes into a pool definition (a path or a host): it may contain anything
 * but the characters seed 000 forbids (classes BLANK .. PARENTHESIS) and control characters.
 * `what` names it in the message ("source path", "server address"). Returns 0 or -EINVAL. */
int name_validate_seed_safe(const char *what, const char *value, GError **error);

/* The orchestrator's resource name for a libvirt pool name (seed 000): every character other
 * than 0-9 A-Z a-z - _ becomes "-". Returns NULL (and sets error, -EINVAL semantics) when the
 * name holds a multi-byte character: such pools are not detected by the orchestrator. */
char *name_to_resource(const char *pool_name, GError **error);
