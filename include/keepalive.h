/* keepalive.h: pinging quiet clients, hanging up on silent ones. */
#ifndef TICKERD_KEEPALIVE_H
#define TICKERD_KEEPALIVE_H

#include "fanout.h"

#include <stdint.h>
#include <uv.h>

/* keepalive_now() - the loop's clock in ms, as keepalive counts time. */
static inline uint32_t
keepalive_now(uv_loop_t *loop)
{
	return (uint32_t)uv_now(loop);
}

/* keepalive_heard() - the client sent something (a pong counts). */
static inline void
keepalive_heard(struct fan_client *c, uint32_t now)
{
	c->heard = now;
	c->pinged = now;
}

/*
 * keepalive_sweep() - once a second: ping every WebSocket client not heard
 * from for about interval_s seconds, hang up on one silent for twice that;
 * send an EventSource client a comment line every interval_s.  A client
 * with bytes still buffered in lws gets its ping at a later sweep.
 */
void keepalive_sweep(struct fan *f, unsigned interval_s, uint32_t now);

#endif
