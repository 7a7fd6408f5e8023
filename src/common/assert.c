/* common/assert.c - the report of a failed sa_assert (common/assert.h):
 * one line on stderr, written at once from a stack buffer (no stdio, no
 * malloc, async-signal-safe), then abort(). */
#include <stdlib.h>

#include "common/assert.h"
#include "common/fmt.h"
#include "common/os.h"

void sa_assert_fail(const char *expr, const char *file, int line, const char *func)
{
    sa_buf b;
    sa_buf_init(&b, sa_os_stderr());
    sa_buf_str(&b, "snapalloc: assertion failed: ");
    sa_buf_str(&b, expr);
    sa_buf_str(&b, " (");
    sa_buf_str(&b, file);
    sa_buf_char(&b, ':');
    sa_buf_u64(&b, (uint64_t)line);
    sa_buf_str(&b, ", ");
    sa_buf_str(&b, func);
    sa_buf_str(&b, ")\n");
    sa_buf_flush(&b);
    abort();
}
