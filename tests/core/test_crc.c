/* Tests for qs_crc32 (core/util.c): the check value of the CRC-32 catalogue, and bit-for-bit
 * agreement with zlib's crc32() for every length up to 1,100 bytes at every alignment, plus
 * large buffers (the carry-less-multiplication path where the CPU has it, zlib's
 * elsewhere). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <zlib.h>

#include "core/rng.h"
#include "core/util.h"

Test(crc, check_value)
{
    cr_assert_eq(qs_crc32("123456789", 9), 0xcbf43926u);
    cr_assert_eq(qs_crc32("", 0), 0);
}

static uint32_t zlib_crc(const unsigned char *p, size_t n)
{
    return (uint32_t)crc32(crc32(0L, Z_NULL, 0), p, (uInt)n);
}

Test(crc, agrees_with_zlib_at_every_length_and_alignment)
{
    enum { MAX = 1100, ALIGN = 16 };
    unsigned char *buf = malloc(MAX + ALIGN);
    qs_rng_t r;
    qs_rng_init(&r, 3, qs_rng_stream(QS_STREAM_TEST, 3));
    for (size_t i = 0; i < MAX + ALIGN; i++)
        buf[i] = (unsigned char)qs_rng_u32(&r);
    for (size_t off = 0; off < ALIGN; off++)
        for (size_t n = 0; n <= MAX; n++)
            cr_assert_eq(qs_crc32(buf + off, n), zlib_crc(buf + off, n), "offset %zu length %zu",
                         off, n);
    free(buf);
}

Test(crc, agrees_with_zlib_on_large_buffers)
{
    size_t sizes[] = {84400, 84666, 1000003, (size_t)3 << 20};
    qs_rng_t r;
    qs_rng_init(&r, 4, qs_rng_stream(QS_STREAM_TEST, 4));
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        unsigned char *buf = malloc(sizes[k]);
        for (size_t i = 0; i < sizes[k]; i++)
            buf[i] = (unsigned char)qs_rng_u32(&r);
        cr_assert_eq(qs_crc32(buf, sizes[k]), zlib_crc(buf, sizes[k]), "size %zu", sizes[k]);
        memset(buf, 0xff, sizes[k]);
        cr_assert_eq(qs_crc32(buf, sizes[k]), zlib_crc(buf, sizes[k]), "size %zu, ones", sizes[k]);
        free(buf);
    }
}
