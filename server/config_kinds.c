/* config_kinds.c: reading and showing each kind of setting's value. */
#include "config_kinds.h"

#include "topics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libwebsockets.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LOG_LIST_MAX 60 /* a longer origin list is logged as a count */

int
cfg_fail(struct cfg_error *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err->text, sizeof(err->text), fmt, ap);
	va_end(ap);
	return -1;
}

/* The setting's bytes in c. */
static void *
field(struct cfg *c, const struct cfg_setting *s)
{
	return (char *)c + s->offset;
}

static const void *
cfield(const struct cfg *c, const struct cfg_setting *s)
{
	return (const char *)c + s->offset;
}

int
cfg_parse_number(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (!*s)
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int
cfg_parse_listen(const char *s, struct cfg *c, struct cfg_error *err)
{
	const char *colon = strrchr(s, ':');
	char host[256];
	unsigned char addr[16];
	size_t hlen;
	long port;

	if (!colon || cfg_parse_number(colon + 1, 1, 65535, &port))
		return cfg_fail(err, "--listen: expected HOST:PORT, got \"%s\"",
		                s);
	hlen = (size_t)(colon - s);
	if (hlen >= sizeof(host))
		return cfg_fail(err, "--listen: host too long");
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') {
		memmove(host, host + 1, hlen - 2);
		host[hlen - 2] = '\0';
		if (inet_pton(AF_INET6, host, addr) != 1)
			return cfg_fail(err,
			                "--listen: \"%s\" is not an IPv6 "
			                "address",
			                host);
	} else if (!strcmp(host, "localhost")) {
		strcpy(host, "127.0.0.1");
	} else if (!strcmp(host, "*") || !strcmp(host, "0.0.0.0")) {
		host[0] = '\0';
	} else if (hlen && inet_pton(AF_INET, host, addr) != 1) {
		return cfg_fail(err,
		                "--listen: \"%s\" is not an IPv4 address, "
		                "[IPv6] address, localhost or *",
		                host);
	}
	strcpy(c->listen_host, host);
	c->listen_port = (int)port;
	return 0;
}

static int
parse_listen(struct cfg *c, const struct cfg_setting *s, const char *text,
             struct cfg_error *err)
{
	(void)s;
	return cfg_parse_listen(text, c, err);
}

/* HOST:PORT, [V6]:PORT or *:PORT, as cfg_parse_listen() reads it. */
static void
show_listen(const struct cfg *c, const struct cfg_setting *s, char *buf,
            size_t len, int exact)
{
	const char *h = c->listen_host[0] ? c->listen_host : "*";
	int v6 = strchr(h, ':') != NULL;

	(void)s;
	(void)exact;
	snprintf(buf, len, "%s%s%s:%d", v6 ? "[" : "", h, v6 ? "]" : "",
	         c->listen_port);
}

/* A name as topics have them (the channel prefix). */
static int
parse_name(struct cfg *c, const struct cfg_setting *s, const char *text,
           struct cfg_error *err)
{
	size_t len = strlen(text);

	if (!topic_is_valid(text, len) || len >= s->size)
		return cfg_fail(
		    err, "--%s: \"%s\" must be 1-64 of A-Z a-z 0-9 _ . -",
		    s->name, text);
	memcpy(field(c, s), text, len + 1);
	return 0;
}

/* A file or folder name: not empty, and it fits. */
static int
parse_path(struct cfg *c, const struct cfg_setting *s, const char *text,
           struct cfg_error *err)
{
	size_t len = strlen(text);

	if (!len || len >= s->size)
		return cfg_fail(err, "--%s: \"%.80s\" is empty or too long",
		                s->name, text);
	memcpy(field(c, s), text, len + 1);
	return 0;
}

static void
show_string(const struct cfg *c, const struct cfg_setting *s, char *buf,
            size_t len, int exact)
{
	(void)exact;
	snprintf(buf, len, "%s", (const char *)cfield(c, s));
}

/* A decimal in [s->min, s->max], into an unsigned. */
static int
parse_uint(struct cfg *c, const struct cfg_setting *s, const char *text,
           struct cfg_error *err)
{
	unsigned u;
	long v;

	if (cfg_parse_number(text, s->min, s->max, &v))
		return cfg_fail(err,
		                "--%s: \"%s\" is not a number from %ld to %ld",
		                s->name, text, s->min, s->max);
	u = (unsigned)v;
	memcpy(field(c, s), &u, sizeof(u));
	return 0;
}

static void
show_uint(const struct cfg *c, const struct cfg_setting *s, char *buf,
          size_t len, int exact)
{
	unsigned u;

	(void)exact;
	memcpy(&u, cfield(c, s), sizeof(u));
	snprintf(buf, len, "%u", u);
}

/* The log levels by name, each with the lws LLL_* bits it shows. */
static const struct {
	const char *name;
	int mask;
} levels[] = {
    {"error", LLL_ERR},
    {"warn", LLL_ERR | LLL_WARN},
    {"notice", LLL_ERR | LLL_WARN | LLL_NOTICE | LLL_USER},
    {"info", LLL_ERR | LLL_WARN | LLL_NOTICE | LLL_USER | LLL_INFO},
    {"debug",
     LLL_ERR | LLL_WARN | LLL_NOTICE | LLL_USER | LLL_INFO | LLL_DEBUG},
};

/* A switch: yes/no, on/off, true/false, 1/0 (a bare flag means yes). */
static int
parse_switch(struct cfg *c, const struct cfg_setting *s, const char *text,
             struct cfg_error *err)
{
	static const char *const words[] = {"no",    "yes",  "off", "on",
	                                    "false", "true", "0",   "1"};

	for (int i = 0; i < 8; i++)
		if (!strcasecmp(text, words[i])) {
			int on = i % 2;

			memcpy(field(c, s), &on, sizeof(on));
			return 0;
		}
	return cfg_fail(err, "--%s: \"%s\" is not yes or no", s->name, text);
}

static void
show_switch(const struct cfg *c, const struct cfg_setting *s, char *buf,
            size_t len, int exact)
{
	int on;

	(void)exact;
	memcpy(&on, cfield(c, s), sizeof(on));
	snprintf(buf, len, "%s", on ? "yes" : "no");
}

static int
parse_level(struct cfg *c, const struct cfg_setting *s, const char *text,
            struct cfg_error *err)
{
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (!strcasecmp(text, levels[i].name)) {
			memcpy(field(c, s), &levels[i].mask, sizeof(int));
			return 0;
		}
	return cfg_fail(
	    err, "--%s: \"%s\" is not error, warn, notice, info or debug",
	    s->name, text);
}

static void
show_level(const struct cfg *c, const struct cfg_setting *s, char *buf,
           size_t len, int exact)
{
	int mask;

	(void)exact;
	memcpy(&mask, cfield(c, s), sizeof(mask));
	snprintf(buf, len, "%d", mask);
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (levels[i].mask == mask)
			snprintf(buf, len, "%s", levels[i].name);
}

/* 1 if s is scheme://host[:port] with nothing after, as browsers send. */
static int
origin_is_valid(const char *s, size_t len)
{
	const char *p = memchr(s, ':', len);

	if (!p || (size_t)(p - s) + 3 >= len || strncmp(p, "://", 3))
		return 0;
	for (const char *q = p + 3; q < s + len; q++)
		if (*q == '/' || *q == '?' || *q == '#' || *q <= ' ' ||
		    *q == 0x7f)
			return 0;
	return 1;
}

/* Bytes the listed origins take in frame-ancestors (each + a space). */
static size_t
origins_len(const struct cfg *c)
{
	size_t n = 0;

	for (int i = 0; i < c->n_origins; i++)
		n += strlen(c->origins[i]) + 1;
	return n;
}

int
cfg_for_each_item(struct cfg *c, const struct cfg_setting *s, const char *list,
                  cfg_item_fn add, struct cfg_error *err)
{
	while (*list) {
		const char *end = strchr(list, ',');
		size_t len = end ? (size_t)(end - list) : strlen(list);

		while (len && *list == ' ') {
			list++;
			len--;
		}
		while (len && list[len - 1] == ' ')
			len--;
		if (len && add(c, s, list, len, err))
			return -1;
		if (!end)
			break;
		list = end + 1;
	}
	return 0;
}

/* Add one origin of len bytes (not NUL-terminated); 0 or -1 with err. */
static int
add_origin(struct cfg *c, const struct cfg_setting *s, const char *o,
           size_t len, struct cfg_error *err)
{
	(void)s;
	if (len == 1 && *o == '*') {
		c->any_origin = 1;
		return 0;
	}
	if (len >= CFG_ORIGIN_LEN || !origin_is_valid(o, len))
		return cfg_fail(err,
		                "--allow-origin: \"%.*s\" is not "
		                "scheme://host[:port]",
		                (int)(len > 80 ? 80 : len), o);
	/* lws 4.1 leaves a static file about 2 KB for the headers we add,
	 * and the CSP names every origin. */
	if (origins_len(c) + len + 1 > CFG_ORIGINS_BYTES)
		return cfg_fail(err,
		                "--allow-origin: the origins must fit in %d "
		                "bytes in all (the Content-Security-Policy "
		                "header lists them); list fewer, or \"*\"",
		                CFG_ORIGINS_BYTES);
	if (c->n_origins == CFG_MAX_ORIGINS)
		return cfg_fail(err, "--allow-origin: more than %d origins",
		                CFG_MAX_ORIGINS);
	memcpy(c->origins[c->n_origins], o, len);
	c->origins[c->n_origins++][len] = '\0';
	return 0;
}

/* Add "a, b,c" to the allowed origins; "*" allows any. */
static int
parse_origins(struct cfg *c, const struct cfg_setting *s, const char *list,
              struct cfg_error *err)
{
	return cfg_for_each_item(c, s, list, add_origin, err);
}

/* "*, a, b" as listed; for logs "a,b", or "*", "none", a count if long. */
static void
show_origins(const struct cfg *c, const struct cfg_setting *s, char *buf,
             size_t len, int exact)
{
	size_t n = 0;

	(void)s;
	buf[0] = '\0';
	if (!exact && (c->any_origin || !c->n_origins)) {
		snprintf(buf, len, "%s", c->any_origin ? "*" : "none");
		return;
	}
	if (!exact && origins_len(c) > LOG_LIST_MAX) {
		snprintf(buf, len, "%d origins", c->n_origins);
		return;
	}
	if (c->any_origin)
		n = (size_t)snprintf(buf, len, "*");
	for (int i = 0; i < c->n_origins && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s",
		                      !n      ? ""
		                      : exact ? ", "
		                              : ",",
		                      c->origins[i]);
}

int
cfg_origin_allowed(const struct cfg *c, const char *origin)
{
	if (c->any_origin)
		return 1;
	for (int i = 0; i < c->n_origins; i++)
		if (!strcasecmp(c->origins[i], origin)) /* hosts: any case */
			return 1;
	return 0;
}

const struct cfg_kind cfg_kind_listen = {parse_listen, show_listen};
const struct cfg_kind cfg_kind_name = {parse_name, show_string};
const struct cfg_kind cfg_kind_path = {parse_path, show_string};
const struct cfg_kind cfg_kind_uint = {parse_uint, show_uint};
const struct cfg_kind cfg_kind_level = {parse_level, show_level};
const struct cfg_kind cfg_kind_switch = {parse_switch, show_switch};
const struct cfg_kind cfg_kind_origins = {parse_origins, show_origins};
