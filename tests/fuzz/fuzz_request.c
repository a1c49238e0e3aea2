/* fuzz_request.c: fuzz what a client sends: request heads, queries, text. */
#define _GNU_SOURCE /* memmem() */
#include "fuzz.h"

#include "config.h"
#include "config_kinds.h"
#include "forwarded.h"
#include "request.h"
#include "utf8.h"

#include <arpa/inet.h>

#include <string.h>
#include <strings.h>

/* 1 if s lies within buf[0..len), or is absent with no length. */
static int
inside(struct req_str s, const char *buf, size_t len)
{
	if (!s.p)
		return !s.len;
	return s.p >= buf && s.len <= len && (size_t)(s.p - buf) <= len - s.len;
}

/* 1 if s starts or ends with a blank (header values come trimmed). */
static int
untrimmed(struct req_str s)
{
	return s.len && (s.p[0] == ' ' || s.p[0] == '\t' ||
	                 s.p[s.len - 1] == ' ' || s.p[s.len - 1] == '\t');
}

/*
 * The reference for req_has_token(), put differently: 1 if token occurs in
 * s (any case) with only blanks between it and a comma or an end, on each
 * side.
 */
static int
ref_has_token(struct req_str s, const char *token)
{
	size_t tl = strlen(token);

	for (size_t at = 0; s.p && at + tl <= s.len; at++) {
		size_t l = at, r = at + tl;

		if (strncasecmp(s.p + at, token, tl))
			continue;
		while (l > 0 && (s.p[l - 1] == ' ' || s.p[l - 1] == '\t'))
			l--;
		while (r < s.len && (s.p[r] == ' ' || s.p[r] == '\t'))
			r++;
		if ((l == 0 || s.p[l - 1] == ',') &&
		    (r == s.len || s.p[r] == ','))
			return 1;
	}
	return 0;
}

/* A hex digit's value, or -1. */
static int
ref_hex(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20; /* 'A'-'F' to 'a'-'f'; nothing else lands there */
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/*
 * %XX-decode s[0..len) into out[0..cap): its length; -1 for a bad escape or
 * a NUL; -2 when out can't hold it and its NUL.
 */
static long
ref_decode(const char *s, size_t len, char *out, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)s[i];

		if (c == '%') {
			int hi = i + 1 < len ? ref_hex(s[i + 1]) : -1;
			int lo = i + 2 < len ? ref_hex(s[i + 2]) : -1;

			if (hi < 0 || lo < 0)
				return -1;
			c = hi * 16 + lo;
			i += 2;
		}
		if (!c)
			return -1;
		if (n < cap)
			out[n] = (char)c;
		n++;
	}
	if (n >= cap)
		return -2;
	out[n] = '\0';
	return (long)n;
}

/*
 * request_arg() against a reference: the first '&'-separated piece whose
 * name (up to '=') is name, decoded.  Checked for several buffer sizes.
 */
static void
check_arg(const struct request *r, const char *name)
{
	static const size_t sizes[] = {1, 2, 7, 64, 4096};
	static char out[4096], want[4096];
	const char *q = r->query.p, *v = NULL;
	size_t nl = strlen(name), vlen = 0;

	for (size_t at = 0; q && at <= r->query.len;) {
		const char *amp = memchr(q + at, '&', r->query.len - at);
		size_t end = amp ? (size_t)(amp - q) : r->query.len;
		const char *eq = memchr(q + at, '=', end - at);
		size_t name_end = eq ? (size_t)(eq - q) : end;

		if (name_end - at == nl && !memcmp(q + at, name, nl)) {
			v = eq ? eq + 1 : q + end;
			vlen = (size_t)(q + end - v);
			break;
		}
		at = end + 1;
	}
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		long n, w;

		memset(out, 'X', sizes[i]);
		n = request_arg(r, name, out, sizes[i]);
		w = v ? ref_decode(v, vlen, want, sizes[i]) : -1;
		if (v && w < 0)
			w = -2;
		CHECK(n == w);
		if (n >= 0) {
			CHECK((size_t)n < sizes[i] && (size_t)n <= vlen);
			CHECK(out[n] == '\0' && strlen(out) == (size_t)n);
			CHECK(!memcmp(out, want, (size_t)n));
		}
	}
}

/* 1 if the decoded path has a "." or ".." segment. */
static int
has_dot_segment(const char *p, size_t n)
{
	for (size_t at = 0; at < n;) {
		const char *slash = memchr(p + at, '/', n - at);
		size_t end = slash ? (size_t)(slash - p) : n;

		if ((end - at == 1 && p[at] == '.') ||
		    (end - at == 2 && p[at] == '.' && p[at + 1] == '.'))
			return 1;
		at = end + 1;
	}
	return 0;
}

/*
 * request_decode_path() against a reference: the path decoded, starting
 * with '/', without NUL or dot segments, and fitting; several sizes.
 */
static void
check_path(const struct request *r)
{
	static const size_t sizes[] = {1, 2, 16, 256, 4096, REQ_HEAD_MAX};
	static char out[REQ_HEAD_MAX], want[REQ_HEAD_MAX];

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		long n, w = ref_decode(r->path.p, r->path.len, want, sizes[i]);

		if (w >= 0 && (want[0] != '/' || has_dot_segment(want, w)))
			w = -1;
		memset(out, 'X', sizes[i]);
		n = request_decode_path(r, out, sizes[i]);
		CHECK(n == (w < 0 ? -1 : w));
		if (n >= 0) {
			CHECK((size_t)n < sizes[i] && (size_t)n <= r->path.len);
			CHECK(out[n] == '\0' && strlen(out) == (size_t)n);
			CHECK(out[0] == '/' && !memcmp(out, want, (size_t)n));
		}
	}
}

/* 1 if the two parses found the same request. */
static int
same_request(const struct request *a, const struct request *b)
{
	const struct req_str *sa[] = {
	    &a->method_name, &a->path,         &a->query,      &a->host,
	    &a->origin,      &a->upgrade,      &a->connection, &a->ws_key,
	    &a->ws_version,  &a->last_event_id};
	const struct req_str *sb[] = {
	    &b->method_name, &b->path,         &b->query,      &b->host,
	    &b->origin,      &b->upgrade,      &b->connection, &b->ws_key,
	    &b->ws_version,  &b->last_event_id};

	for (size_t i = 0; i < sizeof(sa) / sizeof(sa[0]); i++)
		if (sa[i]->p != sb[i]->p || sa[i]->len != sb[i]->len)
			return 0;
	return a->method == b->method && a->minor == b->minor &&
	       a->hosts == b->hosts && a->origins == b->origins &&
	       a->has_body == b->has_body && a->keep_alive == b->keep_alive &&
	       a->websocket == b->websocket && a->head_len == b->head_len;
}

/*
 * The header lines of an accepted head read again, simply: each is a
 * token, a colon and a value; Host and Origin are counted as often as
 * they come, the five single headers come at most once and are kept
 * trimmed, and a body is announced by Transfer-Encoding or a
 * Content-Length of digits, not all zero.
 */
static void
check_headers(const struct request *r, const char *buf, size_t h)
{
	static const char *const names[] = {"host",
	                                    "origin",
	                                    "upgrade",
	                                    "connection",
	                                    "sec-websocket-key",
	                                    "sec-websocket-version",
	                                    "last-event-id",
	                                    "transfer-encoding",
	                                    "content-length",
	                                    "if-none-match",
	                                    "if-modified-since",
	                                    "accept-encoding"};
	const struct req_str *kept[] = {NULL,
	                                NULL,
	                                &r->upgrade,
	                                &r->connection,
	                                &r->ws_key,
	                                &r->ws_version,
	                                &r->last_event_id,
	                                NULL,
	                                NULL,
	                                &r->if_none_match,
	                                &r->if_modified_since,
	                                &r->accept_encoding};
	const unsigned twice[] = {r->if_none_match_twice,
	                          r->if_modified_since_twice,
	                          r->accept_encoding_twice};
	unsigned count[sizeof(names) / sizeof(names[0])] = {0};
	const char *p = r->path.p, *end = buf + h;
	int body = 0;

	p = (const char *)memchr(p, '\n', (size_t)(end - p)) + 1;
	for (;;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *colon;
		const char *v, *ve;
		size_t llen;

		CHECK(nl);
		llen = (size_t)(nl - p);
		if (llen && p[llen - 1] == '\r')
			llen--;
		if (!llen) {
			CHECK(nl + 1 == end);
			break;
		}
		colon = memchr(p, ':', llen);
		CHECK(colon && colon > p);
		for (const char *c = p; c < colon; c++)
			CHECK((unsigned char)*c > ' ' && *c != 0x7f &&
			      !((unsigned char)*c & 0x80) &&
			      !strchr("\"(),/:;<=>?@[\\]{}", *c));
		v = colon + 1;
		ve = p + llen;
		while (v < ve && (*v == ' ' || *v == '\t'))
			v++;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			size_t n = strlen(names[i]);

			if ((size_t)(colon - p) != n ||
			    strncasecmp(p, names[i], n))
				continue;
			/* The first of a list sent twice is the one kept. */
			if (++count[i] == 1 && kept[i])
				CHECK(kept[i]->p == v &&
				      kept[i]->len == (size_t)(ve - v));
			if (i == 7)
				body = 1;
			if (i == 8) {
				CHECK(ve > v);
				for (const char *c = v; c < ve; c++) {
					CHECK(*c >= '0' && *c <= '9');
					body |= *c != '0';
				}
			}
		}
		p = nl + 1;
	}
	CHECK(count[0] == r->hosts && count[1] == r->origins);
	for (size_t i = 2; i < 7; i++)
		CHECK(count[i] <= 1 && (count[i] == 1) == !!kept[i]->p);
	for (size_t i = 9; i < 12; i++)
		CHECK(!count[i] == !kept[i]->p &&
		      (count[i] > 1) == twice[i - 9]);
	CHECK(r->has_body == body);
}

/*
 * request_fields.c's readers on the values kept: within bounds (ASan), a
 * weight in range, an ETag listed only where it is written (or "*"), a
 * date within years 0 to 9999.
 */
static void
check_fields(const struct request *r)
{
	static const char etag[] = "\"0123456789abcdef-gz\"";
	struct req_str inm = r->if_none_match;
	int q = req_coding_q(r->accept_encoding, "gzip");
	time_t t;

	CHECK(q >= -1 && q <= 1000);
	CHECK(r->accept_encoding.p || q == -1);
	if (req_etag_listed(inm, etag))
		CHECK(memmem(inm.p, inm.len, etag, sizeof(etag) - 1) ||
		      (inm.len == 1 && inm.p[0] == '*'));
	if (req_etag_listed(inm, "\"\""))
		CHECK(memmem(inm.p, inm.len, "\"\"", 2) || inm.len == 1);
	if (!req_http_date(r->if_modified_since, &t))
		CHECK(t >= (time_t)-62167219200LL &&
		      t <= (time_t)253402300799LL);
}

/*
 * What must hold of a request head request_parse() accepted from
 * buf[0..len): it ends in an empty line within bounds, holds no control
 * but a tab and CR LF line ends, its pieces lie in it and agree with each
 * other, and it parses the same alone.  Then the query and path helpers.
 */
static void
check_request(const struct request *r, const char *buf, size_t len)
{
	const struct req_str kept[] = {
	    r->host,   r->origin,     r->upgrade,      r->connection,
	    r->ws_key, r->ws_version, r->last_event_id};
	size_t h = r->head_len;
	struct request again;

	CHECK(h >= 2 && h <= len && h <= REQ_HEAD_MAX);
	CHECK(buf[h - 1] == '\n' &&
	      (buf[h - 2] == '\n' ||
	       (h >= 3 && buf[h - 2] == '\r' && buf[h - 3] == '\n')));
	for (size_t i = 0; i < h; i++) {
		unsigned char c = (unsigned char)buf[i];

		CHECK(c >= 0x20 || c == '\t' || c == '\n' ||
		      (c == '\r' && i + 1 < h && buf[i + 1] == '\n'));
		CHECK(c != 0x7f);
	}

	CHECK(r->method_name.p && r->method_name.len &&
	      inside(r->method_name, buf, h));
	CHECK((r->method == REQ_GET) ==
	      (r->method_name.len == 3 && !memcmp(r->method_name.p, "GET", 3)));
	CHECK(
	    (r->method == REQ_HEAD) ==
	    (r->method_name.len == 4 && !memcmp(r->method_name.p, "HEAD", 4)));
	CHECK(r->path.p == r->method_name.p + r->method_name.len + 1);
	CHECK(inside(r->path, buf, h) && (r->path.len || r->query.p));
	CHECK(!memchr(r->path.p, '?', r->path.len));
	if (r->method != REQ_OTHER)
		CHECK(r->path.len && r->path.p[0] == '/');
	CHECK(inside(r->query, buf, h));
	if (r->query.p)
		CHECK(r->query.p == r->path.p + r->path.len + 1 &&
		      r->query.p[-1] == '?');
	for (size_t i = 0;
	     i < r->path.len + (r->query.p ? 1 + r->query.len : 0); i++)
		CHECK((unsigned char)r->path.p[i] > ' ' &&
		      r->path.p[i] != 0x7f);
	CHECK(r->minor == 0 || r->minor == 1);

	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
		CHECK(inside(kept[i], buf, h) && !untrimmed(kept[i]));
	CHECK(!r->hosts == !r->host.p && !r->origins == !r->origin.p);
	CHECK(r->keep_alive ==
	      (r->minor ? !ref_has_token(r->connection, "close")
	                : ref_has_token(r->connection, "keep-alive")));
	CHECK(r->websocket == (ref_has_token(r->upgrade, "websocket") &&
	                       ref_has_token(r->connection, "upgrade")));
	CHECK(req_has_token(r->connection, "upgrade") ==
	      ref_has_token(r->connection, "upgrade"));
	CHECK(req_has_token(r->upgrade, "websocket") ==
	      ref_has_token(r->upgrade, "websocket"));
	CHECK(req_has_token(r->connection, "keep-alive") ==
	      ref_has_token(r->connection, "keep-alive"));

	check_headers(r, buf, h);

	/* What follows the head is none of its business. */
	CHECK(request_parse(&again, buf, h) == REQ_OK);
	CHECK(same_request(r, &again));

	check_arg(r, "topics");
	check_arg(r, "since");
	check_arg(r, "topic");
	check_path(r);
	check_fields(r);
}

/*
 * The client fwd_resolve() finds behind a proxy trusting nobody, every
 * address, or 127.0.0.1 and 10.0.0.0/8: the peer's address or a canonical
 * one; host and proto within the head, proto http or https; any_port only
 * through a proxy and only for a host without a port.
 */
static void
check_forwarded(const struct request *r, const char *buf, size_t h)
{
	static const char *const trusts[] = {"", "0.0.0.0/0, ::/0",
	                                     "127.0.0.1, 10.0.0.0/8"};
	static const struct cfg_setting s = {.name = "trusted-proxy"};

	for (size_t i = 0; i < sizeof(trusts) / sizeof(trusts[0]); i++) {
		struct cfg c;
		struct cfg_error err;
		struct fwd_client w;
		unsigned char bin[16];

		memset(&c, 0, sizeof(c));
		CHECK(!cfg_kind_cidrs.parse(&c, &s, trusts[i], &err));
		fwd_resolve(&w, r, "127.0.0.1", &c);
		CHECK(w.via_proxy == (i > 0));
		CHECK(
		    !strcmp(w.ip, "127.0.0.1") ||
		    (i > 0 && inet_pton(strchr(w.ip, ':') ? AF_INET6 : AF_INET,
		                        w.ip, bin) == 1));
		CHECK(inside(w.host, buf, h) && inside(w.proto, buf, h));
		CHECK(!w.proto.p || req_equals(w.proto, "http") ||
		      req_equals(w.proto, "https"));
		CHECK(!w.any_port || (w.via_proxy && w.host.p));
		if (!w.via_proxy)
			CHECK(w.host.p == (r->hosts == 1 ? r->host.p : NULL));
	}
}

/*
 * request_parse() on buf[0..len), and on its first cut bytes as the door
 * sees them arrive: a verdict on the part stands for the whole (the same
 * request, or still an error), and an unfinished whole was unfinished in
 * part.
 */
static void
fuzz_request(const char *buf, size_t len, size_t cut)
{
	struct request r, part;
	enum req_result res = request_parse(&r, buf, len);
	enum req_result pres = request_parse(&part, buf, cut);

	CHECK(res == REQ_OK || res == REQ_INCOMPLETE || res == REQ_BAD ||
	      res == REQ_TOO_LARGE || res == REQ_VERSION);
	CHECK(res != REQ_TOO_LARGE || len > REQ_HEAD_MAX);
	CHECK(res != REQ_INCOMPLETE || len <= REQ_HEAD_MAX);
	if (res == REQ_INCOMPLETE)
		CHECK(pres == REQ_INCOMPLETE);
	if (pres == REQ_OK)
		CHECK(res == REQ_OK && same_request(&r, &part));
	else if (pres != REQ_INCOMPLETE)
		CHECK(res != REQ_OK && res != REQ_INCOMPLETE);
	if (res == REQ_OK)
		check_request(&r, buf, len);
	if (res == REQ_OK)
		check_forwarded(&r, buf, r.head_len);
}

/*
 * The reference UTF-8 reader: 0 if p[0..len) is UTF-8, 1 if it is UTF-8
 * cut short (more bytes could complete it), 2 if nothing can.  Each
 * sequence is read as the interval [lo, hi] of the code points its bytes
 * so far allow, against those valid at its length: at least the shortest
 * form's first, at most U+10FFFF, not a surrogate.
 */
static int
ref_utf8(const unsigned char *p, size_t len)
{
	static const uint32_t min[4] = {0, 0x80, 0x800, 0x10000},
	                      max[4] = {0x7f, 0x7ff, 0xffff, 0x10ffff};
	size_t i = 0;

	while (i < len) {
		unsigned char c = p[i++];
		size_t n, have = 0;
		uint32_t cp, lo, hi, a, b;

		if (c < 0x80)
			continue;
		if (c >= 0xc0 && c < 0xe0)
			n = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c < 0xf0)
			n = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c < 0xf8)
			n = 3, cp = c & 0x07;
		else
			return 2;
		for (; have < n && i < len; have++, i++) {
			if ((p[i] & 0xc0) != 0x80)
				return 2;
			cp = cp << 6 | (p[i] & 0x3f);
		}
		lo = cp << 6 * (n - have);
		hi = lo | ((1u << 6 * (n - have)) - 1);
		a = lo > min[n] ? lo : min[n];
		b = hi < max[n] ? hi : max[n];
		if (a > b || (a >= 0xd800 && b <= 0xdfff))
			return 2;
		if (have < n)
			return 1;
	}
	return 0;
}

/*
 * utf8_feed() on p[0..len): in one piece, cut at cut, and byte by byte,
 * the same state, which says what the reference says.
 */
static void
fuzz_utf8(const unsigned char *p, size_t len, size_t cut)
{
	uint8_t whole = utf8_feed(UTF8_START, p, len);
	uint8_t two =
	    utf8_feed(utf8_feed(UTF8_START, p, cut), p + cut, len - cut);
	uint8_t bytes = UTF8_START;
	int want = ref_utf8(p, len);

	for (size_t i = 0; i < len; i++)
		bytes = utf8_feed(bytes, p + i, 1);
	CHECK(two == whole && bytes == whole);
	CHECK(whole <= UTF8_BAD);
	CHECK(want == (whole == UTF8_START ? 0 : whole == UTF8_BAD ? 2 : 1));
}

/*
 * The first byte picks where the rest is cut in two (its value modulo the
 * rest's length + 1); the rest is what a client sent: a request head for
 * request_parse(), bytes of a text frame for utf8_feed().
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t len, cut;
	char *buf = fuzz_split(data, size, &len, &cut);

	if (!buf)
		return 0;
	fuzz_request(buf, len, cut);
	fuzz_utf8((const unsigned char *)buf, len, cut);
	free(buf);
	return 0;
}
