/* ws_rx.c: RFC 6455 frame headers, read a byte range at a time. */
#include "ws_rx.h"

#include <string.h>

/* Total header length implied by the first two bytes. */
static unsigned
header_len(const uint8_t *h)
{
	unsigned len7 = h[1] & 0x7f;

	return 2u +
	       (len7 == 126   ? 2u
	        : len7 == 127 ? 8u
	                      : 0u) +
	       (h[1] & 0x80 ? 4u : 0u);
}

/* Decode a complete header into rx; returns the payload length. */
static uint64_t
start_frame(struct ws_rx *rx)
{
	unsigned len7 = rx->hdr[1] & 0x7f;
	uint64_t len = len7;

	rx->opcode = rx->hdr[0] & 0x0f;
	rx->fin = (rx->hdr[0] & 0x80) != 0;
	if (len7 >= 126) {
		unsigned ext = len7 == 126 ? 2 : 8;

		len = 0;
		for (unsigned i = 0; i < ext; i++)
			len = len << 8 | rx->hdr[2 + i];
	}
	rx->hdr_len = 0;
	return len;
}

void
ws_rx_feed(struct ws_rx *rx, const uint8_t *p, size_t n,
           const struct ws_rx_cb *cb, void *u)
{
	const uint8_t *end = p + n;

	while (p < end) {
		if (!rx->in_payload) {
			unsigned need =
			    rx->hdr_len < 2 ? 2 : header_len(rx->hdr);

			rx->hdr[rx->hdr_len++] = *p++;
			if (rx->hdr_len == 2)
				need = header_len(rx->hdr);
			if (rx->hdr_len < need)
				continue;
			rx->remaining = start_frame(rx);
			rx->in_payload = 1;
		} else {
			size_t k = (size_t)(end - p);

			if (k > rx->remaining)
				k = (size_t)rx->remaining;
			cb->data(u, rx->opcode, p, k);
			p += k;
			rx->remaining -= k;
		}
		if (rx->in_payload && !rx->remaining) {
			rx->in_payload = 0;
			cb->frame_end(u, rx->opcode, rx->fin);
		}
	}
}
