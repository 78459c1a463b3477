/* fuzz_inspect: `quinesim inspect` on arbitrary files: recognition, every printer and the
 * JSON writer must cope with anything (output to /dev/null). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "proto/inspect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];

static void remove_file(void)
{
    unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *null;
    if (!path[0]) {
        /* tmpfs if there is one: rewriting a file on ext4 flushes it at every close */
        snprintf(path, sizeof path, "%s/qs-fuzz-inspect-%ld",
                 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp", (long)getpid());
        atexit(remove_file);
        null = fopen("/dev/null", "w");
    }
    unlink(path);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
        abort();
    qs_inspect_opts_t opts = {size & 1};
    qs_error_t err;
    (void)qs_inspect_file(path, &opts, null, null, &err);
    return 0;
}
