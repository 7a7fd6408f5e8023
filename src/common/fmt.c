/* common/fmt.c - malloc-free formatting (see common/fmt.h). */
#include "common/fmt.h"
#include "common/os.h"

#include <string.h>

size_t sa_fmt_u64(char *dst, uint64_t v)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        dst[i] = tmp[n - 1 - i];
    dst[n] = '\0';
    return n;
}

size_t sa_fmt_hex(char *dst, uint64_t v)
{
    static const char digits[] = "0123456789abcdef";
    char tmp[16];
    size_t n = 0;
    do {
        tmp[n++] = digits[v & 15];
        v >>= 4;
    } while (v);
    dst[0] = '0';
    dst[1] = 'x';
    for (size_t i = 0; i < n; i++)
        dst[2 + i] = tmp[n - 1 - i];
    dst[n + 2] = '\0';
    return n + 2;
}

void sa_buf_init(sa_buf *b, int fd)
{
    b->fd = fd;
    b->err = 0;
    b->len = 0;
}

int sa_buf_flush(sa_buf *b)
{
    if (b->len && !b->err)
        b->err = sa_os_write_all(b->fd, b->data, b->len);
    b->len = 0;
    return b->err;
}

void sa_buf_mem(sa_buf *b, const char *s, size_t n)
{
    while (n > 0) {
        if (b->len == sizeof b->data)
            sa_buf_flush(b);
        size_t room = sizeof b->data - b->len;
        size_t k = n < room ? n : room;
        memcpy(b->data + b->len, s, k);
        b->len += k;
        s += k;
        n -= k;
    }
}

void sa_buf_str(sa_buf *b, const char *s)
{
    sa_buf_mem(b, s, strlen(s));
}

void sa_buf_char(sa_buf *b, char c)
{
    sa_buf_mem(b, &c, 1);
}

void sa_buf_u64(sa_buf *b, uint64_t v)
{
    char tmp[21];
    sa_buf_mem(b, tmp, sa_fmt_u64(tmp, v));
}

void sa_buf_i64(sa_buf *b, int64_t v)
{
    if (v < 0)
        sa_buf_char(b, '-');
    sa_buf_u64(b, v < 0 ? -(uint64_t)v : (uint64_t)v);
}

void sa_buf_hex(sa_buf *b, uint64_t v)
{
    char tmp[20];
    sa_buf_mem(b, tmp, sa_fmt_hex(tmp, v));
}

void sa_buf_u64w(sa_buf *b, uint64_t v, int width)
{
    char tmp[21];
    size_t n = sa_fmt_u64(tmp, v);
    for (int i = (int)n; i < width; i++)
        sa_buf_char(b, ' ');
    sa_buf_mem(b, tmp, n);
}

void sa_warn_setting(int fd, const char *var, const char *val, const char *why)
{
    sa_buf b;
    sa_buf_init(&b, fd);
    sa_buf_str(&b, "snapalloc: ");
    sa_buf_str(&b, var);
    sa_buf_str(&b, "=\"");
    size_t i = 0;
    for (; val[i] && i < 64; i++)
        sa_buf_char(&b, val[i] >= 0x20 && val[i] < 0x7f ? val[i] : '?');
    if (val[i])
        sa_buf_str(&b, "...");
    sa_buf_str(&b, "\": ");
    sa_buf_str(&b, why);
    sa_buf_char(&b, '\n');
    sa_buf_flush(&b);
}

uint64_t sa_parse_hex(const char **pp)
{
    uint64_t v = 0;
    const char *p = *pp;
    for (;; p++) {
        int d;
        if (*p >= '0' && *p <= '9')
            d = *p - '0';
        else if (*p >= 'a' && *p <= 'f')
            d = *p - 'a' + 10;
        else
            break;
        v = v << 4 | (uint64_t)d;
    }
    *pp = p;
    return v;
}
