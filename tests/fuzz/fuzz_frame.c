/* fuzz_frame: the streaming frame reader on arbitrary bytes, fed in chunks whose sizes
 * come from the input itself, checked against the one-shot parser: both must agree on
 * every frame's payload and on where the first error is. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t chunk = 1 + data[0] % 64; /* 1 = byte at a time */
    size_t limit = data[0] & 0x80 ? 4096 : QS_MAX_MESSAGE_DEFAULT;
    data++;
    size--;
    qs_frame_reader_t rd;
    qs_frame_reader_init(&rd, limit);
    size_t pos = 0, off = 0; /* off: where the one-shot parser expects the next frame */
    int failed = 0;
    while (pos < size && !failed) {
        size_t n = chunk < size - pos ? chunk : size - pos;
        const uint8_t *p = data + pos;
        while (n > 0) {
            size_t used = 0, plen = 0;
            const uint8_t *payload = NULL;
            qs_error_t err;
            int rc = qs_frame_reader_feed(&rd, p, n, &used, &payload, &plen, &err);
            if (used > n)
                abort();
            p += used;
            n -= used;
            pos += used;
            if (rc < 0) {
                /* the one-shot parser must fail at the same frame */
                const uint8_t *q;
                size_t qlen, flen;
                if (qs_frame_parse(data + off, size - off, limit, &q, &qlen, &flen, &err) >= 0)
                    abort();
                failed = 1;
                break;
            }
            if (rc == 1) {
                const uint8_t *q;
                size_t qlen, flen;
                if (qs_frame_parse(data + off, pos - off, limit, &q, &qlen, &flen, &err) != 1 ||
                    qlen != plen || flen != pos - off || (plen && memcmp(q, payload, plen) != 0))
                    abort();
                off = pos;
                if (qs_frame_reader_pending(&rd) != 0)
                    abort();
            } else if (n != 0) {
                abort(); /* 0 means every byte was consumed */
            }
        }
    }
    if (!failed && qs_frame_reader_pending(&rd) != pos - off)
        abort();
    qs_frame_reader_destroy(&rd);
    return 0;
}
