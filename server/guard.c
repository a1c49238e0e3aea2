/* guard.c: origin allow-list, connection limits, client message limits. */
#include "guard.h"

#include "config.h"
#include "forwarded.h"
#include "log.h"
#include "metrics.h"
#include "request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define ADDR_BUCKETS 4096

/*
 * What one address has open: clients, and connections whose request has
 * not arrived yet; freed when both are none.
 */
struct guard_addr {
	struct guard_addr *next;
	unsigned clients;
	unsigned unfinished;
	char ip[48];
};

struct guard {
	const struct cfg *cfg;
	unsigned clients;
	struct guard_addr *buckets[ADDR_BUCKETS];
};

struct guard *
guard_new(const struct cfg *cfg)
{
	struct guard *g = calloc(1, sizeof(*g));

	if (g)
		g->cfg = cfg;
	return g;
}

void
guard_free(struct guard *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < ADDR_BUCKETS; i++)
		while (g->buckets[i]) {
			struct guard_addr *a = g->buckets[i];

			g->buckets[i] = a->next;
			free(a);
		}
	free(g);
}

static unsigned
hash_ip(const char *ip)
{
	unsigned h = 2166136261u;

	for (; *ip; ip++)
		h = (h ^ (unsigned char)*ip) * 16777619u;
	return h % ADDR_BUCKETS;
}

/* The entry for ip, made when create is set; NULL if none (or ENOMEM). */
static struct guard_addr *
find_addr(struct guard *g, const char *ip, int create)
{
	unsigned b = hash_ip(ip);
	struct guard_addr *a;

	for (a = g->buckets[b]; a; a = a->next)
		if (!strcmp(a->ip, ip))
			return a;
	if (!create || !(a = calloc(1, sizeof(*a))))
		return NULL;
	snprintf(a->ip, sizeof(a->ip), "%s", ip);
	a->next = g->buckets[b];
	g->buckets[b] = a;
	return a;
}

/* Forget a once nothing of its address is open any more. */
static void
release_addr(struct guard *g, struct guard_addr *a)
{
	struct guard_addr **pp;

	if (a->clients || a->unfinished)
		return;
	for (pp = &g->buckets[hash_ip(a->ip)]; *pp != a; pp = &(*pp)->next)
		;
	*pp = a->next;
	free(a);
}

/* The length of host[:port] without its port ("[v6]" keeps its brackets). */
static size_t
without_port(struct req_str h)
{
	const char *end = h.p + h.len, *p = h.p;

	if (h.len && *p == '[') {
		const char *close = memchr(p, ']', h.len);

		return close ? (size_t)(close + 1 - p) : h.len;
	}
	p = memchr(p, ':', h.len);
	return (size_t)((p ? p : end) - h.p);
}

/*
 * 1 if origin is scheme://<the host this request was sent to>: the Host,
 * or what a trusted proxy said the browser asked for (its scheme too).
 */
static int
is_own_origin(const struct request *r, const struct fwd_client *w)
{
	struct req_str rest = r->origin;
	size_t sl = w->proto.len;

	if (!w->host.p)
		return 0;
	if (w->proto.p) {
		if (rest.len <= sl + 3 || strncasecmp(rest.p, w->proto.p, sl) ||
		    strncmp(rest.p + sl, "://", 3))
			return 0;
		rest.p += sl + 3;
		rest.len -= sl + 3;
	} else if (rest.len > 7 && !strncmp(rest.p, "http://", 7)) {
		rest.p += 7;
		rest.len -= 7;
	} else if (rest.len > 8 && !strncmp(rest.p, "https://", 8)) {
		rest.p += 8;
		rest.len -= 8;
	} else {
		return 0;
	}
	/* The proxy left the port out (nginx's $host): the host decides. */
	if (w->any_port)
		rest.len = without_port(rest);
	return rest.len == w->host.len &&
	       !strncasecmp(rest.p, w->host.p, rest.len);
}

/* 1 if r's Origin (absent, our own, or allowed) may connect. */
static int
origin_allowed(const struct guard *g, const struct request *r,
               const struct fwd_client *w)
{
	char origin[CFG_ORIGIN_LEN];

	if (!r->origins)
		return 1; /* not a browser */
	if (r->origins > 1)
		return 0;
	if (g->cfg->any_origin || is_own_origin(r, w))
		return 1;
	/* Longer than any listed origin can be: it is none of them. */
	if (r->origin.len >= sizeof(origin))
		return 0;
	memcpy(origin, r->origin.p, r->origin.len);
	origin[r->origin.len] = '\0';
	return cfg_origin_allowed(g->cfg, origin);
}

static const char *const refusal_names[GUARD_REFUSAL_COUNT] = {
    [GUARD_OK] = "ok",
    [GUARD_ORIGIN] = "origin",
    [GUARD_FULL] = "max_clients",
    [GUARD_PER_IP] = "max_per_ip",
    [GUARD_UNFINISHED] = "unfinished",
    [GUARD_TIMEOUT] = "timeout",
    [GUARD_BAD_REQUEST] = "bad_request",
    [GUARD_TOO_LARGE] = "too_large",
    [GUARD_METHOD] = "method",
    [GUARD_NOT_FOUND] = "not_found",
    [GUARD_WS_VERSION] = "ws_version",
    [GUARD_BAD_TOPICS] = "bad_topics",
    [GUARD_SHUTDOWN] = "shutting_down",
    [GUARD_PROXY_HDR] = "proxy_header",
};

const char *
guard_refusal_name(enum guard_refusal reason)
{
	return reason > GUARD_OK && reason < GUARD_REFUSAL_COUNT
	           ? refusal_names[reason]
	           : "ok";
}

void
guard_refused(enum guard_refusal reason, const char *ip)
{
	if (reason <= GUARD_OK || reason >= GUARD_REFUSAL_COUNT)
		return;
	metrics.refused[reason]++;
	log_info("refused a client from %s: %s", ip, refusal_names[reason]);
}

enum guard_refusal
guard_check(struct guard *g, const struct fwd_client *w,
            const struct request *r, int *status)
{
	const char *ip = w->ip;
	struct guard_addr *a;

	if (!origin_allowed(g, r, w)) {
		*status = 403;
		guard_refused(GUARD_ORIGIN, ip);
		return GUARD_ORIGIN;
	}
	if (g->clients >= g->cfg->max_clients) {
		*status = 503;
		guard_refused(GUARD_FULL, ip);
		return GUARD_FULL;
	}
	if ((a = find_addr(g, ip, 0)) && a->clients >= g->cfg->max_per_ip) {
		*status = 429;
		guard_refused(GUARD_PER_IP, ip);
		return GUARD_PER_IP;
	}
	return GUARD_OK;
}

unsigned
guard_clients(const struct guard *g)
{
	return g->clients;
}

void
guard_join(struct guard *g, struct guard_client *c, const char *ip)
{
	g->clients++;
	c->addr = find_addr(g, ip, 1);
	if (c->addr)
		c->addr->clients++;
	c->tokens = (float)g->cfg->max_rate;
	c->refill_ms = (uint32_t)(lws_now_usecs() / 1000);
}

struct guard_addr *
guard_arrive(struct guard *g, const char *ip)
{
	struct guard_addr *a = find_addr(g, ip, 1);

	if (!a)
		return NULL;
	if (a->unfinished >= g->cfg->max_per_ip) {
		guard_refused(GUARD_UNFINISHED, ip);
		release_addr(g, a);
		return NULL;
	}
	a->unfinished++;
	return a;
}

void
guard_depart(struct guard *g, struct guard_addr *a)
{
	if (!a)
		return;
	a->unfinished--;
	release_addr(g, a);
}

void
guard_leave(struct guard *g, struct guard_client *c)
{
	struct guard_addr *a = c->addr;

	g->clients--;
	if (a) {
		a->clients--;
		release_addr(g, a);
	}
	c->addr = NULL;
}

const char *
guard_client_ip(const struct guard_client *c)
{
	return c->addr ? c->addr->ip : "";
}

int
guard_frame(struct guard *g, struct guard_client *c, uint64_t len, int data)
{
	uint32_t now = (uint32_t)(lws_now_usecs() / 1000);
	float cap = (float)g->cfg->max_rate;

	if (data) {
		if (len > g->cfg->max_message ||
		    c->msg_bytes + len > g->cfg->max_message) {
			metrics.closed_too_big++;
			return LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE;
		}
		c->msg_bytes += (uint32_t)len;
	}
	/*
	 * A token bucket: max_rate frames a second (every frame: fragments,
	 * pings, pongs), bursts of one second's worth.
	 */
	c->tokens += (float)(uint32_t)(now - c->refill_ms) * cap / 1000.0f;
	if (c->tokens > cap)
		c->tokens = cap;
	c->refill_ms = now;
	if (c->tokens < 1.0f) {
		metrics.closed_too_fast++;
		return LWS_CLOSE_STATUS_POLICY_VIOLATION;
	}
	c->tokens -= 1.0f;
	return 0;
}

void
guard_message_done(struct guard_client *c)
{
	c->msg_bytes = 0;
}
