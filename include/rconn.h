/* rconn.h: one Redis connection that reconnects itself, on the libuv loop. */
#ifndef TICKERD_RCONN_H
#define TICKERD_RCONN_H

#include "config.h"

#include <hiredis/async.h>
#include <uv.h>

enum rconn_state {
	RCONN_DOWN,       /* no connection; a retry is scheduled */
	RCONN_CONNECTING, /* TCP/unix connect under way */
	RCONN_UP,         /* connected; AUTH/SELECT queued ahead of any use */
};

struct rconn;

/*
 * Where a connection goes: next() is asked before every attempt, so a
 * connection follows the master when it moves.  The strings must outlive
 * the connection.
 */
struct rconn_dest {
	/* Fill *a with the address to try now; -1 when none is known yet
	 * (the attempt fails and is retried with backoff). */
	int (*next)(void *arg, struct redis_addr *a);
	/* The node at a is not the master (ROLE said so), or could not be
	 * reached (with want_master): look again. */
	void (*not_master)(void *arg, const struct redis_addr *a,
	                   const char *why);
	void *arg;
	const char *password; /* AUTH with it, if not empty */
	int db;               /* SELECT it, if not 0 */
	int want_master;      /* ROLE must say master before on_up */
};

/*
 * What the owner hears: on_up when a connection is made (and, with
 * want_master, ROLE said master; queue the connection's own commands
 * here), on_down when it is gone (every reply callback still pending has
 * been called with a NULL reply first).
 */
struct rconn_ops {
	void (*on_up)(struct rconn *rc, redisAsyncContext *ac, void *arg);
	void (*on_down)(struct rconn *rc, void *arg);
};

/*
 * rconn_new() - a connection named name (for logs) to where dest says,
 * reconnecting with capped exponential backoff (100 ms doubling to 5 s)
 * whenever it fails or is dropped.  Nothing happens until rconn_start().
 */
struct rconn *rconn_new(uv_loop_t *loop, const struct rconn_dest *dest,
                        const char *name, const struct rconn_ops *ops,
                        void *arg);

void rconn_start(struct rconn *rc);

/*
 * rconn_fail() - give up on the current connection now (silent, refused a
 * command, ...): it is freed at once, never waiting for replies, and a
 * reconnect is scheduled.  Must not be called from inside a hiredis reply
 * callback of this connection; use rconn_fail_later() there.
 */
void rconn_fail(struct rconn *rc, const char *why);

/* rconn_fail_later() - rconn_fail() from the loop's next turn. */
void rconn_fail_later(struct rconn *rc, const char *why);

/*
 * rconn_retarget() - the master moved: drop the connection (or the wait
 * for the next attempt) and connect again at once, asking dest anew.
 */
void rconn_retarget(struct rconn *rc, const char *why);

/* rconn_replicas() - replicas the master had when ROLE was last asked on
 * connecting (0 without want_master, or when unknown). */
int rconn_replicas(const struct rconn *rc);

/* rconn_addr() - where the connection is (or was last) made, as
 * host:port or the socket's path. */
const char *rconn_addr(const struct rconn *rc);

/* rconn_ready() - the connection was proven to answer: reset the backoff. */
void rconn_ready(struct rconn *rc);

/* rconn_ctx() - the live context, or NULL when not RCONN_UP. */
redisAsyncContext *rconn_ctx(const struct rconn *rc);

/* rconn_stop() - disconnect for good; handles close on later loop turns. */
void rconn_stop(struct rconn *rc);

/* rconn_free() - release it once the loop has closed its handles. */
void rconn_free(struct rconn *rc);

#endif
