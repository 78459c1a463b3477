/* Tests for core/util's small helpers: qs_fmt_num (infinities by name, %.*g otherwise),
 * qs_csv_num (the run's CSV fields: empty for NaN, 9 digits), qs_fmt_roundtrip,
 * qs_fmt_u64, qs_mkdir_p (parents created, existing folders fine, the folder that failed
 * named), the UTF-8 validator shared by proto's decoders and its JSON writer, name lists
 * and enum name tables. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/util.h"
#include "tests/testutil.h"

Test(util, fmt_num)
{
    char b[32];
    cr_assert_str_eq(qs_fmt_num(b, sizeof b, INFINITY, 4), "inf");
    cr_assert_str_eq(qs_fmt_num(b, sizeof b, -INFINITY, 4), "-inf");
    cr_assert_str_eq(qs_fmt_num(b, sizeof b, 1.0 / 3.0, 4), "0.3333");
    cr_assert_str_eq(qs_fmt_num(b, sizeof b, -12345.678, 9), "-12345.678");
    cr_assert_str_eq(qs_fmt_num(b, sizeof b, 2e-7, 4), "2e-07");
}

Test(util, csv_num)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    const double v[] = {NAN, INFINITY, -INFINITY, 0.1, 1.0 / 3.0, 18261320000.0, -0.0, 1e-300};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        qs_csv_num(f, v[i]);
        fputc(',', f);
    }
    fclose(f);
    cr_assert_str_eq(buf, ",inf,-inf,0.1,0.333333333,1.826132e+10,-0,1e-300,");
    free(buf);
}

Test(util, mkdir_p)
{
    char tmp[256], dir[512], at[512];
    tu_tmpdir(tmp, sizeof tmp);
    snprintf(dir, sizeof dir, "%s/a/b/c", tmp);
    cr_assert_eq(qs_mkdir_p(dir, at, sizeof at), 0);
    struct stat st;
    cr_assert(stat(dir, &st) == 0 && S_ISDIR(st.st_mode));
    cr_assert_eq(qs_mkdir_p(dir, at, sizeof at), 0, "existing folders are fine");
    /* a file in the way: the folder that could not be made is named, errno says why */
    snprintf(dir, sizeof dir, "%s/a/file", tmp);
    tu_write_file(dir, "x", 1);
    snprintf(dir, sizeof dir, "%s/a/file/d/e", tmp);
    errno = 0;
    cr_assert_eq(qs_mkdir_p(dir, at, sizeof at), -1);
    cr_assert_eq(errno, ENOTDIR);
    snprintf(dir, sizeof dir, "%s/a/file/d", tmp);
    cr_assert_str_eq(at, dir);
    tu_rmrf(tmp);
}

Test(util, utf8)
{
    static const struct {
        const char *s;
        int valid;
    } cases[] = {
        {"", 1},
        {"plain ascii", 1},
        {"caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x98\x80", 1},
        {"\xf4\x8f\xbf\xbf", 1}, /* U+10FFFF */
        {"\xc0\xaf", 0},         /* overlong '/' */
        {"\xe0\x80\xaf", 0},     /* overlong, 3 bytes */
        {"\xed\xa0\x80", 0},     /* a surrogate */
        {"\xf4\x90\x80\x80", 0}, /* above U+10FFFF */
        {"\xff", 0},             /* never a lead byte */
        {"ok \xe2\x9c", 0},      /* cut short */
        {"\xc3\x28", 0},         /* not a continuation */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        cr_assert_eq(qs_utf8_valid(cases[i].s, strlen(cases[i].s)), cases[i].valid, "case %zu", i);
    cr_assert_eq(qs_utf8_seq((const unsigned char *)"\xe2\x9c\x93!", 4), 3);
    cr_assert_eq(qs_utf8_seq((const unsigned char *)"\xe2\x9c\x93", 2), 0, "n cuts it short");
    cr_assert_eq(qs_utf8_seq((const unsigned char *)"a", 1), 1);
}

Test(util, list_append)
{
    char b[16] = "";
    cr_assert_eq(qs_list_append(b, sizeof b, "self"), 0);
    cr_assert_eq(qs_list_append(b, sizeof b, "copy"), 0);
    cr_assert_str_eq(b, "self, copy");
    cr_assert_eq(qs_list_append(b, sizeof b, "other"), -1);
    cr_assert_str_eq(b, "self, copy, oth", "as much as fitted");
}

Test(util, fmt_u64)
{
    char b[24];
    const uint64_t v[] = {0, 7, 10, 1234567890, UINT64_MAX};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char want[24];
        snprintf(want, sizeof want, "%llu", (unsigned long long)v[i]);
        size_t n = qs_fmt_u64(b, v[i]);
        b[n] = '\0';
        cr_assert_str_eq(b, want);
    }
}

Test(util, name_tables)
{
    static const char *const names[] = {"zero", "one", "two"};
    cr_assert_str_eq(qs_name_of(names, 3, 1), "one");
    cr_assert_str_eq(qs_name_of(names, 3, 3), "?");
    cr_assert_eq(qs_name_index(names, 3, "two"), 2);
    cr_assert_eq(qs_name_index(names, 3, "three"), QS_ERR(INVAL));
    cr_assert_eq(qs_name_index(names, 3, NULL), QS_ERR(INVAL));
}

Test(util, fmt_roundtrip)
{
    char b[40];
    cr_assert_eq(qs_fmt_roundtrip(b, sizeof b, 0.1, 1, 17, 0), 1);
    cr_assert_str_eq(b, "0.1");
    cr_assert_eq(qs_fmt_roundtrip(b, sizeof b, 1.0 / 3.0, 1, 17, 0), 16);
    cr_assert_str_eq(b, "0.3333333333333333");
    cr_assert_eq(qs_fmt_roundtrip(b, sizeof b, 1e9, 1, 17, 0), 1);
    cr_assert_str_eq(b, "1e+09", "printf's %%g: no positional rewrite here");
    cr_assert_eq(qs_fmt_roundtrip(b, sizeof b, 0.1f, 1, 9, 1), 1, "as a float");
    cr_assert_eq(qs_fmt_roundtrip(b, sizeof b, 1.0 / 3.0, 9, 9, 0), 9, "none reads back: hi");
    cr_assert_str_eq(b, "0.333333333");
}
