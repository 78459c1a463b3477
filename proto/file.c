/* file: whole-file reads with the size checked before reading. */
#include "proto/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int errno_code(int e)
{
    switch (e) {
    case ENOENT:
    case ENOTDIR:
        return QS_ERR(NOENT);
    case ENOSPC:
    case EDQUOT:
        return QS_ERR(NOSPC);
    default:
        return QS_ERR(IO);
    }
}

int qs_file_read_all(const char *path, size_t max, qs_bytes_t *out, qs_error_t *err)
{
    int rc = 0;
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return qs_error_set(err, errno_code(errno), "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        rc = qs_error_set(err, QS_ERR(IO), "%s: cannot stat: %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = qs_error_set(err, QS_ERR(FORMAT), "%s: not a regular file", path);
        goto out;
    }
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
