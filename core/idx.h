/* idx: the IDX file format MNIST is distributed in, and labelled image datasets.
 *
 * Reads plain or gzip-compressed (.gz) IDX files of unsigned bytes and validates
 * everything a damaged or wrong file can get wrong: magic number, element type,
 * number of dimensions, sizes against the bytes actually present (before allocating),
 * trailing bytes, label range, and that an image file and its label file agree. Every
 * defect is reported with the file name and what is wrong. */
#ifndef QS_IDX_H
#define QS_IDX_H

#include <stddef.h>
#include <stdint.h>

#include "core/util.h"

#define QS_IDX_MAX_DIMS 4
/* Largest decompressed IDX file accepted (a header claiming more is refused unread). */
#define QS_IDX_MAX_BYTES ((size_t)1 << 32)
#define QS_NUM_CLASSES   10

/* One IDX array of unsigned bytes. */
typedef struct {
    uint32_t ndims;
    uint32_t dims[QS_IDX_MAX_DIMS];
    uint8_t *data; /* owned; product(dims) bytes */
    size_t size;   /* product(dims) */
} qs_idx_t;

/* Read an IDX file (plain or .gz, detected from the content). expect_ndims is 1 for
 * labels, 3 for images. On error *out is untouched and nothing is allocated. */
int qs_idx_read(qs_idx_t *out, const char *path, uint32_t expect_ndims, qs_error_t *err);
void qs_idx_destroy(qs_idx_t *idx);

/* Write an IDX file of unsigned bytes (plain, not compressed). */
int qs_idx_write(const char *path, uint32_t ndims, const uint32_t *dims, const uint8_t *data,
                 qs_error_t *err);

/* A labelled image set: count images of rows x cols bytes, labels in [0, QS_NUM_CLASSES). */
typedef struct {
    uint32_t count;
    uint32_t rows, cols;
    uint8_t *pixels; /* owned; count * rows * cols, row-major, one image after another */
    uint8_t *labels; /* owned; count */
} qs_dataset_t;

typedef enum { QS_SPLIT_TRAIN, QS_SPLIT_TEST } qs_split_t;

/* Load an image file and its label file and check that they agree. */
int qs_dataset_load_files(qs_dataset_t *ds, const char *images_path, const char *labels_path,
                          qs_error_t *err);
/* Load a split from a folder holding the standard names (train-images-idx3-ubyte,
 * t10k-labels-idx1-ubyte, ...; also the ".idx3-ubyte" spelling; each plain or .gz). */
int qs_dataset_load(qs_dataset_t *ds, const char *dir, qs_split_t split, qs_error_t *err);
/* Only the first n examples of a split (0, or n >= the split's size: all of them): what a
 * run that uses a prefix of the 60,000 training digits reads. The headers, the agreement
 * of the two files and a plain file's size are checked as in qs_dataset_load; only the
 * examples loaded are read (and their labels range-checked). */
int qs_dataset_load_first(qs_dataset_t *ds, const char *dir, qs_split_t split, uint32_t n,
                          qs_error_t *err);
/* Find the image and label paths of a split in dir (buffers of PATH_MAX-ish size). */
int qs_dataset_find(const char *dir, qs_split_t split, char *images_path, char *labels_path,
                    size_t cap, qs_error_t *err);
void qs_dataset_destroy(qs_dataset_t *ds);
/* Keep only the first n examples (n <= count). */
void qs_dataset_truncate(qs_dataset_t *ds, uint32_t n);
/* Images per class, counts[QS_NUM_CLASSES]. */
void qs_dataset_class_counts(const qs_dataset_t *ds, uint32_t *counts);
/* A content hash (CRC-32 of dims, pixels and labels) to check two copies agree. */
uint32_t qs_dataset_hash(const qs_dataset_t *ds);

#endif
