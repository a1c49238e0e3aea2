/* floor_ws.h: the least WebSocket a broadcaster needs: 101 and headers. */
#ifndef BENCH_FLOOR_WS_H
#define BENCH_FLOOR_WS_H

#include <stddef.h>
#include <stdint.h>

/*
 * ws_handshake_reply() - from a complete HTTP request (req, n bytes, ending
 * in a blank line), write the 101 response into out (cap bytes).  Returns
 * its length, or -1 if the request carries no Sec-WebSocket-Key.
 */
int ws_handshake_reply(const char *req, size_t n, char *out, size_t cap);

/*
 * ws_preload() - compute one SHA-1 and base64 with lws.  Called before the
 * first client, so that its handshake does not fault in lws's symbols and
 * code (~110 KiB of RSS the generator would count as the connections').
 */
void ws_preload(void);

/* ws_text_header() - an unmasked FIN text frame header for len bytes into
 * hdr (10 bytes of room); returns its length. */
size_t ws_text_header(size_t len, uint8_t hdr[10]);

#endif
