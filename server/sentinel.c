/* sentinel.c: find the master through Redis Sentinel: ask the sentinels in
 * turn (SENTINEL get-master-addr-by-name, every 2 s and whenever a
 * connection finds a replica), and follow +switch-master on one of them. */
#include "redis_where_private.h"

#include "log.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sentinel_watch {
	const struct redis_target *t;
	struct where_poll ask; /* get-master-addr-by-name */
	/* The +switch-master subscription, on the sentinels in turn. */
	int watch_next;
	struct rconn_dest watch_dest;
	struct rconn *watch;
};

/* Read "host" and "port" (strings) into a; 0, or -1 if they are not. */
static int
read_addr(const redisReply *host, const redisReply *port, struct redis_addr *a)
{
	long v;
	char *end;

	if (host->type != REDIS_REPLY_STRING ||
	    port->type != REDIS_REPLY_STRING || !host->len ||
	    host->len >= sizeof(a->host))
		return -1;
	v = strtol(port->str, &end, 10);
	if (*end || v < 1 || v > 65535)
		return -1;
	memset(a, 0, sizeof(*a));
	memcpy(a->host, host->str, host->len);
	a->port = (int)v;
	return 0;
}

/* A sentinel's answer: [host, port], or nil when it has no such master. */
static void
on_master_addr(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct where_poll *p = privdata;
	struct sentinel_watch *s = p->owner;
	redisReply *r = reply;
	struct redis_addr a;

	if (!r || rconn_ctx(p->rc) != ac)
		return;
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
	    !read_addr(r->element[0], r->element[1], &a)) {
		where_poll_answered(p, 1, NULL);
		where_found(p->w, &a, "the sentinels say so");
		return;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		where_poll_answered(p, 0, r->str);
		return;
	}
	log_err("sentinel %s knows no master named \"%s\"", rconn_addr(p->rc),
	        s->t->master_name);
	where_poll_answered(p, 0, "no such master");
}

static void
ask_master(struct where_poll *p, redisAsyncContext *ac)
{
	struct sentinel_watch *s = p->owner;

	redisAsyncCommand(ac, on_master_addr, p,
	                  "SENTINEL get-master-addr-by-name %s",
	                  s->t->master_name);
}

/*
 * On the subscription: the confirmation, then "+switch-master" messages
 * "<name> <old-ip> <old-port> <new-ip> <new-port>".
 */
static void
on_switch(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct sentinel_watch *s = privdata;
	redisReply *r = reply;
	char name[128], host[256];
	struct redis_addr a = {0};

	if (!r || rconn_ctx(s->watch) != ac)
		return;
	if (r->type == REDIS_REPLY_ERROR) {
		log_err("sentinel %s refused SUBSCRIBE: %s",
		        rconn_addr(s->watch), r->str);
		rconn_fail_later(s->watch, "SUBSCRIBE refused");
		return;
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
	    r->element[0]->type != REDIS_REPLY_STRING ||
	    r->element[2]->type != REDIS_REPLY_STRING)
		return;
	if (!strcmp(r->element[0]->str, "subscribe")) {
		rconn_ready(s->watch);
		log_info("listening to sentinel %s for +switch-master",
		         rconn_addr(s->watch));
		return;
	}
	if (sscanf(r->element[2]->str, "%127s %*s %*s %255s %d", name, host,
	           &a.port) != 3 ||
	    strcmp(name, s->t->master_name) || a.port < 1 || a.port > 65535)
		return;
	snprintf(a.host, sizeof(a.host), "%s", host);
	where_found(s->ask.w, &a, "+switch-master");
}

static int
watch_next(void *arg, struct redis_addr *a)
{
	struct sentinel_watch *s = arg;

	where_next_node(s->t, &s->watch_next, a);
	return 0;
}

static void
watch_up(struct rconn *rc, redisAsyncContext *ac, void *arg)
{
	(void)rc;
	redisAsyncCommand(ac, on_switch, arg, "SUBSCRIBE +switch-master");
}

static const struct rconn_ops watch_ops = {.on_up = watch_up};

struct sentinel_watch *
sentinel_new(uv_loop_t *loop, const struct redis_target *t,
             const char *password, struct redis_where *w)
{
	struct sentinel_watch *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->t = t;
	/* The subscription starts on another sentinel than the questions. */
	s->watch_next = t->n_nodes > 1 ? 1 : 0;
	s->watch_dest = (struct rconn_dest){
	    .next = watch_next, .arg = s, .password = password};
	if (where_poll_init(&s->ask, loop, w, t, password, "sentinel",
	                    ask_master, s) ||
	    !(s->watch = rconn_new(loop, &s->watch_dest, "sentinel events",
	                           &watch_ops, s))) {
		if (s->ask.rc)
			where_poll_free(&s->ask);
		free(s);
		return NULL;
	}
	return s;
}

void
sentinel_start(struct sentinel_watch *s)
{
	where_poll_start(&s->ask);
	rconn_start(s->watch);
}

void
sentinel_ask(struct sentinel_watch *s)
{
	where_poll_now(&s->ask);
}

void
sentinel_stop(struct sentinel_watch *s)
{
	where_poll_stop(&s->ask);
	rconn_stop(s->watch);
}

void
sentinel_free(struct sentinel_watch *s)
{
	if (!s)
		return;
	where_poll_free(&s->ask);
	rconn_free(s->watch);
	free(s);
}
