/* options.c - the command's options that set a library variable, each
 * checked by the library's table entry for that variable (options.h), so
 * `snapalloc run --interval X` fails exactly when SNAPALLOC_INTERVAL=X
 * would be warned about and ignored (tests/unit/test_config.c).
 */
#include "options.h"

#include <string.h>

#define STR_(x) #x
#define STR(x) STR_(x)
#define SECONDS_ERROR "is not a number of seconds " SA_CONFIG_SECONDS_RANGE " (e.g. 5, 0.5)"

_Static_assert(SA_CONFIG_MAX_FRAMES == 128, "the -n error names the limit");

const sa_option_var sa_option_vars[] = {
    {"-n", "SNAPALLOC_TRACE", 1, "is not a number of frames between 1 and " STR(SA_CONFIG_MAX_FRAMES)},
    {"--signal", "SNAPALLOC_SIGNAL", 0,
     "is not a usable signal (USR1, USR2, WINCH, URG, CHLD, CONT or a real-time signal: one "
     "whose default action does not end or stop the program)"},
    {"--interval", "SNAPALLOC_INTERVAL", 0, SECONDS_ERROR},
    {"--peak", "SNAPALLOC_PEAK", 0, "is not auto, off, 0 or a positive size in bytes (K, M, G suffixes allowed)"},
    {"--unwind", "SNAPALLOC_UNWIND", 0, "is not one of libunwind, fp"},
    {"--sample", "SNAPALLOC_SAMPLE", 0,
     "is not a sampling interval from 1 byte to 1G (K, M, G suffixes allowed)"},
    {"--warmup", "SNAPALLOC_CHECK_WARMUP", 0, SECONDS_ERROR},
    {"--debug", "SNAPALLOC_DEBUG", 0, "is not 1 or report"},
    {"--guard", "SNAPALLOC_GUARD", 0, "is not on, off, all or a rate from 2 to 1073741824"},
    {"--heuristics", "SNAPALLOC_CHECK_HEURISTICS", 0,
     "is not all, none or a comma list of stdstring, length64, newarray, multipleinheritance"},
};
const unsigned sa_option_nvars = sizeof sa_option_vars / sizeof sa_option_vars[0];

const sa_option_var *sa_option_find(const char *option)
{
    for (unsigned i = 0; i < sa_option_nvars; i++)
        if (strcmp(sa_option_vars[i].option, option) == 0)
            return &sa_option_vars[i];
    return NULL;
}

int sa_option_check(const char *option, const char *value, sa_config_value *out)
{
    const sa_option_var *o = sa_option_find(option);
    const sa_config_var *v = o ? sa_config_var_find(o->var) : NULL;
    sa_config_value val;
    if (!v || sa_config_var_check(o->var, value, &val, NULL) != 0)
        return -1;
    if (v->kind == SA_CONFIG_INT && (uint64_t)val.i < o->floor)
        return -1;
    if (out)
        *out = val;
    return 0;
}
