/* common/config_parse.h - the parsers of snapalloc's settings, one definition for
 * the library (environment variables, trace/config.c, leak/leak.c) and the
 * command (its options, tools/), so the two accept exactly the same
 * values.  Pure functions: string in, value out, 0 or -1; no allocation,
 * no state, safe inside the allocator.
 */
#ifndef SA_CONFIG_PARSE_H
#define SA_CONFIG_PARSE_H

#include <stdint.h>

#define SA_TRACE_DEFAULT_FRAMES 32   /* snapalloc_start(0), the check, -n's default */
#define SA_CONFIG_MAX_FRAMES 128     /* = SNAPALLOC_MAX_FRAMES */
enum { SA_UNWIND_LIBUNWIND = 0, SA_UNWIND_FP = 1 };
/* The leak check's stop signal is SIGRTMIN + this (never a snapshot's). */
#define SA_LEAK_SIGNAL_OFFSET 6

/* Decimal digits only, min <= value <= max; no sign, space or suffix. */
int sa_config_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
int sa_config_parse_depth(const char *s, int *out);        /* 0..128 */
int sa_config_parse_bool(const char *s, int *out);         /* 0 or 1 */
/* A name (USR2, SIGUSR2, any case) or number: 0 if allowed,
 * SA_SIGNAL_REFUSED if it is a signal a snapshot handler must not take
 * (common/config_parse.c), -1 if none. */
#define SA_SIGNAL_REFUSED (-2)
int sa_config_parse_signal(const char *s, int *out);
/* Seconds with an optional fraction, from 0.001 to 1000000000. */
int sa_config_parse_seconds(const char *s, uint64_t *ns);
#define SA_CONFIG_SECONDS_RANGE "from 0.001 to 1000000000"
/* Bytes: digits, an optional K, M or G (powers of 1024), an optional "B"
 * ("iB" after a multiplier): 64, 64K, 64KiB, 1MB.  _size allows 0. */
int sa_config_parse_size(const char *s, uint64_t *out);
int sa_config_parse_bytes(const char *s, uint64_t *out);   /* > 0 */
int sa_config_parse_unwind(const char *s, int *out);       /* libunwind, fp */
int sa_config_parse_debug_mode(const char *s, int *out);   /* 0, 1, report -> 0, 1, 2 */
#define SA_GUARD_DEFAULT_RATE 5000u   /* SNAPALLOC_GUARD=1 or on: 1 in 5000 */
#define SA_GUARD_EVERY 1u             /* SNAPALLOC_GUARD=all: every allocation */
#define SA_GUARD_MAX_RATE ((uint64_t)1 << 30)
#define SA_GUARD_DEFAULT_SLOTS "256"  /* SNAPALLOC_GUARD_SLOTS */
#define SA_GUARD_DEFAULT_PER_SEC "1000"   /* SNAPALLOC_GUARD_PER_SEC */
/* SNAPALLOC_GUARD: 0 or off -> 0; 1 or on -> SA_GUARD_DEFAULT_RATE; all ->
 * 1 (every allocation); N from 2 to 2^30 -> N (1 in N on average). */
int sa_config_parse_guard(const char *s, uint64_t *out);

#endif
