#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# nfsprovd-crash.sh with [exports] server = ganesha, with NFS-Ganesha running on: the crash points
# where the export server's state changes or is relied on (create:apply falls between the Ganesha
# file and AddExport; delete and resize unexport before they unmount; reconcile's repairs end
# with the exports), each before and after; shares checked with nfsprovd's file, ShowExports and
# NFSv3 I/O through libnfs. The steps that touch only the disk, the filesystem and fstab are the
# same code for both servers and crashed at by nfsprovd-crash.sh (all 53 points take 4-5 minutes
# here, which CI cannot spend twice).
NP_EXPORT_SERVER=ganesha
NP_CRASH_STEPS="create:export create:apply create:guard delete:unexport delete:umount resize:unexport resize:mount resize:export reconcile:mount reconcile:guard"
. "$NP_TOP_SRCDIR/tests/integration/nfsprovd-crash.sh"
