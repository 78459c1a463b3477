/* fuzz_checkpoint: the checkpoint decoder (proto/checkpoint.c) on arbitrary payloads:
 * no crash, no leak, no out-of-bounds read, whatever the input. */
#include <stdint.h>
#include <stdlib.h>

#include "proto/checkpoint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    qs_checkpoint_t c;
    qs_error_t err;
    if (qs_checkpoint_decode(&c, data, size, &err) == 0)
        qs_checkpoint_destroy(&c);
    return 0;
}
