/* file: whole-file reads with the size checked before reading. */
#include "proto/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int qs_file_read_all(const char *path, size_t max, qs_bytes_t *out, qs_error_t *err)
{
    int rc = 0;
    struct stat st;
    int fd = qs_open_regular(path, &st, err);
    if (fd < 0)
        return fd;
    if (st.st_size < 0 || (uint64_t)st.st_size > max) {
        rc = qs_error_set(err, QS_ERR(TOOBIG), "%s: %lld bytes, larger than the limit of %zu", path,
                          (long long)st.st_size, max);
        goto out;
    }
    size_t size = (size_t)st.st_size, got = 0, start = out->len;
    qs_bytes_reserve(out, size);
    while (got < size) {
        ssize_t r = read(fd, out->data + start + got, size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = qs_error_set(err, QS_ERR(IO), "%s: read failed: %s", path, strerror(errno));
            goto out;
        }
        if (r == 0)
            break; /* shrank while reading: take what is there */
        got += (size_t)r;
    }
    out->len = start + got;
out:
    close(fd);
    return rc;
}
