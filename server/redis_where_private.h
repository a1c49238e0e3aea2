/* redis_where_private.h: what redis_where.c shares with the two ways of
 * finding the master, sentinel.c and cluster.c.  Nothing else includes it. */
#ifndef TICKERD_REDIS_WHERE_PRIVATE_H
#define TICKERD_REDIS_WHERE_PRIVATE_H

#include "redis_where.h"

#include <stdint.h>

/* How often the sentinels or the cluster are asked again, and how long an
 * answer may take before the node is left for the next. */
#define WHERE_POLL_MS   2000
#define WHERE_ANSWER_MS 3000
/* While the master is in doubt (a connection to it was lost or refused),
 * they are asked this often, for WHERE_HURRY_MS. */
#define WHERE_HURRY_POLL_MS 250
#define WHERE_HURRY_MS      10000

/*
 * One connection to each node of a list in turn (the next after a failure),
 * asking it a question every WHERE_POLL_MS, at once when it comes up, and
 * whenever where_poll_now() says.
 */
struct where_poll {
	struct redis_where *w;
	const struct redis_target *t;
	int next; /* the node of t to try next */
	struct rconn_dest dest;
	struct rconn *rc;
	uv_timer_t timer;
	uint64_t asked; /* loop ms the question went; 0: none outstanding */
	uint64_t last_asked;  /* loop ms the last question went */
	uint64_t hurry_until; /* loop ms: asked every WHERE_HURRY_POLL_MS */
	/* Send the question on ac (its answer calls where_poll_answered). */
	void (*ask)(struct where_poll *p, redisAsyncContext *ac);
	void *owner;
};

/*
 * where_poll_init() - p asks t's nodes (password for them) with ask; named
 * name in logs.  0, or -1 on ENOMEM.
 */
int where_poll_init(struct where_poll *p, uv_loop_t *loop,
                    struct redis_where *w, const struct redis_target *t,
                    const char *password, const char *name,
                    void (*ask)(struct where_poll *, redisAsyncContext *),
                    void *owner);
void where_poll_start(struct where_poll *p);

/* where_poll_now() - ask now, if connected and no question is out, and
 * keep asking often for a while. */
void where_poll_now(struct where_poll *p);

/*
 * where_poll_answered() - the question was answered (from its reply
 * callback, on p's connection): useful (1), or not, when the next node is
 * tried (0: why says so in the log).
 */
void where_poll_answered(struct where_poll *p, int useful, const char *why);

void where_poll_stop(struct where_poll *p);
void where_poll_free(struct where_poll *p);

/* where_next_node() - t's node *i into a, then *i moves on (round). */
void where_next_node(const struct redis_target *t, int *i,
                     struct redis_addr *a);

/* sentinel.c: ask the sentinels; follow +switch-master. */
struct sentinel_watch;
struct sentinel_watch *sentinel_new(uv_loop_t *loop,
                                    const struct redis_target *t,
                                    const char *password,
                                    struct redis_where *w);
void sentinel_start(struct sentinel_watch *s);
void sentinel_ask(struct sentinel_watch *s);
void sentinel_stop(struct sentinel_watch *s);
void sentinel_free(struct sentinel_watch *s);

/* cluster.c: ask the cluster which master owns slot_key's slot. */
struct cluster_watch;
struct cluster_watch *cluster_new(uv_loop_t *loop, const struct redis_target *t,
                                  const char *slot_key, struct redis_where *w);
void cluster_start(struct cluster_watch *c);
void cluster_ask(struct cluster_watch *c);
void cluster_stop(struct cluster_watch *c);
void cluster_free(struct cluster_watch *c);

#endif
