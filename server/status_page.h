/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * nfsprovd's status page (GET /): one HTML page, rendered on the server from the snapshot the
 * JSON API reads (server/snapshot.h) and the operations the queue keeps (server/opqueue.h). It
 * presents; it decides nothing (a share's shown status is share_info_status's, the pool
 * definition is the snapshot's).
 *
 * Contract:
 * - status_page_render() gives a whole document (<!DOCTYPE html>, UTF-8) with no external asset:
 *   one inline <style>, one small inline <script>, no style attributes, no images. It shows
 *   every share of the snapshot (its shown status, a capacity bar <meter> of used over the
 *   filesystem's capacity, the requested size, provisioned bytes, volume count and over-commit,
 *   the guard's mode, what runs, whether the root is protected, the findings of the last audit by
 *   kind and their total, the export server and whether the share is mounted, exported and
 *   served, its last error), the pool definition of every share that has one (name, uuid, host,
 *   source path, target path and the libvirt XML hosts are given), and the operations given
 *   (newest first: kind, target, state, HTTP status, error message, step, progress, who asked,
 *   when). A snapshot whose state could not be read shows its error and no shares.
 * - Every value that comes from outside this file goes through status_page_escape(), the one
 *   escaping helper: & < > " ' become entities and bytes that are not UTF-8 become U+FFFD, so
 *   names, paths and messages can hold anything.
 * - The script refreshes the page in place every STATUS_PAGE_REFRESH_S seconds: it fetches the
 *   same URL (credentials of the page's origin, no cache), and replaces the elements #meta and
 *   #status with the new ones; on a failure it keeps the last page and says so in #refresh. It
 *   counts the refreshes in the <body>'s data-refreshes attribute. Without scripts a
 *   <noscript> meta refresh reloads the page.
 * - status_page_csp() is the Content-Security-Policy to send with it: nothing but the inline
 *   style and script of this file (by their SHA-256) and fetches to the page's own origin.
 *   status_page_headers lists the other headers to send (no caching, no sniffing, no referrer).
 * - Pure functions of their input; thread-safe.
 */
#pragma once

#include <stdint.h>

#include <glib.h>

#include "opqueue.h"
#include "snapshot.h"

#define STATUS_PAGE_REFRESH_S 5
/* How many operations the page lists. */
#define STATUS_PAGE_OPERATIONS 20
/* The WWW-Authenticate of the page's 401 on TCP: a browser asks for a user name and password; the
 * password is the token (server/auth.h). */
#define STATUS_PAGE_CHALLENGE "Basic realm=\"nfsprovd\", charset=\"UTF-8\""

typedef struct StatusPageInput {
        const Snapshot *snapshot;
        const GPtrArray *operations; /* OpRecord*, newest first (opqueue_recent); NULL = none */
        const char *host_hint;       /* the pool host when no [server] address is configured (the
                                      * local address the browser reached); may be NULL */
        int64_t now;                 /* unix seconds: when the page was made */
        const char *version;         /* nfsprovd's version */
} StatusPageInput;

/* The page. Newly allocated. */
char *status_page_render(const StatusPageInput *in);

/* The Content-Security-Policy header value for the page. Static. */
const char *status_page_csp(void);

/* Headers to send with the page besides Content-Type and Content-Security-Policy: pairs of name
 * and value, NULL-terminated. */
extern const char *const status_page_headers[];

/* Append text to out as HTML text or attribute value (see above). NULL appends nothing. */
void status_page_escape(GString *out, const char *text);
