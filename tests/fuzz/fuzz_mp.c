/* fuzz_mp: the pre-scan that guards msgpack-c. Whatever the scan accepts, msgpack-c must
 * decode completely (same length, success), and decoding then costs at most a small
 * multiple of the input in zone memory; whatever msgpack-c cannot decode, the scan must
 * have rejected. */
#include <msgpack.h>
#include <stdint.h>
#include <stdlib.h>

#include "proto/mp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    qs_error_t err;
    if (qs_mp_scan(data, size, "fuzz", &err) < 0)
        return 0;
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    size_t off = 0;
    msgpack_unpack_return r = msgpack_unpack_next(&up, (const char *)data, size, &off);
    if (r != MSGPACK_UNPACK_SUCCESS || off != size)
        abort();
    msgpack_unpacked_destroy(&up);
    qs_mp_doc_t doc;
    if (qs_mp_doc_parse(&doc, data, size, "fuzz", &err) == 0)
        qs_mp_doc_release(&doc);
    return 0;
}
