/* proxyproto.c: the PROXY protocol header, v1 and v2 (HAProxy's
 * proxy-protocol.txt), read strictly and within its bounds. */
#include "proxyproto.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

static const unsigned char v2_sig[12] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
                                         0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};

/* 1 if s[0..len) is a port: 0 to 65535, no sign, no leading zero. */
static int
is_port(const char *s, size_t len, unsigned *port)
{
	unsigned v = 0;

	if (!len || len > 5 || (len > 1 && s[0] == '0'))
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*port = v;
	return v <= 65535;
}

/* s[0..len) as an address of family af into out (canonical); 0 or -1. */
static int
text_addr(int af, const char *s, size_t len, char *out)
{
	char tmp[PROXY_IP_LEN];
	unsigned char bin[16];

	if (!len || len >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	if (inet_pton(af, tmp, bin) != 1)
		return -1;
	return inet_ntop(af, bin, out, PROXY_IP_LEN) ? 0 : -1;
}

/*
 * "PROXY TCP4|TCP6 src dst sport dport\r\n" or "PROXY UNKNOWN...\r\n",
 * each field after one space.
 */
static enum proxy_result
parse_v1(const char *s, size_t len, struct proxy_hdr *h, size_t *used)
{
	const char *nl =
	    memchr(s, '\n', len < PROXY_V1_MAX ? len : PROXY_V1_MAX);
	const char *f[5] = {0}, *end;
	char dst[PROXY_IP_LEN];
	size_t fl[5] = {0}, n = 0;
	unsigned dport;
	int af;

	if (!nl)
		return len >= PROXY_V1_MAX ? PROXY_BAD : PROXY_INCOMPLETE;
	if (nl - s < 7 || nl[-1] != '\r')
		return PROXY_BAD;
	end = nl - 1;
	h->version = 1;
	/* UNKNOWN: whatever follows it is to be ignored. */
	if (end - (s + 6) >= 7 && !memcmp(s + 6, "UNKNOWN", 7) &&
	    (s + 13 == end || s[13] == ' ')) {
		h->local = 1;
		*used = (size_t)(nl - s) + 1;
		return PROXY_OK;
	}
	for (const char *p = s + 6; n < 5; n++) {
		const char *sp = memchr(p, ' ', (size_t)(end - p));

		f[n] = p;
		fl[n] = (size_t)((sp ? sp : end) - p);
		if (!sp) {
			n++;
			break;
		}
		p = sp + 1;
	}
	if (n != 5 || f[4] + fl[4] != end || fl[0] != 4)
		return PROXY_BAD;
	if (!memcmp(f[0], "TCP4", 4))
		af = AF_INET;
	else if (!memcmp(f[0], "TCP6", 4))
		af = AF_INET6;
	else
		return PROXY_BAD;
	if (text_addr(af, f[1], fl[1], h->src) ||
	    text_addr(af, f[2], fl[2], dst) ||
	    !is_port(f[3], fl[3], &h->src_port) ||
	    !is_port(f[4], fl[4], &dport))
		return PROXY_BAD;
	*used = (size_t)(nl - s) + 1;
	return PROXY_OK;
}

/*
 * The binary header: signature, version 2 and command, family, length;
 * then the addresses and ports, then TLVs (skipped).
 */
static enum proxy_result
parse_v2(const unsigned char *b, size_t len, struct proxy_hdr *h, size_t *used)
{
	size_t alen, need = 0;
	int af = AF_UNSPEC, cmd;

	if (len < PROXY_V2_HEAD)
		return PROXY_INCOMPLETE; /* the signature so far matched */
	alen = (size_t)b[14] << 8 | b[15];
	cmd = b[12] & 0x0f; /* 0 LOCAL, 1 PROXY */
	if ((b[12] & 0xf0) != 0x20 || cmd > 1 || alen > PROXY_V2_LEN_MAX)
		return PROXY_BAD;
	/* LOCAL: the proxy's own connection; its family is to be ignored. */
	if (cmd == 1) {
		switch (b[13]) {
		case 0x00: /* UNSPEC */
		case 0x31: /* UNIX stream: no address of ours */
			break;
		case 0x11: /* TCP over IPv4: src, dst, ports */
			af = AF_INET;
			need = 12;
			break;
		case 0x21: /* TCP over IPv6 */
			af = AF_INET6;
			need = 36;
			break;
		default:
			return PROXY_BAD; /* datagrams, unknown families */
		}
		if (alen < need)
			return PROXY_BAD;
	}
	if (len < PROXY_V2_HEAD + alen)
		return PROXY_INCOMPLETE;
	*used = PROXY_V2_HEAD + alen;
	h->version = 2;
	if (af == AF_UNSPEC) {
		h->local = 1;
		return PROXY_OK;
	}
	if (!inet_ntop(af, b + PROXY_V2_HEAD, h->src, sizeof(h->src)))
		return PROXY_BAD;
	need -= 4; /* the two ports follow both addresses */
	h->src_port = (unsigned)b[PROXY_V2_HEAD + need] << 8 |
	              b[PROXY_V2_HEAD + need + 1];
	return PROXY_OK;
}

enum proxy_result
proxy_parse(const void *buf, size_t len, struct proxy_hdr *h, size_t *used)
{
	const unsigned char *b = buf;
	size_t n;

	memset(h, 0, sizeof(*h));
	*used = 0;
	if (!len)
		return PROXY_INCOMPLETE;
	n = len < 6 ? len : 6;
	if (!memcmp(b, "PROXY ", n))
		return n < 6 ? PROXY_INCOMPLETE
		             : parse_v1((const char *)b, len, h, used);
	n = len < sizeof(v2_sig) ? len : sizeof(v2_sig);
	if (!memcmp(b, v2_sig, n))
		return parse_v2(b, len, h, used);
	return PROXY_BAD;
}
