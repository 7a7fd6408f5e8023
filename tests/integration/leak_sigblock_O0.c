/* leak_sigblock_O0.c - leak_sigblock.c at -O0 (automake's CFLAGS come
 * after the per-program ones, so the level is set here). */
#pragma GCC optimize("O0")
#include "leak_sigblock.c"
