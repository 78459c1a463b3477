/* fuzz_lineage_record: the lineage record decoder on arbitrary payloads. Whatever it
 * accepts must re-encode to a frame that decodes and re-encodes to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/lineage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    qs_record_t r, s;
    qs_error_t err;
    if (qs_record_decode(&r, data, size, &err) < 0)
        return 0;
    qs_bytes_t a, b;
    qs_bytes_init(&a);
    qs_bytes_init(&b);
    qs_record_encode(&r, &a);
    const uint8_t *p;
    size_t plen, flen;
    if (qs_frame_parse(a.data, a.len, QS_MAX_MESSAGE_DEFAULT, &p, &plen, &flen, &err) != 1)
        abort();
    if (qs_record_decode(&s, p, plen, &err) < 0)
        abort();
    qs_record_encode(&s, &b);
    if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
        abort();
    qs_record_destroy(&r);
    qs_record_destroy(&s);
    qs_bytes_destroy(&a);
    qs_bytes_destroy(&b);
    return 0;
}
