/* fmt.c (malloc-free formatting) and meta.c (the metadata allocator). */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "common/fmt.h"
#include "alloc/meta.h"

Test(fmt, numbers)
{
    char b[32];
    cr_assert_eq(sa_fmt_u64(b, 0), 1);
    cr_assert_str_eq(b, "0");
    cr_assert_eq(sa_fmt_u64(b, 18446744073709551615ull), 20);
    cr_assert_str_eq(b, "18446744073709551615");
    cr_assert_eq(sa_fmt_hex(b, 0x7f00deadbeef), 14);
    cr_assert_str_eq(b, "0x7f00deadbeef");
    cr_assert_eq(sa_fmt_hex(b, 0), 3);
    cr_assert_str_eq(b, "0x0");
}

static size_t drain(int fd, char *out, size_t max)
{
    size_t n = 0;
    ssize_t k;
    while (n < max && (k = read(fd, out + n, max - n)) > 0)
        n += (size_t)k;
    return n;
}

Test(fmt, buffer_flushes_in_order_past_its_size)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    sa_buf b;
    sa_buf_init(&b, p[1]);
    for (int i = 0; i < 500; i++) {   /* ~3 KiB: several flushes */
        sa_buf_u64w(&b, (uint64_t)i, 5);
        sa_buf_char(&b, '\n');
    }
    cr_assert_eq(sa_buf_flush(&b), 0);
    close(p[1]);
    static char got[8192];
    size_t n = drain(p[0], got, sizeof got);
    cr_assert_eq(n, 500 * 6);
    cr_assert_eq(memcmp(got, "    0\n    1\n", 12), 0);
    cr_assert_eq(memcmp(got + 499 * 6, "  499\n", 6), 0);
}

Test(fmt, write_error_is_reported)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    close(p[0]);
    signal(SIGPIPE, SIG_IGN);
    sa_buf b;
    sa_buf_init(&b, p[1]);
    sa_buf_str(&b, "lost");
    cr_assert_eq(sa_buf_flush(&b), -EPIPE);
}

Test(fmt, setting_warning_is_one_clean_line)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    char val[200];
    memset(val, 'x', sizeof val - 1);
    val[sizeof val - 1] = '\0';
    val[3] = '\n';
    val[4] = '\033';
    sa_warn_setting(p[1], "SNAPALLOC_X", val, "why");
    close(p[1]);
    char got[512];
    size_t n = drain(p[0], got, sizeof got - 1);
    got[n] = '\0';
    cr_assert_str_eq(got, "snapalloc: SNAPALLOC_X=\"xxx??" "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...\": why\n");
}

Test(fmt, parse_hex_stops_at_the_first_non_digit)
{
    const char *s = "7f12ab00-7f12ac00 rw-p";
    const char *p = s;
    cr_assert_eq(sa_parse_hex(&p), 0x7f12ab00);
    cr_assert_eq(*p, '-');
    p++;
    cr_assert_eq(sa_parse_hex(&p), 0x7f12ac00);
    cr_assert_eq(p, s + 17);
    p = "zz";
    cr_assert_eq(sa_parse_hex(&p), 0);
}

Test(meta, pieces_are_zeroed_aligned_and_reused)
{
    unsigned char *a = sa_meta_alloc(100);   /* a 128-byte piece */
    cr_assert_not_null(a);
    cr_assert_eq((uintptr_t)a % 128, 0);
    for (int i = 0; i < 128; i++)
        cr_assert_eq(a[i], 0);
    memset(a, 0xee, 128);
    sa_meta_free(a, 100);
    unsigned char *b = sa_meta_alloc(128);
    cr_assert_eq(b, a, "a freed piece of the same size class is reused");
    for (int i = 0; i < 128; i++)
        cr_assert_eq(b[i], 0, "reused pieces are zeroed again");
    void *page = sa_meta_alloc(5000);        /* 8 KiB piece: page aligned */
    cr_assert_eq((uintptr_t)page % 4096, 0);
    cr_assert_null(sa_meta_alloc(0));
    cr_assert_null(sa_meta_alloc((2u << 20)), "pieces above 1 MiB are refused");
    cr_assert_geq(sa_meta_bytes(), 1u << 20);
}
