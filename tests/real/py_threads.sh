#!/bin/sh
# py_threads.sh - CPython's tests of threading and signal (locks,
# conditions, barriers, thread exit at shutdown, fork with threads, signal
# handlers, wakeup fds, sigwait, pthread_kill, itimers) end the same way with
# snapalloc preloaded, under tracing and under `snapalloc check` as in the
# plain run.  Left out of test_signal for time: SiginterruptTest (a 30 s
# test, and children that sleep) and the StressTest timing measurements.
set -eu
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/real/py_lib.sh"
py_init py_threads

py_select test_threading
py_select test_signal 'GenericTests.*' 'PosixTests.*' 'WakeupFDTests.*' \
    'WakeupSignalTests.*' 'PendingSignalsTests.*' 'ItimerTest.*' \
    'WakeupSocketSignalTests.*' 'RaiseSignalTest.*' 'PidfdSignalTest.*'
py_check_modes \
    test_threading.ThreadTests.test_various_ops \
    test_threading.ThreadJoinOnShutdown.test_1_join_on_shutdown \
    test_signal.WakeupSignalTests.test_wakeup_fd_early \
    test_signal.PendingSignalsTests.test_pthread_kill
sa_pass
