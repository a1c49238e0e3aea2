/* redis_where.c: where the Redis master is, and moving every connection
 * when it changes; the polling both sentinel.c and cluster.c use. */
#include "redis_where_private.h"

#include "log.h"
#include "metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct redis_where {
	uv_loop_t *loop;
	const struct redis_target *t;
	struct rconn_dest dest;
	struct redis_addr master;
	int known;
	char master_text[280];
	struct rconn *followers[WHERE_MAX_FOLLOWERS];
	int n_followers;
	struct sentinel_watch *sentinel;
	struct cluster_watch *cluster;
};

void
where_next_node(const struct redis_target *t, int *i, struct redis_addr *a)
{
	*a = t->nodes[*i % t->n_nodes];
	*i = (*i + 1) % t->n_nodes;
}

/* The data connections' rconn_dest next(): the master, if known. */
static int
master_next(void *arg, struct redis_addr *a)
{
	struct redis_where *w = arg;

	if (!w->known)
		return -1;
	*a = w->master;
	return 0;
}

/* A data connection found a replica where the master was said to be. */
static void
master_refused(void *arg, const struct redis_addr *a, const char *why)
{
	(void)a;
	where_suspect(arg, why);
}

static int
same_addr(const struct redis_addr *a, const struct redis_addr *b)
{
	return a->is_unix == b->is_unix &&
	       (a->is_unix ? !strcmp(a->path, b->path)
	                   : !strcmp(a->host, b->host) && a->port == b->port);
}

static void
describe(const struct redis_addr *a, char *buf, size_t len)
{
	if (a->is_unix)
		snprintf(buf, len, "%s", a->path);
	else
		snprintf(buf, len, strchr(a->host, ':') ? "[%s]:%d" : "%s:%d",
		         a->host, a->port);
}

void
where_found(struct redis_where *w, const struct redis_addr *a, const char *why)
{
	char was[sizeof(w->master_text)];

	if (w->known && same_addr(&w->master, a))
		return;
	snprintf(was, sizeof(was), "%s", w->master_text);
	w->master = *a;
	describe(a, w->master_text, sizeof(w->master_text));
	if (w->known) {
		metrics.master_switches++;
		log_warn("master is now %s (was %s): %s", w->master_text, was,
		         why);
	} else {
		log_notice("master is %s: %s", w->master_text, why);
	}
	w->known = 1;
	for (int i = 0; i < w->n_followers; i++)
		rconn_retarget(w->followers[i], "the master moved");
}

void
where_suspect(struct redis_where *w, const char *why)
{
	if (!w->sentinel && !w->cluster)
		return; /* the one address given: its connections retry it */
	log_info("asking where the master is again: %s", why);
	if (w->sentinel)
		sentinel_ask(w->sentinel);
	if (w->cluster)
		cluster_ask(w->cluster);
}

const struct rconn_dest *
where_dest(const struct redis_where *w)
{
	return &w->dest;
}

void
where_follow(struct redis_where *w, struct rconn *rc)
{
	if (w->n_followers < WHERE_MAX_FOLLOWERS)
		w->followers[w->n_followers++] = rc;
}

const char *
where_mode_name(const struct redis_where *w)
{
	static const char *const names[] = {"direct", "sentinel", "cluster"};

	return names[w->t->mode];
}

const char *
where_master(const struct redis_where *w)
{
	return w->known ? w->master_text : NULL;
}

struct redis_where *
where_new(uv_loop_t *loop, const struct redis_target *t,
          const char *sentinel_password, const char *slot_key)
{
	struct redis_where *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->loop = loop;
	w->t = t;
	w->dest = (struct rconn_dest){.next = master_next,
	                              .not_master = master_refused,
	                              .arg = w,
	                              .password = t->password,
	                              .db = t->db,
	                              .want_master = 1};
	if (t->mode == REDIS_DIRECT) {
		w->master = t->nodes[0];
		describe(&w->master, w->master_text, sizeof(w->master_text));
		w->known = 1;
	} else if (t->mode == REDIS_SENTINEL) {
		w->sentinel = sentinel_new(loop, t, sentinel_password, w);
	} else {
		w->cluster = cluster_new(loop, t, slot_key, w);
	}
	if (t->mode != REDIS_DIRECT && !w->sentinel && !w->cluster) {
		free(w);
		return NULL;
	}
	return w;
}

void
where_start(struct redis_where *w)
{
	if (w->sentinel)
		sentinel_start(w->sentinel);
	if (w->cluster)
		cluster_start(w->cluster);
}

void
where_stop(struct redis_where *w)
{
	if (w->sentinel)
		sentinel_stop(w->sentinel);
	if (w->cluster)
		cluster_stop(w->cluster);
}

void
where_free(struct redis_where *w)
{
	if (!w)
		return;
	sentinel_free(w->sentinel);
	cluster_free(w->cluster);
	free(w);
}

/* ---- asking a list of nodes, one after another ---- */

/* The poll's rconn_dest next(): its nodes in turn. */
static int
poll_next(void *arg, struct redis_addr *a)
{
	struct where_poll *p = arg;

	where_next_node(p->t, &p->next, a);
	return 0;
}

static void
poll_up(struct rconn *rc, redisAsyncContext *ac, void *arg)
{
	struct where_poll *p = arg;

	(void)rc;
	p->asked = p->last_asked = uv_now(p->timer.loop);
	p->ask(p, ac);
}

static void
poll_down(struct rconn *rc, void *arg)
{
	struct where_poll *p = arg;

	(void)rc;
	p->asked = 0;
}

static const struct rconn_ops poll_ops = {.on_up = poll_up,
                                          .on_down = poll_down};

/* Ask, if connected and no question is out. */
static void
ask_now(struct where_poll *p)
{
	redisAsyncContext *ac = rconn_ctx(p->rc);

	if (!ac || p->asked)
		return;
	p->asked = p->last_asked = uv_now(p->timer.loop);
	p->ask(p, ac);
}

void
where_poll_now(struct where_poll *p)
{
	p->hurry_until = uv_now(p->timer.loop) + WHERE_HURRY_MS;
	ask_now(p);
}

/*
 * Every WHERE_HURRY_POLL_MS: leave a node that does not answer, else ask
 * if WHERE_POLL_MS went by, or the master is in doubt.
 */
static void
on_poll_timer(uv_timer_t *t)
{
	struct where_poll *p = t->data;
	uint64_t now = uv_now(t->loop);

	if (p->asked && now - p->asked > WHERE_ANSWER_MS) {
		rconn_fail(p->rc, "no answer");
		return;
	}
	if (now < p->hurry_until || now - p->last_asked >= WHERE_POLL_MS)
		ask_now(p);
}

void
where_poll_answered(struct where_poll *p, int useful, const char *why)
{
	p->asked = 0;
	if (useful) {
		rconn_ready(p->rc);
		return;
	}
	log_warn("%s: %s; asking the next node", rconn_addr(p->rc), why);
	rconn_fail_later(p->rc, why);
}

int
where_poll_init(struct where_poll *p, uv_loop_t *loop, struct redis_where *w,
                const struct redis_target *t, const char *password,
                const char *name,
                void (*ask)(struct where_poll *, redisAsyncContext *),
                void *owner)
{
	p->w = w;
	p->t = t;
	p->ask = ask;
	p->owner = owner;
	p->dest = (struct rconn_dest){
	    .next = poll_next, .arg = p, .password = password};
	p->rc = rconn_new(loop, &p->dest, name, &poll_ops, p);
	if (!p->rc)
		return -1;
	uv_timer_init(loop, &p->timer);
	p->timer.data = p;
	return 0;
}

void
where_poll_start(struct where_poll *p)
{
	rconn_start(p->rc);
	uv_timer_start(&p->timer, on_poll_timer, WHERE_HURRY_POLL_MS,
	               WHERE_HURRY_POLL_MS);
}

void
where_poll_stop(struct where_poll *p)
{
	uv_timer_stop(&p->timer);
	uv_close((uv_handle_t *)&p->timer, NULL);
	rconn_stop(p->rc);
}

void
where_poll_free(struct where_poll *p)
{
	rconn_free(p->rc);
}
