/* test_deflate.c: permessage-deflate (deflate_offer.c, deflate.c): the
 * offers read from Sec-WebSocket-Extensions, the answer, and each message
 * deflated once per window and shared, on fake connections
 * (fanout_fake.h). */
#include "fanout_fake.h"

#include "deflate.h"
#include "request.h"

#include <zlib.h>

/* One Sec-WebSocket-Extensions value, and what tickerd takes of it. */
static const struct {
	const char *value;
	int bits, asked;
} offers[] = {
    /* Chromium's and Firefox's offers, ws's. */
    {"permessage-deflate; client_max_window_bits", 15, 0},
    {"permessage-deflate", 15, 0},
    {"permessage-deflate; client_max_window_bits=15", 15, 0},
    {"permessage-deflate; server_max_window_bits=10", 10, 1},
    {"permessage-deflate; server_max_window_bits=\"12\"", 12, 1},
    {"permessage-deflate;server_max_window_bits=15", 15, 1},
    {"permessage-deflate; server_no_context_takeover; "
     "client_no_context_takeover",
     15, 0},
    {"PerMessage-Deflate ;  Server_Max_Window_Bits = 9 ", 9, 1},
    /* Several offers: the first that can be taken. */
    {"permessage-deflate; server_max_window_bits=8, permessage-deflate", 15, 0},
    {"permessage-deflate; unknown=1, permessage-deflate; "
     "server_max_window_bits=11",
     11, 1},
    {"x-webkit-deflate-frame, permessage-deflate", 15, 0},
    {", ,permessage-deflate,", 15, 0},
    {"permessage-deflate; server_max_window_bits=9, permessage-deflate; "
     "server_max_window_bits=14",
     9, 1},
    /* Declined: invalid parameters (the handshake goes on without). */
    {"permessage-deflate; server_max_window_bits=8", 0, 0},
    {"permessage-deflate; server_max_window_bits=16", 0, 0},
    {"permessage-deflate; server_max_window_bits=010", 0, 0},
    {"permessage-deflate; server_max_window_bits", 0, 0},
    {"permessage-deflate; server_max_window_bits=abc", 0, 0},
    {"permessage-deflate; server_max_window_bits=10; "
     "server_max_window_bits=10",
     0, 0},
    {"permessage-deflate; client_max_window_bits=7", 0, 0},
    {"permessage-deflate; client_max_window_bits; client_max_window_bits", 0,
     0},
    {"permessage-deflate; server_no_context_takeover=1", 0, 0},
    {"permessage-deflate; server_no_context_takeover; "
     "server_no_context_takeover",
     0, 0},
    {"permessage-deflate; mystery", 0, 0},
    {"permessage-deflate; server_max_window_bits=\"1\\0\"", 10, 1},
    {"x-webkit-deflate-frame", 0, 0},
    {"", 0, 0},
    /* Not an extension list at all: every offer declined. */
    {"permessage-deflate; server_max_window_bits=\"10", 0, 0},
    {"permessage-deflate;", 0, 0},
    {"permessage-deflate; =1", 0, 0},
    {"permessage-deflate permessage-deflate", 0, 0},
    {"permessage-deflate, \"quoted\"", 0, 0},
    {"permessage-deflate; a=b=c", 0, 0},
    {"permessage-deflate; server_max_window_bits=10 junk", 0, 0},
};

/* Each offer read from an exact-size copy (ASan: no read past it). */
static void
test_offers(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_OF(offers); i++) {
		size_t len = strlen(offers[i].value);
		char *v = exact(offers[i].value, len);
		int asked = -1, bits = deflate_offer_parse(v, len, &asked);

		CHECK_INT(offers[i].value, bits, offers[i].bits);
		CHECK_INT(offers[i].value, asked, offers[i].asked);
		free(v);
	}
}

/* Offers in two header lines of a request: the first taken, in order. */
static void
test_offer_lines(void **state)
{
	static const char head[] =
	    "GET /ws HTTP/1.1\r\n"
	    "Host: t\r\n"
	    "Sec-WebSocket-Extensions: permessage-deflate; bogus\r\n"
	    "X-Sec-WebSocket-Extensions: permessage-deflate\r\n"
	    "sec-websocket-extensions: permessage-deflate; "
	    "server_max_window_bits=12\r\n"
	    "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n";
	static const char none[] = "GET /ws HTTP/1.1\r\nHost: t\r\n"
	                           "Sec-WebSocket-Extensions: foo\r\n\r\n";
	struct request r;
	char *buf = exact(head, sizeof(head) - 1);
	int asked;

	(void)state;
	assert_int_equal(request_parse(&r, buf, sizeof(head) - 1), REQ_OK);
	assert_int_equal(deflate_offer_request(&r, &asked), 12);
	assert_int_equal(asked, 1);
	free(buf);
	buf = exact(none, sizeof(none) - 1);
	assert_int_equal(request_parse(&r, buf, sizeof(none) - 1), REQ_OK);
	assert_int_equal(deflate_offer_request(&r, &asked), 0);
	free(buf);
}

/* The answer: no context takeover both ways; the window only if asked. */
static void
test_answer(void **state)
{
	char out[192];
	int n;

	(void)state;
	n = deflate_answer(15, 0, out, sizeof(out));
	assert_int_equal(n, (int)strlen(out));
	assert_string_equal(out,
	                    "Sec-WebSocket-Extensions: permessage-deflate; "
	                    "server_no_context_takeover; "
	                    "client_no_context_takeover\r\n");
	deflate_answer(10, 1, out, sizeof(out));
	assert_string_equal(out,
	                    "Sec-WebSocket-Extensions: permessage-deflate; "
	                    "server_no_context_takeover; "
	                    "client_no_context_takeover; "
	                    "server_max_window_bits=10\r\n");
	assert_int_equal(deflate_answer(15, 0, out, 20), -1);
}

/* A message whose payload is about len bytes: repetitive if easy, else
 * random printable characters (deflate gains little). */
static struct msg *
deflatable(size_t len, int easy)
{
	char *id = malloc(len + 1);
	struct seq s = {.ms = 2000, .n = ++seq_n};
	struct msg *m;

	assert_non_null(id);
	for (size_t i = 0; i < len; i++)
		id[i] = easy ? "headline "[i % 9]
		             : (char)('!' + 1 + (unsigned)rand() % 90);
	for (size_t i = 0; i < len; i++)
		if (id[i] == '\\' || id[i] == '"')
			id[i] = 'x';
	id[len] = '\0';
	m = msg_new_retract(id, "world", s);
	free(id);
	assert_non_null(m);
	return m;
}

/* deflate_inflate()'s sink: append to a buffer. */
struct sink_buf {
	unsigned char *p;
	size_t len;
};

static int
into(void *arg, const unsigned char *p, size_t len)
{
	struct sink_buf *b = arg;

	append(&b->p, &b->len, p, len);
	return 0;
}

/* Fail unless the compressed bytes z inflate to exactly m's payload. */
static void
check_inflates_to(const unsigned char *z, size_t len, const struct msg *m)
{
	struct sink_buf b = {0};

	assert_int_equal(deflate_inflate(z, len, 1 << 24, into, &b), 0);
	assert_int_equal(b.len, m->len);
	assert_memory_equal(b.p, msg_payload(m), m->len);
	free(b.p);
}

/* Deflated once per window and kept: the same bytes every time, RSV1 set,
 * inflating back to the message; one deflate does not help goes plain. */
static void
test_deflate_once(void **state)
{
	struct msg *m = deflatable(3000, 1), *tiny = deflatable(100, 0);
	struct msg *hello;
	struct topic_filter tf;
	uint64_t before = metrics.deflated;
	unsigned char *a, *b, *w10, *p;
	size_t al, bl, wl, pl;
	int rsv1;

	(void)state;
	for (size_t i = 0; i < tiny->len; i++) /* nothing to gain */
		msg_payload(tiny)[i] = (unsigned char)rand();
	a = deflate_frame(m, 15, &al);
	b = deflate_frame(m, 15, &bl);
	assert_ptr_equal(a, b);
	assert_int_equal(al, bl);
	assert_int_equal(metrics.deflated, before + 1);
	assert_int_equal(a[0], 0xc1); /* FIN, RSV1, text */
	assert_true(al < m->frame_len / 4);
	w10 = deflate_frame(m, 10, &wl);
	assert_ptr_not_equal(w10, a);
	assert_int_equal(metrics.deflated, before + 2);
	p = deflate_payload(m, 10, &pl, &rsv1);
	assert_int_equal(rsv1, 1);
	assert_ptr_equal(p, w10 + (wl - pl));
	check_inflates_to(p, pl, m);
	p = deflate_payload(m, 15, &pl, &rsv1);
	check_inflates_to(p, pl, m);
	/* Not smaller: its own frame, for every window. */
	assert_ptr_equal(deflate_frame(tiny, 15, &pl), msg_frame(tiny, &bl));
	assert_ptr_equal(deflate_payload(tiny, 15, &pl, &rsv1),
	                 msg_payload(tiny));
	assert_int_equal(rsv1, 0);
	assert_null(deflate_frame(m, 8, &pl)); /* no such window */
	/* A hello (one per client) goes plain, never deflated. */
	tf = filter(NULL);
	hello = msg_new_hello(&tf, 1000, "epoch", NULL);
	assert_non_null(hello);
	before = metrics.deflated;
	assert_ptr_equal(deflate_frame(hello, 15, &pl), msg_frame(hello, &bl));
	assert_ptr_equal(deflate_payload(hello, 15, &pl, &rsv1),
	                 msg_payload(hello));
	assert_int_equal(rsv1, 0);
	assert_int_equal(metrics.deflated, before);
	msg_unref(hello);
	msg_unref(m);
	msg_unref(tiny);
}

/* Invalid compressed data, and a bomb past the limit, are refused. */
static void
test_inflate_refuses(void **state)
{
	static const unsigned char junk[] = {0xff, 0xff, 0xff, 0xff, 0x00};
	struct msg *m = deflatable(100000, 1);
	struct sink_buf b = {0};
	unsigned char *z;
	size_t zl;
	int rsv1;

	(void)state;
	assert_int_equal(deflate_inflate(junk, sizeof(junk), 4096, into, &b),
	                 -1);
	free(b.p);
	b.p = NULL;
	b.len = 0;
	z = deflate_payload(m, 15, &zl, &rsv1);
	assert_true(zl < 1000);
	assert_int_equal(deflate_inflate(z, zl, 4096, into, &b), -2);
	free(b.p);
	b.p = NULL;
	b.len = 0;
	/* An empty message, and the stream is good for the next one. */
	assert_int_equal(deflate_inflate(NULL, 0, 4096, into, &b), 0);
	assert_int_equal(b.len, 0);
	check_inflates_to(z, zl, m);
	msg_unref(m);
}

/* A client's compressed message kept as it arrives, then taken whole;
 * too much kept, or data that does not inflate, gives the close code. */
static void
test_keep_take(void **state)
{
	static const unsigned char zeros[DEFLATE_IN_MAX];
	struct msg *m = deflatable(3000, 1);
	struct sink_buf b = {0};
	unsigned char *buf = NULL, *z;
	uint16_t used = 0;
	size_t zl;
	int rsv1;

	(void)state;
	z = deflate_payload(m, 15, &zl, &rsv1);
	assert_int_equal(deflate_keep(&buf, &used, z, 10), 0);
	assert_int_equal(deflate_keep(&buf, &used, z + 10, zl - 10), 0);
	assert_int_equal(deflate_take(&buf, &used, 1 << 20, into, &b), 0);
	assert_null(buf);
	assert_int_equal(used, 0);
	assert_int_equal(b.len, m->len);
	assert_memory_equal(b.p, msg_payload(m), m->len);
	free(b.p);
	b.p = NULL;
	b.len = 0;
	assert_int_equal(deflate_keep(&buf, &used, z, zl), 0);
	assert_int_equal(deflate_take(&buf, &used, 100, into, &b), 1009);
	assert_null(buf);
	free(b.p);
	assert_int_equal(deflate_keep(&buf, &used, zeros, DEFLATE_IN_MAX - 1),
	                 0);
	assert_int_equal(deflate_keep(&buf, &used, zeros, 2), 1009);
	free(buf);
	buf = NULL;
	used = 0;
	assert_int_equal(
	    deflate_keep(&buf, &used,
	                 (const unsigned char *)"\xff\xff\xff\xff\xff", 5),
	    0);
	assert_int_equal(deflate_take(&buf, &used, 100, into, &b), 1002);
	msg_unref(m);
}

/* One whole message read from the frames at *at in got: its payload (a
 * new buffer) and whether its first frame had RSV1. */
static unsigned char *
read_message(const unsigned char *got, size_t len, size_t *at, size_t *plen,
             int *rsv1)
{
	unsigned char *out = NULL;
	int first = 1, fin = 0;

	*plen = 0;
	while (!fin) {
		const unsigned char *h = got + *at;
		size_t n = h[1] & 0x7f, hl = 2;

		assert_true(*at + 2 <= len);
		assert_int_equal(h[1] & 0x80, 0); /* unmasked */
		if (n == 126) {
			n = (size_t)h[2] << 8 | h[3];
			hl = 4;
		} else if (n == 127) {
			n = 0;
			for (int i = 0; i < 8; i++)
				n = n << 8 | h[2 + i];
			hl = 10;
		}
		fin = !!(h[0] & 0x80);
		assert_int_equal(h[0] & 0x0f, first ? 1 : 0);
		if (first)
			*rsv1 = !!(h[0] & 0x40);
		else
			assert_int_equal(h[0] & 0x70, 0); /* RSV1: first only */
		assert_true(*at + hl + n <= len);
		append(&out, plen, h + hl, n);
		*at += hl + n;
		first = 0;
	}
	return out;
}

/*
 * Through the fan-out: two clients that negotiated the same window get
 * the same bytes, compressed once (a greeting over 64 KiB compressed goes
 * in pieces, RSV1 on the first only), a client of another window its own,
 * a plain one today's bytes; each inflates back to the message.
 */
static void
test_fanout_shares(void **state)
{
	struct fan *f = fan_new(8, &fake_ops);
	struct msg *greet = deflatable(150000, 0), *m = deflatable(2000, 1);
	struct peer z1, z2, z10, plain;
	uint64_t before;
	size_t at, len;
	int rsv1;

	(void)state;
	for (int i = 0; i < 4; i++) /* one for each client, ours kept */
		msg_ref(greet);
	join_kind(f, &z1, fan_kind_deflate(15), NULL, fan_head(f) + 1, greet);
	join_kind(f, &z2, fan_kind_deflate(15), NULL, fan_head(f) + 1, greet);
	join_kind(f, &z10, fan_kind_deflate(10), NULL, fan_head(f) + 1, greet);
	join_kind(f, &plain, FAN_WS, NULL, fan_head(f) + 1, greet);
	before = metrics.deflated;
	for (struct peer *p = &z1; p; p = p == &z1    ? &z2
	                                  : p == &z2  ? &z10
	                                  : p == &z10 ? &plain
	                                              : NULL) {
		p->conn.room = SIZE_MAX / 2;
		assert_int_equal(fan_writeable(f, &p->c), 0);
	}
	assert_int_equal(metrics.deflated, before + 2); /* windows 15, 10 */
	assert_int_equal(fan_state_of(&z1.c), FAN_IDLE);
	fan_publish(f, m);
	fan_flush(f);
	assert_int_equal(metrics.deflated, before + 4);
	assert_int_equal(z1.conn.got_len, z2.conn.got_len);
	assert_memory_equal(z1.conn.got, z2.conn.got, z1.conn.got_len);
	assert_true(z1.conn.got_len < plain.conn.got_len);
	for (struct peer *p = &z1; p; p = p == &z1 ? &z10 : NULL) {
		unsigned char *g, *it;

		at = 0;
		g = read_message(p->conn.got, p->conn.got_len, &at, &len,
		                 &rsv1);
		assert_int_equal(rsv1, 1);
		assert_true(len > 64 * 1024); /* so it went in pieces */
		check_inflates_to(g, len, greet);
		it = read_message(p->conn.got, p->conn.got_len, &at, &len,
		                  &rsv1);
		assert_int_equal(rsv1, 1);
		check_inflates_to(it, len, m);
		assert_int_equal(at, p->conn.got_len);
		free(g);
		free(it);
	}
	/* The plain client: the greeting in plain pieces, then m's frame. */
	at = 0;
	free(
	    read_message(plain.conn.got, plain.conn.got_len, &at, &len, &rsv1));
	assert_int_equal(rsv1, 0);
	assert_int_equal(len, greet->len);
	assert_int_equal(plain.conn.got_len - at, m->frame_len);
	assert_memory_equal(plain.conn.got + at, m->frame, m->frame_len);
	fan_detach(f, &z1.c);
	fan_detach(f, &z2.c);
	fan_detach(f, &z10.c);
	fan_detach(f, &plain.c);
	msg_unref(m);
	msg_unref(greet);
	fan_free(f);
	free(z1.conn.got);
	free(z2.conn.got);
	free(z10.conn.got);
	free(plain.conn.got);
	deflate_free_all();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_offers),
	    cmocka_unit_test(test_offer_lines),
	    cmocka_unit_test(test_answer),
	    cmocka_unit_test(test_deflate_once),
	    cmocka_unit_test(test_inflate_refuses),
	    cmocka_unit_test(test_keep_take),
	    cmocka_unit_test(test_fanout_shares),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
