#!/bin/sh
# py_subprocess.sh - CPython's tests of subprocess (the POSIX process tests:
# pass_fds, close_fds, fd remapping, preexec_fn, signals to children...),
# os, fcntl and select end the same way with snapalloc preloaded, under
# tracing and under `snapalloc check` as in the plain run.  These catch a
# library that takes file descriptors of its own (a pipe, a log file) that a
# program believes free.
set -eu
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/real/py_lib.sh"
py_init py_subprocess

py_select test_subprocess 'POSIXProcessTestCase.*' 'ProcessTestCase.*'
py_select test_os
py_select test_fcntl
py_select test_select
py_check_modes \
    test_subprocess.POSIXProcessTestCase.test_pass_fds_redirected \
    test_subprocess.POSIXProcessTestCase.test_pass_fds \
    test_subprocess.POSIXProcessTestCase.test_close_fds \
    test_subprocess.POSIXProcessTestCase.test_close_fds_0_1_2 \
    test_subprocess.POSIXProcessTestCase.test_swap_fds \
    test_os.FDInheritanceTests.test_dup2
sa_pass
