#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# nfsprovd-reboot.sh with [exports] server = ganesha: NFS-Ganesha killed with the rest and started
# again before nfsprovd (it reads nfsprovd's file while no share is mounted); every share served
# again, checked with ShowExports and real NFSv3 I/O through libnfs (assert_exported).
NP_EXPORT_SERVER=ganesha
. "$NP_TOP_SRCDIR/tests/integration/nfsprovd-reboot.sh"
