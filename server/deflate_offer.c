/* deflate_offer.c: a client's permessage-deflate offers (RFC 7692 section
 * 5, in the Sec-WebSocket-Extensions syntax of RFC 6455 section 9.1), and
 * tickerd's answer to the one it takes. */
#include "deflate.h"

#include "request.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* A value being read: s[i..end). */
struct cursor {
	const char *s;
	size_t i, end;
};

/* What an offer said, as far as read. */
struct offer {
	int server_nct, client_nct; /* ..._no_context_takeover seen */
	int server_bits;            /* server_max_window_bits: 0 unsaid */
	int client_bits;            /* client_max_window_bits: -1 unsaid */
	int bad;                    /* declined: a parameter we can't take */
};

/* 1 if c is an RFC 7230 tchar. */
static int
is_tchar(unsigned char c)
{
	return c > 0x20 && c < 0x7f && !strchr("\"(),/:;<=>?@[\\]{}", c);
}

static void
skip_ows(struct cursor *c)
{
	while (c->i < c->end && (c->s[c->i] == ' ' || c->s[c->i] == '\t'))
		c->i++;
}

/* A token at the cursor into *p, *n (n 0: none there). */
static void
token(struct cursor *c, const char **p, size_t *n)
{
	*p = c->s + c->i;
	while (c->i < c->end && is_tchar((unsigned char)c->s[c->i]))
		c->i++;
	*n = (size_t)(c->s + c->i - *p);
}

/*
 * A parameter's value (token or quoted-string) into out (unquoted, at most
 * len - 1 bytes kept, the rest makes it invalid).  0, or -1 on a syntax
 * error (-2: too long for any value we take: still syntax checked).
 */
static int
value(struct cursor *c, char *out, size_t len)
{
	size_t n = 0;
	int too_long = 0;

	if (c->i < c->end && c->s[c->i] == '"') {
		for (c->i++; c->i < c->end && c->s[c->i] != '"'; c->i++) {
			if (c->s[c->i] == '\\' && ++c->i == c->end)
				return -1;
			if (n + 1 < len)
				out[n++] = c->s[c->i];
			else
				too_long = 1;
		}
		if (c->i == c->end)
			return -1;
		c->i++; /* the closing quote */
	} else {
		const char *p;
		size_t tl;

		token(c, &p, &tl);
		if (!tl)
			return -1;
		if (tl >= len)
			too_long = 1;
		else
			memcpy(out, p, n = tl);
	}
	out[n] = '\0';
	return too_long ? -2 : 0;
}

/* A window size as RFC 7692 writes it: 8..15, no leading zero; else 0. */
static int
window_bits(const char *v)
{
	if (strlen(v) == 1 && v[0] == '8')
		return 8;
	if (strlen(v) == 1 && v[0] == '9')
		return 9;
	if (strlen(v) == 2 && v[0] == '1' && v[1] >= '0' && v[1] <= '5')
		return 10 + v[1] - '0';
	return 0;
}

/* Judge one permessage-deflate parameter name[=value] against o. */
static void
judge(struct offer *o, const char *name, size_t n, const char *v, int has_v)
{
#define IS(s) (n == sizeof(s) - 1 && !strncasecmp(name, s, n))
	if (IS("server_no_context_takeover")) {
		o->bad |= has_v || o->server_nct;
		o->server_nct = 1;
	} else if (IS("client_no_context_takeover")) {
		o->bad |= has_v || o->client_nct;
		o->client_nct = 1;
	} else if (IS("server_max_window_bits")) {
		o->bad |= !has_v || o->server_bits;
		o->server_bits = has_v ? window_bits(v) : 0;
		/* zlib's raw deflate makes a 512-byte window at least. */
		o->bad |= o->server_bits < DEFLATE_BITS_MIN;
	} else if (IS("client_max_window_bits")) {
		o->bad |= o->client_bits >= 0 || (has_v && !window_bits(v));
		o->client_bits = has_v ? window_bits(v) : 0;
	} else {
		o->bad = 1;
	}
#undef IS
}

/*
 * Read the parameters of one extension from the cursor (after its name)
 * up to the ',' or end that ends it, into o.  0, or -1 on a syntax error.
 */
static int
params(struct cursor *c, struct offer *o)
{
	for (;;) {
		const char *name;
		size_t n;
		char v[8];
		int has_v = 0, r;

		skip_ows(c);
		if (c->i == c->end || c->s[c->i] == ',')
			return 0;
		if (c->s[c->i] != ';')
			return -1;
		c->i++;
		skip_ows(c);
		token(c, &name, &n);
		if (!n)
			return -1;
		skip_ows(c);
		v[0] = '\0';
		if (c->i < c->end && c->s[c->i] == '=') {
			c->i++;
			skip_ows(c);
			r = value(c, v, sizeof(v));
			if (r == -1)
				return -1;
			if (r == -2)
				v[0] = '\0'; /* no value we take is that long */
			has_v = 1;
		}
		judge(o, name, n, v, has_v);
	}
}

int
deflate_offer_parse(const char *s, size_t len, int *asked)
{
	struct cursor c = {s, 0, len};
	int taken = 0;

	*asked = 0;
	while (c.i < c.end) {
		struct offer o = {0, 0, 0, -1, 0};
		const char *name;
		size_t n;

		skip_ows(&c);
		if (c.i < c.end && c.s[c.i] == ',') { /* empty element */
			c.i++;
			continue;
		}
		if (c.i == c.end)
			break;
		token(&c, &name, &n);
		if (!n || params(&c, &o)) {
			*asked = 0;
			return 0; /* not an extension list: decline them all */
		}
		if (c.i < c.end)
			c.i++; /* the ',' */
		if (taken || o.bad || n != sizeof("permessage-deflate") - 1 ||
		    strncasecmp(name, "permessage-deflate", n))
			continue;
		taken = o.server_bits ? o.server_bits : DEFLATE_BITS_MAX;
		*asked = o.server_bits != 0;
	}
	return taken;
}

int
deflate_offer_request(const struct request *r, int *asked)
{
	static const char name[] = "sec-websocket-extensions";
	const char *p = r->fields.p, *end = p + r->fields.len;

	*asked = 0;
	while (p && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end, *v;
		int bits;

		if ((size_t)(le - p) > sizeof(name) &&
		    !strncasecmp(p, name, sizeof(name) - 1) &&
		    p[sizeof(name) - 1] == ':') {
			v = p + sizeof(name);
			if (le > v && le[-1] == '\r')
				le--;
			bits = deflate_offer_parse(v, (size_t)(le - v), asked);
			if (bits)
				return bits;
		}
		p = nl ? nl + 1 : end;
	}
	return 0;
}

int
deflate_answer(int bits, int asked, char *out, size_t len)
{
	int n;

	if (asked)
		n = snprintf(out, len,
		             "Sec-WebSocket-Extensions: permessage-deflate; "
		             "server_no_context_takeover; "
		             "client_no_context_takeover; "
		             "server_max_window_bits=%d\r\n",
		             bits);
	else
		n = snprintf(out, len,
		             "Sec-WebSocket-Extensions: permessage-deflate; "
		             "server_no_context_takeover; "
		             "client_no_context_takeover\r\n");
	return n < 0 || (size_t)n >= len ? -1 : n;
}
