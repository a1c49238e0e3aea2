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
 * What the owner hears: on_up when a connection is made (queue the
 * connection's own commands here), on_down when it is gone (every reply
 * callback still pending has been called with a NULL reply first).
 */
struct rconn_ops {
	void (*on_up)(struct rconn *rc, redisAsyncContext *ac, void *arg);
	void (*on_down)(struct rconn *rc, void *arg);
};

/*
 * rconn_new() - a connection named name (for logs) to target, reconnecting
 * with capped exponential backoff (100 ms doubling to 5 s) whenever it
 * fails or is dropped.  Nothing happens until rconn_start().
 */
struct rconn *rconn_new(uv_loop_t *loop, const struct redis_target *target,
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

/* rconn_ready() - the connection was proven to answer: reset the backoff. */
void rconn_ready(struct rconn *rc);

/* rconn_ctx() - the live context, or NULL when not RCONN_UP. */
redisAsyncContext *rconn_ctx(const struct rconn *rc);

/* rconn_stop() - disconnect for good; handles close on later loop turns. */
void rconn_stop(struct rconn *rc);

/* rconn_free() - release it once the loop has closed its handles. */
void rconn_free(struct rconn *rc);

#endif
