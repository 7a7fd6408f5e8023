/* common/config_read.c - reading the SNAPALLOC_* variables of the table
 * (common/config.c) into the library's configuration: each module reads
 * its group (trace/config.c, leak/leak.c, alloc/init.c,
 * preload/lifecycle.c).  Runs inside the allocator, possibly before main:
 * secure_getenv only, no allocation, no stdio; a bad value gets one line
 * on fd and the variable's default.
 */
#include "common/config.h"

#include <stdlib.h>
#include <string.h>

#include "common/fmt.h"

static void store(const sa_config_var *v, void *dest, const sa_config_value *val, const char *s)
{
    char *at = (char *)dest + v->offset;
    switch ((sa_config_kind)v->kind) {
    case SA_CONFIG_INT: case SA_CONFIG_BOOL: case SA_CONFIG_SIGNAL: case SA_CONFIG_UNWIND:
    case SA_CONFIG_DEBUG_MODE:
        memcpy(at, &val->i, sizeof val->i);
        break;
    case SA_CONFIG_SECONDS: case SA_CONFIG_BYTES: case SA_CONFIG_PEAK: case SA_CONFIG_GUARD:
        memcpy(at, &val->u, sizeof val->u);
        break;
    case SA_CONFIG_HEURISTICS:
        memcpy(at, &val->mask, sizeof val->mask);
        break;
    case SA_CONFIG_STRING: case SA_CONFIG_NAME:
        memcpy(at, s, (size_t)val->u + 1);   /* length checked: <= max */
        break;
    }
}

/* Store v's default into dest; returns 1 if it is a non-zero number. */
static int store_default(const sa_config_var *v, void *dest)
{
    sa_config_value val = {.u = 0};
    const char *s = "";
    if (v->default_follows) {
        const sa_config_var *f = sa_config_var_find(v->default_follows);
        int other;
        memcpy(&other, (char *)dest + f->offset, sizeof other);   /* an int, read before */
        val.i = other != 0;
    } else if (v->dflt) {
        s = v->dflt;
        sa_config_parse_var(v, s, &val);   /* the table's defaults parse (test_config) */
    }
    store(v, dest, &val, s);
    return v->kind == SA_CONFIG_SECONDS || v->kind == SA_CONFIG_BYTES || v->kind == SA_CONFIG_PEAK ||
           v->kind == SA_CONFIG_GUARD ? val.u != 0 : val.i != 0;
}

int sa_config_read_var(const sa_config_var *v, void *dest, int fd)
{
    int default_on = store_default(v, dest);
    const char *s = secure_getenv(v->name);
    if (!s || (!*s && (v->flags & SA_CONFIG_EMPTY_IS_UNSET)))
        return 0;
    sa_config_value val;
    int rc = sa_config_parse_var(v, s, &val);
    if (rc == 0) {
        store(v, dest, &val, s);
        return 1;
    }
    if (v->warning)
        sa_warn_setting(fd, v->name, s, sa_config_warning(v, rc, default_on));
    if (v->bad_value && sa_config_parse_var(v, v->bad_value, &val) == 0)
        store(v, dest, &val, v->bad_value);
    return -1;
}

void sa_config_read_group(sa_config_group group, void *dest, int fd)
{
    for (unsigned i = 0; i < sa_config_nvars; i++)
        if (sa_config_vars[i].group == group)
            sa_config_read_var(&sa_config_vars[i], dest, fd);
}

const char *sa_config_var_get(const char *name)
{
    const char *s = secure_getenv(name);
    return s && sa_config_var_check(name, s, NULL, NULL) == 0 ? s : NULL;
}
