/* config_cidrs.c: the address ranges of --trusted-proxy: read ("ADDR" or
 * "ADDR/BITS", IPv4 or IPv6, comma-separated or repeated) and shown. */
#include "config_kinds.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "ADDR" or "ADDR/BITS", IPv4 or IPv6, into r; host bits cleared. */
static int
parse_cidr(const char *s, size_t len, struct cfg_cidr *r)
{
	char text[INET6_ADDRSTRLEN + 8], *slash;
	long bits;

	if (len >= sizeof(text))
		return -1;
	memcpy(text, s, len);
	text[len] = '\0';
	memset(r, 0, sizeof(*r));
	slash = strchr(text, '/');
	if (slash)
		*slash++ = '\0';
	r->v6 = strchr(text, ':') != NULL;
	if (inet_pton(r->v6 ? AF_INET6 : AF_INET, text, r->addr) != 1)
		return -1;
	if (!slash)
		bits = r->v6 ? 128 : 32;
	else if (cfg_parse_number(slash, 0, r->v6 ? 128 : 32, &bits))
		return -1;
	r->bits = (unsigned char)bits;
	for (int i = 0; i < 16; i++) {
		int keep = bits > 8 * i ? (int)bits - 8 * i : 0;

		if (keep < 8)
			r->addr[i] &= (unsigned char)(0xff00 >> keep);
	}
	return 0;
}

/* Add one range (len bytes at p) to c's trusted proxies; 0 or -1 (err). */
static int
add_cidr(struct cfg *c, const struct cfg_setting *s, const char *p, size_t len,
         struct cfg_error *err)
{
	if (c->n_proxies == CFG_MAX_PROXIES)
		return cfg_fail(err, "--%s: more than %d ranges", s->name,
		                CFG_MAX_PROXIES);
	if (parse_cidr(p, len, &c->proxies[c->n_proxies]))
		return cfg_fail(err,
		                "--%s: \"%.*s\" is not an address or "
		                "ADDRESS/BITS (IPv4 or IPv6)",
		                s->name, (int)(len > 60 ? 60 : len), p);
	c->n_proxies++;
	return 0;
}

/* Add "a, b/n,c" to the trusted proxies. */
static int
parse_cidrs(struct cfg *c, const struct cfg_setting *s, const char *list,
            struct cfg_error *err)
{
	return cfg_for_each_item(c, s, list, add_cidr, err);
}

/* "a/n, b/m" (exact) or "a/n,b/m" for logs; "" or "none" when empty. */
static void
show_cidrs(const struct cfg *c, const struct cfg_setting *s, char *buf,
           size_t len, int exact)
{
	size_t n = 0;

	(void)s;
	buf[0] = '\0';
	if (!exact && !c->n_proxies)
		snprintf(buf, len, "none");
	for (int i = 0; i < c->n_proxies && n < len; i++) {
		const struct cfg_cidr *r = &c->proxies[i];
		char a[INET6_ADDRSTRLEN];

		inet_ntop(r->v6 ? AF_INET6 : AF_INET, r->addr, a, sizeof(a));
		n += (size_t)snprintf(buf + n, len - n, "%s%s/%d",
		                      !n      ? ""
		                      : exact ? ", "
		                              : ",",
		                      a, r->bits);
	}
}

const struct cfg_kind cfg_kind_cidrs = {parse_cidrs, show_cidrs};
