/* floor_ws.c: RFC 6455 server handshake and frame header. */
#include "floor_ws.h"

#include <libwebsockets.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

int
ws_handshake_reply(const char *req, size_t n, char *out, size_t cap)
{
	static const char name[] = "\r\nsec-websocket-key:";
	char key[128], accept[32];
	unsigned char digest[20];
	const char *p = NULL, *end = req + n;
	size_t klen = 0;

	for (const char *q = req; q + sizeof(name) - 1 < end; q++)
		if (!strncasecmp(q, name, sizeof(name) - 1)) {
			p = q + sizeof(name) - 1;
			break;
		}
	if (!p)
		return -1;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	while (p + klen < end && p[klen] != '\r' && p[klen] != ' ' && klen < 64)
		klen++;
	if (!klen)
		return -1;
	memcpy(key, p, klen);
	memcpy(key + klen, WS_GUID, sizeof(WS_GUID));
	lws_SHA1((const unsigned char *)key, klen + sizeof(WS_GUID) - 1,
	         digest);
	if (lws_b64_encode_string((const char *)digest, sizeof(digest), accept,
	                          sizeof(accept)) < 0)
		return -1;
	return snprintf(out, cap,
	                "HTTP/1.1 101 Switching Protocols\r\n"
	                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	                "Sec-WebSocket-Accept: %s\r\n\r\n",
	                accept);
}

void
ws_preload(void)
{
	unsigned char digest[20];
	char b64[32];

	lws_SHA1((const unsigned char *)WS_GUID, sizeof(WS_GUID) - 1, digest);
	lws_b64_encode_string((const char *)digest, sizeof(digest), b64,
	                      sizeof(b64));
}

size_t
ws_text_header(size_t len, uint8_t hdr[10])
{
	hdr[0] = 0x81;
	if (len < 126) {
		hdr[1] = (uint8_t)len;
		return 2;
	}
	if (len < 65536) {
		hdr[1] = 126;
		hdr[2] = (uint8_t)(len >> 8);
		hdr[3] = (uint8_t)len;
		return 4;
	}
	hdr[1] = 127;
	for (int i = 0; i < 8; i++)
		hdr[2 + i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
	return 10;
}
