/* auth: challenge-response authentication of remote workers (HMAC-SHA256, OpenSSL).
 *
 *   orchestrator -> challenge { nonce_s }                      32 random bytes
 *   worker       -> hello     { nonce_w, mac_w }               mac_w = HMAC(token, "hello" |
 * nonce_s | nonce_w) orchestrator -> welcome   { mac_s }                        mac_s = HMAC(token,
 * "welcome" | nonce_w | nonce_s)
 *
 * Both sides prove they hold the token; the token itself never crosses the wire, and a
 * recorded exchange cannot be replayed (fresh nonces). MACs are compared in constant time. */
#ifndef QS_AUTH_H
#define QS_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "core/util.h"
#include "proto/wire.h"

#define QS_TOKEN_MIN 16
#define QS_TOKEN_MAX 4096

typedef struct {
    uint8_t bytes[QS_TOKEN_MAX];
    size_t len;
} qs_token_t;

/* Read a token file (trailing newlines stripped; at least QS_TOKEN_MIN bytes). */
int qs_token_load(qs_token_t *t, const char *path, qs_error_t *err);
/* Fill a nonce from the system's secure random source. */
int qs_auth_nonce(uint8_t nonce[QS_NONCE_LEN], qs_error_t *err);
/* mac = HMAC-SHA256(token, label | a | b), a and b being nonces. */
void qs_auth_mac(uint8_t mac[QS_MAC_LEN], const qs_token_t *t, const char *label,
                 const uint8_t a[QS_NONCE_LEN], const uint8_t b[QS_NONCE_LEN]);
/* Constant-time check of a received MAC against the expected one: 1 if equal. */
int qs_auth_check(const uint8_t got[QS_MAC_LEN], const qs_token_t *t, const char *label,
                  const uint8_t a[QS_NONCE_LEN], const uint8_t b[QS_NONCE_LEN]);

/* "HOST:PORT", "[v6]:PORT" or ":PORT"/"PORT" (host defaults to 127.0.0.1). Port 0 is
 * accepted (for --listen: the system picks a free port, which is then logged). */
int qs_parse_hostport(const char *s, char *host, size_t cap, int *port, qs_error_t *err);
/* Whether host names the loopback interface (127.0.0.0/8, ::1, localhost). */
int qs_host_is_loopback(const char *host);

#endif
