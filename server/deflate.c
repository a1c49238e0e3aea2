/* deflate.c: each message deflated once per window size in use, shared by
 * every client that negotiated it; clients' compressed messages inflated
 * with one shared stream.  No zlib state per connection. */
#include "deflate.h"

#include "log.h"
#include "message.h"
#include "metrics.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* One compressor per window size asked for (made when first needed, reset
 * per message), one decompressor for every client. */
static z_stream *compressors[DEFLATE_BITS_N];
static z_stream *inflater;

/* What a sync flush ends with, and RFC 7692 leaves off (section 7.2.1). */
static const unsigned char tail[4] = {0x00, 0x00, 0xff, 0xff};

/* The compressor for bits, made on first use; NULL on ENOMEM. */
static z_stream *
compressor(int bits)
{
	z_stream **z = &compressors[bits - DEFLATE_BITS_MIN];

	if (*z)
		return *z;
	*z = calloc(1, sizeof(**z));
	if (!*z)
		return NULL;
	/* Raw deflate (negative window bits); memLevel 8 as zlib's default. */
	if (deflateInit2(*z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -bits, 8,
	                 Z_DEFAULT_STRATEGY) != Z_OK) {
		free(*z);
		*z = NULL;
		return NULL;
	}
	return *z;
}

/*
 * Deflate m's payload with window bits into a new msg_z: NULL on ENOMEM
 * (or a zlib error, logged); one marked plain if it is not smaller.
 */
static struct msg_z *
make(struct msg *m, int bits)
{
	z_stream *zs = compressor(bits);
	struct msg_z *z;
	size_t cap, n;

	if (!zs)
		return NULL;
	/* deflateBound() leaves out the sync flush's empty block (5 bytes)
	 * and a block boundary's: 16 covers them. */
	cap = deflateBound(zs, (uLong)m->len) + 16;
	z = malloc(sizeof(*z) + MSG_HEADROOM + cap);
	if (!z)
		return NULL;
	z->bits = (unsigned char)bits;
	deflateReset(zs);
	zs->next_in = msg_payload(m);
	zs->avail_in = (uInt)m->len;
	zs->next_out = z->buf + MSG_HEADROOM;
	zs->avail_out = (uInt)cap;
	if (deflate(zs, Z_SYNC_FLUSH) != Z_OK || zs->avail_in ||
	    !zs->avail_out) {
		log_err("deflate failed: %s", zs->msg ? zs->msg : "?");
		free(z);
		return NULL;
	}
	n = cap - zs->avail_out;
	if (n < sizeof(tail) || memcmp(z->buf + MSG_HEADROOM + n - sizeof(tail),
	                               tail, sizeof(tail))) {
		log_err("deflate's flush did not end as expected");
		free(z);
		return NULL;
	}
	z->len = n - sizeof(tail);
	z->plain = z->len >= m->len;
	if (z->plain) {
		struct msg_z *small = realloc(z, sizeof(*z));

		z = small ? small : z;
		z->frame = NULL;
		z->frame_len = 0;
	} else {
		z->frame = msg_frame_header(z->buf + MSG_HEADROOM, z->len, 1);
		z->frame_len =
		    (size_t)(z->buf + MSG_HEADROOM + z->len - z->frame);
	}
	metrics.deflated++;
	return z;
}

/* m's form for window bits, made on first use; NULL on ENOMEM. */
static struct msg_z *
form(struct msg *m, int bits)
{
	struct msg_z *z;

	if (bits < DEFLATE_BITS_MIN || bits > DEFLATE_BITS_MAX)
		return NULL;
	for (z = m->z; z; z = z->next)
		if (z->bits == bits)
			return z;
	z = make(m, bits);
	if (!z)
		return NULL;
	z->next = m->z;
	m->z = z;
	return z;
}

/*
 * 1 if m goes plain to every client: the hello, made for each client on
 * its own (deflating it would cost each connection tens of µs, in a
 * reconnect storm too, for a hundred bytes or so saved once).
 */
static int
always_plain(const struct msg *m)
{
	return !strcmp(m->type, "hello");
}

unsigned char *
deflate_frame(struct msg *m, int bits, size_t *len)
{
	struct msg_z *z;

	if (always_plain(m))
		return msg_frame(m, len);
	z = form(m, bits);
	if (!z)
		return NULL;
	if (z->plain)
		return msg_frame(m, len);
	*len = z->frame_len;
	return z->frame;
}

unsigned char *
deflate_payload(struct msg *m, int bits, size_t *len, int *rsv1)
{
	struct msg_z *z = always_plain(m) ? NULL : form(m, bits);

	if (!z && !always_plain(m))
		return NULL;
	*rsv1 = z && !z->plain;
	if (!*rsv1) {
		*len = m->len;
		return msg_payload(m);
	}
	*len = z->len;
	return z->buf + MSG_HEADROOM;
}

/* The shared decompressor, made on first use; NULL on ENOMEM. */
static z_stream *
decompressor(void)
{
	if (inflater)
		return inflater;
	inflater = calloc(1, sizeof(*inflater));
	if (!inflater)
		return NULL;
	if (inflateInit2(inflater, -DEFLATE_BITS_MAX) != Z_OK) {
		free(inflater);
		inflater = NULL;
	}
	return inflater;
}

int
deflate_inflate(const unsigned char *in, size_t len, size_t max,
                deflate_sink sink, void *arg)
{
	z_stream *zs = decompressor();
	unsigned char out[4096];
	size_t total = 0, n;
	int r, stop;

	if (!zs)
		return -3;
	inflateReset(zs);
	/* The message, then the tail its sender left off. */
	for (int part = 0; part < 2; part++) {
		zs->next_in = (unsigned char *)(part ? tail : in);
		zs->avail_in = (uInt)(part ? sizeof(tail) : len);
		do {
			zs->next_out = out;
			zs->avail_out = sizeof(out);
			r = inflate(zs, Z_SYNC_FLUSH);
			if (r != Z_OK && r != Z_STREAM_END && r != Z_BUF_ERROR)
				return -1;
			n = sizeof(out) - zs->avail_out;
			if (!n && r == Z_BUF_ERROR && zs->avail_in)
				return -1; /* stuck: not deflate */
			total += n;
			if (total > max)
				return -2;
			stop = n ? sink(arg, out, n) : 0;
			if (stop)
				return stop;
			if (r == Z_STREAM_END) /* a final block: the rest is
			                        * not part of the message */
				return 0;
		} while (zs->avail_in || !zs->avail_out);
	}
	return 0;
}

int
deflate_keep(unsigned char **buf, uint16_t *used, const unsigned char *p,
             size_t len)
{
	if (*used + len > DEFLATE_IN_MAX)
		return 1009;
	if (!*buf && !(*buf = malloc(DEFLATE_IN_MAX)))
		return 1011;
	memcpy(*buf + *used, p, len);
	*used = (uint16_t)(*used + len);
	return 0;
}

int
deflate_take(unsigned char **buf, uint16_t *used, size_t max, deflate_sink sink,
             void *arg)
{
	unsigned char *z = *buf;
	size_t len = *used;
	int r;

	*buf = NULL;
	*used = 0;
	r = deflate_inflate(z, len, max, sink, arg);
	free(z);
	return r == -1 ? 1002 : r == -2 ? 1009 : r == -3 ? 1011 : 0;
}

void
deflate_free_all(void)
{
	for (int i = 0; i < DEFLATE_BITS_N; i++) {
		if (!compressors[i])
			continue;
		deflateEnd(compressors[i]);
		free(compressors[i]);
		compressors[i] = NULL;
	}
	if (inflater) {
		inflateEnd(inflater);
		free(inflater);
		inflater = NULL;
	}
}
