/* guard.c: origin allow-list, connection limits, client message limits. */
#include "guard.h"

#include "config.h"
#include "log.h"
#include "metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ADDR_BUCKETS 4096

/* Clients connected from one address; freed when the last one leaves. */
struct guard_addr {
	struct guard_addr *next;
	unsigned clients;
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

/* 1 if origin is scheme://<the Host this request was sent to>. */
static int
is_own_origin(struct lws *wsi, const char *origin)
{
	char host[256];
	const char *rest;

	if (lws_hdr_copy(wsi, host, sizeof(host), WSI_TOKEN_HOST) <= 0)
		return 0;
	if (!strncmp(origin, "http://", 7))
		rest = origin + 7;
	else if (!strncmp(origin, "https://", 8))
		rest = origin + 8;
	else
		return 0;
	return !strcasecmp(rest, host);
}

static const char *const refusal_names[GUARD_REFUSAL_COUNT] = {
    [GUARD_OK] = "ok",
    [GUARD_ORIGIN] = "origin",
    [GUARD_FULL] = "max_clients",
    [GUARD_PER_IP] = "max_per_ip",
};

enum guard_refusal
guard_check(struct guard *g, struct lws *wsi, int *status)
{
	char origin[CFG_ORIGIN_LEN], ip[48] = "";
	enum guard_refusal r = GUARD_OK;
	struct guard_addr *a;

	lws_get_peer_simple(wsi, ip, sizeof(ip));
	if (lws_hdr_copy(wsi, origin, sizeof(origin), WSI_TOKEN_ORIGIN) > 0 &&
	    !is_own_origin(wsi, origin) &&
	    !cfg_origin_allowed(g->cfg, origin)) {
		r = GUARD_ORIGIN;
		*status = HTTP_STATUS_FORBIDDEN;
	} else if (g->clients >= g->cfg->max_clients) {
		r = GUARD_FULL;
		*status = HTTP_STATUS_SERVICE_UNAVAILABLE;
	} else if ((a = find_addr(g, ip, 0)) &&
	           a->clients >= g->cfg->max_per_ip) {
		r = GUARD_PER_IP;
		*status = 429;
	}
	if (r != GUARD_OK) {
		metrics.refused[r]++;
		log_info("refused a client from %s: %s%s%s", ip,
		         refusal_names[r], r == GUARD_ORIGIN ? " " : "",
		         r == GUARD_ORIGIN ? origin : "");
	}
	return r;
}

void
guard_join(struct guard *g, struct guard_client *c, struct lws *wsi)
{
	char ip[48] = "";

	lws_get_peer_simple(wsi, ip, sizeof(ip));
	g->clients++;
	c->addr = find_addr(g, ip, 1);
	if (c->addr)
		c->addr->clients++;
	c->tokens = (float)g->cfg->max_rate;
	c->refill_ms = (uint32_t)(lws_now_usecs() / 1000);
}

void
guard_leave(struct guard *g, struct guard_client *c)
{
	struct guard_addr *a = c->addr, **pp;

	g->clients--;
	if (a && !--a->clients) {
		for (pp = &g->buckets[hash_ip(a->ip)]; *pp != a;
		     pp = &(*pp)->next)
			;
		*pp = a->next;
		free(a);
	}
	c->addr = NULL;
}

int
guard_receive(struct guard *g, struct guard_client *c, size_t len, int final)
{
	uint32_t now = (uint32_t)(lws_now_usecs() / 1000);
	float cap = (float)g->cfg->max_rate;

	c->msg_bytes += (uint32_t)len;
	if (c->msg_bytes > g->cfg->max_message) {
		metrics.closed_too_big++;
		return LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE;
	}
	if (!final)
		return 0;
	c->msg_bytes = 0;
	/* A token bucket: max_rate a second, bursts of one second's worth. */
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
