/* forwarded.c: who a request is from when trusted proxies stand between:
 * Forwarded (RFC 7239) or X-Forwarded-For/-Proto/-Host, and --trusted-proxy.
 *
 * Each proxy appends the address it heard from, so a list is read from
 * the right: every entry is vouched for by the trusted proxy to its right,
 * and the first that is not itself a trusted proxy is the client.  What
 * any client writes into these headers lands to the left of that and is
 * never read.
 */
#include "forwarded.h"

#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define FWD_ITEMS 32 /* list entries kept, the right-most ones */

/* A header's comma-separated entries, over all its lines, in order. */
struct items {
	struct req_str v[FWD_ITEMS]; /* a ring: the last FWD_ITEMS */
	unsigned n;                  /* entries seen */
	struct req_str first;        /* the left-most */
};

/* s[0..len) without blanks around it. */
static struct req_str
trim(const char *s, size_t len)
{
	while (len && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	return (struct req_str){s, len};
}

/*
 * The next sep-separated piece of *rest into *piece, trimmed (a sep inside
 * "quotes" does not count); 0 when nothing is left.
 */
static int
next_piece(struct req_str *rest, char sep, struct req_str *piece)
{
	size_t i = 0;
	int quoted = 0;

	if (!rest->p)
		return 0;
	while (i < rest->len) {
		char ch = rest->p[i];

		if (quoted && ch == '\\' && i + 1 < rest->len) {
			i += 2;
			continue;
		}
		if (ch == '"')
			quoted = !quoted;
		else if (ch == sep && !quoted)
			break;
		i++;
	}
	*piece = trim(rest->p, i < rest->len ? i : rest->len);
	if (i < rest->len) {
		rest->p += i + 1;
		rest->len -= i + 1;
	} else {
		rest->p = NULL;
		rest->len = 0;
	}
	return 1;
}

/* Every entry of every `name` header line in fields, in order. */
static void
collect(struct req_str fields, const char *name, struct items *it)
{
	const char *p = fields.p, *end;
	size_t nl = strlen(name);

	memset(it, 0, sizeof(*it));
	if (!p)
		return;
	end = p + fields.len;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *le = eol ? eol : end, *colon;

		colon = memchr(p, ':', (size_t)(le - p));
		if (colon && (size_t)(colon - p) == nl &&
		    !strncasecmp(p, name, nl)) {
			struct req_str rest = {colon + 1,
			                       (size_t)(le - colon - 1)},
			               e;

			if (rest.len && rest.p[rest.len - 1] == '\r')
				rest.len--;
			while (next_piece(&rest, ',', &e)) {
				if (!e.len)
					continue; /* empty list entries */
				if (!it->n)
					it->first = e;
				it->v[it->n++ % FWD_ITEMS] = e;
			}
		}
		p = le + 1;
	}
}

/* The k-th entry from the right (0: the right-most); NULL if none kept. */
static const struct req_str *
from_right(const struct items *it, unsigned k)
{
	if (k >= it->n || k >= FWD_ITEMS)
		return NULL;
	return &it->v[(it->n - 1 - k) % FWD_ITEMS];
}

/* s without the quotes around it, if it has them. */
static struct req_str
unquote(struct req_str s)
{
	if (s.len >= 2 && s.p[0] == '"' && s.p[s.len - 1] == '"')
		return (struct req_str){s.p + 1, s.len - 2};
	return s;
}

/*
 * A node: 192.0.2.1, 192.0.2.1:port, 2001:db8::1, [2001:db8::1],
 * [2001:db8::1]:port; its address in canonical text into out.  0, or -1
 * when it is none ("unknown", "_hidden", garbage).
 */
static int
node_ip(struct req_str s, char *out)
{
	const char *p = s.p;
	size_t len = s.len;
	char text[FWD_IP_LEN];
	unsigned char bin[16];
	int af = AF_INET;

	if (len && p[0] == '[') {
		const char *close = memchr(p, ']', len);

		if (!close || (close + 1 != p + len && close[1] != ':'))
			return -1;
		p++;
		len = (size_t)(close - p);
		af = AF_INET6;
	} else {
		const char *colon = memchr(p, ':', len);

		if (colon &&
		    memchr(colon + 1, ':', len - (size_t)(colon - p) - 1))
			af = AF_INET6;
		else if (colon)
			len = (size_t)(colon - p); /* IPv4:port */
	}
	if (!len || len >= sizeof(text))
		return -1;
	memcpy(text, p, len);
	text[len] = '\0';
	if (inet_pton(af, text, bin) != 1)
		return -1;
	return inet_ntop(af, bin, out, FWD_IP_LEN) ? 0 : -1;
}

int
fwd_trusted(const struct cfg *c, const char *ip)
{
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0,    0,
	                                         0, 0, 0, 0, 0xff, 0xff};
	unsigned char a[16];
	int v6;

	if (!c->n_proxies)
		return 0;
	v6 = strchr(ip, ':') != NULL;
	if (inet_pton(v6 ? AF_INET6 : AF_INET, ip, a) != 1)
		return 0;
	if (v6 && !memcmp(a, mapped, sizeof(mapped))) {
		memmove(a, a + 12, 4);
		v6 = 0;
	}
	for (int i = 0; i < c->n_proxies; i++) {
		const struct cfg_cidr *r = &c->proxies[i];
		int whole = r->bits / 8, rest = r->bits % 8;

		if (r->v6 != v6 || memcmp(a, r->addr, (size_t)whole))
			continue;
		if (!rest ||
		    !((a[whole] ^ r->addr[whole]) & (0xff00 >> rest) & 0xff))
			return 1;
	}
	return 0;
}

/* One Forwarded element's for=, host= and proto= (p NULL when absent). */
struct element {
	struct req_str for_, host, proto;
};

static void
read_element(struct req_str e, struct element *out)
{
	struct req_str pair;

	memset(out, 0, sizeof(*out));
	while (next_piece(&e, ';', &pair)) {
		const char *eq = memchr(pair.p, '=', pair.len);
		struct req_str name, value;

		if (!eq)
			continue;
		name = (struct req_str){pair.p, (size_t)(eq - pair.p)};
		value = unquote((struct req_str){
		    eq + 1, pair.len - (size_t)(eq - pair.p) - 1});
		if (req_equals(name, "for"))
			out->for_ = value;
		else if (req_equals(name, "host"))
			out->host = value;
		else if (req_equals(name, "proto"))
			out->proto = value;
	}
}

/* Forwarded, from the right: each element a trusted proxy's. */
static void
walk_forwarded(struct fwd_client *w, const struct items *it,
               const struct cfg *c)
{
	const struct req_str *s;
	struct element e;
	char ip[FWD_IP_LEN];

	for (unsigned k = 0; (s = from_right(it, k)); k++) {
		read_element(*s, &e);
		if (e.host.p && e.host.len)
			w->host = e.host;
		if (e.proto.p)
			w->proto = e.proto;
		if (!e.for_.p || node_ip(e.for_, ip))
			return;
		memcpy(w->ip, ip, sizeof(ip));
		if (!fwd_trusted(c, ip))
			return;
	}
}

/* X-Forwarded-For, from the right. */
static void
walk_xff(struct fwd_client *w, const struct items *it, const struct cfg *c)
{
	const struct req_str *s;
	char ip[FWD_IP_LEN];

	for (unsigned k = 0; (s = from_right(it, k)); k++) {
		if (node_ip(*s, ip))
			return;
		memcpy(w->ip, ip, sizeof(ip));
		if (!fwd_trusted(c, ip))
			return;
	}
}

/* 1 if host[:port] has a port. */
static int
has_port(struct req_str h)
{
	const char *close;

	if (h.len && h.p[0] == '[')
		return (close = memchr(h.p, ']', h.len)) &&
		       close + 1 < h.p + h.len && close[1] == ':';
	return memchr(h.p, ':', h.len) != NULL;
}

void
fwd_resolve(struct fwd_client *w, const struct request *r, const char *peer,
            const struct cfg *c)
{
	struct items it;

	memset(w, 0, sizeof(*w));
	snprintf(w->ip, sizeof(w->ip), "%s", peer);
	if (r->hosts == 1)
		w->host = r->host;
	if (!fwd_trusted(c, peer))
		return;
	w->via_proxy = 1;
	collect(r->fields, "forwarded", &it);
	if (it.n) {
		walk_forwarded(w, &it, c);
	} else {
		collect(r->fields, "x-forwarded-for", &it);
		walk_xff(w, &it, c);
		collect(r->fields, "x-forwarded-host", &it);
		if (it.n)
			w->host = it.first;
		collect(r->fields, "x-forwarded-proto", &it);
		if (it.n)
			w->proto = it.first;
	}
	if (w->proto.p && !req_equals(w->proto, "http") &&
	    !req_equals(w->proto, "https"))
		w->proto = (struct req_str){NULL, 0};
	w->any_port = w->host.p && !has_port(w->host);
}
