/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * nfsprov's side of nfsprovd's API: one connection setting (the Unix socket, or a URL with a
 * bearer token and CA file), requests with JSON, streamed uploads and resumable downloads,
 * operations followed to their end, and what the commands print with the answers.
 *
 * Exit statuses: every function that returns an int returns 0, or the exit status after it
 * printed the one error line ("nfsprov: MESSAGE"): CLI_EXIT_INVALID (2) for invalid input or
 * an HTTP 400 answer, EXIT_FAILURE (1) for anything else.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>
#include <json-c/json.h>

#include "cli_http.h"

#define CLI_EXIT_INVALID 2

/* Set once before the first call. */
void cli_target_set(const CliTarget *t);

typedef struct Reply {
        long status;
        GString *body;
        json_object *json;  /* body parsed, when it is JSON */
} Reply;

void reply_free(Reply *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Reply, reply_free)

/* One request; `accept` is a whole header line or NULL for JSON. 0 when nfsprovd answered
 * (any status). */
int cli_call(const char *method, const char *path, json_object *body, const char *accept, Reply **ret);

/* A request that must answer 2xx with JSON. */
int cli_call_json(const char *method, const char *path, json_object *body, Reply **ret);

/* A request that must answer 2xx with JSON holding an array under key: *ret_list (owned by
 * *ret). */
int cli_call_list(const char *method, const char *path, const char *key, Reply **ret, json_object **ret_list);

/* A long operation: when stderr is a terminal, sent without waiting (202), then followed
 * through /v1/operations/{id} with its step shown there; else sent with ?wait=true. *ret holds the operation's status
 * and result (2xx) — a failed operation is printed and returned as its exit status. */
int cli_operation(const char *method, const char *path, json_object *body, const char *what, Reply **ret);

/* PUT path with the whole of fd (length bytes from offset 0) as the body, progress on stderr
 * when it is a terminal, at most max_rate bytes a second (0: no limit). The answer must be 2xx
 * JSON. */
int cli_upload(const char *path, int fd, uint64_t length, const char *what, uint64_t max_rate, Reply **ret);

/* GET path into file: written to FILE.part, continued from there when a previous download of
 * the same content (same ETag, kept in the user.nfsprov.etag attribute) stopped, renamed to
 * file when complete. *ret_bytes: the file's size; *ret_resumed_at: where it continued (0 when
 * it started over). max_rate as for cli_upload(). */
int cli_download(const char *path, const char *file, const char *what, uint64_t max_rate, uint64_t *ret_bytes,
                 uint64_t *ret_resumed_at);

/* The answer's error message (nfsprovd's "error"."message"), as the exit status. */
int reply_failed(const Reply *r);
bool reply_ok(const Reply *r);

const char *jstr(json_object *o, const char *key);
bool jbool(json_object *o, const char *key);
bool jint(json_object *o, const char *key, int64_t *ret);

void print_json(json_object *o);

/* A size of the object for humans ("-" when absent). */
char *format_bytes(json_object *o, const char *key);

/* Columns left-aligned two spaces apart: n_cols titles, then cells row after row (n_cols
 * per row). */
void print_columns(const char *const *titles, size_t n_cols, GPtrArray *cells);

/* The command line's options, as the commands read them. */
typedef struct CliArgs {
        bool json;
        const char *size, *disk, *clients;  /* shares */
        const char *guard;                  /* create --guard */
        const char *capacity, *backing;     /* volumes */
        uint64_t limit_rate;                /* --limit-rate: bytes a second, 0: none */
        bool force, apply, linked, shrink;
        bool adopt, remove;                 /* audit --adopt / --remove */
        bool quarantine, restore, quarantined; /* audit --quarantine / --restore / --quarantined */
} CliArgs;

/* A size given on the command line: 0, or CLI_EXIT_INVALID after the error line. `option`
 * (NULL: none) names it in the message ("--capacity"). */
int cli_parse_size(const char *option, const char *text, uint64_t *ret);
