/* idx: IDX reading (plain and gzip) with full validation, IDX writing, datasets. */
#include "core/idx.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define IDX_TYPE_UBYTE 0x08

static const char *idx_type_name(unsigned t)
{
    switch (t) {
    case 0x08:
        return "unsigned byte";
    case 0x09:
        return "signed byte";
    case 0x0B:
        return "short";
    case 0x0C:
        return "int";
    case 0x0D:
        return "float";
    case 0x0E:
        return "double";
    default:
        return "unknown";
    }
}

/* Read exactly n bytes, or fewer at end of data; returns bytes read or -1 on a gzip error. */
static long long gz_read_full(gzFile f, void *buf, size_t n)
{
    size_t done = 0;
    while (done < n) {
        size_t chunk = QS_MIN(n - done, (size_t)1 << 30);
        int got = gzread(f, (char *)buf + done, (unsigned)chunk);
        if (got < 0)
            return -1;
        if (got == 0)
            break;
        done += (size_t)got;
    }
    return (long long)done;
}

static const char *gz_error_text(gzFile f)
{
    int code = 0;
    const char *msg = gzerror(f, &code);
    if (code == Z_ERRNO)
        return strerror(errno);
    return msg && *msg ? msg : "read error";
}

static void dims_text(char *buf, size_t cap, uint32_t ndims, const uint32_t *dims)
{
    size_t off = 0;
    buf[0] = '\0';
    for (uint32_t i = 0; i < ndims && off < cap; i++)
        off += (size_t)snprintf(buf + off, cap - off, "%s%u", i ? "x" : "", dims[i]);
}

/* The header of f (path's), for an IDX file of expect_ndims dimensions: idx gets ndims
 * and dims, *size the data's bytes (checked against QS_IDX_MAX_BYTES), shape the dims as
 * text and *compressed whether f is gzip (gzdirect() is only reliable after a read). */
static int read_header(gzFile f, const char *path, uint32_t expect_ndims, int *compressed,
                       qs_idx_t *idx, size_t *size, char *shape, size_t shape_cap, qs_error_t *err)
{
    unsigned char head[4 + 4 * QS_IDX_MAX_DIMS];
    long long got = gz_read_full(f, head, 4);
    *compressed = !gzdirect(f);
    if (got < 0)
        return qs_error_set(err, QS_ERR(FORMAT), "%s: corrupt gzip data: %s", path,
                            gz_error_text(f));
    if (got < 4)
        return qs_error_set(err, QS_ERR(TRUNCATED),
                            "%s: only %lld bytes; an IDX file starts with a 4-byte magic number",
                            path, got);
    uint32_t magic = qs_load_be32(head);
    unsigned type = head[2], ndims = head[3];
    if (head[0] != 0 || head[1] != 0)
        return qs_error_set(err, QS_ERR(FORMAT),
                            "%s: bad magic number 0x%08x: not an IDX file (IDX starts with two "
                            "zero bytes, then the element type and the number of dimensions)",
                            path, magic);
    if (type != IDX_TYPE_UBYTE)
        return qs_error_set(err, QS_ERR(FORMAT),
                            "%s: element type 0x%02x (%s) is not supported; MNIST-style files "
                            "hold unsigned bytes (0x08)",
                            path, type, idx_type_name(type));
    if (ndims != expect_ndims)
        return qs_error_set(err, QS_ERR(FORMAT),
                            "%s: magic 0x%08x says %u dimension(s), expected %u (%s file)", path,
                            magic, ndims, expect_ndims, expect_ndims == 1 ? "a label" : "an image");
    got = gz_read_full(f, head + 4, 4 * (size_t)ndims);
    if (got < 0)
        return qs_error_set(err, QS_ERR(FORMAT), "%s: corrupt gzip data: %s", path,
                            gz_error_text(f));
    if (got < 4 * (long long)ndims)
        return qs_error_set(err, QS_ERR(TRUNCATED),
                            "%s: header truncated: %u dimension sizes need %u bytes, found %lld",
                            path, ndims, 4 * ndims, got);
    *idx = (qs_idx_t){.ndims = ndims};
    *size = 1;
    for (uint32_t i = 0; i < ndims; i++) {
        idx->dims[i] = qs_load_be32(head + 4 + 4 * i);
        if (idx->dims[i] == 0)
            return qs_error_set(err, QS_ERR(FORMAT), "%s: dimension %u is zero (empty data set)",
                                path, i);
        if (*size > QS_IDX_MAX_BYTES / idx->dims[i]) {
            *size = QS_IDX_MAX_BYTES + 1;
            break;
        }
        *size *= idx->dims[i];
    }
    for (uint32_t i = 0; i < ndims; i++) /* dims may be partial after an overflow break */
        idx->dims[i] = qs_load_be32(head + 4 + 4 * i);
    dims_text(shape, shape_cap, ndims, idx->dims);
    if (*size > QS_IDX_MAX_BYTES)
        return qs_error_set(err, QS_ERR(TOOBIG),
                            "%s: header claims %s bytes of data, more than the %zu-byte limit",
                            path, shape, QS_IDX_MAX_BYTES);
    return 0;
}

/* The next size bytes of f into *data (the caller frees it), or an error with nothing
 * allocated. A plain file's size was checked before. A gzip file's header may claim far
 * more than the file holds (a few MB claiming 2 million images): the buffer grows only as
 * data actually arrives, so the claim alone allocates nothing. */
static int read_data(gzFile f, const char *path, size_t size, int compressed, const char *shape,
                     uint8_t **data, qs_error_t *err)
{
    size_t cap = compressed ? QS_MIN(size, (size_t)1 << 22) : size, have = 0;
    uint8_t *d = xmalloc(cap);
    for (;;) {
        long long got = gz_read_full(f, d + have, cap - have);
        if (got < 0) {
            free(d);
            return qs_error_set(err, QS_ERR(FORMAT), "%s: corrupt gzip data: %s", path,
                                gz_error_text(f));
        }
        have += (size_t)got;
        if (have < cap || cap == size)
            break;
        cap = QS_MIN(size, cap * 2);
        d = xrealloc(d, cap);
    }
    if (have < size) {
        free(d);
        return qs_error_set(err, QS_ERR(TRUNCATED),
                            "%s: data ends after %lld of the %zu bytes its header (%s) promises",
                            path, (long long)have, size, shape);
    }
    *data = d;
    return 0;
}

/* qs_idx_read, keeping only the first `first` entries of dimension 0 (0: all) in *out; the
 * header is validated in full, and so is a plain file's size. *total gets dims[0]. */
static int idx_read(qs_idx_t *out, const char *path, uint32_t expect_ndims, uint32_t first,
                    uint32_t *total, qs_error_t *err)
{
    uint8_t *data = NULL;
    char shape[96];
    struct stat st;

    int fd = qs_open_regular(path, &st, err); /* a FIFO or a device would never end */
    if (fd < 0)
        return fd;
    gzFile f = gzdopen(fd, "rb");
    if (!f) {
        close(fd);
        return qs_error_set(err, QS_ERR(IO), "%s: cannot open: %s", path, strerror(errno));
    }
    int compressed = 0;
    qs_idx_t idx = {0};
    size_t size = 0;
    int rc = read_header(f, path, expect_ndims, &compressed, &idx, &size, shape, sizeof shape, err);
    if (rc < 0)
        goto out;
    size_t header = 4 + 4 * (size_t)idx.ndims;
    if (!compressed && (size_t)st.st_size != header + size) {
        rc = qs_error_set(
            err, (size_t)st.st_size < header + size ? QS_ERR(TRUNCATED) : QS_ERR(FORMAT),
            "%s: file is %lld bytes but its header (%s) means %zu bytes (%zu header + "
            "%zu data)%s",
            path, (long long)st.st_size, shape, header + size, header, size,
            (size_t)st.st_size < header + size ? ": truncated" : ": trailing bytes");
        goto out;
    }
    *total = idx.dims[0];
    int partial = first > 0 && first < idx.dims[0];
    if (partial) {
        size = size / idx.dims[0] * first;
        idx.dims[0] = first;
    }
    if ((rc = read_data(f, path, size, compressed, shape, &data, err)) < 0)
        goto out;
    unsigned char extra;
    long long got = partial ? 0 : gz_read_full(f, &extra, 1);
    if (got != 0) {
        rc = qs_error_set(err, QS_ERR(FORMAT),
                          got < 0
                              ? "%s: corrupt gzip data after the %zu data bytes"
                              : "%s: trailing bytes after the %zu data bytes its header promises",
                          path, size);
        goto out;
    }
    idx.data = data;
    idx.size = size;
    data = NULL;
    *out = idx;
out:
    free(data);
    gzclose(f);
    return rc;
}

int qs_idx_read(qs_idx_t *out, const char *path, uint32_t expect_ndims, qs_error_t *err)
{
    uint32_t total;
    return idx_read(out, path, expect_ndims, 0, &total, err);
}

void qs_idx_destroy(qs_idx_t *idx)
{
    free(idx->data);
    idx->data = NULL;
    idx->size = 0;
}

int qs_idx_write(const char *path, uint32_t ndims, const uint32_t *dims, const uint8_t *data,
                 qs_error_t *err)
{
    if (ndims == 0 || ndims > QS_IDX_MAX_DIMS)
        return qs_error_set(err, QS_ERR(INVAL), "%s: %u dimensions (1..%d allowed)", path, ndims,
                            QS_IDX_MAX_DIMS);
    unsigned char head[4 + 4 * QS_IDX_MAX_DIMS] = {0, 0, IDX_TYPE_UBYTE, (unsigned char)ndims};
    size_t size = 1;
    for (uint32_t i = 0; i < ndims; i++) {
        qs_store_be32(head + 4 + 4 * i, dims[i]);
        size *= dims[i];
    }
    FILE *f = fopen(path, "wb");
    if (!f)
        return qs_error_set(err, QS_ERR(IO), "%s: cannot create: %s", path, strerror(errno));
    int ok = fwrite(head, 1, 4 + 4 * (size_t)ndims, f) == 4 + 4 * (size_t)ndims &&
             fwrite(data, 1, size, f) == size;
    ok = (fflush(f) == 0) && ok;
    ok = (fclose(f) == 0) && ok;
    if (!ok)
        return qs_error_set(err, QS_ERR(IO), "%s: write failed: %s", path, strerror(errno));
    return 0;
}

/* The first `first` examples (0: all) of an image file and its label file. */
static int load_files(qs_dataset_t *ds, const char *images_path, const char *labels_path,
                      uint32_t first, qs_error_t *err)
{
    qs_idx_t img = {0}, lab = {0};
    uint32_t nimg, nlab;
    int rc = idx_read(&img, images_path, 3, first, &nimg, err);
    if (rc < 0)
        return rc;
    rc = idx_read(&lab, labels_path, 1, first, &nlab, err);
    if (rc < 0)
        goto fail;
    if (nimg != nlab) {
        rc = qs_error_set(err, QS_ERR(MISMATCH), "%s holds %u images but %s holds %u labels",
                          images_path, nimg, labels_path, nlab);
        goto fail;
    }
    for (uint32_t i = 0; i < lab.dims[0]; i++) {
        if (lab.data[i] >= QS_NUM_CLASSES) {
            rc = qs_error_set(err, QS_ERR(RANGE), "%s: label %u of example %u is outside 0..%d",
                              labels_path, lab.data[i], i, QS_NUM_CLASSES - 1);
            goto fail;
        }
    }
    ds->count = img.dims[0];
    ds->rows = img.dims[1];
    ds->cols = img.dims[2];
    ds->pixels = img.data;
    ds->labels = lab.data;
    return 0;
fail:
    qs_idx_destroy(&img);
    qs_idx_destroy(&lab);
    return rc;
}

int qs_dataset_load_files(qs_dataset_t *ds, const char *images_path, const char *labels_path,
                          qs_error_t *err)
{
    return load_files(ds, images_path, labels_path, 0, err);
}

/* First existing path among dir/<stem><sep>idxN-ubyte[.gz]. */
static int find_one(const char *dir, const char *stem, const char *kind, char *path, size_t cap)
{
    static const char *const seps[] = {"-", "."};
    static const char *const exts[] = {"", ".gz"};
    for (size_t s = 0; s < QS_ARRAY_LEN(seps); s++) {
        for (size_t e = 0; e < QS_ARRAY_LEN(exts); e++) {
            snprintf(path, cap, "%s/%s%s%s-ubyte%s", dir, stem, seps[s], kind, exts[e]);
            if (access(path, F_OK) == 0)
                return 1;
        }
    }
    snprintf(path, cap, "%s/%s-%s-ubyte[.gz]", dir, stem, kind);
    return 0;
}

int qs_dataset_find(const char *dir, qs_split_t split, char *images_path, char *labels_path,
                    size_t cap, qs_error_t *err)
{
    const char *prefix = split == QS_SPLIT_TRAIN ? "train" : "t10k";
    char stem[32];
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        char cwd[2048];
        if (dir[0] != '/' && getcwd(cwd, sizeof cwd))
            return qs_error_set(err, QS_ERR(NOENT),
                                "%s: data folder not found: a relative path is read from the "
                                "current folder, so this tried %s/%s; run from the folder that "
                                "holds it (the repository, after `make data`), or give an "
                                "absolute path (--data DIR, or [data] path)",
                                dir, cwd, dir);
        return qs_error_set(err, QS_ERR(NOENT),
                            "%s: data folder not found (run `make data`, or point --data at a "
                            "folder holding the four MNIST IDX files)",
                            dir);
    }
    snprintf(stem, sizeof stem, "%s-images", prefix);
    if (!find_one(dir, stem, "idx3", images_path, cap))
        return qs_error_set(err, QS_ERR(NOENT), "%s: no %s image file (looked for %s)", dir, prefix,
                            images_path);
    snprintf(stem, sizeof stem, "%s-labels", prefix);
    if (!find_one(dir, stem, "idx1", labels_path, cap))
        return qs_error_set(err, QS_ERR(NOENT), "%s: no %s label file (looked for %s)", dir, prefix,
                            labels_path);
    return 0;
}

int qs_dataset_load_first(qs_dataset_t *ds, const char *dir, qs_split_t split, uint32_t first,
                          qs_error_t *err)
{
    char images[4096], labels[4096];
    int rc = qs_dataset_find(dir, split, images, labels, sizeof images, err);
    if (rc < 0)
        return rc;
    return load_files(ds, images, labels, first, err);
}

int qs_dataset_load(qs_dataset_t *ds, const char *dir, qs_split_t split, qs_error_t *err)
{
    return qs_dataset_load_first(ds, dir, split, 0, err);
}

void qs_dataset_destroy(qs_dataset_t *ds)
{
    free(ds->pixels);
    free(ds->labels);
    ds->pixels = ds->labels = NULL;
    ds->count = 0;
}

void qs_dataset_truncate(qs_dataset_t *ds, uint32_t n)
{
    if (n < ds->count)
        ds->count = n;
}

void qs_dataset_class_counts(const qs_dataset_t *ds, uint32_t *counts)
{
    memset(counts, 0, QS_NUM_CLASSES * sizeof *counts);
    for (uint32_t i = 0; i < ds->count; i++)
        counts[ds->labels[i]]++;
}

uint32_t qs_dataset_hash(const qs_dataset_t *ds)
{
    unsigned char dims[12];
    qs_store_le32(dims, ds->count);
    qs_store_le32(dims + 4, ds->rows);
    qs_store_le32(dims + 8, ds->cols);
    uLong crc = crc32(0L, Z_NULL, 0);
    crc = crc32(crc, dims, sizeof dims);
    size_t npix = (size_t)ds->count * ds->rows * ds->cols;
    for (size_t off = 0; off < npix; off += (size_t)1 << 30)
        crc = crc32(crc, ds->pixels + off, (uInt)QS_MIN(npix - off, (size_t)1 << 30));
    crc = crc32(crc, ds->labels, ds->count);
    return (uint32_t)crc;
}
