/* deflate.h: permessage-deflate (RFC 7692) without per-connection state:
 * the offer read at the upgrade, each message deflated once per window
 * size in use and shared, clients' compressed messages inflated by one
 * shared stream.
 *
 * tickerd always answers with server_no_context_takeover and
 * client_no_context_takeover: every message is compressed on its own, so
 * the same deflated bytes suit every client that negotiated the same
 * window (server_max_window_bits, 15 when not offered), and no zlib
 * stream lives per connection (about 290 KB each otherwise).  A message
 * that deflate does not make smaller goes out as it is (RSV1 clear), as
 * RFC 7692 allows.
 */
#ifndef TICKERD_DEFLATE_H
#define TICKERD_DEFLATE_H

#include <stddef.h>
#include <stdint.h>

struct msg;
struct request;

/* The windows tickerd compresses with (zlib's raw deflate has no 8). */
#define DEFLATE_BITS_MIN 9
#define DEFLATE_BITS_MAX 15
#define DEFLATE_BITS_N   (DEFLATE_BITS_MAX - DEFLATE_BITS_MIN + 1)

/* A client's compressed message is taken up to this many bytes as sent. */
#define DEFLATE_IN_MAX 16384

/*
 * deflate_offer_parse() - read one Sec-WebSocket-Extensions value (len
 * bytes at s, not NUL-terminated): the window bits (9..15) of the first
 * permessage-deflate offer tickerd can take, or 0 when there is none.  An
 * offer with an unknown, repeated or invalid parameter, or asking for a
 * 256-byte window, is declined (the next one is looked at); a value that
 * is not a valid extension list declines them all.  Never fails.  *asked
 * is set to 1 if the offer taken named server_max_window_bits (the answer
 * must then name it too, and must not otherwise), else 0.
 */
int deflate_offer_parse(const char *s, size_t len, int *asked);

/*
 * deflate_offer_request() - the same over every Sec-WebSocket-Extensions
 * line of r (a list may come in several lines): the first offer taken, in
 * order, or 0.
 */
int deflate_offer_request(const struct request *r, int *asked);

/*
 * deflate_answer() - the response's header line (CRLF-terminated) that
 * accepts an offer taken with window bits (naming them when the offer
 * asked for a server_max_window_bits), into out; its length, or -1 if it
 * does not fit.
 */
int deflate_answer(int bits, int asked, char *out, size_t len);

/*
 * deflate_frame() - m's WebSocket frame for a client that negotiated
 * window bits: made once per message and window on the first call and
 * kept with m (the same bytes for every such client); m's own frame when
 * deflate did not make it smaller, and for a hello (made per client: not
 * worth a deflate per connection).  NULL on ENOMEM.
 */
unsigned char *deflate_frame(struct msg *m, int bits, size_t *len);

/*
 * deflate_payload() - the payload behind deflate_frame() (for a message
 * sent in pieces): its bytes and length, and *rsv1 1 if they are
 * compressed (the first piece's header says so).  NULL on ENOMEM.
 */
unsigned char *deflate_payload(struct msg *m, int bits, size_t *len, int *rsv1);

/* deflate_sink - where deflate_inflate() hands the bytes, chunk by chunk:
 * 0 to go on, non-zero to stop. */
typedef int (*deflate_sink)(void *arg, const unsigned char *p, size_t len);

/*
 * deflate_inflate() - inflate one whole compressed message from a client
 * (len bytes at in, its frames' payloads joined) with the one shared
 * stream, handing the result to sink: 0, -1 if the data is not valid
 * deflate, -2 if it inflates to more than max bytes, -3 on ENOMEM, or
 * what sink returned to stop.
 */
int deflate_inflate(const unsigned char *in, size_t len, size_t max,
                    deflate_sink sink, void *arg);

/*
 * deflate_keep() - append len bytes of a client's compressed message, as
 * they arrive, to *buf (DEFLATE_IN_MAX bytes, allocated on the first; *used
 * of them so far), for deflate_take() once it is whole (the inflater is
 * shared, so a message is inflated at once).  0, or the close code to
 * answer with: 1009 past DEFLATE_IN_MAX, 1011 on ENOMEM.
 */
int deflate_keep(unsigned char **buf, uint16_t *used, const unsigned char *p,
                 size_t len);

/*
 * deflate_take() - the message kept in *buf is whole: take it (*buf NULL,
 * *used 0 before sink is first called), inflate it with deflate_inflate()
 * to sink, and free it.  0 (also when sink stopped), or the close code to
 * answer with: 1002 not deflate data, 1009 more than max bytes inflated,
 * 1011 on ENOMEM.
 */
int deflate_take(unsigned char **buf, uint16_t *used, size_t max,
                 deflate_sink sink, void *arg);

/* deflate_free_all() - release the shared streams (at exit). */
void deflate_free_all(void);

#endif
