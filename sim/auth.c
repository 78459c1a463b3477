/* auth: token files, nonces and HMAC-SHA256 via OpenSSL's libcrypto. */
#include "sim/auth.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int qs_token_load(qs_token_t *t, const char *path, qs_error_t *err)
{
    struct stat st;
    FILE *f = qs_fopen_regular(path, &st, err);
    if (!f) {
        qs_error_prefix(err, "token file");
        return err ? err->code : QS_ERR(IO);
    }
    if (st.st_mode & 077) { /* a secret others can read (or replace) authenticates nobody */
        fclose(f);
        return qs_error_set(err, QS_ERR(AUTH),
                            "token file %s: mode %04o lets others read or change it; run `chmod "
                            "600 %s`",
                            path, (unsigned)(st.st_mode & 07777), path);
    }
    size_t n = fread(t->bytes, 1, sizeof t->bytes, f);
    int more = fgetc(f) != EOF;
    fclose(f);
    if (more)
        return qs_error_set(err, QS_ERR(TOOBIG), "token file %s: longer than %d bytes", path,
                            QS_TOKEN_MAX);
    while (n > 0 && (t->bytes[n - 1] == '\n' || t->bytes[n - 1] == '\r'))
        n--;
    if (n < QS_TOKEN_MIN)
        return qs_error_set(err, QS_ERR(INVAL),
                            "token file %s: %zu bytes; a token needs at least %d (e.g. `(umask "
                            "077; head -c 32 /dev/urandom | base64 > %s)`)",
                            path, n, QS_TOKEN_MIN, path);
    t->len = n;
    return 0;
}

int qs_auth_nonce(uint8_t nonce[QS_NONCE_LEN], qs_error_t *err)
{
    if (RAND_bytes(nonce, QS_NONCE_LEN) != 1)
        return qs_error_set(err, QS_ERR(IO), "no secure random numbers (RAND_bytes failed)");
    return 0;
}

void qs_auth_mac(uint8_t mac[QS_MAC_LEN], const qs_token_t *t, const char *label,
                 const uint8_t a[QS_NONCE_LEN], const uint8_t b[QS_NONCE_LEN])
{
    uint8_t msg[16 + 2 * QS_NONCE_LEN];
    size_t ll = strlen(label);
    if (ll > 16)
        ll = 16;
    memcpy(msg, label, ll);
    memcpy(msg + ll, a, QS_NONCE_LEN);
    memcpy(msg + ll + QS_NONCE_LEN, b, QS_NONCE_LEN);
    unsigned int len = QS_MAC_LEN;
    if (!HMAC(EVP_sha256(), t->bytes, (int)t->len, msg, ll + 2 * QS_NONCE_LEN, mac, &len) ||
        len != QS_MAC_LEN)
        qs_die("HMAC-SHA256 failed");
}

int qs_auth_check(const uint8_t got[QS_MAC_LEN], const qs_token_t *t, const char *label,
                  const uint8_t a[QS_NONCE_LEN], const uint8_t b[QS_NONCE_LEN])
{
    uint8_t want[QS_MAC_LEN];
    qs_auth_mac(want, t, label, a, b);
    return CRYPTO_memcmp(got, want, QS_MAC_LEN) == 0;
}

int qs_parse_hostport(const char *s, char *host, size_t cap, int *port, qs_error_t *err)
{
    const char *colon = strrchr(s, ':');
    const char *p = colon ? colon + 1 : s;
    size_t hlen = colon ? (size_t)(colon - s) : 0;
    const char *h = s;
    if (hlen >= 2 && s[0] == '[' && s[hlen - 1] == ']') { /* [v6]:port */
        h = s + 1;
        hlen -= 2;
    }
    char *end;
    long v = strtol(p, &end, 10);
    if (!*p || *end || v < 0 || v > 65535)
        return qs_error_set(err, QS_ERR(INVAL), "'%s': expected HOST:PORT with a port 0..65535", s);
    if (hlen == 0) {
        snprintf(host, cap, "127.0.0.1");
    } else {
        if (hlen >= cap)
            return qs_error_set(err, QS_ERR(INVAL), "'%s': host name too long", s);
        memcpy(host, h, hlen);
        host[hlen] = '\0';
    }
    *port = (int)v;
    return 0;
}

int qs_host_is_loopback(const char *host)
{
    return !strncmp(host, "127.", 4) || !strcmp(host, "::1") || !strcmp(host, "localhost");
}
