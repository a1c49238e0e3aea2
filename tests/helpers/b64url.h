/* b64url.h: base64url (RFC 4648 section 5, no padding), as tokens carry
 * it: the encoder the unit and fuzz tests mint tokens with.  The server
 * only decodes (token.c). */
#ifndef TICKERD_TEST_B64URL_H
#define TICKERD_TEST_B64URL_H

#include <stddef.h>

/* base64url of p[0..len) written at out, NUL-terminated (room for
 * 4 * ceil(len / 3) + 1 bytes); returns its length, without the NUL. */
static inline size_t
b64url_encode(char *out, const unsigned char *p, size_t len)
{
	static const char a[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstu"
	    "vwxyz0123456789-_";
	size_t n = 0;

	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)p[i] << 16;

		if (i + 1 < len)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		out[n++] = a[(v >> 18) & 63];
		out[n++] = a[(v >> 12) & 63];
		if (i + 1 < len)
			out[n++] = a[(v >> 6) & 63];
		if (i + 2 < len)
			out[n++] = a[v & 63];
	}
	out[n] = '\0';
	return n;
}

#endif
