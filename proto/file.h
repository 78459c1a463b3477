/* file: whole-file reads for proto's file formats (genomes, checkpoints), with the size
 * limit checked before reading. Atomic writes are core/util.h's qs_write_file_atomic. */
#ifndef QS_FILE_H
#define QS_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "core/util.h"
#include "proto/frame.h"

/* Append the whole regular file at path to out; a file larger than max bytes is
 * refused (QS_ERR(TOOBIG)) before reading. */
int qs_file_read_all(const char *path, size_t max, qs_bytes_t *out, qs_error_t *err);

#endif
