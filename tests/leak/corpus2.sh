#!/bin/sh
# corpus2.sh - leak corpus, part 2: C++ containers, shared_ptr cycles,
# new[] cookies, memcheck's four interior-pointer heuristics, calloc'ed
# pointer arrays, strdup.
# Each case: memcheck's documented answer at -O0, then at -O2 ("DEF IND
# POS", each BYTES/BLOCKS); see memcheck_lib.sh and the programs' comments.
set -eu
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/leak/memcheck_lib.sh"
mc_init corpus2

mc_case cxx_vector_strings "24/1 730/11 0/0" "24/1 730/11 0/0"
mc_case cxx_map "48/1 800/20 0/0" "48/1 800/20 0/0"
mc_case shared_ptr_cycle "32/1 32/1 0/0" "32/1 32/1 0/0"
mc_case newarray_lost "168/1 0/0 0/0" "168/1 0/0 0/0"
# The heuristics: the block is reachable for memcheck (default
# --leak-check-heuristics=all), so nothing is lost.
mc_case heur_stdstring "0/0 0/0 0/0" "0/0 0/0 0/0"
mc_case heur_length64 "0/0 0/0 0/0" "0/0 0/0 0/0"
mc_case heur_newarray "0/0 0/0 0/0" "0/0 0/0 0/0"
mc_case heur_multi_inherit "0/0 0/0 0/0" "0/0 0/0 0/0"
mc_case calloc_ptr_array "400/1 1200/50 0/0" "400/1 1200/50 0/0"
mc_case strdup_lost "36/6 0/0 0/0" "36/6 0/0 0/0"
mc_done
