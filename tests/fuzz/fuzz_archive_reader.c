/* fuzz_archive_reader: the genome archive reader (proto/archive.h) on arbitrary files
 * (written to a temporary file per input). It must terminate, never read past the file,
 * keep its position at the end of whole records, and hand out genome bins that lie inside
 * the file and that qs_genome_decode can check without crashing. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto/archive.h"
#include "tests/fuzz/fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write_file("archive", data, size);
    static qs_archive_reader_t rd;
    qs_error_t err;
    if (qs_archive_open(&rd, path, &err) < 0)
        return 0;
    uint64_t calls = 0;
    int rc;
    qs_archive_entry_t e;
    while ((rc = qs_archive_next(&rd, &e, &err)) == 1) {
        if (e.genome_len > size || rd.pos > size || ++calls > size)
            abort();
        qs_genome_t g;
        if (qs_genome_decode(&g, e.genome, e.genome_len, &err) == 0)
            qs_genome_destroy(&g);
    }
    if (rc == QS_ERR(IO) || rd.pos > size)
        abort();
    qs_archive_close(&rd);
    return 0;
}
