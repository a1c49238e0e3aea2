/* redis_bridge.h: the Redis pub/sub subscription, on the shared libuv loop. */
#ifndef TICKERD_REDIS_BRIDGE_H
#define TICKERD_REDIS_BRIDGE_H

#include "config.h"

#include <stddef.h>
#include <uv.h>

enum rb_state {
	RB_DOWN,       /* no connection; a retry is scheduled */
	RB_CONNECTING, /* connecting, or connected but not yet subscribed */
	RB_SUBSCRIBED, /* PSUBSCRIBE confirmed: messages flow */
};

/* Called for each message on the pattern; the bytes are hiredis's. */
typedef void (*rb_message_fn)(void *arg, const char *channel,
                              size_t channel_len, const char *payload,
                              size_t payload_len);

struct redis_bridge;

/*
 * rb_new() - a bridge that will PSUBSCRIBE pattern on target, calling fn
 * for every message, reconnecting with capped exponential backoff (100 ms
 * doubling to 5 s) whenever the connection fails or drops.  The target is
 * copied.  Nothing happens until rb_start().  NULL on ENOMEM.
 */
struct redis_bridge *rb_new(uv_loop_t *loop, const struct redis_target *target,
                            const char *pattern, rb_message_fn fn, void *arg);

/* rb_start() - begin connecting (never blocks). */
void rb_start(struct redis_bridge *rb);

/*
 * rb_stop() - disconnect and stop retrying; the bridge's handles close on
 * the loop's next turns, after which rb_free() may be called.
 */
void rb_stop(struct redis_bridge *rb);

/* rb_free() - release the bridge once the loop has closed its handles. */
void rb_free(struct redis_bridge *rb);

enum rb_state rb_state(const struct redis_bridge *rb);

/* rb_state_name() - "down", "connecting" or "connected". */
const char *rb_state_name(enum rb_state state);

#endif
