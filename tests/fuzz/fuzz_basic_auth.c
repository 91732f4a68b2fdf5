/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target for the HTTP Basic credentials nfsprovd reads (server/basic_auth.h): every
 * input is what a client sends after "Authorization: Basic ". The contract is checked:
 * - a failure is -EINVAL with one line of UTF-8 that never holds the input (a secret: it is one
 *   of the module's fixed messages), and leaves the results untouched;
 * - a success gives a user name without ':' and neither it nor the password holds NUL, and
 *   encoding "USER:PASSWORD" gives the input back exactly (after the blanks before it): only
 *   canonical base64 is taken, so one set of credentials has one spelling;
 * - parsing is deterministic.
 * A violated invariant aborts, which libFuzzer reports as a crash with the input saved.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <glib.h>

#include "basic_auth.h"
#include "fuzz_common.h"

const char fuzz_target_name[] = "fuzz_basic_auth";

static const int parse_errors[] = { -EINVAL, 0 };
static const char *const fixed_messages[] = {
        "Basic credentials: not base64 (RFC 4648 alphabet, padded)",
        "Basic credentials: not canonical base64",
        "Basic credentials: a NUL byte in the user name or password",
        "Basic credentials: no ':' between user name and password",
        NULL,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        g_autofree char *value = fuzz_copy_string(data, size);
        char *user = (char *) "untouched", *password = (char *) "untouched";
        g_autoptr(GError) error = NULL;
        int r = basic_auth_parse(value, &user, &password, &error);

        char *user2 = NULL, *password2 = NULL;
        g_autoptr(GError) error2 = NULL;
        int r2 = basic_auth_parse(value, &user2, &password2, &error2);
        FUZZ_CHECK(r == r2, "two parses gave %d and %d", r, r2);

        if (r < 0) {
                fuzz_check_failure("basic_auth_parse", r, error, parse_errors);
                FUZZ_CHECK(strcmp(error->message, error2->message) == 0, "two messages: [%s] [%s]", error->message,
                           error2->message);
                FUZZ_CHECK(strcmp(user, "untouched") == 0 && strcmp(password, "untouched") == 0,
                           "results set on failure");
                /* nothing of the input in the message: it is one of the fixed ones */
                FUZZ_CHECK(g_strv_contains(fixed_messages, error->message), "a message of its own: %s", error->message);
                return 0;
        }
        fuzz_check_success("basic_auth_parse", r, error);
        FUZZ_CHECK(!strchr(user, ':'), "a ':' in the user name");
        FUZZ_CHECK(strcmp(user, user2) == 0 && strcmp(password, password2) == 0, "two parses differ");
        g_autofree char *joined = g_strconcat(user, ":", password, NULL);
        g_autofree char *encoded = g_base64_encode((const guchar *) joined, strlen(joined));
        g_autofree char *shown = fuzz_show(value);
        FUZZ_CHECK(strcmp(encoded, value + strspn(value, " \t")) == 0, "[%s] is not the encoding of what it gave",
                   shown);
        g_free(user);
        g_free(password);
        g_free(user2);
        g_free(password2);
        return 0;
}
