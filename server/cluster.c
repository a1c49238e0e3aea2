/* cluster.c: find the master through a Redis Cluster: the node owning the
 * slot of tickerd's keys (CLUSTER KEYSLOT, then CLUSTER SLOTS every 2 s and
 * whenever a connection is told MOVED), with the function library loaded
 * on every master. */
#include "redis_where_private.h"

#include "changelog.h"
#include "log.h"
#include "redis_uv.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_MASTERS 64

/* A FUNCTION LOAD on a master, on a connection of its own. */
struct loading {
	struct cluster_watch *c;
	redisAsyncContext *ac;
	int slot; /* in c->loading[] */
	int connected;
};

struct cluster_watch {
	uv_loop_t *loop;
	const struct redis_target *t;
	char slot_key[128];
	long slot; /* -1: not known yet */
	struct where_poll ask;
	/* Masters the library was loaded on, as host:port. */
	char loaded[MAX_MASTERS][280];
	int n_loaded;
	struct loading *loading[MAX_MASTERS]; /* LOADs under way */
};

static void
on_keyslot(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct where_poll *p = privdata;
	struct cluster_watch *c = p->owner;
	redisReply *r = reply;

	if (!r || rconn_ctx(p->rc) != ac || r->type != REDIS_REPLY_INTEGER)
		return; /* an error comes again with CLUSTER SLOTS */
	c->slot = (long)r->integer;
}

/* Forget l in its cluster_watch (it may be freed any time after). */
static void
unlist(struct loading *l)
{
	if (l->c)
		l->c->loading[l->slot] = NULL;
	l->c = NULL;
}

/* A library LOAD's answer: the master is done (or tried again later). */
static void
on_loaded(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct loading *l = privdata;
	redisReply *r = reply;

	if (!r || !l->c) {
		unlist(l); /* the connection is going: nothing to close */
		return;
	}
	if (r->type != REDIS_REPLY_ERROR) {
		struct cluster_watch *c = l->c;

		if (c->n_loaded < MAX_MASTERS)
			snprintf(c->loaded[c->n_loaded++], sizeof(c->loaded[0]),
			         "%s:%d", ac->c.tcp.host, ac->c.tcp.port);
		log_info("function library loaded on %s:%d", ac->c.tcp.host,
		         ac->c.tcp.port);
	} else {
		log_warn("could not load the function library on %s:%d: %s",
		         ac->c.tcp.host, ac->c.tcp.port, r->str);
	}
	unlist(l);
	redisAsyncDisconnect(ac);
}

/* hiredis frees a context that failed to connect without a disconnect
 * callback: l goes here then. */
static void
on_load_connect(const redisAsyncContext *ac, int status)
{
	struct loading *l = ac->data;

	if (status == REDIS_OK) {
		l->connected = 1;
		return;
	}
	unlist(l);
	free(l);
}

static void
on_load_disconnect(const redisAsyncContext *ac, int status)
{
	struct loading *l = ac->data;

	(void)status;
	unlist(l);
	free(l);
}

/* Load the library on the master at host:port unless done or under way. */
static void
load_library(struct cluster_watch *c, const char *host, int port)
{
	char name[280];
	int free_slot = -1;
	struct loading *l;

	snprintf(name, sizeof(name), "%s:%d", host, port);
	for (int i = 0; i < c->n_loaded; i++)
		if (!strcmp(c->loaded[i], name))
			return;
	for (int i = 0; i < MAX_MASTERS; i++) {
		if (c->loading[i] && c->loading[i]->ac->c.tcp.port == port &&
		    !strcmp(c->loading[i]->ac->c.tcp.host, host))
			return;
		if (!c->loading[i] && free_slot < 0)
			free_slot = i;
	}
	if (free_slot < 0 || !(l = calloc(1, sizeof(*l))))
		return;
	l->ac = redisAsyncConnect(host, port);
	if (!l->ac || l->ac->err ||
	    redis_uv_attach(l->ac, c->loop) != REDIS_OK) {
		if (l->ac)
			redisAsyncFree(l->ac);
		free(l);
		return;
	}
	l->c = c;
	l->slot = free_slot;
	l->ac->data = l;
	c->loading[free_slot] = l;
	redisAsyncSetConnectCallback(l->ac, on_load_connect);
	redisAsyncSetDisconnectCallback(l->ac, on_load_disconnect);
	if (c->t->password[0])
		redisAsyncCommand(l->ac, NULL, NULL, "AUTH %s", c->t->password);
	redisAsyncCommand(l->ac, on_loaded, l, "FUNCTION LOAD REPLACE %s",
	                  tickerd_lua);
}

/*
 * CLUSTER SLOTS: [[first, last, [host, port, id], replicas...], ...].
 * The range holding our slot names the master; every master gets the
 * library.
 */
static void
on_slots(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct where_poll *p = privdata;
	struct cluster_watch *c = p->owner;
	redisReply *r = reply;
	struct redis_addr owner = {0};
	int found = 0;

	if (!r || rconn_ctx(p->rc) != ac)
		return;
	if (r->type != REDIS_REPLY_ARRAY || c->slot < 0) {
		where_poll_answered(p, 0,
		                    r->type == REDIS_REPLY_ERROR
		                        ? r->str
		                        : "no slot map (not a cluster node?)");
		return;
	}
	for (size_t i = 0; i < r->elements; i++) {
		const redisReply *range = r->element[i], *m;

		if (range->type != REDIS_REPLY_ARRAY || range->elements < 3)
			continue;
		m = range->element[2];
		if (m->type != REDIS_REPLY_ARRAY || m->elements < 2 ||
		    m->element[0]->type != REDIS_REPLY_STRING ||
		    m->element[1]->type != REDIS_REPLY_INTEGER ||
		    !m->element[0]->len || m->element[0]->len >= 256)
			continue;
		load_library(c, m->element[0]->str,
		             (int)m->element[1]->integer);
		if (range->element[0]->integer <= c->slot &&
		    c->slot <= range->element[1]->integer) {
			memcpy(owner.host, m->element[0]->str,
			       m->element[0]->len + 1);
			owner.port = (int)m->element[1]->integer;
			found = 1;
		}
	}
	if (!found) {
		where_poll_answered(p, 0, "no master serves tickerd's slot");
		return;
	}
	where_poll_answered(p, 1, NULL);
	where_found(p->w, &owner, "the cluster says so");
}

static void
ask_slots(struct where_poll *p, redisAsyncContext *ac)
{
	struct cluster_watch *c = p->owner;

	if (c->slot < 0)
		redisAsyncCommand(ac, on_keyslot, p, "CLUSTER KEYSLOT %s",
		                  c->slot_key);
	redisAsyncCommand(ac, on_slots, p, "CLUSTER SLOTS");
}

struct cluster_watch *
cluster_new(uv_loop_t *loop, const struct redis_target *t, const char *slot_key,
            struct redis_where *w)
{
	struct cluster_watch *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->loop = loop;
	c->t = t;
	c->slot = -1;
	snprintf(c->slot_key, sizeof(c->slot_key), "%s", slot_key);
	if (where_poll_init(&c->ask, loop, w, t, t->password, "cluster",
	                    ask_slots, c)) {
		free(c);
		return NULL;
	}
	return c;
}

void
cluster_start(struct cluster_watch *c)
{
	where_poll_start(&c->ask);
}

void
cluster_ask(struct cluster_watch *c)
{
	where_poll_now(&c->ask);
}

void
cluster_stop(struct cluster_watch *c)
{
	where_poll_stop(&c->ask);
	for (int i = 0; i < MAX_MASTERS; i++) {
		struct loading *l = c->loading[i];
		int connected;

		if (!l)
			continue;
		connected = l->connected;
		unlist(l);
		redisAsyncFree(l->ac); /* connected: frees l, via disconnect */
		if (!connected)
			free(l);
	}
}

void
cluster_free(struct cluster_watch *c)
{
	if (!c)
		return;
	where_poll_free(&c->ask);
	free(c);
}
