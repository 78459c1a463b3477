/* file: whole-file reads and atomic writes (temporary file, fsync, rename, fsync of the
 * folder) for proto's file formats. */
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

static int write_all(int fd, const uint8_t *p, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/* fsync the folder holding path, so that the rename itself is durable. */
static int sync_dir(const char *path)
{
    char *dir = xstrdup(path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        strcpy(dir, ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    int rc = 0, fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0 || fsync(fd) != 0)
        rc = -1;
    if (fd >= 0)
        close(fd);
    free(dir);
    return rc;
}

int qs_file_write_atomic(const char *path, const void *data, size_t len, qs_error_t *err)
{
    int rc = 0, fd = -1;
    size_t n = strlen(path) + sizeof ".tmp.XXXXXX";
    char *tmp = xmalloc(n);
    snprintf(tmp, n, "%s.tmp.XXXXXX", path);
    fd = mkstemp(tmp);
    if (fd < 0) {
        rc = qs_error_set(err, errno_code(errno), "%s: cannot create a temporary file: %s", path,
                          strerror(errno));
        goto out;
    }
    if (write_all(fd, data, len) != 0 || fchmod(fd, 0644) != 0 || fsync(fd) != 0) {
        rc = qs_error_set(err, errno_code(errno), "%s: cannot write %s: %s", path, tmp,
                          strerror(errno));
        goto out;
    }
    int fd2 = fd;
    fd = -1;
    if (close(fd2) != 0) {
        rc = qs_error_set(err, errno_code(errno), "%s: cannot write %s: %s", path, tmp,
                          strerror(errno));
        goto out;
    }
    if (rename(tmp, path) != 0) {
        rc = qs_error_set(err, errno_code(errno), "%s: cannot rename %s over it: %s", path, tmp,
                          strerror(errno));
        goto out;
    }
    tmp[0] = '\0'; /* renamed: nothing to remove */
    if (sync_dir(path) != 0)
        rc = qs_error_set(err, QS_ERR(IO), "%s: written, but fsync of its folder failed: %s", path,
                          strerror(errno));
out:
    if (fd >= 0)
        close(fd);
    if (tmp[0])
        unlink(tmp);
    free(tmp);
    return rc;
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
