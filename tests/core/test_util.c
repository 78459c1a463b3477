/* Tests for core/util's number text and folders: qs_fmt_num (infinities by name, %.*g
 * otherwise), qs_csv_num (the run's CSV fields: empty for NaN, 9 digits) and qs_mkdir_p
 * (parents created, existing folders fine, the folder that failed named). */
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
