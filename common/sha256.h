/* sha256: the SHA-256 digest (FIPS 180-4), for cache keys that must not
 * collide in practice. Not constant-time; not for secrets. */
#ifndef ALARM_SHA256_H
#define ALARM_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t h[8];
    uint64_t len;      /* bytes hashed so far */
    uint8_t buf[64];
    size_t nbuf;
} sha256_ctx;

void sha256_init(sha256_ctx *c);
void sha256_update(sha256_ctx *c, const void *data, size_t n);
void sha256_final(sha256_ctx *c, uint8_t out[32]);

/* Lower-case hex of the digest of what was hashed (65 bytes with the NUL). */
void sha256_hex(sha256_ctx *c, char out[65]);

#endif
