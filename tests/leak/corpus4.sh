#!/bin/sh
# corpus4.sh - leak corpus, part 4: threads (TLS and stacks of threads
# alive at exit and of exited ones), fork, _exit and a signal handler.
# Each case: memcheck's documented answer at -O0, then at -O2 ("DEF IND
# POS", each BYTES/BLOCKS); see memcheck_lib.sh and the programs' comments.
set -eu
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/leak/memcheck_lib.sh"
mc_init corpus4

# A thread alive at exit: memcheck also finds glibc's dynamic thread
# vector (DTV) possibly lost, reached only 16 bytes in from the thread's
# descriptor: any size there.  The check differs on purpose (README, "Where
# the check differs from memcheck"): the DTV is the dynamic loader's own
# block, a root as in LeakSanitizer, so nothing is lost.
mc_case tls_live_thread "0/0 0/0 */1" "0/0 0/0 */1" "0/0 0/0 0/0" "0/0 0/0 0/0"
mc_case tls_exited_thread "88/1 0/0 0/0" "88/1 0/0 0/0"
mc_case thread_stack_live "0/0 0/0 */1" "0/0 0/0 */1" "0/0 0/0 0/0" "0/0 0/0 0/0"
mc_case thread_stack_exited "72/1 0/0 0/0" "72/1 0/0 0/0"
mc_case thread_lost_list "24/1 216/9 0/0" "24/1 216/9 0/0"
# Two processes: the child's numbers and the parent's (sorted).
mc_case fork_both "100/1 0/0 0/0
100/2 0/0 0/0" "100/1 0/0 0/0
100/2 0/0 0/0"
# At -O2 the pointer is still in a callee-saved register at _exit.
mc_case underscore_exit "64/1 0/0 0/0" "0/0 0/0 0/0"
mc_case signal_handler "48/1 0/0 0/0" "48/1 0/0 0/0"
mc_done
