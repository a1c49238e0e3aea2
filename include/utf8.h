/* utf8.h: checking UTF-8 that arrives in pieces (WebSocket text frames). */
#ifndef TICKERD_UTF8_H
#define TICKERD_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* A check's state between pieces: UTF8_START before the first byte. */
#define UTF8_START 0
#define UTF8_BAD   8

/*
 * utf8_feed() - go on checking with p[0..len): returns the new state,
 * UTF8_BAD (for good) once the bytes so far can't be UTF-8: overlong
 * forms, surrogates and code points past U+10FFFF included.  The text is
 * whole and valid when the state is UTF8_START after its last piece.
 */
uint8_t utf8_feed(uint8_t state, const unsigned char *p, size_t len);

#endif
