/* fuzz_file: for the fuzz targets of file readers, each input written to one temporary
 * file per process (on tmpfs if there is one: rewriting a file on ext4 flushes it at every
 * close), removed at exit. */
#ifndef QS_FUZZ_FILE_H
#define QS_FUZZ_FILE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char fuzz_path[64];

static void fuzz_remove_file(void)
{
    unlink(fuzz_path);
}

/* Write data[0..size) to the process's file named after tag; returns its path. */
static const char *fuzz_write_file(const char *tag, const uint8_t *data, size_t size)
{
    if (!fuzz_path[0]) {
        snprintf(fuzz_path, sizeof fuzz_path, "%s/qs-fuzz-%s-%ld",
                 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp", tag, (long)getpid());
        atexit(fuzz_remove_file);
    }
    unlink(fuzz_path);
    FILE *f = fopen(fuzz_path, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
        abort();
    return fuzz_path;
}

#endif
