#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# nfsprovd-shares.sh with [exports] server = ganesha: NFS-Ganesha, rpcbind and a D-Bus system bus
# of the test's own, in its own network namespace; every share checked with ShowExports and real
# NFSv3 I/O through libnfs (assert_exported, nfsprovd-lib.sh).
NP_EXPORT_SERVER=ganesha
. "$NP_TOP_SRCDIR/tests/integration/nfsprovd-shares.sh"
