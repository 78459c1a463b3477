/* fuzz_lineage_reader: the lineage file reader on arbitrary files (written to a
 * temporary file per input). It must terminate, account for every byte (records read
 * plus skipped stretches never exceed the file), end with 0 and stay at 0. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto/lineage.h"
#include "tests/fuzz/fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write_file("lineage", data, size);
    static qs_lineage_reader_t rd;
    qs_error_t err;
    if (qs_lineage_open(&rd, path, &err) < 0)
        abort();
    uint64_t calls = 0;
    int rc;
    do {
        qs_record_t r;
        rc = qs_lineage_next(&rd, &r, &err);
        if (rc == 1)
            qs_record_destroy(&r);
        if (rc == QS_ERR(IO) || ++calls > size + 2)
            abort(); /* every call consumes at least one byte or ends */
    } while (rc != 0);
    qs_record_t r;
    if (qs_lineage_next(&rd, &r, &err) != 0 || rd.skipped > size || rd.good_bytes > size)
        abort();
    qs_lineage_close(&rd);
    return 0;
}
