/* options.h - the command's options that set a library variable (-n,
 * --signal, --interval, --peak, --unwind, --warmup, --heuristics):
 * which SNAPALLOC_* each one sets and its error text (options.c).  Their
 * values are checked by the library's own table (common/config.h), so
 * that an option accepts exactly what the library will read.
 */
#ifndef SA_TOOLS_OPTIONS_H
#define SA_TOOLS_OPTIONS_H

#include <stdint.h>
#include "common/config.h"

typedef struct sa_option_var {
    const char *option;   /* as errors name it: "-n", "--interval" */
    const char *var;      /* the library variable it sets */
    /* SA_CONFIG_INT: the option's own minimum (-n 0 would turn tracing
     * off, which run and check exist to turn on); 0: the variable's. */
    uint64_t floor;
    const char *error;    /* after "snapalloc: OPTION: 'VALUE' " */
} sa_option_var;

extern const sa_option_var sa_option_vars[];
extern const unsigned sa_option_nvars;

/* The row of option, or NULL. */
const sa_option_var *sa_option_find(const char *option);

/* 0 (and *out, when not NULL) if option accepts value, else -1. */
int sa_option_check(const char *option, const char *value, sa_config_value *out);

#endif
