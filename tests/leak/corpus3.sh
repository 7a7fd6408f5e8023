#!/bin/sh
# corpus3.sh - leak corpus, part 3: what memory holds - never-written
# fields, freed-and-reused blocks, XOR-hidden and misaligned pointers,
# realloc chains, the program's own mmap'ed memory, dlopen'ed libraries,
# a copy of the environment (its numbers are the environment's: memcheck
# and the check run the program with the same one), and two clean programs.
# Each case: memcheck's documented answer at -O0, then at -O2 ("DEF IND
# POS", each BYTES/BLOCKS); see memcheck_lib.sh and the programs' comments.
set -eu
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/leak/memcheck_lib.sh"
mc_init corpus3

mc_case unwritten_field "32/1 0/0 0/0" "32/1 0/0 0/0"
mc_case freed_reused "100/1 0/0 0/0" "100/1 0/0 0/0"
mc_case xor_hidden "128/1 0/0 0/0" "128/1 0/0 0/0"
mc_case packed_misaligned "96/1 0/0 0/0" "96/1 0/0 0/0"
mc_case realloc_chain "4096/1 0/0 0/0" "4096/1 0/0 0/0"
mc_case mmap_anon "0/0 0/0 0/0" "0/0 0/0 0/0"
mc_case mmap_shared_file "0/0 0/0 0/0" "0/0 0/0 0/0"
mc_case dlopen_keep "200/1 0/0 0/0" "200/1 0/0 0/0"
mc_case dlopen_close "208/2 0/0 0/0" "208/2 0/0 0/0"
mc_case env_copy "*/1 */* 0/0" "*/1 */* 0/0"
mc_case clean_freed "0/0 0/0 0/0" "0/0 0/0 0/0"
mc_case clean_globals "0/0 0/0 0/0" "0/0 0/0 0/0"
mc_done
