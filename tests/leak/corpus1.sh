#!/bin/sh
# corpus1.sh - leak corpus, part 1: leaks in callees, cycles, lists,
# trees, globals, interior pointers.
# Each case: memcheck's documented answer at -O0, then at -O2 ("DEF IND
# POS", each BYTES/BLOCKS); see memcheck_lib.sh and the programs' comments.
set -eu
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/leak/memcheck_lib.sh"
mc_init corpus1

mc_case callee_lost "64/1 0/0 0/0" "64/1 0/0 0/0"
mc_case three_helpers "1095936/111 0/0 0/0" "1095936/111 0/0 0/0"
mc_case cycle2 "32/1 32/1 0/0" "32/1 32/1 0/0"
mc_case self_cycle "40/1 0/0 0/0" "40/1 0/0 0/0"
mc_case lost_cycle_tail "64/1 96/3 0/0" "64/1 96/3 0/0"
mc_case lost_tree "48/1 1440/30 0/0" "48/1 1440/30 0/0"
mc_case lost_list "32/1 31968/999 0/0" "32/1 31968/999 0/0"
mc_case global_overwritten "64/1 0/0 0/0" "64/1 0/0 0/0"
mc_case reachable_chain "0/0 0/0 0/0" "0/0 0/0 0/0"
mc_case interior_only "0/0 0/0 100/1" "0/0 0/0 100/1"
mc_done
