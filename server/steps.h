/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The one step runner. Every operation on a share (create, delete, resize, reconcile's repairs)
 * is a table of named, idempotent steps; the runner records each step in the state before it
 * runs and after it finished, with a fault point on either side, so that a crash anywhere leaves
 * a state reconcile can finish or undo.
 *
 *   for each step i of [from, to):
 *       record: "done" for the step before (if any) and "begin" for step i, in one commit
 *       fault point OP:STEP          (NFSPROV_FAULT=OP:STEP kills the process here)
 *       run the step
 *       fault point OP:STEP:after
 *   the caller records the last step done together with the operation's end (steps_finish).
 *
 * Recorded operations write the share's (or the volume's, or the quarantined item's) row
 * (operation, step, step_done) with each record;
 * journal-only runs (reconcile's repairs of a ready share) append to the share's journal and
 * leave the row as it is, and record a step only when its check says there is something to do;
 * their entries carry the runner's note as message (guard-remove: the entry it removes).
 * Journal errors are errors: a step whose start cannot be recorded is not run.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <glib.h>

#include "state.h"

typedef int (*StepFn)(void *op, GError **error);

typedef struct Step {
        const char *name;
        StepFn run;
        StepFn undo;                                        /* NULL: nothing to undo */
        bool (*needed)(void *op);                           /* repairs: NULL = always */
} Step;

typedef struct StepTable {
        const char *op; /* "create", "delete", "resize", "reconcile" */
        const Step *steps;
        size_t n;
} StepTable;

/* Called right after a step's start was recorded: index counts from 1 up to total. */
typedef void (*StepProgress)(const char *op, const char *step, unsigned index, unsigned total, void *userdata);

typedef struct StepRunner {
        State *state;
        Share *row;            /* the share's row, kept as the database has it (share operations) */
        Volume *vol;           /* or the volume's row (volume operations: row is NULL) */
        QuarantineItem *quar;  /* or the quarantined item's row (quarantine, restore: row and vol NULL) */
        bool journal_only;     /* repairs: journal entries, the row untouched */
        const char *note;      /* journal-only runs: the message of their entries (NULL: none); what
                                * reconcile needs to finish one that stopped (guard-remove's target) */
        void *op;              /* passed to every step */
        StepProgress progress; /* may be NULL */
        void *userdata;
        unsigned done, total;  /* progress numbering across tables: steps counted so far, of total */
        const char *last_done; /* the last step that ran to its end and is not yet recorded done */
        bool begun;            /* the first step's "begin" is recorded already (with the insert of a
                                * new volume's row: one commit less); steps_run records it only
                                * from the next step on */
} StepRunner;

/* Run steps [from, to) of t. On a failure returns it (with the step's own message) and sets
 * *ret_failed to the step's index; steps before it ran. */
int steps_run(StepRunner *r, const StepTable *t, size_t from, size_t to, size_t *ret_failed, GError **error);

/* Undo steps [0, upto] of t in reverse order (every one, even after a failure: the first
 * failure is returned); each undo is recorded as an "undo" journal entry. */
int steps_undo(StepRunner *r, const StepTable *t, size_t upto, GError **error);

/* Record the last step of `op` done, together with whatever the caller changed in the row (its
 * status at the end of the operation), in one commit. */
int steps_finish(StepRunner *r, const char *op, GError **error);

/* "OP: STEP STEP ...": the table as `nfsprovd --steps` prints it (newly allocated). */
char *steps_describe(const StepTable *t);

/* The index of step `name` in t, or -1. */
int steps_find(const StepTable *t, const char *name);

/* NFSPROV_FAULT=OP:STEP[:after]: die here, as a crash or power loss would (SIGKILL). Without
 * NFSPROV_FAULT, NFSPROV_FAULT_FILE=PATH: the same for the point named by the first line of
 * PATH, read at each fault point (tests name the next point without a restart). */
void steps_fault_point(const char *op, const char *step, bool after);
