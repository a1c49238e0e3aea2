/* request.c: reading one HTTP/1.x request head, strictly (RFC 9112). */
#include "request.h"

#include <string.h>
#include <strings.h>

/* RFC 9110 token characters: what a method or a header name is made of. */
static int
is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* 1 if s[0..len) has a control character other than a tab (or DEL). */
static int
has_controls(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return 1;
	}
	return 0;
}

int
req_equals(struct req_str s, const char *text)
{
	return s.p && strlen(text) == s.len && !strncasecmp(s.p, text, s.len);
}

int
req_has_token(struct req_str s, const char *token)
{
	size_t tl = strlen(token), i = 0;

	while (s.p && i < s.len) {
		size_t start, end;

		while (i < s.len && (s.p[i] == ' ' || s.p[i] == '\t'))
			i++;
		start = i;
		while (i < s.len && s.p[i] != ',')
			i++;
		end = i;
		while (end > start &&
		       (s.p[end - 1] == ' ' || s.p[end - 1] == '\t'))
			end--;
		if (end - start == tl && !strncasecmp(s.p + start, token, tl))
			return 1;
		i++; /* past the comma */
	}
	return 0;
}

/* "METHOD SP target SP HTTP/1.x": REQ_OK, REQ_BAD or REQ_VERSION. */
static enum req_result
parse_request_line(struct request *r, const char *l, size_t len)
{
	const char *sp1 = memchr(l, ' ', len), *sp2, *target, *v, *q;
	size_t tlen, vlen;

	if (!sp1 || sp1 == l)
		return REQ_BAD;
	for (const char *p = l; p < sp1; p++)
		if (!is_tchar((unsigned char)*p))
			return REQ_BAD;
	r->method_name.p = l;
	r->method_name.len = (size_t)(sp1 - l);
	r->method = req_equals(r->method_name, "GET")    ? REQ_GET
	            : req_equals(r->method_name, "HEAD") ? REQ_HEAD
	            : req_equals(r->method_name, "POST") ? REQ_POST
	                                                 : REQ_OTHER;
	/* Methods are case-sensitive: "get" is not GET. */
	if (r->method != REQ_OTHER && memcmp(l,
	                                     r->method == REQ_GET    ? "GET"
	                                     : r->method == REQ_HEAD ? "HEAD"
	                                                             : "POST",
	                                     r->method_name.len))
		r->method = REQ_OTHER;
	target = sp1 + 1;
	sp2 = memchr(target, ' ', len - (size_t)(target - l));
	if (!sp2 || sp2 == target)
		return REQ_BAD;
	tlen = (size_t)(sp2 - target);
	v = sp2 + 1;
	vlen = len - (size_t)(v - l);
	if (vlen != 8 || memcmp(v, "HTTP/", 5) || v[5] < '0' || v[5] > '9' ||
	    v[6] != '.' || v[7] < '0' || v[7] > '9')
		return REQ_BAD;
	if (v[5] != '1' || v[7] > '1')
		return REQ_VERSION;
	r->minor = v[7] - '0';
	for (size_t i = 0; i < tlen; i++)
		if ((unsigned char)target[i] <= ' ' || target[i] == 0x7f)
			return REQ_BAD;
	/* GET, HEAD and POST take a path; others are refused anyway. */
	if (r->method != REQ_OTHER && target[0] != '/')
		return REQ_BAD;
	q = memchr(target, '?', tlen);
	r->path.p = target;
	r->path.len = q ? (size_t)(q - target) : tlen;
	if (q) {
		r->query.p = q + 1;
		r->query.len = tlen - r->path.len - 1;
	}
	return REQ_OK;
}

/* Keep a header tickerd acts on; one that must be single and came twice: -1.
 */
static int
keep(struct req_str *slot, const char *v, size_t len)
{
	if (slot->p)
		return -1;
	slot->p = v;
	slot->len = len;
	return 0;
}

/* "Name: value": the headers tickerd acts on are kept.  0 or -1 (400). */
static int
parse_header_line(struct request *r, const char *l, size_t len)
{
	const char *colon = memchr(l, ':', len), *v, *end = l + len;
	struct req_str name;
	size_t vlen;

	if (!colon || colon == l)
		return -1;
	for (const char *p = l; p < colon; p++)
		if (!is_tchar((unsigned char)*p))
			return -1; /* also "Name :" and folded lines */
	name.p = l;
	name.len = (size_t)(colon - l);
	v = colon + 1;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	vlen = (size_t)(end - v);

	if (req_equals(name, "host")) {
		r->hosts++;
		r->host.p = v;
		r->host.len = vlen;
	} else if (req_equals(name, "origin")) {
		r->origins++;
		r->origin.p = v;
		r->origin.len = vlen;
	} else if (req_equals(name, "upgrade")) {
		return keep(&r->upgrade, v, vlen);
	} else if (req_equals(name, "connection")) {
		return keep(&r->connection, v, vlen);
	} else if (req_equals(name, "sec-websocket-key")) {
		return keep(&r->ws_key, v, vlen);
	} else if (req_equals(name, "sec-websocket-version")) {
		return keep(&r->ws_version, v, vlen);
	} else if (req_equals(name, "last-event-id")) {
		return keep(&r->last_event_id, v, vlen);
	} else if (req_equals(name, "if-none-match")) {
		if (keep(&r->if_none_match, v, vlen))
			r->if_none_match_twice = 1;
	} else if (req_equals(name, "if-modified-since")) {
		if (keep(&r->if_modified_since, v, vlen))
			r->if_modified_since_twice = 1;
	} else if (req_equals(name, "accept-encoding")) {
		if (keep(&r->accept_encoding, v, vlen))
			r->accept_encoding_twice = 1;
	} else if (req_equals(name, "transfer-encoding")) {
		r->has_body = 1;
		if (!r->transfer_encoding.p)
			keep(&r->transfer_encoding, v, vlen);
	} else if (req_equals(name, "content-length")) {
		if (!vlen || strspn(v, "0123456789") < vlen)
			return -1;
		if (keep(&r->content_length, v, vlen))
			r->content_length_twice = 1;
		for (size_t i = 0; i < vlen; i++)
			if (v[i] != '0')
				r->has_body = 1;
	}
	return 0;
}

enum req_result
request_parse(struct request *r, const char *buf, size_t len)
{
	size_t pos = 0;
	int first = 1;

	memset(r, 0, sizeof(*r));
	/*
	 * Empty lines before a request line are ignored (RFC 9112 2.2): LF or
	 * CRLF; a CR on its own is a control character like any other.
	 */
	while (pos < len && pos < 8 &&
	       (buf[pos] == '\n' ||
	        (buf[pos] == '\r' && pos + 1 < len && buf[pos + 1] == '\n')))
		pos++;
	for (;;) {
		const char *nl = memchr(buf + pos, '\n', len - pos), *l;
		size_t end, llen;

		if (!nl) {
			if (len > REQ_HEAD_MAX)
				return REQ_TOO_LARGE;
			/* Refuse what can never become a request at once. */
			if (memchr(buf + pos, '\0', len - pos))
				return REQ_BAD;
			return REQ_INCOMPLETE;
		}
		end = (size_t)(nl - buf);
		if (end + 1 > REQ_HEAD_MAX)
			return REQ_TOO_LARGE;
		l = buf + pos;
		llen = end - pos;
		if (llen && l[llen - 1] == '\r')
			llen--;
		if (has_controls(l, llen))
			return REQ_BAD;
		if (first) {
			enum req_result res = parse_request_line(r, l, llen);

			if (res != REQ_OK)
				return res;
			first = 0;
			r->fields.p = buf + end + 1;
		} else if (!llen) {
			r->head_len = end + 1;
			r->fields.len = (size_t)(l - r->fields.p);
			break;
		} else if (parse_header_line(r, l, llen)) {
			return REQ_BAD;
		}
		pos = end + 1;
	}
	r->keep_alive = r->minor ? !req_has_token(r->connection, "close")
	                         : req_has_token(r->connection, "keep-alive");
	r->websocket = req_has_token(r->upgrade, "websocket") &&
	               req_has_token(r->connection, "upgrade");
	return REQ_OK;
}

/* The value of one hex digit, or -1. */
static int
hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode %XX in s[0..len) into out; its length, or -1 (bad, NUL, long). */
static long
decode(const char *s, size_t len, char *out, size_t out_len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c == '%') {
			if (i + 2 >= len || hex(s[i + 1]) < 0 ||
			    hex(s[i + 2]) < 0)
				return -1;
			c = (char)(hex(s[i + 1]) << 4 | hex(s[i + 2]));
			i += 2;
		}
		if (!c || n + 1 >= out_len)
			return -1;
		out[n++] = c;
	}
	out[n] = '\0';
	return (long)n;
}

long
request_arg(const struct request *r, const char *name, char *out,
            size_t out_len)
{
	size_t nl = strlen(name), i = 0;
	const char *q = r->query.p;

	while (q && i < r->query.len) {
		size_t start = i, eq;

		while (i < r->query.len && q[i] != '&')
			i++;
		eq = start;
		while (eq < i && q[eq] != '=')
			eq++;
		if (eq - start == nl && !memcmp(q + start, name, nl)) {
			size_t vs = eq < i ? eq + 1 : i;
			long n = decode(q + vs, i - vs, out, out_len);

			return n < 0 ? -2 : n;
		}
		i++;
	}
	return -1;
}

long
request_decode_path(const struct request *r, char *out, size_t out_len)
{
	long n = decode(r->path.p, r->path.len, out, out_len);

	if (n < 0 || out[0] != '/')
		return -1;
	/* No ".." segment: nothing above the web folder, however encoded. */
	for (long i = 0; i + 1 < n; i++)
		if (out[i] == '/' && out[i + 1] == '.' &&
		    (i + 2 == n || out[i + 2] == '/' ||
		     (out[i + 2] == '.' && (i + 3 == n || out[i + 3] == '/'))))
			return -1;
	return n;
}
