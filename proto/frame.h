/* frame: how every quinesim message and record is delimited on a byte stream.
 *
 *   frame = magic "qsm1" (4 bytes) | payload length (u32 LE) | CRC-32 of payload (u32 LE)
 *           | payload (exactly one MessagePack value, a map)
 *
 * Used on worker pipes and sockets, for each lineage record, and for checkpoint files.
 * The length is checked against a maximum before anything is allocated, and the payload
 * buffer grows only with bytes actually received, so a peer cannot make a reader
 * allocate more than the limit (nor much more than it has sent). A torn frame (length
 * beyond the end of a file, or a checksum mismatch) is detected, never mistaken for a
 * complete one. Also a growable byte buffer used by every encoder. */
#ifndef QS_FRAME_H
#define QS_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "core/util.h"

#define QS_FRAME_MAGIC  "qsm1"
#define QS_FRAME_HEADER 12
/* Default largest payload accepted (configurable per reader). */
#define QS_MAX_MESSAGE_DEFAULT ((size_t)256 << 20)
/* Largest payload either end of a socket accepts before the other has authenticated (a
 * challenge, hello or welcome is a few hundred bytes). */
#define QS_PREAUTH_MAX_MESSAGE ((size_t)4096)

/* A growable byte buffer (caller-owned storage; _init/_destroy). */
typedef struct {
    uint8_t *data;
    size_t len, cap;
} qs_bytes_t;
void qs_bytes_init(qs_bytes_t *b);
void qs_bytes_destroy(qs_bytes_t *b);
void qs_bytes_reserve(qs_bytes_t *b, size_t extra);
void qs_bytes_append(qs_bytes_t *b, const void *data, size_t len);
void qs_bytes_clear(qs_bytes_t *b); /* len = 0, keeps the memory */

/* Wrap payload[0..len) in a frame appended to out. */
void qs_frame_append(qs_bytes_t *out, const uint8_t *payload, size_t len);
/* Build a frame in place, without copying the payload: qs_frame_begin appends a header
 * placeholder and returns its offset in out; append the payload to out; then
 * qs_frame_finish(out, start) fills in the length and checksum of out->data[start+12..). */
size_t qs_frame_begin(qs_bytes_t *out);
void qs_frame_finish(qs_bytes_t *out, size_t start);

/* One frame at the start of a buffer (a file read whole): 1 with *payload and *plen pointing
 * into data and *frame_len = QS_FRAME_HEADER + *plen; 0 if data[0..len) is a correct but
 * incomplete prefix of a frame (*frame_len = the bytes a complete frame would need, or
 * QS_FRAME_HEADER while the header is incomplete); or a negative error as for
 * qs_frame_reader_feed. Nothing is allocated. */
int qs_frame_parse(const uint8_t *data, size_t len, size_t max_payload, const uint8_t **payload,
                   size_t *plen, size_t *frame_len, qs_error_t *err);

/* Streaming frame reader: feed any chunks (one byte at a time works). The payload
 * buffer grows with the bytes received (at most doubling), never to the claimed length
 * at once. */
typedef struct {
    size_t max_payload;
    uint8_t head[QS_FRAME_HEADER];
    size_t head_got;
    uint32_t need; /* payload length of the current frame */
    uint32_t crc;
    qs_bytes_t payload;
    int ready;  /* a frame was returned; reset on the next feed */
    int failed; /* the error returned (sticky), 0 while the stream is good */
} qs_frame_reader_t;

void qs_frame_reader_init(qs_frame_reader_t *r, size_t max_payload);
void qs_frame_reader_destroy(qs_frame_reader_t *r);
/* Consume from data[0..len). Returns 1 when a complete, checksum-verified frame is
 * ready (*payload and *plen point into the reader, valid until the next call; *consumed says
 * how many input bytes were used, the rest belongs to later frames), 0 when every byte
 * was consumed and more are needed, or a negative error (QS_ERR(FORMAT) bad magic,
 * QS_ERR(TOOBIG) length over the limit, QS_ERR(CHECKSUM)) with err filled; after an
 * error the stream is unusable: later calls return the same code (qs_frame_reader_reset
 * starts afresh, for readers that resynchronise on the next magic). A wrong magic byte is
 * reported as soon as it arrives. */
int qs_frame_reader_feed(qs_frame_reader_t *r, const uint8_t *data, size_t len, size_t *consumed,
                         const uint8_t **payload, size_t *plen, qs_error_t *err);
/* Bytes of a partial frame held (0 between frames): to tell a clean end from a torn one. */
size_t qs_frame_reader_pending(const qs_frame_reader_t *r);
/* Forget any partial frame and a previous error (keeps the limit and the memory). */
void qs_frame_reader_reset(qs_frame_reader_t *r);

#endif
