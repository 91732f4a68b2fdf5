#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# nfsprovd-crash.sh with [exports] server = ganesha: every crash point of create, delete, resize
# and reconcile with NFS-Ganesha running on (create:apply falls between the Ganesha file and
# AddExport); shares checked with nfsprovd's file, ShowExports and NFSv3 I/O through libnfs.
NP_EXPORT_SERVER=ganesha
. "$NP_TOP_SRCDIR/tests/integration/nfsprovd-crash.sh"
