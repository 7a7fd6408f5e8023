/* common/fmt.h - formatting without malloc or stdio, for messages and statistics
 * printed from inside the allocator (and from signal-driven paths).
 *
 * An sa_buf is a fixed buffer on the caller's stack; when it fills up it is
 * flushed to its file descriptor.  Appends never fail; a write error is
 * remembered in err and reported by sa_buf_flush.
 */
#ifndef SA_FMT_H
#define SA_FMT_H

#include <stddef.h>
#include <stdint.h>

typedef struct sa_buf {
    int fd;
    int err;       /* first negative errno from write, or 0 */
    size_t len;
    char data[1024];
} sa_buf;

void sa_buf_init(sa_buf *b, int fd);
void sa_buf_str(sa_buf *b, const char *s);
void sa_buf_mem(sa_buf *b, const char *s, size_t n);
void sa_buf_char(sa_buf *b, char c);
void sa_buf_u64(sa_buf *b, uint64_t v);
void sa_buf_i64(sa_buf *b, int64_t v);
/* 0x-prefixed hexadecimal. */
void sa_buf_hex(sa_buf *b, uint64_t v);
/* Right-aligned in a field of width characters. */
void sa_buf_u64w(sa_buf *b, uint64_t v, int width);
int sa_buf_flush(sa_buf *b);

/* Decimal/hex into a caller buffer; return the length (no NUL counted,
 * but a NUL is written).  dst needs 21 bytes for decimal, 19 for hex. */
size_t sa_fmt_u64(char *dst, uint64_t v);
size_t sa_fmt_hex(char *dst, uint64_t v);

/* The one-line warning for a malformed environment setting:
 * `snapalloc: VAR="value": why` (the value cut at 64 bytes, control
 * characters shown as '?'). */
void sa_warn_setting(int fd, const char *var, const char *val, const char *why);

/* Parse lower-case hex digits at *pp (as /proc files print them), advance
 * *pp past them. */
uint64_t sa_parse_hex(const char **pp);

#endif
