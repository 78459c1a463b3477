/* file: whole-file reads and atomic writes for proto's file formats (genomes,
 * checkpoints). An atomic write goes to a temporary file in the same folder, which is
 * fsynced, renamed over the target, and then the folder is fsynced: after a crash the
 * path holds either the old content or the new, never a mix or a torn file. */
#ifndef QS_FILE_H
#define QS_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "core/util.h"
#include "proto/frame.h"

/* Write data[0..len) to path atomically (mode 0644). Errors name the path:
 * QS_ERR(NOENT) missing folder, QS_ERR(NOSPC) disk full, QS_ERR(IO) otherwise. */
int qs_file_write_atomic(const char *path, const void *data, size_t len, qs_error_t *err);
/* Append the whole regular file at path to out; a file larger than max bytes is
 * refused (QS_ERR(TOOBIG)) before reading. */
int qs_file_read_all(const char *path, size_t max, qs_bytes_t *out, qs_error_t *err);

#endif
