/* Tests for core/idx: valid files (plain and gzip) load; every kind of malformed file is
 * rejected with an error naming the file and the defect. The files are built here. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <zlib.h>

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

TestSuite(idx, .init = setup, .fini = teardown);

/* Payload bytes: valid labels (0..9) and poorly compressible, so gzip cuts bite. */
static unsigned char pattern(size_t i)
{
    return (unsigned char)(((uint32_t)i * 2654435761u) >> 13) % 10;
}

/* An IDX byte image: header (magic type ndims, dims) + payload from a pattern. */
static size_t make_idx(unsigned char *buf, unsigned type, unsigned ndims, const uint32_t *dims,
                       size_t payload)
{
    buf[0] = 0, buf[1] = 0, buf[2] = (unsigned char)type, buf[3] = (unsigned char)ndims;
    for (unsigned i = 0; i < ndims; i++)
        qs_store_be32(buf + 4 + 4 * i, dims[i]);
    size_t head = 4 + 4 * ndims;
    for (size_t i = 0; i < payload; i++)
        buf[head + i] = pattern(i);
    return head + payload;
}

static void write_gz(const char *path, const void *data, size_t len)
{
    gzFile f = gzopen(path, "wb");
    cr_assert(f);
    cr_assert_eq(gzwrite(f, data, (unsigned)len), (int)len);
    cr_assert_eq(gzclose(f), Z_OK);
}

static char *path_in(const char *name)
{
    static char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return p;
}

Test(idx, reads_plain_images)
{
    unsigned char buf[4096];
    uint32_t dims[3] = {3, 4, 5};
    size_t n = make_idx(buf, 0x08, 3, dims, 60);
    tu_write_file(path_in("img"), buf, n);
    qs_idx_t idx;
    qs_error_t err = {0};
    cr_assert_eq(qs_idx_read(&idx, path_in("img"), 3, &err), 0, "%s", err.msg);
    cr_assert_eq(idx.ndims, 3);
    cr_assert_eq(idx.dims[0], 3);
    cr_assert_eq(idx.dims[2], 5);
    cr_assert_eq(idx.size, 60);
    cr_assert_arr_eq(idx.data, buf + 16, 60);
    qs_idx_destroy(&idx);
}

Test(idx, reads_gzip_like_plain)
{
    unsigned char buf[4096];
    uint32_t dims[3] = {2, 28, 28};
    size_t n = make_idx(buf, 0x08, 3, dims, 2 * 784);
    write_gz(path_in("img.gz"), buf, n);
    qs_idx_t idx;
    qs_error_t err = {0};
    cr_assert_eq(qs_idx_read(&idx, path_in("img.gz"), 3, &err), 0, "%s", err.msg);
    cr_assert_eq(idx.size, 2 * 784);
    cr_assert_arr_eq(idx.data, buf + 16, 2 * 784);
    qs_idx_destroy(&idx);
}

Test(idx, write_then_read_round_trips)
{
    uint8_t data[24];
    for (int i = 0; i < 24; i++)
        data[i] = (uint8_t)(i * 11);
    uint32_t dims[3] = {2, 3, 4};
    qs_error_t err = {0};
    cr_assert_eq(qs_idx_write(path_in("w"), 3, dims, data, &err), 0, "%s", err.msg);
    qs_idx_t idx;
    cr_assert_eq(qs_idx_read(&idx, path_in("w"), 3, &err), 0, "%s", err.msg);
    cr_assert_arr_eq(idx.data, data, 24);
    qs_idx_destroy(&idx);
}

/* One malformed-file case: how to build it and what the error must say. */
/* Strings are arrays, not pointers: Criterion runs each case in a fresh process. */
typedef struct {
    char name[32];
    int gz;               /* write gzip-compressed */
    unsigned type, ndims; /* header */
    uint32_t dims[3];
    long payload_delta; /* bytes added to (or cut from) the payload the header implies */
    long cut_file;      /* cut this many bytes off the end of the final file */
    int flip_byte;      /* corrupt the compressed stream at this offset (gz only; 0 = no) */
    int expect;         /* expected error code */
    char phrase[48];    /* must appear in the message */
} bad_case_t;

static bad_case_t bad_cases[] = {
    {"badmagic", 0, 0x08, 3, {2, 2, 2}, 0, 0, 0, QS_ERR(FORMAT), "bad magic"},
    {"floattype", 0, 0x0D, 3, {2, 2, 2}, 0, 0, 0, QS_ERR(FORMAT), "element type 0x0d (float)"},
    {"labels-as-images", 0, 0x08, 1, {8}, 0, 0, 0, QS_ERR(FORMAT), "1 dimension(s), expected 3"},
    {"zerodim", 0, 0x08, 3, {0, 2, 2}, 0, 0, 0, QS_ERR(FORMAT), "dimension 0 is zero"},
    {"hugeclaim",
     0,
     0x08,
     3,
     {0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu},
     0,
     0,
     0,
     QS_ERR(TOOBIG),
     "more than the"},
    {"truncated-data", 0, 0x08, 3, {4, 2, 2}, -5, 0, 0, QS_ERR(TRUNCATED), "truncated"},
    {"trailing", 0, 0x08, 3, {4, 2, 2}, 3, 0, 0, QS_ERR(FORMAT), "trailing bytes"},
    {"truncated-header", 0, 0x08, 3, {4, 2, 2}, 0, 20, 0, QS_ERR(TRUNCATED), "header truncated"},
    {"gz-truncated-data", 1, 0x08, 3, {4, 2, 2}, -5, 0, 0, QS_ERR(TRUNCATED), "data ends after"},
    {"gz-trailing", 1, 0x08, 3, {4, 2, 2}, 9, 0, 0, QS_ERR(FORMAT), "trailing bytes"},
    {"gz-cut-stream", 1, 0x08, 3, {40, 10, 10}, 0, 30, 0, QS_ERR(TRUNCATED), "data ends after"},
    {"gz-corrupt", 1, 0x08, 3, {40, 10, 10}, 0, 0, 40, QS_ERR(FORMAT), "corrupt gzip"},
};

ParameterizedTestParameters(idx, rejects_malformed)
{
    return cr_make_param_array(bad_case_t, bad_cases, sizeof bad_cases / sizeof bad_cases[0]);
}

ParameterizedTest(bad_case_t *c, idx, rejects_malformed)
{
    static unsigned char buf[65536];
    uint32_t d[3] = {c->dims[0], c->dims[1], c->dims[2]};
    size_t implied = 1;
    for (unsigned i = 0; i < c->ndims; i++)
        implied *= d[i];
    if (implied > 8192)
        implied = 16; /* the huge claim: write a little; it must be refused unread */
    size_t payload = (size_t)((long)implied + c->payload_delta);
    size_t n = make_idx(buf, c->type, c->ndims, d, payload);
    if (!strcmp(c->name, "badmagic"))
        buf[0] = 0x1f, buf[1] = 0x01;
    const char *p = path_in(c->name);
    if (c->gz) {
        write_gz(p, buf, n);
        size_t len = 0;
        char *z = tu_read_file(p, &len);
        if (c->flip_byte)
            z[c->flip_byte] ^= 0x5a;
        tu_write_file(p, z, len - (size_t)c->cut_file);
        free(z);
    } else {
        tu_write_file(p, buf, n - (size_t)c->cut_file);
    }
    qs_idx_t idx = {0};
    qs_error_t err = {0};
    int rc = qs_idx_read(&idx, p, 3, &err);
    cr_assert_eq(rc, c->expect, "%s: got %s (%s), want %s", c->name, qs_err_name(rc), err.msg,
                 qs_err_name(c->expect));
    cr_assert(strstr(err.msg, p), "%s: message does not name the file: %s", c->name, err.msg);
    cr_assert(strstr(err.msg, c->phrase), "%s: message lacks '%s': %s", c->name, c->phrase,
              err.msg);
    cr_assert_null(idx.data);
}

Test(idx, missing_file_and_directory)
{
    qs_idx_t idx;
    qs_error_t err = {0};
    cr_assert_eq(qs_idx_read(&idx, path_in("nope"), 1, &err), QS_ERR(NOENT));
    cr_assert(strstr(err.msg, "nope"));
    cr_assert_eq(qs_idx_read(&idx, dir, 1, &err), QS_ERR(INVAL));
    cr_assert(strstr(err.msg, "is a directory"));
    tu_write_file(path_in("empty"), "", 0);
    cr_assert_eq(qs_idx_read(&idx, path_in("empty"), 1, &err), QS_ERR(TRUNCATED));
    cr_assert(strstr(err.msg, "only 0 bytes"), "%s", err.msg);
}

/* Write a tiny dataset split into dir with the standard names. */
static void write_split(const char *prefix, uint32_t nimg, uint32_t nlab, uint8_t bad_label)
{
    unsigned char buf[8192];
    uint32_t di[3] = {nimg, 28, 28}, dl[1] = {nlab};
    char name[128];
    snprintf(name, sizeof name, "%s-images-idx3-ubyte", prefix);
    tu_write_file(path_in(name), buf, make_idx(buf, 0x08, 3, di, (size_t)nimg * 784));
    size_t n = make_idx(buf, 0x08, 1, dl, nlab);
    if (bad_label)
        buf[8 + nlab - 1] = bad_label;
    snprintf(name, sizeof name, "%s-labels-idx1-ubyte", prefix);
    tu_write_file(path_in(name), buf, n);
}

Test(idx, dataset_loads_and_counts_classes)
{
    write_split("train", 10, 10, 0);
    qs_dataset_t ds = {0};
    qs_error_t err = {0};
    cr_assert_eq(qs_dataset_load(&ds, dir, QS_SPLIT_TRAIN, &err), 0, "%s", err.msg);
    cr_assert_eq(ds.count, 10);
    cr_assert_eq(ds.rows, 28);
    uint32_t counts[QS_NUM_CLASSES];
    qs_dataset_class_counts(&ds, counts);
    uint32_t expect[QS_NUM_CLASSES] = {0};
    for (size_t i = 0; i < 10; i++)
        expect[pattern(i)]++;
    cr_assert_arr_eq(counts, expect, sizeof counts);
    uint32_t h = qs_dataset_hash(&ds);
    ds.pixels[5] ^= 1;
    cr_assert_neq(qs_dataset_hash(&ds), h, "hash must see a pixel change");
    qs_dataset_destroy(&ds);
}

Test(idx, dataset_rejects_disagreeing_files)
{
    write_split("train", 10, 9, 0);
    qs_dataset_t ds = {0};
    qs_error_t err = {0};
    cr_assert_eq(qs_dataset_load(&ds, dir, QS_SPLIT_TRAIN, &err), QS_ERR(MISMATCH));
    cr_assert(strstr(err.msg, "10 images") && strstr(err.msg, "9 labels"), "%s", err.msg);
}

Test(idx, dataset_rejects_label_out_of_range)
{
    write_split("t10k", 5, 5, 12);
    qs_dataset_t ds = {0};
    qs_error_t err = {0};
    cr_assert_eq(qs_dataset_load(&ds, dir, QS_SPLIT_TEST, &err), QS_ERR(RANGE));
    cr_assert(strstr(err.msg, "label 12 of example 4"), "%s", err.msg);
    cr_assert(strstr(err.msg, "t10k-labels-idx1-ubyte"), "%s", err.msg);
}

Test(idx, dataset_missing_files_named)
{
    qs_dataset_t ds = {0};
    qs_error_t err = {0};
    cr_assert_eq(qs_dataset_load(&ds, dir, QS_SPLIT_TRAIN, &err), QS_ERR(NOENT));
    cr_assert(strstr(err.msg, "train-images"), "%s", err.msg);
    cr_assert_eq(qs_dataset_load(&ds, path_in("absent"), QS_SPLIT_TRAIN, &err), QS_ERR(NOENT));
    cr_assert(strstr(err.msg, "make data"), "%s", err.msg);
}

/* A prefix load is the full load cut short, plain or gzip; the files are still checked in
 * full (a truncated file, disagreeing counts) and a label beyond the prefix is not read. */
Test(idx, dataset_load_first_is_a_prefix)
{
    write_split("train", 10, 10, 0);
    qs_dataset_t all = {0}, first = {0};
    qs_error_t err = {0};
    cr_assert_eq(qs_dataset_load(&all, dir, QS_SPLIT_TRAIN, &err), 0, "%s", err.msg);
    for (uint32_t n = 1; n <= 12; n += 3) {
        cr_assert_eq(qs_dataset_load_first(&first, dir, QS_SPLIT_TRAIN, n, &err), 0, "%s", err.msg);
        uint32_t want = n < 10 ? n : 10;
        cr_assert_eq(first.count, want);
        cr_assert_eq(first.rows, 28);
        cr_assert_arr_eq(first.pixels, all.pixels, (size_t)want * 784);
        cr_assert_arr_eq(first.labels, all.labels, want);
        qs_dataset_destroy(&first);
    }
    qs_dataset_destroy(&all);

    unsigned char buf[8192];
    uint32_t di[3] = {6, 28, 28}, dl[1] = {6};
    write_gz(path_in("t10k-images-idx3-ubyte.gz"), buf, make_idx(buf, 0x08, 3, di, 6 * 784));
    size_t n = make_idx(buf, 0x08, 1, dl, 6);
    buf[8 + 5] = 99; /* the last label is out of range: outside a prefix of 5 */
    write_gz(path_in("t10k-labels-idx1-ubyte.gz"), buf, n);
    cr_assert_eq(qs_dataset_load_first(&first, dir, QS_SPLIT_TEST, 5, &err), 0, "%s", err.msg);
    cr_assert_eq(first.count, 5);
    qs_dataset_destroy(&first);
    cr_assert_eq(qs_dataset_load_first(&first, dir, QS_SPLIT_TEST, 0, &err), QS_ERR(RANGE));

    write_split("train", 10, 9, 0);
    cr_assert_eq(qs_dataset_load_first(&first, dir, QS_SPLIT_TRAIN, 3, &err), QS_ERR(MISMATCH));
    cr_assert(strstr(err.msg, "10 images") && strstr(err.msg, "9 labels"), "%s", err.msg);
    write_split("train", 10, 10, 0);
    truncate(path_in("train-images-idx3-ubyte"), 8 + 4 * 3 + 5 * 784);
    cr_assert_eq(qs_dataset_load_first(&first, dir, QS_SPLIT_TRAIN, 3, &err), QS_ERR(TRUNCATED));
}

Test(idx, dataset_finds_dot_spelling_and_gz)
{
    unsigned char buf[8192];
    uint32_t di[3] = {3, 28, 28}, dl[1] = {3};
    write_gz(path_in("train-images.idx3-ubyte.gz"), buf, make_idx(buf, 0x08, 3, di, 3 * 784));
    write_gz(path_in("train-labels.idx1-ubyte.gz"), buf, make_idx(buf, 0x08, 1, dl, 3));
    qs_dataset_t ds = {0};
    qs_error_t err = {0};
    cr_assert_eq(qs_dataset_load(&ds, dir, QS_SPLIT_TRAIN, &err), 0, "%s", err.msg);
    cr_assert_eq(ds.count, 3);
    qs_dataset_destroy(&ds);
}

/* data/mnist is the full MNIST (make data): its splits have the published sizes and
 * per-class counts of LeCun et al.'s files. */
Test(idx, real_mnist_if_present)
{
    static const uint32_t train_counts[QS_NUM_CLASSES] = {5923, 6742, 5958, 6131, 5842,
                                                          5421, 5918, 6265, 5851, 5949};
    static const uint32_t test_counts[QS_NUM_CLASSES] = {980, 1135, 1032, 1010, 982,
                                                         892, 958,  1028, 974,  1009};
    const char *data = tu_data();
    if (!data)
        cr_skip_test("no data/mnist (run `make data`)");
    for (int s = 0; s < 2; s++) {
        qs_dataset_t ds = {0};
        qs_error_t err = {0};
        cr_assert_eq(qs_dataset_load(&ds, data, s ? QS_SPLIT_TEST : QS_SPLIT_TRAIN, &err), 0, "%s",
                     err.msg);
        cr_assert_eq(ds.count, s ? 10000u : 60000u, "run `make data`: %s is not the full MNIST",
                     data);
        uint32_t counts[QS_NUM_CLASSES];
        qs_dataset_class_counts(&ds, counts);
        qs_dataset_destroy(&ds);
        for (int c = 0; c < QS_NUM_CLASSES; c++)
            cr_assert_eq(counts[c], s ? test_counts[c] : train_counts[c], "split %d class %d", s,
                         c);
    }
}

/* Issue 16, case 11: a FIFO where an IDX file is expected is refused at once (it would
 * block the reader forever); so is a character device. */
Test(idx, fifo_and_device_refused_without_blocking, .timeout = 10)
{
    qs_idx_t idx;
    qs_error_t err = {0};
    cr_assert_eq(mkfifo(path_in("fifo"), 0600), 0);
    cr_assert_eq(qs_idx_read(&idx, path_in("fifo"), 3, &err), QS_ERR(INVAL));
    cr_assert(strstr(err.msg, "fifo: is a FIFO (named pipe), not a regular file"), "%s", err.msg);
    cr_assert_eq(qs_idx_read(&idx, "/dev/zero", 3, &err), QS_ERR(INVAL));
    cr_assert(strstr(err.msg, "is a character device"), "%s", err.msg);
}

/* A small gzip whose header claims 2 million 28x28 images (1.5 GB): refused as truncated
 * with memory bounded by what the file really holds, not by the claim. The address
 * space is limited to 512 MiB, which the claim alone would exceed. */
Test(idx, gzip_claim_bounded_by_its_data)
{
#if defined(__SANITIZE_ADDRESS__)
    cr_skip_test("AddressSanitizer reserves more address space than the limit");
#endif
    uint32_t dims[3] = {2000000, 28, 28};
    size_t payload = (size_t)1000 * 784;
    unsigned char *buf = malloc(16 + payload);
    size_t n = make_idx(buf, 0x08, 3, dims, payload);
    write_gz(path_in("claim.gz"), buf, n);
    free(buf);
    struct rlimit lim = {(rlim_t)512 << 20, (rlim_t)512 << 20};
    cr_assert_eq(setrlimit(RLIMIT_AS, &lim), 0);
    qs_idx_t idx;
    qs_error_t err = {0};
    cr_assert_eq(qs_idx_read(&idx, path_in("claim.gz"), 3, &err), QS_ERR(TRUNCATED), "%s", err.msg);
    cr_assert(strstr(err.msg, "data ends after 784000 of the 1568000000 bytes"), "%s", err.msg);
}
