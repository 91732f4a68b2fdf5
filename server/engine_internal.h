/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the engine's files share with one another (engine.c: shares; engine_volumes.c: volumes)
 * and nothing else includes.
 */
#pragma once

#include "engine.h"

struct Engine {
        Config *config;
        State *state;
        EngineSystem sys;
        EngineProgress progress;
        void *progress_userdata;
};

/* The share called name. -ENOENT: "OP NAME: no such share"; a database error is passed on as
 * it is (an error of the server, never "not found"). op may be NULL. */
int engine_get_share(Engine *e, const char *op, const char *name, Share **ret, GError **error);

/* The StepRunner progress callback that forwards to engine_set_progress()'s (userdata: Engine). */
void engine_runner_progress(const char *op, const char *step, unsigned index, unsigned total, void *userdata);

/* engine_volumes.c, for the share operations: */

/* The volumes' step tables, one line each, appended to lines. */
void engine_volume_steps(GPtrArray *lines);
/* The share's volumes: the sum of their virtual sizes and their names. */
int engine_volumes_of(Engine *e, const char *share, uint64_t *ret_provisioned, GPtrArray **ret_names, GError **error);
/* Finish or undo the volume operations of the share that stopped (reconcile). */
void engine_volumes_reconcile(Engine *e, const Share *share, GPtrArray *changes, GPtrArray *problems);
