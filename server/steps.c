/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "log.h"
#include "macro.h"
#include "steps.h"

/* The fault point wanted now: NFSPROV_FAULT, else the first line of NFSPROV_FAULT_FILE, read at
 * every fault point (a test names the next point without restarting the daemon); NULL: none. */
static const char *fault_wanted(char *buf, size_t size) {
        const char *f = getenv("NFSPROV_FAULT");
        if (f && *f)
                return f;
        const char *file = getenv("NFSPROV_FAULT_FILE");
        if (!file || !*file)
                return NULL;
        _cleanup_close_ int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return NULL;
        ssize_t n = read(fd, buf, size - 1);
        if (n <= 0)
                return NULL;
        buf[n] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        return *buf ? buf : NULL;
}

void steps_fault_point(const char *op, const char *step, bool after) {
        char buf[256];
        const char *f = fault_wanted(buf, sizeof buf);
        if (!f)
                return;
        g_autofree char *here = g_strdup_printf("%s:%s%s", op, step, after ? ":after" : "");
        if (strcmp(f, here) != 0)
                return;
        fprintf(stderr, "nfsprovd: NFSPROV_FAULT=%s: killing myself\n", f);
        fflush(stderr);
        raise(SIGKILL);
}

char *steps_describe(const StepTable *t) {
        GString *l = g_string_new(t->op);
        g_string_append_c(l, ':');
        for (size_t i = 0; i < t->n; i++)
                g_string_append_printf(l, " %s", t->steps[i].name);
        return g_string_free(l, FALSE);
}

int steps_find(const StepTable *t, const char *name) {
        for (size_t i = 0; name && i < t->n; i++)
                if (strcmp(t->steps[i].name, name) == 0)
                        return (int) i;
        return -1;
}

/* Record "done" for r->last_done and "begin" for `begin` (either may be NULL). */
static int record(StepRunner *r, const char *op, const char *begin, GError **error) {
        int ret;
        if (r->journal_only) {
                if (r->last_done) {
                        ret = state_journal_add(r->state, r->row->name, NULL, op, r->last_done, "done", r->note, error);
                        if (ret < 0)
                                return ret;
                }
                if (begin) {
                        ret = state_journal_add(r->state, r->row->name, NULL, op, begin, "begin", r->note, error);
                        if (ret < 0)
                                return ret;
                }
        } else if (r->quar) {
                if (g_strcmp0(r->quar->operation, op) != 0) {
                        g_free(r->quar->operation);
                        r->quar->operation = g_strdup(op);
                }
                if (begin) {
                        g_free(r->quar->step);
                        r->quar->step = g_strdup(begin);
                        r->quar->step_done = false;
                } else
                        r->quar->step_done = true;
                ret = state_quarantine_advance(r->state, r->quar, op, r->last_done, begin, error);
                if (ret < 0)
                        return ret;
        } else {
                char **operation = r->vol ? &r->vol->operation : &r->row->operation;
                char **step = r->vol ? &r->vol->step : &r->row->step;
                bool *step_done = r->vol ? &r->vol->step_done : &r->row->step_done;
                if (g_strcmp0(*operation, op) != 0) {
                        g_free(*operation);
                        *operation = g_strdup(op);
                }
                if (begin) {
                        g_free(*step);
                        *step = g_strdup(begin);
                        *step_done = false;
                } else
                        *step_done = true;
                ret = r->vol ? state_volume_advance(r->state, r->vol, op, r->last_done, begin, error)
                             : state_step_advance(r->state, r->row, op, r->last_done, begin, error);
                if (ret < 0)
                        return ret;
        }
        r->last_done = NULL;
        return 0;
}

int steps_run(StepRunner *r, const StepTable *t, size_t from, size_t to, size_t *ret_failed, GError **error) {
        for (size_t i = from; i < to && i < t->n; i++) {
                const Step *st = &t->steps[i];
                if (r->journal_only && st->needed && !st->needed(r->op))
                        continue;
                int ret = r->begun ? 0 : record(r, t->op, st->name, error);
                r->begun = false;
                if (ret < 0) {
                        if (ret_failed)
                                *ret_failed = i;
                        return ret;
                }
                r->done++;
                if (r->progress)
                        r->progress(t->op, st->name, r->done, MAX(r->total, r->done), r->userdata);
                steps_fault_point(t->op, st->name, false);
                gint64 t0 = g_get_monotonic_time();
                ret = st->run(r->op, error);
                log_debug("%s %s: step %s %s in %.1f ms", t->op,
                          r->quar ? r->quar->name : r->vol ? r->vol->name : r->row->name, st->name,
                          ret < 0 ? "failed" : "ran",
                          (double) (g_get_monotonic_time() - t0) / 1000.0);
                if (ret < 0) {
                        if (ret_failed)
                                *ret_failed = i;
                        return ret;
                }
                steps_fault_point(t->op, st->name, true);
                r->last_done = st->name;
                if (r->journal_only) {
                        ret = record(r, t->op, NULL, error);
                        if (ret < 0) {
                                if (ret_failed)
                                        *ret_failed = i;
                                return ret;
                        }
                }
        }
        return 0;
}

int steps_undo(StepRunner *r, const StepTable *t, size_t upto, GError **error) {
        int ret = 0;
        for (size_t i = MIN(upto + 1, t->n); i-- > 0;) {
                const Step *st = &t->steps[i];
                if (!st->undo)
                        continue;
                g_autoptr(GError) err = NULL;
                int q = st->undo(r->op, &err);
                /* The journal says what happened to every undo, whatever happened. */
                g_autoptr(GError) jerr = NULL;
                const char *share = r->row ? r->row->name : r->vol ? r->vol->share : r->quar->share;
                int j = state_journal_add(r->state, share, r->vol ? r->vol->name : NULL, t->op, st->name,
                                          q < 0 ? "fail" : "undo",
                                          q < 0 ? err->message : r->quar ? r->quar->name : NULL, &jerr);
                if (ret == 0 && q < 0)
                        ret = np_fail_prefix(error, g_steal_pointer(&err), "undo of step %s", st->name);
                else if (ret == 0 && j < 0)
                        ret = np_fail_prefix(error, g_steal_pointer(&jerr), "undo of step %s", st->name);
        }
        return ret;
}

int steps_finish(StepRunner *r, const char *op, GError **error) {
        if (r->journal_only)
                return r->last_done ? record(r, op, NULL, error) : 0;
        int ret;
        if (r->quar) {
                r->quar->step_done = true;
                ret = state_quarantine_advance(r->state, r->quar, op, r->last_done, NULL, error);
        } else if (r->vol) {
                r->vol->step_done = true;
                ret = state_volume_advance(r->state, r->vol, op, r->last_done, NULL, error);
        } else {
                r->row->step_done = true;
                ret = state_step_advance(r->state, r->row, op, r->last_done, NULL, error);
        }
        if (ret < 0)
                return ret;
        r->last_done = NULL;
        return 0;
}
