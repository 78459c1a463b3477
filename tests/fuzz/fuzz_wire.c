/* fuzz_wire: the worker-message decoder on arbitrary payloads. Whatever it accepts must
 * re-encode to a frame whose payload decodes and re-encodes to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    qs_msg_t m, n;
    qs_error_t err;
    if (qs_msg_decode(&m, data, size, &err) < 0)
        return 0;
    qs_bytes_t a, b;
    qs_bytes_init(&a);
    qs_bytes_init(&b);
    qs_msg_encode(&m, &a);
    const uint8_t *p;
    size_t plen, flen;
    if (qs_frame_parse(a.data, a.len, QS_MAX_MESSAGE_DEFAULT, &p, &plen, &flen, &err) != 1 ||
        flen != a.len)
        abort();
    if (qs_msg_decode(&n, p, plen, &err) < 0)
        abort();
    qs_msg_encode(&n, &b);
    if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
        abort();
    qs_msg_destroy(&m);
    qs_msg_destroy(&n);
    qs_bytes_destroy(&a);
    qs_bytes_destroy(&b);
    return 0;
}
