/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * nfsprov's volume commands (vol-*): each takes the share, then the volume (and a second
 * volume name or a local file), already checked by name; returns 0 or the exit status after
 * its one error line. What they send and print is in nfsprov(8).
 */
#pragma once

#include "cli_api.h"

int cli_vol_create(const CliArgs *a, char *const *args);    /* SHARE VOL */
int cli_vol_list(const CliArgs *a, char *const *args);      /* SHARE */
int cli_vol_info(const CliArgs *a, char *const *args);      /* SHARE VOL */
int cli_vol_clone(const CliArgs *a, char *const *args);     /* SHARE SRC NEW */
int cli_vol_resize(const CliArgs *a, char *const *args);    /* SHARE VOL */
int cli_vol_delete(const CliArgs *a, char *const *args);    /* SHARE VOL */
int cli_vol_wipe(const CliArgs *a, char *const *args);      /* SHARE VOL */
int cli_vol_upload(const CliArgs *a, char *const *args);    /* SHARE VOL FILE */
int cli_vol_download(const CliArgs *a, char *const *args);  /* SHARE VOL FILE */
