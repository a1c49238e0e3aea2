/* fuzz_deflate.c: fuzz permessage-deflate's inputs: Sec-WebSocket-Extensions
 * offers (deflate_offer.c) and clients' compressed messages (deflate.c's
 * shared inflater).  The first byte picks which. */
#include "fuzz.h"

#include "deflate.h"

#include <string.h>

/* deflate_inflate()'s sink: counts, and checks it is never handed more. */
static int
count(void *arg, const unsigned char *p, size_t len)
{
	size_t *total = arg;

	CHECK(p && len);
	*total += len;
	return 0;
}

/*
 * An offer: a window tickerd can compress with or 0; asked only with a
 * window; the answer fits and names the window exactly when asked; the
 * same value read again gives the same.
 */
static void
fuzz_offer(const char *v, size_t len)
{
	int asked = -1, again, bits = deflate_offer_parse(v, len, &asked);
	char answer[192], want[32];
	int n;

	CHECK(bits == 0 ||
	      (bits >= DEFLATE_BITS_MIN && bits <= DEFLATE_BITS_MAX));
	CHECK(asked == 0 || (asked == 1 && bits));
	CHECK(deflate_offer_parse(v, len, &again) == bits && again == asked);
	if (!bits)
		return;
	n = deflate_answer(bits, asked, answer, sizeof(answer));
	CHECK(n > 0 && (size_t)n == strlen(answer));
	CHECK(!strncmp(answer, "Sec-WebSocket-Extensions: permessage-deflate; ",
	               46));
	snprintf(want, sizeof(want), "server_max_window_bits=%d\r\n", bits);
	CHECK(asked == (strstr(answer, want) != NULL));
}

/* A compressed message: inflated within the limit, or refused. */
static void
fuzz_inflate(const unsigned char *z, size_t len)
{
	size_t total = 0;
	int r = deflate_inflate(z, len, 65536, count, &total);

	CHECK(r == 0 || r == -1 || r == -2);
	CHECK(total <= 65536);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy;

	if (!size)
		return 0;
	/* An exact-size copy: ASan sees a read past the end. */
	copy = malloc(size - 1 ? size - 1 : 1);
	if (!copy)
		return 0;
	memcpy(copy, data + 1, size - 1);
	if (data[0] & 1)
		fuzz_inflate((const unsigned char *)copy, size - 1);
	else
		fuzz_offer(copy, size - 1);
	free(copy);
	return 0;
}
