/* sha1.h: SHA-1 and base64, just for the WebSocket accept key. */
#ifndef BENCH_SHA1_H
#define BENCH_SHA1_H

#include <stddef.h>
#include <stdint.h>

/* sha1() - the 20-byte digest of n bytes at p. */
void sha1(const void *p, size_t n, uint8_t out[20]);

/* base64() - encode n bytes into out (4 * ceil(n / 3) + 1 bytes, NUL). */
void base64(const uint8_t *p, size_t n, char *out);

#endif
