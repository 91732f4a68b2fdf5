/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* g_autoptr(json_object): drops the reference with json_object_put() at the end of the scope. */
#pragma once

#include <glib.h>
#include <json-c/json.h>

static inline void json_object_unref(json_object *o) {
        json_object_put(o);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(json_object, json_object_unref)
