/* test_proxyproto.c: PROXY protocol headers, v1 and v2: whole, in pieces,
 * with TLVs, LOCAL and UNKNOWN, garbage, too long. */
#include "unit.h"

#include "proxyproto.h"

#include <stdio.h>

static const unsigned char sig[12] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
                                      0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};

/* proxy_parse() on an exact-size heap copy (ASan sees reads past it). */
static enum proxy_result
parse(const void *s, size_t len, struct proxy_hdr *h, size_t *used)
{
	char *p = exact(s, len);
	enum proxy_result res = proxy_parse(p, len, h, used);

	free(p);
	return res;
}

/*
 * Every proper prefix of s[0..len) is PROXY_INCOMPLETE, and the whole is
 * PROXY_OK with used == len: the door may get a header in any pieces.
 */
static void
check_pieces(const char *what, const void *s, size_t len)
{
	struct proxy_hdr h;
	size_t used;

	for (size_t n = 0; n < len; n++)
		if (parse(s, n, &h, &used) != PROXY_INCOMPLETE)
			fail_msg("%s: its first %zu bytes are not incomplete",
			         what, n);
	CHECK_INT(what, parse(s, len, &h, &used), PROXY_OK);
	CHECK_INT(what, used, len);
}

/* A v2 header into b: command, family, addresses (alen bytes), TLVs. */
static size_t
v2(unsigned char *b, int cmd, int fam, const void *addr, size_t alen,
   const void *tlv, size_t tlen)
{
	size_t len = alen + tlen;

	memcpy(b, sig, 12);
	b[12] = (unsigned char)(0x20 | cmd);
	b[13] = (unsigned char)fam;
	b[14] = (unsigned char)(len >> 8);
	b[15] = (unsigned char)len;
	if (alen)
		memcpy(b + 16, addr, alen);
	if (tlen)
		memcpy(b + 16 + alen, tlv, tlen);
	return 16 + len;
}

static void
test_v1(void **state)
{
	static const struct {
		const char *head, *src;
		unsigned port;
	} ok[] = {
	    {"PROXY TCP4 192.0.2.7 198.51.100.1 56324 443\r\n", "192.0.2.7",
	     56324},
	    {"PROXY TCP6 2001:DB8::7 2001:db8::1 65535 8080\r\n", "2001:db8::7",
	     65535},
	    {"PROXY TCP4 255.255.255.255 255.255.255.255 0 0\r\n",
	     "255.255.255.255", 0},
	    {"PROXY UNKNOWN\r\n", NULL, 0},
	    {"PROXY UNKNOWN ffff:f...f:ffff 0.0.0.0 65535 1\r\n", NULL, 0},
	};
	struct proxy_hdr h;
	size_t used;
	char buf[200];

	(void)state;
	for (size_t i = 0; i < N_OF(ok); i++) {
		size_t len = strlen(ok[i].head);

		check_pieces(ok[i].head, ok[i].head, len);
		/* The request that follows is not the header's. */
		snprintf(buf, sizeof(buf), "%sGET / HTTP/1.1\r\n\r\n",
		         ok[i].head);
		CHECK_INT(ok[i].head, parse(buf, strlen(buf), &h, &used),
		          PROXY_OK);
		CHECK_INT(ok[i].head, used, len);
		CHECK_INT(ok[i].head, h.version, 1);
		CHECK_INT(ok[i].head, h.local, !ok[i].src);
		if (ok[i].src) {
			assert_string_equal(h.src, ok[i].src);
			CHECK_INT(ok[i].head, h.src_port, ok[i].port);
		}
	}
}

static void
test_v1_refused(void **state)
{
	static const char *const bad[] = {
	    "PROXY TCP4 192.0.2.7 198.51.100.1 56324 443\n", /* no CR */
	    "PROXY TCP4 192.0.2.7 198.51.100.1 56324\r\n",   /* 4 fields */
	    "PROXY TCP4 192.0.2.7 198.51.100.1 56324 443 9\r\n",
	    "PROXY TCP4  192.0.2.7 198.51.100.1 56324 443\r\n", /* 2 spaces */
	    "PROXY TCP4 2001:db8::7 2001:db8::1 1 2\r\n",       /* v6 as TCP4 */
	    "PROXY TCP6 192.0.2.7 198.51.100.1 1 2\r\n",        /* v4 as TCP6 */
	    "PROXY TCP4 192.0.2.256 198.51.100.1 1 2\r\n",
	    "PROXY TCP4 192.0.2.7 198.51.100.1 65536 443\r\n",
	    "PROXY TCP4 192.0.2.7 198.51.100.1 080 443\r\n",
	    "PROXY TCP4 192.0.2.7 198.51.100.1 -1 443\r\n",
	    "PROXY UDP4 192.0.2.7 198.51.100.1 1 2\r\n",
	    "PROXY tcp4 192.0.2.7 198.51.100.1 1 2\r\n",
	    "PROXY UNKNOWNX\r\n",
	    "PROXY \r\n",
	    "proxy TCP4 192.0.2.7 198.51.100.1 1 2\r\n",
	    "GET / HTTP/1.1\r\n\r\n", /* no header at all */
	    "PROXYTCP4 192.0.2.7 198.51.100.1 1 2\r\n",
	};
	struct proxy_hdr h;
	size_t used;
	char line[300];

	(void)state;
	for (size_t i = 0; i < N_OF(bad); i++) {
		CHECK_INT(bad[i], parse(bad[i], strlen(bad[i]), &h, &used),
		          PROXY_BAD);
		CHECK_INT(bad[i], used, 0);
	}
	/* 107 bytes with their CRLF are read; no CRLF within 107: refused. */
	snprintf(line, sizeof(line), "PROXY UNKNOWN %0*d\r\n",
	         PROXY_V1_MAX - 16, 0);
	CHECK_INT("107 bytes", strlen(line), PROXY_V1_MAX);
	CHECK_INT("107 bytes", parse(line, strlen(line), &h, &used), PROXY_OK);
	snprintf(line, sizeof(line), "PROXY UNKNOWN %0*d\r\n",
	         PROXY_V1_MAX - 15, 0);
	CHECK_INT("108 bytes", parse(line, strlen(line), &h, &used), PROXY_BAD);
	CHECK_INT("107 without CRLF", parse(line, PROXY_V1_MAX, &h, &used),
	          PROXY_BAD);
	CHECK_INT("106 without CRLF", parse(line, PROXY_V1_MAX - 1, &h, &used),
	          PROXY_INCOMPLETE);
}

static void
test_v2(void **state)
{
	static const unsigned char a4[12] = {192, 0, 2,    7,    198, 51,
	                                     100, 1, 0xdb, 0xc4, 1,   0xbb};
	unsigned char a6[36] = {0x20, 0x01, 0x0d, 0xb8}, b[256];
	/* SSL and unique-id TLVs, as HAProxy sends them: skipped. */
	static const unsigned char tlv[] = {0x20, 0x00, 0x05, 0x07, 0,   0,  0,
	                                    0,    0x05, 0x00, 0x02, 'i', 'd'};
	struct proxy_hdr h;
	size_t len, used;

	(void)state;
	a6[15] = 7;
	a6[32] = 0xff;
	a6[33] = 0xfe;
	len = v2(b, 1, 0x11, a4, sizeof(a4), NULL, 0);
	check_pieces("v2 IPv4", b, len);
	parse(b, len, &h, &used);
	assert_string_equal(h.src, "192.0.2.7");
	CHECK_INT("v2 IPv4", h.src_port, 56260);
	CHECK_INT("v2 IPv4", h.version, 2);
	CHECK_INT("v2 IPv4", h.local, 0);

	len = v2(b, 1, 0x21, a6, sizeof(a6), NULL, 0);
	check_pieces("v2 IPv6", b, len);
	parse(b, len, &h, &used);
	assert_string_equal(h.src, "2001:db8::7");
	CHECK_INT("v2 IPv6", h.src_port, 65534);

	len = v2(b, 1, 0x11, a4, sizeof(a4), tlv, sizeof(tlv));
	check_pieces("v2 IPv4 + TLVs", b, len);
	memcpy(b + len, "GET / HTTP/1.1\r\n\r\n", 18);
	CHECK_INT("v2 + request", parse(b, len + 18, &h, &used), PROXY_OK);
	CHECK_INT("v2 + request", used, len);
	assert_string_equal(h.src, "192.0.2.7");

	/* LOCAL (a health check), UNSPEC and UNIX: the peer's address. */
	len = v2(b, 0, 0x00, NULL, 0, NULL, 0);
	check_pieces("v2 LOCAL", b, len);
	parse(b, len, &h, &used);
	CHECK_INT("v2 LOCAL", h.local, 1);
	len = v2(b, 0, 0x11, a4, sizeof(a4), NULL, 0);
	parse(b, len, &h, &used);
	CHECK_INT("v2 LOCAL with addresses", h.local, 1);
	len = v2(b, 1, 0x00, NULL, 0, NULL, 0);
	check_pieces("v2 PROXY UNSPEC", b, len);
	parse(b, len, &h, &used);
	CHECK_INT("v2 PROXY UNSPEC", h.local, 1);
}

static void
test_v2_refused(void **state)
{
	static const unsigned char a4[12] = {192, 0, 2, 7};
	static unsigned char zeros[PROXY_V2_LEN_MAX];
	unsigned char b[PROXY_V2_HEAD + PROXY_V2_LEN_MAX + 1];
	struct proxy_hdr h;
	size_t len, used;

	(void)state;
	len = v2(b, 1, 0x11, a4, sizeof(a4), NULL, 0);
	b[12] = 0x11; /* version 1 in binary */
	CHECK_INT("version 1", parse(b, len, &h, &used), PROXY_BAD);
	b[12] = 0x22; /* command 2 */
	CHECK_INT("command 2", parse(b, len, &h, &used), PROXY_BAD);
	len = v2(b, 1, 0x12, a4, sizeof(a4), NULL, 0);
	CHECK_INT("UDP", parse(b, len, &h, &used), PROXY_BAD);
	len = v2(b, 1, 0x41, a4, sizeof(a4), NULL, 0);
	CHECK_INT("family 4", parse(b, len, &h, &used), PROXY_BAD);
	len = v2(b, 1, 0x11, a4, 11, NULL, 0);
	CHECK_INT("IPv4 in 11 bytes", parse(b, len, &h, &used), PROXY_BAD);
	len = v2(b, 1, 0x21, a4, 12, NULL, 0);
	CHECK_INT("IPv6 in 12 bytes", parse(b, 16, &h, &used), PROXY_BAD);
	/* A signature that goes wrong is refused at its first wrong byte. */
	memcpy(b, sig, 12);
	b[7] = 'q';
	CHECK_INT("bad signature", parse(b, 8, &h, &used), PROXY_BAD);
	/* A length past PROXY_V2_LEN_MAX is refused before it arrives. */
	len = v2(b, 1, 0x11, zeros, PROXY_V2_LEN_MAX, NULL, 0);
	memcpy(b + 16, a4, sizeof(a4));
	CHECK_INT("longest", parse(b, len, &h, &used), PROXY_OK);
	b[14] = (PROXY_V2_LEN_MAX + 1) >> 8;
	b[15] = (PROXY_V2_LEN_MAX + 1) & 0xff;
	CHECK_INT("too long", parse(b, 16, &h, &used), PROXY_BAD);
	b[14] = b[15] = 0xff;
	CHECK_INT("65535", parse(b, 16, &h, &used), PROXY_BAD);
}

/* Bytes that can never begin a header are refused at once. */
static void
test_garbage(void **state)
{
	static const char *const first[] = {"G",   "\x16",   "\x00",
	                                    "P\r", "PROX\n", "\r\n\r\n\r"};
	struct proxy_hdr h;
	size_t used;

	(void)state;
	CHECK_INT("nothing", parse("", 0, &h, &used), PROXY_INCOMPLETE);
	for (size_t i = 0; i < N_OF(first); i++)
		CHECK_INT(first[i],
		          parse(first[i],
		                strlen(first[i]) ? strlen(first[i]) : 1, &h,
		                &used),
		          PROXY_BAD);
	/* A TLS ClientHello where a header should be. */
	CHECK_INT("TLS", parse(S("\x16\x03\x01\x02\x00\x01"), &h, &used),
	          PROXY_BAD);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_v1),      cmocka_unit_test(test_v1_refused),
	    cmocka_unit_test(test_v2),      cmocka_unit_test(test_v2_refused),
	    cmocka_unit_test(test_garbage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
